/*
 * record.c - one connection's TLS record layer (sc_tls, src/tls/tls.h).
 *
 * Each direction has a record reader: the 5-byte header, then the body
 * into a buffer of one record at most (TLS_REC_MAX: the TLS 1.2 bound on
 * ciphertext, RFC 5246 §6.2.3, which covers TLS 1.3's), across as many
 * TCP segments as it takes; the buffer is held only while a record is
 * half read, so a session costs about 3 KB between records and 22 KB at
 * most. A record completes in the frame that brought
 * its last byte: every plaintext byte it carries gets that frame, the one
 * Wireshark shows the decrypted data in.
 *
 * Handshake messages are followed as a stream (they span records) with
 * only their first HS_PREFIX bytes kept: enough for the hellos (client
 * random; server random, version, suite) and the message types that move
 * the keys (TLS 1.3 Finished: handshake to application keys; KeyUpdate:
 * the next secret). Certificates and the like pass without being stored.
 *
 * States (sc_tls_state): PENDING until the ServerHello; then DECRYPTED
 * when the key log has the keys, NO_KEY or UNSUPPORTED otherwise. A
 * record that fails its tag: if no record of its direction opened before,
 * or after FAIL_MAX in a row, the key is wrong and the state becomes
 * FAILED; otherwise it was damaged on the way and its plaintext is
 * reported lost (ops->gap) while the next ones still open. A header that
 * is not TLS, or bytes missing from the capture, also end in FAILED.
 * Every such event is a note (ops->note) with its frame.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_int.h"

#define TLS_REC_MAX (16384 + 2048)
#define HS_PREFIX   1024
#define FAIL_MAX    3

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23, CT_HEARTBEAT = 24 };
enum { HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_FINISHED = 20, HS_KEY_UPDATE = 24 };
typedef enum tls_epoch { EP_CLEAR, EP_HANDSHAKE, EP_APP } tls_epoch;

/* RFC 8446 §4.1.3: the ServerHello random of a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

typedef struct hs_reader {
    uint8_t  hdr[4];
    unsigned hhave;
    uint32_t mlen, left;
    uint8_t  pre[HS_PREFIX];
    size_t   plen;
} hs_reader;

typedef struct tls_dir {
    uint8_t    hdr[5];
    unsigned   hhave;
    uint8_t   *body;            /* TLS_REC_MAX, allocated at the first record */
    size_t     blen, bhave;
    hs_reader  hs;
    tls_epoch  ep;              /* TLS 1.3: which secret protects the records */
    bool       enc;             /* TLS 1.2: ChangeCipherSpec seen */
    tls_keys   k;
    tls_opener o;
    uint8_t    secret[SC_TLS_SECRET_MAX];   /* TLS 1.3 current traffic secret */
    size_t     slen;
    unsigned   fails;           /* tag failures in a row */
    bool       opened;          /* a record of this direction opened */
} tls_dir;

struct sc_tls {
    sc_keylog        *kl;
    const sc_tls_ops *ops;
    void             *ctx;
    sc_tls_state      st;
    uint16_t          version, cipher;
    const tls_suite  *suite;
    uint8_t           cr[32], sr[32];
    bool              have_cr;
    tls_keys          k12[2];   /* TLS 1.2 keys, in force from each CCS */
    tls_dir           d[2];
    uint64_t          frame;    /* of the bytes being read */
    struct timeval    ts;
};

