/*
 * suites.c - the cipher suites decrypted: TLS 1.3's three, and TLS 1.2's
 * AEAD suites (ECDHE, DHE and RSA key exchange alike, since the key log
 * gives the master secret whatever the exchange was).
 *
 * Interface: tls_int.h. A suite not listed here leaves the session
 * "unsupported" (listed, not analysed).
 */
#include <string.h>

#include "tls_int.h"

static const tls_suite suites[] = {
    { 0x1301, "TLS_AES_128_GCM_SHA256",       true,  TLS_AES_128_GCM,       "SHA256" },
    { 0x1302, "TLS_AES_256_GCM_SHA384",       true,  TLS_AES_256_GCM,       "SHA384" },
    { 0x1303, "TLS_CHACHA20_POLY1305_SHA256", true,  TLS_CHACHA20_POLY1305, "SHA256" },
    { 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false, TLS_AES_128_GCM, "SHA256" },
    { 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", false, TLS_AES_256_GCM, "SHA384" },
    { 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",   false, TLS_AES_128_GCM, "SHA256" },
    { 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",   false, TLS_AES_256_GCM, "SHA384" },
    { 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",   false, TLS_CHACHA20_POLY1305, "SHA256" },
    { 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, TLS_CHACHA20_POLY1305, "SHA256" },
    { 0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",     false, TLS_CHACHA20_POLY1305, "SHA256" },
    { 0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", false, TLS_AES_128_GCM, "SHA256" },
    { 0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", false, TLS_AES_256_GCM, "SHA384" },
    { 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256",     false, TLS_AES_128_GCM, "SHA256" },
    { 0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384",     false, TLS_AES_256_GCM, "SHA384" },
};

const tls_suite *tls_suite_find(uint16_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

size_t tls_aead_key_len(tls_aead a)
{
    return a == TLS_AES_128_GCM ? 16 : 32;
}

size_t tls_digest_len(const tls_suite *s)
{
    return strcmp(s->digest, "SHA384") == 0 ? 48 : 32;
}
