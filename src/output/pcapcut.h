/*
 * pcapcut.h - cuts sessions out of a capture file into pcap or pcapng files.
 *
 * For an evidence bundle: the capture file is read again, once for all the
 * targets (found by a hash of their 4-tuple; at most PCAPCUT_OPEN_MAX
 * files open at once, the least recently written suspended and appended
 * to later, cutout.h), and each packet of a target session (same TCP
 * 4-tuple, either direction, frame number within the session's
 * [first_frame, last_frame]) is written unchanged (timestamps,
 * nanoseconds for a nanosecond pcap or a pcapng whose interfaces say
 * so, sc_capture_nanosecond; link type, frame bytes) to the
 * target's pcap or pcapng file (cutout.h), created with O_EXCL so an
 * existing file is never overwritten. Memory: a hash bucket and a few
 * words per target (a pcapng's interface list), one packet copy.
 * Redacting, the TCP payload bytes the
 * analysis did not read as protocol are replaced by 'X' (CR and LF kept):
 * those in a range (content, AUTH data), those outside what it read of
 * the stream, every client byte when the sequence numbers were rewritten;
 * the TCP checksum and IPv4 header checksum are recomputed. Under
 * --redact=addresses the IP addresses become the session's pseudonyms
 * and the stream bytes the analysis replaced by pseudonyms get the same
 * replacement (sc_session_info.subst) before the masking. Offsets count
 * from the analysis's stream bases (sc_session_info.stream_base). IP
 * fragments (IPv4 and IPv6) are put together from the start of the
 * capture by the reassembler's own defragmenter (reasm/defrag.h), so the
 * datagrams are those the analysis followed, whatever the order of their
 * fragments; every fragment of a datagram of the session is copied, when
 * the datagram is whole (after the session's packets captured between its
 * fragments, if any). Under redaction they are left out and counted,
 * since their payload cannot be masked with valid checksums.
 */
#ifndef SC_PCAPCUT_H
#define SC_PCAPCUT_H

#include "common/record.h"
#include "framemap.h"

/* A comment for the pcapng packet of one frame (a finding resting on it). */
typedef struct sc_cut_note {
    uint64_t    frame;
    const char *text;
} sc_cut_note;

typedef struct sc_cut_target {
    uint64_t        id;
    sc_endpoint     client, server;
    uint64_t        first_frame, last_frame;
    bool            redacting;      /* false: copy the packets as they are */
    const sc_range *redact;         /* ranges to mask */
    size_t          nredact;
    bool            seq_untrusted;  /* offsets cannot be placed: mask client bytes
                                       (every byte under pseudonyms) */
    /* --redact=addresses: the packets' addresses written as the session's
     * pseudonyms (client, server above are the packets' own), and the
     * pseudonyms the analysis wrote into its lines put at their offsets */
    bool            pseudo;
    sc_endpoint     ps_client, ps_server;
    const sc_subst *subst;
    size_t          nsubst;
    const uint8_t  *subst_bytes;
    uint32_t        base[2];        /* sequence number of offset 0 (stream_base) */
    uint64_t        end[2];         /* offsets read by the analysis (stream_end) */
    const char     *path;           /* pcap or pcapng file to create */
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
    bool            secrets_withheld;  /* decrypted, but --redact: left out */
    const sc_cut_note *notes;
    size_t          nnotes;
    uint64_t        commented;      /* out: packets written with a comment */
    sc_framemap    *framemap;       /* the original frame of each packet written
                                       is appended (framemap.h), when not NULL */
    bool            map_failed;     /* out: the frame map is incomplete */
} sc_cut_target;

/* Fills t from the session as the analysis read it: id, endpoints, frame
 * range and, redacting, its stream bases, the end of what it read and its
 * ranges (the pointer is info's: a caller that keeps t copies them). */
void sc_pcapcut_target(sc_cut_target *t, const sc_session_info *info, bool redact);

/* Returns 0, or -1 with a one-line reason in err when the capture cannot
 * be read (per-target failures are in target->error), or -2 when a
 * capture file changed since the analysis read it (the reason in err;
 * nothing is cut). */
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
