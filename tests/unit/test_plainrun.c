/*
 * test_plainrun.c - the scanners the SMTP machines use on every line
 * against the plain definitions they replace: sc_plain_run
 * (src/smtp/client.h; 16 octets at a time with SSE2) against an octet
 * loop, on random buffers at every alignment and length around the
 * 16-octet steps; sc_word_prefix and sc_word_is (src/smtp/command.h)
 * against strlen and strncasecmp in the C locale, on the words of the
 * tables in every case and with one octet changed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/client.h"
#include "smtp/plainrun.h"
#include "smtp/command.h"
#include "tap.h"

static size_t naive_run(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n && p[i] != '\r' && p[i] != '\n')
        i++;
    return i;
}

static size_t naive_prefix(const uint8_t *t, size_t n, const char *w)
{
    size_t wl = strlen(w);

    return wl && n >= wl && strncasecmp((const char *)t, w, wl) == 0 ? wl : 0;
}

static const char *const words[] = {
    "HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "STARTTLS", "AUTH", "FROM:", "TO:",
    "SIZE=", "SMTPUTF8", "BODY=", "BINARYMIME", "8BITMIME", "ENHANCEDSTATUSCODES", "LAST",
};

int main(void)
{
    static uint8_t buf[256];
    unsigned long bad = 0, cases = 0;

    srand(7);
    /* Runs: CR and LF rare or frequent, anywhere, from any alignment. */
    for (int round = 0; round < 20000; round++) {
        int rare = round % 2 ? 40 : 4;
        size_t off = (size_t)(rand() % 16), n = (size_t)(rand() % 120);

        for (size_t i = 0; i < off + n; i++) {
            int r = rand() % rare;
            uint8_t b = (uint8_t)(rand() % 256);
            if (b == '\r' || b == '\n')
                b = 'x';
            buf[i] = r == 0 ? '\r' : r == 1 ? '\n' : b;
        }
        for (size_t k = 0; k <= n; k += 1 + (size_t)(rand() % 3)) {
            cases++;
            if (sc_plain_run(buf + off, k) != naive_run(buf + off, k))
                bad++;
        }
    }
    T_CHECK(bad == 0, "sc_plain_run: %lu of %lu random buffers differ from an octet loop", bad,
            cases);

    /* Every length from 0 to 64 with the only CR or LF at every place. */
    bad = cases = 0;
    for (size_t n = 0; n <= 64; n++)
        for (size_t at = 0; at <= n; at++)
            for (int which = 0; which < 2; which++) {
                memset(buf, 'a', n);
                if (at < n)
                    buf[at] = which ? '\n' : '\r';
                cases++;
                if (sc_plain_run(buf, n) != at)
                    bad++;
            }
    T_CHECK(bad == 0, "sc_plain_run: %lu of %lu lengths and places differ", bad, cases);

    /* Table words in every case, cut short, longer, one octet off. */
    bad = cases = 0;
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t wl = strlen(words[w]);
        for (int round = 0; round < 2000; round++) {
            size_t n = (size_t)(rand() % (int)(wl + 4));
            for (size_t i = 0; i < n; i++) {
                char c = i < wl ? words[w][i] : ' ';
                if (rand() % 2 && c >= 'A' && c <= 'Z')
                    c = (char)(c + ('a' - 'A'));
                buf[i] = (uint8_t)c;
            }
            if (n && rand() % 3 == 0)
                buf[rand() % (int)n] = (uint8_t)(rand() % 256);
            cases++;
            if (sc_word_prefix(buf, n, words[w]) != naive_prefix(buf, n, words[w]) ||
                sc_word_is(buf, n, words[w]) != (n == wl && naive_prefix(buf, n, words[w]) == wl))
                bad++;
        }
    }
    T_CHECK(bad == 0, "sc_word_prefix, sc_word_is: %lu of %lu words differ from strncasecmp",
            bad, cases);
    T_DONE();
}
