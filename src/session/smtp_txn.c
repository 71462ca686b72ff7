/*
 * smtp_txn.c - the bounded records of a session: mail transactions (the
 * first SC_TXN_KEEP kept with SC_RCPT_KEEP recipients each, the rest
 * counted; each kept one allocated when its MAIL is read), the bytes of
 * the EHLO keywords the server listed (read by smtp_ext.c), and the
 * stream ranges that --redact masks (message content, AUTH data). When
 * the range table is full the last range grows to cover the new one:
 * masking too much is safe, masking too little is not.
 *
 * Rules: none (records only). Interface: smtp_txn_begin/_rcpt/_content/
 * _end as the transaction goes; smtp_txn_last_bytes() when the last one
 * turns out to have ended earlier in its content (smtp_smuggle.c); smtp_txn_kw_slot() for a keyword's bytes;
 * smtp_redact() for a range; smtp_txn_free() at the end. Diagnostics:
 * none; without memory a transaction is counted, not kept.
 */
#include <stdlib.h>
#include <string.h>

#include "smtp_int.h"

/* The byte store, on first use; NULL without memory (nothing is kept,
 * the counts still are). */
static smtp_store *txn_store(sc_smtp *s)
{
    if (!s->txn.store)
        s->txn.store = calloc(1, sizeof *s->txn.store);
    return s->txn.store;
}

static size_t txn_copy(uint8_t *dst, const uint8_t *p, size_t n)
{
    n = n < SC_ADDR_KEEP ? n : SC_ADDR_KEEP;
    memcpy(dst, p, n);
    return n;
}

/* Room for record i and its bytes; false without memory (the transaction
 * is then counted, not kept). */
static bool txn_room(smtp_store *st, size_t i)
{
    if (i == 0) {                        /* in the store */
        st->txn = &st->txn0;
        st->txn_cap = 1;
        st->tb[0] = &st->tb0;
        return true;
    }
    if (i >= st->txn_cap) {
        size_t cap = st->txn_cap * 2;
        sc_txn *t;
        if (cap > SC_TXN_KEEP)
            cap = SC_TXN_KEEP;
        if (st->txn == &st->txn0) {
            if ((t = malloc(cap * sizeof *t)))
                *t = st->txn0;
        } else {
            t = realloc(st->txn, cap * sizeof *t);
        }
        if (!t)
            return false;
        st->txn = t;
        st->txn_cap = cap;
    }
    if (!st->tb[i])
        st->tb[i] = calloc(1, sizeof *st->tb[i]);
    return st->tb[i] != NULL;
}

void smtp_txn_begin(sc_smtp *s, const uint8_t *arg, size_t len)
{
    size_t i = s->info.ntxn++;
    smtp_store *st;
    smtp_txn_bytes *tb;

    s->txn.open = true;
    s->txn.cur = -1;
    if (i >= SC_TXN_KEEP || !(st = txn_store(s)) || !txn_room(st, i))
        return;
    tb = st->tb[i];
    s->txn.cur = (int)i;
    s->info.ntxn_kept = i + 1;
    s->info.txn = st->txn;
    memset(&st->txn[i], 0, sizeof st->txn[i]);
    st->txn[i].mail_from.p = tb->mail_s;
    st->txn[i].mail_from.len = txn_copy(tb->mail_s, arg, len);
    st->txn[i].rcpt_to = tb->rcpt_b;
}

/* The kept transaction being read, or NULL. */
static sc_txn *txn_cur(sc_smtp *s)
{
    return s->txn.cur >= 0 ? &s->txn.store->txn[s->txn.cur] : NULL;
}

void smtp_txn_free(sc_smtp *s)
{
    if (!s->txn.store)
        return;
    smtp_store *st = s->txn.store;

    /* tb[i] is made by the i-th MAIL only: most sessions have one or none */
    for (size_t i = 0; i < s->info.ntxn && i < SC_TXN_KEEP; i++) {
        if (st->tb[i]) {
            free(st->tb[i]->rcpt_s);
            if (st->tb[i] != &st->tb0)
                free(st->tb[i]);
        }
    }
    if (st->txn != &st->txn0)
        free(st->txn);
    free(s->txn.store);
    s->txn.store = NULL;
}

