/*
 * smtp_content.c - message content (RFC 5321 §4.1.1.4 DATA, RFC 3030 BDAT):
 * from the command that opens it to its end-of-data dot, its last chunk,
 * its rejection or the close that cuts it; what the transcript says of
 * it (a summary line, split where a reply, a close or a gap crosses it).
 *
 * Rules: data-before-go-ahead (also for the content of a smuggled message:
 * smtp_smuggle.c calls smtp_content_too_early()), reply-during-data,
 * content-after-rejection, size-exceeded, bdat-mixed, bdat-truncated.
 * The form of content lines (line-too-long, bare-lf) is smtp_lines.c's;
 * the ambiguous end-of-data sequences are smtp_smuggle.c's.
 *
 * Interface: the client machine's content callbacks (smtp_content_begin,
 * _line, _lines, _eod, _chunk); smtp_content_mail(), _data(), _bdat() and
 * _residue() from the command lines (smtp_command.c); _data_answer(),
 * _bdat_over() and _reply() from the replies (smtp_answer.c,
 * smtp_reply.c); _partial(), _unfinished(), _bdat_truncated() when a
 * reply, gap or close crosses the content; _too_early() for the smuggled
 * message (smtp_smuggle.c); _count_only() when the shadow starts reading
 * lines.
 *
 * Diagnostics: "[message content: N lines, N bytes]" transcript lines
 * (and, with --show-content, the lines themselves); "[BDAT chunk: N
 * octets]".
 */
#include <string.h>

#include "smtp_int.h"
#include "smtp/args.h"

/* Lines need to be seen one by one for --show-content and while the
 * shadow reads content as commands. */
void smtp_content_count_only(sc_smtp *s)
{
    s->client.count_only = !s->cfg->show_content && !s->smug.on;
}

static void smtp_content_reset(sc_smtp *s)
{
    s->content.lines = s->content.bytes = 0;
    s->content.unfinished = false;
    s->content.shown_lines = s->content.shown_bytes = s->content.last_frame = 0;
    s->content.split = false;
    s->content.answered_early = false;
    smtp_once_clear(s, R_DATA_BEFORE_GO_AHEAD, SMTP_ONCE_MSG);
    smtp_lines_content_reset(s);
    smtp_smuggle_reset(s);
    smtp_content_count_only(s);
}

/* True while the client is inside message content (after DATA, before
 * its dot) and has sent some of it. */
static bool smtp_content_live(const sc_smtp *s)
{
    return s->client.mode == SC_CM_CONTENT && s->client.content_started && !s->content.unfinished;
}

/* A server reply, a close or a gap crosses the message content: the
 * content sent so far gets its summary line first, so that the transcript
 * shows the crossing (with --show-content the lines are already there). */
void smtp_content_partial(sc_smtp *s)
{
    struct timeval now = s->ts;

    if (s->cfg->show_content || !smtp_content_live(s) ||
        (s->content.lines == s->content.shown_lines && s->content.bytes == s->content.shown_bytes))
        return;
    s->ts = s->content.last_ts;            /* the line is dated by its last content */
    if (!s->content.split)
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_CONTENT, s->content.last_frame,
                      "[message content: %llu lines, %llu bytes so far]",
                      (unsigned long long)s->content.lines, (unsigned long long)s->content.bytes);
    else
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_CONTENT, s->content.last_frame,
                      "[message content, continued: +%llu lines, +%llu bytes (%llu lines, "
                      "%llu bytes so far)]",
                      (unsigned long long)(s->content.lines - s->content.shown_lines),
                      (unsigned long long)(s->content.bytes - s->content.shown_bytes),
                      (unsigned long long)s->content.lines, (unsigned long long)s->content.bytes);
    s->content.shown_lines = s->content.lines;
    s->content.shown_bytes = s->content.bytes;
    s->content.split = true;
    s->ts = now;
}

/* The last summary line of a message's content: at its dot (eod), or
 * when it can no longer end (close, capture end). */
