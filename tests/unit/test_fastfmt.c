/*
 * test_fastfmt.c - the writers' fast paths print what the general ones
 * print: the transcript line's frame and time (against snprintf's "%-6s
 * %-8s " and "%+.4f", ties and negative times included), RFC 3339 times
 * (against gmtime_r), the safe printers past their chunk size (against
 * the same bytes printed one at a time), numbers with a fixed count of
 * decimals (against "%.Nf"), report blocks parked in RAM
 * or on disk (read back byte for byte, beyond the RAM budget), blocks
 * whose lines were held raw (against the same rendered line by line),
 * the block's text written by direct appends (one-line sessions,
 * findings, summaries, header fields, runs and cuts, frames named by
 * file: against printf's formats), numbers (sc_u64_put, two digits a
 * step: every value below 2 000 000, each power of two and of ten and
 * its neighbours, random values of every length, against "%" PRIu64),
 * and addresses (IPv4 written by hand, against inet_ntop and the
 * endpoint's former snprintf, buffers too small included).
 */
#include <arpa/inet.h>
#include <inttypes.h>
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

/* sc_fmt_fixed against snprintf's "%.Nf": the per-peer table's shares
 * (100 * w / s, every w <= s up to 400: ties like 12.25 included), and
 * random values, negative, huge and not numbers, with 0 to 4 decimals. */
static void check_fixed(void)
{
    unsigned bad = 0, n = 0;
    char got[SC_FMT_FIXED_MAX + 1], want[64];

    for (unsigned s = 1; s <= 400; s++)
        for (unsigned w = 0; w <= s; w++) {
            double d = 100.0 * (double)w / (double)s;
            *sc_fmt_fixed(got, d, 1, false) = '\0';
            snprintf(want, sizeof want, "%.1f", d);
            n++;
            if (strcmp(got, want) != 0 && bad++ < 5)
                printf("# %u/%u: [%s] printf: [%s]\n", w, s, got, want);
        }
    srand(17);
    for (unsigned i = 0; i < 200000; i++) {
        static const double edge[] = { 0.0, -0.0, 0.05, 0.15, 0.25, 2.5, 99.95, 1e11, 1e16,
                                       -1e16, 1e300, -0.00004, 0.00005 };
        unsigned dec = i % 5;
        bool plus = i & 1;
        double d = i < sizeof edge / sizeof edge[0] ? edge[i]
                 : ((double)rand() / RAND_MAX - 0.3) * pow(10, rand() % 14 - 4);
        if (i == sizeof edge / sizeof edge[0])
            d = NAN;
        *sc_fmt_fixed(got, d, dec, plus) = '\0';
        snprintf(want, SC_FMT_FIXED_MAX, plus ? "%+.*f" : "%.*f", (int)dec, d);
        n++;
        if (strcmp(got, want) != 0 && bad++ < 5)
            printf("# %.17g .%u: [%s] printf: [%s]\n", d, dec, got, want);
    }
    T_CHECK(bad == 0, "fixed-point numbers as printf's on %u values (%u differ)", n, bad);
}

