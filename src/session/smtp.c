/*
 * smtp.c - one SMTP session (sc_smtp, include/session.h): flow events in
 * wire order drive the client machine (src/smtp/client.c) and the server
 * machine (src/smtp/server.c); commands wait in the matcher
 * (src/smtp/matcher.c) for their replies; the rules of include/rules.def
 * are checked where the line that completes them is read.
 *
 * Capture order is evidence (../shared/spec/rules.md): a command seen
 * before a reply was sent before the client had that reply. No rule here
 * rests on timing.
 *
 * Diagnostics: every finding names the frame of the line that completes
 * it and quotes its evidence lines; transcript lines are streamed to the
 * sink, never kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp_int.h"

static const sc_evidence *ev_of(sc_evidence *e, uint64_t frame, sc_dir dir,
                                const uint8_t *t, size_t n)
{
    *e = (sc_evidence){ frame, dir, t, n };
    return e;
}

static sc_side side_of(sc_dir d)
{
    return d == SC_DIR_C2S ? SC_SIDE_CLIENT : SC_SIDE_SERVER;
}

static const char *dir_who(sc_dir d)
{
    return d == SC_DIR_C2S ? "client" : "server";
}

/* ------------------------------------------------------------------ */
/* Small readers of command arguments                                  */

/* The argument after "VERB " and an optional "FROM:"/"TO:" prefix. */
static void smtp_arg(const uint8_t *t, size_t n, const char *prefix,
                     const uint8_t **ap, size_t *an)
{
    size_t i = 0, pl = strlen(prefix);

    while (i < n && t[i] != ' ')
        i++;
    while (i < n && t[i] == ' ')
        i++;
    if (pl && n - i >= pl && strncasecmp((const char *)t + i, prefix, pl) == 0)
        i += pl;
    while (i < n && t[i] == ' ')
        i++;
    *ap = t + i;
    *an = n - i;
}

/* Finds the ESMTP parameter `name` ("SIZE=", "SMTPUTF8") in a MAIL/RCPT
 * line, after the path. Returns its value start or NULL. */
static const uint8_t *smtp_param(const uint8_t *t, size_t n, const char *name,
                                 size_t *vlen)
{
    size_t i = 0, nl = strlen(name);
    const uint8_t *gt = memchr(t, '>', n);

    i = gt ? (size_t)(gt - t) + 1 : n;
    while (i < n) {
        while (i < n && t[i] == ' ')
            i++;
        size_t st = i;
        while (i < n && t[i] != ' ')
            i++;
        if (i - st >= nl && strncasecmp((const char *)t + st, name, nl) == 0 &&
            (name[nl - 1] == '=' || i - st == nl)) {
            *vlen = i - st - nl;
            return t + st + nl;
        }
    }
    return NULL;
}

static uint64_t smtp_num(const uint8_t *p, size_t n, bool *ok)
{
    uint64_t v = 0;

    *ok = n > 0 && n <= 19;
    for (size_t i = 0; i < n && *ok; i++) {
        if (p[i] < '0' || p[i] > '9')
            *ok = false;
        else
            v = v * 10 + (uint64_t)(p[i] - '0');
    }
    return v;
}

static void smtp_pending_fill(sc_pending *p, sc_verb v, uint64_t frame,
                              const uint8_t *t, size_t n)
{
    memset(p, 0, sizeof *p);
    p->verb = v;
    p->frame = frame;
    p->tlen = (uint8_t)(n < SC_PENDING_TEXT ? n : SC_PENDING_TEXT);
    memcpy(p->text, t, p->tlen);
}

/* ------------------------------------------------------------------ */
/* Session-level helpers                                               */

static void smtp_midstream_note(sc_smtp *s, uint64_t frame, const char *where)
{
    if (!s->midstream || s->midstream_reported)
        return;
    s->midstream_reported = true;
    smtp_find(s, R_CAPTURE_MIDSTREAM, SC_SIDE_CAPTURE, frame, NULL,
              "no TCP handshake in the capture: the connection was already open; "
              "analysis starts at %s (frame %s), rules about earlier events are blind",
              where, sc_frame_bare(frame));
}

static void smtp_push(sc_smtp *s, const sc_pending *p)
{
    if (!sc_matcher_push(&s->m, p) && !s->rep_untracked) {
        s->rep_untracked = true;
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_EVENT, p->frame,
                      "[%d commands wait for replies: the next ones are counted, not "
                      "tracked one by one]", SC_PENDING_MAX);
    }
}

static bool smtp_in_txn_client(const sc_smtp *s)
{
    return s->c_mail;
}

/* pregreeting: the client spoke before the greeting could have been seen.
 * Not when server bytes went by that the capture lost (the greeting may be
 * among them; a multi-line greeting still being read does count, as
 * postscreen's "220-" pregreet test shows), nor after the server closed (no greeting can come then). */
static bool smtp_pregreet_possible(const sc_smtp *s)
{
    return !s->greeted && !s->rep_pregreet && !s->midstream && !s->info.tls &&
           !s->srv_spoke && !s->fin[SC_DIR_S2C] && !s->rst[SC_DIR_S2C];
}

/* The content of one message is over (end of data, rejection, close). */
static void smtp_content_finish(sc_smtp *s, uint64_t frame)
{
    if (s->c_bare) {
        smtp_find(s, R_BARE_LF, SC_SIDE_CLIENT, s->c_bare_frame, NULL,
                  "message content holds %llu bare CR/LF line ending%s; the first at "
                  "stream offset %llu (frame %s)",
                  (unsigned long long)s->c_bare, s->c_bare == 1 ? "" : "s",
                  (unsigned long long)s->c_bare_off, sc_frame_bare(s->c_bare_frame));
        s->c_bare = 0;
    }
    (void)frame;
}

/* Lines need to be seen one by one for --show-content and while the
 * shadow reads content as commands. */
static void smtp_count_only_set(sc_smtp *s)
{
    s->client.count_only = !s->cfg->show_content && !s->shadow_on;
}

static void smtp_content_reset(sc_smtp *s)
{
    s->c_lines = s->c_bytes = s->c_bare = s->c_longest = 0;
    s->c_long_reported = s->c_ambiguous = s->c_unfinished = false;
    s->c_shown_lines = s->c_shown_bytes = s->c_last_frame = 0;
    s->c_split = false;
    s->answered_early = false;
    s->nshadow = 0;
    s->shadow_on = s->shadow_in_data = s->shadow_has_data = false;
    s->shadow_data_answered = s->shadow_early_reported = false;
    s->smuggle_live = false;
    smtp_count_only_set(s);
}

/* True while the client is inside message content (after DATA, before
 * its dot) and has sent some of it. */
static bool smtp_content_live(const sc_smtp *s)
{
    return s->client.mode == SC_CM_CONTENT && s->client.content_started && !s->c_unfinished;
}

/* A server reply, a close or a gap crosses the message content: the
 * content sent so far gets its summary line first, so that the transcript
 * shows the crossing (with --show-content the lines are already there). */
static void smtp_content_partial(sc_smtp *s)
{
    struct timeval now = s->ts;

    if (s->cfg->show_content || !smtp_content_live(s) ||
        (s->c_lines == s->c_shown_lines && s->c_bytes == s->c_shown_bytes))
        return;
    s->ts = s->c_last_ts;            /* the line is dated by its last content */
    if (!s->c_split)
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_CONTENT, s->c_last_frame,
                      "[message content: %llu lines, %llu bytes so far]",
                      (unsigned long long)s->c_lines, (unsigned long long)s->c_bytes);
    else
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_CONTENT, s->c_last_frame,
                      "[message content, continued: +%llu lines, +%llu bytes (%llu lines, "
                      "%llu bytes so far)]",
                      (unsigned long long)(s->c_lines - s->c_shown_lines),
                      (unsigned long long)(s->c_bytes - s->c_shown_bytes),
                      (unsigned long long)s->c_lines, (unsigned long long)s->c_bytes);
    s->c_shown_lines = s->c_lines;
    s->c_shown_bytes = s->c_bytes;
    s->c_split = true;
    s->ts = now;
}

/* The last summary line of a message's content: at its dot (eod), or
 * when it can no longer end (close, capture end). */
static void smtp_content_summary(sc_smtp *s, uint64_t frame, bool eod)
{
    const char *end = eod ? "end of data" : "no end of data";
    bool more = s->c_lines != s->c_shown_lines || s->c_bytes != s->c_shown_bytes;

    struct timeval now = s->ts;

    if (s->cfg->show_content)
        return;
    if (!eod && more && s->c_last_frame) {
        frame = s->c_last_frame;
        s->ts = s->c_last_ts;
    }
    if (!s->c_split)
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_CONTENT, frame,
                      "[message content: %llu lines, %llu bytes%s]",
                      (unsigned long long)s->c_lines, (unsigned long long)s->c_bytes,
                      eod ? "" : ", no end of data");
    else if (!more)
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_CONTENT, frame,
                      "[message content: nothing more, %s (%llu lines, %llu bytes in all)]",
                      end, (unsigned long long)s->c_lines, (unsigned long long)s->c_bytes);
    else
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_CONTENT, frame,
                      "[message content, continued: +%llu lines, +%llu bytes, %s "
                      "(%llu lines, %llu bytes in all)]",
                      (unsigned long long)(s->c_lines - s->c_shown_lines),
                      (unsigned long long)(s->c_bytes - s->c_shown_bytes), end,
                      (unsigned long long)s->c_lines, (unsigned long long)s->c_bytes);
    s->c_shown_lines = s->c_lines;
    s->c_shown_bytes = s->c_bytes;
    s->ts = now;
}

/* ------------------------------------------------------------------ */
/* Client machine callbacks                                            */

