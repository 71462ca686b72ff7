/*
 * smtp_answer.c - what a reply means for the command it answers: one
 * handler per verb (a table), the server's view of the sequence (the
 * transaction as its replies made it), and the rules judged on a command
 * and its reply together.
 *
 * Rules: bad-sequence-accepted (the server accepted MAIL, RCPT, DATA,
 * BDAT or ETRN out of order; one function, smtp_answer_accepted),
 * bad-sequence (the client sent it out of order and got 503), rset-refused,
 * etrn-bad-reply, unknown-command. The verbs whose answer belongs to
 * another concern hand it there: EHLO/HELO to smtp_ext.c
 * (helo-extended-reply), DATA to smtp_content.c, STARTTLS to
 * smtp_starttls.c, smuggled commands to smtp_smuggle.c.
 *
 * Interface: smtp_answer_at() takes the matched entry out of the queue
 * (or keeps it, for an intermediate 334 to AUTH or a run of residue) and
 * interprets the reply; smtp_seq_reset() is the one way the server's
 * sequence goes back to "no transaction"; smtp_seq_blind() forgets it
 * after a gap.
 *
 * The server's sequence (s_helo, s_mail, s_rcpt) is known (seq_known)
 * once the whole session was seen or a reply showed it again; mid-stream,
 * after a gap and after a refused DATA (the server may or may not keep
 * MAIL and the recipients) it is not, and no sequence rule is judged.
 *
 * Diagnostics: none besides the findings.
 */
#include <string.h>

#include "smtp_int.h"

void smtp_seq_reset(sc_smtp *s, smtp_seq_view view)
{
    s->seq.mail = false;
    s->seq.rcpt = 0;
    if (view != SMTP_SEQ_KEEP)
        s->seq.known = view == SMTP_SEQ_KNOWN;
}

/* A gap: the server's sequence is no longer known (its replies may be in
 * the missing bytes). */
void smtp_seq_blind(sc_smtp *s)
{
    s->seq.known = false;
}

/* bad-sequence-accepted, the one place it fires. MAIL and RCPT are shown
 * with their path (which transaction), the others by name. */
static void smtp_answer_accepted(sc_smtp *s, const sc_pending *p, const sc_reply *r,
                                 const char *why)
{
    bool path = p->verb == SC_V_MAIL || p->verb == SC_V_RCPT;
    const char *name = sc_cmd_get(p->verb)->name;
    sc_evidence e;

    smtp_find(s, R_BAD_SEQUENCE_ACCEPTED, SC_SIDE_SERVER, r->frame,
              smtp_ev(&e, r->frame, SC_DIR_S2C, r->last, r->last_len),
              "the server accepted %.*s (%s) %s",
              path ? (int)p->tlen : (int)strlen(name),
              path ? (const char *)p->text : name, sc_frame_name(p->frame), why);
}

