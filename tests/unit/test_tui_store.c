/*
 * test_tui_store.c - the timeline's storage (src/tui/store.c) without a
 * terminal: interleaved sessions spilled and read back in order, findings
 * counted by severity (a count past --max-findings at its value), long
 * lines cut, the DATA-crossing flags of the
 * ladder, runs of identical lines folded into a counted entry, live refresh, and an index of 100 000 sessions.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "tap.h"
#include "tui/tui.h"
#include "tui/tui_store.h"

static sc_session_info mk_info(uint64_t id)
{
    sc_session_info si;

    memset(&si, 0, sizeof si);
    si.id = id;
    si.client.family = AF_INET;
    si.client.addr[0] = 127; si.client.addr[3] = 1;
    si.client.port = (uint16_t)(40000 + id % 20000);
    si.server.family = AF_INET;
    si.server.addr[0] = 127; si.server.addr[3] = 2;
    si.server.port = 25;
    si.start.tv_sec = 1000 + (time_t)id;
    return si;
}

static void put_line(sc_sink *k, const sc_session_info *si, uint64_t frame,
                     sc_dir dir, sc_line_kind kind, const char *text)
{
    sc_line ln;

    memset(&ln, 0, sizeof ln);
    ln.frame = frame;
    ln.ts.tv_sec = si->start.tv_sec;
    ln.ts.tv_usec = (suseconds_t)(frame * 1000);
    ln.dir = dir;
    ln.kind = kind;
    ln.text = (const uint8_t *)text;
    ln.len = strlen(text);
    k->line(k, si, &ln);
}

static void put_finding(sc_sink *k, const sc_session_info *si, uint64_t frame,
                        sc_rule_id rule, sc_severity sev, const char *msg)
{
    sc_finding f;

    memset(&f, 0, sizeof f);
    f.rule = &sc_rules[rule];
    f.side = SC_SIDE_SERVER;
    f.severity = sev;
    f.frame = frame;
    snprintf(f.message, sizeof f.message, "%s", msg);
    k->finding(k, si, &f);
}

static bool rec_is(tui_store *st, tui_tl *tl, size_t i, const char *text)
{
    tui_rec r;

    return tui_store_rec(st, tl, i, &r) == 0 && r.len == strlen(text) &&
           memcmp(r.text, text, r.len) == 0;
}

static void test_interleaved(void)
{
    sc_config cfg;
    sc_config_defaults(&cfg);
    sc_sink *k = sc_tui_sink_new(&cfg);
    tui_sink *t = k->priv;
    sc_session_info a = mk_info(7), b = mk_info(3);
    tui_tl tl = { .sess = SIZE_MAX };
    tui_rec r;
    char buf[64];

    k->session_begin(k, &a);
    k->session_begin(k, &b);
    /* 300 lines each, interleaved, so that both sessions span chunks. */
    for (int i = 0; i < 300; i++) {
        snprintf(buf, sizeof buf, "A line %d", i);
        put_line(k, &a, (uint64_t)(2 * i + 1), SC_DIR_C2S, SC_LINE_COMMAND, buf);
        snprintf(buf, sizeof buf, "250 B reply %d", i);
        put_line(k, &b, (uint64_t)(2 * i + 2), SC_DIR_S2C, SC_LINE_REPLY, buf);
    }
    put_finding(k, &b, 600, R_REPLY_LOST, SC_SEV_ERROR, "RCPT was never answered");
    put_finding(k, &b, 600, R_REPLY_LOST, SC_SEV_WARNING, "second");
    a.findings[SC_SEV_ERROR] = 0;
    k->session_end(k, &a);

    T_CHECK(t->st->nsess == 2, "store: two sessions indexed");
    size_t ia = tui_store_find(t->st, 0, 7), ib = tui_store_find(t->st, 0, 3);
    T_CHECK(ia != SIZE_MAX && ib != SIZE_MAX && ia != ib, "store: sessions found by id");
    T_CHECK(t->st->sess[ia].buf == NULL && t->st->sess[ia].state == TUI_SESS_CLOSED,
            "store: a closed session keeps no buffer");
    T_CHECK(t->st->sess[ib].buf != NULL, "store: an open session buffers its records");
    T_CHECK(t->st->sess[ib].findings[SC_SEV_ERROR] == 1 &&
            t->st->sess[ib].findings[SC_SEV_WARNING] == 1 &&
            t->st->sess[ia].findings[SC_SEV_ERROR] == 0, "store: findings counted by severity");

    T_CHECK(tui_store_load(t->st, &tl, ia) == 0 && tl.n == 300, "store: session A reads back 300 records (%zu)", tl.n);
    bool ok = true;
    for (int i = 0; i < 300 && ok; i++) {
        snprintf(buf, sizeof buf, "A line %d", i);
        ok = rec_is(t->st, &tl, (size_t)i, buf);
    }
    T_CHECK(ok, "store: session A lines in order, none of B's");
    T_CHECK(tui_store_load(t->st, &tl, ib) == 0 && tl.n == 302, "store: session B reads back 302 records (%zu)", tl.n);
    ok = true;
    for (int i = 0; i < 300 && ok; i++) {
        snprintf(buf, sizeof buf, "250 B reply %d", i);
        ok = rec_is(t->st, &tl, (size_t)i, buf) ;
    }
    T_CHECK(ok, "store: session B lines in order");
    T_CHECK(tui_store_rec(t->st, &tl, 300, &r) == 0 && r.type == TUI_REC_FINDING &&
            r.severity == SC_SEV_ERROR && r.rule == R_REPLY_LOST && r.frame == 600 &&
            r.len == strlen("RCPT was never answered"), "store: finding read back with rule, severity, frame");
    T_CHECK(tui_store_rec(t->st, &tl, 299, &r) == 0 && r.type == TUI_REC_LINE &&
            r.dir == SC_DIR_S2C && r.kind == SC_LINE_REPLY && r.frame == 600,
            "store: line read back with direction, kind, frame");
    T_CHECK(tui_store_rec(t->st, &tl, 302, &r) == -1, "store: reading past the end fails");

    /* Live: the session grows while it is displayed. */
    put_line(k, &b, 601, SC_DIR_C2S, SC_LINE_COMMAND, "QUIT");
    T_CHECK(tui_store_load(t->st, &tl, ib) == 0 && tl.n == 303 && rec_is(t->st, &tl, 302, "QUIT"),
            "store: a reload sees records added since");

    /* Records pointing at caller memory are copied. */
    char volatile_text[16] = "NOOP";
    put_line(k, &b, 602, SC_DIR_C2S, SC_LINE_COMMAND, volatile_text);
    memcpy(volatile_text, "XXXX", 4);
    T_CHECK(tui_store_load(t->st, &tl, ib) == 0 && rec_is(t->st, &tl, 303, "NOOP"),
            "store: the text is copied, not referenced");
    tui_tl_free(&tl);
    k->destroy(k);
}

