/*
 * safeprint.c - the one way wire bytes reach a human (src/common/safeprint.h).
 *
 * Two printers share one scanner that cuts the input into units: a unit is
 * either one code point of strictly valid UTF-8 (shortest form, no UTF-16
 * surrogates, at most U+10FFFF) or one byte that is not part of one.
 *
 * Text (terminal, report file): printable ASCII passes; a backslash is
 * written "\\"; valid UTF-8 passes unless its code point is in the hidden
 * table below (C1 controls, bidirectional overrides and isolates, zero-width
 * and line-separator characters: they can reorder or hide what a reader
 * sees in a pasted ticket); every other byte (C0 controls, ESC, DEL,
 * invalid or hidden UTF-8) is written "\xHH", one escape per byte.
 *
 * JSON: the output is always a valid JSON string. Quote and backslash are
 * escaped, control characters use \b \f \n \r \t or \u00HH, DEL is \u007f,
 * hidden code points are written as \uXXXX (surrogate pairs above the BMP),
 * and a byte that is not valid UTF-8 is written \u00HH with HH its value:
 * no byte is lost, at the price that a consumer sees invalid byte 0xE9 and
 * a genuine U+00E9 the same way (documented in docs/json-schema.md).
 *
 * Diagnostics: none; output errors are the caller's (ferror).
 */
#include <stdio.h>
#include <string.h>

#include "safeprint.h"

/* Code points that are valid but must not reach a reader raw. */
static const struct { uint32_t lo, hi; } safeprint_hidden[] = {
    { 0x0080, 0x009F },     /* C1 controls (CSI 0x9B acts like ESC [) */
    { 0x00AD, 0x00AD },     /* soft hyphen: shown by no terminal */
    { 0x034F, 0x034F },     /* combining grapheme joiner */
    { 0x061C, 0x061C },     /* Arabic letter mark */
    { 0x115F, 0x1160 },     /* Hangul choseong and jungseong fillers */
    { 0x17B4, 0x17B5 },     /* Khmer inherent vowels (invisible) */
    { 0x180B, 0x180F },     /* Mongolian variation selectors, vowel separator */
    { 0x200B, 0x200F },     /* zero width space/joiners, LRM, RLM */
    { 0x2028, 0x202E },     /* line/paragraph separators, bidi embed/override */
    { 0x2060, 0x206F },     /* word joiner, invisible operators, bidi isolates */
    { 0x3164, 0x3164 },     /* Hangul filler */
    { 0xFE00, 0xFE0F },     /* variation selectors */
    { 0xFEFF, 0xFEFF },     /* zero width no-break space (BOM) */
    { 0xFFA0, 0xFFA0 },     /* halfwidth Hangul filler */
    { 0xFFF9, 0xFFFB },     /* interlinear annotation */
    { 0x1D173, 0x1D17A },   /* musical symbol formatting (begin beam, ...) */
    { 0xE0000, 0xE007F },   /* tag characters */
    { 0xE0100, 0xE01EF },   /* variation selectors supplement */
};

static int safeprint_cp_hidden(uint32_t cp)
{
    for (size_t i = 0; i < sizeof safeprint_hidden / sizeof safeprint_hidden[0]; i++)
        if (cp >= safeprint_hidden[i].lo && cp <= safeprint_hidden[i].hi)
            return 1;
    return 0;
}

/* Length of the valid UTF-8 sequence at p (2..4) with its code point, or 0
 * when the bytes at p do not start one (ASCII is handled by the callers). */
static size_t safeprint_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
    static const struct { uint8_t mask, lead; size_t len; uint32_t min; } forms[] = {
        { 0xE0, 0xC0, 2, 0x80 },
        { 0xF0, 0xE0, 3, 0x800 },
        { 0xF8, 0xF0, 4, 0x10000 },
    };

    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        if ((p[0] & forms[f].mask) != forms[f].lead)
            continue;
        size_t len = forms[f].len;
        if (n < len)
            return 0;
        uint32_t v = p[0] & (uint8_t)~forms[f].mask;
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            v = (v << 6) | (p[i] & 0x3F);
        }
        if (v < forms[f].min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return 0;     /* overlong, out of range, or a surrogate */
        *cp = v;
        return len;
    }
    return 0;
}

/* Writes the text form of the unit at p into out (at least 16 bytes);
 * returns the bytes written and sets *used to the input bytes consumed. */
