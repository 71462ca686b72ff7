/*
 * plainrun.h - the one scan both SMTP machines make over their bytes:
 * how many octets from p hold no CR and no LF (client.c, server.c), and
 * what both then do with such a run: keep the prefix that fits.
 *
 * Interface: sc_plain_run, sc_plain_keep (inline: called for every run
 * of a segment).
 * tests/unit/test_plainrun.c compares it with an octet loop.
 */
#ifndef SC_SMTP_PLAINRUN_H
#define SC_SMTP_PLAINRUN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#ifdef __SSE2__
/* Bit k set when p[k] is a CR or a LF, for the 16 octets at p. */
static inline unsigned sc_crlf16(const uint8_t *p)
{
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);

    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr),
                                                    _mm_cmpeq_epi8(v, lf)));
}
#endif

/* The length of the run of octets from p that holds no CR and no LF: the
 * machines copy or count such a run at once rather than an octet at a time
 * (only a CR or a LF can end a line or change what follows). Most runs
 * are short (a command, a reply line, a line of a message): with SSE2
 * both octets are looked for in one pass of 32, then 16 at a time, where
 * two memchr calls cost more in setting up than in scanning; the last
 * octets are read as the 16 that end at n (again some already read)
 * rather than one at a time. */
static inline size_t sc_plain_run(const uint8_t *p, size_t n)
{
#ifdef __SSE2__
    size_t i = 0;
    unsigned m;

    for (; n - i >= 32; i += 32) {
        m = sc_crlf16(p + i) | sc_crlf16(p + i + 16) << 16;
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
    if (n - i >= 16) {
        if ((m = sc_crlf16(p + i)) != 0)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
    if (i == n)
        return n;
    if (n >= 16) {
        /* p[n - 16 .. i) were read already: their bits are shifted out. */
        m = sc_crlf16(p + n - 16) >> (16 - (n - i));
        return m ? i + (size_t)__builtin_ctz(m) : n;
    }
    for (; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n')
            return i;
    return n;
#else
    const uint8_t *lf = memchr(p, '\n', n);
    size_t end = lf ? (size_t)(lf - p) : n;
    const uint8_t *cr = memchr(p, '\r', end);

    return cr ? (size_t)(cr - p) : end;
#endif
}

/* A run of n octets at p added to a line kept in buf: the prefix that
 * fits in room octets is copied after the *kept there are, *kept grows
 * by it; the caller counts all n. */
static inline void sc_plain_keep(uint8_t *buf, size_t *kept, size_t room,
                                 const uint8_t *p, size_t n)
{
    if (room > n)
        room = n;
    if (room)
        memcpy(buf + *kept, p, room);
    *kept += room;
}

#endif
