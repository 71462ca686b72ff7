/*
 * wire.c - the records a -j worker writes to the parent, described once
 * and encoded and decoded from that description (wire.h).
 *
 * Each part of a record (a session's info, a transcript line, a finding,
 * a mark, the end of stream) is a table of its fields: kind, place in its
 * struct, and for an array where its count is and what its elements are.
 * The writer and the reader walk the same table, so a field added to a
 * record is added in one place. Each entry checks at compile time that
 * the member has the type its kind encodes (_Generic).
 *
 * No caps of the codec's own: an array is as long as the record says
 * (extensions, transactions, recipients, ranges: the reader places them
 * in an arena), so raising one of the analyser's caps (SC_TXN_KEEP,
 * SC_RCPT_KEEP, SC_EXT_KEEP, SC_REDACT_KEEP) cannot truncate anything
 * under -j. What bounds a record is W_REC_MAX: a static check below says
 * that the largest session info the analyser's caps allow fits in it
 * with room to spare. The one fixed array, a finding's evidence, is the
 * record type's own (SC_EVIDENCE_MAX), the same array on both sides.
 *
 * Every value is checked when read (lengths within the record, enums in
 * range, rules known, strings terminated, no byte left over): a broken
 * record is refused, never half read.
 *
 * Numbers travel in the host's byte order: both ends are the same
 * program on the same machine.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "session/smtp_int.h"      /* the analyser's caps, for the check */

/* ---- the description ----------------------------------------------------- */

enum {
    WF_END,
    WF_U64,      /* uint64_t */
    WF_SIZE,     /* size_t */
    WF_BOOL,     /* bool */
    WF_U16,      /* uint16_t */
    WF_INT,      /* an int or an enum, 0 to aux */
    WF_TV,       /* struct timeval */
    WF_RAW,      /* aux bytes, in place */
    WF_BYTES,    /* const uint8_t * (may be NULL), its size_t length at aux */
    WF_STR,      /* const char *, NUL-terminated (may be NULL) */
    WF_CHARS,    /* char[aux], NUL-terminated */
    WF_RULE,     /* const sc_rule *, by id */
    WF_ARRAY,    /* a pointer to elements (elem), their size_t count at aux */
    WF_INLINE    /* cap elements (elem) in place, their size_t count at aux */
};

typedef struct wire_field {
    uint8_t                  kind;
    uint32_t                 off, aux;
    uint32_t                 esize, cap;
    const struct wire_field *elem;
} wire_field;

/* The offset of member m of S, which must be of type T. */
#define AT(S, m, T)      _Generic(((S *)0)->m, T: offsetof(S, m))
#define F_U64(S, m)      { WF_U64, AT(S, m, uint64_t), 0, 0, 0, NULL }
#define F_SIZE(S, m)     { WF_SIZE, AT(S, m, size_t), 0, 0, 0, NULL }
#define F_BOOL(S, m)     { WF_BOOL, AT(S, m, bool), 0, 0, 0, NULL }
#define F_U16(S, m)      { WF_U16, AT(S, m, uint16_t), 0, 0, 0, NULL }
#define F_INT(S, m, T, max) { WF_INT, AT(S, m, T), max, 0, 0, NULL }
#define F_TV(S, m)       { WF_TV, AT(S, m, struct timeval), 0, 0, 0, NULL }
#define F_RAW(S, m)      { WF_RAW, AT(S, m, uint8_t *), sizeof(((S *)0)->m), 0, 0, NULL }
#define F_BYTES(S, p, n) { WF_BYTES, AT(S, p, const uint8_t *), AT(S, n, size_t), 0, 0, NULL }
#define F_STR(S, m)      { WF_STR, AT(S, m, const char *), 0, 0, 0, NULL }
#define F_CHARS(S, m)    { WF_CHARS, AT(S, m, char *), sizeof(((S *)0)->m), 0, 0, NULL }
#define F_RULE(S, m)     { WF_RULE, AT(S, m, const sc_rule *), 0, 0, 0, NULL }
#define F_ARRAY(S, p, n, E, d) \
    { WF_ARRAY, AT(S, p, const E *), AT(S, n, size_t), sizeof(E), 0, d }
