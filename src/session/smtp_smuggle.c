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

void smtp_smuggle_reset(sc_smtp *s)
{
    s->smug.ambiguous = false;
    s->smug.nshadow = 0;
    s->smug.on = s->smug.in_data = s->smug.has_data = false;
    s->smug.data_answered = false;
    s->smug.live = false;
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
    s->smug.on = true;
    smtp_content_count_only(s);
    smtp_find(s, R_EOD_AMBIGUOUS, SC_SIDE_CLIENT, frame, NULL,
              "message content holds %s at stream offset %llu (frame %s): a lenient "
              "server takes it for the end of data (SMTP smuggling)",
              what, (unsigned long long)off, sc_frame_bare(frame));
}

/* Shadow reading: after an ambiguous end-of-data sequence, each content
 * line is what a lenient server would read as a command. */
void smtp_smuggle_line(sc_smtp *s, const sc_cline *l)
{
    if (!s->smug.on)
        return;
    if (s->smug.in_data) {
        /* Content of the smuggled message: to a lenient server that has
         * not yet sent 354 to the smuggled DATA, it comes too early. */
        if (s->smug.live && !s->smug.data_answered)
            smtp_content_too_early(s, l->frame, SMTP_EARLY_SMUGGLED_LINE, s->smug.data_frame,
                                   false);
        return;
    }
    sc_verb v = sc_cmd_parse(l->text, l->kept);
    if (v == SC_V_UNKNOWN && l->kept == 0)
        return;
    if (!s->smug.shadow)
        s->smug.shadow = calloc(SC_SHADOW_KEEP, sizeof *s->smug.shadow);   /* NULL: none kept */
    if (s->smug.shadow && s->smug.nshadow < SC_SHADOW_KEEP) {
        sc_pending *p = &s->smug.shadow[s->smug.nshadow++].p;
        smtp_pending_fill(p, v, l->frame, l->text, l->kept);
        p->flags |= SC_PF_SMUGGLED;
        if (s->smug.live) {
            smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, l->frame, l->text, l->kept);
            smtp_push(s, p);
        }
    }
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
 * finding that revealed it. */
void smtp_smuggle_answer(sc_smtp *s, const sc_pending *p, int code)
{
    if (p->verb == SC_V_DATA && code == 354)
        s->smug.data_answered = true;
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
        k = sc_matcher_match(&s->m, r->code, &idx);
        if (k == SC_MATCH_HEAD || k == SC_MATCH_LATER)
            return false;
        if (!sc_pending_allows(&s->smug.shadow[0].p, r->code))
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
        bool has_tail = s->smug.has_data;
        smtp_pending_fill(&tail, SC_V_EOD, s->smug.amb_frame, (const uint8_t *)".", 1);
        tail.flags = SC_PF_SMUGGLED;
        if (has_tail)
            sc_matcher_push_front(&s->m, &tail);
        for (unsigned i = s->smug.nshadow; i-- > 0;)
            sc_matcher_push_front(&s->m, &s->smug.shadow[i].p);
        for (unsigned i = 0; i < s->smug.nshadow; i++)
            smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, s->smug.shadow[i].p.frame,
                      s->smug.shadow[i].p.text, s->smug.shadow[i].p.tlen);
        if (has_tail) {
            /* To that server, the smuggled message's content was sent before
             * the 354 to the smuggled DATA: every reply came after it. */
            const sc_pending *d = &s->smug.shadow[s->smug.nshadow - 1].p;
            smtp_content_too_early(s, d->frame, SMTP_EARLY_SMUGGLED, d->frame, false);
        }
    } else {
        s->smug.live = true;
        for (unsigned i = 0; i < s->smug.nshadow; i++) {
            smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, s->smug.shadow[i].p.frame,
                      s->smug.shadow[i].p.text, s->smug.shadow[i].p.tlen);
            smtp_push(s, &s->smug.shadow[i].p);
        }
    }
    return true;
}
