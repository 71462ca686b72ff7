/*
 * server.h - the passive server machine: reads the bytes the server sent,
 * cuts them into reply lines, parses each against the Reply-line ABNF of
 * RFC 5321 §4.2 and assembles multi-line replies.
 *
 * Interface: sc_server_feed() calls ops->line for every reply line (with
 * its parse) and ops->reply when a reply is complete (its last line has
 * SP or nothing after the code). A line that is not a reply line at all
 * (no three digits) inside a multi-line reply is kept as part of it; on
 * its own it is handed to ops->line only, flagged malformed.
 *
 * Memory is fixed (a kept prefix per line, the first line of the reply).
 */
#ifndef SC_SMTP_SERVER_H
#define SC_SMTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"   /* SC_LINE_KEEP */

#define SC_REPLY_KEEP 128
#define SC_RLINE_KEEP 520   /* a reply line is at most 512 octets */

typedef struct sc_rline {
    const uint8_t *text;     /* kept prefix, terminator excluded */
    size_t         kept;
    uint64_t       len;      /* full length, terminator excluded */
    uint64_t       wire_len;
    uint64_t       off;
    uint64_t       frame;
    int            code;     /* the three digits, or -1 */
    bool           more;     /* "-": a continuation follows */
    bool           malformed;/* not Reply-line ABNF */
    bool           bare_lf;
    const uint8_t *textstring;   /* after "NNN " or "NNN-" */
    size_t         textlen;
} sc_rline;

typedef struct sc_reply {
    int       code;          /* the first line's code */
    unsigned  nlines;
    bool      mixed;         /* lines carry different codes */
    bool      malformed;     /* some line was malformed */
    uint64_t  first_frame, frame;
    const uint8_t *first;    /* first line, for evidence (SC_REPLY_KEEP),
                                valid while the reply is open */
    size_t    first_len;
    const uint8_t *last;     /* last line, for evidence (SC_REPLY_KEEP): set
                                from the line that completes the reply, for
                                ops->reply (ops->line must not read it) */
    size_t    last_len;
} sc_reply;

typedef struct sc_server_ops {
    /* A complete line, before anything reads it or keeps it for evidence:
     * may rewrite its kept bytes in place, keeping their length
     * (--redact=addresses); first: it opens a reply. NULL: none. */
    void (*rewrite)(void *ctx, uint8_t *text, size_t kept, uint64_t len, uint64_t off,
                    bool first);
    /* A line [off, end) dropped unread (the tail of a lost one after a gap
     * or mid-stream). NULL: none. */
    void (*skipped)(void *ctx, uint64_t off, uint64_t end);
    void (*line)(void *ctx, const sc_rline *l, const sc_reply *r);
    void (*reply)(void *ctx, const sc_reply *r);
} sc_server_ops;

typedef struct sc_server {
    const sc_server_ops *ops;
    void     *ctx;
    bool      tls;
    bool      resync;
    uint64_t  off, frame, tls_octets;
    uint8_t  *mem;           /* buf and the held cur.first, allocated when a
                                line must be copied (it spans segments, or
                                in_place is off) or a reply spans segments,
                                freed at a segment's end when no line or
                                reply is open */
    uint8_t  *buf;           /* SC_RLINE_KEEP octets */
    bool      in_place;      /* set by the session when ops->rewrite does
                                nothing: a line whole in one segment is
                                read from the segment's bytes, not copied
                                (and then not rewritten) */
    bool      first_held;    /* cur.first is in mem (or empty), not a view
                                of a line's bytes */
    size_t    cap;           /* SC_RLINE_KEEP, 0 while mem is not allocated */
    size_t    kept;
    uint64_t  len, start;
    bool      cr, in_line;
    sc_reply  cur;
    bool      in_reply;
} sc_server;

void sc_server_init(sc_server *s, const sc_server_ops *ops, void *ctx);
/* Releases the line and reply buffers (the machine is the caller's). */
void sc_server_free(sc_server *s);
void sc_server_feed(sc_server *s, const uint8_t *p, size_t n, uint64_t frame);
void sc_server_gap(sc_server *s, uint64_t n);
void sc_server_resync(sc_server *s);
void sc_server_set_tls(sc_server *s);
/* The TLS records were decrypted: replies are read again (plaintext). */
void sc_server_clear_tls(sc_server *s);
bool sc_server_partial(const sc_server *s);

/* Parses one reply line (exposed for tests). */
void sc_rline_parse(sc_rline *l);

/* A malformed line that is only an enhanced status code ("4.7.0 text",
 * RFC 3463 class.subject.detail) with the basic reply code left out: the
 * class digit the server meant (2, 4 or 5), or 0. */
int sc_rline_enhanced_class(const uint8_t *t, size_t n);

#endif
