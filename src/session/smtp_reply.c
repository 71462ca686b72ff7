/*
 * smtp_reply.c - the server's replies: each reply line is shown and its
 * form checked; each complete reply is matched against the queue of
 * pending commands (src/smtp/matcher.c) and handed to the command it
 * answers (smtp_answer.c).
 *
 * Rules: reply-malformed, greeting-invalid, reply-lost (also at the
 * server's close: smtp_reply_lost_at_close), reply-out-of-order,
 * reply-mismatch, reply-unsolicited (also for a plaintext reply after the
 * 220 to STARTTLS, which answers an injected command).
 *
 * Capture order is evidence (docs/smtpscope.1, DESCRIPTION): a command
 * seen before a reply was sent before the client had that reply. No rule here
 * rests on timing.
 *
 * Interface: smtp_reply_line() and smtp_reply() are the server machine's
 * callbacks; smtp_reply_lost_at_close() reports the commands a closing
 * server left unanswered.
 *
 * Diagnostics: none besides the findings.
 */
#include <string.h>

#include "smtp_int.h"
#include "smtp/args.h"

/* reply-unsolicited, the one place it fires: a reply no command waits
 * for, or (after_starttls) a plaintext reply after the 220 to STARTTLS,
 * which answers a command injected before the TLS handshake. */
static void smtp_reply_unsolicited(sc_smtp *s, const sc_reply *r, bool after_starttls)
{
    const sc_pending *p = after_starttls ? sc_matcher_at(&s->m, 0) : NULL;
    smtp_report rep;
    bool on;

    if (after_starttls)
        on = smtp_report_begin(s, &rep, R_REPLY_UNSOLICITED, SC_SIDE_SERVER, r->frame,
                               "reply %d in plaintext after the 220 to STARTTLS: the server "
                               "answered %s%.*s%s injected before the TLS handshake",
                               r->code, p ? "\"" : "", p ? p->tlen : 0,
                               p ? (const char *)p->text : "", p ? "\"" : "a command");
    else
        on = smtp_report_begin(s, &rep, R_REPLY_UNSOLICITED, SC_SIDE_SERVER, r->frame,
                               "reply %d arrived while no command was waiting for one",
                               r->code);
    if (!on)
        return;
    if (p)
        smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
    smtp_report_evidence(&rep, r->first_frame, SC_DIR_S2C, r->first, r->first_len);
    smtp_report_end(s, &rep);
}

/* reply-lost for one command: the server answered a later one (r, later),
 * or closed the connection (r NULL). */
static void smtp_reply_lost(sc_smtp *s, const sc_pending *p, uint64_t frame,
                            const sc_reply *r, const sc_pending *later, bool rst)
{
    smtp_report rep;
    bool on;

    if (r)
        on = smtp_report_begin(s, &rep, R_REPLY_LOST, SC_SIDE_SERVER, frame,
                               "%.*s (%s) was never answered: the server answered a "
                               "later command, %.*s (%s)",
                               SC_PTXT(p), sc_frame_name(p->frame), SC_PTXT(later),
                               sc_frame_name(later->frame));
    else
        on = smtp_report_begin(s, &rep, R_REPLY_LOST, SC_SIDE_SERVER, frame,
                               "%.*s (%s) was never answered: the server %s the connection",
                               SC_PTXT(p), sc_frame_name(p->frame),
                               rst ? "reset" : "closed");
    if (!on)
        return;
    smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
    if (r)
        smtp_report_evidence(&rep, r->first_frame, SC_DIR_S2C, r->first, r->first_len);
    smtp_report_end(s, &rep);
}

void smtp_reply_lost_at_close(sc_smtp *s, uint64_t frame, bool rst)
{
    for (unsigned i = 0; i < s->m.n; i++) {
        sc_pending *p = sc_matcher_at(&s->m, i);
        if (p->flags & (SC_PF_OPTIONAL | SC_PF_BLIND))
            continue;
        smtp_reply_lost(s, p, frame, NULL, NULL, rst);
    }
    /* Commands beyond the tracked ones: one finding with their count. */
    if (s->m.untracked)
        smtp_find(s, R_REPLY_LOST, SC_SIDE_SERVER, frame, NULL,
                  "%llu more pipelined command%s (the first at frame %s, beyond the "
                  "%d tracked one by one) %s never answered: the server %s the connection",
                  (unsigned long long)s->m.untracked, s->m.untracked == 1 ? "" : "s",
                  sc_frame_bare(s->m.untracked_frame), SC_PENDING_MAX,
                  s->m.untracked == 1 ? "was" : "were", rst ? "reset" : "closed");
}