static void smtp_content_summary(sc_smtp *s, uint64_t frame, bool eod)
{
    const char *end = eod ? "end of data" : "no end of data";
    bool more = s->content.lines != s->content.shown_lines ||
                s->content.bytes != s->content.shown_bytes;

    struct timeval now = s->ts;

    if (s->cfg->show_content)
        return;
    if (!eod && more && s->content.last_frame) {
        frame = s->content.last_frame;
        s->ts = s->content.last_ts;
    }
    if (!s->content.split) {
        /* "[message content: %llu lines, %llu bytes%s]", the line of most
         * messages, written without vsnprintf */
        char line[96], *w = line;
        memcpy(w, "[message content: ", 18);
        w = sc_u64_put(w + 18, s->content.lines);
        memcpy(w, " lines, ", 8);
        w = sc_u64_put(w + 8, s->content.bytes);
        memcpy(w, " bytes", 6);
        w += 6;
        if (!eod) {
            memcpy(w, ", no end of data", 16);
            w += 16;
        }
        *w++ = ']';
        smtp_line(s, SC_DIR_C2S, SC_LINE_CONTENT, frame, (const uint8_t *)line,
                  (size_t)(w - line));
    } else if (!more)
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_CONTENT, frame,
                      "[message content: nothing more, %s (%llu lines, %llu bytes in all)]",
                      end, (unsigned long long)s->content.lines,
                      (unsigned long long)s->content.bytes);
    else
        smtp_line_str(s, SC_DIR_C2S, SC_LINE_CONTENT, frame,
                      "[message content, continued: +%llu lines, +%llu bytes, %s "
                      "(%llu lines, %llu bytes in all)]",
                      (unsigned long long)(s->content.lines - s->content.shown_lines),
                      (unsigned long long)(s->content.bytes - s->content.shown_bytes), end,
                      (unsigned long long)s->content.lines, (unsigned long long)s->content.bytes);
    s->content.shown_lines = s->content.lines;
    s->content.shown_bytes = s->content.bytes;
    s->ts = now;
}

/* data-before-go-ahead, the one place it fires: the content of the
 * message (still_pending: DATA is still queued), or the content of the
 * message a lenient server read after the smuggled DATA (data_frame). */
void smtp_content_too_early(sc_smtp *s, uint64_t frame, smtp_early kind, uint64_t data_frame,
                            bool still_pending)
{
    if (kind == SMTP_EARLY_SMUGGLED_LINE && !smtp_once(s, R_DATA_BEFORE_GO_AHEAD, SMTP_ONCE_MSG))
        return;
    if (kind != SMTP_EARLY_DATA)
        smtp_find(s, R_DATA_BEFORE_GO_AHEAD, SC_SIDE_CLIENT, frame, NULL,
                  "the smuggled message's content was sent before the 354 to the "
                  "smuggled DATA (frame %s)", sc_frame_bare(data_frame));
    else
        smtp_find(s, R_DATA_BEFORE_GO_AHEAD, SC_SIDE_CLIENT, frame, NULL,
                  "the client sent message content (frame %s) before the 354 reply to DATA%s%s",
                  sc_frame_bare(frame), still_pending ? " " : "",
                  still_pending ? "(still pending)" : "");
}

/* size-exceeded: the content against the smaller of the SIZE the server
 * advertised and the SIZE= the client declared (RFC 1870 §6). */
static void smtp_content_size_check(sc_smtp *s, uint64_t frame, bool bdat)
{
    uint64_t limit = s->ext.size_limit;
    const char *whose = "the server advertised";

    if (s->content.declared_size && (!limit || s->content.declared_size < limit)) {
        limit = s->content.declared_size;
        whose = "the client declared (SIZE=)";
    }
    if (!limit || s->content.bytes <= limit)
        return;
    if (bdat)
        smtp_find(s, R_SIZE_EXCEEDED, SC_SIDE_CLIENT, frame, NULL,
                  "message of %llu bytes (BDAT) is larger than the SIZE %llu",
                  (unsigned long long)s->content.bytes, (unsigned long long)limit);
    else
        smtp_find(s, R_SIZE_EXCEEDED, SC_SIDE_CLIENT, frame, NULL,
                  "message content of %llu bytes is larger than the SIZE %llu %s",
                  (unsigned long long)s->content.bytes, (unsigned long long)limit, whose);
}

/* bdat-mixed (RFC 3030 §2). After a gap the transaction may have ended in
 * the missing bytes: not judged then. */
