/*
 * tls.h - SMTP inside TLS (STARTTLS, implicit TLS) decrypted with an NSS
 * key log, so that the client and server machines read the plaintext.
 *
 * Two parts (src/tls/):
 * - sc_keylog: the key log files (--tls-keylog, NSS format: CLIENT_RANDOM
 *   for TLS 1.2, the handshake and application traffic secrets for TLS
 *   1.3), looked up by client random; a file that grew since it was read
 *   is read on (a live MTA appends while smtpscope sniffs).
 * - sc_tls: one connection's TLS record layer, both directions: records
 *   parsed across TCP segments, the hellos read for the randoms, version
 *   and cipher suite, keys derived (TLS 1.3 HKDF-Expand-Label, TLS 1.2
 *   TLS1-PRF) and records opened (AES-GCM, ChaCha20-Poly1305). Plaintext
 *   leaves through callbacks, each chunk with the frame of the packet that
 *   completed its record. Buffers are bounded (one record per direction).
 *
 * Crypto is OpenSSL's libcrypto (EVP AEAD ciphers, EVP_KDF HKDF and
 * TLS1-PRF).
 *
 * This layer knows nothing of SMTP: the bridge that hands its plaintext
 * to a session is the session's (src/session/tls_bridge.h).
 */
#ifndef SC_TLS_H
#define SC_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "common/sc_types.h"

/* ---- key log ---- */

typedef enum sc_kl_label {
    SC_KL_MASTER,      /* CLIENT_RANDOM: TLS 1.2 master secret (48 bytes) */
    SC_KL_CHS,         /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
    SC_KL_SHS,         /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
    SC_KL_CTS0,        /* CLIENT_TRAFFIC_SECRET_0 */
    SC_KL_STS0,        /* SERVER_TRAFFIC_SECRET_0 */
    SC_KL_COUNT
} sc_kl_label;

#define SC_TLS_SECRET_MAX 64

typedef struct sc_keylog sc_keylog;

/* Reads every file (n of them). NULL with a reason in err when one cannot
 * be opened. Lines that are not key log lines are skipped (comments,
 * labels not used here). */
sc_keylog *sc_keylog_open(const char *const *files, size_t n, char *err, size_t errlen);
/* (n may be 0: an empty key log that sc_keylog_add_text fills.) */
/* The secret for client_random and label, or NULL (*len set when found).
 * On a miss the files are read on from where they ended, once. The
 * pointer is valid until the next lookup. */
const uint8_t *sc_keylog_find(sc_keylog *kl, const uint8_t client_random[32],
                              sc_kl_label label, size_t *len);
/* Key log lines held in memory (n bytes, lines ended by LF or CRLF, the
 * last one may lack it), e.g. the secrets a pcapng carries; kept as a
 * file's. Returns how many client randoms were new. */
size_t sc_keylog_add_text(sc_keylog *kl, const uint8_t *p, size_t n);
size_t sc_keylog_count(const sc_keylog *kl);   /* client randoms known */
/* The key log lines known for client_random, in the NSS format (one
 * "LABEL <random> <secret>\n" a secret, in sc_kl_label order): one
 * session's keys, for an evidence file that carries them (a pcapng
 * Decryption Secrets Block) so that Wireshark opens it decrypted. Writes a
 * NUL-terminated string into out and returns its length; 0 when none is
 * known or outlen is short (SC_KL_LINES_MAX always suffices). Whoever
 * writes them decides whether it may: under --redact they are left out. */
#define SC_KL_LINES_MAX (SC_KL_COUNT * (31 + 1 + 64 + 1 + 2 * SC_TLS_SECRET_MAX + 1) + 1)
size_t sc_keylog_lines(const sc_keylog *kl, const uint8_t client_random[32],
                       char *out, size_t outlen);
void sc_keylog_free(sc_keylog *kl);

/* ---- one connection's TLS ---- */

typedef enum sc_tls_state {
    SC_TLS_NONE = 0,        /* no TLS in the session */
    SC_TLS_OPAQUE,          /* TLS, no --tls-keylog given */
    SC_TLS_PENDING,         /* TLS, the handshake is being read */
    SC_TLS_DECRYPTED,       /* the keys were found, records open */
    SC_TLS_NO_KEY,          /* the key log has no key for this client random */
    SC_TLS_UNSUPPORTED,     /* version or cipher suite not decrypted here */
    SC_TLS_FAILED           /* records stopped opening (wrong key, not TLS) */
} sc_tls_state;

/* "decrypted", "no-key", ... for JSON and the header. */
const char *sc_tls_state_name(sc_tls_state st);

typedef struct sc_tls_ops {
    /* Plaintext application data of dir, carried by the record that frame
     * completed. */
    void (*data)(void *ctx, sc_dir dir, const uint8_t *p, size_t n,
                 uint64_t frame, struct timeval ts);
    /* A record of dir whose plaintext is lost (it failed its tag): n
     * bytes of ciphertext. */
    void (*gap)(void *ctx, sc_dir dir, uint64_t n, uint64_t frame, struct timeval ts);
    /* The state changed (to DECRYPTED, NO_KEY, UNSUPPORTED or FAILED). */
    void (*state)(void *ctx, sc_tls_state st, uint64_t frame, struct timeval ts);
    /* Something the reader should know, with its frame (a record that
     * failed its tag, a malformed record). */
    void (*note)(void *ctx, sc_dir dir, uint64_t frame, struct timeval ts, const char *msg);
} sc_tls_ops;

typedef struct sc_tls sc_tls;

sc_tls *sc_tls_new(sc_keylog *kl, const sc_tls_ops *ops, void *ctx);
/* Stream bytes of dir (in order), from the packet numbered frame. */
void sc_tls_feed(sc_tls *t, sc_dir dir, const uint8_t *p, size_t n,
                 uint64_t frame, struct timeval ts);
/* Bytes of dir missing from the capture: decryption stops. */
void sc_tls_gap(sc_tls *t, sc_dir dir, uint64_t n, uint64_t frame, struct timeval ts);
sc_tls_state sc_tls_get_state(const sc_tls *t);
/* "TLS 1.3", "TLS 1.2" (NULL before the ServerHello). */
const char *sc_tls_version(const sc_tls *t);
/* IANA name of the suite ("TLS_AES_128_GCM_SHA256"), NULL before. */
const char *sc_tls_cipher(const sc_tls *t);
uint16_t sc_tls_cipher_id(const sc_tls *t);
/* The ClientHello's random (the key log's index), NULL before it. */
const uint8_t *sc_tls_client_random(const sc_tls *t);
void sc_tls_free(sc_tls *t);

/* True when p (n >= 6 bytes) starts a TLS handshake record holding a
 * ClientHello: implicit TLS on a port that is not 465. */
bool sc_tls_is_client_hello(const uint8_t *p, size_t n);

#endif