static void check_rfc3339(void)
{
    static const time_t edge[] = { 0, 59, 86399, 86400, 951782400, 951868800, 4107542400,
                                   253402300799, 253402300800, -1, -86401 };
    unsigned bad = 0, n = 0;
    time_t last = 0;

    srand(11);
    for (long i = 0; i < 200000 + (long)(sizeof edge / sizeof edge[0]); i++) {
        struct timeval tv = { 0, rand() % 1000000 };
        struct tm tm;
        char got[64], want[64];
        if (i < (long)(sizeof edge / sizeof edge[0]))
            tv.tv_sec = edge[i];
        else if (i % 2)         /* a random day, or soon after the last time: its minute or day kept */
            tv.tv_sec = (time_t)(((unsigned long)rand() << 8) % 253402300800ul);
        else
            tv.tv_sec = (time_t)(((unsigned long)last + (unsigned long)(rand() % (i % 4 ? 7200 : 90))) %
                                 253402300800ul);
        last = tv.tv_sec;
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

/* What the address writers printed before their fast path. */
static const char *ref_addr(const sc_endpoint *ep, char *buf, size_t len)
{
    return inet_ntop(ep->family == AF_INET6 ? AF_INET6 : AF_INET, ep->addr, buf,
                     (socklen_t)len);
}

static void ref_endpoint(const sc_endpoint *ep, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN];

    if (!ref_addr(ep, a, sizeof a))
        snprintf(a, sizeof a, "?");
    if (ep->family == AF_INET6)
        snprintf(buf, len, "[%s]:%u", a, (unsigned)ep->port);
    else
        snprintf(buf, len, "%s:%u", a, (unsigned)ep->port);
}

/* One address through both writers, at its full size and cut short; 1
 * when anything differs. */
static int addr_differs(const sc_endpoint *ep)
{
    char got[64], want[64];
    int bad = 0;

    for (size_t len = 0; len <= sizeof got; len += len < 24 ? 1 : 40) {
        memset(got, 'x', sizeof got);
        memset(want, 'x', sizeof want);
        const char *g = sc_addr_str(ep, got, len), *w = ref_addr(ep, want, len);
        bad |= (g == NULL) != (w == NULL) || memcmp(got, want, sizeof got) != 0;
        memset(got, 'x', sizeof got);
        memset(want, 'x', sizeof want);
        sc_endpoint_str(ep, got, len);
        ref_endpoint(ep, want, len);
        bad |= memcmp(got, want, sizeof got) != 0;
    }
    if (bad) {
        ref_endpoint(ep, want, sizeof want);
        printf("# differs: %s\n", want);
    }
    return bad;
}

static void check_addresses(void)
{
    static const int families[] = { AF_INET, AF_INET6, 0 };
    sc_endpoint ep = { 0 };
    unsigned bad = 0, n = 0;

    ep.family = AF_INET;
    for (int pos = 0; pos < 4; pos++)       /* every byte value in every place */
        for (int v = 0; v < 256; v++, n++) {
            memset(ep.addr, pos % 2 ? 0 : 255, 4);
            ep.addr[pos] = (uint8_t)v;
            ep.port = (uint16_t)(v * 257);
            bad += (unsigned)addr_differs(&ep);
        }
    srand(5);
    for (long i = 0; i < 1000000; i++, n++) {
        ep.family = families[i % 3];        /* 0: not IPv6, written as IPv4 */
        for (size_t k = 0; k < sizeof ep.addr; k++)   /* runs of zeros for IPv6 */
            ep.addr[k] = ep.family == AF_INET6 && rand() % 3 ? 0 : (uint8_t)rand();
        ep.port = (uint16_t)rand();
        if (i % 50 == 0)
            bad += (unsigned)addr_differs(&ep);
        else {
            char got[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN];
            bad += strcmp(sc_addr_str(&ep, got, sizeof got), ref_addr(&ep, want, sizeof want)) != 0;
        }
    }
    T_CHECK(bad == 0, "addresses: %u IPv4 and IPv6, alone and with port, at every buffer "
            "size, as inet_ntop and snprintf (%u differ)", n, bad);
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
        if (!brief && r % 11 == 5) {    /* a finding before any line: nothing held */
            sc_finding f = fx_finding(&s, "reply-lost", SC_SEV_ERROR, 1);
            sc_tb_block_finding(e, a, &f);
            sc_tb_block_finding(e, b, &f);
        }
        for (int i = 0; i < nlines; i++) {
            int k = rand() % 40;
            const void *text = k == 0 ? big : k == 1 ? NULL : pool[k % 7];
            size_t len = k == 0 ? sizeof big - (size_t)(rand() % 4000) : k == 1 ? 5
                       : strlen(pool[k % 7]);
            sc_line l = fx_line(&s, (uint64_t)(100 + i), i * 1234L, k & 2 ? SC_DIR_S2C : SC_DIR_C2S,
                                k % 5 == 0 ? SC_LINE_CONTENT : SC_LINE_COMMAND, text, len);
            if (k == 3)                 /* before the start, a frame of a later file */
                l.ts.tv_sec -= 5 + rand() % 100000, l.frame |= (uint64_t)(rand() % 3) << 40;
            if (k == 4)                 /* long after the start */
                l.ts.tv_sec += (long)rand() * 1000, l.ts.tv_usec = 999999;
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

/* The one-line form as printf wrote it. */
static void ref_brief(const sc_session_info *info, char *buf, size_t len)
{
    char c[64], s[64], t[40];

    sc_endpoint_str(&info->client, c, sizeof c);
    sc_endpoint_str(&info->server, s, sizeof s);
    sc_fmt_rfc3339(&info->start, t, sizeof t);
    snprintf(buf, len, "session %" PRIu64 "  %s -> %s  start %s  %.4f s  %" PRIu64 " frames  "
             "no finding, %zu transaction%s\n", info->id, c, s, t,
             sc_fmt_elapsed(&info->start, &info->end), info->frames, info->ntxn,
             info->ntxn == 1 ? "" : "s");
}

/* The transaction summary as printf wrote it. */
static void ref_summary(const sc_session_info *info, FILE *o)
{
    char esc[2000 * 4 + 1];

    if (info->ntxn == 0 || !info->txn) {
        fprintf(o, "  transactions: none\n\n");
        return;
    }
    fprintf(o, "  transactions: %zu", info->ntxn);
    if (info->ntxn_kept < info->ntxn)
        fprintf(o, " (%zu shown)", info->ntxn_kept);
    fprintf(o, "\n");
    for (size_t i = 0; i < info->ntxn_kept; i++) {
        const sc_txn *x = &info->txn[i];
        sc_bytes a = sc_fmt_path_arg(x->mail_from);
        size_t shown = x->rcpt_to ? x->nrcpt_kept : 0;
        sc_safe_snprint(esc, sizeof esc, a.p, a.p ? (a.len < 2000 ? a.len : 2000) : 0);
        fprintf(o, "    %zu. MAIL FROM:%s\n", i + 1, esc);
        for (size_t r = 0; r < shown && r < 16; r++) {
            sc_bytes ra = sc_fmt_path_arg(x->rcpt_to[r]);
            sc_safe_snprint(esc, sizeof esc, ra.p, ra.p ? (ra.len < 2000 ? ra.len : 2000) : 0);
            fprintf(o, "       RCPT TO:%s\n", esc);
        }
        if (x->nrcpt > shown || shown > 16)
            fprintf(o, "       (%zu recipients, %zu shown)\n", x->nrcpt, shown < 16 ? shown : 16);
        sc_safe_snprint(esc, sizeof esc, x->reply.p,
                        x->reply.p ? (x->reply.len < 2000 ? x->reply.len : 2000) : 0);
        fprintf(o, "       -> %s, %" PRIu64 " content bytes%s%s\n",
                sc_fmt_txn_result(x->result), x->content_bytes, esc[0] ? ": " : "", esc);
    }
    fprintf(o, "\n");
}

/* A finding as printf wrote it. */
static void ref_finding(const sc_tb_opts *o, const sc_finding *f, char *buf, size_t len)
{
    static const char *const color[3] = { "\033[36m", "\033[33m", "\033[1;31m" };
    char msg[SC_MESSAGE_MAX * 4 + 1];
    unsigned sev = (unsigned)f->severity < 3 ? (unsigned)f->severity : SC_SEV_ERROR;

    sc_safe_snprint(msg, sizeof msg, (const uint8_t *)f->message,
                    strnlen(f->message, sizeof f->message));
    snprintf(buf, len, "       %s!! %s%s %s (%s): %s%s%s%s", o->color ? color[sev] : "",
             sc_severity_name(f->severity), o->color ? "\033[0m" : "",
             f->rule ? f->rule->name : "?", sc_side_name(f->side), msg,
             f->suppressed ? "" : " [", f->suppressed || !f->rule ? "" : f->rule->cite,
             f->suppressed ? "" : "]");
}

/* A duration in microseconds: ties in the fifth decimal, negative ones,
 * days, around zero. */
static long rand_usec(int i)
{
    switch (i % 5) {
    case 0: return rand() % 100000000;
    case 1: return (rand() % 2000000) * 100 + 50;
    case 2: return -(rand() % 5000000);
    case 3: return (long)rand() * 1000 + rand() % 1000;
    default: return rand() % 1000;
    }
}

static void set_after(struct timeval *tv, const struct timeval *from, long usec)
{
    tv->tv_sec = from->tv_sec + usec / 1000000;
    tv->tv_usec = from->tv_usec + usec % 1000000;
    if (tv->tv_usec < 0) {
        tv->tv_usec += 1000000;
        tv->tv_sec--;
    }
}

static bool has(const char *text, size_t n, const char *want)
{
    return memmem(text, n, want, strlen(want)) != NULL;
}

static void check_block_text(void)
{
    static uint8_t longarg[3000];
    sc_tb_opts plain = { 0 };
    sc_tb_engine *e = sc_tb_engine_new(&plain);
    unsigned bad_brief = 0, bad_sum = 0, bad_head = 0, n = 0;

    memset(longarg, 'a', sizeof longarg);
    longarg[7] = '\\';
    longarg[2500] = 0x1b;
    srand(17);
    for (int i = 0; i < 20000; i++) {
        fx_session s;
        sc_txn txn[3];
        sc_bytes rcpt[20];
        char want[1024], ref[128], *got, *sum;
        size_t ng, nsum;
        FILE *o;

        fx_session_init(&s, (uint64_t)rand() * (uint64_t)rand() + 1);
        s.info.start.tv_usec = rand() % 1000000;
        set_after(&s.info.end, &s.info.start, rand_usec(i));
        s.info.frames = (uint64_t)rand() * (i % 3 ? 1 : 100000);
        s.info.first_frame = (uint64_t)rand();
        s.info.last_frame = s.info.first_frame + (uint64_t)(rand() % 1000);
        s.info.findings[i % 3] = (uint64_t)(rand() % 3);
        s.info.reasm_dropped = i % 4 == 0 ? (uint64_t)rand() : 0;
        s.info.reasm_untaken = i % 5 == 0 ? (uint64_t)rand() : 0;
        /* transactions: none, one, or several with some not kept */
        s.info.ntxn = (size_t)(i % 4);
        s.info.ntxn_kept = s.info.ntxn > 2 ? 2 : s.info.ntxn;
        s.info.txn = s.info.ntxn ? txn : NULL;
        for (int r = 0; r < 20; r++)
            rcpt[r] = r % 5 == 4 ? (sc_bytes){ longarg, sizeof longarg } : fx_b("TO:<r@example.com>");
        for (size_t t = 0; t < 3; t++) {
            memset(&txn[t], 0, sizeof txn[t]);
            txn[t].mail_from = t == 1 ? (sc_bytes){ longarg, sizeof longarg - t } : fx_b("FROM:<>");
            txn[t].nrcpt = (size_t)(rand() % 25);
            txn[t].nrcpt_kept = txn[t].nrcpt < 20 ? txn[t].nrcpt : 20;
            txn[t].rcpt_to = i % 7 == 0 ? NULL : rcpt;
            txn[t].result = (sc_txn_result)(rand() % 4);
            txn[t].content_bytes = (uint64_t)rand() * (uint64_t)rand();
            txn[t].reply = i % 3 == 0 ? (sc_bytes){ NULL, 0 } : fx_b("250 ok \x01");
        }

        sc_tb_block *b = sc_tb_block_new(e, &s.info);
        sc_tb_block_end_brief(e, b, &s.info, NULL);
        got = block_text(e, b, &ng);
        ref_brief(&s.info, want, sizeof want);
        if ((ng != strlen(want) || memcmp(got, want, ng) != 0) && bad_brief++ < 3)
            printf("# brief: [%.*s] printf: [%s]\n", (int)ng, got, want);
        free(got);
        sc_tb_block_free(e, b);

        b = sc_tb_block_new(e, &s.info);
        sc_tb_block_end(e, b, &s.info);
        got = block_text(e, b, &ng);
        o = open_memstream(&sum, &nsum);
        ref_summary(&s.info, o);
        fclose(o);
        if ((ng < nsum || memcmp(got + ng - nsum, sum, nsum) != 0) && bad_sum++ < 3)
            printf("# summary of block %d differs from printf's\n", i);
        snprintf(ref, sizeof ref, "duration %.4f s", sc_fmt_elapsed(&s.info.start, &s.info.end));
        snprintf(want, sizeof want, "frames %" PRIu64 " (%s-%s)", s.info.frames,
                 sc_frame_name(s.info.first_frame), sc_frame_name(s.info.last_frame));
        bool ok = has(got, ng, ref) && has(got, ng, want);
        snprintf(want, sizeof want, "findings: %" PRIu64 " error, %" PRIu64 " warning, %"
                 PRIu64 " info", s.info.findings[SC_SEV_ERROR], s.info.findings[SC_SEV_WARNING],
                 s.info.findings[SC_SEV_INFO]);
        ok = ok && has(got, ng, want);
        snprintf(want, sizeof want, "dropped by reassembly: %" PRIu64 " bytes", s.info.reasm_dropped);
        ok = ok && has(got, ng, want) == (s.info.reasm_dropped != 0);
        snprintf(want, sizeof want, "not taken (a later copy replaced them): %" PRIu64 " bytes",
                 s.info.reasm_untaken);
        ok = ok && has(got, ng, want) == (s.info.reasm_untaken != 0);
        if (!ok && bad_head++ < 3)
            printf("# header of block %d: [%.*s] lacks printf's fields (%s)\n", i,
                   (int)(ng < 400 ? ng : 400), got, ref);
        free(sum);
        free(got);
        sc_tb_block_free(e, b);
        n++;
    }
    sc_tb_engine_free(e);
    T_CHECK(bad_brief == 0, "one-line sessions as printf's on %u sessions (%u differ)", n, bad_brief);
    T_CHECK(bad_sum == 0, "transaction summaries as printf's on %u sessions (%u differ)", n, bad_sum);
    T_CHECK(bad_head == 0, "header fields (duration, frames, counts) as printf's on %u sessions "
            "(%u differ)", n, bad_head);
}

static void check_findings(void)
{
    unsigned bad = 0, n = 0;

    srand(19);
    for (int i = 0; i < 20000; i++) {
        sc_tb_opts o = { .color = i % 2 == 1 };
        fx_session s;
        char got[4096], want[4096];
        size_t len = i % 5 == 0 ? (size_t)(1 + rand() % 120) : sizeof got;

        fx_session_init(&s, 1);
        sc_finding f = fx_finding(&s, sc_rules[(unsigned)i % SC_RULE_COUNT].name,
                                  (sc_severity)(i % 4), 7);
        f.side = (sc_side)(i % 5);
        f.suppressed = i % 3 == 0;
        if (i % 11 == 0)
            f.rule = NULL;
        for (size_t k = 0; k < sizeof f.message - 1; k++)
            f.message[k] = (char)(i % 13 == 0 ? 1 + rand() % 255 : ' ' + rand() % 95);
        f.message[i % 4 == 0 ? sizeof f.message - 1 : (size_t)(rand() % 80)] = '\0';
        size_t k = sc_tb_format_finding(&o, &f, got, len);
        ref_finding(&o, &f, want, len);
        n++;
        if ((k != strlen(want) || strcmp(got, want) != 0) && bad++ < 3)
            printf("# finding: [%s] printf: [%s]\n", got, want);
    }
    T_CHECK(bad == 0, "findings as printf's on %u findings, colour, cut short (%u differ)", n, bad);
}

/* Frames named by file: the line prefix, the count of a run and of the
 * lines left out. */
static void check_named(void)
{
    static const char *const paths[] = { "/tmp/x/first.pcap", "second-capture-file.pcap" };
    sc_tb_opts o = { .head_lines = 3, .tail_lines = 2 };
    sc_tb_engine *e = sc_tb_engine_new(&o);
    unsigned bad = 0, n = 0;

    sc_frame_names_set(paths, 2);
    srand(23);
    for (int i = 0; i < 2000; i++) {
        fx_session s;
        char got[16384], want[1024], tm[32];
        uint64_t fr = ((uint64_t)(i % 3) << SC_FRAME_FILE_SHIFT) | (uint64_t)rand();
        int nrep = 2 + i % 5, nmore = i % 4;

        fx_session_init(&s, 1);
        sc_line l = fx_line(&s, fr, 0, SC_DIR_C2S, SC_LINE_COMMAND, "x", 1);
        set_after(&l.ts, &s.info.start, rand_usec(i));
        sc_tb_format_line(&o, &s.info.start, &l, got, sizeof got);
        snprintf(tm, sizeof tm, "%+.4f", sc_fmt_elapsed(&s.info.start, &l.ts));
        snprintf(want, sizeof want, "%-6s %-8s C> x", sc_frame_name(fr), tm);
        bool ok = strcmp(got, want) == 0;

        /* a run: the line, then nrep - 1 repeats; then nmore lines more
         * than the head holds, left out and counted */
        sc_tb_block *b = sc_tb_block_new(e, &s.info);
        for (int r = 0; r < nrep; r++) {
            l.frame = fr + (uint64_t)r;
            sc_tb_block_line(e, b, &l);
        }
        for (int m = 0; m < 3 + nmore; m++) {
            sc_line x = fx_line(&s, fr + 100 + (uint64_t)m, 5, SC_DIR_S2C, SC_LINE_REPLY,
                                m % 2 ? "250 a" : "250 b", 5);
            sc_tb_block_line(e, b, &x);
        }
        sc_tb_block_end(e, b, &s.info);
        size_t ng;
        char *text = block_text(e, b, &ng);
        if (nrep > 2) {         /* (one repeat is shown as it is) */
            snprintf(want, sizeof want, "       ... the same line %d more times (%s-%s)\n",
                     nrep - 1, sc_frame_name(fr + 1), sc_frame_name(fr + (uint64_t)nrep - 1));
            ok = ok && has(text, ng, want);
        }
        if (nmore > 0) {
            /* head 3: the line, its run, one more; the tail keeps 2 */
            snprintf(want, sizeof want, "       ... %d lines not shown ...\n", 3 + nmore - 1 - 2);
            ok = ok && has(text, ng, want);
        }
        sc_tb_block_free(e, b);
        n++;
        if (!ok && bad++ < 3)
            printf("# named frames, case %d: [%s] [%s] in [%.*s]\n", i, got, want, (int)ng, text);
        free(text);
    }
    sc_frame_names_set(NULL, 0);
    sc_tb_engine_free(e);
    T_CHECK(bad == 0, "frames named by file (prefix, runs, lines left out) as printf's on %u "
            "cases (%u differ)", n, bad);
}

/* sc_safe_snprint, which copies runs of plain bytes at once, against
 * sc_safe_fputs: the same text, and cut to any buffer size, the longest
 * prefix that ends between two units (input of ASCII, controls,
 * backslashes, a valid two-byte character and invalid bytes, whose units
 * show in the output of the input's prefixes). */
static void check_snprint(void)
{
    static const uint8_t alphabet[] = { 'a', 'Z', ' ', '~', '\\', 0x01, 0x1b, 0x7f, 0xff,
                                        0xc3, 0xa9 };
    unsigned bad = 0, n = 0;

    srand(29);
    for (int r = 0; r < 300; r++) {
        uint8_t in[200];
        size_t len = (size_t)(rand() % (int)sizeof in), nfull, bounds[201 * 4], nb = 0;
        char *full, got[1024];

        for (size_t i = 0; i < len; i++) {
            if (i + 1 < len && rand() % 6 == 0) {       /* U+00E9 whole */
                in[i++] = 0xc3;
                in[i] = 0xa9;
            } else {
                in[i] = alphabet[rand() % (int)(sizeof alphabet)];
            }
        }
        FILE *o = open_memstream(&full, &nfull);
        sc_safe_fputs(o, in, len);
        fclose(o);
        for (size_t i = 0; i <= len; i++) {     /* where a unit ends */
            char *pre;
            size_t npre;
            o = open_memstream(&pre, &npre);
            sc_safe_fputs(o, in, i);
            fclose(o);
            if (npre <= nfull && memcmp(pre, full, npre) == 0)
                bounds[nb++] = npre;
            free(pre);
        }
        for (size_t size = 1; size <= nfull + 2; size++) {
            size_t k = sc_safe_snprint(got, size, in, len), want = 0;
            for (size_t b = 0; b < nb; b++)
                if (bounds[b] < size && bounds[b] > want)
                    want = bounds[b];
            n++;
            if ((k != want || strlen(got) != k || memcmp(got, full, k) != 0) && bad++ < 3)
                printf("# snprint of %zu bytes into %zu: %zu bytes, want %zu\n", len, size, k, want);
        }
        free(full);
    }
    T_CHECK(bad == 0, "sc_safe_snprint as sc_safe_fputs, cut to every size, on %u cases "
            "(%u differ)", n, bad);
}

/* One number against printf's; counts a difference in bad. */
static void u64_one(uint64_t v, unsigned *bad)
{
    char got[SC_U64_DIGITS + 1], want[32];
    char *e = sc_u64_put(got, v);

    *e = '\0';
    snprintf(want, sizeof want, "%" PRIu64, v);
    if (strcmp(got, want) != 0)
        (*bad)++;
}

static void check_u64(void)
{
    unsigned bad = 0, n = 0;
    uint64_t p10 = 1;

    for (uint64_t v = 0; v < 2000000; v++, n++)
        u64_one(v, &bad);
    for (int sh = 0; sh < 64; sh++)
        for (int d = -3; d <= 3; d++, n++)
            u64_one(((uint64_t)1 << sh) + (uint64_t)(int64_t)d, &bad);
    for (int k = 0; k < 20; k++, p10 *= 10)
        for (int d = -2; d <= 2; d++, n++)
            u64_one(p10 + (uint64_t)(int64_t)d, &bad);
    srand(5);
    for (int i = 0; i < 1000000; i++, n++) {
        uint64_t v = (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
        u64_one(v >> (i % 64), &bad);
    }
    u64_one(UINT64_MAX, &bad);
    T_CHECK(bad == 0, "sc_u64_put: %u numbers as printf writes them (%u differ)", n + 1, bad);
}

int main(void)
{
    check_u64();
    check_snprint();
    check_block_text();
    check_findings();
    check_named();
    check_defer();
    check_lines();
    check_rfc3339();
    check_fixed();
    check_chunks();
    check_spool();
    check_addresses();
    T_DONE();
}