static void smtp_content_mixed(sc_smtp *s, uint64_t frame, const uint8_t *txt, size_t tn,
                               sc_verb v)
{
    sc_evidence e;

    if (s->cap.blind)
        return;
    smtp_find(s, R_BDAT_MIXED, SC_SIDE_CLIENT, frame, smtp_ev(&e, frame, SC_DIR_C2S, txt, tn),
              v == SC_V_BDAT ? "BDAT in a transaction that already used DATA"
                             : "DATA in a transaction that already used BDAT");
}

/* ---- From the command lines ---- */

void smtp_content_mail(sc_smtp *s, const sc_cline *l)
{
    const uint8_t *val;
    size_t vl;
    bool ok;

    s->content.txn_data = s->content.txn_bdat = false;
    s->content.bdat_last = false;
    s->content.declared_size = 0;
    if ((val = sc_arg_param(l->text, l->kept, "SIZE=", &vl)))
        s->content.declared_size = sc_arg_number(val, vl, &ok);
    smtp_content_reset(s);
}

void smtp_content_data(sc_smtp *s, const sc_cline *l, const uint8_t *txt, size_t tn,
                       const sc_pending *p)
{
    if (s->content.txn_bdat)
        smtp_content_mixed(s, l->frame, txt, tn, SC_V_DATA);
    s->content.txn_data = true;
    s->content.data_pending = true;
    smtp_content_reset(s);
    smtp_push(s, p);
    sc_client_set_mode(&s->client, SC_CM_CONTENT);
}

void smtp_content_bdat(sc_smtp *s, const sc_cline *l, sc_pending *p)
{
    uint64_t n;
    bool last;

    switch (sc_arg_bdat(l->text, l->kept, &n, &last)) {
    case SC_BDAT_BAD_SIZE:
        return;            /* a syntax error: the server will say 501 */
    case SC_BDAT_BAD_END:
        p->flags &= ~(unsigned)SC_PF_LAST;
        return;
    case SC_BDAT_OK:
        break;
    }
    if (last)
        p->flags |= SC_PF_LAST;
    if (s->content.txn_data)
        smtp_content_mixed(s, l->frame, l->text, l->kept, SC_V_BDAT);
    s->content.txn_bdat = true;
    if (!s->content.txn_data && s->content.bytes == 0 && !s->content.bdat_last)
        smtp_content_reset(s);
    s->content.bdat_last = p->flags & SC_PF_LAST;
    if (n > 0)
        sc_client_chunk(&s->client, n);
    else
        smtp_line_lit(s, SC_DIR_C2S, SC_LINE_BDAT, l->frame, "[BDAT chunk: 0 octets]");
}

/* A line after DATA was refused before any content: content the server
 * reads as commands (content-after-rejection, once per run of it). */
void smtp_content_residue(sc_smtp *s, sc_verb v, uint64_t frame, const uint8_t *txt,
                          size_t tn)
{
    sc_evidence e;

    if (v != SC_V_UNKNOWN)
        s->content.residue_mode = false;
    else if (s->content.data_rejected && !s->content.residue_mode) {
        s->content.residue_mode = true;
        smtp_find(s, R_CONTENT_AFTER_REJECTION, SC_SIDE_CLIENT, frame,
                  smtp_ev(&e, frame, SC_DIR_C2S, txt, tn),
                  "DATA was refused, but the client sent message content; the server reads it as commands");
    }
    s->content.data_rejected = false;
}

/* ---- The client machine's content callbacks ---- */

void smtp_content_begin(void *ctx, uint64_t off, uint64_t frame)
{
    sc_smtp *s = ctx;
    sc_pending *d = sc_matcher_last_firm(&s->m);

    s->content.start = off;
    if (s->content.data_pending && !s->cap.blind)
        smtp_content_too_early(s, frame, SMTP_EARLY_DATA, 0, d != NULL);
}

void smtp_content_line(void *ctx, const sc_cline *l)
{
    sc_smtp *s = ctx;

    s->content.lines++;
    s->content.last_frame = l->frame;
    s->content.last_ts = s->ts;
    s->content.bytes += l->wire_len - (l->stuffed ? 1 : 0);
    smtp_txn_content(s, l->wire_len - (l->stuffed ? 1 : 0));
    if (s->cfg->show_content)
        smtp_line(s, SC_DIR_C2S, SC_LINE_CONTENT, l->frame, l->text, l->kept);
    smtp_lines_content(s, l);
    smtp_smuggle_line(s, l);
}

