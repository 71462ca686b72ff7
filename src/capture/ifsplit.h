/*
 * ifsplit.h - internal to src/capture: a pcapng file whose interfaces have
 * different link types, read as one stream per link type (ifsplit.c).
 */
#ifndef SC_CAPTURE_IFSPLIT_H
#define SC_CAPTURE_IFSPLIT_H

#include <stdint.h>
#include <stdio.h>

/* Link types one file may hold at once (each costs a reader). */
#define SC_IFSPLIT_MAX 8

typedef struct sc_ifsplit sc_ifsplit;

/* Looks at the interfaces a pcapng file describes before its first packet.
 * Returns how many different link types they have (written to types[], in
 * order of first appearance): 0 or 1 when the file is read as it is (not
 * pcapng, one link type, or not readable twice: standard input), up to
 * SC_IFSPLIT_MAX; -1 with a reason in err when there are more. */
int sc_ifsplit_scan(const char *path, int *types, char *err, size_t errlen);

/* A stream of the file holding its section header, the interfaces of link
 * type linktype (renumbered from 0) and their packets, as libpcap reads a
 * pcapng of one link type; NULL with a reason in err. *out is the state,
 * valid until the stream is closed. */
FILE *sc_ifsplit_open(const char *path, int linktype, sc_ifsplit **out,
                      char *err, size_t errlen);

/* The frame number in the whole file (Wireshark's) of the next packet the
 * stream's reader returns; 0 when none is pending. */
uint64_t sc_ifsplit_frame(sc_ifsplit *s);

/* Why the stream ended early ("" when it did not). */
const char *sc_ifsplit_error(const sc_ifsplit *s);

#endif