/* Each capture file numbers its sessions from 1: session 1 of the second
 * file is another session. */
static void test_files(void)
{
    sc_config cfg;
    sc_config_defaults(&cfg);
    sc_sink *k = sc_tui_sink_new(&cfg);
    tui_sink *t = k->priv;
    sc_session_info a = mk_info(1), b = mk_info(1);
    tui_tl tl = { .sess = SIZE_MAX };
    char fa[] = "a.pcap", fb[] = "b.pcap";

    a.capture_file = fa;
    b.capture_file = fb;
    put_line(k, &a, 1, SC_DIR_C2S, SC_LINE_COMMAND, "from a");
    k->session_end(k, &a);
    put_line(k, &b, 1, SC_DIR_C2S, SC_LINE_COMMAND, "from b");
    k->session_end(k, &b);
    size_t ia = tui_store_find(t->st, 0, 1), ib = tui_store_find(t->st, 1, 1);
    T_CHECK(t->st->nsess == 2 && ia != SIZE_MAX && ib != SIZE_MAX && ia != ib,
            "files: session 1 of two files kept apart");
    T_CHECK(tui_store_load(t->st, &tl, ib) == 0 && tl.n == 1 && rec_is(t->st, &tl, 0, "from b"),
            "files: each keeps its own lines");
    T_CHECK(strcmp(tui_store_file_name(t->st, t->st->sess[ib].file), "b.pcap") == 0,
            "files: the file name is kept");
    tui_tl_free(&tl);
    k->destroy(k);
}

