/*
 * sha256.h - SHA-256 digests for the evidence bundle's statement of which
 * capture file a finding came from, computed by OpenSSL's libcrypto (EVP):
 * smtpscope has no cryptographic code of its own.
 *
 * Interface: sc_sha256_init/update/final stream a digest; sc_sha256_file
 * hashes a whole file; sc_sha256_hex formats a digest.
 * Diagnostics: init and final return -1 when libcrypto fails (out of
 * memory); sc_sha256_file returns -1 with errno set.
 */
#ifndef SC_SHA256_H
#define SC_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sc_sha256 {
    void *ctx;               /* EVP_MD_CTX, owned until final */
} sc_sha256;

int  sc_sha256_init(sc_sha256 *c);
void sc_sha256_update(sc_sha256 *c, const void *data, size_t n);
/* Writes the digest and releases the context: 0, or -1. */
int  sc_sha256_final(sc_sha256 *c, uint8_t digest[32]);

/* Hex digest of a whole file, read in blocks: 0, or -1 (errno set). */
int sc_sha256_file(const char *path, char hex[65]);
/* The same for the rest of an open stream, closed here (NULL: -1). */
int sc_sha256_stream(FILE *fp, char hex[65]);

/* Hex form of a digest (65 bytes with the NUL). */
void sc_sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
