/*
 * test_wire.c - the -j wire records (src/jobs/wire.h): every part of
 * every record type read back as written; arrays longer than any of the
 * analyser's caps travel whole (the codec has no caps of its own);
 * broken records refused (cut short, bytes left over, an enum out of
 * range, an unknown rule, more evidence than a finding holds, an
 * unterminated string, a bad type or length).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/wire.h"
#include "tap.h"

#define NTXN  40          /* beyond SC_TXN_KEEP */
#define NRCPT 30          /* beyond SC_RCPT_KEEP */
#define NEXT  50          /* beyond SC_EXT_KEEP */
#define NRANGE 20         /* beyond SC_REDACT_KEEP */

static sc_bytes ext[NEXT], rcpt[NRCPT];
static sc_txn txn[NTXN];
static sc_range range[NRANGE];

static void fill_info(sc_session_info *si)
{
    memset(si, 0, sizeof *si);
    si->id = 77;
    si->client.family = 10;
    memset(si->client.addr, 0xab, sizeof si->client.addr);
    si->client.port = 40000;
    si->server.family = 2;
    si->server.port = 25;
    si->start.tv_sec = 1000;
    si->end.tv_usec = 999999;
    si->first_frame = 3;
    si->last_frame = 1u << 30;
    si->bytes_c2s = UINT64_MAX - 1;
    si->handshake_seen = true;
    for (int i = 0; i < NEXT; i++)
        ext[i] = (sc_bytes){ (const uint8_t *)"PIPELINING", 10 };
    si->extensions = ext;
    si->next = NEXT;
    si->close_by = SC_CLOSE_SERVER;
    si->close_how = SC_HOW_EVICTED;
    si->close_after = "data";
    for (int i = 0; i < NRCPT; i++)
        rcpt[i] = (sc_bytes){ (const uint8_t *)"<a@b>", 5 };
    for (int i = 0; i < NTXN; i++)
        txn[i] = (sc_txn){ .mail_from = { (const uint8_t *)"<x@y>", 5 }, .nrcpt = 1000,
                           .nrcpt_kept = NRCPT, .rcpt_to = rcpt, .result = SC_TXN_ABORTED,
                           .content_bytes = (uint64_t)i };
    si->ntxn = 5000;
    si->ntxn_kept = NTXN;
    si->txn = txn;
    for (int i = 0; i < NRANGE; i++)
        range[i] = (sc_range){ SC_DIR_S2C, (uint64_t)i, (uint64_t)i + 10 };
    si->nredact = NRANGE;
    si->redact = range;
    si->findings[2] = 9;
}

static bool info_same(const sc_session_info *a, const sc_session_info *b)
{
    bool ok = a->id == b->id && a->client.family == b->client.family &&
              !memcmp(a->client.addr, b->client.addr, 16) && a->client.port == b->client.port &&
              a->server.port == b->server.port && a->start.tv_sec == b->start.tv_sec &&
              a->end.tv_usec == b->end.tv_usec && a->last_frame == b->last_frame &&
              a->bytes_c2s == b->bytes_c2s && a->handshake_seen == b->handshake_seen &&
              a->next == b->next && a->close_by == b->close_by && a->close_how == b->close_how &&
              !strcmp(a->close_after, b->close_after) && a->ntxn == b->ntxn &&
              a->ntxn_kept == b->ntxn_kept && a->nredact == b->nredact &&
              a->findings[2] == b->findings[2];

    for (size_t i = 0; ok && i < a->next; i++)
        ok = b->extensions[i].len == 10 && !memcmp(b->extensions[i].p, "PIPELINING", 10);
    for (size_t i = 0; ok && i < a->ntxn_kept; i++) {
        const sc_txn *t = &b->txn[i];
        ok = t->nrcpt == 1000 && t->nrcpt_kept == NRCPT && t->result == SC_TXN_ABORTED &&
             t->content_bytes == i && t->mail_from.len == 5 && !t->reply.p &&
             t->rcpt_to[NRCPT - 1].len == 5 && !memcmp(t->rcpt_to[NRCPT - 1].p, "<a@b>", 5);
    }
    for (size_t i = 0; ok && i < a->nredact; i++)
        ok = b->redact[i].dir == SC_DIR_S2C && b->redact[i].end == i + 10;
    return ok;
}

/* Encodes r, lets edit change the bytes, decodes; whether it was taken.
 * What was read points into b until the next call. */
static wire_buf tbuf;

static bool roundtrip(const wire_rec *r, wire_rec *out, wire_arena *a,
                      void (*edit)(wire_buf *buf))
{
    bool ok = wire_put(&tbuf, r);

    if (ok && edit)
        edit(&tbuf);
    return ok && wire_size(tbuf.p, tbuf.len) == (long)tbuf.len && wire_get(tbuf.p, tbuf.len, out, a);
}

/* Edits of an encoded finding record (the finding's fields come last). */
static size_t find(const wire_buf *b, const void *what, size_t n)
{
    for (size_t i = W_HEAD; i + n <= b->len; i++)
        if (!memcmp(b->p + i, what, n))
            return i;
    return 0;
}

static void set_len(wire_buf *b, size_t len)
{
    uint32_t l = (uint32_t)(len - 4);
    memcpy(b->p, &l, 4);
    b->len = len;
}

static void cut_short(wire_buf *w) { set_len(w, w->len - 1); }
static void extra_byte(wire_buf *w)
{
    uint8_t *p = realloc(w->p, w->len + 1);

    if (!p)
        return;
    w->p = p;
    w->cap = w->len + 1;
    w->p[w->len] = 0;
    set_len(w, w->len + 1);
}
static void bad_type(wire_buf *w) { w->p[4] = W_TYPES; }

