/*
 * sha256.h - SHA-256 (FIPS 180-4), streaming, for the evidence bundle's
 * statement of which capture file a finding came from.
 */
#ifndef SC_SHA256_H
#define SC_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sc_sha256 {
    uint32_t h[8];
    uint64_t total;          /* bytes hashed */
    uint8_t  buf[64];
    size_t   nbuf;
} sc_sha256;

void sc_sha256_init(sc_sha256 *c);
void sc_sha256_update(sc_sha256 *c, const void *data, size_t n);
void sc_sha256_final(sc_sha256 *c, uint8_t digest[32]);

/* Hex digest of a whole file, read in blocks: 0, or -1 (errno set). */
int sc_sha256_file(const char *path, char hex[65]);

/* Hex form of a digest (65 bytes with the NUL). */
void sc_sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
