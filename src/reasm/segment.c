/*
 * segment.c - TCP segments out of IP packets, and IPv4 packets for libnids.
 *
 * Interface: segment.h (internal to src/reasm).
 *
 * IPv4: the header length, total length and fragment fields are checked
 * against what was captured; a packet shorter in the capture than its
 * total length (snap length) yields the captured part of the payload, and
 * bytes captured beyond the total length (link-layer padding) are not
 * payload. Two exceptions, both from segmentation offload, where the
 * capture holds a segment the size of many (tcpdump on a Linux interface
 * with TSO/GSO, or on loopback): a total length of 0 (what the stack
 * writes when the segment is larger than 65535 bytes, or left unset for
 * the hardware to fill in) and a total length equal to the captured length
 * modulo 2^16 (a 16-bit field that wrapped) both mean: the captured bytes
 * are the packet (seg_v4_len). Such segments can be larger than an IPv4
 * packet can be; reasm.c splits them for libnids. A fragment of TCP (MF or
 * an offset) is SEG_V4_FRAGMENT, for defrag.c.
 * IPv6: hop-by-hop, routing, destination options and AH headers are
 * skipped; a fragment header makes the packet SEG_V6_FRAGMENT (when its
 * Next Header may lead to TCP; defrag.c puts it together); ESP, "no
 * next header" and anything else is SEG_NOT_TCP. Nothing is read beyond
 * pkt->l3_len. The chain is followed for at most SEG_V6_MAX_EXT headers:
 * RFC 8200 §4.1 allows each kind once (destination options twice), so a
 * packet a stack sends has fewer than 10, but receivers accept more and
 * a sender may pile them up to slip past a monitor; 32 covers that and
 * bounds the work per packet. A longer chain is SEG_V6_CHAIN_LONG, which
 * the totals count (sc_reasm_chain_long), never dropped in silence.
 *
 * seg_build_v4() writes the packets handed to libnids: a fresh 20-byte
 * IPv4 header (options dropped, checksum 0: libnids is fed at its TCP
 * layer, below the IP checks that would read it), the TCP header with the window forced open and
 * URG cleared (libnids would pull the "urgent" byte out of the stream,
 * Wireshark does not), its options only in a SYN (the only segment whose
 * options libnids reads: the synthetic SYNs carry no timestamps, so it
 * never looks for them later), and the payload.
 *
 * Diagnostics: none; the kind returned says what the packet was.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "reasm.h"
#include "segment.h"

#define SEG_V6_MAX_EXT SC_REASM_V6_MAX_EXT

static uint16_t seg_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t seg_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The length of the TCP header at p, avail bytes captured from p on;
 * 0 when it does not fit. */
static inline unsigned seg_tcp_hdr_len(const uint8_t *p, uint32_t avail)
{
    unsigned off;

    if (avail < 20)
        return 0;
    off = (unsigned)(p[12] >> 4) * 4;
    return off < 20 || off > avail ? 0 : off;
}

static seg_kind seg_tcp_parse(const uint8_t *p, uint32_t avail, seg *s)
{
    unsigned off = seg_tcp_hdr_len(p, avail);

    if (!off)
        return SEG_MALFORMED;
    s->sport = seg_be16(p);
    s->dport = seg_be16(p + 2);
    s->seq = seg_be32(p + 4);
    s->ack = seg_be32(p + 8);
    s->flags = p[13];
    s->tcp = p;
    s->tcp_len = off;
    s->payload = p + off;
    s->len = avail - off;
    return SEG_TCP;
}

/* How many of the l3_len captured bytes belong to an IPv4 packet whose
 * total length field says tot (see the header comment). */
static uint32_t seg_v4_len(unsigned tot, uint32_t l3_len)
{
    if (tot == 0)
        return l3_len;                          /* offload: length not filled in */
    if (l3_len > 65535u && (l3_len & 0xffffu) == tot)
        return l3_len;                          /* offload: length wrapped */
    return tot < l3_len ? tot : l3_len;         /* padding, or cut by the snap length */
}

/* The IPv4 header's checks: SEG_MALFORMED, SEG_NOT_TCP, SEG_V4_FRAGMENT,
 * or SEG_TCP (the TCP header not looked at yet) with *ihl and *avail, the
 * header's length and the packet's bytes in the capture. */
