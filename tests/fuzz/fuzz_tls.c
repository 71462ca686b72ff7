/*
 * fuzz_tls.c - fuzz target for the TLS record layer (sc_tls, src/tls/):
 * records split anyhow across segments, handshake messages across
 * records, hellos with any lengths, hostile record headers, and records
 * that fail their tag, with a key log that knows one client random so
 * that the key schedule and the record opening are reached.
 *
 * The input is a script of operations until it ends:
 *   op byte: bit7 direction (0 client, 1 server), bits0-2 kind
 *     kind 0 BYTES  len:1, then len bytes of stream
 *     kind 1 BYTES  len:2 (big endian), then len bytes
 *     kind 2 GAP    bytes missing from the capture
 *     kind 3 HELLO  a ClientHello record with the key log's client random
 *     kind 4 SERVER suite:1 (index into fz_suites) then a ServerHello
 *                   record for it (TLS 1.3 with supported_versions when the
 *                   suite is one), then a ChangeCipherSpec record
 *     kind 5 RECORD type:1, len:2, then len bytes as one record body
 *     kind 6 SEALED epoch:1, type:1, len:2, then len bytes of plaintext,
 *                   sealed with the keys the key log gives for the last
 *                   SERVER op's suite, so that the bytes reach what lies
 *                   behind the tag: TLS 1.3 inner content types, padding,
 *                   handshake messages inside records (Finished, KeyUpdate
 *                   with any length), application data. TLS 1.3: epoch 0
 *                   the handshake secret, 1 the application secret, 2..5
 *                   that secret after 1..4 KeyUpdates; the record carries
 *                   type as its inner type. TLS 1.2: the key block's keys,
 *                   type as the record's. Each direction and epoch counts
 *                   its own sequence numbers.
 *     other  ignored
 * Each input runs one connection, fed to sc_tls with callbacks that check
 * what the layer promises: plaintext chunks no larger than one record,
 * frames never ahead of the one being fed, a state among sc_tls_state;
 * and, under a sanitizer that counts the heap, that the connection never
 * holds more than FZ_MEM_MAX bytes whatever it is fed (two record buffers,
 * cipher contexts). A violation aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls/tls_int.h"

#define FZ_RECORD_PLAIN_MAX (16384 + 2048)
#define FZ_MEM_MAX          (256 * 1024)
#define FZ_EPOCHS           6

/* The heap in use, where the sanitizer keeps count (ASan); else absent. */
extern size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

static sc_keylog *fz_kl;
static uint64_t fz_frame;

static const uint8_t fz_random[32] = {
    0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
    0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
};
static const uint16_t fz_suites[] = { 0x1301, 0x1302, 0x1303, 0xC02F, 0xC030, 0xCCA8, 0x009C, 0x0035 };

static void fz_init(void)
{
    static const char *const labels[] = {
        "CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0",
    };
    char path[] = "/dev/shm/fuzz_tls_keylog.XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    char err[256];

    if (!f)
        abort();
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        fprintf(f, "%s ", labels[i]);
        for (int k = 0; k < 32; k++)
            fprintf(f, "5a");
        fputc(' ', f);
        /* byte k of label i's secret: k * 7 + i, modulo 256 */
        for (int k = 0; k < (i == 0 ? 48 : 32); k++)
            fprintf(f, "%02x", (unsigned)(uint8_t)(k * 7 + i));
        fputc('\n', f);
    }
    if (fclose(f) != 0)
        abort();
    const char *files[1] = { path };
    fz_kl = sc_keylog_open(files, 1, err, sizeof err);
    unlink(path);     /* read on a miss: gone, so nothing more is read */
    if (!fz_kl)
        abort();
}

/* ---- sealing records as the peers would (kind 6) ---- */

static const tls_suite *fz_suite;      /* of the last SERVER op */
static tls_keys fz_keys[2][FZ_EPOCHS]; /* per direction and epoch */

/* The keys a peer seals with, from the fuzz key log's secrets (fz_init):
 * the secret of label l is the bytes k * 7 + l. */
static void fz_keys_for(const tls_suite *su)
{
    uint8_t cr[32], sr[32], master[48], sec[SC_TLS_SECRET_MAX];
    size_t dl;

    memset(fz_keys, 0, sizeof fz_keys);
    fz_suite = su;
    if (!su)
        return;
    memcpy(cr, fz_random, 32);
    memcpy(sr, fz_random, 32);
    sr[0] ^= 1;
    if (!su->tls13) {
        for (int k = 0; k < 48; k++)
            master[k] = (uint8_t)(k * 7);
        if (!tls12_key_block(su, master, cr, sr, &fz_keys[SC_DIR_C2S][0], &fz_keys[SC_DIR_S2C][0]))
            abort();
        return;
    }
    dl = tls_digest_len(su);
    for (int d = 0; d < 2; d++) {
        static const sc_kl_label hs[2] = { SC_KL_CHS, SC_KL_SHS }, app[2] = { SC_KL_CTS0, SC_KL_STS0 };
        for (size_t k = 0; k < dl; k++)
            sec[k] = (uint8_t)(k * 7 + hs[d]);
        if (!tls13_traffic_keys(su, sec, dl, &fz_keys[d][0]))
            abort();
        for (size_t k = 0; k < dl; k++)
            sec[k] = (uint8_t)(k * 7 + app[d]);
        for (int e = 1; e < FZ_EPOCHS; e++)
            if ((e > 1 && !tls13_next_secret(su, sec, dl)) ||
                !tls13_traffic_keys(su, sec, dl, &fz_keys[d][e]))
                abort();
    }
}

