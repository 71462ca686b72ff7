/*
 * pcapcut.c - sessions cut out of a capture file (pcapcut.h).
 *
 * Packets come from src/capture/capture.h (which decodes the link layer); the
 * IP and TCP headers are decoded here, just enough for the 4-tuple, the
 * sequence number and the payload. The files are written by cutout.c
 * (pcap or pcapng, with the link type of the source so that the frame
 * bytes stay exactly as captured); this file keeps at most
 * PCAPCUT_OPEN_MAX of them open, suspending the least recently written.
 *
 * Packets are read as the reassembler reads them (sc_reasm_segment: the
 * same payload lengths for offloaded segments whose IP length is 0 or
 * wrapped), and a direction's stream offsets count from the sequence
 * number the analysis took for offset 0 (sc_session_info.stream_base),
 * never re-derived here from a SYN or the first byte seen. Offsets wrap at
 * 2^32 like sequence numbers; sc_pcapcut_unwrap picks the offset nearest
 * the last one seen.
 *
 * Diagnostics: sc_pcapcut returns -1 with a reason naming the capture,
 * -2 when a capture file is not the one the analysis read (capture.h,
 * sc_capture_changed: nothing is cut);
 * a target whose file cannot be created gets its errno in ->error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/capture.h"
#include "reasm/defrag.h"
#include "reasm/reasm.h"
#include "cutout.h"
#include "common/pseudo.h"
#include "pcapcut.h"

#define PCAPCUT_OPEN_MAX 64      /* session files open at once */
#define CUT_NONE SIZE_MAX

/* Per target: where its file stands, and where its streams are. */
typedef struct cut_state {
    sc_cutout     *out;            /* the file (cutout.h) */
    bool           open;           /* in the list of open files */
    size_t         prev, next;     /* open files, least recently written first */
    size_t         hnext;          /* hash chain */
    uint64_t       last_off[2];
} cut_state;

/* One pass over the capture for every target: targets are found by a
 * hash of their 4-tuple, at most PCAPCUT_OPEN_MAX files are open (the
 * least recently written is closed and opened again to append). */
typedef struct cut_run {
    sc_cut_target *t;
    cut_state     *st;
    size_t         n;
    size_t        *bucket;
    size_t         nbuckets;
    size_t         lru_head, lru_tail, nopen;
    sc_defrag     *defrag;         /* fragments put together as the analysis did */
    bool           nano;           /* the capture has nanosecond timestamps */
    uint8_t       *copy;           /* a packet being masked */
    size_t         copycap;
} cut_run;

#define TCP_SYN 0x02

static uint16_t cut_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static bool cut_ep_is(const sc_endpoint *ep, int family, const uint8_t *addr, uint16_t port)
{
    return ep->family == family && ep->port == port &&
           memcmp(ep->addr, addr, family == AF_INET ? 4 : 16) == 0;
}

/* -1: not this session; else the direction of the packet. */
static int cut_dir(const sc_cut_target *t, const sc_tcpseg *h)
{
    if (cut_ep_is(&t->client, h->family, h->src, h->sport) &&
        cut_ep_is(&t->server, h->family, h->dst, h->dport))
        return SC_DIR_C2S;
    if (cut_ep_is(&t->server, h->family, h->src, h->sport) &&
        cut_ep_is(&t->client, h->family, h->dst, h->dport))
        return SC_DIR_S2C;
    return -1;
}

/* The same for both directions of a connection. */
static size_t cut_hash_ep(int family, const uint8_t *addr, uint16_t port)
{
    size_t h = (size_t)port * 2654435761u;

    for (int i = 0; i < (family == AF_INET ? 4 : 16); i++)
        h = h * 31 + addr[i];
    return h;
}

static size_t cut_hash(const cut_run *r, int family, const uint8_t *a, uint16_t ap,
                       const uint8_t *b, uint16_t bp)
{
    size_t h = cut_hash_ep(family, a, ap) ^ cut_hash_ep(family, b, bp);

    h ^= h >> 17;
    return (h * 0x9E3779B1u) & (r->nbuckets - 1);
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
    sc_tcpseg h;
    size_t seglen;
    uint32_t sum;
    uint8_t pseudo[40];

    if (sc_reasm_segment(&pkt, &h) < 0 || h.payload_off + h.payload_len > len)
        return -1;
    seglen = h.payload_off + h.payload_len - h.tcp_off;
    if (pkt.ipver == 4) {
        size_t ihl = (size_t)(l3[0] & 15) * 4, total = cut_be16(l3 + 2);
        /* Cut by the snap length: the checksum cannot be made right. An
         * offloaded segment (total 0, or wrapped) is whole as captured. */
        if (total && total <= 65535 && total > len)
            return -1;
        l3[10] = l3[11] = 0;
        uint16_t c = cut_fold(cut_sum(0, l3, ihl));
        l3[10] = (uint8_t)(c >> 8); l3[11] = (uint8_t)c;
        memcpy(pseudo, l3 + 12, 8);
        sum = cut_sum(0, pseudo, 8) + 6;
    } else {
        size_t plen = cut_be16(l3 + 4);
        if (plen && 40 + plen > len)
            return -1;
        memcpy(pseudo, l3 + 8, 32);
        sum = cut_sum(0, pseudo, 32) + 6;
    }
    sum += (uint32_t)(seglen >> 16) + (uint32_t)(seglen & 0xFFFF);
    l3[h.tcp_off + 16] = l3[h.tcp_off + 17] = 0;
    uint16_t c = cut_fold(cut_sum(sum, l3 + h.tcp_off, seglen));
    l3[h.tcp_off + 16] = (uint8_t)(c >> 8); l3[h.tcp_off + 17] = (uint8_t)c;
    return 0;
}