void smtp_txn_rcpt(sc_smtp *s, const uint8_t *arg, size_t len)
{
    sc_txn *t = txn_cur(s);

    if (!t)
        return;
    if (t->nrcpt_kept < SC_RCPT_KEEP) {
        smtp_txn_bytes *tb = s->txn.store->tb[s->txn.cur];   /* since smtp_txn_begin */
        size_t k = t->nrcpt_kept;
        if (k > 0 && k - 1 >= tb->rcpt_cap) {   /* grow; the kept ones move with it */
            unsigned cap = tb->rcpt_cap ? tb->rcpt_cap * 2 : 1;
            uint8_t (*r)[SC_ADDR_KEEP] = realloc(tb->rcpt_s, cap * sizeof *r);
            if (!r) {                   /* without memory: counted, not kept */
                t->nrcpt++;
                return;
            }
            tb->rcpt_s = r;
            tb->rcpt_cap = cap;
            for (size_t j = 1; j < k; j++)
                tb->rcpt_b[j].p = tb->rcpt_s[j - 1];
        }
        uint8_t *keep = k == 0 ? tb->rcpt0_s : tb->rcpt_s[k - 1];
        t->nrcpt_kept++;
        tb->rcpt_b[k].p = keep;
        tb->rcpt_b[k].len = txn_copy(keep, arg, len);
    }
    t->nrcpt++;
}

void smtp_txn_end(sc_smtp *s, sc_txn_result res, const uint8_t *reply, size_t len)
{
    sc_txn *t = txn_cur(s);

    if (t) {
        uint8_t *keep = s->txn.store->tb[s->txn.cur]->reply_s;
        t->result = res;
        t->reply.p = keep;
        if (reply)
            t->reply.len = txn_copy(keep, reply, len);
    }
    s->txn.last_result = res;
    s->txn.last = s->txn.cur;
    s->txn.cur = -1;
    s->txn.open = false;
}

void smtp_txn_content(sc_smtp *s, uint64_t octets)
{
    sc_txn *t = txn_cur(s);

    if (t)
        t->content_bytes += octets;
}

/* The content of the transaction that ended last is octets long: a
 * lenient server ended it at an ambiguous end-of-data sequence, and what
 * followed was commands and another message to it. */
void smtp_txn_last_bytes(sc_smtp *s, uint64_t octets)
{
    if (s->txn.last >= 0)
        s->txn.store->txn[s->txn.last].content_bytes = octets;
}

uint8_t *smtp_txn_kw_slot(sc_smtp *s, size_t i)
{
    smtp_store *st = txn_store(s);

    return st ? st->kw[i] : NULL;
}

void smtp_redact(sc_smtp *s, sc_dir dir, uint64_t start, uint64_t end)
{
    size_t n = s->info.nredact;

    /* Decrypted TLS: the offsets are the plaintext's, the capture carries
     * ciphertext, which shows nothing (and whose secrets the evidence
     * does not carry): nothing to mask there. */
    if (end <= start || (s->info.tls_state && !s->info.tls))
        return;
    if (n > 0 && s->txn.redact[n - 1].dir == dir && s->txn.redact[n - 1].end == start) {
        s->txn.redact[n - 1].end = end;
        return;
    }
    if (n == SC_REDACT_KEEP) {
        /* Full: widen the last range of this direction over the new one. */
        for (size_t i = n; i-- > 0;)
            if (s->txn.redact[i].dir == dir) {
                s->txn.redact[i].end = end;
                return;
            }
        return;
    }
    s->txn.redact[n] = (sc_range){ dir, start, end };
    s->info.nredact = n + 1;
}