/* Writes v over the 8 bytes at off from the message's bytes: the
 * finding's fields are rule, side, severity, frame, ts (16), after_line,
 * the message's length, its bytes ("MESSAGE" and NUL), the evidence count. */
static void put_at(wire_buf *w, long off, uint64_t v)
{
    size_t at = find(w, "MESSAGE", 8);
    if (at)
        memcpy(w->p + (long)at + off, &v, 8);
}

static void bad_severity(wire_buf *w) { put_at(w, -48, 7); }
static void bad_rule(wire_buf *w) { put_at(w, -64, 100000); }
static void no_nul(wire_buf *w) { size_t at = find(w, "MESSAGE", 8); if (at) w->p[at + 7] = 'X'; }
static void many_evidence(wire_buf *w) { put_at(w, 8, SC_EVIDENCE_MAX + 1); }

int main(void)
{
    wire_arena *a = wire_arena_new();
    static wire_rec r, out;
    sc_session_info si;
    bool ok;

    fill_info(&si);

    memset(&r, 0, sizeof r);
    r.type = W_BEGIN;
    r.drive = 12;
    r.sub = 34;
    r.info = si;
    ok = roundtrip(&r, &out, a, NULL);
    T_CHECK(ok && out.type == W_BEGIN && out.drive == 12 && out.sub == 34 &&
            info_same(&si, &out.info),
            "session info read back whole: %d transactions of %d recipients, %d keywords, "
            "%d ranges (beyond every cap of the analyser)", NTXN, NRCPT, NEXT, NRANGE);

    memset(&r, 0, sizeof r);
    r.type = W_LINE;
    r.id = 5;
    r.line = (sc_line){ .frame = 9, .ts = { 1, 2 }, .dir = SC_DIR_S2C, .kind = SC_LINE_UNPARSED,
                        .text = (const uint8_t *)"250 ok\0\r", .len = 8, .seq = 4 };
    ok = roundtrip(&r, &out, a, NULL);
    T_CHECK(ok && out.id == 5 && out.line.frame == 9 && out.line.ts.tv_usec == 2 &&
            out.line.kind == SC_LINE_UNPARSED && out.line.len == 8 &&
            !memcmp(out.line.text, "250 ok\0\r", 8) && out.line.seq == 4,
            "line read back, its bytes as they were (NUL and CR included)");

    memset(&r, 0, sizeof r);
    r.type = W_FINDING;
    r.info = si;
    r.finding.rule = &sc_rules[SC_RULE_COUNT - 1];
    r.finding.side = SC_SIDE_CAPTURE;
    r.finding.severity = SC_SEV_WARNING;
    r.finding.frame = 8;
    snprintf(r.finding.message, sizeof r.finding.message, "MESSAGE");
    r.finding.nevidence = SC_EVIDENCE_MAX;
    for (int i = 0; i < SC_EVIDENCE_MAX; i++)
        r.finding.evidence[i] = (sc_evidence){ (uint64_t)i, SC_DIR_C2S,
                                               (const uint8_t *)"MAIL", 4 };
    r.finding.suppressed = 3;
    ok = roundtrip(&r, &out, a, NULL);
    T_CHECK(ok && info_same(&si, &out.info) && out.finding.rule == r.finding.rule &&
            out.finding.side == SC_SIDE_CAPTURE && out.finding.severity == SC_SEV_WARNING &&
            !strcmp(out.finding.message, "MESSAGE") &&
            out.finding.nevidence == SC_EVIDENCE_MAX &&
            out.finding.evidence[SC_EVIDENCE_MAX - 1].frame == SC_EVIDENCE_MAX - 1 &&
            out.finding.suppressed == 3,
            "finding read back with %d pieces of evidence", SC_EVIDENCE_MAX);
    T_CHECK(!roundtrip(&r, &out, a, cut_short), "a record cut short is refused");
    T_CHECK(!roundtrip(&r, &out, a, extra_byte), "a byte left over is refused");
    T_CHECK(!roundtrip(&r, &out, a, bad_type), "an unknown record type is refused");
    T_CHECK(!roundtrip(&r, &out, a, bad_severity), "a severity out of range is refused");
    T_CHECK(!roundtrip(&r, &out, a, bad_rule), "an unknown rule is refused");
    T_CHECK(!roundtrip(&r, &out, a, no_nul), "an unterminated message is refused");
    T_CHECK(!roundtrip(&r, &out, a, many_evidence), "more evidence than a finding holds is refused");

    memset(&r, 0, sizeof r);
    r.type = W_EOS;
    r.eos = (wire_eos){ .packets = 10, .bytes = 20, .last_frame = 10, .failed = 1 };
    snprintf(r.eos.err, sizeof r.eos.err, "truncated");
    ok = roundtrip(&r, &out, a, NULL);
    T_CHECK(ok && out.eos.packets == 10 && out.eos.failed == 1 && !strcmp(out.eos.err, "truncated"),
            "end of stream read back");

    uint8_t junk[32] = { 0xff, 0xff, 0xff, 0x7f };
    T_CHECK(wire_size(junk, sizeof junk) < 0, "a length beyond W_REC_MAX is refused");
    T_CHECK(wire_size(junk, 3) == 0, "three bytes: more needed");
    wire_arena_free(a);
    wire_buf_free(&tbuf);
    T_DONE();
}
