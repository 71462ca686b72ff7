/*
 * test_defrag.c - src/reasm/defrag.c on hand-made fragments: a datagram
 * put together whatever the order, the IPv4 first copy kept, IPv6 overlap
 * dropping the datagram and its later fragments, an atomic fragment on
 * its own, malformed lengths, a datagram beyond 65535 bytes, the timeout,
 * the end of the input, and the bound on datagrams held; every fragment
 * counted once.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "reasm/defrag.h"
#include "tap.h"

static uint8_t frame[70000];
static sc_packet pkt;
static uint64_t frames;

/* An IPv4 fragment of TCP: payload len bytes of value fill at off. */
static const sc_packet *v4(uint16_t id, uint32_t off, uint32_t len, int more, uint8_t fill,
                           long sec)
{
    uint8_t *ip = frame;

    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + len) >> 8);
    ip[3] = (uint8_t)(20 + len);
    ip[4] = (uint8_t)(id >> 8);
    ip[5] = (uint8_t)id;
    ip[6] = (uint8_t)((more ? 0x20 : 0) | ((off / 8) >> 8));
    ip[7] = (uint8_t)(off / 8);
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, "\xc0\x00\x02\x01\xc6\x33\x64\x19", 8);
    memset(ip + 20, fill, len);
    memset(&pkt, 0, sizeof pkt);
    pkt.frame = ++frames;
    pkt.ts.tv_sec = sec;
    pkt.caplen = pkt.wirelen = pkt.l3_len = 20 + len;
    pkt.data = pkt.l3 = frame;
    pkt.ipver = 4;
    return &pkt;
}

/* An IPv6 fragment of TCP. */
static const sc_packet *v6(uint32_t id, uint32_t off, uint32_t len, int more, uint8_t fill)
{
    uint8_t *ip = frame;

    memset(ip, 0, 48);
    ip[0] = 0x60;
    ip[4] = (uint8_t)((8 + len) >> 8);
    ip[5] = (uint8_t)(8 + len);
    ip[6] = 44;
    ip[7] = 64;
    ip[8] = 0x20;
    ip[24] = 0x20;
    ip[39] = 1;
    ip[40] = 6;
    ip[42] = (uint8_t)(off >> 8);
    ip[43] = (uint8_t)((off & 0xf8) | (more ? 1 : 0));
    ip[44] = (uint8_t)(id >> 24);
    ip[45] = (uint8_t)(id >> 16);
    ip[46] = (uint8_t)(id >> 8);
    ip[47] = (uint8_t)id;
    memset(ip + 48, fill, len);
    memset(&pkt, 0, sizeof pkt);
    pkt.frame = ++frames;
    pkt.caplen = pkt.wirelen = pkt.l3_len = 48 + len;
    pkt.data = pkt.l3 = frame;
    pkt.ipver = 6;
    return &pkt;
}

static uint64_t dropped(const sc_defrag *d)
{
    uint64_t n = 0;

    for (int i = 0; i < SC_FRAG_REASONS; i++)
        n += sc_defrag_counts(d)->dropped[i];
    return n;
}

