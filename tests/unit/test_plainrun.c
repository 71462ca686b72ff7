/*
 * test_plainrun.c - the scanners the SMTP machines use on every line
 * against the plain definitions they replace: sc_plain_run
 * (src/smtp/plainrun.h; 16 octets at a time with SSE2) against an octet
 * loop, on random buffers at every alignment and length around the
 * 16-octet steps; the client machine's count of plain content lines
 * (count_only) against the same content delivered line by line, on random
 * messages cut into random segments; command lines handed over from the
 * segment (in_place) against the same lines copied, likewise, and so
 * reply lines and replies (src/smtp/server.h);
 * sc_word_prefix, sc_word_is and sc_word_first_may (src/smtp/command.h)
 * against strlen and strncasecmp in the C locale, on the words of the
 * tables in every case and with one octet changed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/client.h"
#include "smtp/server.h"
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

/* Segment lengths for n octets: tiny, packet-sized or large, by round. */
static void random_cuts(size_t *cuts, size_t n, int round)
{
    int kind = round % 3;

    for (size_t k = 0; k < n; k++)
        cuts[k] = kind == 0 ? 1 + (size_t)(rand() % 7)
                : kind == 1 ? 1 + (size_t)(rand() % 1500) : 1 + (size_t)(rand() % 70000);
}

/* The n octets at m, fed in the segments cuts gives; the machine freed. */
static void feed_segments(sc_client *c, const uint8_t *m, size_t n, const size_t *cuts)
{
    size_t at = 0;

    for (size_t k = 0; at < n; k++) {
        size_t seg = cuts[k] < n - at ? cuts[k] : n - at;
        sc_client_feed(c, m + at, seg, k);
        at += seg;
    }
    sc_client_free(c);
}

/* What a client machine reports of message content: lines and octets,
 * wherever they were counted, the lines that are not plain (they must be
 * delivered one by one: too long, dot-stuffed, a bare CR or LF) and a
 * digest of the end-of-data and ambiguous sequences with their offsets. */
typedef struct content_rec {
    uint64_t lines, octets, unplain, events;
} content_rec;

static void rec_event(content_rec *r, uint64_t what, uint64_t off)
{
    r->events = r->events * 1000003u + what * 7919u + off;
}

static void rec_content(void *ctx, const sc_cline *l)
{
    content_rec *r = ctx;

    r->lines++;
    r->octets += l->wire_len;
    if (l->wire_len > SC_PLAIN_LINE_MAX || l->stuffed || l->bare_lf || l->bare_cr)
        r->unplain++;
}

static void rec_lines(void *ctx, uint64_t lines, uint64_t octets, uint64_t frame)
{
    content_rec *r = ctx;

    (void)frame;
    r->lines += lines;
    r->octets += octets;
}

static void rec_eod(void *ctx, const sc_cline *dot)
{
    rec_event(ctx, 1, dot->off);
}

static void rec_ambiguous(void *ctx, const char *what, uint64_t off, uint64_t frame)
{
    (void)frame;
    rec_event(ctx, (uint64_t)(unsigned char)what[1] * 31u + strlen(what), off);
}

/* A message of random lines: short and long ones (past SC_PLAIN_LINE_MAX),
 * some starting with a dot, some with a bare CR or LF, ending in the
 * end-of-data line and a command. Its length. */
static size_t random_message(uint8_t *m, size_t cap)
{
    size_t n = 0;

    while (n + 1200 < cap && rand() % 200) {
        int kind = rand() % 40;
        size_t len = kind == 0 ? 990 + (size_t)(rand() % 20) : (size_t)(rand() % 90);
        if (kind == 1)
            m[n++] = '.';
        for (size_t i = 0; i < len; i++)
            m[n++] = (uint8_t)('a' + rand() % 26);
        if (kind == 2)
            m[n++] = '\n';
        else if (kind == 3)
            m[n++] = '\r';
        else {
            m[n++] = '\r';
            m[n++] = '\n';
        }
    }
    memcpy(m + n, "\r\n.\r\nQUIT\r\n", 11);
    return n + 11;
}

static content_rec feed_content(const uint8_t *m, size_t n, const size_t *cuts, bool count_only)
{
    static const sc_client_ops ops_lines = {
        .content = rec_content, .content_lines = rec_lines,
        .eod = rec_eod, .ambiguous = rec_ambiguous,
    };
    static const sc_client_ops ops_each = {
        .content = rec_content, .eod = rec_eod, .ambiguous = rec_ambiguous,
    };
    content_rec r = { 0, 0, 0, 0 };
    sc_client c;

    sc_client_init(&c, count_only ? &ops_lines : &ops_each, &r);
    c.count_only = count_only;
    sc_client_set_mode(&c, SC_CM_CONTENT);
    feed_segments(&c, m, n, cuts);
    return r;
}

/* A digest of every command line a client machine hands over. */
static void rec_command(void *ctx, const sc_cline *l)
{
    uint64_t *h = ctx;

    for (size_t i = 0; i < l->kept; i++)
        *h = *h * 131u + l->text[i];
    *h = *h * 1000003u + l->kept * 7u + l->len * 11u + l->wire_len * 13u + l->off * 17u +
         l->frame * 19u + l->bare_lf * 23u + l->bare_cr * 29u;
}

/* Lines for either machine: some too long to keep (past 512 and 1024
 * octets), some with a bare CR or ending in a bare LF; with codes, most
 * start as reply lines ("NNN-" or "NNN "), some do not. */