#define F_INLINE(S, a, n, E, d) \
    { WF_INLINE, AT(S, a, E *), AT(S, n, size_t), sizeof(E), \
      sizeof(((S *)0)->a) / sizeof(E), d }
#define F_END            { WF_END, 0, 0, 0, 0, NULL }

/* WF_INT reads and writes an int: the enums it carries are ints. */
_Static_assert(sizeof(sc_dir) == sizeof(int) && sizeof(sc_side) == sizeof(int) &&
               sizeof(sc_severity) == sizeof(int) && sizeof(sc_line_kind) == sizeof(int) &&
               sizeof(sc_close_by) == sizeof(int) && sizeof(sc_close_how) == sizeof(int) &&
               sizeof(sc_txn_result) == sizeof(int), "WF_INT enums are ints");

static const wire_field w_bytes[] = {
    F_BYTES(sc_bytes, p, len),
    F_END
};

static const wire_field w_txn[] = {
    F_BYTES(sc_txn, mail_from.p, mail_from.len),
    F_SIZE(sc_txn, nrcpt),
    F_ARRAY(sc_txn, rcpt_to, nrcpt_kept, sc_bytes, w_bytes),
    F_INT(sc_txn, result, sc_txn_result, SC_TXN_ABORTED),
    F_BYTES(sc_txn, reply.p, reply.len),
    F_U64(sc_txn, content_bytes),
    F_END
};

static const wire_field w_range[] = {
    F_INT(sc_range, dir, sc_dir, SC_DIR_S2C),
    F_U64(sc_range, start),
    F_U64(sc_range, end),
    F_END
};

static const wire_field w_info[] = {
    F_U64(sc_session_info, id),
    F_INT(sc_session_info, client.family, int, 255),
    F_RAW(sc_session_info, client.addr),
    F_U16(sc_session_info, client.port),
    F_INT(sc_session_info, server.family, int, 255),
    F_RAW(sc_session_info, server.addr),
    F_U16(sc_session_info, server.port),
    F_INT(sc_session_info, wire_client.family, int, 255),
    F_RAW(sc_session_info, wire_client.addr),
    F_U16(sc_session_info, wire_client.port),
    F_INT(sc_session_info, wire_server.family, int, 255),
    F_RAW(sc_session_info, wire_server.addr),
    F_U16(sc_session_info, wire_server.port),
    F_TV(sc_session_info, start),
    F_TV(sc_session_info, end),
    F_U64(sc_session_info, first_frame),
    F_U64(sc_session_info, last_frame),
    F_U64(sc_session_info, frames),
    F_U64(sc_session_info, bytes_c2s),
    F_U64(sc_session_info, bytes_s2c),
    F_U64(sc_session_info, c2s_after_server_fin),
    F_BOOL(sc_session_info, handshake_seen),
    F_BOOL(sc_session_info, seq_untrusted),
    F_U64(sc_session_info, reasm_dropped),
    F_U64(sc_session_info, reasm_untaken),
    F_BOOL(sc_session_info, tls),
    F_STR(sc_session_info, tls_state),
    F_STR(sc_session_info, tls_version),
    F_STR(sc_session_info, tls_cipher),
    F_STR(sc_session_info, tls_secrets),
    F_U64(sc_session_info, tls_notes),
    F_ARRAY(sc_session_info, extensions, next, sc_bytes, w_bytes),
    F_INT(sc_session_info, close_by, sc_close_by, SC_CLOSE_SERVER),
    F_INT(sc_session_info, close_how, sc_close_how, SC_HOW_EVICTED),
    F_STR(sc_session_info, close_after),
    F_SIZE(sc_session_info, ntxn),
    F_ARRAY(sc_session_info, txn, ntxn_kept, sc_txn, w_txn),
    F_U64(sc_session_info, stream_base[0]),
    F_U64(sc_session_info, stream_base[1]),
    F_U64(sc_session_info, stream_end[0]),
    F_U64(sc_session_info, stream_end[1]),
    F_ARRAY(sc_session_info, redact, nredact, sc_range, w_range),
    F_U64(sc_session_info, findings[0]),
    F_U64(sc_session_info, findings[1]),
    F_U64(sc_session_info, findings[2]),
    F_BYTES(sc_session_info, helo_name.p, helo_name.len),
    F_BYTES(sc_session_info, greeting_name.p, greeting_name.len),
    F_END                       /* capture_file: the parent's */
};