static void smtp_check_pipelining(sc_smtp *s, const sc_cline *l, const uint8_t *txt,
                                  size_t tn)
{
    sc_pending *prev = sc_matcher_last_firm(&s->m);
    sc_evidence e;

    /* Bytes after STARTTLS before its 220 are starttls-injection, the
     * specific form: the same bytes are not reported again as pipelining
     * (as starttls-unadvertised replaces extension-unadvertised). */
    if (!prev || s->blind || s->starttls_pending)
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
    if (!(s->ext & SC_EXT_PIPELINING) && !s->rep_pipe) {
        s->rep_pipe = true;
        smtp_find(s, R_PIPELINING_UNADVERTISED, SC_SIDE_CLIENT, l->frame,
                  ev_of(&e, l->frame, SC_DIR_C2S, txt, tn),
                  "%.*s was sent before the reply to %.*s (%s), but the server %s",
                  (int)tn, (const char *)txt, SC_PTXT(prev),
                  sc_frame_name(prev->frame),
                  !s->ext_known ? "had not listed PIPELINING (no EHLO reply yet)"
                  : s->helo_session ? "was greeted with HELO (no extensions)"
                  : "did not list PIPELINING in its EHLO reply");
    }
}

/* Extension parameters of MAIL/RCPT and the EHLO keyword each needs. */
static const struct { const char *param; unsigned ext; } smtp_params[] = {
    { "SIZE=", SC_EXT_SIZE }, { "SMTPUTF8", SC_EXT_SMTPUTF8 },
    { "RET=", SC_EXT_DSN }, { "ENVID=", SC_EXT_DSN }, { "NOTIFY=", SC_EXT_DSN },
    { "ORCPT=", SC_EXT_DSN },
};

static void smtp_check_extension(sc_smtp *s, sc_verb v, const sc_cline *l,
                                 const uint8_t *txt, size_t tn)
{
    sc_evidence e;
    unsigned need = sc_cmd_get(v)->ext;

    if (!s->ext_known || s->blind)
        return;
    if (need && !(s->ext & need)) {
        if (v == SC_V_BDAT) {
            if (s->rep_bdat_unadv)
                return;          /* once per session, not per chunk */
            s->rep_bdat_unadv = true;
        }
        sc_rule_id id = v == SC_V_STARTTLS ? R_STARTTLS_UNADVERTISED
                      : v == SC_V_BDAT ? R_BDAT_UNADVERTISED : R_EXTENSION_UNADVERTISED;
        smtp_find(s, id, SC_SIDE_CLIENT, l->frame, ev_of(&e, l->frame, SC_DIR_C2S, txt, tn),
                  "%s used although the server %s", sc_cmd_get(v)->name,
                  s->helo_session ? "was greeted with HELO (no extensions)"
                                  : "did not list it in its EHLO reply");
        return;
    }
    if (v != SC_V_MAIL && v != SC_V_RCPT)
        return;
    char missing[128] = "";
    size_t ml = 0, vl;
    const uint8_t *val;
    for (size_t i = 0; i < sizeof smtp_params / sizeof smtp_params[0]; i++)
        if (smtp_param(l->text, l->kept, smtp_params[i].param, &vl) &&
            !(s->ext & smtp_params[i].ext))
            ml += (size_t)snprintf(missing + ml, sizeof missing - ml, "%s%s",
                                   ml ? ", " : "", smtp_params[i].param);
    if ((val = smtp_param(l->text, l->kept, "BODY=", &vl))) {
        unsigned want = (vl == 10 && strncasecmp((const char *)val, "BINARYMIME", 10) == 0)
                        ? SC_EXT_BINARYMIME : SC_EXT_8BITMIME;
        if (!(s->ext & want) && ml < sizeof missing)
            ml += (size_t)snprintf(missing + ml, sizeof missing - ml, "%sBODY=%.*s",
                                   ml ? ", " : "", (int)(vl < 16 ? vl : 16), (const char *)val);
    }
    if (ml)
        smtp_find(s, R_EXTENSION_UNADVERTISED, SC_SIDE_CLIENT, l->frame,
                  ev_of(&e, l->frame, SC_DIR_C2S, txt, tn),
                  "%s uses %s, which the server %s", sc_cmd_get(v)->name, missing,
                  s->helo_session ? "cannot offer after HELO" : "did not list in its EHLO reply");
}

/* The client-side sequence check, from what the client knew when it sent
 * the command: returns the reason when it is out of order. */
static const char *smtp_seq_reason(const sc_smtp *s, sc_verb v)
{
    switch (v) {
    case SC_V_MAIL:
        if (!s->c_helo)
            return "MAIL before EHLO/HELO";
        if (s->c_mail)
            return "MAIL inside a mail transaction";
        return NULL;
    case SC_V_RCPT:
        return s->c_mail ? NULL : "RCPT without a MAIL";
    case SC_V_DATA:
    case SC_V_BDAT:
        return s->c_rcpt ? NULL : "DATA/BDAT without a RCPT";
    default:
        return NULL;
    }
}

static void smtp_bdat_start(sc_smtp *s, const sc_cline *l, sc_pending *p)
{
    const uint8_t *a;
    size_t an, i = 0;
    bool ok;
    uint64_t n;
    sc_evidence e;

    smtp_arg(l->text, l->kept, "", &a, &an);
    while (i < an && a[i] != ' ')
        i++;
    n = smtp_num(a, i, &ok);
    if (!ok)
        return;            /* a syntax error: the server will say 501 */
    while (i < an && a[i] == ' ')
        i++;
    /* RFC 3030 §2: "BDAT" SP chunk-size [ SP end-marker ] with end-marker
     * "LAST". Anything else is a syntax error that the server refuses
     * without reading a chunk (Postfix: "501/521 5.5.4 Syntax: BDAT count
     * [LAST]"): the next bytes are commands again. */
    if (an - i >= 4 && strncasecmp((const char *)a + i, "LAST", 4) == 0) {
        p->flags |= SC_PF_LAST;
        i += 4;
        while (i < an && a[i] == ' ')
            i++;
    }
    if (i < an) {
        p->flags &= ~(unsigned)SC_PF_LAST;
        return;
    }
    /* After a gap the transaction may have ended in the missing bytes. */
    if (s->txn_data && !s->blind)
        smtp_find(s, R_BDAT_MIXED, SC_SIDE_CLIENT, l->frame,
                  ev_of(&e, l->frame, SC_DIR_C2S, l->text, l->kept),
                  "BDAT in a transaction that already used DATA");
    s->txn_bdat = true;
    if (!s->txn_data && s->c_bytes == 0 && !s->bdat_last)
        smtp_content_reset(s);
    s->bdat_last = p->flags & SC_PF_LAST;
    if (n > 0)
        sc_client_chunk(&s->client, n);
    else
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_BDAT, l->frame, "[BDAT chunk: 0 octets]");
}

/* Masks the initial response of an AUTH line into `masked`. Returns true
 * when the AUTH carries an initial response for a mechanism known to
 * complete in one round trip with no security layer: RFC 4954 §4 lets such
 * an AUTH be followed by more commands in a pipelined group ("Two examples
 * of such SASL mechanisms are PLAIN [PLAIN] and EXTERNAL [SASL]"). */
static bool smtp_auth_start(sc_smtp *s, const sc_cline *l, uint8_t *masked, size_t *mn)
{
    const uint8_t *a;
    size_t an, i = 0;

    smtp_arg(l->text, l->kept, "", &a, &an);
    while (i < an && a[i] != ' ')
        i++;
    s->auth_cred = (i == 5 && strncasecmp((const char *)a, "PLAIN", 5) == 0) ||
                   (i == 5 && strncasecmp((const char *)a, "LOGIN", 5) == 0);
    bool one_round = (i == 5 && strncasecmp((const char *)a, "PLAIN", 5) == 0) ||
                     (i == 8 && strncasecmp((const char *)a, "EXTERNAL", 8) == 0);
    size_t keep = (size_t)(a - l->text) + i;
    if (i == an) {
        *mn = keep;
        memcpy(masked, l->text, keep);
        return false;
    }
    /* An initial response: never shown. */
    uint64_t cred = l->len - keep - 1;
    *mn = (size_t)snprintf((char *)masked, SC_LINE_KEEP, "%.*s [redacted, %llu bytes]",
                           (int)keep, (const char *)l->text, (unsigned long long)cred);
    smtp_redact(s, SC_DIR_C2S, l->off + keep + 1, l->off + l->len);
    if (s->auth_cred && !s->info.tls && !s->rep_auth) {
        sc_evidence e;
        s->rep_auth = true;
        smtp_find(s, R_AUTH_PLAINTEXT, SC_SIDE_CLIENT, l->frame,
                  ev_of(&e, l->frame, SC_DIR_C2S, masked, *mn),
                  "AUTH %.*s credentials sent on an unencrypted session",
                  (int)i, (const char *)a);
    }
    return one_round;
}

/* Shadow reading: after an ambiguous end-of-data sequence, each content
 * line is what a lenient server would read as a command. */
static void smtp_shadow_line(sc_smtp *s, const sc_cline *l)
{
    if (!s->shadow_on)
        return;
    if (s->shadow_in_data) {
        /* Content of the smuggled message: to a lenient server that has
         * not yet sent 354 to the smuggled DATA, it comes too early. */
        if (s->smuggle_live && !s->shadow_data_answered && !s->shadow_early_reported) {
            s->shadow_early_reported = true;
            smtp_find(s, R_DATA_BEFORE_GO_AHEAD, SC_SIDE_CLIENT, l->frame, NULL,
                      "the smuggled message's content was sent before the 354 to the "
                      "smuggled DATA (frame %s)", sc_frame_bare(s->shadow_data_frame));
        }
        return;
    }
    sc_verb v = sc_cmd_parse(l->text, l->kept);
    if (v == SC_V_UNKNOWN && l->kept == 0)
        return;
    if (!s->shadow)
        s->shadow = calloc(SC_SHADOW_KEEP, sizeof *s->shadow);   /* NULL: none kept */
    if (s->shadow && s->nshadow < SC_SHADOW_KEEP) {
        sc_pending *p = &s->shadow[s->nshadow++].p;
        smtp_pending_fill(p, v, l->frame, l->text, l->kept);
        p->flags |= SC_PF_SMUGGLED;
        if (s->smuggle_live) {
            smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, l->frame, l->text, l->kept);
            smtp_push(s, p);
        }
    }
    if (v == SC_V_DATA) {
        s->shadow_in_data = true;
        s->shadow_has_data = true;
        s->shadow_data_frame = l->frame;
    }
}

