/*
 * smtp_close.c - how the connection ends (RFC 5321 §3.8, §4.1.1.10; RFC
 * 9293 §3.6): each FIN and RST, what it cut, and the session's end (the
 * closing facts of sc_session_info: who closed, how, after what).
 *
 * Rules: close-without-quit, transaction-aborted, server-close-unannounced,
 * half-close-while-sending, reset-after-quit, server-timeout-short (a
 * server that gives up on a silent client before RFC 5321 §4.5.3.2 allows:
 * a close or 421 with no command pending). What a close cuts is judged
 * by the concern it cuts: commands left unanswered (reply-lost,
 * smtp_reply.c), a BDAT chunk (bdat-truncated, smtp_content.c), bytes
 * after QUIT (command-after-quit, smtp_command.c), the capture itself
 * (capture-truncated, smtp_capture.c).
 *
 * Interface: smtp_close_event() for a FIN or RST; smtp_close_client_data()
 * for client bytes (which may complete half-close-while-sending);
 * smtp_close_session() at the session's end.
 *
 * Diagnostics: transcript events "[FIN]", "[RST]", "[capture ends]",
 * "[TLS: N bytes not analysed]", and the bytes the client sent after the
 * server's FIN.
 */
#include <stdio.h>
#include <string.h>

#include "smtp_int.h"

static sc_side smtp_side_of(sc_dir d)
{
    return d == SC_DIR_C2S ? SC_SIDE_CLIENT : SC_SIDE_SERVER;
}

/* The server's own timeouts (RFC 5321 §4.5.3.2.6, §4.5.3.2.7): at least 5
 * minutes awaiting a command, 3 minutes awaiting a data block; a server
 * that gives up on a client silent for less, but at least 30 s, is
 * server-timeout-short. */
#define SMTP_IDLE_SHORT     30.0
#define SMTP_TIMEOUT_CMD   300.0
#define SMTP_TIMEOUT_DATA  180.0

