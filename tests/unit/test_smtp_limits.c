/*
 * test_smtp_limits.c - a session's memory does not grow with what it
 * reads: a 1 GiB line without a line feed ($LIMITS_LINE_MB MiB, 256 by
 * default under the sanitizers; tests/limits.sh runs the full size), a
 * million pipelined commands nobody answers, and 1000 transactions of 20
 * recipients (16 kept with 8 recipients each, all counted), fed to
 * sc_smtp; the process's peak RSS may not grow by more than a few MiB,
 * and the findings stay few.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "session/session.h"
#include "tap.h"

/* Under AddressSanitizer, freed blocks wait in a quarantine (256 MB by
 * default) before reuse, so a session that frees its line buffers at each
 * segment's end would look like it grows. A small quarantine keeps the
 * figure about the session. (Read by the sanitizer runtime at start-up;
 * ASAN_OPTIONS still overrides it.) */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=1";
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static unsigned nfind, nlines;
static void on_finding(sc_sink *k, const sc_session_info *si, const sc_finding *f)
{
    (void)k; (void)si; (void)f;
    nfind++;
}
static void on_line(sc_sink *k, const sc_session_info *si, const sc_line *l)
{
    (void)k; (void)si; (void)l;
    nlines++;
}

/* What the session's end tells of its transactions. */
static size_t end_ntxn, end_kept, end_ok, end_rcpt_ok;
static void on_end(sc_sink *k, const sc_session_info *si)
{
    (void)k;
    end_ntxn = si->ntxn;
    end_kept = si->ntxn_kept;
    end_ok = end_rcpt_ok = 0;
    for (size_t i = 0; i < si->ntxn_kept; i++) {
        const sc_txn *t = &si->txn[i];
        char want[32];
        int n = snprintf(want, sizeof want, "<s%zu@example.org>", i);
        if (t->result == SC_TXN_ACCEPTED && t->mail_from.len == (size_t)n &&
            memcmp(t->mail_from.p, want, (size_t)n) == 0 && t->reply.len >= 3 &&
            memcmp(t->reply.p, "250", 3) == 0 && t->content_bytes > 0)
            end_ok++;
        if (t->nrcpt == 20 && t->nrcpt_kept == 8 && t->rcpt_to[7].len == 16 &&
            memcmp(t->rcpt_to[7].p, "<r7@example.com>", 16) == 0)
            end_rcpt_ok++;
    }
}

static sc_smtp *limits_session(sc_config *cfg, sc_sink *sink)
{
    sc_conn conn = { .id = 1, .handshake_seen = true, .first_frame = 1 };
    conn.server.port = 25;
    sc_config_defaults(cfg);
    *sink = (sc_sink){ .finding = on_finding, .line = on_line, .session_end = on_end };
    return sc_smtp_new(cfg, &conn, sink, "limits");
}

static void limits_feed(sc_smtp *s, sc_dir d, const void *p, size_t n, uint64_t frame)
{
    sc_flow_event ev = { .kind = SC_FLOW_DATA, .dir = d, .data = p, .len = n, .frame = frame };
    sc_smtp_event(s, &ev);
}

static void limits_str(sc_smtp *s, sc_dir d, const char *str, uint64_t frame)
{
    limits_feed(s, d, str, strlen(str), frame);
}

static void limits_close(sc_smtp *s, uint64_t frame)
{
    sc_flow_event ev = { .kind = SC_FLOW_CLOSE, .end = SC_END_CAPTURE_END, .frame = frame };
    sc_smtp_event(s, &ev);
}

