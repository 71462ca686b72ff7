/*
 * client.h - the passive client machine: reads the bytes the client sent,
 * in wire order, and cuts them into what they are for the protocol:
 * command lines, AUTH response lines, message content lines (dot-unstuffed)
 * with the end-of-data dot, BDAT chunks (counted, never parsed), and TLS
 * bytes (counted).
 *
 * The mode is set by the session, which knows the server's replies (a 354
 * makes the next bytes content, a 334 makes the next line an AUTH line, a
 * 220 to STARTTLS makes the rest TLS). Callbacks may change the mode; the
 * following bytes of the same segment are read in the new mode.
 *
 * Memory is fixed: a line keeps a prefix of SC_LINE_KEEP octets and counts
 * the rest, so a 1 GB line without a line feed costs nothing more.
 *
 * Diagnostics are facts handed to the callbacks (bare CR/LF counts, full
 * lengths, ambiguous end-of-data sequences with their stream offsets); the
 * session decides what they mean.
 */
#ifndef SC_SMTP_CLIENT_H
#define SC_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_LINE_KEEP 1024
#define SC_PLAIN_LINE_MAX 1000   /* RFC 5321 §4.5.3.1.6, CRLF included */


typedef enum sc_client_mode {
    SC_CM_COMMAND,   /* lines are commands */
    SC_CM_AUTH,      /* the next line answers a 334 challenge */
    SC_CM_CONTENT,   /* message content up to <CRLF>.<CRLF> */
    SC_CM_BDAT,      /* a BDAT chunk: octets are counted */
    SC_CM_TLS        /* encrypted: octets are counted */
} sc_client_mode;

/* One line the client sent. */
typedef struct sc_cline {
    const uint8_t *text;     /* kept prefix, terminator excluded */
    size_t         kept;
    uint64_t       len;      /* full length, terminator and stuffing dot excluded */
    uint64_t       wire_len; /* octets on the wire, terminator included */
    uint64_t       off;      /* stream offset of its first octet */
    uint64_t       frame;    /* frame that completed it */
    bool           bare_lf;  /* ended by LF without CR */
    unsigned       bare_cr;  /* CRs not followed by LF inside it */
    bool           stuffed;  /* content: a leading transparency dot removed */
} sc_cline;

typedef struct sc_client_ops {
    /* A complete command line, before anything reads it: may rewrite its
     * kept bytes in place, keeping their length (--redact=addresses);
     * len is the full length, off the stream offset. NULL: none. */
    void (*rewrite)(void *ctx, uint8_t *text, size_t kept, uint64_t len, uint64_t off);
    /* Octets [off, end) dropped unread (resynchronising after a gap or
     * mid-stream, up to a LF). NULL: none. */
    void (*skipped)(void *ctx, uint64_t off, uint64_t end);
    void (*command)(void *ctx, const sc_cline *l);
    void (*auth)(void *ctx, const sc_cline *l);
    /* First octet of content after the mode became CONTENT. */
    void (*content_begin)(void *ctx, uint64_t off, uint64_t frame);
    void (*content)(void *ctx, const sc_cline *l);
    /* Complete content lines counted, not delivered (count_only): lines
     * of at most SC_PLAIN_LINE_MAX octets with their CRLF, none starting
     * with a dot or holding another CR or LF; octets on the wire. */
    void (*content_lines)(void *ctx, uint64_t lines, uint64_t octets, uint64_t frame);
    /* The end-of-data line "." (off: offset of the dot). */
    void (*eod)(void *ctx, const sc_cline *dot);
    /* An ambiguous end-of-data sequence ("<LF>.<LF>", ...) starting at off. */
    void (*ambiguous)(void *ctx, const char *what, uint64_t off, uint64_t frame);
    /* A BDAT chunk is complete. */
    void (*chunk)(void *ctx, uint64_t octets, uint64_t off, uint64_t frame);
} sc_client_ops;

typedef struct sc_client {
    sc_client_mode mode;
    const sc_client_ops *ops;
    void          *ctx;
    uint64_t       off;          /* offset of the next octet */
    uint64_t       frame;        /* frame being read */
    bool           resync;       /* after a gap: drop octets up to a LF */
    uint64_t       resync_off;   /* the first octet dropped */
    /* the line being assembled */
    uint8_t       *buf;          /* SC_LINE_KEEP octets, allocated at the first
                                    octet kept, freed when a segment ends
                                    with no line open (idle sessions hold none) */
    size_t         kept;
    uint64_t       len, start;
    bool           cr, stuffed, in_line;
    unsigned       bare_cr;
    /* content */
    uint8_t        hist[4];      /* last octets, hist[3] the newest */
    bool           content_started;
    bool           count_only;   /* set by the session: plain content lines
                                    need not be delivered one by one */
    bool           in_place;     /* set by the session when ops->rewrite does
                                    nothing: a command or AUTH line whole in
                                    one segment is handed over from the
                                    segment's bytes, not copied (and then
                                    not rewritten) */
    /* BDAT */
    uint64_t       chunk_size, chunk_left, chunk_off;
    /* TLS */
    uint64_t       tls_octets;
} sc_client;

void sc_client_init(sc_client *c, const sc_client_ops *ops, void *ctx);
/* Releases the line buffer (the machine itself is the caller's). */
void sc_client_free(sc_client *c);
void sc_client_feed(sc_client *c, const uint8_t *p, size_t n, uint64_t frame);
/* n octets are missing from the stream. */
void sc_client_gap(sc_client *c, uint64_t n);
/* Drops octets up to the next LF (mid-stream start). */
void sc_client_resync(sc_client *c);
void sc_client_set_mode(sc_client *c, sc_client_mode m);
/* Enters BDAT mode for a chunk of n octets (n > 0). */
void sc_client_chunk(sc_client *c, uint64_t n);
/* True when a line or a chunk has begun and is not complete. */
bool sc_client_partial(const sc_client *c);

#endif