static void smtp_on_command(void *ctx, const sc_cline *l)
{
    sc_smtp *s = ctx;
    sc_verb v = sc_cmd_parse(l->text, l->kept);
    uint8_t masked[SC_LINE_KEEP + 64];
    const uint8_t *txt = l->text;
    size_t tn = l->kept;
    sc_pending p;
    sc_evidence e;
    const char *why;
    bool one_round = false;

    if (v == SC_V_AUTH) {
        one_round = smtp_auth_start(s, l, masked, &tn);
        txt = masked;
    }
    smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, l->frame, txt, tn);
    smtp_midstream_note(s, l->frame, "the first complete command line");
    s->last_verb = v;

    if (smtp_pregreet_possible(s)) {
        s->rep_pregreet = true;
        smtp_find(s, R_PREGREETING, SC_SIDE_CLIENT, l->frame,
                  ev_of(&e, l->frame, SC_DIR_C2S, txt, tn),
                  "the client sent \"%.*s\" before the server's greeting",
                  (int)(tn < 60 ? tn : 60), (const char *)txt);
    }
    if (s->quit_sent && !s->rep_after_quit) {
        s->rep_after_quit = true;
        smtp_find(s, R_COMMAND_AFTER_QUIT, SC_SIDE_CLIENT, l->frame,
                  ev_of(&e, l->frame, SC_DIR_C2S, txt, tn),
                  "the client sent \"%.*s\" after QUIT (%s)",
                  (int)(tn < 60 ? tn : 60), (const char *)txt,
                  sc_frame_name(s->quit_frame));
    }
    if ((l->bare_lf || l->bare_cr) && !s->rep_bare_cmd) {
        s->rep_bare_cmd = true;
        smtp_find(s, R_BARE_LF, SC_SIDE_CLIENT, l->frame,
                  ev_of(&e, l->frame, SC_DIR_C2S, txt, tn),
                  "command line ended by a bare %s", l->bare_lf ? "LF" : "CR");
    }
    if (l->wire_len > 512 && !s->rep_long_cmd) {
        s->rep_long_cmd = true;
        smtp_find(s, R_LINE_TOO_LONG, SC_SIDE_CLIENT, l->frame,
                  ev_of(&e, l->frame, SC_DIR_C2S, txt, tn < 80 ? tn : 80),
                  "command line of %llu octets (limit 512, CRLF included)",
                  (unsigned long long)l->wire_len);
    }
    if (s->starttls_pending) {
        if (!s->injection) {
            s->injection = true;
            smtp_find(s, R_STARTTLS_INJECTION, SC_SIDE_CLIENT, l->frame,
                      ev_of(&e, l->frame, SC_DIR_C2S, txt, tn),
                      "plaintext command \"%.*s\" sent after STARTTLS before the server's 220",
                      (int)(tn < 60 ? tn : 60), (const char *)txt);
        }
    }

    /* Mid-stream or after a gap, a line that is no command is most likely
     * message content: do not queue it. */
    if (s->blind && v == SC_V_UNKNOWN) {
        if (l->kept == 0 || l->text[0] != '.' || l->kept != 1)
            return;
        v = SC_V_EOD;
    }
    if (v != SC_V_UNKNOWN)
        s->residue_mode = false;
    else if (s->data_rejected && !s->residue_mode) {
        s->residue_mode = true;
        smtp_find(s, R_CONTENT_AFTER_REJECTION, SC_SIDE_CLIENT, l->frame,
                  ev_of(&e, l->frame, SC_DIR_C2S, txt, tn),
                  "DATA was refused, but the client sent message content; the server reads it as commands");
    }
    s->data_rejected = false;

    smtp_pending_fill(&p, v, l->frame, txt, tn);
    if (s->starttls_pending)
        p.flags |= SC_PF_INJECTED;
    if (s->quit_sent)
        p.flags |= SC_PF_OPTIONAL;   /* a server need not answer after QUIT */
    if (s->residue_mode)
        p.flags |= SC_PF_RESIDUE;    /* content the server reads as a command */
    if (v == SC_V_EOD)
        p.flags |= SC_PF_OPTIONAL | SC_PF_BLIND;
    if (one_round)
        p.flags |= SC_PF_ONEROUND;
    smtp_check_pipelining(s, l, txt, tn);
    smtp_check_extension(s, v, l, txt, tn);
    if ((why = smtp_seq_reason(s, v)))
        p.flags |= SC_PF_BADSEQ;

    switch (v) {
    case SC_V_EHLO:
    case SC_V_HELO:
        s->c_helo = true;
        s->c_mail = s->c_rcpt = false;
        break;
    case SC_V_MAIL: {
        const uint8_t *a, *val;
        size_t an, vl;
        bool ok;
        smtp_arg(l->text, l->kept, "FROM:", &a, &an);
        if (s->txn_open)
            smtp_txn_end(s, SC_TXN_ABORTED, NULL, 0);
        smtp_txn_begin(s, a, an);
        s->c_mail = true;
        s->c_rcpt = false;
        s->txn_data = s->txn_bdat = false;
        s->bdat_last = false;
        s->declared_size = 0;
        if ((val = smtp_param(l->text, l->kept, "SIZE=", &vl)))
            s->declared_size = smtp_num(val, vl, &ok);
        smtp_content_reset(s);
        break;
    }
    case SC_V_RCPT: {
        const uint8_t *a;
        size_t an;
        smtp_arg(l->text, l->kept, "TO:", &a, &an);
        smtp_txn_rcpt(s, a, an);
        if (s->c_mail)
            s->c_rcpt = true;
        break;
    }
    case SC_V_RSET:
        s->c_mail = s->c_rcpt = false;
        break;
    case SC_V_ETRN:
        if (smtp_in_txn_client(s)) {
            p.flags |= SC_PF_INTXN;
            smtp_find(s, R_ETRN_IN_TRANSACTION, SC_SIDE_CLIENT, l->frame,
                      ev_of(&e, l->frame, SC_DIR_C2S, txt, tn),
                      "ETRN sent inside a mail transaction (MAIL sent, DATA not completed)");
        }
        break;
    case SC_V_QUIT:
        if (!s->quit_sent) {
            s->quit_sent = true;
            s->quit_frame = l->frame;
        }
        break;
    case SC_V_STARTTLS:
        s->starttls_pending = true;
        break;
    default:
        break;
    }

    if (v == SC_V_DATA) {
        if (s->txn_bdat && !s->blind)
            smtp_find(s, R_BDAT_MIXED, SC_SIDE_CLIENT, l->frame,
                      ev_of(&e, l->frame, SC_DIR_C2S, txt, tn),
                      "DATA in a transaction that already used BDAT");
        s->txn_data = true;
        s->data_pending = true;
        smtp_content_reset(s);
        smtp_push(s, &p);
        sc_client_set_mode(&s->client, SC_CM_CONTENT);
        return;
    }
    if (v == SC_V_BDAT) {
        smtp_push(s, &p);
        smtp_bdat_start(s, l, sc_matcher_last_firm(&s->m) ? sc_matcher_last_firm(&s->m) : &p);
        return;
    }
    smtp_push(s, &p);
}

static void smtp_on_auth(void *ctx, const sc_cline *l)
{
    sc_smtp *s = ctx;
    char buf[64];
    int n;

    sc_client_set_mode(&s->client, SC_CM_COMMAND);
    if (l->kept == 1 && l->text[0] == '*') {
        smtp_line(s, SC_DIR_C2S, SC_LINE_AUTH, l->frame, l->text, 1);
        return;
    }
    n = snprintf(buf, sizeof buf, "[redacted, %llu bytes]", (unsigned long long)l->len);
    smtp_line(s, SC_DIR_C2S, SC_LINE_AUTH, l->frame, (const uint8_t *)buf, (size_t)n);
    smtp_redact(s, SC_DIR_C2S, l->off, l->off + l->len);
    if (s->auth_cred && !s->info.tls && !s->rep_auth && l->len > 0) {
        sc_evidence e;
        s->rep_auth = true;
        smtp_find(s, R_AUTH_PLAINTEXT, SC_SIDE_CLIENT, l->frame,
                  ev_of(&e, l->frame, SC_DIR_C2S, (const uint8_t *)buf, (size_t)n),
                  "AUTH PLAIN/LOGIN credentials sent on an unencrypted session");
    }
}

static void smtp_on_content_begin(void *ctx, uint64_t off, uint64_t frame)
{
    sc_smtp *s = ctx;
    sc_pending *d = sc_matcher_last_firm(&s->m);

    s->c_start = off;
    if (s->data_pending && !s->blind) {
        smtp_find(s, R_DATA_BEFORE_GO_AHEAD, SC_SIDE_CLIENT, frame, NULL,
                  "the client sent message content (frame %s) before the 354 reply to DATA%s%s",
                  sc_frame_bare(frame), d ? " " : "",
                  d ? "(still pending)" : "");
    }
}

static void smtp_on_content(void *ctx, const sc_cline *l)
{
    sc_smtp *s = ctx;

    s->c_lines++;
    s->c_last_frame = l->frame;
    s->c_last_ts = s->ts;
    s->c_bytes += l->wire_len - (l->stuffed ? 1 : 0);
    smtp_txn_content(s, l->wire_len - (l->stuffed ? 1 : 0));
    if (l->bare_lf || l->bare_cr) {
        if (s->c_bare == 0) {
            s->c_bare_off = l->off;
            s->c_bare_frame = l->frame;
        }
        s->c_bare += (l->bare_lf ? 1 : 0) + l->bare_cr;
    }
    if (s->cfg->show_content)
        smtp_line(s, SC_DIR_C2S, SC_LINE_CONTENT, l->frame, l->text, l->kept);
    if (l->wire_len - (l->stuffed ? 1 : 0) > 1000 && !s->c_long_reported) {
        sc_evidence e;
        s->c_long_reported = true;
        smtp_find(s, R_LINE_TOO_LONG, SC_SIDE_CLIENT, l->frame,
                  ev_of(&e, l->frame, SC_DIR_C2S, l->text, l->kept < 80 ? l->kept : 80),
                  "message content line of %llu octets at stream offset %llu (limit 1000, CRLF included)",
                  (unsigned long long)(l->wire_len - (l->stuffed ? 1 : 0)),
                  (unsigned long long)l->off);
    }
    smtp_shadow_line(s, l);
}