/* Masks payload bytes [a, b) of the packet (CR and LF kept); the count. */
static uint64_t cut_mask(uint8_t *p, uint64_t a, uint64_t b)
{
    uint64_t n = 0;

    for (uint64_t i = a; i < b; i++)
        if (p[i] != '\r' && p[i] != '\n' && p[i] != 'X') {
            p[i] = 'X';
            n++;
        }
    return n;
}

/* Masks the payload bytes of pkt that the analysis did not read as
 * protocol: those in t's ranges (content, AUTH data), those beyond what
 * it read of the direction or before its start (never classified), and,
 * when the sequence numbers were rewritten, every client byte (they
 * cannot be placed). Offsets count from the analysis's own stream base,
 * never from a SYN seen here: a stray SYN|ACK must not move them.
 * Returns the count masked (0: the packet is left as it was). */
static uint64_t cut_redact(const sc_cut_target *t, cut_state *st, int dir,
                           const sc_tcpseg *h, uint8_t *l3)
{
    uint32_t seq = h->seq + ((h->flags & TCP_SYN) ? 1 : 0);
    uint8_t *p = l3 + h->payload_off;
    uint64_t off, len = h->payload_len, n = 0;

    if (len == 0)
        return 0;
    if (t->seq_untrusted)
        return dir == SC_DIR_C2S || t->pseudo ? cut_mask(p, 0, len) : 0;
    off = sc_pcapcut_unwrap(seq - t->base[dir], st->last_off[dir]);
    if (off <= t->end[dir])
        st->last_off[dir] = off;   /* a byte before the base does not move it */
    for (size_t r = 0; r < t->nsubst; r++) {
        const sc_subst *su = &t->subst[r];
        if ((int)su->dir != dir || su->off + su->len <= off || su->off >= off + len)
            continue;
        uint64_t a = su->off > off ? su->off : off;
        uint64_t b = su->off + su->len < off + len ? su->off + su->len : off + len;
        memcpy(p + (a - off), t->subst_bytes + su->at + (a - su->off), b - a);
        n += b - a;
    }
    if (off + len > t->end[dir])
        n += cut_mask(p, t->end[dir] > off ? t->end[dir] - off : 0, len);
    for (size_t r = 0; r < t->nredact; r++) {
        const sc_range *rg = &t->redact[r];
        if ((int)rg->dir != dir || rg->end <= off || rg->start >= off + len)
            continue;
        n += cut_mask(p, rg->start > off ? rg->start - off : 0,
                      rg->end < off + len ? rg->end - off : len);
    }
    return n;
}

void sc_pcapcut_target(sc_cut_target *t, const sc_session_info *info, bool redact)
{
    t->id = info->id;
    t->client = info->wire_client;
    t->server = info->wire_server;
    t->ps_client = info->client;
    t->ps_server = info->server;
    t->first_frame = info->first_frame;
    t->last_frame = info->last_frame;
    t->redacting = redact;
    if (!redact)
        return;
    t->pseudo = sc_pseudo_on();
    t->subst = info->subst;
    t->nsubst = info->subst ? info->nsubst : 0;
    t->subst_bytes = info->subst_bytes;
    t->redact = info->redact;
    t->nredact = info->redact ? info->nredact : 0;
    t->seq_untrusted = info->seq_untrusted;
    for (int d = 0; d < 2; d++) {
        t->base[d] = (uint32_t)info->stream_base[d];
        t->end[d] = info->stream_end[d];
    }
}

/* Least recently written first: out of the list, back at its end. */
static void cut_lru_unlink(cut_run *r, size_t i)
{
    cut_state *st = &r->st[i];

    if (st->prev != CUT_NONE) r->st[st->prev].next = st->next; else r->lru_head = st->next;
    if (st->next != CUT_NONE) r->st[st->next].prev = st->prev; else r->lru_tail = st->prev;
    st->prev = st->next = CUT_NONE;
}

