/*
 * smtp_command.c - the client's command lines: each complete line is
 * shown, checked against what the client knew when it sent it, and queued
 * in the matcher (src/smtp/matcher.c) for its reply.
 *
 * Rules: pregreeting, pipelining-unadvertised, pipelining-not-last,
 * command-after-quit, etrn-in-transaction, helo-no-domain. The line's
 * other checks are handed to the files of their concern, in this order:
 * its form (smtp_lines.c), STARTTLS injection (smtp_starttls.c), content a server
 * reads as commands (smtp_content.c), extensions (smtp_ext.c).
 *
 * Interface: smtp_command_line() is the client machine's command callback;
 * smtp_command_pregreet() and smtp_command_after_quit() are the one place
 * their rules fire (also for bytes that never became a line, see smtp.c
 * and smtp_close.c); smtp_command_partial() queues a last line cut by the
 * client's close; smtp_pending_fill() and smtp_push() build and queue a
 * pending command; smtp_command_txn_over() and smtp_command_helo_refused()
 * are how replies change the client's sequence state; smtp_command_quit()
 * records a QUIT a lenient server read in message content.
 *
 * The client's sequence (c_helo, c_mail, c_rcpt) is what the client knew
 * when it sent a command: RFC 2920 lets it send ahead of the replies, so
 * the server's view (smtp_answer.c) is kept apart.
 *
 * Diagnostics: one transcript event when the matcher's queue is full (the
 * rest are counted, not tracked one by one).
 */
#include <string.h>

#include "smtp_int.h"
#include "smtp/args.h"

void smtp_pending_fill(sc_pending *p, sc_verb v, uint64_t frame,
                       const uint8_t *t, size_t n)
{
    memset(p, 0, sizeof *p);
    p->verb = v;
    p->frame = frame;
    p->tlen = (uint8_t)(n < SC_PENDING_TEXT ? n : SC_PENDING_TEXT);
    memcpy(p->text, t, p->tlen);
}

void smtp_push(sc_smtp *s, const sc_pending *p)
{
    if (!sc_matcher_push(&s->m, p) && !s->cmd.queue_full_shown) {
        s->cmd.queue_full_shown = true;
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_EVENT, p->frame,
                      "[%d commands wait for replies: the next ones are counted, not "
                      "tracked one by one]", SC_PENDING_MAX);
    }
}

/* pregreeting: the client spoke before the greeting could have been seen.
 * Not when server bytes went by that the capture lost (the greeting may be
 * among them; a multi-line greeting still being read does count, as
 * postscreen's "220-" pregreet test shows), nor after the server closed
 * (no greeting can come then). txt NULL: bytes that are no line yet. */
void smtp_command_pregreet(sc_smtp *s, uint64_t frame, const uint8_t *txt, size_t tn)
{
    sc_evidence e;

    if (s->reply.greeted || s->cap.midstream || s->info.tls ||
        s->cap.srv_spoke || s->close.fin[SC_DIR_S2C] || s->close.rst[SC_DIR_S2C])
        return;
    if (!smtp_once(s, R_PREGREETING, SC_SIDE_CLIENT))
        return;
    if (!txt)
        smtp_find(s, R_PREGREETING, SC_SIDE_CLIENT, frame, NULL,
                  "the client sent bytes before the server's greeting");
    else
        smtp_find(s, R_PREGREETING, SC_SIDE_CLIENT, frame,
                  smtp_ev(&e, frame, SC_DIR_C2S, txt, tn),
                  "the client sent \"%.*s\" before the server's greeting",
                  (int)(tn < 60 ? tn : 60), (const char *)txt);
}

/* command-after-quit, once per session. txt NULL: bytes after QUIT that
 * never became a line. */
void smtp_command_after_quit(sc_smtp *s, uint64_t frame, const uint8_t *txt, size_t tn)
{
    sc_evidence e;

    if (!s->cmd.quit_sent || !smtp_once(s, R_COMMAND_AFTER_QUIT, SC_SIDE_CLIENT))
        return;
    if (!txt)
        smtp_find(s, R_COMMAND_AFTER_QUIT, SC_SIDE_CLIENT, frame, NULL,
                  "the client sent bytes after QUIT (%s)",
                  sc_frame_name(s->cmd.quit_frame));
    else
        smtp_find(s, R_COMMAND_AFTER_QUIT, SC_SIDE_CLIENT, frame,
                  smtp_ev(&e, frame, SC_DIR_C2S, txt, tn),
                  "the client sent \"%.*s\" after QUIT (%s)",
                  (int)(tn < 60 ? tn : 60), (const char *)txt,
                  sc_frame_name(s->cmd.quit_frame));
}

