/*
 * test_text.c - the text report: the transcript line, finding and ladder
 * formats (golden strings), blocks in order of session start whatever the
 * order of ends, --only-findings, --session, colour on/off, escaping of
 * wire bytes, long transcripts elided around findings, spill to disk.
 */
#include "outfix.h"
#include "common/safeprint.h"
#include "tap.h"
#include "output/textblock.h"

static void run_session(sc_sink *k, fx_session *s, int with_finding)
{
    fx_send_line(k, s, s->info.id * 100 + 4, 210400, SC_DIR_C2S, SC_LINE_COMMAND,
                 "RCPT TO:<recipient@example.com>");
    if (with_finding)
        fx_send_finding(k, s, "reply-lost", SC_SEV_ERROR, s->info.id * 100 + 4, "never answered");
}

int main(void)
{
    sc_tb_opts plain = { 0 }, ladder = { .ladder = true };
    fx_session s1, s2, s3;
    char buf[16384];
    sc_config cfg;

    /* Golden: the transcript line and the finding line of docs/interface.md. */
    fx_session_init(&s1, 1);
    sc_line l = fx_line(&s1, 22, 210400, SC_DIR_C2S, SC_LINE_COMMAND,
                        "RCPT TO:<recipient@example.com>", 31);
    sc_tb_format_line(&plain, &s1.info.start, &l, buf, sizeof buf);
    T_CHECK(strcmp(buf, "#22    +0.2104  C> RCPT TO:<recipient@example.com>") == 0,
            "line format: [%s]", buf);
    l = fx_line(&s1, 24, 300100, SC_DIR_S2C, SC_LINE_REPLY, "250 2.1.0 Sender OK", 19);
    sc_tb_format_line(&plain, &s1.info.start, &l, buf, sizeof buf);
    T_CHECK(strcmp(buf, "#24    +0.3001  S> 250 2.1.0 Sender OK") == 0, "reply format: [%s]", buf);
    l = fx_line(&s1, 123456, 12345678, SC_DIR_S2C, SC_LINE_EVENT, "[FIN]", 5);
    sc_tb_format_line(&plain, &s1.info.start, &l, buf, sizeof buf);
    T_CHECK(strcmp(buf, "#123456 +12.3457 S> [FIN]") == 0, "wide frame and time: [%s]", buf);

    sc_finding f;
    memset(&f, 0, sizeof f);
    f.rule = sc_rule_by_name("reply-lost");
    f.side = SC_SIDE_SERVER;
    f.severity = SC_SEV_ERROR;
    snprintf(f.message, sizeof f.message, "RCPT TO:<recipient@example.com> (#22) was never answered");
    sc_tb_format_finding(&plain, &f, buf, sizeof buf);
    T_CHECK(strcmp(buf, "       !! error reply-lost (server): RCPT TO:<recipient@example.com> (#22)"
                   " was never answered [RFC 2920 \xc2\xa7" "3.2 (1)]") == 0, "finding format: [%s]", buf);
    snprintf(f.message, sizeof f.message, "bad \x1b[2J line");
    sc_tb_format_finding(&plain, &f, buf, sizeof buf);
    T_CHECK(strstr(buf, "bad \\x1b[2J line") && !strchr(buf, 0x1b), "finding message escaped");
    /* The count past --max-findings: no citation (the findings above have it). */
    f.suppressed = 19;
    f.suppressed_first = 18;
    snprintf(f.message, sizeof f.message, "and 19 more in this session (frames #18-#36), not shown");
    sc_tb_format_finding(&plain, &f, buf, sizeof buf);
    T_CHECK(strcmp(buf, "       !! error reply-lost (server): and 19 more in this session "
                   "(frames #18-#36), not shown") == 0, "suppressed count format: [%s]", buf);
    f.suppressed = 0;

    /* Golden: the ladder. */
    l = fx_line(&s1, 30, 500000, SC_DIR_C2S, SC_LINE_CONTENT, "Subject: test", 13);
    sc_tb_format_line(&ladder, &s1.info.start, &l, buf, sizeof buf);
    T_CHECK(strcmp(buf, "#30    +0.5000  Subject: test                               "
                   " \u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500>") == 0,
            "ladder client line: [%s]", buf);
    l = fx_line(&s1, 31, 510000, SC_DIR_S2C, SC_LINE_REPLY, "552 5.3.4 too big", 17);
    sc_tb_format_line(&ladder, &s1.info.start, &l, buf, sizeof buf);
    T_CHECK(strcmp(buf, "#31    +0.5100                                              "
                   " <\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500  552 5.3.4 too big") == 0,
            "ladder server line: [%s]", buf);

    /* Escaping and cut of a long line. */
    uint8_t raw[5000];
    memset(raw, 'a', sizeof raw);
    raw[0] = 0x1b; raw[1] = 0x9b; raw[2] = 0x07;
    l = fx_line(&s1, 40, 0, SC_DIR_C2S, SC_LINE_UNPARSED, raw, sizeof raw);
    sc_tb_format_line(&plain, &s1.info.start, &l, buf, sizeof buf);
    T_CHECK(strncmp(buf + 16, "C> \\x1b\\x9b\\x07aaa", 18) == 0 && !strchr(buf, 0x1b) &&
            strstr(buf, " [... 3000 more bytes]"), "escape and cut of a long line");

    /* Redacted content lines under --show-content: X with CR/LF kept. */
    sc_tb_opts red = { .redact = true, .show_content = true };
    l = fx_line(&s1, 41, 0, SC_DIR_C2S, SC_LINE_CONTENT, "secret\r", 7);
    sc_tb_format_line(&red, &s1.info.start, &l, buf, sizeof buf);
    T_CHECK(strstr(buf, "C> XXXXXX\\x0d") && !strstr(buf, "secret"), "redact: content masked");

    /* Sink: three sessions ending 3, 1, 2 come out 1, 2, 3. */
    sc_config_defaults(&cfg);
    cfg.color = 0;
    FILE *out = tmpfile();
    sc_sink *k = sc_text_sink_new(&cfg, out);
    fx_session_init(&s1, 1); fx_session_init(&s2, 2); fx_session_init(&s3, 3);
    k->session_begin(k, &s1.info);
    k->session_begin(k, &s2.info);
    run_session(k, &s2, 1);
    k->session_begin(k, &s3.info);
    run_session(k, &s1, 0);
    run_session(k, &s3, 0);
    k->session_end(k, &s3.info);
    char *txt = fx_slurp(out, NULL);
    T_CHECK(txt[0] == '\0', "nothing printed while the first session runs");
    free(txt);
    k->session_end(k, &s1.info);
    txt = fx_slurp(out, NULL);
    T_CHECK(strstr(txt, "session 1 ") && !strstr(txt, "session 3 "),
            "session 1 printed at its end, 3 still waits for 2");
    free(txt);
    k->session_end(k, &s2.info);
    sc_totals tot = { .files = 1, .packets = 60, .bytes = 6000, .sessions = 3 };
    tot.by_rule[sc_rule_by_name("reply-lost")->id] = 1;
    tot.by_severity[SC_SEV_ERROR] = 1;
    k->finish(k, &tot);
    size_t tlen;
    txt = fx_slurp(out, &tlen);
    char *p1 = strstr(txt, "session 1 "), *p2 = strstr(txt, "session 2 "), *p3 = strstr(txt, "session 3 ");
    T_CHECK(p1 && p2 && p3 && p1 < p2 && p2 < p3, "blocks in order of session start");
    T_CHECK(strstr(txt, "session 2  192.0.2.2:40002 -> 198.51.100.25:25\n"
                   "  start 2024-01-02T03:04:07.000000Z  duration 1.5000 s  frames 21 (#200-#220)\n"
                   "  closed: client fin after quit  tls: no  findings: 1 error, 0 warning, 0 info\n"
                   "  extensions: PIPELINING, SIZE 10240000, 8BITMIME\n"),
            "header folded to 80 columns");
    T_CHECK(strstr(txt, "#204   +0.2104  C> RCPT TO:<recipient@example.com>\n"
                   "       !! error reply-lost (server): never answered [RFC 2920 \xc2\xa7" "3.2 (1)]\n"),
            "finding right below its line");
    T_CHECK(strstr(txt, "  transactions: 1\n    1. MAIL FROM:<sender@example.org> SIZE=1000\n"
                   "       RCPT TO:<rcpt1@example.com>\n       RCPT TO:<rcpt2@example.com>\n"
                   "       (3 recipients, 2 shown)\n"
                   "       -> accepted, 2113 content bytes: 250 2.0.0 Ok: queued as 4Tq\n"),
            "transaction summary");
    T_CHECK(strstr(txt, "totals: 1 file, 60 packets, 6000 bytes, 3 sessions (3 shown), 0 dropped\n"
                   "findings: 1 (1 error, 0 warning, 0 info)\n") &&
            strstr(txt, "  reply-lost                 server         1  RFC 2920"), "totals table");
    T_CHECK(!memchr(txt, 0x1b, tlen), "no colour when color=0");
    free(txt);
    k->destroy(k);
    fclose(out);

    /* --only-findings and --session. */
    cfg.only_findings = true;
    out = tmpfile();
    k = sc_text_sink_new(&cfg, out);
    fx_session_init(&s1, 1); fx_session_init(&s2, 2);
    k->session_begin(k, &s1.info); k->session_begin(k, &s2.info);
    run_session(k, &s1, 0); run_session(k, &s2, 1);
    k->session_end(k, &s2.info); k->session_end(k, &s1.info);
    memset(&tot, 0, sizeof tot);
    k->finish(k, &tot);
    txt = fx_slurp(out, NULL);
    T_CHECK(!strstr(txt, "session 1 ") && strstr(txt, "session 2 "), "--only-findings");
    T_CHECK(strstr(txt, "findings: none\n") != NULL, "totals with no finding");
    free(txt);
    k->destroy(k);
    fclose(out);
    cfg.only_findings = false;
    cfg.only_session = 2;
    cfg.color = 1;
    out = tmpfile();
    k = sc_text_sink_new(&cfg, out);
    fx_session_init(&s1, 1); fx_session_init(&s2, 2);
    k->session_begin(k, &s1.info); k->session_begin(k, &s2.info);
    run_session(k, &s1, 1); run_session(k, &s2, 1);
    k->session_end(k, &s1.info); k->session_end(k, &s2.info);
    k->finish(k, &tot);
    txt = fx_slurp(out, &tlen);
    T_CHECK(!strstr(txt, "session 1 ") && strstr(txt, "session 2 "), "--session 2");
    T_CHECK(strstr(txt, "\033[1;31m!! error") != NULL, "colour when color=1");
    free(txt);
    k->destroy(k);
    fclose(out);
    cfg.only_session = 0;

    /* Long transcript: head kept, middle elided, lines before a finding and
     * the tail kept. */
    sc_tb_opts small = { .head_lines = 5, .tail_lines = 2 };
    sc_tb_engine *e = sc_tb_engine_new(&small);
    fx_session_init(&s1, 1);
    sc_tb_block *b = sc_tb_block_new(e, &s1.info);
    char text[32];
    for (int i = 0; i < 100; i++) {
        snprintf(text, sizeof text, "NOOP %d", i);
        l = fx_line(&s1, (uint64_t)i + 1, i, SC_DIR_C2S, SC_LINE_COMMAND, text, strlen(text));
        sc_tb_block_line(e, b, &l);
        if (i == 50) {
            f.frame = 51;
            snprintf(f.message, sizeof f.message, "finding at 50");
            sc_tb_block_finding(e, b, &f);
        }
    }
    sc_tb_block_end(e, b, &s1.info);
    out = tmpfile();
    sc_tb_block_write(e, b, out);
    txt = fx_slurp(out, NULL);
    T_CHECK(strstr(txt, "C> NOOP 4\n") && !strstr(txt, "C> NOOP 5\n") &&
            strstr(txt, "... 44 lines not shown ...\n") && strstr(txt, "C> NOOP 49\n") &&
            strstr(txt, "C> NOOP 50\n       !! error reply-lost") &&
            strstr(txt, "... 47 lines not shown ...\n") && !strstr(txt, "C> NOOP 97\n") &&
            strstr(txt, "C> NOOP 98\n") && strstr(txt, "C> NOOP 99\n"),
            "long transcript elided around the finding");
    free(txt);
    fclose(out);
    sc_tb_block_free(e, b);

    /* A block that waits is parked on disk and read back whole, in order. */
    b = sc_tb_block_new(e, &s1.info);
    sc_tb_engine *e2 = sc_tb_engine_new(&plain);
    sc_tb_block *b2 = sc_tb_block_new(e2, &s1.info);
    for (int i = 0; i < 3000; i++) {
        snprintf(text, sizeof text, "DATA LINE %d", i);
        l = fx_line(&s1, (uint64_t)i + 1, i, SC_DIR_C2S, SC_LINE_CONTENT, text, strlen(text));
        sc_tb_block_line(e2, b2, &l);
    }
    sc_tb_block_end(e2, b2, &s1.info);
    sc_tb_block_park(e2, b2);
    out = tmpfile();
    sc_tb_block_write(e2, b2, out);
    txt = fx_slurp(out, NULL);
    int ordered = 1;
    const char *at = txt;
    for (int i = 0; i < 3000 && ordered; i++) {
        snprintf(text, sizeof text, "C> DATA LINE %d\n", i);
        const char *q = strstr(at, text);
        ordered = q != NULL;
        at = q ? q : at;
    }
    T_CHECK(ordered && strstr(txt, "session 1 ") < strstr(txt, "DATA LINE 0\n"),
            "3000 lines spilled to disk come back in order after the header");
    free(txt);
    fclose(out);
    sc_tb_block_free(e2, b2);
    sc_tb_block_free(e, b);
    sc_tb_engine_free(e);
    sc_tb_engine_free(e2);
    T_DONE();
}
