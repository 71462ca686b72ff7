/*
 * smtp_txn.c - the bounded records of a session: mail transactions (the
 * first SC_TXN_KEEP kept with SC_RCPT_KEEP recipients each, the rest
 * counted), the EHLO keywords the server listed, and the stream ranges
 * that --redact masks (message content, AUTH data). When the range table
 * is full the last range grows to cover the new one: masking too much is
 * safe, masking too little is not.
 */
#include <stdlib.h>
#include <string.h>

#include "smtp_int.h"

/* The byte store, on first use; NULL without memory (nothing is kept,
 * the counts still are). */
static smtp_store *txn_store(sc_smtp *s)
{
    if (!s->store)
        s->store = calloc(1, sizeof *s->store);
    return s->store;
}

static size_t txn_copy(uint8_t *dst, const uint8_t *p, size_t n)
{
    n = n < SC_ADDR_KEEP ? n : SC_ADDR_KEEP;
    memcpy(dst, p, n);
    return n;
}

void smtp_txn_begin(sc_smtp *s, const uint8_t *arg, size_t len)
{
    size_t i = s->info.ntxn++;

    smtp_store *st;

    s->txn_open = true;
    s->cur = -1;
    if (i >= SC_TXN_KEEP || !(st = txn_store(s)))
        return;
    s->cur = (int)i;
    s->info.ntxn_kept = i + 1;
    memset(&s->txn[i], 0, sizeof s->txn[i]);
    s->txn[i].mail_from.p = st->mail_s[i];
    s->txn[i].mail_from.len = txn_copy(st->mail_s[i], arg, len);
    s->txn[i].rcpt_to = st->rcpt_b[i];
}

void smtp_txn_rcpt(sc_smtp *s, const uint8_t *arg, size_t len)
{
    sc_txn *t;

    if (s->cur < 0)
        return;
    t = &s->txn[s->cur];
    if (t->nrcpt_kept < SC_RCPT_KEEP) {
        smtp_store *st = s->store;      /* there since smtp_txn_begin */
        size_t k = t->nrcpt_kept++;
        st->rcpt_b[s->cur][k].p = st->rcpt_s[s->cur][k];
        st->rcpt_b[s->cur][k].len = txn_copy(st->rcpt_s[s->cur][k], arg, len);
    }
    t->nrcpt++;
}

void smtp_txn_end(sc_smtp *s, sc_txn_result res, const uint8_t *reply, size_t len)
{
    if (s->cur >= 0) {
        sc_txn *t = &s->txn[s->cur];
        t->result = res;
        t->reply.p = s->store->reply_s[s->cur];
        if (reply)
            t->reply.len = txn_copy(s->store->reply_s[s->cur], reply, len);
    }
    s->cur = -1;
    s->txn_open = false;
}

void smtp_txn_content(sc_smtp *s, uint64_t octets)
{
    if (s->cur >= 0)
        s->txn[s->cur].content_bytes += octets;
}

void smtp_kw_reset(sc_smtp *s)
{
    s->kw_bits = 0;
    s->kw_ext_lines = 0;
    s->kw_n = 0;
    s->kw_size = 0;
}

void smtp_kw_line(sc_smtp *s, const uint8_t *kw, size_t len)
{
    unsigned bit = sc_ext_keyword(kw, len);

    if (bit) {
        s->kw_bits |= bit;
        s->kw_ext_lines++;
    }
    if (bit == SC_EXT_SIZE) {
        uint64_t v = 0;
        size_t i = 4;
        while (i < len && kw[i] == ' ')
            i++;
        for (; i < len && kw[i] >= '0' && kw[i] <= '9'; i++)
            v = v > UINT64_MAX / 10 - 1 ? UINT64_MAX : v * 10 + (uint64_t)(kw[i] - '0');
        s->kw_size = v;
    }
    if (s->kw_n < SC_EXT_KEEP && txn_store(s)) {
        size_t n = len < SC_EXT_LEN ? len : SC_EXT_LEN;
        smtp_store *st = s->store;
        /* The list shown is the one being read; if this reply is refused
         * it is cleared at commit time. */
        if (s->kw_n == 0)
            s->info.next = 0;
        memcpy(st->kw[s->kw_n], kw, n);
        s->ext_list[s->kw_n].p = st->kw[s->kw_n];
        s->ext_list[s->kw_n].len = n;
        s->kw_n++;
    }
}

void smtp_kw_commit(sc_smtp *s, bool helo)
{
    s->ext_known = true;
    s->helo_session = helo;
    s->ext = helo ? 0 : s->kw_bits;
    s->size_limit = helo ? 0 : s->kw_size;
    s->info.next = helo ? 0 : s->kw_n;
}

void smtp_redact(sc_smtp *s, sc_dir dir, uint64_t start, uint64_t end)
{
    size_t n = s->info.nredact;

    if (end <= start)
        return;
    if (n > 0 && s->redact[n - 1].dir == dir && s->redact[n - 1].end == start) {
        s->redact[n - 1].end = end;
        return;
    }
    if (n == SC_REDACT_KEEP) {
        /* Full: widen the last range of this direction over the new one. */
        for (size_t i = n; i-- > 0;)
            if (s->redact[i].dir == dir) {
                s->redact[i].end = end;
                return;
            }
        return;
    }
    s->redact[n] = (sc_range){ dir, start, end };
    s->info.nredact = n + 1;
}
