/*
 * test_jsonbuf.c - the JSON writer's line buffer (src/output/jsonbuf.h)
 * writes what stdio wrote before it: strings of every kind of byte
 * (plain, escapes, valid and hidden UTF-8, invalid bytes) against
 * sc_json_fputs, started at every offset of a filling buffer so that each
 * growth point cuts through plain runs and escapes; the escaper given any
 * room, however small, never splits a unit and gives the same bytes; its
 * word-at-a-time scan finds every byte value, alone or in pairs, at
 * every place of a word, as the byte escaped alone does;
 * numbers against printf; the room one huge line took is given back; a
 * lost line takes no more bytes.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/safeprint.h"
#include "output/jsonbuf.h"
#include "tap.h"

/* Bytes of every class the escaper knows, drawn at random. */
static size_t random_bytes(uint8_t *p, size_t n)
{
    static const char *const pieces[] = {
        "a", "Hello, world", "\"", "\\", "\n", "\t", "\x01", "\x7f", "\xc3\xa9",
        "\xe2\x80\xae", "\xf0\x9f\x98\x80", "\xf3\xa0\x80\x81", "\xff", "\xc3", "\xe2\x80",
    };
    size_t w = 0;

    while (w < n) {
        const char *s = pieces[rand() % (int)(sizeof pieces / sizeof pieces[0])];
        size_t k = strlen(s);
        if (w + k > n)
            break;
        memcpy(p + w, s, k);
        w += k;
    }
    return w;
}

static char *stdio_json(const uint8_t *p, size_t n, size_t *len)
{
    char *s = NULL;
    FILE *m = open_memstream(&s, len);

    sc_json_fputs(m, p, n);
    fclose(m);
    return s;
}

static void check_strings(void)
{
    static uint8_t in[5000];
    unsigned bad = 0, n = 0;

    srand(11);
    for (size_t pre = 0; pre < 1100; pre++) {
        sc_jbuf b = { 0 };
        size_t len, k = random_bytes(in, (size_t)(rand() % (int)sizeof in));
        char *want = stdio_json(in, k, &len);

        for (size_t i = 0; i < pre; i++)
            sc_jb_char(&b, 'x');
        sc_jb_str(&b, in, k);
        n++;
        if (b.lost || b.len != pre + len || memcmp(b.p + pre, want, len) != 0)
            bad++;
        free(want);
        sc_jb_free(&b);
    }
    T_CHECK(bad == 0, "jsonbuf: %u strings of every byte class, at every fill, as sc_json_fputs "
            "(%u differ)", n, bad);
}

static void check_small_rooms(void)
{
    uint8_t in[2000];
    char whole[6 * sizeof in], part[6 * sizeof in];
    unsigned bad = 0;

    srand(12);
    for (int t = 0; t < 200; t++) {
        size_t k = random_bytes(in, sizeof in), used, w, pw = 0, off = 0;
        size_t room = 1 + (size_t)t % 20;

        w = sc_json_escape(whole, sizeof whole, in, k, &used);
        if (used != k)
            bad++;
        for (size_t r = room; off < k; ) {  /* the same input through a small window */
            size_t u, got = sc_json_escape(part + pw, r, in + off, k - off, &u);
            if (got > r || (u == 0 && r >= SC_JSON_UNIT_MAX)) {
                bad++;
                break;
            }
            pw += got;
            off += u;
            r = u ? room : SC_JSON_UNIT_MAX;    /* a unit that needs more room gets it */
        }
        if (pw != w || memcmp(part, whole, w) != 0)
            bad++;
    }
    T_CHECK(bad == 0, "sc_json_escape: any room gives the same bytes, no unit split");
}

/* The bytes of in escaped one at a time (n = 1 never takes the word
 * scan): what the whole must be when no two bytes form a UTF-8 code
 * point, as here (a lone byte of 0x80 and above, or two with plain bytes
 * between or no valid pair). */
static size_t bytewise(char *out, const uint8_t *in, size_t n)
{
    size_t w = 0, used;

    for (size_t i = 0; i < n; i++)
        w += sc_json_escape(out + w, SC_JSON_UNIT_MAX, in + i, 1, &used);
    return w;
}