static const wire_field w_line[] = {
    F_U64(sc_line, frame),
    F_TV(sc_line, ts),
    F_INT(sc_line, dir, sc_dir, SC_DIR_S2C),
    F_INT(sc_line, kind, sc_line_kind, SC_LINE_UNPARSED),
    F_BYTES(sc_line, text, len),
    F_U64(sc_line, seq),
    F_END
};

static const wire_field w_evidence[] = {
    F_U64(sc_evidence, frame),
    F_INT(sc_evidence, dir, sc_dir, SC_DIR_S2C),
    F_BYTES(sc_evidence, text, len),
    F_END
};

static const wire_field w_finding[] = {
    F_RULE(sc_finding, rule),
    F_INT(sc_finding, side, sc_side, SC_SIDE_CAPTURE),
    F_INT(sc_finding, severity, sc_severity, SC_SEV_ERROR),
    F_U64(sc_finding, frame),
    F_TV(sc_finding, ts),
    F_U64(sc_finding, after_line),
    F_CHARS(sc_finding, message),
    F_INLINE(sc_finding, evidence, nevidence, sc_evidence, w_evidence),
    F_U64(sc_finding, suppressed),
    F_U64(sc_finding, suppressed_first),
    F_END
};

static const wire_field w_id[] = {
    F_U64(wire_rec, id),
    F_END
};

static const wire_field w_mark[] = {
    F_U64(wire_mark, done),
    F_U64(wire_mark, total),
    F_END
};

static const wire_field w_eos[] = {
    F_U64(wire_eos, packets),
    F_U64(wire_eos, bytes),
    F_U64(wire_eos, last_frame),
    F_U64(wire_eos, chain_dropped),
    F_U64(wire_eos, malformed_dropped),
    F_U64(wire_eos, failed),
    F_U64(wire_eos, not_smtp),
    F_U64(wire_eos, frag.fragments),
    F_U64(wire_eos, frag.datagrams),
    F_U64(wire_eos, frag.duplicates),
    F_U64(wire_eos, frag.overlap_v4),
    F_U64(wire_eos, frag.dropped[SC_FRAG_TIMEOUT]),
    F_U64(wire_eos, frag.dropped[SC_FRAG_INCOMPLETE]),
    F_U64(wire_eos, frag.dropped[SC_FRAG_OVERLAP]),
    F_U64(wire_eos, frag.dropped[SC_FRAG_LIMIT]),
    F_U64(wire_eos, frag.dropped[SC_FRAG_TOO_BIG]),
    F_U64(wire_eos, frag.dropped[SC_FRAG_MALFORMED]),
    F_CHARS(wire_eos, err),
    F_END
};

/* The parts of each type of record: a table of fields and where in
 * wire_rec its struct is. */
typedef struct wire_part {
    const wire_field *f;
    size_t            off, size;
} wire_part;

#define PART(t, m) { t, offsetof(wire_rec, m), sizeof(((wire_rec *)0)->m) }
#define PART_ID    { w_id, 0, 0 }

