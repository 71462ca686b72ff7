/*
 * oracle.h - the properties every output of smtpscope must have, whatever
 * bytes the wire carried; checked by the fuzz targets after each input.
 *
 *   fz_json_value_ok(p, n)   p[0..n) is exactly one valid JSON value
 *                            (RFC 8259 grammar, strings valid UTF-8, no raw
 *                            control character inside a string).
 *   fz_jsonl_ok(p, n)        every non-empty line of p is one JSON value.
 *   fz_text_ok(p, n, nl)     no byte a terminal acts on: nothing below 0x20
 *                            (but '\n' when nl), no DEL, no C1 control as
 *                            UTF-8 (U+0080..U+009F), no bidi override or
 *                            isolate (U+202A..U+202E, U+2066..U+2069).
 *
 * Each returns 0 when the property holds, else the offset of the first bad
 * byte plus one, so a crash report can say where. Header only: the targets
 * and the replay program include it; nothing here allocates.
 */
#ifndef FZ_ORACLE_H
#define FZ_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* The checks run over every output byte: left out of the fuzzer's coverage
 * (and its comparison tracing), they cost little and do not steer it.
 * Never inlined: inlined into the instrumented target, they would be
 * traced again. */
#if defined(__clang__)
#define FZ_NOCOV __attribute__((no_sanitize("coverage"), noinline))
#endif
#ifndef FZ_NOCOV
#define FZ_NOCOV
#endif

typedef struct fz_json {
    const uint8_t *p;
    size_t n, i;
    int depth;
} fz_json;

#define FZ_JSON_DEPTH_MAX 64

static inline FZ_NOCOV void fz_json_ws(fz_json *j)
{
    while (j->i < j->n && (j->p[j->i] == ' ' || j->p[j->i] == '\t' ||
                           j->p[j->i] == '\n' || j->p[j->i] == '\r'))
        j->i++;
}

/* Length of the valid UTF-8 sequence at p[0..n), 0 when invalid
 * (overlong forms, surrogates and values above U+10FFFF are invalid). */
static inline FZ_NOCOV size_t fz_utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t len;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

static inline FZ_NOCOV int fz_json_hex4(fz_json *j)
{
    if (j->n - j->i < 4)
        return -1;
    for (int k = 0; k < 4; k++) {
        uint8_t c = j->p[j->i + k];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return -1;
    }
    j->i += 4;
    return 0;
}

static inline FZ_NOCOV int fz_json_string(fz_json *j)
{
    j->i++;                                  /* the opening quote */
    while (j->i < j->n) {
        uint8_t c = j->p[j->i];
        if (c == '"') {
            j->i++;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            if (++j->i >= j->n)
                return -1;
            c = j->p[j->i++];
            if (c == 'u') {
                if (fz_json_hex4(j) < 0)
                    return -1;
            } else if (!(c == '"' || c == '\\' || c == '/' || c == 'b' ||
                         c == 'f' || c == 'n' || c == 'r' || c == 't')) {
                return -1;
            }
            continue;
        }
        size_t l = fz_utf8_len(j->p + j->i, j->n - j->i);
        if (!l)
            return -1;
        j->i += l;
    }
    return -1;
}

static inline FZ_NOCOV int fz_json_number(fz_json *j)
{
    size_t start;

    if (j->i < j->n && j->p[j->i] == '-')
        j->i++;
    if (j->i >= j->n)
        return -1;
    if (j->p[j->i] == '0') {
        j->i++;
    } else if (j->p[j->i] >= '1' && j->p[j->i] <= '9') {
        while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9')
            j->i++;
    } else {
        return -1;
    }
    if (j->i < j->n && j->p[j->i] == '.') {
        start = ++j->i;
        while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9')
            j->i++;
        if (j->i == start)
            return -1;
    }
    if (j->i < j->n && (j->p[j->i] == 'e' || j->p[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->p[j->i] == '+' || j->p[j->i] == '-'))
            j->i++;
        start = j->i;
        while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9')
            j->i++;
        if (j->i == start)
            return -1;
    }
    return 0;
}

static inline FZ_NOCOV int fz_json_literal(fz_json *j, const char *word)
{
    size_t k = 0;

    for (; word[k]; k++)
        if (j->i + k >= j->n || j->p[j->i + k] != (uint8_t)word[k])
            return -1;
    j->i += k;
    return 0;
}

static inline int fz_json_value(fz_json *j);

/* An object or array: open bracket, members separated by commas, close. */
static inline FZ_NOCOV int fz_json_container(fz_json *j, uint8_t close, int object)
{
    if (++j->depth > FZ_JSON_DEPTH_MAX)
        return -1;
    j->i++;
    fz_json_ws(j);
    if (j->i < j->n && j->p[j->i] == close) {
        j->i++;
        j->depth--;
        return 0;
    }
    for (;;) {
        fz_json_ws(j);
        if (object) {
            if (j->i >= j->n || j->p[j->i] != '"' || fz_json_string(j) < 0)
                return -1;
            fz_json_ws(j);
            if (j->i >= j->n || j->p[j->i] != ':')
                return -1;
            j->i++;
        }
        if (fz_json_value(j) < 0)
            return -1;
        fz_json_ws(j);
        if (j->i >= j->n)
            return -1;
        if (j->p[j->i] == ',') {
            j->i++;
            continue;
        }
        if (j->p[j->i] != close)
            return -1;
        j->i++;
        j->depth--;
        return 0;
    }
}

static inline FZ_NOCOV int fz_json_value(fz_json *j)
{
    fz_json_ws(j);
    if (j->i >= j->n)
        return -1;
    switch (j->p[j->i]) {
    case '{': return fz_json_container(j, '}', 1);
    case '[': return fz_json_container(j, ']', 0);
    case '"': return fz_json_string(j);
    case 't': return fz_json_literal(j, "true");
    case 'f': return fz_json_literal(j, "false");
    case 'n': return fz_json_literal(j, "null");
    default:  return fz_json_number(j);
    }
}

static inline FZ_NOCOV size_t fz_json_value_ok(const uint8_t *p, size_t n)
{
    fz_json j = { p, n, 0, 0 };

    if (fz_json_value(&j) < 0)
        return j.i + 1;
    fz_json_ws(&j);
    return j.i == n ? 0 : j.i + 1;
}

static inline FZ_NOCOV size_t fz_jsonl_ok(const uint8_t *p, size_t n)
{
    size_t start = 0;

    while (start < n) {
        size_t end = start;
        while (end < n && p[end] != '\n')
            end++;
        if (end > start) {
            size_t bad = fz_json_value_ok(p + start, end - start);
            if (bad)
                return start + bad;
        }
        start = end + 1;
    }
    return 0;
}

static inline FZ_NOCOV size_t fz_text_ok(const uint8_t *p, size_t n, int allow_newline)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\n' && allow_newline)
            continue;
        if (c < 0x20 || c == 0x7f)
            return i + 1;
        /* U+0080..U+009F: C2 80..C2 9F (some terminals take U+009B as CSI) */
        if (c == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            return i + 1;
        /* U+202A..U+202E: E2 80 AA..AE; U+2066..U+2069: E2 81 A6..A9 */
        if (c == 0xe2 && i + 2 < n &&
            ((p[i + 1] == 0x80 && p[i + 2] >= 0xaa && p[i + 2] <= 0xae) ||
             (p[i + 1] == 0x81 && p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9)))
            return i + 1;
    }
    return 0;
}

#endif
