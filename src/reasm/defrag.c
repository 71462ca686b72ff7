/*
 * defrag.c - IP fragments of TCP put back together (defrag.h).
 *
 * A datagram is known by its addresses, its identification and, for
 * IPv4, its protocol (RFC 791 §3.2, RFC 8200 §4.5). Its fragments are
 * kept as captured (the whole frame, link layer included: the evidence
 * and the per-frame accounting want each one), sorted by offset and in
 * capture order. It is whole once the fragment at offset 0 and the last
 * one (M clear) are in and nothing is missing between them; then it is
 * written out as one packet: the first fragment's header (IPv4: options
 * too; IPv6: the unfragmentable part, the fragment header taken out and
 * its Next Header put where it was named), then the fragments' bytes.
 *
 * Which bytes, where fragments disagree:
 *  - An exact duplicate (same offset, length and bytes: a span port's
 *    second copy, a retransmission) is kept as a frame of the datagram and
 *    counted (duplicates); it changes nothing.
 *  - IPv6: overlapping fragments drop the whole datagram, and the later
 *    fragments of it until its timeout (RFC 5722; counted as overlap).
 *  - IPv4: the first copy of a byte wins, as the TCP overlap rule of the
 *    reassembler (reasm.c) and libnids keep it; each fragment that brings
 *    other bytes for offsets already held is counted (overlap_v4).
 *  - A fragment with M set whose length is not a multiple of 8, or that
 *    is empty, is dropped alone (malformed; RFC 8200 §4.5). A last
 *    fragment that contradicts another's end, or bytes beyond the end,
 *    drop the datagram (malformed). A datagram beyond 65535 bytes (IPv4
 *    total length, IPv6 payload length) is dropped (too big).
 *  - An IPv6 atomic fragment (offset 0, M clear) is a datagram of its own
 *    at once, never merged with others of its identification (RFC 6946).
 *
 * Bounds (memory per concurrent datagram, never per capture): at most
 * DEFRAG_MAX_DGRAMS datagrams under reassembly, DEFRAG_MAX_BYTES bytes of
 * fragments held in all, DEFRAG_MAX_FRAGS fragments a datagram; beyond,
 * the oldest datagram is dropped (limit). A datagram not whole
 * SC_FRAG_TIMEOUT_SECS after its first fragment is dropped (timeout), by
 * capture time: the time of the fragments, on a clock a lone outlier does
 * not move (clock.c), and a fragment later than the timeout after its
 * datagram's first starts a new one. A datagram dropped for overlap, size
 * or contradiction stays known, without its bytes, until its timeout, so
 * that its later fragments are dropped for the same reason rather than
 * start a new one. Work per fragment: one hash lookup and a walk of its
 * datagram's fragments.
 *
 * Diagnostics: the counters (sc_frag_counts); every fragment read is in
 * exactly one of datagrams' fragments, duplicates or dropped[reason].
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "defrag.h"
#include "segment.h"

#define DEFRAG_MAX_DGRAMS 4096           /* datagrams under reassembly */
#define DEFRAG_MAX_BYTES  (32u << 20)    /* bytes of fragments held, in all */
#define DEFRAG_MAX_FRAGS  1024           /* fragments of one datagram */
#define DEFRAG_BUCKETS    8192
#define DEFRAG_IP_MAX     65535u         /* IPv4 total length, IPv6 payload length */
#define DEFRAG_OUT_MAX    (40u + DEFRAG_IP_MAX)
#define DEFRAG_ALONE      0x100          /* an atomic fragment's key: found by none */

typedef struct df_frag df_frag;
struct df_frag {
    df_frag        *next;                /* by offset */
    df_frag        *anext;               /* capture order */
    uint32_t        off, len;            /* in the fragmentable part */
    uint32_t        pay;                 /* its bytes: from l3 */
    uint32_t        hdr;                 /* IPv4: header length; IPv6: fragment header */
    uint32_t        nh_at;               /* IPv6: the Next Header naming it */
    size_t          size;                /* bytes held for it */
    sc_packet       pkt;                 /* data and l3 point into bytes */
    uint8_t         bytes[];
};