/* Several files read as one capture: ids are unique in the run, so the
 * sessions are one list whatever file each began in (no "file:id"). */
static void test_files_merged(void)
{
    sc_config cfg;
    char f1[] = "c.pcap", f2[] = "c.pcap1";
    const char *files[] = { f1, f2, NULL };
    sc_config_defaults(&cfg);
    cfg.files = files;
    cfg.nfiles = 2;
    cfg.merged = true;
    sc_sink *k = sc_tui_sink_new(&cfg);
    tui_sink *t = k->priv;
    sc_session_info a = mk_info(1), b = mk_info(2);

    a.capture_file = f1;
    b.capture_file = f2;
    put_line(k, &a, 1, SC_DIR_C2S, SC_LINE_COMMAND, "in c.pcap");
    put_line(k, &b, 2, SC_DIR_C2S, SC_LINE_COMMAND, "in c.pcap1");
    k->session_end(k, &a);
    k->session_end(k, &b);
    T_CHECK(t->st->nsess == 2 && t->st->nfiles <= 1 && tui_store_find(t->st, 0, 1) != SIZE_MAX &&
            tui_store_find(t->st, 0, 2) != SIZE_MAX,
            "files: one capture of two files: one list of sessions by id");
    k->destroy(k);
}

/* With the files of -r registered, file numbers are -r positions (a file
 * without sessions keeps its number) and a file given twice is two files. */
static void test_files_args(void)
{
    sc_config cfg;
    char f1[] = "a.pcap", f2[] = "empty.pcap", f3[] = "a.pcap";
    const char *files[] = { f1, f2, f3, NULL };
    sc_config_defaults(&cfg);
    cfg.files = files;
    cfg.nfiles = 3;
    sc_sink *k = sc_tui_sink_new(&cfg);
    tui_sink *t = k->priv;
    sc_session_info a = mk_info(1), c = mk_info(1);

    a.capture_file = f1;
    c.capture_file = f3;
    put_line(k, &a, 1, SC_DIR_C2S, SC_LINE_COMMAND, "first a");
    k->session_end(k, &a);
    put_line(k, &c, 1, SC_DIR_C2S, SC_LINE_COMMAND, "second a");
    k->session_end(k, &c);
    size_t i1 = tui_store_find(t->st, 0, 1), i3 = tui_store_find(t->st, 2, 1);
    T_CHECK(t->st->nfiles == 3 && i1 != SIZE_MAX && i3 != SIZE_MAX && i1 != i3 &&
            tui_store_find(t->st, 1, 1) == SIZE_MAX,
            "files: numbered by -r position, the same name twice kept apart");
    T_CHECK(i3 != SIZE_MAX && tui_store_file_arg(t->st, t->st->sess[i3].file) == f3,
            "files: the -r string of the third file handed back");
    k->destroy(k);
}