static void smtp_command_pipelining(sc_smtp *s, const sc_cline *l, const uint8_t *txt,
                                    size_t tn)
{
    sc_pending *prev = sc_matcher_last_firm(&s->m);
    sc_evidence e;

    /* Bytes after STARTTLS before its 220 are starttls-injection, the
     * specific form: the same bytes are not reported again as pipelining
     * (as starttls-unadvertised replaces extension-unadvertised). */
    if (!prev || s->cap.blind || s->tls.pending)
        return;
    if (prev->verb != SC_V_EOD && prev->verb != SC_V_RESIDUE &&
        !(prev->flags & SC_PF_ONEROUND) && sc_cmd_get(prev->verb)->ends_group) {
        smtp_report r;
        if (smtp_report_begin(s, &r, R_PIPELINING_NOT_LAST, SC_SIDE_CLIENT, l->frame,
                              "%.*s was sent before the reply to %.*s (%s), "
                              "which may only end a pipelined group",
                              (int)tn, (const char *)txt, SC_PTXT(prev),
                              sc_frame_name(prev->frame))) {
            smtp_report_evidence(&r, prev->frame, SC_DIR_C2S, prev->text, prev->tlen);
            smtp_report_evidence(&r, l->frame, SC_DIR_C2S, txt, tn);
            smtp_report_end(s, &r);
        }
        return;
    }
    if (!(s->ext.bits & SC_EXT_PIPELINING) && !smtp_capture_ext_unseen(s) &&
        smtp_once(s, R_PIPELINING_UNADVERTISED, SC_SIDE_CLIENT)) {
        smtp_find(s, R_PIPELINING_UNADVERTISED, SC_SIDE_CLIENT, l->frame,
                  smtp_ev(&e, l->frame, SC_DIR_C2S, txt, tn),
                  "%.*s was sent before the reply to %.*s (%s), but the server %s",
                  (int)tn, (const char *)txt, SC_PTXT(prev),
                  sc_frame_name(prev->frame),
                  !s->ext.known ? "had not listed PIPELINING (no EHLO reply yet)"
                  : s->ext.helo_session ? "was greeted with HELO (no extensions)"
                  : "did not list PIPELINING in its EHLO reply");
    }
}

/* The client-side sequence check, from what the client knew when it sent
 * the command: the reason when it is out of order. */
static const char *smtp_command_seq(const sc_smtp *s, sc_verb v)
{
    switch (v) {
    case SC_V_MAIL:
        if (!s->cmd.helo)
            return "MAIL before EHLO/HELO";
        if (s->cmd.mail)
            return "MAIL inside a mail transaction";
        return NULL;
    case SC_V_RCPT:
        return s->cmd.mail ? NULL : "RCPT without a MAIL";
    case SC_V_DATA:
    case SC_V_BDAT:
        return s->cmd.rcpt ? NULL : "DATA/BDAT without a RCPT";
    default:
        return NULL;
    }
}

void smtp_command_txn_over(sc_smtp *s)
{
    s->cmd.mail = s->cmd.rcpt = false;
}

void smtp_command_helo_refused(sc_smtp *s)
{
    s->cmd.helo = false;
}

/* ---- What each verb does to the session, as it is sent ---- */

typedef struct smtp_cmd_ctx {
    const sc_cline *l;
    const uint8_t  *txt;     /* the line as shown (AUTH responses masked) */
    size_t          tn;
    sc_pending     *p;       /* the entry to queue */
} smtp_cmd_ctx;

/* Returns true when the verb queued its entry itself. */
typedef bool (*smtp_cmd_fn)(sc_smtp *s, const smtp_cmd_ctx *c);

/* helo-no-domain: the verb alone, or followed by blanks only. Whatever
 * the argument is (localhost, a bare IP), it is one: RFC 5321 §4.1.4 lets
 * the server not verify it, and such names are common. */
