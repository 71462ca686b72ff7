/*
 * communityid.c - Community ID v1 of a TCP flow (see communityid.h).
 *
 * The hashed bytes, all in network order, aligned on 32 bits:
 *   seed (2) | first address (4 or 16) | second address | proto (1) | 0 (1)
 *   | first port (2) | second port (2)
 * where "first" is the endpoint whose address, then port, is smaller.
 * tests/unit/test_communityid.c checks the spec's published baseline
 * vectors, IPv4 and IPv6, both directions.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "communityid.h"

#define CID_PROTO_TCP 6
#define CID_SEED      0    /* the spec's default: no seeding domain */

struct sc_cid {
    EVP_MD     *md;        /* SHA-1, fetched once */
    EVP_MD_CTX *ctx;       /* reset by each digest's init */
};

sc_cid *sc_cid_new(void)
{
    sc_cid *h = calloc(1, sizeof *h);

    if (!h)
        return NULL;
    h->md = EVP_MD_fetch(NULL, "SHA1", NULL);
    h->ctx = EVP_MD_CTX_new();
    if (!h->md || !h->ctx) {
        sc_cid_free(h);
        return NULL;
    }
    return h;
}

void sc_cid_free(sc_cid *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    EVP_MD_free(h->md);
    free(h);
}

static size_t cid_addr_len(int family)
{
    return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Order the endpoints as the spec does: addresses compared as big-endian
 * numbers (memcmp of network order), ports when they are equal. */
static bool cid_swap(const sc_endpoint *a, const sc_endpoint *b, size_t alen)
{
    int c = memcmp(a->addr, b->addr, alen);

    return c > 0 || (c == 0 && a->port > b->port);
}

static size_t cid_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

int sc_cid_format(sc_cid *h, const sc_endpoint *a, const sc_endpoint *b,
                  char buf[SC_COMMUNITY_ID_LEN])
{
    uint8_t in[2 + 16 + 16 + 2 + 2 + 2], md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    size_t alen = cid_addr_len(a->family), n = 0;

    buf[0] = '\0';
    if (!h || !alen || a->family != b->family)
        return -1;
    if (cid_swap(a, b, alen)) {
        const sc_endpoint *t = a;
        a = b;
        b = t;
    }
    n += cid_put16(in + n, CID_SEED);
    memcpy(in + n, a->addr, alen);
    n += alen;
    memcpy(in + n, b->addr, alen);
    n += alen;
    in[n++] = CID_PROTO_TCP;
    in[n++] = 0;
    n += cid_put16(in + n, a->port);
    n += cid_put16(in + n, b->port);
    if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 || EVP_DigestUpdate(h->ctx, in, n) != 1 ||
        EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != 20)
        return -1;
    memcpy(buf, "1:", 2);
    /* 20 bytes give 28 characters and a NUL: buf is sized for that */
    EVP_EncodeBlock((unsigned char *)buf + 2, md, (int)mdlen);
    return 0;
}

int sc_community_id(const sc_endpoint *a, const sc_endpoint *b,
                    char buf[SC_COMMUNITY_ID_LEN])
{
    sc_cid *h = sc_cid_new();
    int rc = sc_cid_format(h, a, b, buf);

    sc_cid_free(h);
    return rc;
}
