/*
 * fuzz_safeprint.c - fuzz target for the safe printer and the JSON escaper
 * (src/common/safeprint.h).
 *
 * Input: byte 0 chooses the sc_safe_snprint buffer size (1..256); the rest
 * is the wire bytes. Properties checked (abort on violation):
 *   - sc_safe_fputs output has no byte a terminal acts on (oracle.h, no
 *     newline allowed) and decodes back to exactly the input ("\\" is a
 *     backslash, "\xHH" a byte, anything else itself);
 *   - sc_safe_snprint writes a NUL-terminated string of the length it
 *     returns, never more than the buffer, that is a prefix of the
 *     sc_safe_fputs output, cut on an escape boundary and no shorter than
 *     the buffer allows (one unit is at most 16 output bytes);
 *   - sc_json_fputs output is one valid JSON string (oracle.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/safeprint.h"
#include "oracle.h"

#define FZ_UNIT_MAX 16     /* longest text form of one input unit: 4 x "\xHH" */

static void fz_fail(const char *what, size_t at)
{
    fprintf(stderr, "fuzz_safeprint: %s (at output offset %zu)\n", what, at);
    abort();
}

static int fz_hex(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes the text form; returns 0 when it equals in[0..n). */
static int fz_text_roundtrip(const uint8_t *out, size_t olen, const uint8_t *in, size_t n)
{
    size_t i = 0, k = 0;

    while (i < olen) {
        uint8_t b;
        if (out[i] == '\\') {
            if (i + 1 < olen && out[i + 1] == '\\') {
                b = '\\';
                i += 2;
            } else if (i + 3 < olen && out[i + 1] == 'x' && fz_hex(out[i + 2]) >= 0 &&
                       fz_hex(out[i + 3]) >= 0) {
                b = (uint8_t)(fz_hex(out[i + 2]) << 4 | fz_hex(out[i + 3]));
                i += 4;
            } else {
                return -1;                /* a lone backslash is ambiguous */
            }
        } else {
            b = out[i++];
        }
        if (k >= n || in[k++] != b)
            return -1;
    }
    return k == n ? 0 : -1;
}

/* True when out[0..len) ends on an escape boundary of the full text form. */
static int fz_on_boundary(const uint8_t *full, size_t len)
{
    size_t i = 0;

    while (i < len)
        i += full[i] != '\\' ? 1 : full[i + 1] == '\\' ? 2 : 4;
    return i == len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t buflen = (size_t)data[0] + 1;
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    char *text = NULL, *json = NULL;
    size_t tlen = 0, jlen = 0, bad;

    FILE *fp = open_memstream(&text, &tlen);
    if (!fp)
        abort();
    sc_safe_fputs(fp, in, n);
    fclose(fp);
    if ((bad = fz_text_ok((const uint8_t *)text, tlen, 0)))
        fz_fail("text form carries a control byte", bad - 1);
    if (fz_text_roundtrip((const uint8_t *)text, tlen, in, n) < 0)
        fz_fail("text form does not decode to the input", 0);

    char *buf = malloc(buflen + 1);
    if (!buf)
        abort();
    buf[buflen] = 0x5a;                          /* canary past the end */
    size_t w = sc_safe_snprint(buf, buflen, in, n);
    if (buf[buflen] != 0x5a)
        fz_fail("sc_safe_snprint wrote past the buffer", buflen);
    if (w >= buflen || buf[w] != '\0' || strlen(buf) != w)
        fz_fail("sc_safe_snprint length or terminator wrong", w);
    if (w > tlen || memcmp(buf, text, w) != 0)
        fz_fail("sc_safe_snprint is not a prefix of the text form", w);
    if (!fz_on_boundary((const uint8_t *)text, w))
        fz_fail("sc_safe_snprint cut inside an escape", w);
    if (w < tlen && w + FZ_UNIT_MAX < buflen - 1)
        fz_fail("sc_safe_snprint stopped early", w);
    free(buf);

    fp = open_memstream(&json, &jlen);
    if (!fp)
        abort();
    sc_json_fputs(fp, in, n);
    fclose(fp);
    if (jlen < 2 || json[0] != '"' || (bad = fz_json_value_ok((const uint8_t *)json, jlen)))
        fz_fail("JSON form is not one valid JSON string", bad ? bad - 1 : 0);

    free(text);
    free(json);
    return 0;
}
