/*
 * tls_int.h - what the files of src/tls/ share: the cipher suite table
 * (suites.c), the key schedule (keysched.c) and AEAD record opening
 * (decrypt.c). The interface to the rest of smtpscope is src/tls/tls.h.
 */
#ifndef SC_TLS_INT_H
#define SC_TLS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "tls.h"

/* TLS versions as the wire writes them. */
#define TLS_V12 0x0303
#define TLS_V13 0x0304

typedef enum tls_aead { TLS_AES_128_GCM, TLS_AES_256_GCM, TLS_CHACHA20_POLY1305 } tls_aead;

/* A cipher suite this reader decrypts. */
typedef struct tls_suite {
    uint16_t    id;
    const char *name;      /* IANA */
    bool        tls13;     /* a TLS 1.3 suite (else TLS 1.2) */
    tls_aead    aead;
    const char *digest;    /* "SHA256" / "SHA384": HKDF or the PRF */
} tls_suite;

/* NULL when the suite is not one of ours. */
const tls_suite *tls_suite_find(uint16_t id);
size_t tls_aead_key_len(tls_aead a);
size_t tls_digest_len(const tls_suite *s);

/* Keys of one direction and epoch. */
typedef struct tls_keys {
    uint8_t key[32];
    uint8_t iv[12];        /* TLS 1.3 and ChaCha20: 12 bytes; TLS 1.2 GCM:
                              the 4-byte salt */
    uint64_t seq;
} tls_keys;

/* TLS 1.3: key and iv from a traffic secret (RFC 8446 §7.3). */
bool tls13_traffic_keys(const tls_suite *s, const uint8_t *secret, size_t slen,
                        tls_keys *out);
/* TLS 1.3 KeyUpdate: the next traffic secret, in place (RFC 8446 §7.2). */
bool tls13_next_secret(const tls_suite *s, uint8_t *secret, size_t slen);
/* TLS 1.2: both directions' keys from the master secret and the randoms
 * (RFC 5246 §6.3; RFC 5288 and RFC 7905 for the IV parts). */
bool tls12_key_block(const tls_suite *s, const uint8_t master[48],
                     const uint8_t client_random[32], const uint8_t server_random[32],
                     tls_keys *client, tls_keys *server);

/* An AEAD opener (one per direction). */
typedef struct tls_opener {
    EVP_CIPHER_CTX *cx;
    const tls_suite *suite;
    bool             keyed;
} tls_opener;

bool tls_opener_key(tls_opener *o, const tls_suite *s);
/* Opens one record in place: rec is the record header (5 bytes), body of
 * blen bytes follows it. Returns the plaintext length (TLS 1.3: inner
 * content and its padding included) and *pt where it starts, or -1 when
 * the tag does not verify. k->seq is advanced on success only. */
long tls_open_record(tls_opener *o, tls_keys *k, bool tls13, const uint8_t hdr[5],
                     uint8_t *body, size_t blen, uint8_t **pt);
void tls_opener_free(tls_opener *o);

#endif
