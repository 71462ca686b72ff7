/*
 * plainrun.h - the one scan both SMTP machines make over their bytes:
 * how many octets from p hold no CR and no LF (client.c, server.c).
 *
 * Interface: sc_plain_run (inline: called for every run of a segment).
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

/* The length of the run of octets from p that holds no CR and no LF: the
 * machines copy or count such a run at once rather than an octet at a time
 * (only a CR or a LF can end a line or change what follows). Most runs
 * are short (a command, a reply line, a line of a message): with SSE2
 * both octets are looked for in one pass of 16 at a time, where two
 * memchr calls cost more in setting up than in scanning. */
static inline size_t sc_plain_run(const uint8_t *p, size_t n)
{
#ifdef __SSE2__
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    size_t i = 0;

    for (; n - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
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

#endif
