/*
 * smtp_smuggle.c - SMTP smuggling (the December 2023 advisories): message
 * content that holds an end-of-data sequence other than <CRLF>.<CRLF>
 * (RFC 5321 §4.1.1.4, §2.3.8). From there on, a shadow reads each content
 * line as the command a lenient server would read; the server's replies
 * then show which reading it took: replies before the real dot, or a
 * reply after it that fits no pending command but fits the first
 * smuggled one, are the lenient server's.
 *
 * Rules: eod-ambiguous (once per message), eod-accepted-ambiguous. The
 * smuggled message's content sent before the 354 to the smuggled DATA is
 * data-before-go-ahead, fired by smtp_content_too_early() (smtp_content.c).
 *
 * Interface: smtp_smuggle_ambiguous() is the client machine's callback
 * for an ambiguous sequence; smtp_smuggle_line() for each content line
 * after it; smtp_smuggle_check() for a reply during the content (during)
 * or after the dot's; smtp_smuggle_eod_answered() when the real dot gets
 * its reply; smtp_smuggle_answer() when a smuggled command gets its
 * reply; smtp_smuggle_reset() at each new message.
 *
 * Memory: at most SC_SHADOW_KEEP shadow commands, allocated at the first.
 * Diagnostics: the smuggled commands are shown in the transcript once the
 * server is seen to read them.
 */
#include <stdlib.h>

#include "smtp_int.h"
#include "smtp/args.h"

void smtp_smuggle_reset(sc_smtp *s)
{
    s->smug.ambiguous = false;
    s->smug.nshadow = 0;
    s->smug.on = s->smug.in_data = s->smug.has_data = false;
    s->smug.data_answered = false;
    s->smug.live = false;
    s->smug.amb_bytes = s->smug.data_bytes = 0;
    s->smug.data_ended = false;
}

void smtp_smuggle_ambiguous(void *ctx, const char *what, uint64_t off, uint64_t frame)
{
    sc_smtp *s = ctx;

    if (s->smug.ambiguous)
        return;
    s->smug.ambiguous = true;
    s->smug.amb_off = off;
    s->smug.amb_frame = frame;
    s->smug.amb_what = what;
    s->smug.amb_bytes = s->content.bytes;
    s->smug.on = true;
    smtp_content_count_only(s);
    /* Under the content that holds the sequence, not above it. */
    smtp_content_partial(s);
    smtp_find(s, R_EOD_AMBIGUOUS, SC_SIDE_CLIENT, frame, NULL,
              "message content holds %s at stream offset %llu (frame %s): a lenient "
              "server takes it for the end of data (SMTP smuggling)",
              what, (unsigned long long)off, sc_frame_bare(frame));
}

/* A command only a lenient server read, shown once: with --show-content
 * its line is already in the transcript as content. */
static void smtp_smuggle_show(sc_smtp *s, const sc_pending *p)
{
    if (!s->cfg->show_content)
        smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, p->frame, p->text, p->tlen);
}

/* One command of the shadow, queued at once when the lenient server is
 * already seen to read them (live). */
static void smtp_smuggle_shadow(sc_smtp *s, sc_verb v, const sc_cline *l)
{
    if (!s->smug.shadow)
        s->smug.shadow = calloc(SC_SHADOW_KEEP, sizeof *s->smug.shadow);   /* NULL: none kept */
    if (!s->smug.shadow || s->smug.nshadow >= SC_SHADOW_KEEP)
        return;
    sc_pending *p = &s->smug.shadow[s->smug.nshadow++].p;
    if (v == SC_V_EOD)
        smtp_pending_fill(p, v, l->frame, (const uint8_t *)".", 1);
    else
        smtp_pending_fill(p, v, l->frame, l->text, l->kept);
    smtp_pseudo_text(s, p->text, p->tlen);     /* --redact=addresses */
    p->flags |= SC_PF_SMUGGLED;
    /* An empty line is a command to that server too (Sendmail, Postfix
     * answer it 500), but one a server may also pass over in silence. */
    if (v == SC_V_UNKNOWN && l->kept == 0)
        p->flags |= SC_PF_OPTIONAL;
    if (s->smug.live) {
        smtp_smuggle_show(s, p);
        smtp_push(s, p);
    }
}

