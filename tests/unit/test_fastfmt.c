/*
 * test_fastfmt.c - the writers' fast paths print what the general ones
 * print: the transcript line's frame and time (against snprintf's "%-6s
 * %-8s " and "%+.4f", ties and negative times included), RFC 3339 times
 * (against gmtime_r), the safe printers past their chunk size (against
 * the same bytes printed one at a time), report blocks parked in RAM
 * or on disk (read back byte for byte, beyond the RAM budget), and
 * addresses (IPv4 written by hand, against inet_ntop and the endpoint's
 * former snprintf, buffers too small included).
 */
#include <arpa/inet.h>
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

int main(void)
{
    check_lines();
    check_rfc3339();
    check_chunks();
    check_spool();
    check_addresses();
    T_DONE();
}
