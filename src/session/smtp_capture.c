/*
 * smtp_capture.c - facts about the capture, not about the protocol: the
 * connection was already open when the capture began, bytes are missing
 * from a stream, the capture (or the idle timeout, or the session cap)
 * ended the session while it was open. While the analysis is out of step
 * with the session (mid-stream, after a gap: "blind"), the rules that
 * rest on the exact sequence are not judged.
 *
 * Rules: capture-midstream (once per session), capture-gap,
 * capture-truncated.
 *
 * Interface: smtp_capture_midstream() at the first complete line (or at
 * the end, if none came); smtp_capture_gap() for a gap event;
 * smtp_capture_server_data() for server bytes; smtp_capture_not_analysed()
 * for an implicit-TLS session;
 * smtp_capture_in_step() when a reply answers a command seen in full;
 * smtp_capture_truncated() at the session's end.
 *
 * Diagnostics: a transcript event "[gap: N bytes]" ("... dropped by
 * reassembly" for a hole the reassembler gave up on, counted in
 * info.reasm_dropped).
 */
#include "smtp_int.h"

void smtp_capture_midstream(sc_smtp *s, uint64_t frame, const char *where)
{
    if (!s->cap.midstream || !smtp_once(s, R_CAPTURE_MIDSTREAM, SC_SIDE_CAPTURE))
        return;
    smtp_find(s, R_CAPTURE_MIDSTREAM, SC_SIDE_CAPTURE, frame, NULL,
              "no TCP handshake in the capture: the connection was already open; "
              "analysis starts at %s (frame %s), rules about earlier events are blind",
              where, sc_frame_bare(frame));
}

/* A session that is not analysed (implicit TLS) has no rule to be blind
 * to: no capture-midstream. */
void smtp_capture_not_analysed(sc_smtp *s)
{
    (void)smtp_once(s, R_CAPTURE_MIDSTREAM, SC_SIDE_CAPTURE);
}

void smtp_capture_gap(sc_smtp *s, const sc_flow_event *ev)
{
    sc_dir d = ev->dir;

    if (!s->info.tls)
        smtp_content_partial(s);
    /* A hole the reassembler gave up on (ev->limit) is not missing from
     * the capture: say so, and count it apart. */
    smtp_line_str(s, d, SC_LINE_EVENT, ev->frame, ev->limit ?
                  "[gap: %llu bytes dropped by reassembly]" : "[gap: %llu bytes]",
                  (unsigned long long)ev->gap);
    if (ev->limit)
        s->info.reasm_dropped += ev->gap;
    smtp_find(s, R_CAPTURE_GAP, SC_SIDE_CAPTURE, ev->frame, NULL,
              ev->limit ? "%llu bytes of the %s stream were dropped by reassembly (out of "
                          "order beyond its limit), not missing from the capture; analysis "
                          "resumes at the next line boundary"
                        : "%llu bytes of the %s stream are missing from the capture; analysis "
                          "resumes at the next line boundary",
              (unsigned long long)ev->gap, smtp_dir_who(d));
    if (d == SC_DIR_C2S) {
        sc_client_gap(&s->client, ev->gap);
    } else {
        sc_server_gap(&s->server, ev->gap);
        s->cap.srv_spoke = s->cap.srv_gap_last = true;
    }
    if (!s->info.tls) {
        s->cap.blind = true;
        smtp_seq_blind(s);
        for (unsigned i = 0; i < s->m.n; i++)
            sc_matcher_at(&s->m, i)->flags |= SC_PF_BLIND;
    }
}

/* Server bytes arrived: its latest bytes are no longer missing. */
void smtp_capture_server_data(sc_smtp *s, size_t len)
{
    if (len > 0)
        s->cap.srv_gap_last = false;
}

void smtp_capture_in_step(sc_smtp *s)
{
    s->cap.blind = false;
}

/* A session closed by the idle timeout or evicted by the session cap is,
 * for the analysis, a capture that ended while it was open. */
void smtp_capture_truncated(sc_smtp *s, const sc_flow_event *ev, const char *after)
{
    static const char *const truncated_why[] = {
        [SC_END_CAPTURE_END] = "the capture ended",
        [SC_END_TIMEOUT] = "the session went silent past --idle-timeout",
        [SC_END_EVICTED] = "the session was evicted (--max-sessions reached)",
    };

    if ((unsigned)ev->end < sizeof truncated_why / sizeof truncated_why[0] &&
        truncated_why[ev->end])
        smtp_find(s, R_CAPTURE_TRUNCATED, SC_SIDE_CAPTURE, ev->frame, NULL,
                  "%s while the session was still open (after %s)",
                  truncated_why[ev->end], after);
}