/* Plain lines counted in bulk by the client machine: what smtp_on_content
 * does for each such line when neither --show-content nor the smuggling
 * shadow needs its text. */
static void smtp_on_content_lines(void *ctx, uint64_t lines, uint64_t octets, uint64_t frame)
{
    sc_smtp *s = ctx;

    s->c_lines += lines;
    s->c_last_frame = frame;
    s->c_last_ts = s->ts;
    s->c_bytes += octets;
    smtp_txn_content(s, octets);
}

static void smtp_on_ambiguous(void *ctx, const char *what, uint64_t off, uint64_t frame)
{
    sc_smtp *s = ctx;

    if (s->c_ambiguous)
        return;
    s->c_ambiguous = true;
    s->c_amb_off = off;
    s->c_amb_frame = frame;
    s->c_amb_what = what;
    s->shadow_on = true;
    smtp_count_only_set(s);
    smtp_find(s, R_EOD_AMBIGUOUS, SC_SIDE_CLIENT, frame, NULL,
              "message content holds %s at stream offset %llu (frame %s): a lenient "
              "server takes it for the end of data (SMTP smuggling)",
              what, (unsigned long long)off, sc_frame_bare(frame));
}

static void smtp_on_eod(void *ctx, const sc_cline *dot)
{
    sc_smtp *s = ctx;
    sc_pending p;

    smtp_content_summary(s, dot->frame, true);
    smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, dot->frame, dot->text, dot->kept);
    smtp_redact(s, SC_DIR_C2S, s->c_start, dot->off);
    smtp_content_finish(s, dot->frame);
    uint64_t limit = s->size_limit;
    const char *whose = "the server advertised";
    if (s->declared_size && (!limit || s->declared_size < limit)) {
        limit = s->declared_size;
        whose = "the client declared (SIZE=)";
    }
    if (limit && s->c_bytes > limit)
        smtp_find(s, R_SIZE_EXCEEDED, SC_SIDE_CLIENT, dot->frame, NULL,
                  "message content of %llu bytes is larger than the SIZE %llu %s",
                  (unsigned long long)s->c_bytes, (unsigned long long)limit, whose);
    smtp_pending_fill(&p, SC_V_EOD, dot->frame, dot->text, dot->kept);
    if (s->answered_early)
        p.flags |= SC_PF_OPTIONAL;
    if (s->smuggle_live) {
        /* The lenient server already closed this message; the real dot
         * ends the smuggled one, if any. */
        p.flags |= SC_PF_SMUGGLED;
        if (!s->shadow_has_data)
            p.flags |= SC_PF_OPTIONAL;
    }
    if (s->blind)
        p.flags |= SC_PF_BLIND;
    smtp_push(s, &p);
}

static void smtp_on_chunk(void *ctx, uint64_t octets, uint64_t off, uint64_t frame)
{
    sc_smtp *s = ctx;

    smtp_line_str(s, SC_DIR_C2S, SC_LINE_BDAT, frame, "[BDAT chunk: %llu octets]",
                  (unsigned long long)octets);
    smtp_redact(s, SC_DIR_C2S, off, off + octets);
    s->c_bytes += octets;
    smtp_txn_content(s, octets);
    if (s->bdat_last) {
        uint64_t limit = s->size_limit;
        if (s->declared_size && (!limit || s->declared_size < limit))
            limit = s->declared_size;
        if (limit && s->c_bytes > limit)
            smtp_find(s, R_SIZE_EXCEEDED, SC_SIDE_CLIENT, frame, NULL,
                      "message of %llu bytes (BDAT) is larger than the SIZE %llu",
                      (unsigned long long)s->c_bytes, (unsigned long long)limit);
    }
}

static const sc_client_ops smtp_client_ops = {
    .command = smtp_on_command,
    .auth = smtp_on_auth,
    .content_begin = smtp_on_content_begin,
    .content = smtp_on_content,
    .content_lines = smtp_on_content_lines,
    .eod = smtp_on_eod,
    .ambiguous = smtp_on_ambiguous,
    .chunk = smtp_on_chunk,
};

/* ------------------------------------------------------------------ */
/* Server machine callbacks                                            */

static void smtp_on_reply(void *ctx, const sc_reply *r);

/* A line that is only an enhanced status code ("4.7.0 text", RFC 3463
 * class.subject.detail) with the basic reply code left out: the server
 * meant a reply of that class. Returns the class digit, or 0. */
static int smtp_enhanced_only(const uint8_t *t, size_t n)
{
    size_t i = 1, dots = 0, digits;

    if (n < 5 || (t[0] != '2' && t[0] != '4' && t[0] != '5') || t[1] != '.')
        return 0;
    while (dots < 2) {
        if (i >= n || t[i] != '.')
            return 0;
        i++, dots++;
        for (digits = 0; i < n && t[i] >= '0' && t[i] <= '9' && digits < 3; i++)
            digits++;
        if (digits == 0)
            return 0;
    }
    return i == n || t[i] == ' ' ? t[0] - '0' : 0;
}

static void smtp_on_reply_line(void *ctx, const sc_rline *l, const sc_reply *r)
{
    sc_smtp *s = ctx;
    sc_evidence e;

    smtp_content_partial(s);
    smtp_line(s, SC_DIR_S2C, SC_LINE_REPLY, l->frame, l->text, l->kept);
    smtp_midstream_note(s, l->frame, "the first complete reply line");
    if (l->malformed && !s->rep_malformed) {
        s->rep_malformed = true;
        smtp_find(s, R_REPLY_MALFORMED, SC_SIDE_SERVER, l->frame,
                  ev_of(&e, l->frame, SC_DIR_S2C, l->text, l->kept),
                  "reply line is not a three-digit code (2-5, 0-5, 0-9) followed by SP, \"-\" or CRLF");
    }
    if (r && r->mixed && r->nlines > 1 && l->code >= 0 && l->code != r->code && !s->rep_mixed) {
        s->rep_mixed = true;
        smtp_find(s, R_REPLY_MALFORMED, SC_SIDE_SERVER, l->frame,
                  ev_of(&e, l->frame, SC_DIR_S2C, l->text, l->kept),
                  "multi-line reply whose lines carry different codes (%d, then %d)",
                  r->code, l->code);
    }
    if (l->wire_len > 512 && !s->rep_long_reply) {
        s->rep_long_reply = true;
        smtp_find(s, R_LINE_TOO_LONG, SC_SIDE_SERVER, l->frame,
                  ev_of(&e, l->frame, SC_DIR_S2C, l->text, l->kept < 80 ? l->kept : 80),
                  "reply line of %llu octets (limit 512, CRLF included)",
                  (unsigned long long)l->wire_len);
    }
    if (!r) {
        int cls = l->malformed ? smtp_enhanced_only(l->text, l->kept) : 0;
        if (cls && s->greeted && sc_matcher_firm(&s->m) > 0) {
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
            smtp_on_reply(s, &er);
        }
        return;
    }
    /* EHLO keywords: only in a reply to EHLO/HELO (the oldest pending). */
    sc_pending *head = sc_matcher_at(&s->m, 0);
    if (!head || (head->verb != SC_V_EHLO && head->verb != SC_V_HELO))
        return;
    if (r->nlines == 1)
        smtp_kw_reset(s);
    else if (l->textstring)
        smtp_kw_line(s, l->textstring, l->textlen);
}