void smtp_reply_line(void *ctx, const sc_rline *l, const sc_reply *r)
{
    sc_smtp *s = ctx;
    sc_evidence e;

    smtp_content_partial(s);
    smtp_line(s, SC_DIR_S2C, SC_LINE_REPLY, l->frame, l->text, l->kept);
    smtp_capture_midstream(s, l->frame, "the first complete reply line");
    if (l->malformed && smtp_once(s, R_REPLY_MALFORMED, SC_SIDE_SERVER)) {
        smtp_find(s, R_REPLY_MALFORMED, SC_SIDE_SERVER, l->frame,
                  smtp_ev(&e, l->frame, SC_DIR_S2C, l->text, l->kept),
                  "reply line is not a three-digit code (2-5, 0-5, 0-9) followed by SP, \"-\" or CRLF");
    }
    if (r && r->mixed && r->nlines > 1 && l->code >= 0 && l->code != r->code &&
        smtp_once(s, R_REPLY_MALFORMED, SMTP_ONCE_ALT)) {
        smtp_find(s, R_REPLY_MALFORMED, SC_SIDE_SERVER, l->frame,
                  smtp_ev(&e, l->frame, SC_DIR_S2C, l->text, l->kept),
                  "multi-line reply whose lines carry different codes (%d, then %d)",
                  r->code, l->code);
    }
    smtp_lines_reply(s, l);
    if (!r) {
        int cls = l->malformed ? sc_rline_enhanced_class(l->text, l->kept) : 0;
        if (cls && s->reply.greeted && sc_matcher_firm(&s->m) > 0) {
            /* Read as the reply of its class (x00) to the oldest command,
             * so that the command is not reported as never answered; the
             * line itself was reported as reply-malformed above. */
            sc_reply er;
            uint8_t line[SC_REPLY_KEEP];
            memset(&er, 0, sizeof er);
            er.code = cls * 100;
            er.nlines = 1;
            er.malformed = true;
            er.first_frame = er.frame = l->frame;
            er.first_len = er.last_len = l->kept < SC_REPLY_KEEP ? l->kept : SC_REPLY_KEEP;
            memcpy(line, l->text, er.first_len);
            er.first = er.last = line;
            smtp_reply(s, &er);
        }
        return;
    }
    smtp_ext_reply_line(s, l, r);
}

/* The host the greeting names ("220 mx.example.net ESMTP", or "220-"),
 * for the per-peer summaries. */
static void smtp_reply_greeting_name(sc_smtp *s, const sc_reply *r)
{
    const uint8_t *p = r->first;
    size_t n = r->first_len;

    if (!p || n <= 4)
        return;
    p += 4;
    n -= 4;
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    n = sc_arg_word(p, n);
    if (n > sizeof s->names.greeting)
        n = sizeof s->names.greeting;
    memcpy(s->names.greeting, p, n);
    s->info.greeting_name = (sc_bytes){ s->names.greeting, n };
}

/* The first reply: the greeting (RFC 5321 §4.3.1). Returns true when the
 * reply was the greeting (or stands for it) and is not to be matched. */
static bool smtp_reply_greeting(sc_smtp *s, const sc_reply *r)
{
    sc_evidence e;

    if (s->cap.midstream) {
        s->reply.greeted = true;
        if (smtp_capture_greeting(s, r))
            return true;                         /* the capture began at it */
        return r->code == 220 && s->m.n == 0;   /* the greeting, seen after all */
    }
    sc_pending *head = sc_matcher_at(&s->m, 0);
    s->reply.greeted = true;
    if (r->code == 421)
        s->reply.got_421 = true;
    if (r->code == 220)
        smtp_reply_greeting_name(s, r);
    if (r->code == 220 || r->code == 554 || r->code == 421)
        return true;
    /* No greeting at all: the client spoke first and this reply fits its
     * first command, so it is that command's reply (read as a greeting,
     * it would shift every reply after it). */
    bool answers = head && !(head->flags & SC_PF_OPTIONAL) &&
                   sc_pending_allows(head, r->code);
    smtp_find(s, R_GREETING_INVALID, SC_SIDE_SERVER, r->frame,
              smtp_ev(&e, r->first_frame, SC_DIR_S2C, r->first, r->first_len),
              answers ? "the server sent no greeting: its first reply, %d, answers "
                        "the client's first command"
                      : "the server's greeting is %d (expected 220, or 554/421 to refuse)",
              r->code);
    return !answers;
}

