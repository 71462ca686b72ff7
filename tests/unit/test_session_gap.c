/*
 * test_session_gap.c - how a session reports a gap event: bytes missing
 * from the capture, or bytes dropped by a reassembly limit (the finding,
 * the transcript line and the session's count say which), and a
 * connection whose sequence numbers were rewritten (the session says so),
 * and bytes of a first copy the receiver did not take (the transcript line
 * and the session's count).
 */
#include <string.h>

#include "session/session.h"
#include "tap.h"

static char last_msg[SC_MESSAGE_MAX];
static char last_line[256];
static uint64_t end_dropped, end_untaken;
static bool end_untrusted;

static void on_finding(sc_sink *k, const sc_session_info *si, const sc_finding *f)
{
    (void)k; (void)si;
    snprintf(last_msg, sizeof last_msg, "%s", f->message);
}

static void on_line(sc_sink *k, const sc_session_info *si, const sc_line *l)
{
    (void)k; (void)si;
    snprintf(last_line, sizeof last_line, "%.*s", (int)l->len, (const char *)l->text);
}

static void on_end(sc_sink *k, const sc_session_info *si)
{
    (void)k;
    end_dropped = si->reasm_dropped;
    end_untaken = si->reasm_untaken;
    end_untrusted = si->seq_untrusted;
}

static void gap_case(bool limit, bool untrusted)
{
    sc_config cfg;
    sc_sink sink = { .finding = on_finding, .line = on_line, .session_end = on_end };
    sc_conn conn = { .id = 1, .handshake_seen = true, .first_frame = 1,
                     .seq_untrusted = untrusted };
    const char *greet = "220 mx ESMTP\r\n";
    sc_flow_event data = { .kind = SC_FLOW_DATA, .dir = SC_DIR_S2C, .data = (const uint8_t *)greet,
                           .len = strlen(greet), .frame = 4 };
    sc_flow_event gap = { .kind = SC_FLOW_GAP, .dir = SC_DIR_C2S, .gap = 1234, .limit = limit,
                          .peer_at = SC_PEER_AT_NONE, .frame = 5 };
    sc_flow_event end = { .kind = SC_FLOW_CLOSE, .end = SC_END_CAPTURE_END, .frame = 6 };
    sc_smtp *s;

    conn.server.port = 25;
    sc_config_defaults(&cfg);
    s = sc_smtp_new(&cfg, &conn, &sink, "gap");
    sc_smtp_event(s, &data);
    sc_smtp_event(s, &gap);
    T_CHECK(strstr(last_msg, "1234 bytes of the client stream") != NULL &&
            (strstr(last_msg, "dropped by reassembly") != NULL) == limit &&
            (strstr(last_msg, "are missing from the capture") != NULL) == !limit,
            "%s gap: the finding says so (\"%s\")", limit ? "reassembly" : "capture", last_msg);
    T_CHECK((strstr(last_line, "dropped by reassembly") != NULL) == limit,
            "%s gap: the transcript line says so (\"%s\")", limit ? "reassembly" : "capture", last_line);
    sc_smtp_event(s, &end);
    sc_smtp_free(s);
    T_CHECK(end_dropped == (limit ? 1234u : 0u), "%s gap: %llu bytes counted as dropped by reassembly",
            limit ? "reassembly" : "capture", (unsigned long long)end_dropped);
    T_CHECK(end_untrusted == untrusted, "sequence numbers rewritten: the session says %s",
            untrusted ? "so" : "nothing");
}

/* A data event that says bytes of a first copy before it were not taken:
 * the transcript says so at once, and the session counts them. */
static void untaken_case(void)
{
    sc_config cfg;
    sc_sink sink = { .finding = on_finding, .line = on_line, .session_end = on_end };
    sc_conn conn = { .id = 1, .handshake_seen = true, .first_frame = 1 };
    sc_flow_event data = { .kind = SC_FLOW_DATA, .dir = SC_DIR_C2S, .data = (const uint8_t *)"",
                           .len = 0, .frame = 4, .untaken = 4964 };
    sc_flow_event end = { .kind = SC_FLOW_CLOSE, .end = SC_END_CAPTURE_END, .frame = 6 };
    sc_smtp *s;

    conn.server.port = 25;
    sc_config_defaults(&cfg);
    s = sc_smtp_new(&cfg, &conn, &sink, "untaken");
    last_line[0] = 0;
    sc_smtp_event(s, &data);
    T_CHECK(strstr(last_line, "[overlap: 4964 bytes of a first copy not taken") != NULL,
            "bytes not taken: the transcript says so (\"%s\")", last_line);
    sc_smtp_event(s, &end);
    sc_smtp_free(s);
    T_CHECK(end_untaken == 4964, "bytes not taken are counted (%llu)", (unsigned long long)end_untaken);
}

int main(void)
{
    gap_case(false, false);
    gap_case(true, true);
    untaken_case();
    T_DONE();
}