static void cut_lru_append(cut_run *r, size_t i)
{
    cut_state *st = &r->st[i];

    st->prev = r->lru_tail;
    st->next = CUT_NONE;
    if (r->lru_tail != CUT_NONE) r->st[r->lru_tail].next = i; else r->lru_head = i;
    r->lru_tail = i;
}

/* Closes target i's file until its next packet (cutout.h). */
static void cut_suspend(cut_run *r, size_t i)
{
    cut_state *st = &r->st[i];

    if (!st->open)
        return;
    cut_lru_unlink(r, i);
    r->nopen--;
    st->open = false;
    sc_cutout_suspend(st->out, &r->t[i]);
}

/* Writes a packet to target i's file: the least recently written of the
 * open files is suspended first when PCAPCUT_OPEN_MAX are open. */
static void cut_write(cut_run *r, size_t i, const sc_packet *pkt, const uint8_t *data)
{
    cut_state *st = &r->st[i];

    if (st->open) {
        cut_lru_unlink(r, i);
        cut_lru_append(r, i);
    } else if (r->nopen >= PCAPCUT_OPEN_MAX) {
        cut_suspend(r, r->lru_head);
    }
    sc_cutout_packet(&st->out, &r->t[i], pkt, data, r->nano);
    if (!st->open && sc_cutout_is_open(st->out)) {
        st->open = true;
        r->nopen++;
        cut_lru_append(r, i);
    } else if (st->open && !sc_cutout_is_open(st->out)) {
        cut_lru_unlink(r, i);         /* failed: closed by cutout */
        r->nopen--;
        st->open = false;
    }
}

/* --redact=addresses: the packet's IP addresses written as the session's
 * pseudonyms, and its Ethernet addresses (which name the hardware of the
 * network) as 02:00:00:00:00:01 for the client's side and ...:02 for the
 * server's (locally administered, never a real card's). */
static void cut_pseudo_addrs(const sc_cut_target *t, int dir, const sc_packet *pkt,
                             uint8_t *frame, uint8_t *l3)
{
    const sc_endpoint *src = dir == SC_DIR_C2S ? &t->ps_client : &t->ps_server;
    const sc_endpoint *dst = dir == SC_DIR_C2S ? &t->ps_server : &t->ps_client;
    size_t alen = src->family == AF_INET6 ? 16 : 4, at = src->family == AF_INET6 ? 8 : 12;

    memcpy(l3 + at, src->addr, alen);
    memcpy(l3 + at + alen, dst->addr, alen);
    if (pkt->linktype == DLT_EN10MB && l3 - frame >= 14) {
        static const uint8_t mac[2][6] = { { 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 } };
        memcpy(frame, mac[dir == SC_DIR_C2S], 6);       /* destination */
        memcpy(frame + 6, mac[dir != SC_DIR_C2S], 6);   /* source */
    }
}

/* One packet of target i, direction dir: masked when redacting, written;
 * h is NULL for a fragment. */
static void cut_packet(cut_run *r, size_t i, int dir, const sc_packet *pkt,
                       const sc_tcpseg *h)
{
    sc_cut_target *t = &r->t[i];

    if (!t->redacting) {
        cut_write(r, i, pkt, pkt->data);
        return;
    }
    if (!h) {
        /* A fragment's payload cannot be masked with its checksum made
         * right (the TCP checksum covers the whole datagram): left out
         * rather than written unmasked. */
        t->frags_left_out++;
        return;
    }
    if (r->copycap < pkt->caplen) {
        free(r->copy);
        r->copycap = pkt->caplen;
        if (!(r->copy = malloc(r->copycap))) {
            r->copycap = 0;
            t->error = ENOMEM;          /* never write the unmasked bytes */
            return;
        }
    }
    memcpy(r->copy, pkt->data, pkt->caplen);
    uint8_t *l3 = r->copy + (pkt->l3 - pkt->data);
    uint64_t m = cut_redact(t, &r->st[i], dir, h, l3);
    if (t->pseudo) {
        cut_pseudo_addrs(t, dir, pkt, r->copy, l3);
        m += !m;                   /* the checksums cover the addresses */
    }
    if (m) {
        sc_pcapcut_fix_checksums(l3, pkt->l3_len);
        t->masked += m;
    }
    cut_write(r, i, pkt, r->copy);
}

/* Every target a packet belongs to (the same file given twice in -r
 * makes two targets of one connection): a whole packet (frags NULL), or
 * a datagram put together from frags, each of which is written. */
