/*
 * sha256.c - SHA-256 through OpenSSL's EVP interface (see sha256.h).
 *
 * tests/unit/test_evidence.c checks the FIPS 180-4 test vectors, so a
 * broken link to libcrypto shows in the tests, not in a ticket.
 * Diagnostics: -1 from init/final (libcrypto failure), -1 with errno from
 * sc_sha256_file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "sha256.h"

int sc_sha256_init(sc_sha256 *c)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    c->ctx = NULL;
    if (!ctx)
        return -1;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return -1;
    }
    c->ctx = ctx;
    return 0;
}

void sc_sha256_update(sc_sha256 *c, const void *data, size_t n)
{
    if (c->ctx && n > 0 && EVP_DigestUpdate(c->ctx, data, n) != 1) {
        /* A failed update poisons the digest: final reports it. */
        EVP_MD_CTX_free(c->ctx);
        c->ctx = NULL;
    }
}

int sc_sha256_final(sc_sha256 *c, uint8_t digest[32])
{
    unsigned int len = 0;
    int ok = c->ctx && EVP_DigestFinal_ex(c->ctx, digest, &len) == 1 && len == 32;

    EVP_MD_CTX_free(c->ctx);
    c->ctx = NULL;
    return ok ? 0 : -1;
}

void sc_sha256_hex(const uint8_t digest[32], char hex[65])
{
    static const char xd[] = "0123456789abcdef";

    for (int i = 0; i < 32; i++) {
        hex[2 * i] = xd[digest[i] >> 4];
        hex[2 * i + 1] = xd[digest[i] & 15];
    }
    hex[64] = '\0';
}

int sc_sha256_file(const char *path, char hex[65])
{
    return sc_sha256_stream(fopen(path, "rb"), hex);
}

int sc_sha256_stream(FILE *fp, char hex[65])
{
    uint8_t buf[65536], d[32];
    sc_sha256 c;
    size_t n;

    if (!fp)
        return -1;
    if (sc_sha256_init(&c) < 0) {
        fclose(fp);
        errno = ENOMEM;
        return -1;
    }
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        sc_sha256_update(&c, buf, n);
    if (ferror(fp)) {
        int e = errno;
        fclose(fp);
        sc_sha256_final(&c, d);
        errno = e ? e : EIO;
        return -1;
    }
    fclose(fp);
    if (sc_sha256_final(&c, d) < 0) {
        errno = ENOMEM;
        return -1;
    }
    sc_sha256_hex(d, hex);
    return 0;
}
