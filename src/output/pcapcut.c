/*
 * pcapcut.c - sessions cut out of a capture file (pcapcut.h).
 *
 * Packets come from src/capture/capture.h (which decodes the link layer); the
 * IP and TCP headers are decoded here, just enough for the 4-tuple, the
 * sequence number and the payload. The files are written by cutout.c.
 *
 * Redaction: a direction's stream offset 0 is the byte after its SYN, or
 * on a capture without the SYN the first payload byte seen (the convention
 * of sc_range in record.h). Offsets wrap at 2^32 like sequence numbers;
 * sc_pcapcut_unwrap picks the offset nearest the last one seen.
 *
 * Diagnostics: sc_pcapcut returns -1 with a reason naming the capture;
 * a target whose file cannot be created gets its errno in ->error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cutout.h"
#include "pcapcut.h"

#define PCAPCUT_BATCH 128

#define CUT_FRAG_IDS 16

typedef struct cut_state {
    bool           frag_used[CUT_FRAG_IDS];
    uint16_t       frag_id[CUT_FRAG_IDS];
    uint8_t        frag_dir[CUT_FRAG_IDS];
    unsigned       frag_next;
    sc_cutout     *out;
    bool           have_base[2];
    uint32_t       base[2];
    uint64_t       last_off[2];
} cut_state;

/* What the IP and TCP headers say. */
typedef struct cut_tcp {
    int            family;
    const uint8_t *src, *dst;       /* addresses inside the packet */
    uint16_t       sport, dport;
    uint32_t       seq;
    uint8_t        flags;
    size_t         tcp_off;         /* TCP header, from l3 */
    size_t         payload_off;     /* from l3 */
    size_t         payload_len;     /* captured payload bytes */
    bool           frag;            /* part of a fragmented IPv4 datagram */
    bool           frag_later;      /* ... not the first part: no TCP header */
    uint16_t       ipid;
} cut_tcp;

#define TCP_SYN 0x02

static uint16_t cut_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t cut_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* IPv6 extension headers that may precede TCP (fragments are not followed). */
static int cut_ip6_ext(uint8_t nh)
{
    return nh == 0 || nh == 43 || nh == 60 || nh == 51;
}

static int cut_tcp_decode(const sc_packet *pkt, cut_tcp *t)
{
    const uint8_t *p = pkt->l3;
    size_t len = pkt->l3_len, off, end;
    uint8_t proto;

    if (!p)
        return -1;
    if (pkt->ipver == 4) {
        if (len < 20 || (p[0] >> 4) != 4)
            return -1;
        off = (size_t)(p[0] & 15) * 4;
        end = cut_be16(p + 2);
        if (off < 20)
            return -1;
        proto = p[9];
        t->family = AF_INET;
        t->src = p + 12;
        t->dst = p + 16;
        t->ipid = cut_be16(p + 4);
        t->frag = (cut_be16(p + 6) & 0x3FFF) != 0;
        t->frag_later = (cut_be16(p + 6) & 0x1FFF) != 0;
        if (t->frag_later)
            return proto == 6 ? 0 : -1;   /* matched by its datagram id */
    } else if (pkt->ipver == 6) {
        t->frag = t->frag_later = false;
        if (len < 40 || (p[0] >> 4) != 6)
            return -1;
        proto = p[6];
        off = 40;
        end = 40 + (size_t)cut_be16(p + 4);
        while (cut_ip6_ext(proto)) {
            if (len < off + 8)
                return -1;
            size_t hl = proto == 51 ? ((size_t)p[off + 1] + 2) * 4 : ((size_t)p[off + 1] + 1) * 8;
            proto = p[off];
            off += hl;
        }
        t->family = AF_INET6;
        t->src = p + 8;
        t->dst = p + 24;
    } else {
        return -1;
    }
    if (proto != 6 || len < off + 20 || end < off + 20)
        return -1;
    size_t doff = (size_t)(p[off + 12] >> 4) * 4;
    if (doff < 20 || end < off + doff)
        return -1;
    t->sport = cut_be16(p + off);
    t->dport = cut_be16(p + off + 2);
    t->seq = cut_be32(p + off + 4);
    t->flags = p[off + 13];
    t->tcp_off = off;
    t->payload_off = off + doff;
    if (end > len)
        end = len;                       /* captured part only */
    t->payload_len = end > t->payload_off ? end - t->payload_off : 0;
    return 0;
}