/* The reply r answers pending command p (already out of the queue). */
static void smtp_answer(sc_smtp *s, sc_pending *p, const sc_reply *r)
{
    int c = r->code;
    bool ok = c >= 200 && c < 400;
    sc_evidence e;
    smtp_report rep;

    if (p->flags & SC_PF_SMUGGLED) {
        /* Commands only a lenient server saw: they are answered, and
         * judged by the finding that revealed them. */
        if (p->verb == SC_V_DATA && c == 354)
            s->shadow_data_answered = true;
        return;
    }

    if (c == 421)
        s->got_421 = true;
    if (!(p->flags & SC_PF_BLIND) && s->blind) {
        s->blind = false;        /* in step again */
    }
    switch (p->verb) {
    case SC_V_EHLO:
    case SC_V_HELO:
        if (c == 250) {
            if (p->verb == SC_V_HELO && r->nlines > 1 && s->kw_ext_lines > 0) {
                if (smtp_report_begin(s, &rep, R_HELO_EXTENDED_REPLY, SC_SIDE_SERVER, r->frame,
                                      "HELO (%s) got a multi-line reply listing %u extension keyword%s",
                                      sc_frame_name(p->frame), s->kw_ext_lines,
                                      s->kw_ext_lines == 1 ? "" : "s")) {
                    smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
                    smtp_report_evidence(&rep, r->frame, SC_DIR_S2C, r->last, r->last_len);
                    smtp_report_end(s, &rep);
                }
            }
            smtp_kw_commit(s, p->verb == SC_V_HELO);
            s->seq_known = true;
            s->s_helo = true;
            s->s_mail = false;
            s->s_rcpt = 0;
            if (s->txn_open)
                smtp_txn_end(s, SC_TXN_ABORTED, NULL, 0);
        } else {
            s->c_helo = false;
            s->info.next = 0;
            s->ext = 0;
        }
        break;
    case SC_V_MAIL:
        if (ok) {
            if (s->s_mail && s->seq_known && !(p->flags & SC_PF_SMUGGLED))
                smtp_find(s, R_BAD_SEQUENCE_ACCEPTED, SC_SIDE_SERVER, r->frame,
                          ev_of(&e, r->frame, SC_DIR_S2C, r->last, r->last_len),
                          "the server accepted %.*s (%s) inside an open mail transaction",
                          SC_PTXT(p), sc_frame_name(p->frame));
            s->s_mail = true;
            s->s_rcpt = 0;
            if (!s->blind)
                s->seq_known = true;   /* a transaction is open: known again */
        } else {
            s->c_mail = s->c_rcpt = false;
            if (s->cur >= 0 && !s->s_mail)
                smtp_txn_end(s, SC_TXN_REJECTED, r->last, r->last_len);
        }
        break;
    case SC_V_RCPT:
        if (ok) {
            if (!s->s_mail && s->seq_known)
                smtp_find(s, R_BAD_SEQUENCE_ACCEPTED, SC_SIDE_SERVER, r->frame,
                          ev_of(&e, r->frame, SC_DIR_S2C, r->last, r->last_len),
                          "the server accepted %.*s (%s) with no accepted MAIL",
                          SC_PTXT(p), sc_frame_name(p->frame));
            s->s_rcpt++;
        }
        break;
    case SC_V_DATA: {
        s->data_pending = false;
        if (c == 354) {
            if (s->s_rcpt == 0 && s->seq_known)
                smtp_find(s, R_BAD_SEQUENCE_ACCEPTED, SC_SIDE_SERVER, r->frame,
                          ev_of(&e, r->frame, SC_DIR_S2C, r->last, r->last_len),
                          "the server accepted DATA (%s) with no accepted RCPT",
                          sc_frame_name(p->frame));
            break;
        }
        /* DATA refused. Whether the server still holds MAIL and the
         * recipients is its choice (RFC 5321 §4.1.1.4 says no more than
         * that the data must not be sent; Exim keeps the sender: "503
         * sender already given"): the server's sequence is unknown until
         * a reply shows it again. */
        bool seq_was_known = s->seq_known;
        smtp_txn_end(s, SC_TXN_REJECTED, r->last, r->last_len);
        s->c_mail = s->c_rcpt = false;
        s->s_mail = false;
        s->s_rcpt = 0;
        s->seq_known = false;
        if (s->client.mode == SC_CM_CONTENT && s->client.content_started) {
            /* Content already on its way: the server reads it as commands. */
            sc_pending res;
            smtp_pending_fill(&res, SC_V_RESIDUE, p->frame, (const uint8_t *)"(content)", 9);
            res.flags = SC_PF_OPTIONAL | SC_PF_RESIDUE;
            res.count = s->c_lines;
            smtp_find(s, R_CONTENT_AFTER_REJECTION, SC_SIDE_CLIENT, r->frame,
                      ev_of(&e, r->frame, SC_DIR_S2C, r->last, r->last_len),
                      "DATA (%s) was refused (%d), but the client had already sent "
                      "message content; the server reads it as commands",
                      sc_frame_name(p->frame), c);
            smtp_content_finish(s, r->frame);
            sc_client_set_mode(&s->client, SC_CM_COMMAND);
            s->residue_mode = true;
            if (res.count)
                sc_matcher_push_front(&s->m, &res);
        } else if (s->client.mode == SC_CM_CONTENT) {
            sc_client_set_mode(&s->client, SC_CM_COMMAND);
            s->data_rejected = true;
        } else {
            /* The whole content was sent: its dot is queued after DATA. */
            sc_pending *eod = sc_matcher_at(&s->m, 0);
            if (eod && eod->verb == SC_V_EOD) {
                smtp_find(s, R_CONTENT_AFTER_REJECTION, SC_SIDE_CLIENT, r->frame,
                          ev_of(&e, r->frame, SC_DIR_S2C, r->last, r->last_len),
                          "DATA (%s) was refused (%d), but the client had already sent "
                          "the message content; the server reads it as commands",
                          sc_frame_name(p->frame), c);
                eod->verb = SC_V_RESIDUE;
                eod->flags |= SC_PF_OPTIONAL | SC_PF_RESIDUE;
                eod->count = s->c_lines + 1;
                s->residue_mode = true;
            }
        }
        /* The client's own sequence (DATA with no RCPT sent) is known
         * whenever the whole session was seen, whatever the server holds. */
        if (c == 503 && (p->flags & SC_PF_BADSEQ) &&
            (seq_was_known || (!s->midstream && !s->blind)))
            goto badseq;
        break;
    }
    case SC_V_EOD:
        if (p->flags & SC_PF_SMUGGLED)
            break;
        /* Smuggled commands in this content are judged on the next reply. */
        s->smuggle_armed = s->shadow_on && s->nshadow > 0 && !s->smuggle_live;
        smtp_txn_end(s, ok ? SC_TXN_ACCEPTED : SC_TXN_REJECTED, r->last, r->last_len);
        s->c_mail = s->c_rcpt = false;
        s->s_mail = false;
        s->s_rcpt = 0;
        s->seq_known = true;
        break;
    case SC_V_BDAT:
        if (!ok || (p->flags & SC_PF_LAST)) {
            smtp_txn_end(s, ok ? SC_TXN_ACCEPTED : SC_TXN_REJECTED, r->last, r->last_len);
            s->c_mail = s->c_rcpt = false;
            s->s_mail = false;
            s->s_rcpt = 0;
            s->bdat_last = false;
        } else if (s->s_rcpt == 0 && !(p->flags & SC_PF_BADSEQ)) {
            /* accepted chunk: fine */
        }
        if (ok && s->s_rcpt == 0 && s->seq_known && (p->flags & SC_PF_BADSEQ))
            smtp_find(s, R_BAD_SEQUENCE_ACCEPTED, SC_SIDE_SERVER, r->frame,
                      ev_of(&e, r->frame, SC_DIR_S2C, r->last, r->last_len),
                      "the server accepted BDAT (%s) with no accepted RCPT",
                      sc_frame_name(p->frame));
        break;
    case SC_V_RSET:
        if (c != 250 && c != 421) {
            if (smtp_report_begin(s, &rep, R_RSET_REFUSED, SC_SIDE_SERVER, r->frame,
                                  "RSET (%s) was answered %d; RSET is valid at any time",
                                  sc_frame_name(p->frame), c)) {
                smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
                smtp_report_evidence(&rep, r->frame, SC_DIR_S2C, r->last, r->last_len);
                smtp_report_end(s, &rep);
            }
        }
        if (c == 250) {
            if (s->txn_open)
                smtp_txn_end(s, SC_TXN_ABORTED, r->last, r->last_len);
            s->seq_known = true;
            s->s_mail = false;
            s->s_rcpt = 0;
        }
        break;
    case SC_V_QUIT:
        s->quit_answered = true;
        /* QUIT cancels a transaction still open (RFC 5321 §4.1.1.10);
         * replies come in order, so a pipelined dot was answered first. */
        if (s->txn_open)
            smtp_txn_end(s, SC_TXN_ABORTED, NULL, 0);
        break;
    case SC_V_STARTTLS:
        s->starttls_pending = false;
        if (c == 220) {
            s->info.tls = true;
            smtp_line_str(s, SC_DIR_S2C, SC_LINE_EVENT, r->frame,
                          "[TLS: the rest of the session is encrypted]");
            sc_client_set_mode(&s->client, SC_CM_TLS);
            /* Injected commands are answered, if at all, inside TLS, or
             * in plaintext right now (tls_probe decides on the next bytes). */
            if (sc_matcher_firm(&s->m) > 0)
                s->tls_probe = true;
            else {
                sc_matcher_clear(&s->m);
                sc_server_set_tls(&s->server);
            }
        }
        break;
    case SC_V_AUTH:
        break;
    case SC_V_ETRN:
        /* etrn-bad-reply is the specific form of reply-mismatch: the codes
         * allowed for any command (421, 500, 501, 502, 530, 554) are
         * allowed here too, and 503 is the right answer to an ETRN inside
         * a transaction (RFC 5321 §4.1.4; the client's etrn-in-transaction
         * covers it). */
        if (!sc_cmd_allows(SC_V_ETRN, c) && !(c == 503 && (p->flags & SC_PF_INTXN))) {
            if (smtp_report_begin(s, &rep, R_ETRN_BAD_REPLY, SC_SIDE_SERVER, r->frame,
                                  "ETRN (%s) was answered %d (RFC 1985 §5.1 allows 250-253, 458, 459, "
                                  "500, 501; any command may get 421, 502, 530, 554)",
                                  sc_frame_name(p->frame), c)) {
                smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
                smtp_report_evidence(&rep, r->frame, SC_DIR_S2C, r->last, r->last_len);
                smtp_report_end(s, &rep);
            }
        }
        if (c >= 200 && c < 300 && s->seq_known && (p->flags & SC_PF_INTXN))
            smtp_find(s, R_BAD_SEQUENCE_ACCEPTED, SC_SIDE_SERVER, r->frame,
                      ev_of(&e, r->frame, SC_DIR_S2C, r->last, r->last_len),
                      "the server accepted ETRN (%s) inside a mail transaction",
                      sc_frame_name(p->frame));
        break;
    case SC_V_UNKNOWN:
        if ((c == 500 || c == 502) && !(p->flags & (SC_PF_RESIDUE | SC_PF_SMUGGLED))) {
            if (smtp_report_begin(s, &rep, R_UNKNOWN_COMMAND, SC_SIDE_CLIENT, r->frame,
                                  "\"%.*s\" (%s) is not a command the server knows (%d)",
                                  SC_PTXT(p), sc_frame_name(p->frame), c)) {
                smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
                smtp_report_evidence(&rep, r->frame, SC_DIR_S2C, r->last, r->last_len);
                smtp_report_end(s, &rep);
            }
        }
        break;
    default:
        break;
    }
    if (c == 503 && (p->flags & SC_PF_BADSEQ) && s->seq_known &&
        (p->verb == SC_V_MAIL || p->verb == SC_V_RCPT || p->verb == SC_V_BDAT))
        goto badseq;
    return;
badseq:
    if (smtp_report_begin(s, &rep, R_BAD_SEQUENCE, SC_SIDE_CLIENT, r->frame,
                          "%.*s (%s) was sent out of order and refused with 503",
                          SC_PTXT(p), sc_frame_name(p->frame))) {
        smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
        smtp_report_evidence(&rep, r->frame, SC_DIR_S2C, r->last, r->last_len);
        smtp_report_end(s, &rep);
    }
}

/* The matched entry at index i: pops it (or keeps it, for intermediate
 * replies) and interprets the reply. */
