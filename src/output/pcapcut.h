/*
 * pcapcut.h - cuts sessions out of a capture file into pcap files.
 *
 * For an evidence bundle: the capture file is read again (one pass for up
 * to PCAPCUT_BATCH sessions at a time) and each packet of a target session
 * (same TCP 4-tuple, either direction, frame number within the session's
 * [first_frame, last_frame]) is written unchanged (timestamps, link type,
 * frame bytes) to the target's pcap or pcapng file (cutout.h), created
 * with O_EXCL so an existing file is never overwritten. With redaction ranges, the TCP
 * payload bytes that fall in a range are replaced by 'X' (CR and LF kept)
 * and the TCP checksum and IPv4 header checksum are recomputed. IPv4
 * fragments of a session are copied too (later fragments matched by the
 * datagram id of the first); under redaction they are left out and
 * counted, since their payload cannot be masked with valid checksums.
 * A fragment that comes before its datagram's first fragment in the
 * capture (fragments sent in reverse order) is not recognised: the ports
 * are not known yet when it is read. IPv6 fragments are not followed.
 */
#ifndef SC_PCAPCUT_H
#define SC_PCAPCUT_H

#include <stdio.h>

#include "common/record.h"

/* A comment for the pcapng packet of one frame (a finding resting on it). */
typedef struct sc_cut_note {
    uint64_t    frame;
    const char *text;
} sc_cut_note;

typedef struct sc_cut_target {
    uint64_t        id;
    sc_endpoint     client, server;
    uint64_t        first_frame, last_frame;
    const sc_range *redact;         /* NULL: copy the packets as they are */
    size_t          nredact;
    const char     *path;           /* pcap file to create */
    uint64_t        written;        /* out: packets written */
    uint64_t        masked;         /* out: payload bytes replaced */
    uint64_t        frags_left_out; /* out: IP fragments not written (redact) */
    int             error;          /* out: errno when the file failed */
    /* pcapng instead of pcap (cutout.h): the section header's application
     * and comments, a TLS key log for a Decryption Secrets Block, the
     * comments per frame (sorted by frame) */
    bool            pcapng;
    const char     *ng_appl;
    const char *const *ng_shb;
    size_t          ng_nshb;
    const char     *secrets;
    size_t          secrets_len;
    const sc_cut_note *notes;
    size_t          nnotes;
    uint64_t        commented;      /* out: packets written with a comment */
    FILE           *framemap;       /* the original frame of each packet written
                                       is appended (uint64_t), when not NULL */
    bool            map_failed;     /* out: the frame map is incomplete */
} sc_cut_target;

/* Returns 0, or -1 with a one-line reason in err when the capture cannot
 * be read (per-target failures are in target->error). */
int sc_pcapcut(const char *capture, sc_cut_target *t, size_t n, char *err, size_t errlen);
/* The same for files read as one capture (src/capture/capture.h: frames
 * carry their file's position in time order). */
int sc_pcapcut_files(const char *const *captures, size_t ncaptures, sc_cut_target *t, size_t n,
                     char *err, size_t errlen);

/* Stream offset of a TCP sequence number: rel is seq - base (mod 2^32),
 * near is the last offset seen in that direction (streams over 4 GiB). */
uint64_t sc_pcapcut_unwrap(uint32_t rel, uint64_t near);

/* Recomputes the IPv4 header checksum and the TCP checksum of the IP
 * packet at l3 (len captured bytes); returns 0, or -1 when the packet is
 * not whole TCP. Exposed for tests. */
int sc_pcapcut_fix_checksums(uint8_t *l3, size_t len);

#endif
