/*
 * decrypt.c - one TLS record opened with its direction's keys: AES-GCM
 * and ChaCha20-Poly1305 through OpenSSL's EVP AEAD interface.
 *
 * Nonce and additional data as the versions define them:
 * - TLS 1.3 (RFC 8446 §5.2, §5.3): nonce = iv XOR the 64-bit sequence
 *   number, additional data = the record header.
 * - TLS 1.2 AES-GCM (RFC 5288 §3): nonce = 4-byte salt + the 8 bytes
 *   that start the record; ChaCha20-Poly1305 (RFC 7905 §2): nonce = iv
 *   XOR the sequence number. Additional data = sequence number, type,
 *   version, plaintext length (RFC 5246 §6.2.3.3).
 *
 * Interface: tls_int.h. A record that fails its tag returns -1 and leaves
 * the sequence number alone (the caller decides whether it was a lost
 * record or a wrong key).
 */
#include <string.h>

#include "tls_int.h"

#define TAG_LEN 16

static const EVP_CIPHER *aead_cipher(tls_aead a)
{
    static const EVP_CIPHER *(*const get[])(void) = {
        [TLS_AES_128_GCM] = EVP_aes_128_gcm,
        [TLS_AES_256_GCM] = EVP_aes_256_gcm,
        [TLS_CHACHA20_POLY1305] = EVP_chacha20_poly1305,
    };
    return get[a]();
}

bool tls_opener_key(tls_opener *o, const tls_suite *s)
{
    if (!o->cx && !(o->cx = EVP_CIPHER_CTX_new()))
        return false;
    if (o->keyed && o->suite == s)
        return true;
    o->suite = s;
    o->keyed = EVP_DecryptInit_ex(o->cx, aead_cipher(s->aead), NULL, NULL, NULL) == 1 &&
               EVP_CIPHER_CTX_ctrl(o->cx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1;
    return o->keyed;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

long tls_open_record(tls_opener *o, tls_keys *k, bool tls13, const uint8_t hdr[5],
                     uint8_t *body, size_t blen, uint8_t **pt)
{
    uint8_t nonce[12], aad[13], seq[8];
    size_t aadlen, explicit_len = 0, ctlen;
    int outl = 0, finl = 0;

    if (!o->keyed)
        return -1;
    put_be64(seq, k->seq);
    if (!tls13 && o->suite->aead != TLS_CHACHA20_POLY1305)
        explicit_len = 8;
    if (blen < explicit_len + TAG_LEN)
        return -1;
    ctlen = blen - explicit_len - TAG_LEN;
    if (explicit_len) {
        memcpy(nonce, k->iv, 4);
        memcpy(nonce + 4, body, 8);
    } else {
        memcpy(nonce, k->iv, 12);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= seq[i];
    }
    if (tls13) {
        memcpy(aad, hdr, 5);
        aadlen = 5;
    } else {
        memcpy(aad, seq, 8);
        memcpy(aad + 8, hdr, 3);
        aad[11] = (uint8_t)(ctlen >> 8);
        aad[12] = (uint8_t)ctlen;
        aadlen = 13;
    }
    uint8_t *ct = body + explicit_len;
    if (EVP_DecryptInit_ex(o->cx, NULL, NULL, k->key, nonce) != 1 ||
        EVP_DecryptUpdate(o->cx, NULL, &outl, aad, (int)aadlen) != 1 ||
        EVP_DecryptUpdate(o->cx, ct, &outl, ct, (int)ctlen) != 1 ||
        EVP_CIPHER_CTX_ctrl(o->cx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, ct + ctlen) != 1 ||
        EVP_DecryptFinal_ex(o->cx, ct + outl, &finl) != 1)
        return -1;
    k->seq++;
    *pt = ct;
    return (long)outl + finl;
}

void tls_opener_free(tls_opener *o)
{
    EVP_CIPHER_CTX_free(o->cx);
    o->cx = NULL;
    o->keyed = false;
}
