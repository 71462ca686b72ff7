/*
 * livecut.h - the packets of each live connection, kept on disk until its
 * session ends, so that --evidence can write the session's pcap in live
 * mode (there is no capture file to cut it from afterwards).
 *
 * Each connection gets a spool file, a pcap of its frames as they arrive
 * (link type and snap length of the interface), in a private directory
 * (mode 0700) made under the evidence directory. Memory per connection is
 * a small record plus, until its first large packet, up to
 * SC_LIVECUT_HEAD bytes of frames: a SYN flood does not create files.
 * Descriptors are kept open for the SC_LIVECUT_FDS most recently written
 * connections only; the others are reopened (O_APPEND) when they need to
 * be written again. Names are numbers (the connection id), never wire data.
 *
 * Diagnostics: sc_livecut_new fails with "DIR: reason"; a spool file that
 * cannot be written is reported once on standard error and that
 * connection's packets are no longer kept (its evidence .txt says so).
 */
#ifndef SC_LIVECUT_H
#define SC_LIVECUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"

#define SC_LIVECUT_HEAD 1024
#define SC_LIVECUT_FDS  64

typedef struct sc_livecut sc_livecut;

/* Makes the private spool directory under dir, for frames of linktype
 * captured with snaplen. NULL with a reason in err. */
sc_livecut *sc_livecut_new(const char *dir, int linktype, int snaplen,
                           char *err, size_t errlen);

/* Appends one frame to connection id's spool. */
void sc_livecut_packet(sc_livecut *lc, uint64_t id, const sc_packet *pkt);

/* Bytes of frames kept for connection id so far (record headers too). */
uint64_t sc_livecut_bytes(const sc_livecut *lc, uint64_t id);

/* Stops keeping connection id's packets (its spool is removed now; later
 * packets are ignored until sc_livecut_drop). */
void sc_livecut_stop(sc_livecut *lc, uint64_t id);

/* Why sc_livecut_take has no spool. */
typedef enum sc_livecut_lack {
    SC_LIVECUT_KEPT,        /* there is one */
    SC_LIVECUT_NOTHING,     /* no frame of the connection came */
    SC_LIVECUT_FAILED,      /* writing failed (said on standard error) */
    SC_LIVECUT_STOPPED      /* sc_livecut_stop */
} sc_livecut_lack;

/* Ends the writing of connection id's spool and gives its path (valid
 * until sc_livecut_drop) and its frame count; NULL and the reason in
 * *lack when there is none. */
const char *sc_livecut_take(sc_livecut *lc, uint64_t id, uint64_t *frames,
                            sc_livecut_lack *lack);

/* Forgets connection id: its spool file is removed. */
void sc_livecut_drop(sc_livecut *lc, uint64_t id);

/* Removes every spool file left and the spool directory. */
void sc_livecut_free(sc_livecut *lc);

#endif
