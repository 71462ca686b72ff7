/*
 * test_fastfmt.c - the writers' fast paths print what the general ones
 * print: the transcript line's frame and time (against snprintf's "%-6s
 * %-8s " and "%+.4f", ties and negative times included), RFC 3339 times
 * (against gmtime_r), the safe printers past their chunk size (against
 * the same bytes printed one at a time), and report blocks parked in RAM
 * or on disk (read back byte for byte, beyond the RAM budget).
 */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "outfix.h"
#include "common/safeprint.h"
#include "output/outfmt.h"
#include "output/spool.h"
#include "output/textblock.h"
#include "tap.h"

/* What sc_tb_format_line printed before its fast path. */
static void ref_line(const struct timeval *start, const sc_line *l, char *buf, size_t n)
{
    char tm[32], fr[32];

    snprintf(tm, sizeof tm, "%+.4f", sc_fmt_elapsed(start, &l->ts));
    snprintf(fr, sizeof fr, "#%llu", (unsigned long long)l->frame);
    snprintf(buf, n, "%-6s %-8s C> x", fr, tm);
}

static void check_lines(void)
{
    sc_tb_opts plain = { 0 };
    fx_session s;
    char got[16384], want[256];
    unsigned bad = 0, n = 0;

    fx_session_init(&s, 1);
    srand(7);
    for (long i = 0; i < 100000; i++) {
        long usec;
        switch (i % 5) {
        case 0: usec = rand() % 100000000; break;              /* 0-100 s */
        case 1: usec = (rand() % 2000000) * 100 + 50; break;   /* a tie in the 5th decimal */
        case 2: usec = -(rand() % 5000000); break;              /* before the start */
        case 3: usec = (long)rand() * 1000 + rand() % 1000; break;   /* days */
        default: usec = rand() % 1000; break;                   /* around zero */
        }
        sc_line l = fx_line(&s, (uint64_t)rand() % 20000000, 0, SC_DIR_C2S,
                            SC_LINE_COMMAND, "x", 1);
        l.ts.tv_sec = s.info.start.tv_sec + usec / 1000000;
        l.ts.tv_usec = usec % 1000000;
        if (l.ts.tv_usec < 0) {
            l.ts.tv_usec += 1000000;
            l.ts.tv_sec--;
        }
        sc_tb_format_line(&plain, &s.info.start, &l, got, sizeof got);
        ref_line(&s.info.start, &l, want, sizeof want);
        n++;
        if (strcmp(got, want) != 0 && bad++ < 5)
            printf("# line: [%s] printf: [%s]\n", got, want);
    }
    T_CHECK(bad == 0, "transcript line prefix as printf's on %u times (%u differ)", n, bad);
}

static void check_rfc3339(void)
{
    static const time_t edge[] = { 0, 59, 86399, 86400, 951782400, 951868800, 4107542400,
                                   253402300799, 253402300800, -1, -86401 };
    unsigned bad = 0, n = 0;

    srand(11);
    for (long i = 0; i < 100000 + (long)(sizeof edge / sizeof edge[0]); i++) {
        struct timeval tv = { 0, rand() % 1000000 };
        struct tm tm;
        char got[64], want[64];
        if (i < (long)(sizeof edge / sizeof edge[0]))
            tv.tv_sec = edge[i];
        else
            tv.tv_sec = (time_t)(((unsigned long)rand() << 8) % 253402300800ul);
        sc_fmt_rfc3339(&tv, got, sizeof got);
        if (!gmtime_r(&tv.tv_sec, &tm))
            continue;
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
        n++;
        if (strcmp(got, want) != 0 && bad++ < 5)
            printf("# rfc3339 %lld: [%s] gmtime: [%s]\n", (long long)tv.tv_sec, got, want);
    }
    T_CHECK(bad == 0, "RFC 3339 times as gmtime_r's on %u times (%u differ)", n, bad);
}

/* Printed whole and byte by byte: the same (bytes 0-127 and 0xFF, which
 * never start or continue a UTF-8 sequence), well past the chunk size. */
static void check_chunks(void)
{
    uint8_t in[5000];
    char *whole, *bytes;
    size_t nw, nb;

    for (size_t i = 0; i < sizeof in; i++)
        in[i] = i % 7 == 6 ? 0xFF : (uint8_t)((i * 37) % 128);
    for (int json = 0; json < 2; json++) {
        FILE *w = open_memstream(&whole, &nw), *b = open_memstream(&bytes, &nb);
        if (json) {
            sc_json_fputs(w, in, sizeof in);
            fputc('"', b);
            for (size_t i = 0; i < sizeof in; i++) {
                char *one;
                size_t n1;
                FILE *o = open_memstream(&one, &n1);
                sc_json_fputs(o, in + i, 1);
                fclose(o);
                fwrite(one + 1, 1, n1 - 2, b);      /* without its quotes */
                free(one);
            }
            fputc('"', b);
        } else {
            sc_safe_fputs(w, in, sizeof in);
            for (size_t i = 0; i < sizeof in; i++)
                sc_safe_fputs(b, in + i, 1);
        }
        fclose(w);
        fclose(b);
        T_CHECK(nw == nb && memcmp(whole, bytes, nw) == 0,
                "%s printer: 5000 bytes at once as byte by byte (%zu, %zu bytes)",
                json ? "JSON" : "text", nw, nb);
        free(whole);
        free(bytes);
    }
}