/* Shadow reading: after an ambiguous end-of-data sequence, each content
 * line is what a lenient server would read as a command. */
void smtp_smuggle_line(sc_smtp *s, const sc_cline *l)
{
    if (!s->smug.on)
        return;
    if (s->smug.in_data) {
        if (l->kept == 0 && l->stuffed) {
            /* A lone dot ended by a bare LF (or after one): to that server
             * the smuggled message ends here; commands follow again. */
            smtp_smuggle_shadow(s, SC_V_EOD, l);
            s->smug.in_data = false;
            s->smug.data_ended = true;
            return;
        }
        /* Content of the smuggled message: to a lenient server that has
         * not yet sent 354 to the smuggled DATA, it comes too early. */
        s->smug.data_bytes += l->wire_len - (l->stuffed ? 1 : 0);
        if (s->smug.live && !s->smug.data_answered)
            smtp_content_too_early(s, l->frame, SMTP_EARLY_SMUGGLED_LINE, s->smug.data_frame,
                                   false);
        return;
    }
    sc_verb v = sc_cmd_parse(l->text, l->kept);
    if (v == SC_V_UNKNOWN && l->kept == 0 && l->stuffed)
        return;                  /* the dot of the sequence itself */
    smtp_smuggle_shadow(s, v, l);
    if (v == SC_V_DATA) {
        s->smug.in_data = true;
        s->smug.has_data = true;
        s->smug.data_frame = l->frame;
    }
}

/* The real dot got its reply: smuggled commands in this content are
 * judged on the next reply. */
void smtp_smuggle_eod_answered(sc_smtp *s)
{
    s->smug.armed = s->smug.on && s->smug.nshadow > 0 && !s->smug.live;
}

/* A command only a lenient server saw got its reply: it is judged by the
 * finding that revealed it, and recorded as that server took it: the
 * smuggled transaction (sender, recipients, result, the final reply with
 * its queue id, the smuggled message's bytes), and a QUIT it answered. */
void smtp_smuggle_answer(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    bool ok = r->code >= 200 && r->code < 400;
    const uint8_t *a;
    size_t an;

    switch (p->verb) {
    case SC_V_MAIL:
        if (s->txn.open)
            smtp_txn_end(s, SC_TXN_ABORTED, NULL, 0);
        sc_arg_after(p->text, p->tlen, "FROM:", &a, &an);
        smtp_txn_begin(s, a, an);
        if (!ok)
            smtp_txn_end(s, SC_TXN_REJECTED, r->last, r->last_len);
        break;
    case SC_V_RCPT:
        sc_arg_after(p->text, p->tlen, "TO:", &a, &an);
        if (s->txn.open)
            smtp_txn_rcpt(s, a, an);
        break;
    case SC_V_DATA:
        if (r->code == 354)
            s->smug.data_answered = true;
        else if (s->txn.open)
            smtp_txn_end(s, SC_TXN_REJECTED, r->last, r->last_len);
        break;
    case SC_V_EOD:
        if (s->txn.open) {
            smtp_txn_end(s, ok ? SC_TXN_ACCEPTED : SC_TXN_REJECTED, r->last, r->last_len);
            smtp_txn_last_bytes(s, s->smug.data_bytes);
        }
        break;
    case SC_V_RSET:
        if (r->code == 250 && s->txn.open)
            smtp_txn_end(s, SC_TXN_ABORTED, r->last, r->last_len);
        break;
    case SC_V_QUIT:
        smtp_command_quit(s, p->frame);
        s->seq.quit_answered = true;
        if (s->txn.open)
            smtp_txn_end(s, SC_TXN_ABORTED, NULL, 0);
        break;
    default:
        break;
    }
}

/* How well a code fits a command: 2 when it is one of the command's own
 * codes (for a line that is no command, such as the empty line a lenient
 * server reads, 500 and 502 are), 1 when only any command may draw it
 * (421, 500, 501, 502, 530, 554), 0 when it does not fit. */
static int smtp_smuggle_fit(const sc_pending *p, int code)
{
    if (sc_cmd_owns(p->verb, code) ||
        (p->verb == SC_V_UNKNOWN && (code == 500 || code == 502)))
        return 2;
    return sc_pending_allows(p, code) ? 1 : 0;
}