static inline seg_kind seg_v4_check(const sc_packet *pkt, unsigned *ihl, uint32_t *avail)
{
    const uint8_t *ip = pkt->l3;

    if (pkt->l3_len < 20 || (ip[0] >> 4) != 4)
        return SEG_MALFORMED;
    *ihl = (unsigned)(ip[0] & 0x0f) * 4;
    *avail = seg_v4_len(seg_be16(ip + 2), pkt->l3_len);
    if (*ihl < 20 || *ihl > *avail)
        return SEG_MALFORMED;
    if (ip[9] != 6)
        return SEG_NOT_TCP;
    return seg_be16(ip + 6) & 0x3fff ? SEG_V4_FRAGMENT : SEG_TCP;
}

static seg_kind seg_v4_parse(const sc_packet *pkt, seg *s)
{
    const uint8_t *ip = pkt->l3;
    unsigned ihl = 0;
    uint32_t avail = 0;
    seg_kind k = seg_v4_check(pkt, &ihl, &avail);

    if (k == SEG_MALFORMED)
        return k;
    s->family = AF_INET;
    memcpy(s->src, ip + 12, 4);
    memcpy(s->dst, ip + 16, 4);
    if (k == SEG_V4_FRAGMENT) {
        s->ip_len = avail;
        s->frag_hdr = ihl;
    }
    if (k != SEG_TCP)
        return k;
    return seg_tcp_parse(ip + ihl, avail - ihl, s);
}

static seg_kind seg_v6_parse(const sc_packet *pkt, seg *s)
{
    const uint8_t *ip = pkt->l3;
    uint32_t avail, off = 40, nh_at = 6;
    unsigned plen;
    uint8_t nh;

    if (pkt->l3_len < 40 || (ip[0] >> 4) != 6)
        return SEG_MALFORMED;
    plen = seg_be16(ip + 4);
    /* A payload length of 0 is a jumbogram (or a lie): trust the capture. */
    avail = plen && 40u + plen < pkt->l3_len ? 40u + plen : pkt->l3_len;
    s->family = AF_INET6;
    memcpy(s->src, ip + 8, 16);
    memcpy(s->dst, ip + 24, 16);
    nh = ip[6];
    for (int i = 0; i <= SEG_V6_MAX_EXT; i++) {
        uint32_t hlen;

        switch (nh) {
        case 6:
            return seg_tcp_parse(ip + off, avail - off, s);
        case 44:
            /* its Next Header names the first header of the fragmentable
             * part: TCP, or an extension header that may lead to it */
            if (avail < off + 8)
                return SEG_MALFORMED;
            if (ip[off] != 6 && ip[off] != 60 && ip[off] != 43 && ip[off] != 51)
                return SEG_NOT_TCP;
            s->ip_len = avail;
            s->frag_hdr = off;
            s->frag_nh = nh_at;
            return SEG_V6_FRAGMENT;
        case 0: case 43: case 60: case 51:
            if (avail < off + 8)
                return SEG_MALFORMED;
            hlen = nh == 51 ? ((uint32_t)ip[off + 1] + 2) * 4 : ((uint32_t)ip[off + 1] + 1) * 8;
            if (avail < off + hlen)
                return SEG_MALFORMED;
            nh = ip[off];
            nh_at = off;
            off += hlen;
            break;
        default:
            return SEG_NOT_TCP;
        }
    }
    return SEG_V6_CHAIN_LONG;
}

/* Every packet is parsed, so the record is not cleared whole: a field is set by every path that
 * returns a kind under which it is read (the addresses beyond the
 * family's length are never read). */
seg_kind seg_parse(const sc_packet *pkt, seg *s)
{
    s->family = 0;
    s->len = 0;
    s->ip_len = s->frag_hdr = s->frag_nh = 0;
    if (!pkt->l3)
        return SEG_NOT_TCP;
    return pkt->ipver == 4 ? seg_v4_parse(pkt, s)
         : pkt->ipver == 6 ? seg_v6_parse(pkt, s) : SEG_NOT_TCP;
}