/* A record of type (TLS 1.3: inner type) holding pt, sealed with k into
 * out (room for n + 64). Returns its length. */
static size_t fz_seal(tls_keys *k, uint8_t type, const uint8_t *pt, size_t n, uint8_t *out)
{
    static const EVP_CIPHER *(*const cipher[])(void) = {
        [TLS_AES_128_GCM] = EVP_aes_128_gcm, [TLS_AES_256_GCM] = EVP_aes_256_gcm,
        [TLS_CHACHA20_POLY1305] = EVP_chacha20_poly1305,
    };
    bool t13 = fz_suite->tls13, expl = !t13 && fz_suite->aead != TLS_CHACHA20_POLY1305;
    uint8_t nonce[12], aad[13], seq[8];
    size_t body = (expl ? 8 : 0) + n + (t13 ? 1 : 0), aadlen;
    int l = 0;
    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();

    for (int i = 0; i < 8; i++)
        seq[i] = (uint8_t)(k->seq >> (56 - 8 * i));
    memcpy(nonce, k->iv, 12);
    if (expl)
        memcpy(nonce + 4, seq, 8);
    else
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= seq[i];
    out[0] = t13 ? 23 : type; out[1] = 3; out[2] = 3;
    out[3] = (uint8_t)((body + 16) >> 8); out[4] = (uint8_t)(body + 16);
    if (t13) {
        memcpy(aad, out, 5);
        aadlen = 5;
    } else {
        memcpy(aad, seq, 8);
        memcpy(aad + 8, out, 3);
        aad[11] = (uint8_t)(n >> 8); aad[12] = (uint8_t)n;
        aadlen = 13;
    }
    uint8_t *ct = out + 5 + (expl ? 8 : 0);
    if (expl)
        memcpy(out + 5, seq, 8);
    memcpy(ct, pt, n);
    if (t13)
        ct[n] = type;
    if (!cx || EVP_EncryptInit_ex(cx, cipher[fz_suite->aead](), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 ||
        EVP_EncryptInit_ex(cx, NULL, NULL, k->key, nonce) != 1 ||
        EVP_EncryptUpdate(cx, NULL, &l, aad, (int)aadlen) != 1 ||
        EVP_EncryptUpdate(cx, ct, &l, ct, (int)(n + (t13 ? 1 : 0))) != 1 ||
        EVP_EncryptFinal_ex(cx, ct + l, &l) != 1 ||
        EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_AEAD_GET_TAG, 16, out + 5 + body) != 1)
        abort();
    EVP_CIPHER_CTX_free(cx);
    k->seq++;
    return 5 + body + 16;
}

static void fz_data(void *ctx, sc_dir dir, const uint8_t *p, size_t n, uint64_t frame,
                    struct timeval ts)
{
    (void)ctx; (void)ts;
    if ((dir != SC_DIR_C2S && dir != SC_DIR_S2C) || n == 0 || n > FZ_RECORD_PLAIN_MAX ||
        frame > fz_frame)
        abort();
    volatile uint8_t sink = p[0] ^ p[n - 1];
    (void)sink;
}

static void fz_gap(void *ctx, sc_dir dir, uint64_t n, uint64_t frame, struct timeval ts)
{
    (void)ctx; (void)dir; (void)ts;
    if (n > FZ_RECORD_PLAIN_MAX || frame > fz_frame)
        abort();
}

static void fz_state(void *ctx, sc_tls_state st, uint64_t frame, struct timeval ts)
{
    (void)ctx; (void)ts;
    if (st > SC_TLS_FAILED || frame > fz_frame)
        abort();
}

static void fz_note(void *ctx, sc_dir dir, uint64_t frame, struct timeval ts, const char *msg)
{
    (void)ctx; (void)dir; (void)ts;
    if (frame > fz_frame || strlen(msg) >= 256)
        abort();
}

static const sc_tls_ops fz_ops = { fz_data, fz_gap, fz_state, fz_note };

static void fz_feed(sc_tls *t, sc_dir dir, const uint8_t *p, size_t n)
{
    struct timeval ts = { 0, 0 };
    sc_tls_feed(t, dir, p, n, ++fz_frame, ts);
}