static size_t random_lines(uint8_t *m, size_t cap, bool codes)
{
    size_t n = 0;

    while (n + 1400 < cap && rand() % 300) {
        int kind = rand() % 9;
        size_t len = kind == 0 ? 500 + (size_t)(rand() % 600) : (size_t)(rand() % 60);
        if (codes && kind != 1)
            n += (size_t)sprintf((char *)m + n, "%d%c", 200 + rand() % 400,
                                 rand() % 3 ? '-' : ' ');
        for (size_t i = 0; i < len; i++)
            m[n++] = (uint8_t)(' ' + rand() % 90);
        if (kind == 2)
            m[n++] = '\r';
        if (kind == 3)
            m[n++] = '\n';
        else {
            m[n++] = '\r';
            m[n++] = '\n';
        }
    }
    return n;
}

static uint64_t feed_commands(const uint8_t *m, size_t n, const size_t *cuts, bool in_place)
{
    static const sc_client_ops ops = { .command = rec_command };
    uint64_t h = 0;
    sc_client c;

    sc_client_init(&c, &ops, &h);
    c.in_place = in_place;
    feed_segments(&c, m, n, cuts);
    return h;
}

/* A digest of every reply line and reply a server machine hands over. */
static void rec_bytes(uint64_t *h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        *h = *h * 131u + p[i];
    *h = *h * 1000003u + n;
}

static void rec_rline(void *ctx, const sc_rline *l, const sc_reply *r)
{
    uint64_t *h = ctx;

    rec_bytes(h, l->text, l->kept);
    *h = *h * 1000003u + l->len * 7u + l->wire_len * 11u + l->off * 13u + l->frame * 17u +
         (uint64_t)(l->code + 1) * 19u + l->more * 23u + l->malformed * 29u + (r != NULL);
}

static void rec_reply(void *ctx, const sc_reply *r)
{
    uint64_t *h = ctx;

    rec_bytes(h, r->first, r->first_len);
    rec_bytes(h, r->last, r->last_len);
    *h = *h * 1000003u + (uint64_t)r->code * 7u + r->nlines * 11u + r->mixed * 13u +
         r->malformed * 17u + r->first_frame * 19u + r->frame * 23u;
}

static uint64_t feed_replies(const uint8_t *m, size_t n, const size_t *cuts, bool in_place)
{
    static const sc_server_ops ops = { .line = rec_rline, .reply = rec_reply };
    uint64_t h = 0;
    sc_server s;
    size_t at = 0;

    sc_server_init(&s, &ops, &h);
    s.in_place = in_place;
    for (size_t k = 0; at < n; k++) {
        /* each segment in a buffer overwritten after it, as reassembly's */
        static uint8_t segbuf[70000];
        size_t seg = cuts[k] < n - at ? cuts[k] : n - at;
        memcpy(segbuf, m + at, seg);
        sc_server_feed(&s, segbuf, seg, k);
        memset(segbuf, 'Z', seg);
        at += seg;
    }
    sc_server_free(&s);
    return h;
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

    /* Content counted in bulk reads as the same content line by line. */
    bad = cases = 0;
    uint64_t unplain = 0;
    for (int round = 0; round < 400; round++) {
        static uint8_t msg[200000];
        static size_t cuts[200000];
        size_t n = random_message(msg, sizeof msg);

        random_cuts(cuts, n, round);
        content_rec a = feed_content(msg, n, cuts, true);
        content_rec b = feed_content(msg, n, cuts, false);
        cases++;
        if (a.lines != b.lines || a.octets != b.octets || a.unplain != b.unplain ||
            a.events != b.events || !b.events)
            bad++;
        unplain += b.unplain;
    }
    T_CHECK(bad == 0 && unplain > 0, "content lines: %lu of %lu messages counted in bulk differ "
            "from line by line (%llu lines not plain)", bad, cases, (unsigned long long)unplain);

    /* Lines read from the segment (in_place) read as the same lines
     * copied into the line buffer: command lines, and reply lines and
     * replies (a reply's first line held when the reply goes on in the
     * next segment), in turn. */
    bad = cases = 0;
    for (int round = 0; round < 600; round++) {
        static uint8_t lines[200000];
        static size_t cuts[200000];
        bool replies = round % 2;
        size_t n = random_lines(lines, sizeof lines, replies);

        random_cuts(cuts, n, round / 2);
        cases++;
        if (replies ? feed_replies(lines, n, cuts, true) != feed_replies(lines, n, cuts, false)
                    : feed_commands(lines, n, cuts, true) != feed_commands(lines, n, cuts, false))
            bad++;
    }
    T_CHECK(bad == 0, "command and reply lines: %lu of %lu streams read in place differ from "
            "copied", bad, cases);

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
            if ((naive_prefix(buf, n, words[w]) && !sc_word_first_may(buf[0], words[w])) ||
                sc_word_prefix(buf, n, words[w]) != naive_prefix(buf, n, words[w]) ||
                sc_word_is(buf, n, words[w]) != (n == wl && naive_prefix(buf, n, words[w]) == wl))
                bad++;
        }
    }
    T_CHECK(bad == 0, "sc_word_first_may, sc_word_prefix, sc_word_is: %lu of %lu words differ from strncasecmp",
            bad, cases);
    T_DONE();
}