static void check_words(void)
{
    static const int places[][2] = { { 0, 7 }, { 3, 4 }, { 6, 7 }, { 1, 13 }, { 8, 15 },
                                     { 12, 18 } };
    uint8_t in[19];
    char got[6 * sizeof in], want[6 * sizeof in];
    unsigned bad = 0, n = 0;

    for (int pos = 0; pos < (int)sizeof in; pos++)     /* the last 3: the word that ends there */
        for (int v = 0; v < 256; v++, n++) {
            size_t used, g, w;
            memset(in, 'a' + pos, sizeof in);
            in[pos] = (uint8_t)v;
            g = sc_json_escape(got, sizeof got, in, sizeof in, &used);
            w = bytewise(want, in, sizeof in);
            bad += used != sizeof in || g != w || memcmp(got, want, g) != 0;
        }
    for (size_t k = 0; k < sizeof places / sizeof places[0]; k++)
        for (int v1 = 0; v1 < 256; v1++)
            for (int v2 = 0; v2 < 256; v2++) {
                size_t used, g, w;
                if (v1 >= 0x80 && v2 >= 0x80 && places[k][1] == places[k][0] + 1)
                    continue;       /* may be a code point: not bytewise */
                memset(in, ' ' + (v1 + v2) % 95, sizeof in);
                if (in[0] == '"' || in[0] == '\\')
                    memset(in, 'z', sizeof in);
                in[places[k][0]] = (uint8_t)v1;
                in[places[k][1]] = (uint8_t)v2;
                g = sc_json_escape(got, sizeof got, in, sizeof in, &used);
                w = bytewise(want, in, sizeof in);
                bad += used != sizeof in || g != w || memcmp(got, want, g) != 0;
                n++;
            }
    T_CHECK(bad == 0, "sc_json_escape: %u words with one or two bytes of every value at "
            "every place, as each byte escaped alone (%u differ)", n, bad);
}

static void check_pieces(void)
{
    static const uint64_t nums[] = { 0, 1, 9, 10, 99, 100, 101, 110, 999, 1000, 4294967295u, 4294967296u,
                                     10000000000000000000u, UINT64_MAX };
    sc_jbuf b = { 0 };
    char want[512];
    int w = 0;

    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        sc_jb_u64(&b, nums[i]);
        sc_jb_char(&b, ' ');
        w += snprintf(want + w, sizeof want - (size_t)w, "%" PRIu64 " ", nums[i]);
    }
    sc_jb_key(&b, "a_rather_long_key_name_past_sixty_four_bytes_of_the_old_stack_buf");
    sc_jb_bool(&b, true);
    sc_jb_bool(&b, false);
    sc_jb_cstr(&b, NULL);
    sc_jb_cstr(&b, "q\"");
    sc_jb_printf(&b, "%s%.4f", ",", 0.5);
    SC_JB_LIT(&b, ",\"k\":");
    sc_jb_plain(&b, "1:ab+/=", 7);
    w += snprintf(want + w, sizeof want - (size_t)w, ",\"%s\":truefalsenull\"q\\\"\",0.5000"
                  ",\"k\":\"1:ab+/=\"",
                  "a_rather_long_key_name_past_sixty_four_bytes_of_the_old_stack_buf");
    T_CHECK(!b.lost && b.len == (size_t)w && memcmp(b.p, want, b.len) == 0,
            "jsonbuf: numbers, keys, literals, booleans, null, plain, printf (%.*s)", (int)b.len, b.p);
    sc_jb_free(&b);
}

static void check_bounds(void)
{
    sc_jbuf b = { 0 };
    size_t n = 1 << 20;
    uint8_t *big = malloc(n);

    memset(big, '\x01', n);     /* every byte an escape: 6 MB of line */
    sc_jb_str(&b, big, n);
    T_CHECK(!b.lost && b.len == 6 * n + 2, "jsonbuf: a line of 6 MB is made whole");
    sc_jb_reset(&b);
    T_CHECK(b.len == 0 && b.cap == SC_JB_KEEP, "jsonbuf: its room is given back (%zu kept)",
            b.cap);
    sc_jb_puts(&b, "next");
    T_CHECK(b.len == 4 && memcmp(b.p, "next", 4) == 0, "jsonbuf: the next line after it");
    sc_jb_lose(&b);
    sc_jb_str(&b, big, 100);
    sc_jb_u64(&b, 7);
    T_CHECK(b.len == 4, "jsonbuf: a lost line takes no more bytes");
    sc_jb_reset(&b);
    T_CHECK(!b.lost && b.len == 0, "jsonbuf: reset starts a good line");
    sc_jb_free(&b);
    free(big);
}

int main(void)
{
    check_strings();
    check_small_rooms();
    check_words();
    check_pieces();
    check_bounds();
    T_DONE();
}