static void cut_dispatch(cut_run *r, const sc_packet *pkt, const sc_tcpseg *h,
                         const sc_datagram *dg)
{
    for (size_t i = r->bucket[cut_hash(r, h->family, h->src, h->sport, h->dst, h->dport)];
         i != CUT_NONE; i = r->st[i].hnext) {
        const sc_cut_target *t = &r->t[i];
        int dir;
        if (pkt->frame < t->first_frame || pkt->frame > t->last_frame ||
            (dir = cut_dir(t, h)) < 0)
            continue;
        if (!dg)
            cut_packet(r, i, dir, pkt, h);
        else
            for (size_t k = 0; k < dg->nfrags; k++)
                cut_packet(r, i, dir, dg->frags[k], NULL);
    }
}

static int cut_run_init(cut_run *r, sc_cut_target *t, size_t n)
{
    memset(r, 0, sizeof *r);
    r->t = t;
    r->n = n;
    r->lru_head = r->lru_tail = CUT_NONE;
    for (r->nbuckets = 64; r->nbuckets < 2 * n; r->nbuckets *= 2)
        ;
    if (!(r->st = calloc(n ? n : 1, sizeof *r->st)) ||
        !(r->bucket = malloc(r->nbuckets * sizeof *r->bucket)) ||
        !(r->defrag = sc_defrag_new())) {
        free(r->st);
        free(r->bucket);
        return -1;
    }
    for (size_t b = 0; b < r->nbuckets; b++)
        r->bucket[b] = CUT_NONE;
    /* Chains in target order, latest first: lookups check frame ranges. */
    for (size_t i = 0; i < n; i++) {
        size_t b = cut_hash(r, t[i].client.family, t[i].client.addr, t[i].client.port,
                            t[i].server.addr, t[i].server.port);
        r->st[i].prev = r->st[i].next = CUT_NONE;
        r->st[i].hnext = r->bucket[b];
        r->bucket[b] = i;
    }
    return 0;
}

int sc_pcapcut_files(const char *const *captures, size_t ncaptures, sc_cut_target *t, size_t n,
                     char *err, size_t errlen)
{
    cut_run r;
    uint64_t lo = UINT64_MAX, hi = 0;
    sc_packet pkt;
    sc_tcpseg h;
    int rc, ret = 0;
    sc_capture *cap;
    const sc_datagram *dg;

    if (n == 0)
        return 0;
    if (!(cap = sc_capture_open_files(captures, ncaptures, NULL, err, errlen)))
        return -1;
    /* Opened again, each file compared with what the analysis read: a name
     * now on another file, or a file written since, would give other
     * packets under the same frame numbers. Nothing is cut from it. */
    for (size_t k = 0; k < ncaptures; k++) {
        char why[160];
        if (sc_capture_changed(captures[k], why, sizeof why)) {
            snprintf(err, errlen, "%s: the capture file changed during the run (%s)",
                     captures[k], why);
            sc_capture_close(cap);
            return -2;
        }
    }
    if (cut_run_init(&r, t, n) < 0) {
        snprintf(err, errlen, "cutting session pcaps: out of memory");
        sc_capture_close(cap);
        return -1;
    }
    r.nano = sc_capture_nanosecond(captures[0]);   /* kept in the files cut */
    for (size_t i = 0; i < n; i++) {
        lo = t[i].first_frame < lo ? t[i].first_frame : lo;
        hi = t[i].last_frame > hi ? t[i].last_frame : hi;
    }
    while ((rc = sc_capture_next(cap, &pkt)) == 1 || rc == -2) {
        if (rc == -2)
            continue;
        if (pkt.frame > hi && ncaptures == 1)
            break;          /* several files: frames grow file by file, not in time */
        /* every fragment from the start: the same datagrams as the analysis */
        switch (sc_defrag_add(r.defrag, &pkt, &dg)) {
        case SC_DEFRAG_NOT:
            if (pkt.frame >= lo && sc_reasm_segment(&pkt, &h) == 0)
                cut_dispatch(&r, &pkt, &h, NULL);
            break;
        case SC_DEFRAG_DONE:
            if (dg->pkt.frame >= lo && sc_reasm_segment(&dg->pkt, &h) == 0)
                cut_dispatch(&r, &dg->pkt, &h, dg);
            break;
        default:
            break;
        }
    }
    if (rc == -1) {
        snprintf(err, errlen, "%s", sc_capture_error(cap));
        ret = -1;
    }
    for (size_t i = 0; i < n; i++)
        sc_cutout_close(r.st[i].out, &t[i]);   /* removes a file cut short */
    free(r.copy);
    sc_defrag_free(r.defrag);
    free(r.st);
    free(r.bucket);
    sc_capture_close(cap);
    return ret;
}

int sc_pcapcut(const char *capture, sc_cut_target *t, size_t n, char *err, size_t errlen)
{
    return sc_pcapcut_files(&capture, 1, t, n, err, errlen);
}
