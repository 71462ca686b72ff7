/*
 * jsonbuf.c - the JSON writer's line buffer and its appenders
 * (src/output/jsonbuf.h).
 *
 * Each piece is copied straight into the buffer: on captures of many
 * short sessions, writing them through stdio into a memory stream
 * (fwrite, fputs and putc per key, number and string, then one more copy
 * of the line out of the stream) was most of the JSON writer's cost
 * (callgrind). The room check is one comparison; the buffer grows by
 * doubling, so a line is copied about once more as it grows.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/safeprint.h"
#include "common/sc_types.h"
#include "jsonbuf.h"

/* The first room: a finding or a session line of a short session. */
#define JB_FIRST 1024

char *sc_jb_grow(sc_jbuf *b, size_t n)
{
    char *p;

    /* at least one byte: the caller gets a place to write, even for n 0 */
    if (b->lost || n >= SIZE_MAX - b->len ||
        !(p = sc_grow_bytes(b->p, &b->cap, b->len + (n ? n : 1), JB_FIRST, SIZE_MAX))) {
        sc_jb_lose(b);
        return NULL;
    }
    b->p = p;
    b->lim = b->cap;
    return b->p + b->len;
}

void sc_jb_puts(sc_jbuf *b, const char *s)
{
    sc_jb_raw(b, s, strlen(s));
}

void sc_jb_key(sc_jbuf *b, const char *k)
{
    size_t n = strlen(k);
    char *o = sc_jb_room(b, n + 4);

    if (!o)
        return;
    o[0] = ',';
    o[1] = '"';
    memcpy(o + 2, k, n);
    o[n + 2] = '"';
    o[n + 3] = ':';
    b->len += n + 4;
}

/* Room for the string as it is, the common case (plain ASCII, which the
 * escaper copies whole in one pass), then more as the escapes need it:
 * the escaper stops where the room ends. */
void sc_jb_str(sc_jbuf *b, const uint8_t *p, size_t n)
{
    size_t used;

    if (!sc_jb_room(b, n + 2))
        return;
    b->p[b->len++] = '"';
    while (n > 0) {
        b->len += sc_json_escape(b->p + b->len, b->cap - b->len - 1, p, n, &used);
        p += used;
        n -= used;
        if (n > 0 && !sc_jb_room(b, n + SC_JSON_UNIT_MAX + 1))
            return;
    }
    b->p[b->len++] = '"';      /* the 1 kept by every room above */
}

void sc_jb_cstr(sc_jbuf *b, const char *s)
{
    if (s)
        sc_jb_str(b, (const uint8_t *)s, strlen(s));
    else
        sc_jb_raw(b, "null", 4);
}

void sc_jb_printf(sc_jbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *o;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sc_jb_lose(b);
        return;
    }
    if (!(o = sc_jb_room(b, (size_t)n + 1)))   /* vsnprintf writes a NUL */
        return;
    va_start(ap, fmt);
    vsnprintf(o, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sc_jb_reset(sc_jbuf *b)
{
    b->len = 0;
    b->lost = false;
    if (b->cap > SC_JB_KEEP) {
        char *p = realloc(b->p, SC_JB_KEEP);
        if (p) {               /* else keep the larger block: still correct */
            b->p = p;
            b->cap = SC_JB_KEEP;
        }
    }
    b->lim = b->cap;
}

void sc_jb_free(sc_jbuf *b)
{
    free(b->p);
    *b = (sc_jbuf){ 0 };
}