static bool cut_ep_is(const sc_endpoint *ep, int family, const uint8_t *addr, uint16_t port)
{
    return ep->family == family && ep->port == port &&
           memcmp(ep->addr, addr, family == AF_INET ? 4 : 16) == 0;
}

/* -1: not this session; else the direction of the packet. A fragment
 * after the first is matched by addresses and by the datagram id of a
 * first fragment already matched (st->frag_ids). */
static int cut_match(const sc_cut_target *t, cut_state *st, const cut_tcp *h)
{
    if (h->frag_later) {
        for (unsigned i = 0; i < CUT_FRAG_IDS; i++) {
            if (!st->frag_used[i] || st->frag_id[i] != h->ipid)
                continue;
            int d = st->frag_dir[i];
            const sc_endpoint *src = d == SC_DIR_C2S ? &t->client : &t->server;
            const sc_endpoint *dst = d == SC_DIR_C2S ? &t->server : &t->client;
            if (h->family == src->family && memcmp(src->addr, h->src, 4) == 0 &&
                memcmp(dst->addr, h->dst, 4) == 0)
                return d;
        }
        return -1;
    }
    if (cut_ep_is(&t->client, h->family, h->src, h->sport) &&
        cut_ep_is(&t->server, h->family, h->dst, h->dport))
        return SC_DIR_C2S;
    if (cut_ep_is(&t->server, h->family, h->src, h->sport) &&
        cut_ep_is(&t->client, h->family, h->dst, h->dport))
        return SC_DIR_S2C;
    return -1;
}

uint64_t sc_pcapcut_unwrap(uint32_t rel, uint64_t near)
{
    uint64_t cand = (near & ~(uint64_t)0xFFFFFFFF) | rel;

    if (cand + 0x80000000ULL < near)
        cand += 0x100000000ULL;
    else if (cand > near + 0x80000000ULL && cand >= 0x100000000ULL)
        cand -= 0x100000000ULL;
    return cand;
}