static const wire_part w_parts[W_TYPES][3] = {
    [W_OPEN]    = { PART_ID },
    [W_CLOSE]   = { PART_ID },
    [W_BEGIN]   = { PART(w_info, info) },
    [W_LINE]    = { PART_ID, PART(w_line, line) },
    [W_FINDING] = { PART(w_info, info), PART(w_finding, finding) },
    [W_END]     = { PART(w_info, info) },
    [W_MARK]    = { PART(w_mark, mark) },
    [W_EOS]     = { PART(w_eos, eos) },
};

/* The largest session info the analyser's caps allow, encoded (every
 * field 8 bytes but the bytes themselves; 64 fields is more than the
 * table has), stays well within a record: raising a cap far enough to
 * reach W_REC_MAX stops the build here rather than the run. */
#define W_TXN_BYTES  (16 * 8 + 2 * SC_ADDR_KEEP + SC_RCPT_KEEP * (8 + SC_ADDR_KEEP))
#define W_INFO_MAX   (64 * 8 + SC_EXT_KEEP * (8 + SC_EXT_LEN) + SC_TXN_KEEP * W_TXN_BYTES + \
                      SC_REDACT_KEEP * 3 * 8)
_Static_assert(W_INFO_MAX + sizeof(sc_finding) * 2 < W_REC_MAX / 4,
               "a session's record at the analyser's caps must fit in W_REC_MAX");

/* ---- writing --------------------------------------------------------------- */

#define W_NIL UINT64_MAX          /* a NULL pointer */

static void put(wire_buf *b, const void *v, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        uint8_t *p;

        while (cap < b->len + n)
            cap *= 2;
        if (!(p = realloc(b->p, cap))) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, v, n);
    b->len += n;
}

static void put_u64(wire_buf *b, uint64_t v)
{
    put(b, &v, sizeof v);
}

static void put_bytes(wire_buf *b, const void *p, size_t n)
{
    if (!p) {
        put_u64(b, W_NIL);
        return;
    }
    put_u64(b, n);
    put(b, p, n);
}

/* The member of type T at p (p points into a struct of the table's type). */
#define GET(T, p) (*(const T *)(const void *)(p))

static void put_fields(wire_buf *b, const wire_field *f, const uint8_t *base)
{
    for (; f->kind != WF_END; f++) {
        const uint8_t *m = base + f->off;

        switch (f->kind) {
        case WF_U64:   put_u64(b, GET(uint64_t, m)); break;
        case WF_SIZE:  put_u64(b, GET(size_t, m)); break;
        case WF_BOOL:  put_u64(b, GET(bool, m)); break;
        case WF_U16:   put_u64(b, GET(uint16_t, m)); break;
        case WF_INT:   put_u64(b, (uint64_t)GET(int, m)); break;
        case WF_TV: {
            struct timeval tv = GET(struct timeval, m);
            put_u64(b, (uint64_t)tv.tv_sec);
            put_u64(b, (uint64_t)tv.tv_usec);
            break;
        }
        case WF_RAW:   put(b, m, f->aux); break;
        case WF_BYTES: put_bytes(b, GET(const uint8_t *, m), GET(size_t, base + f->aux)); break;
        case WF_STR: {
            const char *s = GET(const char *, m);
            put_bytes(b, s, s ? strlen(s) + 1 : 0);           /* with its NUL */
            break;
        }
        case WF_CHARS: put_bytes(b, m, strnlen((const char *)m, f->aux - 1) + 1); break;
        case WF_RULE:  put_u64(b, (uint64_t)GET(const sc_rule *, m)->id); break;
        case WF_ARRAY:
        case WF_INLINE: {
            const uint8_t *e = f->kind == WF_ARRAY ? GET(const uint8_t *, m) : m;
            size_t n = GET(size_t, base + f->aux);

            put_u64(b, n);
            for (size_t i = 0; i < n; i++)
                put_fields(b, f->elem, e + i * f->esize);
            break;
        }
        }
    }
}

