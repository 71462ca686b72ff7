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
 * Encrypted bytes where the state is unknown: a session whose start was
 * not captured (or whose STARTTLS fell into a gap) may be in TLS. Bytes
 * that are TLS records, or ciphertext, are no SMTP: the session is then
 * TLS, counted and not analysed (smtp_capture_encrypted), so that no
 * finding rests on ciphertext read as lines.
 *
 * Interface: smtp_capture_midstream() at the first complete line (or at
 * the end, if none came); smtp_capture_gap() for a gap event;
 * smtp_capture_server_data() for server bytes; smtp_capture_not_analysed()
 * for an implicit-TLS session;
 * smtp_capture_in_step() when a reply answers a command seen in full;
 * smtp_capture_truncated() at the session's end;
 * smtp_capture_encrypted() for each data event before the machines read
 * it; smtp_capture_client_line() and smtp_capture_greeting() read a
 * mid-stream capture that begins at the greeting as a whole session; smtp_capture_ext_unseen() says whether the EHLO reply may have gone
 * by uncaptured.
 *
 * Diagnostics: a transcript event "[gap: N bytes]" ("... dropped by
 * reassembly" for a hole the reassembler gave up on, counted in
 * info.reasm_dropped); "[overlap: N bytes of a first copy not taken ...]"
 * (smtp_capture_untaken: the reassembler kept a later copy of the same
 * sequence numbers, counted in info.reasm_untaken).
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

/* The largest TLS record a peer may send (RFC 8446 §5.2: 2^14 + 256;
 * TLS 1.2 allows 2^14 + 2048 for ciphertext). */
#define SMTP_TLS_RECORD_MAX (16384 + 2048)

/* Whether bytes that start a segment are TLS: a record header (content
 * type 20-23, version 3.0-3.4, a length a record can have), or, for a
 * segment that starts inside a record, ciphertext: one octet in 16 or
 * more a control character (not TAB, CR, LF) that SMTP text does not
 * carry; random octets have one in nine, text (8-bit or ISO-2022 with
 * its ESC) far fewer. */
static bool smtp_capture_tls_bytes(const uint8_t *d, size_t n)
{
    size_t ctl = 0;

    if (n >= 5 && d[0] >= 20 && d[0] <= 23 && d[1] == 3 && d[2] <= 4) {
        size_t rlen = (size_t)d[3] << 8 | d[4];
        if (rlen > 0 && rlen <= SMTP_TLS_RECORD_MAX)
            return true;
    }
    if (n < 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((d[i] < 0x20 && d[i] != '\t' && d[i] != '\r' && d[i] != '\n') || d[i] == 0x7f)
            ctl++;
    return ctl * 16 >= n;
}

/* A data event while the session's state is unknown (mid-stream, after a
 * gap) and the client is not inside message content or a BDAT chunk:
 * TLS records make the session TLS (counted, not analysed) before a
 * machine reads them. Returns true when it did. */
bool smtp_capture_encrypted(sc_smtp *s, const sc_flow_event *ev)
{
    if (s->info.tls || !s->cap.blind || ev->len == 0)
        return false;
    if (ev->dir == SC_DIR_C2S && s->client.mode != SC_CM_COMMAND)
        return false;
    if (!smtp_capture_tls_bytes(ev->data, ev->len))
        return false;
    smtp_content_unfinished(s, ev->frame);
    s->info.tls = true;
    smtp_pseudo_tls(s);
    s->client.in_line = false;
    sc_client_set_mode(&s->client, SC_CM_TLS);
    sc_server_set_tls(&s->server);
    sc_matcher_clear(&s->m);
    smtp_line_str(s, ev->dir, SC_LINE_EVENT, ev->frame,
                  "[TLS: the %s's bytes are TLS records; the session is encrypted from "
                  "here on (where it began is not in the capture), not analysed]",
                  smtp_dir_who(ev->dir));
    smtp_capture_midstream(s, ev->frame, "TLS records (the session is encrypted)");
    return true;
}

/* A client line of a mid-stream session: until the server's first reply,
 * only EHLO or HELO leave the session readable as a whole from there. */
void smtp_capture_client_line(sc_smtp *s, sc_verb v)
{
    if (v != SC_V_EHLO && v != SC_V_HELO)
        s->cap.cli_other = true;
}

/* The first reply of a mid-stream session is a 220 in the server's first
 * segment, and the client has sent nothing but EHLO or HELO: the capture
 * began at the greeting (only the handshake is missing), so the session is
 * read as a whole, the 220 as its greeting (RFC 5321 §4.3.1). Returns true
 * when it is. */
bool smtp_capture_greeting(sc_smtp *s, const sc_reply *r)
{
    const sc_pending *head = sc_matcher_at(&s->m, 0);

    if (!s->cap.midstream || r->code != 220 || s->cap.cli_other || s->cap.srv_spoke ||
        s->cap.cli_gap || s->cap.srv_segs != 1 || s->m.n > 1 || s->m.untracked ||
        (head && head->verb != SC_V_EHLO && head->verb != SC_V_HELO))
        return false;
    s->cap.at_greeting = true;
    s->cap.blind = false;
    smtp_auth_ended(s);          /* no AUTH before the greeting */
    if (head)
        sc_matcher_at(&s->m, 0)->flags &= ~(unsigned)SC_PF_BLIND;
    smtp_seq_reset(s, SMTP_SEQ_KNOWN);
    return true;
}

/* The server's EHLO reply may have gone by without being captured: the
 * capture began after the greeting, or bytes of either side are missing
 * (the EHLO or its reply among them). Rules that need that reply are not
 * judged then. */
bool smtp_capture_ext_unseen(const sc_smtp *s)
{
    return !s->ext.known &&
           ((s->cap.midstream && !s->cap.at_greeting) || s->cap.srv_spoke || s->cap.cli_gap);
}

/* Bytes of a first copy that the receiver's ACKs show it did not take (a
 * later copy of the same sequence numbers replaced them): never analysed,
 * so said where it happened and counted. */
void smtp_capture_untaken(sc_smtp *s, const sc_flow_event *ev)
{
    smtp_line_str(s, ev->dir, SC_LINE_EVENT, ev->frame,
                  "[overlap: %llu bytes of a first copy not taken; the receiver took a later copy]",
                  (unsigned long long)ev->untaken);
    s->info.reasm_untaken += ev->untaken;
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
        s->cap.cli_gap = s->cap.cli_gap_last = true;
    } else {
        sc_server_gap(&s->server, ev->gap);
        s->cap.srv_spoke = s->cap.srv_gap_last = true;
    }
    if (!s->info.tls) {
        s->cap.blind = true;
        smtp_auth_uncertain(s);
        smtp_seq_blind(s);
        for (unsigned i = 0; i < s->m.n; i++)
            sc_matcher_at(&s->m, i)->flags |= SC_PF_BLIND;
    }
}

/* Server bytes arrived: its latest bytes are no longer missing. */
void smtp_capture_server_data(sc_smtp *s, size_t len)
{
    if (len > 0) {
        s->cap.srv_gap_last = false;
        if (s->cap.srv_segs < 2)
            s->cap.srv_segs++;
    }
}

/* The same for the client. */
void smtp_capture_client_data(sc_smtp *s, size_t len)
{
    if (len > 0)
        s->cap.cli_gap_last = false;
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