int main(void)
{
    sc_defrag *d = sc_defrag_new();
    const sc_datagram *dg = NULL;
    int rc;

    /* out of order, the end first */
    T_CHECK(sc_defrag_add(d, v4(1, 16, 10, 0, 'c', 0), &dg) == SC_DEFRAG_TAKEN, "v4 last first: kept");
    T_CHECK(sc_defrag_add(d, v4(1, 0, 8, 1, 'a', 0), &dg) == SC_DEFRAG_TAKEN, "v4 first: kept");
    rc = sc_defrag_add(d, v4(1, 8, 8, 1, 'b', 0), &dg);
    T_CHECK(rc == SC_DEFRAG_DONE && dg->nfrags == 3 && dg->pkt.l3_len == 46,
            "v4: whole at the middle one, 3 fragments, 46 bytes");
    T_CHECK(rc == SC_DEFRAG_DONE && memcmp(dg->pkt.l3 + 20, "aaaaaaaabbbbbbbbcccccccccc", 26) == 0 &&
            (dg->pkt.l3[6] & 0x3f) == 0 && dg->pkt.l3[7] == 0 && dg->pkt.l3[3] == 46,
            "v4: bytes in place, no fragment bits, total length");
    T_CHECK(rc == SC_DEFRAG_DONE && dg->frags[0]->frame < dg->frags[2]->frame &&
            dg->pkt.frame == dg->frags[2]->frame, "v4: fragments in capture order, the last one's frame");
    /* not a fragment */
    v4(9, 0, 8, 0, 'z', 0);
    T_CHECK(sc_defrag_add(d, &pkt, &dg) == SC_DEFRAG_NOT, "a whole packet is not taken");

    /* IPv4 overlap: the first copy of a byte is kept */
    sc_defrag_add(d, v4(2, 0, 16, 1, 'a', 0), &dg);
    sc_defrag_add(d, v4(2, 8, 8, 1, 'X', 0), &dg);
    rc = sc_defrag_add(d, v4(2, 16, 4, 0, 'c', 0), &dg);
    T_CHECK(rc == SC_DEFRAG_DONE && memcmp(dg->pkt.l3 + 20, "aaaaaaaaaaaaaaaacccc", 20) == 0,
            "v4 overlap: the first copy kept");
    T_CHECK(sc_defrag_counts(d)->overlap_v4 == 1, "v4 overlap counted");

    /* exact duplicate */
    sc_defrag_add(d, v4(3, 0, 8, 1, 'a', 0), &dg);
    sc_defrag_add(d, v4(3, 0, 8, 1, 'a', 0), &dg);
    rc = sc_defrag_add(d, v4(3, 8, 1, 0, 'b', 0), &dg);
    T_CHECK(rc == SC_DEFRAG_DONE && dg->nfrags == 3 && sc_defrag_counts(d)->duplicates == 1,
            "duplicate: a frame of the datagram, counted");

    /* IPv6: whole, then overlap drops the datagram and its later fragments */
    sc_defrag_add(d, v6(7, 8, 8, 0, 'b'), &dg);
    rc = sc_defrag_add(d, v6(7, 0, 8, 1, 'a'), &dg);
    T_CHECK(rc == SC_DEFRAG_DONE && dg->pkt.l3_len == 56 && dg->pkt.l3[6] == 6 &&
            dg->pkt.l3[5] == 16 && memcmp(dg->pkt.l3 + 40, "aaaaaaaabbbbbbbb", 16) == 0,
            "v6: whole, fragment header out, next header TCP, payload length 16");
    sc_defrag_add(d, v6(8, 0, 16, 1, 'a'), &dg);
    sc_defrag_add(d, v6(8, 8, 16, 1, 'X'), &dg);
    sc_defrag_add(d, v6(8, 24, 8, 0, 'c'), &dg);
    T_CHECK(sc_defrag_counts(d)->dropped[SC_FRAG_OVERLAP] == 3,
            "v6 overlap: the datagram's fragments and a later one dropped (RFC 5722)");
    /* atomic fragment: on its own, even beside a datagram of its id */
    sc_defrag_add(d, v6(9, 0, 8, 1, 'a'), &dg);
    rc = sc_defrag_add(d, v6(9, 0, 4, 0, 'q'), &dg);
    T_CHECK(rc == SC_DEFRAG_DONE && dg->nfrags == 1 && dg->pkt.l3[40] == 'q',
            "v6 atomic fragment: a datagram of its own (RFC 6946)");

    /* malformed: M set and not a multiple of 8; two ends */
    sc_defrag_add(d, v4(4, 0, 7, 1, 'a', 0), &dg);
    T_CHECK(sc_defrag_counts(d)->dropped[SC_FRAG_MALFORMED] == 1, "M set, 7 bytes: malformed");
    sc_defrag_add(d, v4(5, 8, 8, 0, 'a', 0), &dg);
    sc_defrag_add(d, v4(5, 8, 16, 0, 'a', 0), &dg);
    T_CHECK(sc_defrag_counts(d)->dropped[SC_FRAG_MALFORMED] == 3, "two ends: the datagram dropped");
    /* too big */
    sc_defrag_add(d, v4(6, 65528, 16, 0, 'a', 0), &dg);
    T_CHECK(sc_defrag_counts(d)->dropped[SC_FRAG_TOO_BIG] == 1, "beyond 65535 bytes: too big");

    /* timeout, by capture time: the end 61 s after the start */
    sc_defrag_add(d, v4(10, 0, 8, 1, 'a', 100), &dg);
    rc = sc_defrag_add(d, v4(10, 8, 8, 0, 'b', 161), &dg);
    T_CHECK(rc == SC_DEFRAG_TAKEN && sc_defrag_counts(d)->dropped[SC_FRAG_TIMEOUT] == 1,
            "61 s late: the first timed out, the late one starts anew");

    /* the bound on datagrams: 10 000 first fragments, the oldest go */
    for (unsigned i = 0; i < 10000; i++)
        sc_defrag_add(d, v4((uint16_t)(1000 + i), 0, 8, 1, 'a', 161), &dg);
    T_CHECK(sc_defrag_counts(d)->dropped[SC_FRAG_LIMIT] >= 10000 - 4096,
            "10 000 datagrams: beyond 4096 the oldest dropped (limit)");
    sc_defrag_finish(d);
    {
        const sc_frag_counts *c = sc_defrag_counts(d);
        uint64_t in_datagrams = 3 + 3 + 3 + 2 + 1;
        T_CHECK(c->datagrams == 5 && c->fragments == in_datagrams + dropped(d),
                "every fragment counted once: %llu read, %llu dropped",
                (unsigned long long)c->fragments, (unsigned long long)dropped(d));
    }
    sc_defrag_free(d);
    T_DONE();
}