bool wire_put(wire_buf *b, const wire_rec *r)
{
    uint32_t len = 0;
    uint8_t t = (uint8_t)r->type;

    b->len = 0;
    put(b, &len, sizeof len);
    put(b, &t, 1);
    put_u64(b, r->drive);
    put_u64(b, r->sub);
    for (const wire_part *p = w_parts[r->type]; p < w_parts[r->type] + 3 && p->f; p++)
        put_fields(b, p->f, (const uint8_t *)r + p->off);
    if (b->oom || b->len > W_REC_MAX)
        return false;
    len = (uint32_t)(b->len - sizeof len);
    memcpy(b->p, &len, sizeof len);
    return true;
}

void wire_buf_free(wire_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- reading ---------------------------------------------------------------- */

/* The arrays of the record being read: one block, grown by a new one
 * when full (the full ones kept until the next record, since the record
 * points into them). */
typedef struct arena_block {
    struct arena_block *next;
    size_t              used, cap;
    alignas(max_align_t) uint8_t data[];
} arena_block;

struct wire_arena {
    arena_block *cur;
};

wire_arena *wire_arena_new(void)
{
    return calloc(1, sizeof(wire_arena));
}

void wire_arena_free(wire_arena *a)
{
    if (!a)
        return;
    while (a->cur) {
        arena_block *n = a->cur->next;
        free(a->cur);
        a->cur = n;
    }
    free(a);
}

static void arena_reset(wire_arena *a)
{
    if (!a->cur)
        return;
    while (a->cur->next) {        /* the newest block is the largest */
        arena_block *old = a->cur->next;
        a->cur->next = old->next;
        free(old);
    }
    a->cur->used = 0;
}

static void *arena_alloc(wire_arena *a, size_t n)
{
    size_t al = alignof(max_align_t);

    n = (n + al - 1) / al * al;
    if (!a->cur || a->cur->cap - a->cur->used < n) {
        size_t cap = a->cur ? a->cur->cap * 2 : 16384;
        arena_block *b;

        while (cap < n)
            cap *= 2;
        if (!(b = malloc(sizeof *b + cap)))
            return NULL;
        b->next = a->cur;
        b->used = 0;
        b->cap = cap;
        a->cur = b;
    }
    a->cur->used += n;
    return a->cur->data + a->cur->used - n;
}

typedef struct wire_reader {
    const uint8_t *pos, *end;
    bool           bad;
    wire_arena    *arena;
} wire_reader;

static uint64_t get_u64(wire_reader *r)
{
    uint64_t v = 0;

    if ((size_t)(r->end - r->pos) < sizeof v) {
        r->bad = true;
        r->pos = r->end;
        return 0;
    }
    memcpy(&v, r->pos, sizeof v);
    r->pos += sizeof v;
    return v;
}

/* A counted run of bytes in the record (NULL for W_NIL). */
static const uint8_t *get_bytes(wire_reader *r, size_t *len)
{
    uint64_t n = get_u64(r);
    const uint8_t *p = r->pos;

    *len = 0;
    if (n == W_NIL || r->bad)
        return NULL;
    if (n > (uint64_t)(r->end - r->pos)) {
        r->bad = true;
        r->pos = r->end;
        return NULL;
    }
    r->pos += n;
    *len = (size_t)n;
    return p;
}

/* A value of at most max. */
static uint64_t get_max(wire_reader *r, uint64_t max)
{
    uint64_t v = get_u64(r);

    if (v > max)
        r->bad = true;
    return v;
}

#define SET(T, p, v) (*(T *)(void *)(p) = (v))

static void get_fields(wire_reader *r, const wire_field *f, uint8_t *base)
{
    for (; f->kind != WF_END && !r->bad; f++) {
        uint8_t *m = base + f->off;
        const uint8_t *p;
        size_t n;

        switch (f->kind) {
        case WF_U64:   SET(uint64_t, m, get_u64(r)); break;
        case WF_SIZE:  SET(size_t, m, (size_t)get_max(r, SIZE_MAX)); break;
        case WF_BOOL:  SET(bool, m, get_max(r, 1) != 0); break;
        case WF_U16:   SET(uint16_t, m, (uint16_t)get_max(r, UINT16_MAX)); break;
        case WF_INT:   SET(int, m, (int)get_max(r, f->aux)); break;
        case WF_TV: {
            struct timeval tv;
            tv.tv_sec = (time_t)get_u64(r);
            tv.tv_usec = (suseconds_t)get_u64(r);
            SET(struct timeval, m, tv);
            break;
        }
        case WF_RAW:
            if ((size_t)(r->end - r->pos) < f->aux) {
                r->bad = true;
                break;
            }
            memcpy(m, r->pos, f->aux);
            r->pos += f->aux;
            break;
        case WF_BYTES:
            p = get_bytes(r, &n);
            SET(const uint8_t *, m, p);
            SET(size_t, base + f->aux, n);
            break;
        case WF_STR:
        case WF_CHARS:
            p = get_bytes(r, &n);
            if (p && (n == 0 || p[n - 1] != '\0' || (f->kind == WF_CHARS && n > f->aux)))
                r->bad = true;
            else if (f->kind == WF_STR)
                SET(const char *, m, (const char *)p);
            else if (p)
                memcpy(m, p, n);
            else
                r->bad = true;              /* a char array is never NULL */
            break;
        case WF_RULE:
            n = (size_t)get_max(r, SC_RULE_COUNT - 1);
            if (!r->bad)
                SET(const sc_rule *, m, &sc_rules[n]);
            break;
        case WF_ARRAY:
        case WF_INLINE: {
            uint64_t cnt = get_u64(r);
            uint8_t *e;

            /* every element takes at least 8 bytes of the record */
            if (cnt > (uint64_t)(r->end - r->pos) / 8 ||
                (f->kind == WF_INLINE && cnt > f->cap)) {
                r->bad = true;
                break;
            }
            if (f->kind == WF_INLINE) {
                e = m;
            } else {
                e = cnt ? arena_alloc(r->arena, (size_t)cnt * f->esize) : NULL;
                if (cnt && !e) {
                    r->bad = true;
                    break;
                }
                SET(const uint8_t *, m, e);
            }
            if (cnt)
                memset(e, 0, (size_t)cnt * f->esize);
            for (uint64_t i = 0; i < cnt && !r->bad; i++)
                get_fields(r, f->elem, e + i * f->esize);
            SET(size_t, base + f->aux, (size_t)cnt);
            break;
        }
        }
    }
}

long wire_size(const uint8_t *p, size_t n)
{
    uint32_t len;

    if (n < sizeof len)
        return 0;
    memcpy(&len, p, sizeof len);
    if (len < W_HEAD - sizeof len || len > W_REC_MAX)
        return -1;
    if (n - sizeof len < len)
        return 0;
    return (long)(sizeof len + len);
}

void wire_key(const uint8_t *p, wire_rec *r)
{
    r->type = p[4];
    memcpy(&r->drive, p + 5, sizeof r->drive);
    memcpy(&r->sub, p + 13, sizeof r->sub);
}

bool wire_get(const uint8_t *p, size_t len, wire_rec *r, wire_arena *a)
{
    wire_reader rd = { p + W_HEAD, p + len, false, a };

    wire_key(p, r);
    if (r->type <= 0 || r->type >= W_TYPES)
        return false;
    arena_reset(a);
    for (const wire_part *pt = w_parts[r->type]; pt < w_parts[r->type] + 3 && pt->f; pt++) {
        memset((uint8_t *)r + pt->off, 0, pt->size);
        get_fields(&rd, pt->f, (uint8_t *)r + pt->off);
    }
    return !rd.bad && rd.pos == rd.end;
}