/* The kind alone: -j asks it of every packet no process follows, for the
 * totals, so an IPv4 packet is only checked, not read into a record. */
seg_kind seg_kind_of(const sc_packet *pkt)
{
    seg s;

    if (pkt->l3 && pkt->ipver == 4) {
        unsigned ihl = 0;
        uint32_t avail = 0;
        seg_kind k = seg_v4_check(pkt, &ihl, &avail);

        if (k == SEG_TCP && !seg_tcp_hdr_len(pkt->l3 + ihl, avail - ihl))
            return SEG_MALFORMED;
        return k;
    }
    return seg_parse(pkt, &s);
}

int sc_reasm_segment(const sc_packet *pkt, sc_tcpseg *t)
{
    seg s;
    seg_kind k = seg_parse(pkt, &s);
    const uint8_t *ip = pkt->l3;

    memset(t, 0, sizeof *t);
    if (k != SEG_TCP)
        return -1;
    t->family = s.family;
    t->src = ip + (s.family == AF_INET ? 12 : 8);
    t->dst = ip + (s.family == AF_INET ? 16 : 24);
    t->sport = s.sport;
    t->dport = s.dport;
    t->seq = s.seq;
    t->flags = s.flags;
    t->tcp_off = (size_t)(s.tcp - ip);
    t->payload_off = (size_t)(s.payload - ip);
    t->payload_len = s.len;
    return 0;
}

uint16_t seg_cksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Stores v in network order at p, whatever p's alignment. */
static void seg_store16(uint8_t *p, uint16_t v) { v = htons(v); memcpy(p, &v, 2); }
static void seg_store32(uint8_t *p, uint32_t v) { v = htonl(v); memcpy(p, &v, 4); }

/* Every packet handed to libnids is built here, so the headers are
 * written a word at a time from a template rather than octet by octet,
 * and a segment other than a SYN goes without its TCP options. */
size_t seg_build_v4(uint8_t *buf, uint32_t saddr, uint32_t daddr,
                    uint16_t sport, uint16_t dport,
                    const uint8_t *tcp, unsigned tcp_len,
                    uint32_t seq, uint32_t ack, uint8_t flags,
                    const uint8_t *payload, uint32_t len)
{
    /* version and IHL, no TOS, length, no identification or fragment,
     * TTL 64, TCP, checksum 0 (nothing reads it: libnids is fed below its
     * IP layer), addresses: the length and addresses are filled in below */
    static const uint8_t ip_hdr[12] = { 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0 };
    uint8_t *t = buf + 20;
    size_t total;

    /* libnids reads TCP options only in a SYN (window scale, timestamps:
     * a stream whose SYNs had none never looks at them again) */
    if (!tcp || tcp_len < 20 || tcp_len > 60 || !(flags & SEG_SYN))
        tcp_len = 20;
    if (len > SEG_MAX_PAYLOAD)
        len = SEG_MAX_PAYLOAD;
    total = 20 + tcp_len + len;
    if (total > 65535) {
        len -= (uint32_t)(total - 65535);
        total = 65535;
    }
    memcpy(buf, ip_hdr, sizeof ip_hdr);
    seg_store16(buf + 2, (uint16_t)total);
    memcpy(buf + 12, &saddr, 4);
    memcpy(buf + 16, &daddr, 4);

    /* the first 20 octets are all written below: only options are copied */
    if (tcp_len > 20)
        memcpy(t + 20, tcp + 20, tcp_len - 20);
    seg_store32(t, (uint32_t)sport << 16 | dport);
    seg_store32(t + 4, seq);
    seg_store32(t + 8, ack);
    /* data offset, flags (URG cleared), window 0xffff: libnids drops
     * segments beyond the window */
    seg_store32(t + 12, (uint32_t)(tcp_len / 4) << 28 | (uint32_t)(flags & ~SEG_URG) << 16 | 0xffffu);
    /* checksum (libnids is told not to verify) and urgent pointer: 0 */
    memset(t + 16, 0, 4);
    if (payload)
        memcpy(t + tcp_len, payload, len);
    else if (len)                /* a filler; not the handshake's bare segments */
        memset(t + tcp_len, 0, len);
    return total;
}