typedef struct df_dgram df_dgram;
struct df_dgram {
    df_dgram       *hnext;
    df_dgram       *older, *newer;       /* by first fragment */
    int             family;
    uint8_t         src[16], dst[16];
    uint32_t        id;
    unsigned        proto;               /* IPv4; DEFRAG_ALONE */
    struct timeval  first;
    df_frag        *frags;               /* by offset */
    df_frag        *ahead, *atail;       /* capture order */
    unsigned        n;
    size_t          bytes;
    bool            have_end;
    uint32_t        end;
    bool            dead;                /* dropped; its later fragments too */
    sc_frag_reason  why;
};

struct sc_defrag {
    df_dgram       *buckets[DEFRAG_BUCKETS];
    df_dgram       *oldest, *newest;
    size_t          ndgrams, bytes;
    sc_clock        clock;
    sc_frag_counts  counts;
    df_dgram       *done;                /* handed out, freed at the next call */
    sc_datagram     result;
    const sc_packet *list[DEFRAG_MAX_FRAGS];
    const df_frag  *order[DEFRAG_MAX_FRAGS];
    uint8_t         out[DEFRAG_OUT_MAX];
};

static uint16_t df_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t df_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

sc_defrag *sc_defrag_new(void)
{
    return calloc(1, sizeof(sc_defrag));
}

const sc_frag_counts *sc_defrag_counts(const sc_defrag *d)
{
    return &d->counts;
}

bool sc_defrag_is_fragment(const sc_packet *pkt)
{
    seg s;
    seg_kind k = seg_parse(pkt, &s);

    return k == SEG_V4_FRAGMENT || k == SEG_V6_FRAGMENT;
}

static size_t df_hash(int family, const uint8_t *src, const uint8_t *dst, uint32_t id)
{
    size_t alen = family == AF_INET ? 4 : 16, h = id * 2654435761u;

    for (size_t i = 0; i < alen; i++)
        h = (h ^ src[i]) * 16777619u ^ dst[i];
    h ^= h >> 15;
    return (h * 0x9E3779B1u) & (DEFRAG_BUCKETS - 1);
}

static void df_frags_free(sc_defrag *d, df_dgram *g)
{
    for (df_frag *f = g->ahead, *nx; f; f = nx) {
        nx = f->anext;
        d->bytes -= f->size;
        free(f);
    }
    g->frags = g->ahead = g->atail = NULL;
    g->bytes = 0;
}

/* Out of the table and of the age list (still counted in ndgrams). */
static void df_unlink(sc_defrag *d, df_dgram *g)
{
    df_dgram **pp = &d->buckets[df_hash(g->family, g->src, g->dst, g->id)];

    while (*pp && *pp != g)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = g->hnext;
    if (g->older) g->older->newer = g->newer; else d->oldest = g->newer;
    if (g->newer) g->newer->older = g->older; else d->newest = g->older;
    g->older = g->newer = g->hnext = NULL;
}

/* Out of the table and freed. */
static void df_remove(sc_defrag *d, df_dgram *g)
{
    df_unlink(d, g);
    d->ndgrams--;
    df_frags_free(d, g);
    free(g);
}

/* Dropped for why: its fragments are counted and freed; it stays known
 * (dead) until its timeout, or goes at once (gone). */
static void df_kill(sc_defrag *d, df_dgram *g, sc_frag_reason why, bool gone)
{
    if (!g->dead)
        d->counts.dropped[why] += g->n;
    g->dead = true;
    g->why = why;
    df_frags_free(d, g);
    if (gone)
        df_remove(d, g);
}

/* Beyond the timeout either way: a first fragment stamped far ahead of
 * the clock must not hold the datagrams behind it. */
static bool df_expired(const df_dgram *g, struct timeval now)
{
    return now.tv_sec - g->first.tv_sec > SC_FRAG_TIMEOUT_SECS ||
           g->first.tv_sec - now.tv_sec > SC_FRAG_TIMEOUT_SECS;
}

