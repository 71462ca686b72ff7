/*
 * test_communityid.c - the Community ID v1 of TCP flows against the
 * vectors published with the specification (corelight/community-id-spec,
 * baseline/baseline_deflt.json, seed 0): IPv4 and IPv6, each flow in both
 * directions, each once with a fresh hasher (sc_community_id) and once
 * with one hasher reused for every flow (sc_cid_format, as the JSON
 * writer does); random flows of both families, equal addresses among
 * them, against the spec's bytes hashed by libcrypto's one-shot calls
 * (EVP_Digest, EVP_EncodeBlock); and the refusals (mixed or unknown
 * families, no hasher).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "tap.h"
#include "output/communityid.h"

static sc_endpoint ep(const char *addr, uint16_t port)
{
    sc_endpoint e = { 0 };

    e.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(e.family, addr, e.addr) != 1)
        e.family = 0;
    e.port = port;
    return e;
}

static const struct {
    const char *saddr, *daddr;
    uint16_t    sport, dport;
    const char *id;
} vec[] = {
    { "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
    { "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
      "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
};

/* The id as the spec builds it, with libcrypto's one-shot calls. */
static void ref_id(const sc_endpoint *a, const sc_endpoint *b, char *out)
{
    size_t alen = a->family == AF_INET ? 4 : 16, n = 0;
    int c = memcmp(a->addr, b->addr, alen);
    uint8_t in[40], md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    if (c > 0 || (c == 0 && a->port > b->port)) {
        const sc_endpoint *t = a;
        a = b;
        b = t;
    }
    in[n++] = 0;
    in[n++] = 0;
    memcpy(in + n, a->addr, alen);
    n += alen;
    memcpy(in + n, b->addr, alen);
    n += alen;
    in[n++] = 6;
    in[n++] = 0;
    in[n++] = (uint8_t)(a->port >> 8);
    in[n++] = (uint8_t)a->port;
    in[n++] = (uint8_t)(b->port >> 8);
    in[n++] = (uint8_t)b->port;
    EVP_Digest(in, n, md, &mdlen, EVP_sha1(), NULL);
    memcpy(out, "1:", 2);
    EVP_EncodeBlock((unsigned char *)out + 2, md, (int)mdlen);
}

static void check_random(sc_cid *h)
{
    char got[SC_COMMUNITY_ID_LEN], want[64];
    unsigned bad = 0, n = 0;

    srand(11);
    for (int i = 0; i < 20000; i++, n++) {
        sc_endpoint a = { 0 }, b = { 0 };
        a.family = b.family = i & 1 ? AF_INET6 : AF_INET;
        for (size_t k = 0; k < sizeof a.addr; k++) {
            a.addr[k] = (uint8_t)rand();
            b.addr[k] = i % 7 == 0 ? a.addr[k] : (uint8_t)rand();
        }
        a.port = (uint16_t)rand();
        b.port = (uint16_t)rand();
        ref_id(&a, &b, want);
        if (sc_cid_format(h, &a, &b, got) != 0 || strcmp(got, want) != 0)
            bad++;
    }
    T_CHECK(bad == 0, "community id: %u random flows as libcrypto's EVP_Digest and "
            "EVP_EncodeBlock give them (%u differ)", n, bad);
}

int main(void)
{
    char buf[SC_COMMUNITY_ID_LEN];
    sc_cid *h = sc_cid_new();

    T_CHECK(h != NULL, "community id: SHA-1 from libcrypto");

    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        sc_endpoint s = ep(vec[i].saddr, vec[i].sport), d = ep(vec[i].daddr, vec[i].dport);
        int rc = sc_community_id(&s, &d, buf);
        T_CHECK(rc == 0 && strcmp(buf, vec[i].id) == 0,
                "community id %s:%u -> %s:%u = %s (got %s)", vec[i].saddr, vec[i].sport,
                vec[i].daddr, vec[i].dport, vec[i].id, buf);
        rc = sc_community_id(&d, &s, buf);
        T_CHECK(rc == 0 && strcmp(buf, vec[i].id) == 0,
                "community id reversed %s:%u -> %s:%u = %s (got %s)", vec[i].daddr,
                vec[i].dport, vec[i].saddr, vec[i].sport, vec[i].id, buf);
        for (int k = 0; k < 3; k++) {   /* the hasher reused, both ways */
            rc = sc_cid_format(h, k & 1 ? &d : &s, k & 1 ? &s : &d, buf);
            T_CHECK(rc == 0 && strcmp(buf, vec[i].id) == 0,
                    "community id, reused hasher (%d) %s:%u = %s (got %s)", k, vec[i].saddr,
                    vec[i].sport, vec[i].id, buf);
        }
    }
    /* equal addresses: the ports decide the order, both directions agree */
    {
        sc_endpoint a = ep("192.0.2.1", 25), b = ep("192.0.2.1", 40000);
        char other[SC_COMMUNITY_ID_LEN];
        T_CHECK(sc_community_id(&a, &b, buf) == 0 && sc_community_id(&b, &a, other) == 0 &&
                strcmp(buf, other) == 0 && strlen(buf) == 30,
                "community id: equal addresses ordered by port (%s, %s)", buf, other);
    }
    {
        sc_endpoint a = ep("192.0.2.1", 25), b = ep("2001:db8::1", 40000), z = { 0 };
        T_CHECK(sc_community_id(&a, &b, buf) < 0 && buf[0] == '\0',
                "community id: mixed families refused");
        T_CHECK(sc_community_id(&z, &z, buf) < 0 && buf[0] == '\0',
                "community id: unknown family refused");
        T_CHECK(sc_cid_format(h, &a, &b, buf) < 0 && buf[0] == '\0',
                "community id, reused hasher: mixed families refused");
        T_CHECK(sc_cid_format(NULL, &a, &a, buf) < 0 && buf[0] == '\0',
                "community id: no hasher, no id");
    }
    /* after refusals the hasher still gives the spec's id */
    {
        sc_endpoint s = ep(vec[0].saddr, vec[0].sport), d = ep(vec[0].daddr, vec[0].dport);
        T_CHECK(sc_cid_format(h, &s, &d, buf) == 0 && strcmp(buf, vec[0].id) == 0,
                "community id, reused hasher after refusals (got %s)", buf);
    }
    check_random(h);
    sc_cid_free(h);
    T_DONE();
}