static void smtp_answer_at(sc_smtp *s, unsigned i, const sc_reply *r)
{
    sc_pending p = *sc_matcher_at(&s->m, i);

    for (unsigned k = 0; k < i; k++)
        sc_matcher_pop(&s->m);
    if (p.verb == SC_V_AUTH && r->code == 334) {
        sc_client_set_mode(&s->client, SC_CM_AUTH);
        return;                  /* AUTH stays pending: 334 is intermediate */
    }
    if (p.verb == SC_V_RESIDUE && p.count > 1) {
        sc_matcher_at(&s->m, 0)->count--;
        return;
    }
    sc_matcher_pop(&s->m);
    smtp_answer(s, &p, r);
}

/* SMTP smuggling, read from the replies: the server answered commands
 * that only exist inside the message content. */
static bool smtp_smuggle_check(sc_smtp *s, const sc_reply *r, bool during)
{
    unsigned idx;
    sc_match_kind k;

    if (!during) {
        /* The reply after the dot's: strict reading first. Only a reply
         * that fits no pending command but fits the first smuggled one is
         * taken as the lenient server's. */
        if (!s->smuggle_armed)
            return false;
        s->smuggle_armed = false;
        k = sc_matcher_match(&s->m, r->code, &idx);
        if (k == SC_MATCH_HEAD || k == SC_MATCH_LATER)
            return false;
        if (!sc_pending_allows(&s->shadow[0].p, r->code))
            return false;
    }
    smtp_report rep;
    if (smtp_report_begin(s, &rep, R_EOD_ACCEPTED_AMBIGUOUS, SC_SIDE_SERVER, r->frame,
                          "the server took %s at stream offset %llu (frame %s) for the end "
                          "of data: %s",
                          s->c_amb_what, (unsigned long long)s->c_amb_off,
                          sc_frame_bare(s->c_amb_frame),
                          during ? "it answered before the real <CRLF>.<CRLF>; what follows "
                                   "in the content is commands to it"
                                 : "its replies answer the commands smuggled in the message content")) {
        if (s->nshadow)
            smtp_report_evidence(&rep, s->shadow[0].p.frame, SC_DIR_C2S, s->shadow[0].p.text,
                                 s->shadow[0].p.tlen);
        smtp_report_evidence(&rep, r->frame, SC_DIR_S2C, r->first, r->first_len);
        smtp_report_end(s, &rep);
    }
    /* Re-synchronise as that server did: the smuggled commands come first. */
    if (!during) {
        sc_pending tail;
        bool has_tail = s->shadow_has_data;
        smtp_pending_fill(&tail, SC_V_EOD, s->c_amb_frame, (const uint8_t *)".", 1);
        tail.flags = SC_PF_SMUGGLED;
        if (has_tail)
            sc_matcher_push_front(&s->m, &tail);
        for (unsigned i = s->nshadow; i-- > 0;)
            sc_matcher_push_front(&s->m, &s->shadow[i].p);
        for (unsigned i = 0; i < s->nshadow; i++)
            smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, s->shadow[i].p.frame,
                      s->shadow[i].p.text, s->shadow[i].p.tlen);
        if (has_tail) {
            /* To that server, the smuggled message's content was sent before
             * the 354 to the smuggled DATA: every reply came after it. */
            const sc_pending *d = &s->shadow[s->nshadow - 1].p;
            smtp_find(s, R_DATA_BEFORE_GO_AHEAD, SC_SIDE_CLIENT, d->frame, NULL,
                      "the smuggled message's content was sent before the 354 to the "
                      "smuggled DATA (frame %s)", sc_frame_bare(d->frame));
        }
    } else {
        s->smuggle_live = true;
        for (unsigned i = 0; i < s->nshadow; i++) {
            smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, s->shadow[i].p.frame,
                      s->shadow[i].p.text, s->shadow[i].p.tlen);
            smtp_push(s, &s->shadow[i].p);
        }
    }
    return true;
}