static size_t fz_hello(uint8_t *b, bool server, uint16_t suite)
{
    size_t n = 0, body;

    b[n++] = 22; b[n++] = 3; b[n++] = 3; n += 2;        /* record header */
    b[n++] = server ? 2 : 1; n += 3;                      /* handshake header */
    body = n;
    b[n++] = 3; b[n++] = 3;
    memcpy(b + n, fz_random, 32);
    if (server)
        b[n] ^= 1;                                        /* a server random */
    n += 32;
    b[n++] = 0;                                           /* session id */
    if (server) {
        b[n++] = (uint8_t)(suite >> 8); b[n++] = (uint8_t)suite;
        b[n++] = 0;                                       /* compression */
        if (suite >> 8 == 0x13) {
            static const uint8_t ext[] = { 0, 6, 0x00, 0x2b, 0, 2, 3, 4 };
            memcpy(b + n, ext, sizeof ext);
            n += sizeof ext;
        }
    } else {
        static const uint8_t rest[] = { 0, 2, 0x13, 0x01, 1, 0, 0, 0 };
        memcpy(b + n, rest, sizeof rest);
        n += sizeof rest;
    }
    b[3] = (uint8_t)((n - 5) >> 8); b[4] = (uint8_t)(n - 5);
    b[6] = 0; b[7] = (uint8_t)((n - body) >> 8); b[8] = (uint8_t)(n - body);
    return n;
}

/* The heap the connection holds beyond what was in use before it. */
static void fz_mem_check(size_t base)
{
    if (__sanitizer_get_current_allocated_bytes &&
        __sanitizer_get_current_allocated_bytes() > base + FZ_MEM_MAX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t sealed[65536 + 64];
    uint8_t buf[128], rec[5];
    size_t i = 0, base;

    if (!fz_kl) {
        fz_init();
        /* libcrypto's caches (fetched KDFs and ciphers) are made once,
         * before any connection is measured */
        for (size_t k = 0; k < sizeof fz_suites / sizeof fz_suites[0]; k++)
            if (tls_suite_find(fz_suites[k])) {
                fz_keys_for(tls_suite_find(fz_suites[k]));
                (void)fz_seal(&fz_keys[0][0], 23, buf, 1, sealed);
            }
    }
    fz_frame = 0;
    fz_keys_for(NULL);
    base = __sanitizer_get_current_allocated_bytes ? __sanitizer_get_current_allocated_bytes() : 0;
    sc_tls *t = sc_tls_new(fz_kl, &fz_ops, NULL);
    if (!t)
        return 0;
    while (i < size) {
        fz_mem_check(base);
        uint8_t op = data[i++];
        sc_dir dir = op & 0x80 ? SC_DIR_S2C : SC_DIR_C2S;
        size_t len = 0;
        switch (op & 7) {
        case 0:
        case 1:
            if (i + 1 + (op & 1) > size)
                goto out;
            len = (op & 1) ? (size_t)data[i] << 8 | data[i + 1] : data[i];
            i += 1 + (op & 1);
            if (len > size - i)
                len = size - i;
            fz_feed(t, dir, data + i, len);
            i += len;
            break;
        case 2: {
            struct timeval ts = { 0, 0 };
            sc_tls_gap(t, dir, 100, ++fz_frame, ts);
            break;
        }
        case 3:
            fz_feed(t, SC_DIR_C2S, buf, fz_hello(buf, false, 0));
            break;
        case 4: {
            static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
            if (i >= size)
                goto out;
            uint16_t suite = fz_suites[data[i++] % (sizeof fz_suites / sizeof fz_suites[0])];
            fz_keys_for(tls_suite_find(suite));
            fz_feed(t, SC_DIR_S2C, buf, fz_hello(buf, true, suite));
            fz_feed(t, dir, ccs, sizeof ccs);
            break;
        }
        case 5:
            if (i + 3 > size)
                goto out;
            len = (size_t)data[i + 1] << 8 | data[i + 2];
            rec[0] = data[i]; rec[1] = 3; rec[2] = 3;
            i += 3;
            if (len > size - i)
                len = size - i;
            rec[3] = (uint8_t)(len >> 8); rec[4] = (uint8_t)len;
            fz_feed(t, dir, rec, 5);
            fz_feed(t, dir, data + i, len);
            i += len;
            break;
        case 6: {
            if (i + 4 > size)
                goto out;
            unsigned ep = data[i] % FZ_EPOCHS;
            uint8_t type = data[i + 1];
            len = (size_t)data[i + 2] << 8 | data[i + 3];
            i += 4;
            if (len > size - i)
                len = size - i;
            if (fz_suite)
                fz_feed(t, dir, sealed, fz_seal(&fz_keys[dir][fz_suite->tls13 ? ep : 0], type,
                                                data + i, len, sealed));
            i += len;
            break;
        }
        default:
            break;
        }
    }
    fz_mem_check(base);
out:
    (void)sc_tls_get_state(t);
    (void)sc_tls_version(t);
    (void)sc_tls_cipher(t);
    sc_tls_free(t);
    return 0;
}