static double smtp_tv_sec(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

/* How long the server had been waiting for the client, with no command
 * pending: since the later of the client's last byte and the server's
 * last reply (its timer starts when it has answered). -1 when a command
 * was pending or the state is unknown. */
static double smtp_close_idle(const sc_smtp *s, bool *in_data)
{
    double since = smtp_tv_sec(s->info.start);

    if (s->cap.blind || s->info.tls)
        return -1;
    for (unsigned i = 0; i < s->m.n; i++)
        if (!(sc_matcher_at((sc_matcher *)&s->m, i)->flags & SC_PF_OPTIONAL))
            return -1;
    if (smtp_tv_sec(s->close.c_last) > since)
        since = smtp_tv_sec(s->close.c_last);
    if (smtp_tv_sec(s->reply.last_ts) > since)
        since = smtp_tv_sec(s->reply.last_ts);
    *in_data = s->client.mode == SC_CM_CONTENT || s->client.mode == SC_CM_BDAT;
    return smtp_tv_sec(s->ts) - since;
}

/* The server sent 421 (how "421") or closed (how "closed"/"reset") at
 * frame: server-timeout-short when the client had been silent, with no
 * command pending, for at least 30 s but less than the RFC's timeout.
 * Returns true when that timeout had elapsed: the server may then close
 * without a word (RFC 5321 §3.8, "after a timeout"). */
bool smtp_close_timeout(sc_smtp *s, uint64_t frame, const char *how)
{
    bool in_data = false;
    double idle = smtp_close_idle(s, &in_data);
    double limit = in_data ? SMTP_TIMEOUT_DATA : SMTP_TIMEOUT_CMD;

    if (idle >= limit)
        return true;
    if (idle >= SMTP_IDLE_SHORT && smtp_once(s, R_SERVER_TIMEOUT_SHORT, SC_SIDE_SERVER))
        smtp_find(s, R_SERVER_TIMEOUT_SHORT, SC_SIDE_SERVER, frame, NULL,
                  "the server %s after the client had been silent for %.0f s %s "
                  "(RFC 5321: at least %.0f minutes)", how, idle,
                  in_data ? "in the middle of the message content" : "with no command pending",
                  limit / 60);
    return false;
}

/* Whether a reply in the middle of the content is the server's answer to
 * the client giving up rather than an interruption: the client closed its
 * side (the server read end of file: Exim's "421 Lost incoming
 * connection"), or, for a 421, it had been silent there for the
 * data-block timeout (RFC 5321 §3.8, §4.5.3.2.6). */
bool smtp_close_client_gave_up(const sc_smtp *s, int code)
{
    bool in_data = false;

    if (s->close.fin[SC_DIR_C2S] || s->close.rst[SC_DIR_C2S])
        return true;
    return code == 421 && smtp_close_idle(s, &in_data) >= SMTP_TIMEOUT_DATA && in_data;
}

static void smtp_close_server(sc_smtp *s, uint64_t frame, bool rst)
{
    bool client_gone = s->close.fin[SC_DIR_C2S] || s->close.rst[SC_DIR_C2S];

    if (s->info.tls)
        return;
    s->close.client_sending = sc_client_partial(&s->client);
    /* After the client's own close, servers commonly close at once (end
     * of file on their input): nothing is reported as lost then. */
    if (!s->reply.got_421 && !s->cap.blind && !client_gone)
        smtp_reply_lost_at_close(s, frame, rst);
    /* Once the client has closed, the server may close too; and after
     * its own timeout it may close without a word. */
    bool timed_out = !s->reply.got_421 && !client_gone && !s->seq.quit_answered &&
                     smtp_close_timeout(s, frame, rst ? "reset" : "closed");
    /* A QUIT the capture lost (the client's latest bytes missing, as in a
     * capture of the server's side only) is not judged either. */
    if (!s->seq.quit_answered && !s->reply.got_421 && !client_gone && !timed_out &&
        !(s->cap.midstream && !s->cmd.quit_sent && s->cap.blind) &&
        !(s->cap.cli_gap_last && !s->cmd.quit_sent)) {
        smtp_find(s, R_SERVER_CLOSE_UNANNOUNCED, SC_SIDE_SERVER, frame, NULL,
                  "the server %s the connection (frame %s) %s and without a 421",
                  rst ? "reset" : "closed", sc_frame_bare(frame),
                  s->cmd.quit_sent ? "before replying to QUIT" : "with no QUIT from the client");
    }
    sc_matcher_clear(&s->m);
}

/* The client kept sending after the server's FIN: reported at the first
 * client segment after it (the event that completes the finding); the
 * total sent after the FIN is known at the end and shown there. */
void smtp_close_client_data(sc_smtp *s, uint64_t frame, size_t seglen)
{
    smtp_report rep;
    char what[48];

    s->close.c_last = s->ts;
    if (s->close.fin[SC_DIR_S2C])
        s->close.after_sfin += seglen;
    if (!s->close.fin[SC_DIR_S2C] || s->close.after_sfin == 0 ||
        !s->close.client_sending || s->info.tls)
        return;
    if (!smtp_once(s, R_HALF_CLOSE_WHILE_SENDING, SC_SIDE_SERVER))
        return;
    if (smtp_report_begin(s, &rep, R_HALF_CLOSE_WHILE_SENDING, SC_SIDE_SERVER, frame,
                          "the server closed its side of the connection (FIN, frame %s) "
                          "while the client was still sending%s; the client kept sending "
                          "(from frame %s), "
                          "bytes the server will not read (the count closes the session)",
                          sc_frame_bare(s->close.frame[SC_DIR_S2C]),
                          s->client.mode == SC_CM_CONTENT ? " message content"
                          : s->client.mode == SC_CM_BDAT ? " a BDAT chunk" : "",
                          sc_frame_bare(frame))) {
        int n = snprintf(what, sizeof what, "[%zu bytes]", seglen);
        smtp_report_evidence(&rep, s->close.frame[SC_DIR_S2C], SC_DIR_S2C,
                             (const uint8_t *)"[FIN]", 5);
        smtp_report_evidence(&rep, frame, SC_DIR_C2S, (const uint8_t *)what,
                             n > 0 ? (size_t)n : 0);
        smtp_report_end(s, &rep);
    }
}

/* The end of data (or BDAT LAST) is waiting for its reply. */
static bool smtp_close_eod_pending(sc_smtp *s)
{
    for (unsigned i = 0; i < s->m.n; i++) {
        const sc_pending *p = sc_matcher_at(&s->m, i);
        if ((p->flags & SC_PF_SMUGGLED) == 0 &&
            (p->verb == SC_V_EOD || (p->verb == SC_V_BDAT && (p->flags & SC_PF_LAST))))
            return true;
    }
    return false;
}

/* transaction-aborted, at the FIN or RST (of either side) that ended an
 * open mail transaction: the server had accepted MAIL and given no final
 * reply, or the client was still sending the message content. A client
 * FIN sent after the end of data does not end it yet: the server may still
 * answer (a half-closed connection carries its reply), so it waits for the
 * server's close. */
static void smtp_close_abort(sc_smtp *s, sc_dir d, bool rst, uint64_t frame)
{
    /* Content a lenient server already ended (eod-accepted-ambiguous) is
     * no transaction in progress: to that server it was commands. */
    bool sending = s->client.mode == SC_CM_CONTENT && s->client.content_started &&
                   !s->smug.live;
    bool server_gone = s->close.fin[SC_DIR_S2C] || s->close.rst[SC_DIR_S2C];

    if (smtp_once_done(s, R_TRANSACTION_ABORTED, SC_SIDE_EITHER) || s->info.tls ||
        s->cmd.quit_sent)
        return;
    if (!s->seq.mail && !sending) {
        s->close.abort_wait = false;
        return;
    }
    if (d == SC_DIR_C2S && !rst && !server_gone && !sending && smtp_close_eod_pending(s)) {
        s->close.abort_wait = true;
        s->close.abort_wait_frame = frame;
        return;
    }
    (void)smtp_once(s, R_TRANSACTION_ABORTED, SC_SIDE_EITHER);
    if (s->close.abort_wait && d == SC_DIR_S2C)
        smtp_find(s, R_TRANSACTION_ABORTED, SC_SIDE_SERVER, frame, NULL,
                  "the server %s the connection (frame %s) without answering the end of "
                  "data, after the client's FIN (frame %s): the mail transaction was "
                  "open, nothing was delivered (%llu bytes of content had been sent)",
                  rst ? "reset" : "closed", sc_frame_bare(frame),
                  sc_frame_bare(s->close.abort_wait_frame),
                  (unsigned long long)s->content.bytes);
    else
        smtp_find(s, R_TRANSACTION_ABORTED, smtp_side_of(d), frame, NULL,
                  "the %s ended the connection (%s, frame %s) %s: the mail transaction "
                  "was open, nothing was delivered (%llu bytes of content sent%s)",
                  smtp_dir_who(d), rst ? "RST" : "FIN", sc_frame_bare(frame),
                  !sending ? (smtp_close_eod_pending(s) ? "after the end of data, before its reply"
                              : "before any message content was sent")
                  : d == SC_DIR_S2C ? "while the client was still sending the message content"
                  : "in the middle of the message content",
                  (unsigned long long)s->content.bytes,
                  sending && d == SC_DIR_S2C ? " so far" : "");
}

static void smtp_close_client(sc_smtp *s, uint64_t frame, bool rst)
{
    if (s->info.tls)
        return;
    smtp_content_unfinished(s, frame);
    smtp_content_bdat_truncated(s, frame);
    if (s->cmd.quit_sent || s->close.fin[SC_DIR_S2C] || s->close.rst[SC_DIR_S2C] ||
        s->reply.got_421 || smtp_once_done(s, R_CLOSE_WITHOUT_QUIT, SC_SIDE_CLIENT))
        return;              /* once per session: a RST after the FIN adds nothing */
    if (s->cap.midstream && s->cap.blind && !s->reply.greeted)
        return;
    if (s->cap.srv_gap_last)
        return;              /* the server's last replies are missing: a 421 among them? */
    (void)smtp_once(s, R_CLOSE_WITHOUT_QUIT, SC_SIDE_CLIENT);
    const char *state =
        s->client.mode == SC_CM_CONTENT && s->client.content_started
            ? "in the middle of message content: the transaction is aborted, nothing is delivered"
        : s->txn.open ? "with a mail transaction open: nothing of it is delivered"
        : s->info.ntxn && s->txn.last_result == SC_TXN_ACCEPTED
            ? "after its message was accepted (nothing is lost)"
        : "with no transaction open";
    smtp_find(s, R_CLOSE_WITHOUT_QUIT, SC_SIDE_CLIENT, frame, NULL,
              "the client %s the connection without QUIT, %s",
              rst ? "reset" : "closed", state);
}

void smtp_close_event(sc_smtp *s, const sc_flow_event *ev)
{
    sc_dir d = ev->dir;
    bool rst = ev->kind == SC_FLOW_RST;

    if (!s->info.tls) {
        /* After the client's close or a reset the content can no longer
         * end; after the server's FIN the client may go on. */
        if (d == SC_DIR_C2S && !s->close.fin[d] && !s->close.rst[d])
            smtp_command_partial(s, ev->frame);
        if (d == SC_DIR_C2S || rst)
            smtp_content_unfinished(s, ev->frame);
        else
            smtp_content_partial(s);
    }
    smtp_line_lit(s, d, SC_LINE_EVENT, ev->frame, rst ? "[RST]" : "[FIN]");
    if (s->close.first < 0) {
        s->close.first = d;
        s->close.first_rst = rst;
    }
    if (rst && !s->info.tls && (s->seq.quit_answered || (s->cmd.quit_sent && d == SC_DIR_C2S)) &&
        !s->close.rst[0] && !s->close.rst[1])
        smtp_find(s, R_RESET_AFTER_QUIT, smtp_side_of(d), ev->frame, NULL,
                  "the %s reset the connection after QUIT%s instead of closing it in order",
                  smtp_dir_who(d), s->seq.quit_answered ? " and its reply" : "");
    bool again = rst ? s->close.rst[d] : s->close.fin[d];
    if (!s->close.fin[d] && !s->close.rst[d])
        s->close.frame[d] = ev->frame;   /* the first FIN/RST of dir */
    if (rst)
        s->close.rst[d] = true;
    else
        s->close.fin[d] = true;
    if (!again && !(d == SC_DIR_S2C && s->close.fin[d] && rst)) {
        if (d == SC_DIR_S2C)
            smtp_close_server(s, ev->frame, rst);
        else
            smtp_close_client(s, ev->frame, rst);
    }
    smtp_close_abort(s, d, rst, ev->frame);
}

/* The last thing the session did, for info.close_after. */
static const char *smtp_close_after(const sc_smtp *s)
{
    static const char *const names[SC_V_COUNT] = {
        [SC_V_UNKNOWN] = "unknown", [SC_V_HELO] = "helo", [SC_V_EHLO] = "ehlo",
        [SC_V_MAIL] = "mail", [SC_V_RCPT] = "rcpt", [SC_V_DATA] = "data",
        [SC_V_BDAT] = "bdat", [SC_V_RSET] = "rset", [SC_V_VRFY] = "vrfy",
        [SC_V_EXPN] = "expn", [SC_V_HELP] = "help", [SC_V_NOOP] = "noop",
        [SC_V_QUIT] = "quit", [SC_V_TURN] = "turn", [SC_V_ETRN] = "etrn",
        [SC_V_STARTTLS] = "starttls", [SC_V_AUTH] = "auth", [SC_V_SEND] = "send",
        [SC_V_SOML] = "soml", [SC_V_SAML] = "saml", [SC_V_EOD] = "data",
        [SC_V_RESIDUE] = "data",
    };

    if (s->info.tls)
        return "tls";
    if (s->cmd.quit_sent)
        return "quit";
    if (s->client.mode == SC_CM_CONTENT || s->client.mode == SC_CM_BDAT)
        return "data";
    /* DATA, its content and the end of data were sent, and the DATA was
     * not refused: the session ended after the end of data (its reply in
     * the transaction), not in the middle of the message */
    if (s->cmd.last_verb == SC_V_DATA && !s->content.data_pending &&
        !s->content.data_rejected && !s->content.residue_mode)
        return "end-of-data";
    if (!s->reply.greeted && s->emit.nlines == 0)
        return "greeting";
    return names[s->cmd.last_verb] ? names[s->cmd.last_verb] : "unknown";
}

void smtp_close_session(sc_smtp *s, const sc_flow_event *ev)
{
    bool closed = ev->end == SC_END_CLOSED || ev->end == SC_END_RESET;
    bool open = !(s->close.fin[0] && s->close.fin[1]) && !s->close.rst[0] && !s->close.rst[1];

    if (!s->info.tls && sc_client_partial(&s->client) && s->client.mode == SC_CM_COMMAND)
        smtp_command_after_quit(s, ev->frame, NULL, 0);
    if (closed)
        smtp_content_bdat_truncated(s, ev->frame);
    if (!s->info.tls)
        smtp_content_unfinished(s, ev->frame);
    if (smtp_once_done(s, R_HALF_CLOSE_WHILE_SENDING, SC_SIDE_SERVER)) {
        s->info.c2s_after_server_fin = s->close.after_sfin;
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_EVENT, ev->frame,
                      "[the client sent %llu bytes after the server's FIN (frame %s)]",
                      (unsigned long long)s->close.after_sfin,
                      sc_frame_bare(s->close.frame[SC_DIR_S2C]));
    }
    if (open)
        smtp_capture_truncated(s, ev, smtp_close_after(s));
    smtp_capture_midstream(s, ev->frame, "nothing (no complete line was seen)");
    for (int d = 0; d < 2; d++) {
        uint64_t n = d == SC_DIR_C2S ? s->client.tls_octets : s->server.tls_octets;
        char line[48], *w = line;       /* "[TLS: %llu bytes not analysed]" */
        if (!n)
            continue;
        memcpy(w, "[TLS: ", 6);
        w = sc_u64_put(w + 6, n);
        memcpy(w, " bytes not analysed]", 20);
        smtp_line(s, (sc_dir)d, SC_LINE_TLS, ev->frame, (const uint8_t *)line,
                  (size_t)(w + 20 - line));
    }
    if (ev->end == SC_END_CAPTURE_END && open)
        smtp_line_lit(s, SC_DIR_C2S, SC_LINE_EVENT, ev->frame, "[capture ends]");
    s->info.close_after = smtp_close_after(s);
    if (s->close.first >= 0) {
        s->info.close_by = s->close.first == SC_DIR_C2S ? SC_CLOSE_CLIENT : SC_CLOSE_SERVER;
        s->info.close_how = s->close.first_rst ? SC_HOW_RST : SC_HOW_FIN;
    } else {
        s->info.close_by = SC_CLOSE_NONE;
        s->info.close_how = ev->end == SC_END_TIMEOUT ? SC_HOW_TIMEOUT
                          : ev->end == SC_END_EVICTED ? SC_HOW_EVICTED : SC_HOW_CAPTURE_END;
    }
    if (s->info.last_frame < ev->frame)
        s->info.last_frame = ev->frame;
    if (s->txn.open && closed)
        smtp_txn_end(s, SC_TXN_ABORTED, NULL, 0);
    smtp_report_capped(s);
    s->done = true;
    if (s->out && s->out->session_end)
        s->out->session_end(s->out, &s->info);
}