/* How well the reply fits the first smuggled command(s) that can take it
 * (an empty line may go unanswered). */
static int smtp_smuggle_shadow_fit(const sc_smtp *s, int code)
{
    for (unsigned i = 0; i < s->smug.nshadow; i++) {
        const sc_pending *p = &s->smug.shadow[i].p;
        int f = smtp_smuggle_fit(p, code);
        if (f || !(p->flags & SC_PF_OPTIONAL))
            return f;
    }
    return 0;
}

bool smtp_smuggle_check(sc_smtp *s, const sc_reply *r, bool during)
{
    unsigned idx;
    sc_match_kind k;

    if (!during) {
        /* The reply after the dot's: strict reading first. Only a reply
         * that fits no pending command but fits the first smuggled one is
         * taken as the lenient server's. */
        if (!s->smug.armed)
            return false;
        s->smug.armed = false;
        /* A reply both readings take goes to the one it fits better: a
         * 500 fits the empty line a lenient server read far better than
         * the QUIT a strict one would be answering. */
        int shadow = smtp_smuggle_shadow_fit(s, r->code);
        k = sc_matcher_match(&s->m, r->code, &idx);
        if ((k == SC_MATCH_HEAD || k == SC_MATCH_LATER) &&
            smtp_smuggle_fit(sc_matcher_at(&s->m, idx), r->code) >= shadow)
            return false;
        if (!shadow)
            return false;
    }
    smtp_report rep;
    if (smtp_report_begin(s, &rep, R_EOD_ACCEPTED_AMBIGUOUS, SC_SIDE_SERVER, r->frame,
                          "the server took %s at stream offset %llu (frame %s) for the end "
                          "of data: %s",
                          s->smug.amb_what, (unsigned long long)s->smug.amb_off,
                          sc_frame_bare(s->smug.amb_frame),
                          during ? "it answered before the real <CRLF>.<CRLF>; what follows "
                                   "in the content is commands to it"
                                 : "its replies answer the commands smuggled in the message content")) {
        if (s->smug.nshadow)
            smtp_report_evidence(&rep, s->smug.shadow[0].p.frame, SC_DIR_C2S, s->smug.shadow[0].p.text,
                                 s->smug.shadow[0].p.tlen);
        smtp_report_evidence(&rep, r->frame, SC_DIR_S2C, r->first, r->first_len);
        smtp_report_end(s, &rep);
    }
    /* Re-synchronise as that server did: the smuggled commands come first. */
    if (!during) {
        sc_pending tail;
        bool has_tail = s->smug.has_data && !s->smug.data_ended;
        smtp_pending_fill(&tail, SC_V_EOD, s->smug.amb_frame, (const uint8_t *)".", 1);
        tail.flags = SC_PF_SMUGGLED;
        if (has_tail)
            sc_matcher_push_front(&s->m, &tail);
        for (unsigned i = s->smug.nshadow; i-- > 0;)
            sc_matcher_push_front(&s->m, &s->smug.shadow[i].p);
        for (unsigned i = 0; i < s->smug.nshadow; i++)
            smtp_smuggle_show(s, &s->smug.shadow[i].p);
        /* The message that server accepted ended at the sequence. */
        smtp_txn_last_bytes(s, s->smug.amb_bytes);
        if (has_tail) {
            /* To that server, the smuggled message's content was sent before
             * the 354 to the smuggled DATA: every reply came after it. */
            const sc_pending *d = &s->smug.shadow[s->smug.nshadow - 1].p;
            smtp_content_too_early(s, d->frame, SMTP_EARLY_SMUGGLED, d->frame, false);
        }
    } else {
        s->smug.live = true;
        for (unsigned i = 0; i < s->smug.nshadow; i++) {
            smtp_smuggle_show(s, &s->smug.shadow[i].p);
            smtp_push(s, &s->smug.shadow[i].p);
        }
        /* The smuggled message's content already sent: before any 354. */
        if (s->smug.has_data && (s->smug.data_bytes > 0 || s->smug.data_ended))
            smtp_content_too_early(s, s->smug.data_frame, SMTP_EARLY_SMUGGLED_LINE,
                                   s->smug.data_frame, false);
    }
    return true;
}