/* Plain lines counted in bulk by the client machine: what
 * smtp_content_line does for each such line when neither --show-content
 * nor the smuggling shadow needs its text. */
void smtp_content_lines(void *ctx, uint64_t lines, uint64_t octets, uint64_t frame)
{
    sc_smtp *s = ctx;

    s->content.lines += lines;
    s->content.last_frame = frame;
    s->content.last_ts = s->ts;
    s->content.bytes += octets;
    smtp_txn_content(s, octets);
}

void smtp_content_eod(void *ctx, const sc_cline *dot)
{
    sc_smtp *s = ctx;
    sc_pending p;

    smtp_content_summary(s, dot->frame, true);
    smtp_line(s, SC_DIR_C2S, SC_LINE_COMMAND, dot->frame, dot->text, dot->kept);
    smtp_redact(s, SC_DIR_C2S, s->content.start, dot->off);
    smtp_lines_content_end(s);
    smtp_content_size_check(s, dot->frame, false);
    smtp_pending_fill(&p, SC_V_EOD, dot->frame, dot->text, dot->kept);
    if (s->content.answered_early)
        p.flags |= SC_PF_OPTIONAL;
    if (s->smug.live) {
        /* The lenient server already closed this message; the real dot
         * ends the smuggled one, if any. */
        p.flags |= SC_PF_SMUGGLED;
        if (!s->smug.has_data || s->smug.data_ended)
            p.flags |= SC_PF_OPTIONAL;
    }
    if (s->cap.blind)
        p.flags |= SC_PF_BLIND;
    smtp_push(s, &p);
}

void smtp_content_chunk(void *ctx, uint64_t octets, uint64_t off, uint64_t frame)
{
    sc_smtp *s = ctx;

    smtp_line_str(s, SC_DIR_C2S, SC_LINE_BDAT, frame, "[BDAT chunk: %llu octets]",
                  (unsigned long long)octets);
    smtp_redact(s, SC_DIR_C2S, off, off + octets);
    s->content.bytes += octets;
    smtp_txn_content(s, octets);
    if (s->content.bdat_last)
        smtp_content_size_check(s, frame, true);
}

/* ---- From the replies ---- */

/* DATA got its reply. Refused: content already on its way is read by
 * the server as commands (content-after-rejection). */
void smtp_content_data_answer(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    int c = r->code;
    sc_evidence e;

    s->content.data_pending = false;
    if (c == 354)
        return;
    if (s->client.mode == SC_CM_CONTENT && s->client.content_started) {
        /* Content already on its way: the server reads it as commands. */
        sc_pending res;
        smtp_pending_fill(&res, SC_V_RESIDUE, p->frame, (const uint8_t *)"(content)", 9);
        res.flags = SC_PF_OPTIONAL | SC_PF_RESIDUE;
        res.count = s->content.lines;
        smtp_find(s, R_CONTENT_AFTER_REJECTION, SC_SIDE_CLIENT, r->frame,
                  smtp_ev(&e, r->frame, SC_DIR_S2C, r->last, r->last_len),
                  "DATA (%s) was refused (%d), but the client had already sent "
                  "message content; the server reads it as commands",
                  sc_frame_name(p->frame), c);
        smtp_lines_content_end(s);
        sc_client_set_mode(&s->client, SC_CM_COMMAND);
        s->content.residue_mode = true;
        if (res.count)
            sc_matcher_push_front(&s->m, &res);
    } else if (s->client.mode == SC_CM_CONTENT) {
        sc_client_set_mode(&s->client, SC_CM_COMMAND);
        s->content.data_rejected = true;
    } else {
        /* The whole content was sent: its dot is queued after DATA. */
        sc_pending *eod = sc_matcher_at(&s->m, 0);
        if (eod && eod->verb == SC_V_EOD) {
            smtp_find(s, R_CONTENT_AFTER_REJECTION, SC_SIDE_CLIENT, r->frame,
                      smtp_ev(&e, r->frame, SC_DIR_S2C, r->last, r->last_len),
                      "DATA (%s) was refused (%d), but the client had already sent "
                      "the message content; the server reads it as commands",
                      sc_frame_name(p->frame), c);
            eod->verb = SC_V_RESIDUE;
            eod->flags |= SC_PF_OPTIONAL | SC_PF_RESIDUE;
            eod->count = s->content.lines + 1;
            s->content.residue_mode = true;
        }
    }
}