int main(void)
{
    sc_config cfg;
    sc_sink sink;
    static uint8_t chunk[1 << 16];
    const char *greet = "220 mx ESMTP\r\n";
    const char *ehlo = "250-mx\r\n250 PIPELINING\r\n";

    /* A long command line without a line feed. */
    const char *mb = getenv("LIMITS_LINE_MB");
    uint64_t line = (uint64_t)(mb ? atoi(mb) : 256) << 20;
    sc_smtp *s = limits_session(&cfg, &sink);
    long before = maxrss_kb();
    limits_feed(s, SC_DIR_S2C, greet, strlen(greet), 1);
    memset(chunk, 'a', sizeof chunk);
    for (uint64_t sent = 0; sent < line; sent += sizeof chunk)
        limits_feed(s, SC_DIR_C2S, chunk, sizeof chunk, 2);
    limits_feed(s, SC_DIR_C2S, "\r\n", 2, 3);
    limits_close(s, 4);
    sc_smtp_free(s);
    long grew = maxrss_kb() - before;
    T_CHECK(grew < 8 * 1024, "%llu MiB line: peak RSS grew %ld KiB (< 8 MiB)", (unsigned long long)(line >> 20), grew);
    T_CHECK(nfind >= 1 && nfind <= 3, "long line: %u findings (line-too-long, capture-truncated)", nfind);

    /* A million pipelined commands, never answered. */
    nfind = nlines = 0;
    s = limits_session(&cfg, &sink);
    before = maxrss_kb();
    limits_feed(s, SC_DIR_S2C, greet, strlen(greet), 1);
    limits_feed(s, SC_DIR_C2S, "EHLO c\r\n", 8, 2);
    limits_feed(s, SC_DIR_S2C, ehlo, strlen(ehlo), 3);
    size_t per = sizeof chunk / 6;
    for (size_t i = 0; i < per; i++)
        memcpy(chunk + i * 6, "RSET\r\n", 6);
    for (uint64_t n = 0; n < 1000000; n += per)
        limits_feed(s, SC_DIR_C2S, chunk, per * 6, 4);
    limits_close(s, 5);
    sc_smtp_free(s);
    grew = maxrss_kb() - before;
    T_CHECK(grew < 8 * 1024, "1e6 pipelined commands: peak RSS grew %ld KiB (< 8 MiB)", grew);
    T_CHECK(nfind <= 2, "1e6 pipelined commands: %u findings", nfind);
    T_CHECK(nlines >= 1000000, "1e6 pipelined commands: %u transcript lines streamed", nlines);

    /* 1000 transactions of 20 recipients each: the first 16 kept with 8
     * recipients, the rest counted, memory bounded. */
    nfind = 0;
    s = limits_session(&cfg, &sink);
    before = maxrss_kb();
    uint64_t fr = 1;
    limits_feed(s, SC_DIR_S2C, greet, strlen(greet), fr++);
    limits_str(s, SC_DIR_C2S, "EHLO c\r\n", fr++);
    limits_feed(s, SC_DIR_S2C, ehlo, strlen(ehlo), fr++);
    for (unsigned t = 0; t < 1000; t++) {
        char cmd[64];
        int n = snprintf(cmd, sizeof cmd, "MAIL FROM:<s%u@example.org>\r\n", t);
        limits_feed(s, SC_DIR_C2S, cmd, (size_t)n, fr++);
        limits_str(s, SC_DIR_S2C, "250 ok\r\n", fr++);
        for (unsigned r = 0; r < 20; r++) {
            n = snprintf(cmd, sizeof cmd, "RCPT TO:<r%u@example.com>\r\n", r);
            limits_feed(s, SC_DIR_C2S, cmd, (size_t)n, fr++);
            limits_str(s, SC_DIR_S2C, "250 ok\r\n", fr++);
        }
        limits_str(s, SC_DIR_C2S, "DATA\r\n", fr++);
        limits_str(s, SC_DIR_S2C, "354 go\r\n", fr++);
        limits_str(s, SC_DIR_C2S, "Subject: x\r\n\r\nbody\r\n.\r\n", fr++);
        limits_str(s, SC_DIR_S2C, "250 2.0.0 queued\r\n", fr++);
    }
    limits_str(s, SC_DIR_C2S, "QUIT\r\n", fr++);
    limits_str(s, SC_DIR_S2C, "221 bye\r\n", fr++);
    limits_close(s, fr);
    sc_smtp_free(s);
    grew = maxrss_kb() - before;
    T_CHECK(end_ntxn == 1000 && end_kept == 16, "1000 transactions: %zu counted, %zu kept (16)",
            end_ntxn, end_kept);
    T_CHECK(end_ok == 16, "the kept transactions: %zu of 16 with their sender, 250 and content", end_ok);
    T_CHECK(end_rcpt_ok == 16, "the kept transactions: %zu of 16 count 20 recipients, keep 8", end_rcpt_ok);
    T_CHECK(nfind <= 1, "1000 clean transactions: %u findings (capture end at most)", nfind);
    T_CHECK(grew < 4 * 1024, "1000 transactions: peak RSS grew %ld KiB (< 4 MiB)", grew);
    T_DONE();
}