static size_t safeprint_text_unit(const uint8_t *p, size_t n, char *out, size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    uint32_t cp;
    size_t len;

    if (p[0] == '\\') {
        *used = 1;
        out[0] = '\\'; out[1] = '\\';
        return 2;
    }
    if (p[0] >= 0x20 && p[0] < 0x7F) {
        *used = 1;
        out[0] = (char)p[0];
        return 1;
    }
    if (p[0] >= 0x80 && (len = safeprint_utf8_decode(p, n, &cp)) != 0) {
        *used = len;
        if (!safeprint_cp_hidden(cp)) {
            memcpy(out, p, len);
            return len;
        }
        for (size_t i = 0; i < len; i++) {
            out[4 * i] = '\\'; out[4 * i + 1] = 'x';
            out[4 * i + 2] = hex[p[i] >> 4]; out[4 * i + 3] = hex[p[i] & 15];
        }
        return 4 * len;
    }
    *used = 1;
    out[0] = '\\'; out[1] = 'x'; out[2] = hex[p[0] >> 4]; out[3] = hex[p[0] & 15];
    return 4;
}

/* The printers gather their output in a local buffer and hand it to stdio
 * in one fwrite per SAFEPRINT_CHUNK bytes: one fwrite per unit was the
 * largest single cost of the JSON and text writers on captures of many
 * short sessions (perf: _IO_fwrite 16 % of the run). Printable ASCII that
 * needs no escape, nearly every byte, is copied without the unit call
 * (by sc_safe_snprint a run at a time).
 * A unit is at most 16 bytes (a hidden 4-byte code point as text), so a
 * buffer with 16 left always has room. */
#define SAFEPRINT_CHUNK 512

/* A byte that passes as it is: printable ASCII but the backslash. */
static inline int safeprint_plain(uint8_t c)
{
    return (uint8_t)(c - 0x20) < 0x5F && c != '\\';
}

void sc_safe_fputs(FILE *fp, const uint8_t *p, size_t n)
{
    char buf[SAFEPRINT_CHUNK];
    size_t used, w = 0;

    for (size_t i = 0; i < n; i += used) {
        if (w > sizeof buf - 16) {
            fwrite(buf, 1, w, fp);
            w = 0;
        }
        if (safeprint_plain(p[i])) {
            buf[w++] = (char)p[i];
            used = 1;
            continue;
        }
        w += safeprint_text_unit(p + i, n - i, buf + w, &used);
    }
    if (w)
        fwrite(buf, 1, w, fp);
}

size_t sc_safe_snprint(char *buf, size_t buflen, const uint8_t *p, size_t n)
{
    char unit[16];
    size_t used, w = 0;

    if (buflen == 0)
        return 0;
    for (size_t i = 0; i < n; i += used) {
        if (safeprint_plain(p[i])) {
            /* a run of plain bytes: found, then copied at once (hot) */
            size_t j = i + 1;
            while (j < n && safeprint_plain(p[j]))
                j++;
            used = j - i;
            if (w + used >= buflen) {
                memcpy(buf + w, p + i, buflen - 1 - w);
                w = buflen - 1;
                break;
            }
            memcpy(buf + w, p + i, used);
            w += used;
            continue;
        }
        size_t k = safeprint_text_unit(p + i, n - i, unit, &used);
        if (w + k >= buflen)
            break;          /* never split an escape or a code point */
        memcpy(buf + w, unit, k);
        w += k;
    }
    buf[w] = '\0';
    return w;
}

size_t sc_safe_width(const char *s, size_t n)
{
    size_t w = 0;

    for (size_t i = 0; i < n; i++)
        if (((uint8_t)s[i] & 0xC0) != 0x80)
            w++;
    return w;
}