/* The reply against the queue of pending commands. */
static void smtp_reply_match(sc_smtp *s, const sc_reply *r)
{
    smtp_report rep;
    unsigned idx;
    sc_match_kind k = sc_matcher_match(&s->m, r->code, &idx);

    if (k == SC_MATCH_MISMATCH && !sc_code_known(r->code))
        k = SC_MATCH_HEAD;       /* RFC 5321 §4.2: read by its first digit */
    switch (k) {
    case SC_MATCH_NONE:
        /* Only optional entries left: they go unanswered. */
        while (s->m.n)
            sc_matcher_pop(&s->m);
        if (r->code == 421 || s->cap.blind)
            return;
        if (s->m.untracked) {
            s->m.untracked--;
            return;
        }
        if (s->tls.probe)
            return;
        smtp_reply_unsolicited(s, r, false);
        return;
    case SC_MATCH_HEAD:
        smtp_answer_at(s, idx, r);
        return;
    case SC_MATCH_LATER: {
        sc_pending *later = sc_matcher_at(&s->m, idx);
        for (unsigned i = 0; i < idx; i++) {
            sc_pending *p = sc_matcher_at(&s->m, i);
            if ((p->flags & SC_PF_OPTIONAL) || s->cap.blind)
                continue;
            smtp_reply_lost(s, p, r->frame, r, later, false);
        }
        if (!s->cap.blind &&
            smtp_report_begin(s, &rep, R_REPLY_OUT_OF_ORDER, SC_SIDE_SERVER, r->frame,
                              "reply %d can only answer %.*s (%s), but %u earlier "
                              "command%s still waited for a reply",
                              r->code, SC_PTXT(later), sc_frame_name(later->frame),
                              idx, idx == 1 ? "" : "s")) {
            smtp_report_evidence(&rep, later->frame, SC_DIR_C2S, later->text, later->tlen);
            smtp_report_evidence(&rep, r->first_frame, SC_DIR_S2C, r->first, r->first_len);
            smtp_report_end(s, &rep);
        }
        smtp_answer_at(s, idx, r);
        return;
    }
    case SC_MATCH_MISMATCH: {
        sc_pending *p = sc_matcher_at(&s->m, idx);
        /* RSET and ETRN have rules of their own (smtp_answer.c). */
        bool specific = p->verb == SC_V_RSET || p->verb == SC_V_ETRN;
        if (!specific && !s->cap.blind && !(p->flags & SC_PF_SMUGGLED) &&
            smtp_report_begin(s, &rep, R_REPLY_MISMATCH, SC_SIDE_SERVER, r->frame,
                              "%.*s (%s) was answered %d, a code RFC 5321 §4.3.2 does not list for %s",
                              SC_PTXT(p), sc_frame_name(p->frame), r->code,
                              sc_cmd_get(p->verb)->name)) {
            smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
            smtp_report_evidence(&rep, r->first_frame, SC_DIR_S2C, r->first, r->first_len);
            smtp_report_end(s, &rep);
        }
        smtp_answer_at(s, idx, r);
        return;
    }
    }
}

static void smtp_reply_route(sc_smtp *s, const sc_reply *r)
{
    unsigned idx;

    if (s->tls.probe) {
        smtp_reply_unsolicited(s, r, true);
        sc_matcher_pop(&s->m);
        return;
    }
    if (!s->reply.greeted && smtp_reply_greeting(s, r))
        return;
    if (r->code == 421) {
        if (!s->reply.got_421)
            smtp_close_timeout(s, r->frame, "sent 421");
        s->reply.got_421 = true;
    }

    switch (smtp_content_reply(s, r)) {
    case SMTP_ROUTE_DONE:
        return;
    case SMTP_ROUTE_MATCH:
        break;
    case SMTP_ROUTE_ON:
        if (smtp_smuggle_check(s, r, false)) {
            sc_match_kind k = sc_matcher_match(&s->m, r->code, &idx);
            if (k == SC_MATCH_HEAD || k == SC_MATCH_MISMATCH)
                smtp_answer_at(s, idx, r);
            return;
        }
        break;
    }
    smtp_reply_match(s, r);
}

void smtp_reply(void *ctx, const sc_reply *r)
{
    sc_smtp *s = ctx;

    smtp_reply_route(s, r);
    s->reply.last_ts = s->ts;    /* the server's wait for the client starts */
}