static void test_long_lines(void)
{
    sc_config cfg;
    sc_config_defaults(&cfg);
    sc_sink *k = sc_tui_sink_new(&cfg);
    tui_sink *t = k->priv;
    sc_session_info a = mk_info(1);
    tui_tl tl = { .sess = SIZE_MAX };
    tui_rec r;
    size_t big = TUI_TEXT_MAX + 5000, mid = TUI_CHUNK_MAX + 100;
    char *s = malloc(big + 1);

    memset(s, 'x', big);
    s[big] = 0;
    put_line(k, &a, 4, SC_DIR_C2S, SC_LINE_UNPARSED, s);
    s[mid] = 0;
    put_line(k, &a, 5, SC_DIR_C2S, SC_LINE_UNPARSED, s);
    put_line(k, &a, 6, SC_DIR_S2C, SC_LINE_REPLY, "500 too long");
    /* A line with every byte value: stored raw, escaped only when shown. */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    sc_line ln = { .frame = 7, .dir = SC_DIR_C2S, .kind = SC_LINE_UNPARSED, .text = all, .len = 256 };
    k->line(k, &a, &ln);
    k->session_end(k, &a);
    T_CHECK(tui_store_load(t->st, &tl, 0) == 0 && tl.n == 4, "store: long lines stored (%zu records)", tl.n);
    T_CHECK(tui_store_rec(t->st, &tl, 0, &r) == 0 && r.len == TUI_TEXT_MAX &&
            (r.flags & TUI_F_TRUNCATED), "store: a line beyond %u bytes is cut and flagged", TUI_TEXT_MAX);
    T_CHECK(tui_store_rec(t->st, &tl, 1, &r) == 0 && r.len == mid && !(r.flags & TUI_F_TRUNCATED),
            "store: a line larger than a chunk is kept whole");
    T_CHECK(rec_is(t->st, &tl, 2, "500 too long"), "store: the line after them is intact");
    T_CHECK(tui_store_rec(t->st, &tl, 3, &r) == 0 && r.len == 256 && memcmp(r.text, all, 256) == 0,
            "store: arbitrary bytes kept as they were");
    free(s);
    tui_tl_free(&tl);
    k->destroy(k);
}

/* The ladder's DATA flags: seed 004, a 552 and a FIN while the client is
 * still sending content. */
static void test_data_crossing(void)
{
    sc_config cfg;
    sc_config_defaults(&cfg);
    sc_sink *k = sc_tui_sink_new(&cfg);
    tui_sink *t = k->priv;
    sc_session_info a = mk_info(4);
    tui_tl tl = { .sess = SIZE_MAX };
    static const struct { sc_dir d; sc_line_kind k; const char *t; uint8_t want; } seq[] = {
        { SC_DIR_C2S, SC_LINE_COMMAND, "MAIL FROM:<a@example.com>", 0 },
        { SC_DIR_S2C, SC_LINE_REPLY, "250 ok", 0 },
        { SC_DIR_C2S, SC_LINE_COMMAND, "data", 0 },
        { SC_DIR_S2C, SC_LINE_REPLY, "354 go ahead", 0 },
        { SC_DIR_C2S, SC_LINE_CONTENT, "Subject: hi", TUI_F_IN_DATA },
        { SC_DIR_S2C, SC_LINE_REPLY, "552 5.3.4 message too big", TUI_F_IN_DATA | TUI_F_CROSSES },
        { SC_DIR_S2C, SC_LINE_EVENT, "[FIN]", TUI_F_IN_DATA | TUI_F_CROSSES },
        { SC_DIR_C2S, SC_LINE_CONTENT, "more content", TUI_F_IN_DATA },
        { SC_DIR_C2S, SC_LINE_CONTENT, "[message content: 2 lines, 40 bytes]", TUI_F_IN_DATA },
        { SC_DIR_C2S, SC_LINE_COMMAND, ".", TUI_F_IN_DATA },
        { SC_DIR_S2C, SC_LINE_REPLY, "250 queued", 0 },
        { SC_DIR_C2S, SC_LINE_COMMAND, "DATA", 0 },
        { SC_DIR_S2C, SC_LINE_REPLY, "554 no valid recipients", 0 },
        { SC_DIR_C2S, SC_LINE_COMMAND, "QUIT", 0 },
        { SC_DIR_S2C, SC_LINE_REPLY, "221 bye", 0 },
    };
    size_t n = sizeof seq / sizeof seq[0];

    for (size_t i = 0; i < n; i++)
        put_line(k, &a, 4 + i, seq[i].d, seq[i].k, seq[i].t);
    T_CHECK(tui_store_load(t->st, &tl, 0) == 0 && tl.n == n, "ladder flags: session loaded");
    for (size_t i = 0; i < n && i < tl.n; i++) {
        tui_rec r;
        T_CHECK(tui_store_rec(t->st, &tl, i, &r) == 0 &&
                (r.flags & (TUI_F_IN_DATA | TUI_F_CROSSES)) == seq[i].want,
                "ladder flags: \"%s\" -> %u", seq[i].t, seq[i].want);
    }
    tui_tl_free(&tl);
    k->destroy(k);
}

