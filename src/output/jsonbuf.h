/*
 * jsonbuf.h - the line the JSON writer is making: a growable byte buffer
 * and the appenders for the pieces of a JSON object (src/output/jsonbuf.c).
 *
 * The JSON Lines writer (json.c) builds each object here and then hands
 * the whole line to its destination and tee. Strings go through the one
 * JSON escaper (common/safeprint.h, sc_json_escape), so every line is
 * valid JSON whatever bytes the wire carried; only what the program
 * itself made and knows to need no escaping (keys, names from its own
 * tables, addresses, times) is copied as it is (SC_JB_LIT, sc_jb_plain).
 *
 * The appenders a line calls many times (room, raw bytes, literals,
 * characters, numbers, booleans, plain strings) are inline: a session line has about a hundred
 * pieces, and a call, a strlen and a memcpy of unknown length for each
 * cost more than the copies themselves (callgrind).
 *
 * Memory: the buffer holds one line, so it is bounded by what the line's
 * session holds (its strings escaped: at most 6 bytes per byte); it
 * doubles as the line grows, and sc_jb_reset gives back what one large
 * line took beyond SC_JB_KEEP.
 *
 * Diagnostics: an allocation that fails marks the line lost (lost; a
 * writer that cannot make a piece marks it with sc_jb_lose); later
 * appends to it do nothing, and the caller, which checks lost when
 * the line is done, says that an object is missing.
 */
#ifndef SC_JSONBUF_H
#define SC_JSONBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/sc_types.h"

/* What the buffer keeps between lines: a session line with its
 * transactions is a few KB; a larger one is given back when it is out. */
#define SC_JB_KEEP (64 * 1024)

typedef struct sc_jbuf {
    char  *p;
    size_t len, cap;
    size_t lim;         /* what appends may fill: cap, or len once lost (so
                         * the room test is one comparison, see sc_jb_room) */
    bool   lost;        /* out of memory: this line is incomplete */
} sc_jbuf;

/* sc_jb_room when the buffer must grow first (or the line is lost). */
char *sc_jb_grow(sc_jbuf *b, size_t n);

/* Room for n more bytes at p + len; NULL (and lost) when there is none.
 * A lost line or one with no buffer yet has lim == len: no room for any
 * byte, and n 0 (only known at run time) still needs a buffer. */
static inline char *sc_jb_room(sc_jbuf *b, size_t n)
{
    if (b->lim - b->len >= n && (n || b->p))
        return b->p + b->len;
    return sc_jb_grow(b, n);
}

/* The line is incomplete (said by its caller when it ends); appends to
 * it do nothing until sc_jb_reset. */
static inline void sc_jb_lose(sc_jbuf *b)
{
    b->lost = true;
    b->lim = b->len;
}

static inline void sc_jb_raw(sc_jbuf *b, const char *s, size_t n)
{
    char *o = sc_jb_room(b, n);

    if (o) {
        memcpy(o, s, n);
        b->len += n;
    }
}

/* A string literal as it is (keys with their quotes and colon:
 * ",\"rule\":"), its length known when compiled. */
#define SC_JB_LIT(b, lit) sc_jb_raw((b), "" lit, sizeof(lit) - 1)

static inline void sc_jb_char(sc_jbuf *b, char c)
{
    char *o = sc_jb_room(b, 1);

    if (o) {
        *o = c;
        b->len++;
    }
}

/* v in decimal, as "%" PRIu64 (most numbers of a line are one digit) */
static inline void sc_jb_u64(sc_jbuf *b, uint64_t v)
{
    char *o = sc_jb_room(b, SC_U64_DIGITS);

    if (!o)
        return;
    if (v < 10) {
        *o = (char)('0' + v);
        b->len++;
    } else {
        b->len += (size_t)(sc_u64_put(o, v) - o);
    }
}

static inline void sc_jb_bool(sc_jbuf *b, bool v)
{
    if (v)
        SC_JB_LIT(b, "true");
    else
        SC_JB_LIT(b, "false");
}

/* The n bytes of s between quotes, unescaped: only for what the program
 * made and knows to need none (printable ASCII without '"' and '\\',
 * or text a test shows the escaper leaves as it is). */
static inline void sc_jb_plain(sc_jbuf *b, const char *s, size_t n)
{
    char *o = sc_jb_room(b, n + 2);

    if (o) {
        o[0] = '"';
        memcpy(o + 1, s, n);
        o[n + 1] = '"';
        b->len += n + 2;
    }
}

void sc_jb_puts(sc_jbuf *b, const char *s);
/* ,"k":  (a member after the first) */
void sc_jb_key(sc_jbuf *b, const char *k);
/* p as a JSON string, quotes included (sc_json_escape) */
void sc_jb_str(sc_jbuf *b, const uint8_t *p, size_t n);
/* s as a JSON string, or null when s is NULL */
void sc_jb_cstr(sc_jbuf *b, const char *s);
/* printf's format, for what is written once a run (the summary) */
void sc_jb_printf(sc_jbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Empties the buffer for the next line (lost cleared), giving back the
 * room beyond SC_JB_KEEP. */
void sc_jb_reset(sc_jbuf *b);
void sc_jb_free(sc_jbuf *b);

#endif