const char *sc_tls_state_name(sc_tls_state st)
{
    static const char *const names[] = {
        [SC_TLS_NONE] = "none", [SC_TLS_OPAQUE] = "not-decrypted",
        [SC_TLS_PENDING] = "handshake", [SC_TLS_DECRYPTED] = "decrypted",
        [SC_TLS_NO_KEY] = "no-key", [SC_TLS_UNSUPPORTED] = "unsupported",
        [SC_TLS_FAILED] = "failed",
    };
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

static void tls_note(sc_tls *t, sc_dir dir, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void tls_note(sc_tls *t, sc_dir dir, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (t->ops->note)
        t->ops->note(t->ctx, dir, t->frame, t->ts, msg);
}

static void tls_set_state(sc_tls *t, sc_tls_state st)
{
    if (t->st == st)
        return;
    t->st = st;
    if (t->ops->state)
        t->ops->state(t->ctx, st, t->frame, t->ts);
}

/* Decryption can no longer follow: nothing more is read. */
static void tls_fail(sc_tls *t)
{
    tls_set_state(t, SC_TLS_FAILED);
    for (int i = 0; i < 2; i++) {
        free(t->d[i].body);
        t->d[i].body = NULL;
    }
}

static bool tls_done(const sc_tls *t)
{
    return t->st == SC_TLS_NO_KEY || t->st == SC_TLS_UNSUPPORTED || t->st == SC_TLS_FAILED;
}

/* ---- keys ---- */

static const uint8_t *tls_secret(sc_tls *t, sc_kl_label l, size_t *len)
{
    return t->kl ? sc_keylog_find(t->kl, t->cr, l, len) : NULL;
}

/* TLS 1.3: dir's records from now on are protected by secret. */
static bool tls13_install(sc_tls *t, sc_dir dir, const uint8_t *secret, size_t slen,
                          tls_epoch ep)
{
    tls_dir *d = &t->d[dir];

    if (slen > sizeof d->secret || slen != tls_digest_len(t->suite))
        return false;
    memcpy(d->secret, secret, slen);
    d->slen = slen;
    d->ep = ep;
    return tls13_traffic_keys(t->suite, d->secret, d->slen, &d->k) &&
           tls_opener_key(&d->o, t->suite);
}

static void tls_keys_found(sc_tls *t)
{
    const uint8_t *s;
    size_t len;

    if (!t->have_cr) {
        tls_note(t, SC_DIR_S2C, "TLS: the ClientHello is not in the capture, no key can be looked up");
        tls_set_state(t, SC_TLS_NO_KEY);
        return;
    }
    if (t->suite && t->suite->tls13) {
        static const sc_kl_label hs[2] = { [SC_DIR_C2S] = SC_KL_CHS, [SC_DIR_S2C] = SC_KL_SHS };
        for (int i = 0; i < 2; i++) {
            if (!(s = tls_secret(t, hs[i], &len))) {
                tls_set_state(t, SC_TLS_NO_KEY);
                return;
            }
            if (!tls13_install(t, (sc_dir)i, s, len, EP_HANDSHAKE)) {
                tls_note(t, (sc_dir)i, "TLS: the key log's secret does not fit the cipher suite");
                tls_fail(t);
                return;
            }
        }
    } else {
        if (!(s = tls_secret(t, SC_KL_MASTER, &len))) {
            tls_set_state(t, SC_TLS_NO_KEY);
            return;
        }
        if (!tls12_key_block(t->suite, s, t->cr, t->sr, &t->k12[SC_DIR_C2S],
                             &t->k12[SC_DIR_S2C])) {
            tls_fail(t);
            return;
        }
    }
    tls_set_state(t, SC_TLS_DECRYPTED);
}

/* ---- handshake messages ---- */

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3): random, suite, and
 * the version from supported_versions when there is one. */
static void tls_server_hello(sc_tls *t, const uint8_t *p, size_t n)
{
    size_t off;

    if (n < 2 + 32 + 1 || t->st != SC_TLS_PENDING)
        return;
    if (memcmp(p + 2, hrr_random, 32) == 0)
        return;                        /* HelloRetryRequest: another hello follows */
    t->version = be16(p);
    memcpy(t->sr, p + 2, 32);
    off = 2 + 32 + 1 + p[34];
    if (off + 3 > n)
        return;
    t->cipher = be16(p + off);
    off += 3;
    if (off + 2 <= n) {
        size_t end = off + 2 + be16(p + off);
        for (off += 2; off + 4 <= n && off + 4 <= end; off += 4 + be16(p + off + 2))
            if (be16(p + off) == 0x002b && be16(p + off + 2) == 2 && off + 6 <= n)
                t->version = be16(p + off + 4);
    }
    t->suite = tls_suite_find(t->cipher);
    if (!t->suite || (t->version != TLS_V12 && t->version != TLS_V13) ||
        t->suite->tls13 != (t->version == TLS_V13)) {
        tls_note(t, SC_DIR_S2C, "TLS: version 0x%04x, cipher suite 0x%04x: not decrypted by smtpscope",
                 t->version, t->cipher);
        tls_set_state(t, SC_TLS_UNSUPPORTED);
        return;
    }
    tls_keys_found(t);
}

static void tls_hs_message(sc_tls *t, sc_dir dir, uint8_t type, const uint8_t *p, size_t n)
{
    tls_dir *d = &t->d[dir];
    const uint8_t *s;
    size_t len;

    if (type == HS_CLIENT_HELLO && dir == SC_DIR_C2S && d->ep == EP_CLEAR && !d->enc) {
        if (n >= 2 + 32 && !t->have_cr) {
            memcpy(t->cr, p + 2, 32);
            t->have_cr = true;
        }
    } else if (type == HS_SERVER_HELLO && dir == SC_DIR_S2C && d->ep == EP_CLEAR && !d->enc) {
        tls_server_hello(t, p, n);
    } else if (type == HS_FINISHED && d->ep == EP_HANDSHAKE) {
        sc_kl_label l = dir == SC_DIR_C2S ? SC_KL_CTS0 : SC_KL_STS0;
        if (!(s = tls_secret(t, l, &len)) || !tls13_install(t, dir, s, len, EP_APP)) {
            tls_note(t, dir, "TLS: the key log has no usable %s traffic secret for this session",
                     dir == SC_DIR_C2S ? "client" : "server");
            tls_fail(t);
        }
    } else if (type == HS_KEY_UPDATE && d->ep == EP_APP) {
        if (!tls13_next_secret(t->suite, d->secret, d->slen) ||
            !tls13_traffic_keys(t->suite, d->secret, d->slen, &d->k))
            tls_fail(t);
    }
}

/* Handshake bytes of dir, a stream of messages across records. */
static void tls_hs_feed(sc_tls *t, sc_dir dir, const uint8_t *p, size_t n)
{
    hs_reader *h = &t->d[dir].hs;

    while (n && !tls_done(t)) {
        if (h->hhave < 4) {
            h->hdr[h->hhave++] = *p++;
            n--;
            if (h->hhave < 4)
                continue;
            h->mlen = h->left = (uint32_t)h->hdr[1] << 16 | (uint32_t)h->hdr[2] << 8 | h->hdr[3];
            h->plen = 0;
        } else {
            size_t take = n < h->left ? n : h->left;
            size_t keep = HS_PREFIX - h->plen < take ? HS_PREFIX - h->plen : take;
            memcpy(h->pre + h->plen, p, keep);
            h->plen += keep;
            h->left -= (uint32_t)take;
            p += take;
            n -= take;
        }
        if (h->left == 0) {
            h->hhave = 0;
            tls_hs_message(t, dir, h->hdr[0], h->pre, h->plen);
        }
    }
}

/* ---- records ---- */

/* Opens the record in dir's buffer; NULL when it failed (reported). */
static uint8_t *tls_open(sc_tls *t, sc_dir dir, size_t *len)
{
    tls_dir *d = &t->d[dir];
    uint8_t *pt;
    long r = tls_open_record(&d->o, &d->k, t->version == TLS_V13, d->hdr, d->body,
                             d->blen, &pt);

    if (r >= 0) {
        d->fails = 0;
        d->opened = true;
        *len = (size_t)r;
        return pt;
    }
    if (!d->opened || ++d->fails >= FAIL_MAX || d->ep == EP_HANDSHAKE) {
        tls_note(t, dir, "TLS: a %s record (%zu bytes) fails its authentication tag: %s; "
                 "the rest of the session is not analysed",
                 dir == SC_DIR_C2S ? "client" : "server", d->blen,
                 d->opened ? "the records that follow do not open either"
                           : "the key log's key is not this session's");
        tls_fail(t);
        return NULL;
    }
    tls_note(t, dir, "TLS: a %s record (%zu bytes) fails its authentication tag (damaged); "
             "its plaintext is missing", dir == SC_DIR_C2S ? "client" : "server", d->blen);
    d->k.seq++;               /* the next record has the next number */
    if (t->ops->gap)
        t->ops->gap(t->ctx, dir, d->blen, t->frame, t->ts);
    return NULL;
}

static void tls_deliver(sc_tls *t, sc_dir dir, const uint8_t *p, size_t n)
{
    if (n && t->ops->data)
        t->ops->data(t->ctx, dir, p, n, t->frame, t->ts);
}

static void tls_record(sc_tls *t, sc_dir dir)
{
    tls_dir *d = &t->d[dir];
    uint8_t type = d->hdr[0], *pt;
    size_t n;

    if (t->version == TLS_V13 && d->ep != EP_CLEAR) {
        if (type != CT_APPDATA)
            return;      /* compatibility ChangeCipherSpec; a second hello */
        if (!(pt = tls_open(t, dir, &n)))
            return;
        while (n > 0 && pt[n - 1] == 0)
            n--;         /* padding */
        if (n == 0)
            return;
        type = pt[--n];
        if (type == CT_HANDSHAKE)
            tls_hs_feed(t, dir, pt, n);
        else if (type == CT_APPDATA && d->ep == EP_APP)
            tls_deliver(t, dir, pt, n);
        return;
    }
    if (t->version == TLS_V12 && type == CT_CCS && t->st == SC_TLS_DECRYPTED && !d->enc) {
        d->enc = true;
        d->k = t->k12[dir];
        if (!tls_opener_key(&d->o, t->suite))
            tls_fail(t);
        return;
    }
    if (d->enc) {
        /* Every record after the ChangeCipherSpec is protected and takes
         * a sequence number, whatever its type (a heartbeat too): skipping
         * one unopened would put every later nonce and tag off by one. */
        if (type == CT_CCS)
            return;
        if (!(pt = tls_open(t, dir, &n)))
            return;
        if (type == CT_APPDATA)
            tls_deliver(t, dir, pt, n);
        return;
    }
    if (type == CT_HANDSHAKE)
        tls_hs_feed(t, dir, d->body, d->blen);
}

void sc_tls_feed(sc_tls *t, sc_dir dir, const uint8_t *p, size_t n,
                 uint64_t frame, struct timeval ts)
{
    tls_dir *d = &t->d[dir];

    t->frame = frame;
    t->ts = ts;
    while (n && !tls_done(t)) {
        if (d->hhave < 5) {
            d->hdr[d->hhave++] = *p++;
            n--;
            if (d->hhave < 5)
                continue;
            d->blen = be16(d->hdr + 3);
            d->bhave = 0;
            if (d->hdr[0] < CT_CCS || d->hdr[0] > CT_HEARTBEAT || d->hdr[1] != 3 ||
                d->blen > TLS_REC_MAX) {
                tls_note(t, dir, "TLS: the %s's bytes are not a TLS record (type %u, "
                         "version 0x%02x%02x, length %zu); the rest of the session is not analysed",
                         dir == SC_DIR_C2S ? "client" : "server", d->hdr[0], d->hdr[1],
                         d->hdr[2], d->blen);
                tls_fail(t);
                return;
            }
            if (!d->body && !(d->body = malloc(TLS_REC_MAX))) {
                tls_fail(t);
                return;
            }
        } else {
            size_t take = d->blen - d->bhave < n ? d->blen - d->bhave : n;
            memcpy(d->body + d->bhave, p, take);
            d->bhave += take;
            p += take;
            n -= take;
        }
        if (d->hhave == 5 && d->bhave == d->blen) {
            tls_record(t, dir);
            d->hhave = 0;
        }
    }
    /* No record half read: the buffer goes back until the next one (an
     * idle session holds none). */
    if (d->hhave < 5 && d->body) {
        free(d->body);
        d->body = NULL;
    }
}

void sc_tls_gap(sc_tls *t, sc_dir dir, uint64_t n, uint64_t frame, struct timeval ts)
{
    if (tls_done(t))
        return;
    t->frame = frame;
    t->ts = ts;
    tls_note(t, dir, "TLS: %llu bytes of the %s's records are missing from the capture; "
             "the rest of the session is not analysed", (unsigned long long)n,
             dir == SC_DIR_C2S ? "client" : "server");
    tls_fail(t);
}

sc_tls *sc_tls_new(sc_keylog *kl, const sc_tls_ops *ops, void *ctx)
{
    sc_tls *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    t->kl = kl;
    t->ops = ops;
    t->ctx = ctx;
    t->st = SC_TLS_PENDING;
    return t;
}

sc_tls_state sc_tls_get_state(const sc_tls *t)
{
    return t->st;
}

const char *sc_tls_version(const sc_tls *t)
{
    return t->version == TLS_V13 ? "TLS 1.3" : t->version == TLS_V12 ? "TLS 1.2" : NULL;
}

const char *sc_tls_cipher(const sc_tls *t)
{
    return t->suite ? t->suite->name : NULL;
}

const uint8_t *sc_tls_client_random(const sc_tls *t)
{
    return t->have_cr ? t->cr : NULL;
}

uint16_t sc_tls_cipher_id(const sc_tls *t)
{
    return t->cipher;
}

bool sc_tls_is_client_hello(const uint8_t *p, size_t n)
{
    return n >= 6 && p[0] == CT_HANDSHAKE && p[1] == 3 && p[2] <= 4 && p[5] == HS_CLIENT_HELLO;
}

void sc_tls_free(sc_tls *t)
{
    if (!t)
        return;
    for (int i = 0; i < 2; i++) {
        free(t->d[i].body);
        tls_opener_free(&t->d[i].o);
    }
    OPENSSL_cleanse(t, sizeof *t);
    free(t);
}