static void smtp_cmd_helo_domain(sc_smtp *s, const smtp_cmd_ctx *c)
{
    sc_evidence e;
    const uint8_t *t = c->l->text;
    size_t i = 4, n = c->l->kept;

    if (c->l->len > n)        /* a long line was cut: it has an argument */
        return;
    while (i < n && (t[i] == ' ' || t[i] == '\t'))
        i++;
    if (i < n)
        return;
    smtp_find(s, R_HELO_NO_DOMAIN, SC_SIDE_CLIENT, c->l->frame,
              smtp_ev(&e, c->l->frame, SC_DIR_C2S, c->txt, c->tn),
              "%.4s without a domain or address literal", (const char *)t);
}

/* The name the client gave (its first EHLO/HELO), for the per-peer
 * summaries. */
static void smtp_cmd_helo_name(sc_smtp *s, const smtp_cmd_ctx *c)
{
    const uint8_t *a;
    size_t an;

    if (s->info.helo_name.len)
        return;
    sc_arg_after(c->l->text, c->l->kept, "", &a, &an);
    an = sc_arg_word(a, an);
    if (an > sizeof s->names.helo)
        an = sizeof s->names.helo;
    memcpy(s->names.helo, a, an);
    s->info.helo_name = (sc_bytes){ s->names.helo, an };
}

static bool smtp_cmd_helo(sc_smtp *s, const smtp_cmd_ctx *c)
{
    smtp_cmd_helo_domain(s, c);
    smtp_cmd_helo_name(s, c);
    s->cmd.helo = true;
    s->cmd.mail = s->cmd.rcpt = false;
    return false;
}

static bool smtp_cmd_mail(sc_smtp *s, const smtp_cmd_ctx *c)
{
    const uint8_t *a;
    size_t an;

    sc_arg_after(c->l->text, c->l->kept, "FROM:", &a, &an);
    if (s->txn.open)
        smtp_txn_end(s, SC_TXN_ABORTED, NULL, 0);
    smtp_txn_begin(s, a, an);
    s->cmd.mail = true;
    s->cmd.rcpt = false;
    smtp_content_mail(s, c->l);
    return false;
}

static bool smtp_cmd_rcpt(sc_smtp *s, const smtp_cmd_ctx *c)
{
    const uint8_t *a;
    size_t an;

    sc_arg_after(c->l->text, c->l->kept, "TO:", &a, &an);
    smtp_txn_rcpt(s, a, an);
    if (s->cmd.mail)
        s->cmd.rcpt = true;
    return false;
}

static bool smtp_cmd_rset(sc_smtp *s, const smtp_cmd_ctx *c)
{
    (void)c;
    s->cmd.mail = s->cmd.rcpt = false;
    return false;
}

static bool smtp_cmd_etrn(sc_smtp *s, const smtp_cmd_ctx *c)
{
    sc_evidence e;

    if (!s->cmd.mail)
        return false;
    c->p->flags |= SC_PF_INTXN;
    smtp_find(s, R_ETRN_IN_TRANSACTION, SC_SIDE_CLIENT, c->l->frame,
              smtp_ev(&e, c->l->frame, SC_DIR_C2S, c->txt, c->tn),
              "ETRN sent inside a mail transaction (MAIL sent, DATA not completed)");
    return false;
}

/* QUIT sent: by a command line, or read by a lenient server in message
 * content (smtp_smuggle.c) and answered. */
void smtp_command_quit(sc_smtp *s, uint64_t frame)
{
    if (!s->cmd.quit_sent) {
        s->cmd.quit_sent = true;
        s->cmd.quit_frame = frame;
    }
}

static bool smtp_cmd_quit(sc_smtp *s, const smtp_cmd_ctx *c)
{
    smtp_command_quit(s, c->l->frame);
    return false;
}

static bool smtp_cmd_starttls(sc_smtp *s, const smtp_cmd_ctx *c)
{
    (void)c;
    smtp_starttls_sent(s);
    return false;
}

static bool smtp_cmd_data(sc_smtp *s, const smtp_cmd_ctx *c)
{
    smtp_content_data(s, c->l, c->txt, c->tn, c->p);
    return true;
}

static bool smtp_cmd_bdat(sc_smtp *s, const smtp_cmd_ctx *c)
{
    smtp_push(s, c->p);
    /* The queued copy carries the chunk's flags (LAST). */
    sc_pending *q = sc_matcher_last_firm(&s->m);
    smtp_content_bdat(s, c->l, q ? q : c->p);
    return true;
}