static void df_expire(sc_defrag *d, struct timeval now)
{
    while (d->oldest && df_expired(d->oldest, now))
        df_kill(d, d->oldest, SC_FRAG_TIMEOUT, true);
}

static df_dgram *df_find(sc_defrag *d, const seg *s, uint32_t id, unsigned proto)
{
    size_t alen = s->family == AF_INET ? 4 : 16;

    for (df_dgram *g = d->buckets[df_hash(s->family, s->src, s->dst, id)]; g; g = g->hnext)
        if (g->family == s->family && g->id == id && g->proto == proto &&
            memcmp(g->src, s->src, alen) == 0 && memcmp(g->dst, s->dst, alen) == 0)
            return g;
    return NULL;
}

static df_dgram *df_create(sc_defrag *d, const seg *s, uint32_t id, unsigned proto,
                           struct timeval first)
{
    df_dgram *g;
    size_t b = df_hash(s->family, s->src, s->dst, id);

    while (d->ndgrams >= DEFRAG_MAX_DGRAMS && d->oldest)
        df_kill(d, d->oldest, SC_FRAG_LIMIT, true);
    if (!(g = calloc(1, sizeof *g)))
        return NULL;
    g->family = s->family;
    memcpy(g->src, s->src, 16);
    memcpy(g->dst, s->dst, 16);
    g->id = id;
    g->proto = proto;
    g->first = first;
    g->hnext = d->buckets[b];
    d->buckets[b] = g;
    g->older = d->newest;
    if (d->newest) d->newest->newer = g; else d->oldest = g;
    d->newest = g;
    d->ndgrams++;
    return g;
}

/* A copy of the fragment's frame, its place in the datagram filled in. */
static df_frag *df_frag_new(const sc_packet *pkt)
{
    size_t size = sizeof(df_frag) + pkt->caplen;
    df_frag *f = malloc(size);

    if (!f)
        return NULL;
    memset(f, 0, sizeof *f);
    memcpy(f->bytes, pkt->data, pkt->caplen);
    f->size = size;
    f->pkt = *pkt;
    f->pkt.data = f->bytes;
    f->pkt.l3 = f->bytes + (pkt->l3 - pkt->data);
    return f;
}

/* Whether f and o overlap; *same: the very same bytes at the very same
 * place. */
static bool df_overlap(const df_frag *f, const df_frag *o, bool *same)
{
    uint32_t lo = f->off > o->off ? f->off : o->off;
    uint32_t hi = f->off + f->len < o->off + o->len ? f->off + f->len : o->off + o->len;

    if (lo >= hi)
        return false;
    *same = f->off == o->off && f->len == o->len &&
            memcmp(f->pkt.l3 + f->pay, o->pkt.l3 + o->pay, f->len) == 0;
    return true;
}

/* Whole: offset 0 and the end in, nothing missing between. */
static bool df_whole(const df_dgram *g)
{
    uint32_t cover = 0;

    if (!g->have_end)
        return false;
    for (const df_frag *f = g->frags; f; f = f->next) {
        if (f->off > cover)
            return false;
        if (f->off + f->len > cover)
            cover = f->off + f->len;
    }
    return cover >= g->end;
}

/* The datagram as one packet, into d->out; 0 when too big. */
static size_t df_build(sc_defrag *d, const df_dgram *g)
{
    const df_frag *first = NULL;
    size_t unfrag, total, n = 0;

    for (const df_frag *f = g->frags; f && !first; f = f->next)
        if (f->off == 0)
            first = f;
    if (!first)
        return 0;
    unfrag = first->hdr;                    /* the bytes before the fragmentable part */
    total = unfrag + g->end;
    if ((g->family == AF_INET && total > DEFRAG_IP_MAX) ||
        (g->family == AF_INET6 && total - 40 > DEFRAG_IP_MAX))
        return 0;
    memcpy(d->out, first->pkt.l3, unfrag);
    /* later copies first, so that the first copy of a byte is what stays */
    for (const df_frag *f = g->ahead; f; f = f->anext)
        d->order[n++] = f;
    while (n--)
        memcpy(d->out + unfrag + d->order[n]->off, d->order[n]->pkt.l3 + d->order[n]->pay,
               d->order[n]->len);
    if (g->family == AF_INET) {
        uint16_t ck;

        d->out[2] = (uint8_t)(total >> 8);
        d->out[3] = (uint8_t)total;
        d->out[6] &= 0x40;                       /* DF stays; MF and offset go */
        d->out[7] = 0;
        d->out[10] = d->out[11] = 0;
        ck = (uint16_t)~seg_cksum(d->out, unfrag);
        d->out[10] = (uint8_t)(ck >> 8);
        d->out[11] = (uint8_t)ck;
    } else {
        d->out[first->nh_at] = first->pkt.l3[first->hdr];   /* the fragment header's */
        d->out[4] = (uint8_t)((total - 40) >> 8);
        d->out[5] = (uint8_t)(total - 40);
    }
    return total;
}