/* A run of identical lines: its first line, then one entry counting the
 * repeats with their frames; a finding ends a run, message content and a
 * line of the other direction are never folded, one repeat stays a line. */
static void test_runs(void)
{
    sc_config cfg;
    sc_config_defaults(&cfg);
    sc_sink *k = sc_tui_sink_new(&cfg);
    tui_sink *t = k->priv;
    sc_session_info a = mk_info(5);
    tui_tl tl = { .sess = SIZE_MAX };
    tui_rec r;
    uint64_t f = 1;

    put_line(k, &a, f++, SC_DIR_C2S, SC_LINE_COMMAND, "FOO");
    for (int i = 0; i < 10; i++)                                  /* frames 2-11 */
        put_line(k, &a, f++, SC_DIR_S2C, SC_LINE_REPLY, "500 unknown");
    put_finding(k, &a, f - 1, R_REPLY_LOST, SC_SEV_ERROR, "rests on the last 500");
    put_line(k, &a, f++, SC_DIR_S2C, SC_LINE_REPLY, "500 unknown");    /* 12 */
    put_line(k, &a, f++, SC_DIR_S2C, SC_LINE_REPLY, "500 unknown");    /* 13 */
    put_line(k, &a, f++, SC_DIR_C2S, SC_LINE_REPLY, "500 unknown");    /* 14 */
    for (int i = 0; i < 3; i++)                                   /* 15-17 */
        put_line(k, &a, f++, SC_DIR_C2S, SC_LINE_CONTENT, "same content");
    put_line(k, &a, f++, SC_DIR_C2S, SC_LINE_COMMAND, "QUIT");         /* 18 */
    T_CHECK(tui_store_load(t->st, &tl, 0) == 0 && tl.n == 11,
            "runs: 18 lines and a finding load as 11 entries (%zu)", tl.n);
    T_CHECK(rec_is(t->st, &tl, 1, "500 unknown") && tui_store_rec(t->st, &tl, 1, &r) == 0 &&
            r.frame == 2 && !(r.flags & TUI_F_RUN), "runs: the run's first line as it is");
    T_CHECK(tui_store_rec(t->st, &tl, 2, &r) == 0 && (r.flags & TUI_F_RUN) &&
            r.run_count == 9 && r.run_first == 3 && r.run_last == 11,
            "runs: then 9 repeats counted, frames 3-11 (%llu, %llu-%llu)",
            (unsigned long long)r.run_count, (unsigned long long)r.run_first,
            (unsigned long long)r.run_last);
    T_CHECK(tui_store_rec(t->st, &tl, 3, &r) == 0 && r.type == TUI_REC_FINDING && r.frame == 11,
            "runs: the finding keeps its frame and ends the run");
    T_CHECK(tui_store_rec(t->st, &tl, 5, &r) == 0 && (r.flags & TUI_F_RUN) && r.run_count == 1 &&
            r.frame == 13 && rec_is(t->st, &tl, 5, "500 unknown"),
            "runs: one repeat is an entry of its own line");
    T_CHECK(rec_is(t->st, &tl, 6, "500 unknown") && tui_store_rec(t->st, &tl, 6, &r) == 0 &&
            r.dir == SC_DIR_C2S && !(r.flags & TUI_F_RUN), "runs: the other direction is not folded");
    T_CHECK(rec_is(t->st, &tl, 9, "same content") && rec_is(t->st, &tl, 10, "QUIT"),
            "runs: message content is never folded");
    tui_tl_free(&tl);
    k->destroy(k);
}

