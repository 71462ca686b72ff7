/*
 * smtp_ext.c - service extensions (RFC 5321 §2.2, §4.1.1.1): the keywords
 * of the server's EHLO reply, read line by line and committed when the
 * reply is a 250, and the client's use of extensions measured against
 * them.
 *
 * Rules: extension-unadvertised, starttls-unadvertised, bdat-unadvertised
 * (once per session: not once per chunk), helo-extended-reply.
 *
 * Interface: smtp_ext_reply_line() for each line of a reply to EHLO/HELO;
 * smtp_ext_answer() when EHLO/HELO gets its reply; smtp_ext_command() for
 * each command line. The kept keywords (at most SC_EXT_KEEP of
 * SC_EXT_LEN bytes) are what info.extensions shows.
 *
 * Diagnostics: none besides the findings.
 */
#include <string.h>

#include "smtp_int.h"
#include "smtp/args.h"

static void smtp_kw_reset(sc_smtp *s)
{
    s->ext.kw_bits = 0;
    s->ext.kw_ext_lines = 0;
    s->ext.kw_n = 0;
    s->ext.kw_size = 0;
}

static void smtp_kw_line(sc_smtp *s, const uint8_t *kw, size_t len)
{
    unsigned bit = sc_ext_keyword(kw, len);

    if (bit) {
        s->ext.kw_bits |= bit;
        s->ext.kw_ext_lines++;
    }
    if (bit == SC_EXT_SIZE) {
        uint64_t v = 0;
        size_t i = 4;
        while (i < len && kw[i] == ' ')
            i++;
        for (; i < len && kw[i] >= '0' && kw[i] <= '9'; i++)
            v = v > UINT64_MAX / 10 - 1 ? UINT64_MAX : v * 10 + (uint64_t)(kw[i] - '0');
        s->ext.kw_size = v;
    }
    uint8_t *slot = s->ext.kw_n < SC_EXT_KEEP ? smtp_txn_kw_slot(s, s->ext.kw_n) : NULL;
    if (slot) {
        size_t n = len < SC_EXT_LEN ? len : SC_EXT_LEN;
        /* The list shown is the one being read; if this reply is refused
         * it is cleared at commit time. */
        if (s->ext.kw_n == 0)
            s->info.next = 0;
        memcpy(slot, kw, n);
        s->ext.list[s->ext.kw_n].p = slot;
        s->ext.list[s->ext.kw_n].len = n;
        s->ext.kw_n++;
    }
}

void smtp_ext_reply_line(sc_smtp *s, const sc_rline *l, const sc_reply *r)
{
    /* Keywords: only in a reply to EHLO/HELO (the oldest pending). */
    sc_pending *head = sc_matcher_at(&s->m, 0);

    if (!head || (head->verb != SC_V_EHLO && head->verb != SC_V_HELO))
        return;
    if (r->nlines == 1)
        smtp_kw_reset(s);
    else if (l->textstring)
        smtp_kw_line(s, l->textstring, l->textlen);
}

void smtp_ext_answer(sc_smtp *s, const sc_pending *p, const sc_reply *r)
{
    bool helo = p->verb == SC_V_HELO;
    smtp_report rep;

    if (r->code != 250) {
        s->info.next = 0;
        s->ext.bits = 0;
        return;
    }
    if (helo && r->nlines > 1 && s->ext.kw_ext_lines > 0 &&
        smtp_report_begin(s, &rep, R_HELO_EXTENDED_REPLY, SC_SIDE_SERVER, r->frame,
                          "HELO (%s) got the multi-line list of %u extension%s that "
                          "belongs to EHLO only: a client that said HELO expects one "
                          "250 line", sc_frame_name(p->frame), s->ext.kw_ext_lines,
                          s->ext.kw_ext_lines == 1 ? "" : "s")) {
        smtp_report_evidence(&rep, p->frame, SC_DIR_C2S, p->text, p->tlen);
        smtp_report_evidence(&rep, r->frame, SC_DIR_S2C, r->last, r->last_len);
        smtp_report_end(s, &rep);
    }
    s->ext.known = true;
    s->ext.helo_session = helo;
    s->ext.bits = helo ? 0 : s->ext.kw_bits;
    s->ext.size_limit = helo ? 0 : s->ext.kw_size;
    s->info.next = helo ? 0 : s->ext.kw_n;
}

void smtp_ext_command(sc_smtp *s, sc_verb v, const sc_cline *l, const uint8_t *txt, size_t tn)
{
    sc_evidence e;
    unsigned need = sc_cmd_get(v)->ext;

    if (!s->ext.known || s->cap.blind)
        return;
    if (need && !(s->ext.bits & need)) {
        if (v == SC_V_BDAT && !smtp_once(s, R_BDAT_UNADVERTISED, SC_SIDE_CLIENT))
            return;              /* once per session, not per chunk */
        /* The specific rules replace the general one. */
        sc_rule_id id = v == SC_V_STARTTLS ? R_STARTTLS_UNADVERTISED
                      : v == SC_V_BDAT ? R_BDAT_UNADVERTISED : R_EXTENSION_UNADVERTISED;
        /* BDAT's extension has another name: say which one is missing */
        smtp_find(s, id, SC_SIDE_CLIENT, l->frame, smtp_ev(&e, l->frame, SC_DIR_C2S, txt, tn),
                  "%s%s used although the server %s%s", sc_cmd_get(v)->name,
                  v == SC_V_BDAT ? " (the message sent in chunks)" : "",
                  s->ext.helo_session ? "was greeted with HELO (no extensions)"
                                      : "did not list ",
                  s->ext.helo_session ? "" : v == SC_V_BDAT
                      ? "CHUNKING, the extension BDAT needs, in its EHLO reply"
                      : "it in its EHLO reply");
        return;
    }
    if (v != SC_V_MAIL && v != SC_V_RCPT)
        return;
    char missing[128];
    if (sc_arg_unadvertised(l->text, l->kept, s->ext.bits, missing, sizeof missing))
        smtp_find(s, R_EXTENSION_UNADVERTISED, SC_SIDE_CLIENT, l->frame,
                  smtp_ev(&e, l->frame, SC_DIR_C2S, txt, tn),
                  "%s uses %s, which the server %s", sc_cmd_get(v)->name, missing,
                  s->ext.helo_session ? "cannot offer after HELO"
                                      : "did not list in its EHLO reply");
}
