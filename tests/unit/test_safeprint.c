/*
 * test_safeprint.c - the safe printer and the JSON string escaper
 * (src/common/safeprint.h): every byte value alone, terminal escape
 * sequences, overlong and surrogate UTF-8, hidden code points, truncation
 * on escape boundaries, and random byte strings checked for what must
 * never reach a terminal or a JSON parser.
 */
#include <stdlib.h>
#include <string.h>

#include "common/safeprint.h"
#include "tap.h"

static char out[65536];

static const char *text_of(const void *p, size_t n)
{
    sc_safe_snprint(out, sizeof out, p, n);
    return out;
}

static const char *json_of(const void *p, size_t n)
{
    FILE *fp = tmpfile();
    size_t k;

    sc_json_fputs(fp, p, n);
    rewind(fp);
    k = fread(out, 1, sizeof out - 1, fp);
    out[k] = '\0';
    fclose(fp);
    return out;
}

/* Decodes strict UTF-8; returns -1 when invalid, else the code point
 * count, and flags any code point a reader must never get raw. */
static int utf8_check(const uint8_t *p, size_t n, int *hidden)
{
    int count = 0;
    *hidden = 0;
    for (size_t i = 0; i < n; count++) {
        uint32_t cp;
        size_t len;
        if (p[i] < 0x80) { cp = p[i]; len = 1; }
        else if ((p[i] & 0xE0) == 0xC0) { cp = p[i] & 0x1F; len = 2; }
        else if ((p[i] & 0xF0) == 0xE0) { cp = p[i] & 0x0F; len = 3; }
        else if ((p[i] & 0xF8) == 0xF0) { cp = p[i] & 0x07; len = 4; }
        else return -1;
        if (i + len > n) return -1;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return -1;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
            (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
            cp == 0x200E || cp == 0x200F || cp == 0x2028 || cp == 0x2029)
            *hidden = 1;
        i += len;
    }
    return count;
}

/* A JSON string literal: quotes, escapes, no raw control, valid UTF-8. */
static int json_string_ok(const char *s)
{
    size_t n = strlen(s);
    int hidden;

    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        return 0;
    for (size_t i = 1; i < n - 1; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"')
            return 0;
        if (c == '\\') {
            char e = s[++i];
            if (i >= n - 1) return 0;
            if (e == 'u') {
                for (int k = 1; k <= 4; k++)
                    if (!strchr("0123456789abcdefABCDEF", s[i + k]) || i + k >= n - 1)
                        return 0;
                i += 4;
            } else if (!strchr("\"\\/bfnrt", e)) {
                return 0;
            }
        }
    }
    return utf8_check((const uint8_t *)s, n, &hidden) >= 0;
}