static int df_done(sc_defrag *d, df_dgram *g, const sc_packet *last, const sc_datagram **out)
{
    size_t len = df_build(d, g), n = 0;

    if (!len) {
        df_kill(d, g, SC_FRAG_TOO_BIG, true);
        return SC_DEFRAG_TAKEN;
    }
    df_unlink(d, g);             /* freed at the next call: its frames are handed out */
    d->done = g;
    d->counts.datagrams++;
    for (const df_frag *f = g->ahead; f; f = f->anext)
        d->list[n++] = &f->pkt;
    memset(&d->result, 0, sizeof d->result);
    d->result.pkt.frame = last->frame;
    d->result.pkt.ts = last->ts;
    d->result.pkt.ts_nsec = last->ts_nsec;
    d->result.pkt.caplen = d->result.pkt.wirelen = d->result.pkt.l3_len = (uint32_t)len;
    d->result.pkt.linktype = last->linktype;
    d->result.pkt.data = d->result.pkt.l3 = d->out;
    d->result.pkt.ipver = g->family == AF_INET ? 4 : 6;
    d->result.frags = d->list;
    d->result.nfrags = n;
    *out = &d->result;
    return SC_DEFRAG_DONE;
}

/* The handed-out datagram of the previous call goes. */
static void df_release(sc_defrag *d)
{
    if (!d->done)
        return;
    d->ndgrams--;
    df_frags_free(d, d->done);
    free(d->done);
    d->done = NULL;
}

/* Inserts f by offset; false when g must be dropped (why set). */
static bool df_insert(sc_defrag *d, df_dgram *g, df_frag *f, sc_frag_reason *why)
{
    df_frag **pp = &g->frags;
    bool dup = false, clash = false;

    for (df_frag *o = g->frags; o; o = o->next) {
        bool same;
        if (df_overlap(f, o, &same)) {
            if (same)
                dup = true;
            else
                clash = true;
        }
    }
    if (clash && g->family == AF_INET6) {
        *why = SC_FRAG_OVERLAP;
        return false;
    }
    if (dup && !clash)
        d->counts.duplicates++;
    else if (clash)
        d->counts.overlap_v4++;
    while (*pp && (*pp)->off <= f->off)
        pp = &(*pp)->next;
    f->next = *pp;
    *pp = f;
    if (g->atail) g->atail->anext = f; else g->ahead = f;
    g->atail = f;
    g->n++;
    g->bytes += f->size;
    d->bytes += f->size;
    return true;
}

