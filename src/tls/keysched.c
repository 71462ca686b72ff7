/*
 * keysched.c - keys from the secrets of the key log: TLS 1.3's
 * HKDF-Expand-Label (RFC 8446 §7.1, §7.2, §7.3) and TLS 1.2's key block
 * from the TLS1-PRF (RFC 5246 §6.3), both through OpenSSL's EVP_KDF.
 *
 * Interface: tls_int.h. Every function returns false when libcrypto
 * fails (the session is then left undecrypted).
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "tls_int.h"

/* HKDF-Expand(secret, HkdfLabel, len) with HkdfLabel = uint16 length,
 * opaque label<7..255> = "tls13 " + label, opaque context<0..255> (empty
 * here: every use in this file has an empty context). */
static bool hkdf_expand_label(const char *digest, const uint8_t *secret, size_t slen,
                              const char *label, uint8_t *out, size_t len)
{
    uint8_t info[2 + 1 + 255 + 1];
    size_t ll = 6 + strlen(label), n = 0;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    bool ok = false;

    if (ll > 255 || len > 0xffff)
        return false;
    info[n++] = (uint8_t)(len >> 8);
    info[n++] = (uint8_t)len;
    info[n++] = (uint8_t)ll;
    memcpy(info + n, "tls13 ", 6);
    memcpy(info + n + 6, label, ll - 6);
    n += ll;
    info[n++] = 0;                       /* context: empty */

    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *cx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (cx) {
        OSSL_PARAM p[] = {
            OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
            OSSL_PARAM_construct_end(),
        };
        ok = EVP_KDF_derive(cx, out, len, p) > 0;
    }
    EVP_KDF_CTX_free(cx);
    EVP_KDF_free(kdf);
    return ok;
}

bool tls13_traffic_keys(const tls_suite *s, const uint8_t *secret, size_t slen,
                        tls_keys *out)
{
    memset(out, 0, sizeof *out);
    return hkdf_expand_label(s->digest, secret, slen, "key", out->key,
                             tls_aead_key_len(s->aead)) &&
           hkdf_expand_label(s->digest, secret, slen, "iv", out->iv, 12);
}

bool tls13_next_secret(const tls_suite *s, uint8_t *secret, size_t slen)
{
    uint8_t next[SC_TLS_SECRET_MAX];

    if (slen > sizeof next ||
        !hkdf_expand_label(s->digest, secret, slen, "traffic upd", next, slen))
        return false;
    memcpy(secret, next, slen);
    return true;
}

bool tls12_key_block(const tls_suite *s, const uint8_t master[48],
                     const uint8_t client_random[32], const uint8_t server_random[32],
                     tls_keys *client, tls_keys *server)
{
    /* AEAD suites have no MAC keys: client key, server key, client IV,
     * server IV. GCM takes a 4-byte salt (the rest of its nonce is in each
     * record), ChaCha20-Poly1305 a 12-byte IV. */
    size_t kl = tls_aead_key_len(s->aead);
    size_t ivl = s->aead == TLS_CHACHA20_POLY1305 ? 12 : 4;
    uint8_t block[2 * 32 + 2 * 12];
    static const char label[] = "key expansion";
    bool ok = false;

    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    EVP_KDF_CTX *cx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (cx) {
        /* The seed parameters are concatenated: label + server + client. */
        OSSL_PARAM p[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)s->digest, 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)master, 48),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)label,
                                              sizeof label - 1),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)server_random, 32),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)client_random, 32),
            OSSL_PARAM_construct_end(),
        };
        ok = EVP_KDF_derive(cx, block, 2 * kl + 2 * ivl, p) > 0;
    }
    EVP_KDF_CTX_free(cx);
    EVP_KDF_free(kdf);
    if (!ok)
        return false;
    memset(client, 0, sizeof *client);
    memset(server, 0, sizeof *server);
    memcpy(client->key, block, kl);
    memcpy(server->key, block + kl, kl);
    memcpy(client->iv, block + 2 * kl, ivl);
    memcpy(server->iv, block + 2 * kl + ivl, ivl);
    return true;
}