static void smtp_on_reply(void *ctx, const sc_reply *r)
{
    sc_smtp *s = ctx;
    sc_evidence e;
    unsigned idx;
    smtp_report rep;

    if (s->tls_probe) {
        /* A plaintext reply after the 220 to STARTTLS: the server acted on
         * a command injected before the TLS handshake. */
        sc_pending *p = sc_matcher_at(&s->m, 0);
        if (smtp_report_begin(s, &rep, R_REPLY_UNSOLICITED, SC_SIDE_SERVER, r->frame,
                              "reply %d in plaintext after the 220 to STARTTLS: the server "
                              "answered %s%.*s%s injected before the TLS handshake",
                              r->code, p ? "\"" : "", p ? p->tlen : 0,
                              p ? (const char *)p->text : "", p ? "\"" : "a command")) {
            if (p)
                smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
            smtp_report_evidence(&rep, r->first_frame, SC_DIR_S2C, r->first, r->first_len);
            smtp_report_end(s, &rep);
        }
        sc_matcher_pop(&s->m);
        return;
    }

    if (!s->greeted) {
        if (!s->midstream) {
            sc_pending *head = sc_matcher_at(&s->m, 0);
            s->greeted = true;
            if (r->code == 421)
                s->got_421 = true;
            if (r->code == 220 || r->code == 554 || r->code == 421)
                return;
            /* No greeting at all: the client spoke first and this reply
             * fits its first command, so it is that command's reply (read
             * as a greeting, it would shift every reply after it). */
            bool answers = head && !(head->flags & SC_PF_OPTIONAL) &&
                           sc_pending_allows(head, r->code);
            smtp_find(s, R_GREETING_INVALID, SC_SIDE_SERVER, r->frame,
                      ev_of(&e, r->first_frame, SC_DIR_S2C, r->first, r->first_len),
                      answers ? "the server sent no greeting: its first reply, %d, answers "
                                "the client's first command"
                              : "the server's greeting is %d (expected 220, or 554/421 to refuse)",
                      r->code);
            if (!answers)
                return;
        } else {
            s->greeted = true;
            if (r->code == 220 && s->m.n == 0)
                return;              /* the greeting, seen after all */
        }
    }
    if (r->code == 421)
        s->got_421 = true;

    /* A reply while the client is still sending message content. */
    bool in_content = s->client.mode == SC_CM_CONTENT && !s->data_pending;
    bool in_chunk = s->client.mode == SC_CM_BDAT && s->client.chunk_left > 0;
    if (in_content && s->smuggle_live)
        goto match;              /* the lenient server answers smuggled commands */
    if (in_content) {
        if (s->blind) {
            /* The dot was probably in the gap: the message is over. */
            sc_client_set_mode(&s->client, SC_CM_COMMAND);
            smtp_txn_end(s, r->code < 400 ? SC_TXN_ACCEPTED : SC_TXN_REJECTED,
                         r->last, r->last_len);
            return;
        }
        if (s->c_ambiguous && smtp_smuggle_check(s, r, true)) {
            /* That server ended the message at the ambiguous sequence. */
            smtp_txn_end(s, r->code < 400 ? SC_TXN_ACCEPTED : SC_TXN_REJECTED,
                         r->last, r->last_len);
            s->s_mail = false;
            s->s_rcpt = 0;
            return;
        }
        if (smtp_report_begin(s, &rep, R_REPLY_DURING_DATA, SC_SIDE_SERVER, r->frame,
                              "the server replied %d while the client was still sending "
                              "message content (%llu bytes so far, no end-of-data dot yet)",
                              r->code, (unsigned long long)s->c_bytes)) {
            smtp_report_evidence(&rep, r->first_frame, SC_DIR_S2C, r->first, r->first_len);
            smtp_report_end(s, &rep);
        }
        s->answered_early = true;
        /* A refusal ends the transaction, prematurely: it is its final
         * reply (the summary says rejected, not aborted). */
        if (r->code >= 400) {
            smtp_txn_end(s, SC_TXN_REJECTED, r->last, r->last_len);
            s->s_mail = false;
            s->s_rcpt = 0;
        }
        return;
    }
    if (in_chunk) {
        if (smtp_report_begin(s, &rep, R_REPLY_DURING_DATA, SC_SIDE_SERVER, r->frame,
                              "the server replied %d inside a BDAT chunk (%llu of %llu octets still to come)",
                              r->code, (unsigned long long)s->client.chunk_left,
                              (unsigned long long)s->client.chunk_size)) {
            smtp_report_evidence(&rep, r->first_frame, SC_DIR_S2C, r->first, r->first_len);
            smtp_report_end(s, &rep);
        }
    }
    if (smtp_smuggle_check(s, r, false)) {
        sc_match_kind k2 = sc_matcher_match(&s->m, r->code, &idx);
        if (k2 == SC_MATCH_HEAD || k2 == SC_MATCH_MISMATCH)
            smtp_answer_at(s, idx, r);
        return;
    }
match:;
    sc_match_kind k = sc_matcher_match(&s->m, r->code, &idx);
    if (k == SC_MATCH_MISMATCH && !sc_code_known(r->code))
        k = SC_MATCH_HEAD;       /* RFC 5321 §4.2: read by its first digit */
    switch (k) {
    case SC_MATCH_NONE:
        /* Only optional entries left: they go unanswered. */
        while (s->m.n)
            sc_matcher_pop(&s->m);
        if (r->code == 421 || s->blind)
            return;
        if (s->m.untracked) {
            s->m.untracked--;
            return;
        }
        if (s->tls_probe) {
            return;
        }
        smtp_find(s, R_REPLY_UNSOLICITED, SC_SIDE_SERVER, r->frame,
                  ev_of(&e, r->first_frame, SC_DIR_S2C, r->first, r->first_len),
                  "reply %d arrived while no command was waiting for one", r->code);
        return;
    case SC_MATCH_HEAD:
        smtp_answer_at(s, idx, r);
        return;
    case SC_MATCH_LATER: {
        sc_pending *later = sc_matcher_at(&s->m, idx);
        for (unsigned i = 0; i < idx; i++) {
            sc_pending *p = sc_matcher_at(&s->m, i);
            if ((p->flags & SC_PF_OPTIONAL) || s->blind)
                continue;
            if (smtp_report_begin(s, &rep, R_REPLY_LOST, SC_SIDE_SERVER, r->frame,
                                  "%.*s (%s) was never answered: the server answered a "
                                  "later command, %.*s (%s)",
                                  SC_PTXT(p), sc_frame_name(p->frame), SC_PTXT(later),
                                  sc_frame_name(later->frame))) {
                smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
                smtp_report_evidence(&rep, r->first_frame, SC_DIR_S2C, r->first, r->first_len);
                smtp_report_end(s, &rep);
            }
        }
        if (!s->blind &&
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
        bool specific = p->verb == SC_V_RSET || p->verb == SC_V_ETRN;
        if (!specific && !s->blind && !(p->flags & SC_PF_SMUGGLED) &&
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

static const sc_server_ops smtp_server_ops = {
    .line = smtp_on_reply_line,
    .reply = smtp_on_reply,
};

/* ------------------------------------------------------------------ */
/* Closing                                                             */

static void smtp_server_closed(sc_smtp *s, uint64_t frame, bool rst)
{
    smtp_report rep;
    bool client_gone = s->fin[SC_DIR_C2S] || s->rst[SC_DIR_C2S];

    if (s->info.tls)
        return;
    s->client_sending_at_sfin = sc_client_partial(&s->client);
    /* After the client's own close, servers commonly close at once (end
     * of file on their input): nothing is reported as lost then. */
    if (!s->got_421 && !s->blind && !client_gone) {
        for (unsigned i = 0; i < s->m.n; i++) {
            sc_pending *p = sc_matcher_at(&s->m, i);
            if (p->flags & (SC_PF_OPTIONAL | SC_PF_BLIND))
                continue;
            if (smtp_report_begin(s, &rep, R_REPLY_LOST, SC_SIDE_SERVER, frame,
                                  "%.*s (%s) was never answered: the server %s the connection",
                                  SC_PTXT(p), sc_frame_name(p->frame),
                                  rst ? "reset" : "closed")) {
                smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
                smtp_report_end(s, &rep);
            }
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
    /* Once the client has closed, the server may close too. */
    if (!s->quit_answered && !s->got_421 && !client_gone &&
        !(s->midstream && !s->quit_sent && s->blind)) {
        smtp_find(s, R_SERVER_CLOSE_UNANNOUNCED, SC_SIDE_SERVER, frame, NULL,
                  "the server %s the connection (frame %s) %s and without a 421",
                  rst ? "reset" : "closed", sc_frame_bare(frame),
                  s->quit_sent ? "before replying to QUIT" : "with no QUIT from the client");
    }
    sc_matcher_clear(&s->m);
}

/* The client kept sending after the server's FIN: reported at the first
 * client segment after it (the event that completes the finding); the
 * total sent after the FIN is known at the end and shown there. */
static void smtp_half_close_check(sc_smtp *s, uint64_t frame, size_t seglen)
{
    smtp_report rep;
    char what[48];

    if (s->half_close_reported || !s->fin[SC_DIR_S2C] || s->after_sfin == 0 ||
        !s->client_sending_at_sfin || s->info.tls)
        return;
    s->half_close_reported = true;
    if (smtp_report_begin(s, &rep, R_HALF_CLOSE_WHILE_SENDING, SC_SIDE_SERVER, frame,
                          "the server sent FIN (frame %s) while the client was still "
                          "sending%s, and the client kept sending after it (from frame "
                          "%s; the byte count closes the session): a FIN is not an abort",
                          sc_frame_bare(s->close_frame[SC_DIR_S2C]),
                          s->client.mode == SC_CM_CONTENT ? " message content"
                          : s->client.mode == SC_CM_BDAT ? " a BDAT chunk" : "",
                          sc_frame_bare(frame))) {
        int n = snprintf(what, sizeof what, "[%zu bytes]", seglen);
        smtp_report_evidence(&rep, s->close_frame[SC_DIR_S2C], SC_DIR_S2C,
                             (const uint8_t *)"[FIN]", 5);
        smtp_report_evidence(&rep, frame, SC_DIR_C2S, (const uint8_t *)what,
                             n > 0 ? (size_t)n : 0);
        smtp_report_end(s, &rep);
    }
}

/* The end of data (or BDAT LAST) is waiting for its reply. */
static bool smtp_eod_pending(sc_smtp *s)
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
static void smtp_abort_check(sc_smtp *s, sc_dir d, bool rst, uint64_t frame)
{
    /* Content a lenient server already ended (eod-accepted-ambiguous) is
     * no transaction in progress: to that server it was commands. */
    bool sending = s->client.mode == SC_CM_CONTENT && s->client.content_started &&
                   !s->smuggle_live;
    bool server_gone = s->fin[SC_DIR_S2C] || s->rst[SC_DIR_S2C];

    if (s->abort_done || s->info.tls || s->quit_sent)
        return;
    if (!s->s_mail && !sending) {
        s->abort_wait = false;
        return;
    }
    if (d == SC_DIR_C2S && !rst && !server_gone && !sending && smtp_eod_pending(s)) {
        s->abort_wait = true;
        s->abort_wait_frame = frame;
        return;
    }
    s->abort_done = true;
    if (s->abort_wait && d == SC_DIR_S2C)
        smtp_find(s, R_TRANSACTION_ABORTED, SC_SIDE_SERVER, frame, NULL,
                  "the server %s the connection (frame %s) without answering the end of "
                  "data, after the client's FIN (frame %s): the mail transaction was "
                  "open, nothing was delivered (%llu bytes of content had been sent)",
                  rst ? "reset" : "closed", sc_frame_bare(frame),
                  sc_frame_bare(s->abort_wait_frame), (unsigned long long)s->c_bytes);
    else
        smtp_find(s, R_TRANSACTION_ABORTED, side_of(d), frame, NULL,
                  "the %s ended the connection (%s, frame %s) %s: the mail transaction "
                  "was open, nothing was delivered (%llu bytes of content sent%s)",
                  dir_who(d), rst ? "RST" : "FIN", sc_frame_bare(frame),
                  !sending ? (smtp_eod_pending(s) ? "after the end of data, before its reply"
                              : "before any message content was sent")
                  : d == SC_DIR_S2C ? "while the client was still sending the message content"
                  : "in the middle of the message content",
                  (unsigned long long)s->c_bytes,
                  sending && d == SC_DIR_S2C ? " so far" : "");
}

static void smtp_bdat_truncated_check(sc_smtp *s, uint64_t frame)
{
    if (s->client.mode != SC_CM_BDAT || s->client.chunk_left == 0)
        return;
    smtp_find(s, R_BDAT_TRUNCATED, SC_SIDE_CLIENT, frame, NULL,
              "the connection ended with %llu of the %llu octets announced by BDAT still unsent",
              (unsigned long long)s->client.chunk_left,
              (unsigned long long)s->client.chunk_size);
    s->client.chunk_left = 0;
}

/* The client closes in the middle of a command line: servers commonly
 * read what came before the end of file as a last command and answer it
 * (sendmail does), so it is shown and may get a reply (optional). */
static void smtp_partial_command(sc_smtp *s, uint64_t frame)
{
    const sc_client *c = &s->client;
    sc_pending p;

    if (s->info.tls || c->mode != SC_CM_COMMAND || !c->in_line || c->len == 0 || c->resync)
        return;
    smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, frame, c->buf, c->kept);
    smtp_pending_fill(&p, sc_cmd_parse(c->buf, c->kept), frame, c->buf, c->kept);
    p.flags |= SC_PF_OPTIONAL;
    if (s->blind)
        p.flags |= SC_PF_BLIND;
    smtp_push(s, &p);
}

/* Message content that never reached its end-of-data dot. */
static void smtp_content_unfinished(sc_smtp *s, uint64_t frame)
{
    if (s->client.mode != SC_CM_CONTENT || !s->client.content_started || s->c_unfinished)
        return;
    smtp_content_summary(s, frame, false);
    s->c_unfinished = true;
    smtp_redact(s, SC_DIR_C2S, s->c_start, s->client.off);
    smtp_content_finish(s, frame);
}

static void smtp_client_closed(sc_smtp *s, uint64_t frame, bool rst)
{
    if (s->info.tls)
        return;
    smtp_content_unfinished(s, frame);
    smtp_bdat_truncated_check(s, frame);
    if (s->quit_sent || s->fin[SC_DIR_S2C] || s->rst[SC_DIR_S2C] || s->got_421 ||
        s->rep_cwq)
        return;              /* once per session: a RST after the FIN adds nothing */
    if (s->midstream && s->blind && !s->greeted)
        return;
    if (s->srv_gap_last)
        return;              /* the server's last replies are missing: a 421 among them? */
    s->rep_cwq = true;
    const char *state =
        s->client.mode == SC_CM_CONTENT && s->client.content_started
            ? "in the middle of message content: the transaction is aborted, nothing is delivered"
        : s->txn_open ? "with a mail transaction open: nothing of it is delivered"
        : s->info.ntxn && s->last_result == SC_TXN_ACCEPTED
            ? "after its message was accepted (nothing is lost)"
        : "with no transaction open";
    smtp_find(s, R_CLOSE_WITHOUT_QUIT, SC_SIDE_CLIENT, frame, NULL,
              "the client %s the connection without QUIT, %s",
              rst ? "reset" : "closed", state);
}

/* ------------------------------------------------------------------ */
/* Interface                                                           */

sc_smtp *sc_smtp_new(const sc_config *cfg, const sc_conn *conn, sc_sink *out,
                     const char *capture_file)
{
    sc_smtp *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->cfg = cfg;
    s->out = out;
    s->info.id = conn->id;
    s->info.client = conn->client;
    s->info.server = conn->server;
    s->info.start = conn->first_ts;
    s->info.end = conn->first_ts;
    s->info.first_frame = conn->first_frame;
    s->info.last_frame = conn->first_frame;
    s->info.handshake_seen = conn->handshake_seen;
    s->info.capture_file = capture_file;
    s->info.extensions = s->ext_list;
    s->info.redact = s->redact;
    s->info.close_after = "greeting";
    s->cur = -1;
    s->first_close = -1;
    s->seq_known = conn->handshake_seen;
    s->ts = conn->first_ts;
    sc_client_init(&s->client, &smtp_client_ops, s);
    sc_server_init(&s->server, &smtp_server_ops, s);
    sc_matcher_init(&s->m);
    if (!conn->handshake_seen) {
        s->midstream = true;
        s->blind = true;
        s->greeted = false;
        sc_server_resync(&s->server);
    }
    if (conn->server.port == 465) {
        /* Implicit TLS (RFC 8314): listed, not analysed. */
        s->info.tls = true;
        sc_client_set_mode(&s->client, SC_CM_TLS);
        sc_server_set_tls(&s->server);
        s->midstream_reported = true;
    }
    if (out && out->session_begin)
        out->session_begin(out, &s->info);
    return s;
}

void sc_smtp_packet(sc_smtp *s, const sc_packet *pkt)
{
    if (!s->have_packets) {
        s->have_packets = true;
        s->info.frames = 0;
        if (!s->info.first_frame || pkt->frame < s->info.first_frame)
            s->info.first_frame = pkt->frame;
    }
    s->info.frames++;
    if (pkt->frame > s->info.last_frame)
        s->info.last_frame = pkt->frame;
    s->info.end = pkt->ts;
}

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
    if (s->quit_sent)
        return "quit";
    if (s->client.mode == SC_CM_CONTENT || s->client.mode == SC_CM_BDAT)
        return "data";
    if (!s->greeted && s->nlines == 0)
        return "greeting";
    return names[s->last_verb] ? names[s->last_verb] : "unknown";
}

static void smtp_close(sc_smtp *s, const sc_flow_event *ev)
{
    bool closed = ev->end == SC_END_CLOSED || ev->end == SC_END_RESET;
    bool open = !(s->fin[0] && s->fin[1]) && !s->rst[0] && !s->rst[1];

    if (!s->info.tls && s->quit_sent && !s->rep_after_quit && sc_client_partial(&s->client) &&
        s->client.mode == SC_CM_COMMAND) {
        /* bytes after QUIT that never became a line */
        s->rep_after_quit = true;
        smtp_find(s, R_COMMAND_AFTER_QUIT, SC_SIDE_CLIENT, ev->frame, NULL,
                  "the client sent bytes after QUIT (%s)", sc_frame_name(s->quit_frame));
    }
    if (closed)
        smtp_bdat_truncated_check(s, ev->frame);
    if (!s->info.tls)
        smtp_content_unfinished(s, ev->frame);
    if (s->half_close_reported) {
        s->info.c2s_after_server_fin = s->after_sfin;
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_EVENT, ev->frame,
                      "[the client sent %llu bytes after the server's FIN (frame %s)]",
                      (unsigned long long)s->after_sfin,
                      sc_frame_bare(s->close_frame[SC_DIR_S2C]));
    }
    /* A session closed by the idle timeout or evicted by the session cap
     * is, for the analysis, a capture that ended while it was open. */
    static const char *const truncated_why[] = {
        [SC_END_CAPTURE_END] = "the capture ended",
        [SC_END_TIMEOUT] = "the session went silent past --idle-timeout",
        [SC_END_EVICTED] = "the session was evicted (--max-sessions reached)",
    };
    if ((unsigned)ev->end < sizeof truncated_why / sizeof truncated_why[0] &&
        truncated_why[ev->end] && open)
        smtp_find(s, R_CAPTURE_TRUNCATED, SC_SIDE_CAPTURE, ev->frame, NULL,
                  "%s while the session was still open (after %s)",
                  truncated_why[ev->end], smtp_close_after(s));
    if (s->midstream && !s->midstream_reported)
        smtp_midstream_note(s, ev->frame, "nothing (no complete line was seen)");
    for (int d = 0; d < 2; d++) {
        uint64_t n = d == SC_DIR_C2S ? s->client.tls_octets : s->server.tls_octets;
        if (n)
            smtp_line_str(s, (sc_dir)d, SC_LINE_TLS, ev->frame,
                          "[TLS: %llu bytes not analysed]", (unsigned long long)n);
    }
    if (ev->end == SC_END_CAPTURE_END && open)
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_EVENT, ev->frame, "[capture ends]");
    s->info.close_after = smtp_close_after(s);
    if (s->first_close >= 0) {
        s->info.close_by = s->first_close == SC_DIR_C2S ? SC_CLOSE_CLIENT : SC_CLOSE_SERVER;
        s->info.close_how = s->first_close_rst ? SC_HOW_RST : SC_HOW_FIN;
    } else {
        s->info.close_by = SC_CLOSE_NONE;
        s->info.close_how = ev->end == SC_END_TIMEOUT ? SC_HOW_TIMEOUT
                          : ev->end == SC_END_EVICTED ? SC_HOW_EVICTED : SC_HOW_CAPTURE_END;
    }
    if (s->info.last_frame < ev->frame)
        s->info.last_frame = ev->frame;
    if (s->txn_open && closed)
        smtp_txn_end(s, SC_TXN_ABORTED, NULL, 0);
    smtp_report_capped(s);
    s->done = true;
    if (s->out && s->out->session_end)
        s->out->session_end(s->out, &s->info);
}

/* After the 220 to STARTTLS with injected commands pending, the server's
 * next bytes decide: a digit starts a plaintext reply (the injection was
 * acted on, see smtp_on_reply), anything else is the TLS handshake. */
static void smtp_tls_probe(sc_smtp *s, const sc_flow_event *ev)
{
    if (ev->len > 0 && ev->data[0] >= '2' && ev->data[0] <= '5' &&
        !sc_server_partial(&s->server))
        return;
    s->tls_probe = false;
    sc_matcher_clear(&s->m);
    sc_server_set_tls(&s->server);
}

void sc_smtp_event(sc_smtp *s, const sc_flow_event *ev)
{
    sc_dir d = ev->dir;

    if (s->done)
        return;
    s->frame = ev->frame;
    s->ts = ev->ts;
    if (!s->have_packets) {
        if (ev->frame > s->info.last_frame)
            s->info.last_frame = ev->frame;
        s->info.end = ev->ts;
    }
    switch (ev->kind) {
    case SC_FLOW_DATA:
        if (d == SC_DIR_C2S) {
            s->info.bytes_c2s += ev->len;
            if (s->fin[SC_DIR_S2C])
                s->after_sfin += ev->len;
            sc_client_feed(&s->client, ev->data, ev->len, ev->frame);
            smtp_half_close_check(s, ev->frame, ev->len);
            if (smtp_pregreet_possible(s) && sc_client_partial(&s->client)) {
                s->rep_pregreet = true;
                smtp_find(s, R_PREGREETING, SC_SIDE_CLIENT, ev->frame, NULL,
                          "the client sent bytes before the server's greeting");
            }
        } else {
            s->info.bytes_s2c += ev->len;
            if (ev->len > 0)
                s->srv_gap_last = false;
            if (s->tls_probe)
                smtp_tls_probe(s, ev);
            sc_server_feed(&s->server, ev->data, ev->len, ev->frame);
        }
        break;
    case SC_FLOW_GAP:
        if (!s->info.tls)
            smtp_content_partial(s);
        smtp_line_str(s, d, SC_LINE_EVENT, ev->frame, "[gap: %llu bytes]",
                      (unsigned long long)ev->gap);
        smtp_find(s, R_CAPTURE_GAP, SC_SIDE_CAPTURE, ev->frame, NULL,
                  "%llu bytes of the %s stream are missing from the capture; analysis "
                  "resumes at the next line boundary",
                  (unsigned long long)ev->gap, dir_who(d));
        if (d == SC_DIR_C2S) {
            sc_client_gap(&s->client, ev->gap);
        } else {
            sc_server_gap(&s->server, ev->gap);
            s->srv_spoke = s->srv_gap_last = true;
        }
        if (!s->info.tls) {
            s->blind = true;
            s->seq_known = false;
            for (unsigned i = 0; i < s->m.n; i++)
                sc_matcher_at(&s->m, i)->flags |= SC_PF_BLIND;
        }
        break;
    case SC_FLOW_FIN:
    case SC_FLOW_RST: {
        bool rst = ev->kind == SC_FLOW_RST;
        if (!s->info.tls) {
            /* After the client's close or a reset the content can no
             * longer end; after the server's FIN the client may go on. */
            if (d == SC_DIR_C2S && !s->fin[d] && !s->rst[d])
                smtp_partial_command(s, ev->frame);
            if (d == SC_DIR_C2S || rst)
                smtp_content_unfinished(s, ev->frame);
            else
                smtp_content_partial(s);
        }
        smtp_line_str(s, d, SC_LINE_EVENT, ev->frame, rst ? "[RST]" : "[FIN]");
        if (s->first_close < 0) {
            s->first_close = d;
            s->first_close_rst = rst;
        }
        if (rst && !s->info.tls && (s->quit_answered || (s->quit_sent && d == SC_DIR_C2S)) &&
            !s->rst[0] && !s->rst[1])
            smtp_find(s, R_RESET_AFTER_QUIT, side_of(d), ev->frame, NULL,
                      "the %s reset the connection after QUIT%s instead of closing it in order",
                      dir_who(d), s->quit_answered ? " and its reply" : "");
        bool again = rst ? s->rst[d] : s->fin[d];
        if (!s->fin[d] && !s->rst[d])
            s->close_frame[d] = ev->frame;   /* the first FIN/RST of dir */
        if (rst)
            s->rst[d] = true;
        else
            s->fin[d] = true;
        if (!again && !(d == SC_DIR_S2C && s->fin[d] && rst)) {
            if (d == SC_DIR_S2C)
                smtp_server_closed(s, ev->frame, rst);
            else
                smtp_client_closed(s, ev->frame, rst);
        }
        smtp_abort_check(s, d, rst, ev->frame);
        break;
    }
    case SC_FLOW_CLOSE:
        smtp_close(s, ev);
        break;
    }
}

bool sc_smtp_done(const sc_smtp *s)
{
    return s->done;
}

void sc_smtp_free(sc_smtp *s)
{
    if (!s)
        return;
    sc_client_free(&s->client);
    sc_server_free(&s->server);
    sc_matcher_free(&s->m);
    free(s->shadow);
    smtp_txn_free(s);
    free(s->capped);
    free(s);
}