int sc_defrag_add(sc_defrag *d, const sc_packet *pkt, const sc_datagram **out)
{
    seg s;
    seg_kind k = seg_parse(pkt, &s);
    const uint8_t *ip = pkt->l3;
    uint32_t id, off, len, pay, unfrag;
    bool more, atomic;
    uint8_t proto = 0;
    unsigned declared;
    struct timeval now;
    df_dgram *g;
    df_frag *f;
    sc_frag_reason why;

    if (k != SEG_V4_FRAGMENT && k != SEG_V6_FRAGMENT)
        return SC_DEFRAG_NOT;
    df_release(d);
    d->counts.fragments++;
    if (k == SEG_V4_FRAGMENT) {
        uint16_t fl = df_be16(ip + 6);
        id = df_be16(ip + 4);
        proto = ip[9];
        off = (uint32_t)(fl & 0x1fff) * 8;
        more = (fl & 0x2000) != 0;
        pay = s.frag_hdr;
        unfrag = s.frag_hdr;
    } else {
        uint16_t fl = df_be16(ip + s.frag_hdr + 2);
        id = df_be32(ip + s.frag_hdr + 4);
        off = (uint32_t)(fl & 0xfff8);
        more = (fl & 1) != 0;
        pay = s.frag_hdr + 8;
        unfrag = s.frag_hdr - 40;
    }
    len = s.ip_len - pay;
    declared = k == SEG_V4_FRAGMENT ? df_be16(ip + 2) : 40u + df_be16(ip + 4);
    if ((more && (len == 0 || len % 8)) || s.ip_len < declared) {
        d->counts.dropped[SC_FRAG_MALFORMED]++;      /* or cut by the snap length */
        return SC_DEFRAG_TAKEN;
    }
    now = sc_clock_feed(&d->clock, pkt->ts, SC_FRAG_TIMEOUT_SECS);
    df_expire(d, now);
    atomic = k == SEG_V6_FRAGMENT && off == 0 && !more;
    g = atomic ? NULL : df_find(d, &s, id, proto);
    if (g && df_expired(g, pkt->ts)) {         /* its time is over: a new one */
        df_kill(d, g, SC_FRAG_TIMEOUT, true);
        g = NULL;
    }
    if (g && g->dead) {
        d->counts.dropped[g->why]++;
        return SC_DEFRAG_TAKEN;
    }
    if (!g && !(g = df_create(d, &s, id, atomic ? DEFRAG_ALONE : proto, pkt->ts))) {
        d->counts.dropped[SC_FRAG_LIMIT]++;
        return SC_DEFRAG_TAKEN;
    }
    if (!(f = df_frag_new(pkt))) {
        d->counts.dropped[SC_FRAG_LIMIT]++;
        df_kill(d, g, SC_FRAG_LIMIT, false);
        return SC_DEFRAG_TAKEN;
    }
    f->off = off;
    f->len = len;
    f->pay = pay;
    f->hdr = s.frag_hdr;
    f->nh_at = s.frag_nh;
    why = SC_FRAG_MALFORMED;
    if (off + len + unfrag > DEFRAG_IP_MAX)
        why = SC_FRAG_TOO_BIG;
    else if (!more && g->have_end && g->end != off + len)
        ;                                       /* two ends */
    else if (g->have_end && off + len > g->end)
        ;                                       /* beyond the end */
    else if (g->n >= DEFRAG_MAX_FRAGS)
        why = SC_FRAG_LIMIT;
    else {
        if (!more) {
            for (const df_frag *o = g->frags; o; o = o->next)
                if (o->off + o->len > off + len)
                    goto bad;
            g->have_end = true;
            g->end = off + len;
        }
        if (!df_insert(d, g, f, &why))
            goto bad;
        /* the bytes held, within the bounds: the oldest others go first */
        while (d->bytes > DEFRAG_MAX_BYTES && d->oldest && d->oldest != g)
            df_kill(d, d->oldest, SC_FRAG_LIMIT, true);
        if (d->bytes > DEFRAG_MAX_BYTES) {
            df_kill(d, g, SC_FRAG_LIMIT, false);
            return SC_DEFRAG_TAKEN;
        }
        if (df_whole(g))
            return df_done(d, g, pkt, out);
        return SC_DEFRAG_TAKEN;
    }
bad:
    free(f);
    d->counts.dropped[why]++;
    df_kill(d, g, why, false);
    return SC_DEFRAG_TAKEN;
}

void sc_defrag_finish(sc_defrag *d)
{
    df_release(d);
    while (d->oldest)
        df_kill(d, d->oldest, SC_FRAG_INCOMPLETE, true);
}

void sc_defrag_free(sc_defrag *d)
{
    if (!d)
        return;
    df_release(d);
    while (d->oldest)
        df_remove(d, d->oldest);
    free(d);
}