static const smtp_cmd_fn smtp_cmd_table[SC_V_COUNT] = {
    [SC_V_HELO] = smtp_cmd_helo, [SC_V_EHLO] = smtp_cmd_helo,
    [SC_V_MAIL] = smtp_cmd_mail, [SC_V_RCPT] = smtp_cmd_rcpt,
    [SC_V_RSET] = smtp_cmd_rset, [SC_V_ETRN] = smtp_cmd_etrn,
    [SC_V_QUIT] = smtp_cmd_quit, [SC_V_STARTTLS] = smtp_cmd_starttls,
    [SC_V_DATA] = smtp_cmd_data, [SC_V_BDAT] = smtp_cmd_bdat,
};

void smtp_command_line(void *ctx, const sc_cline *l)
{
    sc_smtp *s = ctx;
    sc_verb v = sc_cmd_parse(l->text, l->kept);
    uint8_t masked[SC_LINE_KEEP + 64];
    const uint8_t *txt = l->text;
    size_t tn = l->kept;
    sc_pending p;
    sc_cline ml;
    bool one_round = false;

    if (smtp_auth_unknown_line(s, l, v)) {
        /* A possible credential: shown masked, never read as a command. */
        smtp_capture_midstream(s, l->frame, "the first complete command line");
        smtp_capture_client_line(s, v);
        return;
    }
    if (v == SC_V_AUTH) {
        one_round = smtp_auth_command(s, l, masked, &tn);
        txt = masked;
    } else if (smtp_mask_line(s, l, v, masked, &tn)) {
        /* --redact, maybe content: every rule reads the masked line */
        ml = *l;
        ml.text = txt = masked;
        ml.kept = tn;
        l = &ml;
    }
    smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, l->frame, txt, tn);
    smtp_capture_midstream(s, l->frame, "the first complete command line");
    smtp_capture_client_line(s, v);
    s->cmd.last_verb = v;

    smtp_command_pregreet(s, l->frame, txt, tn);
    smtp_command_after_quit(s, l->frame, txt, tn);
    smtp_lines_command(s, l, txt, tn);
    smtp_starttls_injection(s, l->frame, txt, tn);

    /* Mid-stream or after a gap, a line that is no command is most likely
     * message content: do not queue it. */
    if (s->cap.blind && v == SC_V_UNKNOWN) {
        if (l->kept == 0 || l->text[0] != '.' || l->kept != 1)
            return;
        v = SC_V_EOD;
    }
    smtp_content_residue(s, v, l->frame, txt, tn);

    smtp_pending_fill(&p, v, l->frame, txt, tn);
    if (s->tls.pending)
        p.flags |= SC_PF_INJECTED;
    if (s->cmd.quit_sent)
        p.flags |= SC_PF_OPTIONAL;   /* a server need not answer after QUIT */
    if (s->content.residue_mode)
        p.flags |= SC_PF_RESIDUE;    /* content the server reads as a command */
    if (v == SC_V_EOD)
        p.flags |= SC_PF_OPTIONAL | SC_PF_BLIND;
    if (one_round)
        p.flags |= SC_PF_ONEROUND;
    smtp_command_pipelining(s, l, txt, tn);
    smtp_ext_command(s, v, l, txt, tn);
    if (smtp_command_seq(s, v))
        p.flags |= SC_PF_BADSEQ;

    smtp_cmd_ctx c = { l, txt, tn, &p };
    if (!smtp_cmd_table[v] || !smtp_cmd_table[v](s, &c))
        smtp_push(s, &p);
}

/* The client closes in the middle of a command line: servers commonly
 * read what came before the end of file as a last command and answer it
 * (sendmail does), so it is shown and may get a reply (optional). */
void smtp_command_partial(sc_smtp *s, uint64_t frame)
{
    const sc_client *c = &s->client;
    sc_pending p;

    if (s->info.tls || c->mode != SC_CM_COMMAND || !c->in_line || c->len == 0 || c->resync)
        return;
    if (smtp_auth_partial(s, frame, c->buf, c->kept, c->start, c->len))
        return;
    uint8_t line[SC_LINE_KEEP];
    size_t kept = c->kept < sizeof line ? c->kept : sizeof line;
    memcpy(line, c->buf, kept);
    smtp_pseudo_client(s, line, kept, c->len, c->start);
    smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, frame, line, kept);
    smtp_pending_fill(&p, sc_cmd_parse(line, kept), frame, line, kept);
    p.flags |= SC_PF_OPTIONAL;
    if (s->cap.blind)
        p.flags |= SC_PF_BLIND;
    smtp_push(s, &p);
}