int main(void)
{
    char want[64];
    int bad_text = 0, bad_json = 0;

    /* Every byte value alone. */
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        if (b == '\\') strcpy(want, "\\\\");
        else if (b >= 0x20 && b < 0x7F) snprintf(want, sizeof want, "%c", b);
        else snprintf(want, sizeof want, "\\x%02x", b);
        if (strcmp(text_of(&c, 1), want) != 0) {
            bad_text++;
            printf("# text byte %02x -> %s\n", b, out);
        }
        static const char *const short_esc[] = { ['\b'] = "\\b", ['\f'] = "\\f",
            ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t" };
        if (b == '"') strcpy(want, "\"\\\"\"");
        else if (b == '\\') strcpy(want, "\"\\\\\"");
        else if (b < 0x20 && b < (int)(sizeof short_esc / sizeof short_esc[0]) && short_esc[b])
            snprintf(want, sizeof want, "\"%s\"", short_esc[b]);
        else if (b >= 0x20 && b < 0x7F) snprintf(want, sizeof want, "\"%c\"", b);
        else snprintf(want, sizeof want, "\"\\u%04x\"", b);
        if (strcmp(json_of(&c, 1), want) != 0 || !json_string_ok(out)) {
            bad_json++;
            printf("# json byte %02x -> %s\n", b, out);
        }
    }
    T_CHECK(bad_text == 0, "text: each of the 256 byte values alone");
    T_CHECK(bad_json == 0, "json: each of the 256 byte values alone");

    /* Every byte value in one sequence. */
    uint8_t all[256];
    for (int b = 0; b < 256; b++) all[b] = (uint8_t)b;
    int hidden;
    text_of(all, sizeof all);
    T_CHECK(utf8_check((const uint8_t *)out, strlen(out), &hidden) >= 0 && !hidden,
            "text: all bytes in sequence give clean UTF-8 with no control");
    T_CHECK(strstr(out, "\\x1b") && strstr(out, "\\x7f") && strstr(out, "\\xff") &&
            strstr(out, " !\"#") && strstr(out, "\\\\"), "text: all bytes in sequence escaped as expected");
    T_CHECK(json_string_ok(json_of(all, sizeof all)), "json: all bytes in sequence is a valid string");

    /* Terminal escape sequences. */
    static const char term[] = "\x1b[2J\x1b]0;pwned\x07\x1b[31mred\x9b" "6n";
    T_CHECK(strcmp(text_of(term, sizeof term - 1),
                   "\\x1b[2J\\x1b]0;pwned\\x07\\x1b[31mred\\x9b6n") == 0,
            "text: CSI, OSC and 8-bit CSI escaped (%s)", out);

    /* UTF-8 edge cases: table of input -> text form -> JSON form. */
    static const struct { const char *in, *text, *json, *name; } u8[] = {
        { "caf\xc3\xa9", "caf\xc3\xa9", "\"caf\xc3\xa9\"", "valid 2-byte passes" },
        { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"", "valid 4-byte passes" },
        { "\xc0\xaf", "\\xc0\\xaf", "\"\\u00c0\\u00af\"", "overlong 2-byte slash" },
        { "\xe0\x80\xaf", "\\xe0\\x80\\xaf", "\"\\u00e0\\u0080\\u00af\"", "overlong 3-byte" },
        { "\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf", "\"\\u00f0\\u0080\\u0080\\u00af\"", "overlong 4-byte" },
        { "\xed\xa0\x80", "\\xed\\xa0\\x80", "\"\\u00ed\\u00a0\\u0080\"", "high surrogate in UTF-8" },
        { "\xed\xbf\xbf", "\\xed\\xbf\\xbf", "\"\\u00ed\\u00bf\\u00bf\"", "low surrogate in UTF-8" },
        { "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"", "above U+10FFFF" },
        { "\xe2\x82", "\\xe2\\x82", "\"\\u00e2\\u0082\"", "truncated sequence" },
        { "\xc2\x85", "\\xc2\\x85", "\"\\u0085\"", "C1 NEL" },
        { "\xc2\x9b", "\\xc2\\x9b", "\"\\u009b\"", "C1 CSI" },
        { "a\xe2\x80\xae" "b", "a\\xe2\\x80\\xaeb", "\"a\\u202eb\"", "RIGHT-TO-LEFT OVERRIDE" },
        { "\xe2\x81\xa6", "\\xe2\\x81\\xa6", "\"\\u2066\"", "LEFT-TO-RIGHT ISOLATE" },
        { "\xe2\x80\xa8", "\\xe2\\x80\\xa8", "\"\\u2028\"", "LINE SEPARATOR" },
        { "\xf3\xa0\x81\x81", "\\xf3\\xa0\\x81\\x81", "\"\\udb40\\udc41\"", "tag character" },
        { "\xff\xfe", "\\xff\\xfe", "\"\\u00ff\\u00fe\"", "bytes never in UTF-8" },
        { "a\xc2\xad" "b", "a\\xc2\\xadb", "\"a\\u00adb\"", "SOFT HYPHEN" },
        { "\xcd\x8f", "\\xcd\\x8f", "\"\\u034f\"", "COMBINING GRAPHEME JOINER" },
        { "\xe1\x85\x9f", "\\xe1\\x85\\x9f", "\"\\u115f\"", "HANGUL CHOSEONG FILLER" },
        { "\xe1\xa0\x8e", "\\xe1\\xa0\\x8e", "\"\\u180e\"", "MONGOLIAN VOWEL SEPARATOR" },
        { "\xe3\x85\xa4", "\\xe3\\x85\\xa4", "\"\\u3164\"", "HANGUL FILLER" },
        { "\xef\xb8\x8f", "\\xef\\xb8\\x8f", "\"\\ufe0f\"", "VARIATION SELECTOR-16" },
        { "\xf0\x9d\x85\xb3", "\\xf0\\x9d\\x85\\xb3", "\"\\ud834\\udd73\"",
          "MUSICAL SYMBOL BEGIN BEAM" },
    };
    for (size_t i = 0; i < sizeof u8 / sizeof u8[0]; i++) {
        T_CHECK(strcmp(text_of(u8[i].in, strlen(u8[i].in)), u8[i].text) == 0,
                "text: %s", u8[i].name);
        T_CHECK(strcmp(json_of(u8[i].in, strlen(u8[i].in)), u8[i].json) == 0 &&
                json_string_ok(out), "json: %s", u8[i].name);
    }

    /* Truncation never splits an escape or a code point. */
    char small[6];
    size_t k = sc_safe_snprint(small, sizeof small, (const uint8_t *)"ab\x1b" "cd", 5);
    T_CHECK(k == 2 && strcmp(small, "ab") == 0, "snprint: stops before a split escape");
    k = sc_safe_snprint(small, sizeof small, (const uint8_t *)"abc\xc3\xa9", 5);
    T_CHECK(k == 5 && strcmp(small, "abc\xc3\xa9") == 0, "snprint: a whole code point fits");
    k = sc_safe_snprint(small, 5, (const uint8_t *)"abc\xc3\xa9", 5);
    T_CHECK(k == 3 && strcmp(small, "abc") == 0, "snprint: a code point is not split");
    T_CHECK(sc_safe_snprint(small, 0, (const uint8_t *)"a", 1) == 0, "snprint: zero buffer");

    /* Random strings (fixed seed): nothing dangerous ever comes out. */
    srand(12345);
    int rnd_text = 0, rnd_json = 0;
    for (int it = 0; it < 20000; it++) {
        uint8_t buf[64];
        size_t n = (size_t)(rand() % 64);
        for (size_t i = 0; i < n; i++) {
            int r = rand() % 4;
            buf[i] = r == 0 ? (uint8_t)(0x80 | rand() % 64) : r == 1 ? (uint8_t)(0xC0 + rand() % 64)
                   : (uint8_t)(rand() % 256);
        }
        text_of(buf, n);
        if (utf8_check((const uint8_t *)out, strlen(out), &hidden) < 0 || hidden)
            rnd_text++;
        if (!json_string_ok(json_of(buf, n)))
            rnd_json++;
    }
    T_CHECK(rnd_text == 0, "text: 20000 random strings, output clean UTF-8 without controls");
    T_CHECK(rnd_json == 0, "json: 20000 random strings, output a valid JSON string");
    T_CHECK(strcmp(sc_safe_width("a\xc3\xa9" "b", 4) == 3 ? "ok" : "no", "ok") == 0,
            "width counts code points");
    T_DONE();
}