/* Writes the JSON form of the unit at p into out (at least 16 bytes). */
static size_t safeprint_json_unit(const uint8_t *p, size_t n, char *out, size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    static const char *const short_esc[0x20] = {
        ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t",
    };
    uint32_t cp, units[2];
    size_t len, nunits = 1;

    *used = 1;
    if (p[0] == '"' || p[0] == '\\') {
        out[0] = '\\'; out[1] = (char)p[0];
        return 2;
    }
    if (p[0] < 0x20 && short_esc[p[0]]) {
        memcpy(out, short_esc[p[0]], 2);
        return 2;
    }
    if (p[0] >= 0x20 && p[0] < 0x7F) {
        out[0] = (char)p[0];
        return 1;
    }
    units[0] = p[0];                       /* control, DEL or invalid byte */
    if (p[0] >= 0x80 && (len = safeprint_utf8_decode(p, n, &cp)) != 0) {
        *used = len;
        if (!safeprint_cp_hidden(cp)) {
            memcpy(out, p, len);
            return len;
        }
        if (cp >= 0x10000) {
            units[0] = 0xD800 + ((cp - 0x10000) >> 10);
            units[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
            nunits = 2;
        } else {
            units[0] = cp;
        }
    }
    for (size_t u = 0; u < nunits; u++) {
        char *o = out + 6 * u;
        o[0] = '\\'; o[1] = 'u';
        o[2] = hex[(units[u] >> 12) & 15]; o[3] = hex[(units[u] >> 8) & 15];
        o[4] = hex[(units[u] >> 4) & 15];  o[5] = hex[units[u] & 15];
    }
    return 6 * nunits;
}

/* Whether the 8 bytes of x all pass a JSON string unchanged (0x20-0x7E,
 * neither quote nor backslash), tested a word at a time: with no high bit
 * set, a byte below 0x20 borrows into its high bit when 0x20 is taken
 * from each byte, 0x7F carries into it when 1 is added, and a byte equal
 * to c becomes 0 in x ^ c and borrows when 1 is taken. The lowest such
 * byte always shows, so the test is exact. */
static int safeprint_json_word_plain(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t t = x | (x - ones * 0x20) | (x + ones) | ((x ^ ones * '"') - ones) |
                 ((x ^ ones * '\\') - ones);

    return (t & ones * 0x80) == 0;
}

/* How many bytes of p, from the first, pass a JSON string unchanged:
 * 8 at a time, and the last few of a run that reaches the end as the
 * word that ends there (its first bytes are known plain already), so
 * only a string shorter than a word or a run that stops is looked at a
 * byte at a time. */
size_t sc_json_plain_len(const uint8_t *p, size_t n)
{
    size_t run = 0;
    uint64_t x;

    while (run + 8 <= n && (memcpy(&x, p + run, 8), safeprint_json_word_plain(x)))
        run += 8;
    if (run < n && run + 8 > n && n >= 8 &&
        (memcpy(&x, p + n - 8, 8), safeprint_json_word_plain(x)))
        return n;
    while (run < n && p[run] >= 0x20 && p[run] < 0x7F && p[run] != '"' && p[run] != '\\')
        run++;
    return run;
}

/* Plain bytes go through in runs, found 8 at a time and copied at once
 * (the run scan was most of the JSON writer's string cost); the rest unit
 * by unit, straight into out while a whole unit surely fits. */
size_t sc_json_escape(char *out, size_t room, const uint8_t *p, size_t n, size_t *used)
{
    size_t i = 0, w = 0, u, k;
    char unit[SC_JSON_UNIT_MAX];

    while (i < n) {
        size_t run = sc_json_plain_len(p + i, n - i < room - w ? n - i : room - w);
        memcpy(out + w, p + i, run);
        i += run;
        w += run;
        if (i == n || w == room)
            break;
        if (room - w >= SC_JSON_UNIT_MAX) {
            w += safeprint_json_unit(p + i, n - i, out + w, &u);
        } else {
            k = safeprint_json_unit(p + i, n - i, unit, &u);
            if (k > room - w)
                break;      /* never split an escape or a code point */
            memcpy(out + w, unit, k);
            w += k;
        }
        i += u;
    }
    *used = i;
    return w;
}

void sc_json_fputs(FILE *fp, const uint8_t *p, size_t n)
{
    char buf[SAFEPRINT_CHUNK];      /* as sc_safe_fputs: one fwrite a chunk */
    size_t used, w = 1;

    buf[0] = '"';
    for (;;) {
        w += sc_json_escape(buf + w, sizeof buf - 1 - w, p, n, &used);
        p += used;
        n -= used;
        if (n == 0)
            break;
        fwrite(buf, 1, w, fp);
        w = 0;
    }
    buf[w++] = '"';
    fwrite(buf, 1, w, fp);
}

void sc_json_fputstr(FILE *fp, const char *s)
{
    if (!s) {
        fputs("null", fp);
        return;
    }
    sc_json_fputs(fp, (const uint8_t *)s, strlen(s));
}

void sc_safe_fputstr(FILE *fp, const char *s)
{
    sc_safe_fputs(fp, (const uint8_t *)s, strlen(s));
}