/* A reply while the client is still sending message content: where it
 * goes next (smtp_reply.c). */
smtp_route smtp_content_reply(sc_smtp *s, const sc_reply *r)
{
    bool in_content = s->client.mode == SC_CM_CONTENT && !s->content.data_pending;
    bool in_chunk = s->client.mode == SC_CM_BDAT && s->client.chunk_left > 0;
    smtp_report rep;

    if (in_content && s->smug.live)
        return SMTP_ROUTE_MATCH; /* the lenient server answers smuggled commands */
    if (in_content) {
        if (s->cap.blind) {
            /* The dot was probably in the gap: the message is over. */
            sc_client_set_mode(&s->client, SC_CM_COMMAND);
            smtp_txn_end(s, r->code < 400 ? SC_TXN_ACCEPTED : SC_TXN_REJECTED,
                         r->last, r->last_len);
            return SMTP_ROUTE_DONE;
        }
        if (s->smug.ambiguous && smtp_smuggle_check(s, r, true)) {
            /* That server ended the message at the ambiguous sequence. */
            smtp_txn_end(s, r->code < 400 ? SC_TXN_ACCEPTED : SC_TXN_REJECTED,
                         r->last, r->last_len);
            smtp_txn_last_bytes(s, s->smug.amb_bytes);
            smtp_seq_reset(s, SMTP_SEQ_KEEP);
            return SMTP_ROUTE_DONE;
        }
        if (!smtp_close_client_gave_up(s, r->code) &&
            smtp_report_begin(s, &rep, R_REPLY_DURING_DATA, SC_SIDE_SERVER, r->frame,
                              "the server replied %d while the client was still sending "
                              "message content (%llu bytes so far, no end-of-data dot yet)",
                              r->code, (unsigned long long)s->content.bytes)) {
            smtp_report_evidence(&rep, r->first_frame, SC_DIR_S2C, r->first, r->first_len);
            smtp_report_end(s, &rep);
        }
        s->content.answered_early = true;
        /* A refusal ends the transaction, prematurely: it is its final
         * reply (the summary says rejected, not aborted). */
        if (r->code >= 400) {
            smtp_txn_end(s, SC_TXN_REJECTED, r->last, r->last_len);
            smtp_seq_reset(s, SMTP_SEQ_KEEP);
        }
        return SMTP_ROUTE_DONE;
    }
    if (in_chunk &&
        smtp_report_begin(s, &rep, R_REPLY_DURING_DATA, SC_SIDE_SERVER, r->frame,
                          "the server replied %d inside a BDAT chunk (%llu of %llu octets still to come)",
                          r->code, (unsigned long long)s->client.chunk_left,
                          (unsigned long long)s->client.chunk_size)) {
        smtp_report_evidence(&rep, r->first_frame, SC_DIR_S2C, r->first, r->first_len);
        smtp_report_end(s, &rep);
    }
    return SMTP_ROUTE_ON;
}

/* ---- When the content is cut ---- */

void smtp_content_bdat_truncated(sc_smtp *s, uint64_t frame)
{
    if (s->client.mode != SC_CM_BDAT || s->client.chunk_left == 0)
        return;
    smtp_find(s, R_BDAT_TRUNCATED, SC_SIDE_CLIENT, frame, NULL,
              "the connection ended with %llu of the %llu octets announced by BDAT still unsent",
              (unsigned long long)s->client.chunk_left,
              (unsigned long long)s->client.chunk_size);
    s->client.chunk_left = 0;
}

/* Message content that never reached its end-of-data dot. */
void smtp_content_unfinished(sc_smtp *s, uint64_t frame)
{
    if (s->client.mode != SC_CM_CONTENT || !s->client.content_started || s->content.unfinished)
        return;
    smtp_content_summary(s, frame, false);
    s->content.unfinished = true;
    smtp_redact(s, SC_DIR_C2S, s->content.start, s->client.off);
    smtp_lines_content_end(s);
}

/* The last chunk got its reply, or a chunk was refused: the next BDAT
 * opens a new message. */
void smtp_content_bdat_over(sc_smtp *s)
{
    s->content.bdat_last = false;
}