static uint32_t cut_sum(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += cut_be16(p + i);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t cut_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

int sc_pcapcut_fix_checksums(uint8_t *l3, size_t len)
{
    sc_packet pkt = { .l3 = l3, .l3_len = (uint32_t)len, .ipver = len ? l3[0] >> 4 : 0 };
    cut_tcp h;
    size_t tcp_off, seglen;
    uint32_t sum;
    uint8_t pseudo[40];

    if (cut_tcp_decode(&pkt, &h) < 0)
        return -1;
    if (pkt.ipver == 4) {
        size_t ihl = (size_t)(l3[0] & 15) * 4, total = cut_be16(l3 + 2);
        if (total > len)
            return -1;                  /* not all captured: leave it */
        l3[10] = l3[11] = 0;
        uint16_t c = cut_fold(cut_sum(0, l3, ihl));
        l3[10] = (uint8_t)(c >> 8); l3[11] = (uint8_t)c;
        tcp_off = ihl;
        seglen = total - ihl;
        memcpy(pseudo, l3 + 12, 8);
        pseudo[8] = 0; pseudo[9] = 6;
        pseudo[10] = (uint8_t)(seglen >> 8); pseudo[11] = (uint8_t)seglen;
        sum = cut_sum(0, pseudo, 12);
    } else {
        size_t end = 40 + (size_t)cut_be16(l3 + 4);
        if (end > len)
            return -1;
        tcp_off = h.tcp_off;
        seglen = end - tcp_off;
        memcpy(pseudo, l3 + 8, 32);
        sum = cut_sum(0, pseudo, 32);
        sum += (uint32_t)(seglen >> 16) + (uint32_t)(seglen & 0xFFFF) + 6;
    }
    l3[tcp_off + 16] = l3[tcp_off + 17] = 0;
    uint16_t c = cut_fold(cut_sum(sum, l3 + tcp_off, seglen));
    l3[tcp_off + 16] = (uint8_t)(c >> 8); l3[tcp_off + 17] = (uint8_t)c;
    return 0;
}

/* Masks the payload bytes of pkt that fall in t's ranges; returns the
 * count masked (0: the packet is left as it was). */
static uint64_t cut_redact(const sc_cut_target *t, cut_state *st, int dir,
                           const cut_tcp *h, uint8_t *l3)
{
    uint32_t seq = h->seq + ((h->flags & TCP_SYN) ? 1 : 0);
    uint64_t off, n = 0;

    if (h->flags & TCP_SYN) {
        st->base[dir] = h->seq + 1;
        st->have_base[dir] = true;
    }
    if (h->payload_len == 0)
        return 0;
    if (!st->have_base[dir]) {
        st->base[dir] = seq;
        st->have_base[dir] = true;
    }
    off = sc_pcapcut_unwrap(seq - st->base[dir], st->last_off[dir]);
    st->last_off[dir] = off;
    for (size_t r = 0; r < t->nredact; r++) {
        const sc_range *rg = &t->redact[r];
        if ((int)rg->dir != dir || rg->end <= off || rg->start >= off + h->payload_len)
            continue;
        uint64_t a = rg->start > off ? rg->start - off : 0;
        uint64_t b = rg->end < off + h->payload_len ? rg->end - off : h->payload_len;
        for (uint64_t i = a; i < b; i++) {
            uint8_t *c = l3 + h->payload_off + i;
            if (*c != '\r' && *c != '\n' && *c != 'X') {
                *c = 'X';
                n++;
            }
        }
    }
    return n;
}

static int cut_batch(const char *const *captures, size_t ncaptures, sc_cut_target *t, size_t n,
                     char *err, size_t errlen)
{
    cut_state st[PCAPCUT_BATCH];
    uint64_t lo = UINT64_MAX, hi = 0;
    uint8_t *copy = NULL;
    size_t copycap = 0;
    sc_packet pkt;
    cut_tcp h;
    int rc, ret = 0;
    sc_capture *cap = sc_capture_open_files(captures, ncaptures, NULL, err, errlen);

    if (!cap)
        return -1;
    memset(st, 0, sizeof st);
    for (size_t i = 0; i < n; i++) {
        lo = t[i].first_frame < lo ? t[i].first_frame : lo;
        hi = t[i].last_frame > hi ? t[i].last_frame : hi;
    }
    while ((rc = sc_capture_next(cap, &pkt)) == 1 || rc == -2) {
        if (rc == -2)
            continue;
        if (pkt.frame > hi && ncaptures == 1)
            break;          /* several files: frames grow file by file, not in time */
        if (pkt.frame < lo || cut_tcp_decode(&pkt, &h) < 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            int dir;
            if (pkt.frame < t[i].first_frame || pkt.frame > t[i].last_frame ||
                (dir = cut_match(&t[i], &st[i], &h)) < 0)
                continue;
            if (h.frag && !h.frag_later) {
                unsigned f = st[i].frag_next++ % CUT_FRAG_IDS;
                st[i].frag_used[f] = true;
                st[i].frag_id[f] = h.ipid;
                st[i].frag_dir[f] = (uint8_t)dir;
            }
            const uint8_t *data = pkt.data;
            if (t[i].redact && h.frag) {
                /* A fragment's payload cannot be masked with its checksum
                 * made right (the TCP checksum covers the whole datagram):
                 * left out rather than written unmasked. */
                t[i].frags_left_out++;
                continue;
            }
            if (t[i].redact && t[i].nredact) {
                if (copycap < pkt.caplen) {
                    free(copy);
                    copycap = pkt.caplen;
                    if (!(copy = malloc(copycap))) {
                        copycap = 0;
                        continue;         /* never write the unmasked bytes */
                    }
                }
                memcpy(copy, pkt.data, pkt.caplen);
                uint8_t *l3 = copy + (pkt.l3 - pkt.data);
                uint64_t m = cut_redact(&t[i], &st[i], dir, &h, l3);
                if (m) {
                    sc_pcapcut_fix_checksums(l3, pkt.l3_len);
                    t[i].masked += m;
                }
                data = copy;
            }
            sc_cutout_packet(&st[i].out, &t[i], &pkt, data);
        }
    }
    if (rc == -1) {
        snprintf(err, errlen, "%s", sc_capture_error(cap));
        ret = -1;
    }
    for (size_t i = 0; i < n; i++)
        sc_cutout_close(st[i].out, &t[i]);
    free(copy);
    sc_capture_close(cap);
    return ret;
}

int sc_pcapcut(const char *capture, sc_cut_target *t, size_t n, char *err, size_t errlen)
{
    return sc_pcapcut_files(&capture, 1, t, n, err, errlen);
}

int sc_pcapcut_files(const char *const *captures, size_t ncaptures, sc_cut_target *t, size_t n,
                     char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i += PCAPCUT_BATCH) {
        size_t k = n - i < PCAPCUT_BATCH ? n - i : PCAPCUT_BATCH;
        if (cut_batch(captures, ncaptures, t + i, k, err, errlen) < 0)
            return -1;
    }
    return 0;
}