static void test_many_sessions(void)
{
    sc_config cfg;
    sc_config_defaults(&cfg);
    sc_sink *k = sc_tui_sink_new(&cfg);
    tui_sink *t = k->priv;
    tui_tl tl = { .sess = SIZE_MAX };
    char buf[64];
    const uint64_t N = 100000;
    clock_t c0 = clock();

    for (uint64_t id = 1; id <= N; id++) {
        sc_session_info si = mk_info(id);
        k->session_begin(k, &si);
        put_line(k, &si, 1, SC_DIR_S2C, SC_LINE_REPLY, "220 mx ESMTP");
        snprintf(buf, sizeof buf, "HELO host%llu", (unsigned long long)id);
        put_line(k, &si, 2, SC_DIR_C2S, SC_LINE_COMMAND, buf);
        if (id % 1000 == 0)
            put_finding(k, &si, 2, R_REPLY_LOST, SC_SEV_ERROR, "lost");
        k->session_end(k, &si);
    }
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
    size_t open_bufs = 0;
    for (size_t i = 0; i < t->st->nsess; i++)
        open_bufs += t->st->sess[i].buf != NULL;
    T_CHECK(t->st->nsess == N && open_bufs == 0, "many: %llu sessions indexed, no buffer left (%.2fs)",
            (unsigned long long)N, secs);
    T_CHECK(t->st->findings[SC_SEV_ERROR] == N / 1000, "many: findings totalled");
    size_t i = tui_store_find(t->st, 0, 54321);
    snprintf(buf, sizeof buf, "HELO host%d", 54321);
    T_CHECK(i != SIZE_MAX && tui_store_load(t->st, &tl, i) == 0 && tl.n == 2 &&
            rec_is(t->st, &tl, 1, buf), "many: session 54321 reads back its own lines");
    T_CHECK(tui_store_find(t->st, 0, N + 1) == SIZE_MAX, "many: unknown id not found");
    T_CHECK(sizeof(tui_sess) <= 160, "many: index entry is compact (%zu bytes)", sizeof(tui_sess));
    tui_tl_free(&tl);
    k->destroy(k);
}

/* The count of findings past --max-findings: one record, flagged, that
 * the session's counts take at its value. */
static void test_suppressed(void)
{
    sc_config cfg;
    sc_config_defaults(&cfg);
    sc_sink *k = sc_tui_sink_new(&cfg);
    tui_sink *t = k->priv;
    sc_session_info a = mk_info(5);
    tui_tl tl = { .sess = SIZE_MAX };
    tui_rec r;
    sc_finding f;

    k->session_begin(k, &a);
    put_line(k, &a, 7, SC_DIR_C2S, SC_LINE_COMMAND, "NOOP");
    put_finding(k, &a, 7, R_PIPELINING_NOT_LAST, SC_SEV_WARNING, "one by one");
    memset(&f, 0, sizeof f);
    f.rule = &sc_rules[R_PIPELINING_NOT_LAST];
    f.side = SC_SIDE_CLIENT;
    f.severity = SC_SEV_WARNING;
    f.frame = 4156;
    f.suppressed = 999989;
    f.suppressed_first = 7;
    snprintf(f.message, sizeof f.message, "and 999989 more in this session (frames #7-#4156), not shown");
    k->finding(k, &a, &f);
    k->session_end(k, &a);

    size_t ia = tui_store_find(t->st, 0, 5);
    T_CHECK(ia != SIZE_MAX && t->st->sess[ia].findings[SC_SEV_WARNING] == 999990 &&
            t->st->findings[SC_SEV_WARNING] == 999990, "suppressed: counted at its value");
    T_CHECK(tui_store_load(t->st, &tl, ia) == 0 && tl.n == 3 &&
            tui_store_rec(t->st, &tl, 1, &r) == 0 && !(r.flags & TUI_F_MORE) &&
            tui_store_rec(t->st, &tl, 2, &r) == 0 && r.type == TUI_REC_FINDING &&
            (r.flags & TUI_F_MORE) && r.frame == 4156 && r.rule == R_PIPELINING_NOT_LAST,
            "suppressed: read back as one finding record, flagged");
    tui_tl_free(&tl);
    k->destroy(k);
}

int main(void)
{
    test_interleaved();
    test_suppressed();
    test_files();
    test_files_args();
    test_files_merged();
    test_long_lines();
    test_data_crossing();
    test_runs();
    test_many_sessions();
    T_DONE();
}