/* A finding about a command and the reply it got: both are quoted. */
static void smtp_answer_pair(sc_smtp *s, sc_rule_id id, sc_side side, const sc_pending *p,
                             const sc_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void smtp_answer_pair(sc_smtp *s, sc_rule_id id, sc_side side, const sc_pending *p,
                             const sc_reply *r, const char *fmt, ...)
{
    char msg[sizeof ((sc_finding *)0)->message];
    smtp_report rep;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (smtp_report_begin(s, &rep, id, side, r->frame, "%s", msg)) {
        smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
        smtp_report_evidence(&rep, r->frame, SC_DIR_S2C, r->last, r->last_len);
        smtp_report_end(s, &rep);
    }
}

/* ---- One handler per verb: returns true when the command was sent out
 * of order and refused with 503 in a way that proves it (bad-sequence). */

typedef bool (*smtp_answer_fn)(sc_smtp *s, const sc_pending *p, const sc_reply *r);

/* The generic proof: 503 to a command the client sent out of order, while
 * the server's sequence is known. */
static bool smtp_answer_503(const sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    return r->code == 503 && (p->flags & SC_PF_BADSEQ) && s->seq.known;
}

static bool smtp_ok(const sc_reply *r)
{
    return r->code >= 200 && r->code < 400;
}

static bool smtp_answer_helo(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    smtp_ext_answer(s, p, r);
    if (r->code != 250) {
        smtp_command_helo_refused(s);
        return false;
    }
    smtp_seq_reset(s, SMTP_SEQ_KNOWN);
    s->seq.helo = true;
    if (s->txn.open)
        smtp_txn_end(s, SC_TXN_ABORTED, NULL, 0);
    return false;
}

static bool smtp_answer_mail(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    if (smtp_ok(r)) {
        if (s->seq.mail && s->seq.known)
            smtp_answer_accepted(s, p, r, "inside an open mail transaction");
        s->seq.mail = true;
        s->seq.rcpt = 0;
        if (!s->cap.blind)
            s->seq.known = true;   /* a transaction is open: known again */
    } else {
        smtp_command_txn_over(s);
        if (s->txn.cur >= 0 && !s->seq.mail)
            smtp_txn_end(s, SC_TXN_REJECTED, r->last, r->last_len);
    }
    return smtp_answer_503(s, p, r);
}

static bool smtp_answer_rcpt(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    if (smtp_ok(r)) {
        if (!s->seq.mail && s->seq.known)
            smtp_answer_accepted(s, p, r, "with no accepted MAIL");
        s->seq.rcpt++;
    }
    return smtp_answer_503(s, p, r);
}

static bool smtp_answer_data(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    bool seq_was_known = s->seq.known;

    if (r->code == 354) {
        smtp_content_data_answer(s, p, r);
        if (s->seq.rcpt == 0 && s->seq.known)
            smtp_answer_accepted(s, p, r, "with no accepted RCPT");
        return false;
    }
    /* DATA refused. Whether the server still holds MAIL and the
     * recipients is its choice (RFC 5321 §4.1.1.4 says no more than that
     * the data must not be sent; Exim keeps the sender: "503 sender
     * already given"): the server's sequence is unknown until a reply
     * shows it again. */
    smtp_txn_end(s, SC_TXN_REJECTED, r->last, r->last_len);
    smtp_command_txn_over(s);
    smtp_seq_reset(s, SMTP_SEQ_UNKNOWN);
    smtp_content_data_answer(s, p, r);
    /* The client's own sequence (DATA with no RCPT sent) is known
     * whenever the whole session was seen, whatever the server holds. */
    return r->code == 503 && (p->flags & SC_PF_BADSEQ) &&
           (seq_was_known || (!s->cap.midstream && !s->cap.blind));
}

static bool smtp_answer_eod(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    (void)p;
    smtp_smuggle_eod_answered(s);
    smtp_txn_end(s, smtp_ok(r) ? SC_TXN_ACCEPTED : SC_TXN_REJECTED, r->last, r->last_len);
    smtp_command_txn_over(s);
    smtp_seq_reset(s, SMTP_SEQ_KNOWN);
    return false;
}

static bool smtp_answer_bdat(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    if (!smtp_ok(r) || (p->flags & SC_PF_LAST)) {
        smtp_txn_end(s, smtp_ok(r) ? SC_TXN_ACCEPTED : SC_TXN_REJECTED, r->last, r->last_len);
        smtp_command_txn_over(s);
        smtp_seq_reset(s, SMTP_SEQ_KEEP);
        smtp_content_bdat_over(s);
    }
    if (smtp_ok(r) && s->seq.rcpt == 0 && s->seq.known && (p->flags & SC_PF_BADSEQ))
        smtp_answer_accepted(s, p, r, "with no accepted RCPT");
    return smtp_answer_503(s, p, r);
}

static bool smtp_answer_rset(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    int c = r->code;

    if (c != 250 && c != 421)
        smtp_answer_pair(s, R_RSET_REFUSED, SC_SIDE_SERVER, p, r,
                         "RSET (%s) was answered %d; RSET is valid at any time",
                         sc_frame_name(p->frame), c);
    if (c == 250) {
        if (s->txn.open)
            smtp_txn_end(s, SC_TXN_ABORTED, r->last, r->last_len);
        smtp_seq_reset(s, SMTP_SEQ_KNOWN);
    }
    return false;
}

static bool smtp_answer_quit(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    (void)p, (void)r;
    s->seq.quit_answered = true;
    /* QUIT cancels a transaction still open (RFC 5321 §4.1.1.10); replies
     * come in order, so a pipelined dot was answered first. */
    if (s->txn.open)
        smtp_txn_end(s, SC_TXN_ABORTED, NULL, 0);
    return false;
}

static bool smtp_answer_starttls(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    (void)p;
    smtp_starttls_answer(s, r);
    return false;
}

/* etrn-bad-reply is the specific form of reply-mismatch: the codes
 * allowed for any command (421, 500, 501, 502, 530, 554) are allowed here
 * too, and 503 is the right answer to an ETRN inside a transaction
 * (RFC 5321 §4.1.4; the client's etrn-in-transaction covers it). */
static bool smtp_answer_etrn(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    int c = r->code;

    if (!sc_cmd_allows(SC_V_ETRN, c) && !(c == 503 && (p->flags & SC_PF_INTXN)))
        smtp_answer_pair(s, R_ETRN_BAD_REPLY, SC_SIDE_SERVER, p, r,
                         "ETRN (%s) was answered %d (RFC 1985 §5.1 allows 250-253, 458, 459, "
                         "500, 501; any command may get 421, 502, 530, 554)",
                         sc_frame_name(p->frame), c);
    if (c >= 200 && c < 300 && s->seq.known && (p->flags & SC_PF_INTXN))
        smtp_answer_accepted(s, p, r, "inside a mail transaction");
    return false;
}

static bool smtp_answer_unknown(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    int c = r->code;

    if ((c == 500 || c == 502) && !(p->flags & (SC_PF_RESIDUE | SC_PF_SMUGGLED)))
        smtp_answer_pair(s, R_UNKNOWN_COMMAND, SC_SIDE_CLIENT, p, r,
                         "\"%.*s\" (%s) is not a command the server knows (%d)",
                         SC_PTXT(p), sc_frame_name(p->frame), c);
    return false;
}

static const smtp_answer_fn smtp_answers[SC_V_COUNT] = {
    [SC_V_EHLO] = smtp_answer_helo, [SC_V_HELO] = smtp_answer_helo,
    [SC_V_MAIL] = smtp_answer_mail, [SC_V_RCPT] = smtp_answer_rcpt,
    [SC_V_DATA] = smtp_answer_data, [SC_V_EOD] = smtp_answer_eod,
    [SC_V_BDAT] = smtp_answer_bdat, [SC_V_RSET] = smtp_answer_rset,
    [SC_V_QUIT] = smtp_answer_quit, [SC_V_STARTTLS] = smtp_answer_starttls,
    [SC_V_ETRN] = smtp_answer_etrn, [SC_V_UNKNOWN] = smtp_answer_unknown,
};

/* The reply r answers pending command p (already out of the queue). */
static void smtp_answer(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    if (p->flags & SC_PF_SMUGGLED) {
        /* Commands only a lenient server saw: answered, and judged by the
         * finding that revealed them. */
        smtp_smuggle_answer(s, p, r);
        return;
    }
    if (!(p->flags & SC_PF_BLIND))
        smtp_capture_in_step(s);
    if (smtp_answers[p->verb] && smtp_answers[p->verb](s, p, r))
        smtp_answer_pair(s, R_BAD_SEQUENCE, SC_SIDE_CLIENT, p, r,
                         "%.*s (%s) was sent out of order and refused with 503",
                         SC_PTXT(p), sc_frame_name(p->frame));
}

void smtp_answer_at(sc_smtp *s, unsigned i, const sc_reply *r)
{
    sc_pending p = *sc_matcher_at(&s->m, i);

    for (unsigned k = 0; k < i; k++)
        sc_matcher_pop(&s->m);
    if (p.verb == SC_V_AUTH && r->code == 334) {
        sc_client_set_mode(&s->client, SC_CM_AUTH);
        return;                  /* AUTH stays pending: 334 is intermediate */
    }
    if (p.verb == SC_V_AUTH)
        smtp_auth_ended(s);
    if (p.verb == SC_V_RESIDUE && p.count > 1) {
        sc_matcher_at(&s->m, 0)->count--;
        return;
    }
    sc_matcher_pop(&s->m);
    smtp_answer(s, &p, r);
}