/* More parked blocks than the RAM budget holds: every one reads back. */
static void check_spool(void)
{
    enum { NCHAINS = 1500 };
    sc_spool *sp = sc_spool_new();
    sc_chain *c = calloc(NCHAINS, sizeof *c);
    char text[9000];
    unsigned bad = 0;

    T_CHECK(sp && c, "spool made");
    if (!sp || !c)
        return;
    for (unsigned i = 0; i < NCHAINS; i++) {
        size_t len = 1000 + (i * 7919) % 8000;     /* some spill while written */
        sc_chain_init(&c[i]);
        for (size_t k = 0; k < len; k++)
            text[k] = (char)('a' + (i + k) % 26);
        sc_chain_write(sp, &c[i], text, len);
        sc_chain_park(sp, &c[i]);
    }
    for (unsigned i = 0; i < NCHAINS; i++) {
        size_t len = 1000 + (i * 7919) % 8000, n;
        char *out;
        FILE *o = open_memstream(&out, &n);
        for (size_t k = 0; k < len; k++)
            text[k] = (char)('a' + (i + k) % 26);
        sc_chain_copy(sp, &c[i], o);
        fclose(o);
        if ((n != len || memcmp(out, text, len) != 0) && bad++ < 3)
            printf("# chain %u: %zu bytes back, %zu written\n", i, n, len);
        free(out);
        sc_chain_release(sp, &c[i]);
    }
    T_CHECK(bad == 0, "%d parked blocks (about 7 MB, past the RAM budget) read back (%u differ)",
            NCHAINS, bad);
    free(c);
    sc_spool_free(sp);
}

/* A block's text through f (memstream). */
static char *block_text(sc_tb_engine *e, sc_tb_block *b, size_t *n)
{
    char *out;
    FILE *o = open_memstream(&out, n);

    sc_tb_block_write(e, b, o);
    fclose(o);
    return out;
}

/* Blocks whose lines were held raw (sc_tb_block_defer) read as blocks
 * rendered line by line: runs of the same line, lines past the held
 * bound, past TB_TEXT_MAX, without text, findings between them, the head
 * and tail cut, every line style; a held block cut short to one line
 * drops them. */
static void check_defer(void)
{
    static const char *const pool[] = {
        "EHLO client.example", "250-PIPELINING", "500 5.5.1 unknown command",
        "RCPT TO:<a@example.com>", "", "\x1b[2J \u202e odd \xff bytes", "QUIT",
    };
    static const sc_tb_opts opts[] = {
        { 0 }, { .ladder = true }, { .color = true }, { .show_content = true, .redact = true },
        { .head_lines = 30, .tail_lines = 4 }, { .ladder = true, .color = true, .head_lines = 7,
                                                   .tail_lines = 3 },
    };
    static char big[5000];
    unsigned bad = 0, runs = 0;

    memset(big, 'y', sizeof big);
    big[100] = '\033';
    srand(13);
    for (int r = 0; r < 600; r++) {
        const sc_tb_opts *o = &opts[r % (sizeof opts / sizeof opts[0])];
        sc_tb_engine *e = sc_tb_engine_new(o);
        fx_session s;
        sc_tb_block *a, *b;
        int nlines = rand() % (r % 3 == 0 ? 400 : 40), brief = r % 7 == 3;

        fx_session_init(&s, (uint64_t)r + 1);
        a = sc_tb_block_new(e, &s.info);
        b = sc_tb_block_new(e, &s.info);
        sc_tb_block_defer(e, b);
        for (int i = 0; i < nlines; i++) {
            int k = rand() % 40;
            const void *text = k == 0 ? big : k == 1 ? NULL : pool[k % 7];
            size_t len = k == 0 ? sizeof big - (size_t)(rand() % 4000) : k == 1 ? 5
                       : strlen(pool[k % 7]);
            sc_line l = fx_line(&s, (uint64_t)(100 + i), i * 1234L, k & 2 ? SC_DIR_S2C : SC_DIR_C2S,
                                k % 5 == 0 ? SC_LINE_CONTENT : SC_LINE_COMMAND, text, len);
            if (rand() % 4 == 0)        /* runs of the same line */
                l.text = (const uint8_t *)pool[2], l.len = strlen(pool[2]), l.dir = SC_DIR_S2C,
                l.kind = SC_LINE_REPLY;
            sc_tb_block_line(e, a, &l);
            sc_tb_block_line(e, b, &l);
            if (!brief && rand() % 97 == 0) {
                sc_finding f = fx_finding(&s, "reply-lost", SC_SEV_ERROR, l.frame);
                snprintf(f.message, sizeof f.message, "finding after line %d", i);
                sc_tb_block_finding(e, a, &f);
                sc_tb_block_finding(e, b, &f);
            }
        }
        if (brief) {
            sc_tb_block_end_brief(e, a, &s.info, NULL);
            sc_tb_block_end_brief(e, b, &s.info, NULL);
        } else {
            sc_tb_block_end(e, a, &s.info);
            sc_tb_block_end(e, b, &s.info);
        }
        size_t na, nb;
        char *ta = block_text(e, a, &na), *tb = block_text(e, b, &nb);
        if ((na != nb || memcmp(ta, tb, na) != 0) && bad++ < 3)
            printf("# block %d (%d lines): %zu bytes rendered as they came, %zu held\n", r,
                   nlines, na, nb);
        runs++;
        free(ta);
        free(tb);
        sc_tb_block_free(e, a);
        sc_tb_block_free(e, b);
        sc_tb_engine_free(e);
    }
    T_CHECK(bad == 0, "%u blocks with held lines as rendered line by line (%u differ)", runs, bad);
}

int main(void)
{
    check_defer();
    check_lines();
    check_rfc3339();
    check_chunks();
    check_spool();
    T_DONE();
}
