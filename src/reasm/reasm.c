/*
 * reasm.c - TCP reassembly: libnids, wrapped so that its limits do not
 * reach the analyser.
 *
 * Interface: src/reasm/reasm.h.
 *
 * libnids is set up on a DLT_RAW pcap_open_dead() descriptor and fed at
 * its TCP layer, process_tcp() (reasm_inject): capture.c has already
 * decoded the link layer (libnids knows one VLAN tag and no SLL2). Every
 * TCP segment is rebuilt as an IPv4 packet (segment.c) before libnids
 * sees it. What each libnids limit is,
 * and how it is covered here:
 *
 *  - IPv4 only: IPv6 flows get synthetic addresses from 240.0.0.0/4 (a
 *    pair per connection, from a counter: unique among the last 2^27
 *    connections); sc_conn carries the real ones. Real IPv4 packets from
 *    or to 240.0.0.0/4 (reserved, but captures have them) get a synthetic
 *    pair too, never their own addresses, so no IPv4 flow can take an
 *    IPv6 connection's place in libnids' table.
 *  - Fragments: libnids would put IPv4 fragments together itself, after
 *    everything this wrapper does to a segment (a fragmented segment then
 *    escaped the ordering, overlap and URG rules below, and fragmented
 *    SYNs filled libnids' own tables). So fragments, IPv4 and IPv6, never
 *    reach it: defrag.c puts each datagram together first (bounded,
 *    timed out by capture time, every drop counted by reason:
 *    sc_reasm_frag_counts) and the whole datagram takes the path of a
 *    whole packet, from the segment parser on, with the frame of its last
 *    fragment; the packet hook gets each fragment. What libnids gets
 *    is never a fragment: seg_build_v4 writes a whole packet, and it
 *    goes in below libnids' defragmenter (reasm_inject). With -j every
 *    process reads every fragment and puts the datagrams together; the
 *    one whose share the connection is follows it (sc_reasm_share).
 *  - Segment size: libnids takes a segment's length from the IPv4 total
 *    length, a 16-bit field. Captures on interfaces with segmentation
 *    offload (tcpdump -i lo on Linux: 64 KiB segments) carry segments of
 *    up to 65535 bytes of IP or, with a total length of 0, beyond; each is
 *    handed over as consecutive packets of at most SEG_MAX_PAYLOAD bytes
 *    (reasm_inject_seg), so every byte reaches libnids and no ACK of them
 *    looks like a capture gap.
 *  - Checksums: libnids checks IP header checksums in the layer above
 *    process_tcp, which is not used (the rebuilt header carries none),
 *    and TCP checksums unless told otherwise
 *    (nids_register_chksum_ctl for 0.0.0.0/0: offloaded captures; with
 *    it libnids' my_tcp_check returns at once, about 26 instructions a
 *    packet under callgrind, and no sum is computed).
 *  - Cost per packet: libnids spends about 700 instructions on each
 *    packet it is given at its TCP layer (two hash computations for a
 *    packet from the server, its queue). A bare ACK of an established
 *    stream that sent no FIN changes nothing in it (reasm_nids_ack_only
 *    says why) and is not handed over: about one packet in five on
 *    gateway traffic.
 *  - No SYN, no connection: libnids never sees the real handshake. For
 *    every connection a SYN, SYN/ACK and ACK are synthesised once both
 *    initial sequence numbers are known (from the real SYN/SYN-ACK, or
 *    from the first data packet's seq/ack on a mid-stream capture), with
 *    window scaling at its maximum and no timestamps, so libnids' window
 *    check never drops a segment that was on the wire and its PAWS test
 *    is off. conn->handshake_seen says whether the real one was captured.
 *  - Order: libnids drops a segment wholly before the receiver's last ACK
 *    (bytes captured after the ACK that acknowledges them: span ports,
 *    multi-queue NICs), drops its whole out-of-order queue beyond 64 KiB
 *    (prune_queue: a segment retransmitted after 56 KB of later data lost
 *    58 KB), and cuts a direction never acknowledged at the window. So it
 *    is given segments only in order: a segment that starts beyond what
 *    was delivered of its direction, or that acknowledges bytes of the
 *    other direction not delivered yet (a reply captured before the data
 *    it answers), is held here (reasm_held, a copy) and handed over, in
 *    capture order, once nothing holds it; and the receiver's ACK libnids
 *    knows is set to the point delivered before each segment. The events
 *    therefore come in acknowledgement order: a reply comes after the
 *    bytes it acknowledges. Held bytes carry the frame of the packet that
 *    delivered them. Bounds: REASM_HOLD_MAX bytes and REASM_HOLD_PKTS
 *    segments a connection, REASM_HOLD_BUDGET in all; beyond, the oldest
 *    hole is given up on and its bytes come out as a gap flagged
 *    "dropped by reassembly" (ev->limit), never as missing from the
 *    capture.
 *  - Lost segments: a hole is missing from the capture once the peer
 *    acknowledged it (the sender will not send it again) and either the
 *    sender went on from beyond it and the next packet did not fill it (a
 *    capture may swap two neighbours) or REASM_ACK_SLACK packets of the
 *    connection did not fill it (a capture reorders by a few packets);
 *    at RST, idle expiry and capture end, what is still missing up to the
 *    highest byte seen or acknowledged is too. A filler segment of zeros
 *    is then injected into libnids; its bytes come out as SC_FLOW_GAP,
 *    never as data, before whatever waited for them (ev->peer_at: where
 *    in the other stream the acknowledging packet began). One sequence
 *    number acknowledged beyond all that was seen is taken for a FIN the
 *    capture lacks, not a gap.
 *  - Overlap: libnids keeps the first copy of a byte; a later segment
 *    over the same sequence numbers is a retransmission to it. That is
 *    what a receiver does with bytes it took, not with bytes it did not.
 *    Crafted captures (and broken stacks) send a segment larger than the
 *    receiver's MSS, the receiver acknowledges only its start, and later
 *    segments bring other bytes for the rest: the receiver took those
 *    (its ACKs then follow them piece by piece). The window does not tell
 *    these apart (such segments lie within it: 5 002 and 6 458 octets
 *    against windows of 65 535 in the captures that showed it), the MSS
 *    and the ACKs do: RFC 9293 §3.7.1 forbids a segment larger than the
 *    MSS the receiver announced in its SYN, and by §3.10.7.4 a receiver
 *    acknowledges RCV.NXT, the end of the bytes it took in order. So,
 *    with both SYNs captured with an MSS option and sequence numbers
 *    trusted, an in-order segment (no FIN, no RST) beyond the receiver's
 *    MSS is held as tentative (one held out of order becomes tentative
 *    once it is in order). What the receiver acknowledges of it goes to
 *    libnids, with the segment's own frame, once the capture showed every
 *    byte that ACK covers beyond it, or REASM_ACK_SLACK packets later: an
 *    ACK may be captured ahead of the later copies it acknowledges, or
 *    ahead of the segment itself (the highest ACK seen counts then), so
 *    where the capture shows the ACK does not change the cut. A later
 *    segment of the same direction that brings other bytes for any of
 *    its sequence numbers cuts it there, and its bytes from there on are
 *    not taken: counted in conn->untaken (the session says so), never
 *    delivered (the segments of that direction held out of order when it
 *    comes are later copies too). A later copy with the same bytes
 *    within the MSS is a retransmission: what it covers from the
 *    tentative segment's start goes out at once, with the first copy's
 *    frame; the oversize packet itself captured again says nothing and
 *    its bytes are left out (only its ACK counts); what nobody
 *    acknowledged or contradicted goes out at flush (RST, idle expiry,
 *    capture end, hold limits) as the first copy, as before. Segments
 *    within the MSS, and every segment of a connection whose SYNs lack
 *    the option, are not touched; the large segments of an offload
 *    capture are acknowledged whole and go out whole, at their ACK.
 *  - Sequence numbers rewritten (an anonymiser set them all to 0): the
 *    connection is followed in capture order (reasm_seq_untrusted) and
 *    says so (conn->seq_untrusted).
 *  - FIN/RST: libnids reports neither per side. FINs are followed here and
 *    reported once every byte before them was delivered, with the FIN's
 *    frame, and before the other side's bytes that the FIN's ACK number
 *    does not cover (its sender closed without having read them, even
 *    when the capture shows them first: they acknowledge the FIN and were
 *    held for it); RSTs that libnids accepts are reported with their
 *    sender.
 *  - Memory: the delivered bytes are always discarded at once (no
 *    nids_discard call); libnids queues nothing out of order (see Order).
 *    Connection count: cfg->max_sessions (REASM_NIDS_STREAMS without one),
 *    the least recently active one is evicted (the records of ended ones
 *    are kept for the next, reasm_slab: as many as were open at once);
 *    libnids' own table is sized above that, so libnids never evicts a
 *    stream by itself (it would take the oldest, not the least active,
 *    and the connection would come back as a new mid-stream one at its
 *    next packet). libnids preallocates
 *    that table, 288 bytes a stream (29 MB at the default 100 000),
 *    and links it record by record: its pages are prepared in one go
 *    first (reasm_nids_pool_prepare), not faulted in one by one.
 *  - libnids' receive buffers: add2buf() keeps one buffer per direction
 *    (4 KiB, more after large segments) for the life of the stream, 8 KiB
 *    for every idle session that once carried data. Everything libnids
 *    delivers is consumed at once (count == offset on return), so the
 *    buffer holds nothing between packets, and libnids reallocates it
 *    whenever data is NULL and bufsize 0 (add2buf). The streams that hold
 *    one are kept in delivery order ("hot") and, beyond REASM_NIDS_BUDGET
 *    bytes in all, the least recently fed lose theirs (reasm_nids_trim).
 *    That is done only between two packets, never inside a libnids call:
 *    notify() touches the buffer after our callback returns.
 *  - Port scan detection is disabled, libnids' syslog silenced, and
 *    nids_init/nids_exit pair per sc_reasm so files can follow each other.
 *
 * Diagnostics: sc_reasm_new fails with a reason when libnids cannot start.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/tcp.h>
#include <nids.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "clock.h"
#include "defrag.h"
#include "reasm.h"
#include "segment.h"

#define REASM_ACK_SLACK   8           /* packets a capture may reorder by */
#define REASM_HOLD_MAX    (4u << 20)  /* bytes held back per connection */
#define REASM_HOLD_PKTS   4096        /* segments held back per connection */
#define REASM_HOLD_BUDGET (256u << 20) /* bytes held back in all */
#define REASM_GAP_LIMIT   (1u << 30)  /* an ACK further ahead than this is not believed */
#define REASM_V6_NET      0xf0000000u /* 240.0.0.0/4 */
#define REASM_HASH_MIN    1024
#define REASM_NIDS_BUDGET (4u << 20)  /* libnids receive buffers kept, in all */
#define REASM_NIDS_STREAMS 65536      /* connections followed without --max-sessions */
#define REASM_NIDS_MAX    (1u << 22)  /* and at most, whatever --max-sessions says */
#define REASM_TOMB_SLOTS  4096        /* connections remembered after their end */
#define REASM_TOMB_SECS   120         /* for twice the maximum segment lifetime */

/* A segment held back from libnids (see "Order" in the header comment):
 * its TCP header and payload, copied. */
typedef struct reasm_held reasm_held;
struct reasm_held {
    reasm_held         *next;                  /* capture order */
    uint64_t            frame;
    struct timeval      ts;
    int                 dir;
    uint32_t            seq, ack, len;
    uint8_t             flags;
    bool                tent;                  /* beyond the receiver's MSS: see Overlap */
    unsigned            tcp_len;
    uint8_t             bytes[];               /* TCP header, then payload */
};

typedef struct reasm_conn reasm_conn;

/* Laid out for the per-packet path: with a few hundred connections
 * interleaved, a connection's lines are mostly out of the cache when its
 * next packet comes, so what every packet reads or writes is packed into
 * the first six lines (the public part, whose endpoints the lookup
 * compares, then the links and the stream state of an in-order segment),
 * what libnids' deliveries add just after, and the rest, read when
 * something is held, tentative, missing or closing, comes last. Allocated on a cache line (reasm_conn_new). */
struct reasm_conn {
    _Alignas(64) sc_conn pub;
    /* every packet */
    reasm_conn         *hnext;                 /* hash chain */
    reasm_conn         *lru_prev, *lru_next;   /* by last activity, oldest first */
    struct tcp_stream  *nids;
    reasm_held         *held_head;
    reasm_held         *tent[2];               /* a segment held as tentative (Overlap) */
    uint32_t            next[2];               /* sequence number of the first data byte */
    uint64_t            delivered[2];          /* bytes out, gap filler included */
    struct timeval      last_ts;
    uint32_t            hi[2];                 /* end of the highest byte seen */
    uint32_t            peer_ack[2];           /* highest ACK of the stream from its receiver */
    uint32_t            v4[2];                 /* libnids addresses, client and server */
    uint32_t            tent_len[2];           /* the last tentative one's, as captured */
    bool                est;                   /* handshake given to libnids */
    bool                dead;
    bool                hot;
    bool                known[2];
    bool                fin_seen[2], fin_done[2];
    bool                fin_known[2];          /* a FIN arrived, maybe held */
    bool                gap_pending[2];
    bool                hi_valid[2];
    bool                peer_ackd[2];
    bool                tent_ackd[2];          /* the receiver acknowledged into it: */
    uint16_t            mss[2];                /* from each side's SYN; 0: none seen */
    sc_flow_end         end;
    uint32_t            untaken_at[2];         /* where the later copy took over */
    uint64_t            frame_out;             /* latest frame of a byte out */
    uint64_t            untaken_new[2];        /* not taken, not yet reported */
    uint64_t            filler[2];             /* filler bytes injected, not yet out */
    uint64_t            gap_out[2];            /* filler bytes out, not yet reported */
    uint64_t            beyond_frame[2];       /* the sender went on past the hole here */
    size_t              hot_bytes;             /* its libnids buffers' size when last fed */
    /* every delivery */
    reasm_conn         *hot_prev, *hot_next;   /* holds libnids buffers, by delivery */
    /* the rest */
    reasm_conn         *all_prev, *all_next;   /* by id */
    reasm_conn         *dead_next;             /* libnids ended it during a call */
    uint32_t            tent_ack[2];           /* how far tent_ackd, not applied yet */
    unsigned            tent_wait[2];          /* packets since */
    uint32_t            tent_seq[2], tent_sum[2];  /* the last tentative one, as captured */
    uint32_t            gap_target[2];         /* the peer acknowledged up to here */
    uint64_t            gap_frame[2];          /* frame of that ACK */
    uint64_t            gap_peer[2];           /* offset in the other stream of that ACK */
    unsigned            stall[2];              /* packets since, without progress */
    bool                gap_limit[2];          /* the filler out is a reassembly limit's */
    struct timeval      beyond_ts[2];
    reasm_held         *held_tail;
    size_t              held_bytes;
    unsigned            held_n;
    uint32_t            cap_next[2];           /* seq_untrusted: next byte, capture order */
    uint64_t            cap_dup[2][2];         /* seq_untrusted: hashes of the last two data packets */
    uint32_t            fin_at[2];             /* its sequence number */
    uint32_t            fin_seq[2];
    uint64_t            fin_frame[2];
    uint32_t            fin_ack[2];            /* that FIN's acknowledgement number */
    bool                fin_acks[2];           /* ... when it had the ACK flag */
    struct timeval      fin_ts[2];
    sc_dir              rst_dir;
};

/* Connections are taken from slabs of REASM_SLAB_CONNS, on cache lines,
 * and a freed one is kept for the next (r->spare, most recently freed
 * first: its lines are the likeliest in the cache). The slabs are never
 * given back before sc_reasm_free, so they are as many as the most
 * connections open at once needed. */
#define REASM_SLAB_CONNS 64
typedef struct reasm_slab reasm_slab;
struct reasm_slab {
    reasm_conn          conn[REASM_SLAB_CONNS];
    reasm_slab         *next;
};

/* A connection that ended by FIN or RST, remembered for a while so that a
 * retransmission of its bytes captured after the end (a peer that did not
 * get the last ACK, a span port's late copy) is not a new mid-stream
 * session; a segment that carries bytes beyond the end is one. */
typedef struct reasm_tomb {
    bool                used;
    sc_endpoint         ep[2];                 /* client, server */
    uint32_t            end[2];                /* after the last byte, FIN included */
    time_t              at;
} reasm_tomb;

struct sc_reasm {
    const sc_config    *cfg;
    sc_clock            clock;                 /* idle expiry's time (clock.c) */
    reasm_tomb         *tombs;                 /* REASM_TOMB_SLOTS, made at the first end */
    sc_flow_handler     h;
    sc_defrag          *defrag;                /* IP fragments (defrag.c) */
    int                 share_idx, share_n;    /* -j: this process's share */
    uint64_t            unanalysed[SC_UNANALYSED_MALFORMED + 1]; /* by sc_unanalysed, as read */
    pcap_t             *dead_pcap;
    reasm_conn        **buckets;
    size_t              nbuckets, count;
    reasm_conn         *lru_head, *lru_tail;
    reasm_conn         *all_head, *all_tail;
    reasm_conn         *est_conn;              /* being handed its handshake */
    reasm_conn         *dead;                  /* ended by libnids, to report */
    reasm_conn         *hot_head, *hot_tail;   /* oldest delivery first */
    size_t              hot_bytes;
    size_t              held_bytes;            /* held segments, in all */
    uint64_t            next_id;
    uint64_t            max_conns;             /* evict beyond this many */
    uint32_t            v6_pairs;
    uint64_t            cur_frame;
    struct timeval      cur_ts;
    sc_dir              cur_dir;
    reasm_slab         *slabs;                 /* the newest first */
    size_t              slab_used;             /* connections taken from the newest */
    reasm_conn         *spare;                 /* freed ones, linked by hnext */
    uint8_t             buf[65536];
};

/* libnids is global: the one live sc_reasm, for its callbacks. */
static sc_reasm *reasm_live;
static struct nids_chksum_ctl reasm_no_chksum[1];

/* ---- events ------------------------------------------------------------- */

static uint32_t reasm_exp(const reasm_conn *c, int d)
{
    return c->next[d] + (uint32_t)c->delivered[d];
}

/* The bytes of a first copy not taken are told with the data that
 * reaches the point where the later copy took over: the end of what was
 * taken of the first copy, whether it went out before or after the later
 * copy showed. */
static void reasm_event_send(sc_reasm *r, reasm_conn *c, sc_flow_event *ev)
{
    ev->end = c->end;
    if (ev->kind == SC_FLOW_DATA) {
        if (!seq_before(reasm_exp(c, ev->dir), c->untaken_at[ev->dir])) {
            ev->untaken = c->untaken_new[ev->dir];
            c->untaken_new[ev->dir] = 0;
        }
    } else if (ev->kind == SC_FLOW_CLOSE) {
        ev->untaken = c->untaken_new[0] + c->untaken_new[1];
    }
    if ((ev->kind == SC_FLOW_DATA || ev->kind == SC_FLOW_GAP) && ev->frame > c->frame_out)
        c->frame_out = ev->frame;
    r->h.event(r->h.ctx, &c->pub, ev);
}

static void reasm_event_emit(sc_reasm *r, reasm_conn *c, sc_flow_kind kind, sc_dir dir,
                             const uint8_t *data, size_t len,
                             uint64_t frame, struct timeval ts)
{
    sc_flow_event ev;

    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.dir = dir;
    ev.data = data;
    ev.len = len;
    ev.peer_at = SC_PEER_AT_NONE;
    ev.frame = frame;
    ev.ts = ts;
    reasm_event_send(r, c, &ev);
}

/* The filler bytes out of libnids so far, as one gap: a hole is filled in
 * pieces of at most SEG_MAX_PAYLOAD, and a hole of a gigabyte (an ACK that
 * far ahead, which hostile captures have) must not become 16 000 gaps. */
static void reasm_gap_report(sc_reasm *r, reasm_conn *c, int d)
{
    uint64_t g = c->gap_out[d];
    sc_flow_event ev;

    if (!g)
        return;
    c->gap_out[d] = 0;
    memset(&ev, 0, sizeof ev);
    ev.kind = SC_FLOW_GAP;
    ev.dir = (sc_dir)d;
    ev.gap = g;
    ev.limit = c->gap_limit[d];
    ev.peer_at = c->gap_pending[d] && !c->gap_limit[d] ? c->gap_peer[d] : SC_PEER_AT_NONE;
    ev.frame = r->cur_frame;
    ev.ts = r->cur_ts;
    reasm_event_send(r, c, &ev);
}

/* Bytes libnids delivered for direction d: filler first, then data. */
static void reasm_bytes_deliver(sc_reasm *r, reasm_conn *c, int d, const uint8_t *p, size_t n)
{
    uint64_t f = c->filler[d] < n ? c->filler[d] : n;

    if (f) {
        c->filler[d] -= f;
        c->delivered[d] += f;
        c->gap_out[d] += f;
    }
    if (n > f) {
        reasm_gap_report(r, c, d);
        c->delivered[d] += n - f;
        reasm_event_emit(r, c, SC_FLOW_DATA, (sc_dir)d, p + f, n - f, r->cur_frame, r->cur_ts);
    }
}

/* Whether d's FIN can be reported: everything its sender sent before it
 * is out, and it was not reported yet. */
static bool reasm_fin_ready(const reasm_conn *c, int d)
{
    return c->fin_seen[d] && !c->fin_done[d] && !seq_before(reasm_exp(c, d), c->fin_seq[d]);
}

static void reasm_fin_report(sc_reasm *r, reasm_conn *c, int d)
{
    c->fin_done[d] = true;
    reasm_event_emit(r, c, SC_FLOW_FIN, (sc_dir)d, NULL, 0, c->fin_frame[d], c->fin_ts[d]);
}

/* A FIN is reported when everything its sender sent before it is out.
 * When both are ready at once, the one that acknowledges the other's came
 * after it, whatever the capture's order (an ACK captured ahead of what it
 * acknowledges); otherwise the first captured goes first. */
static void reasm_fins_order(sc_reasm *r, reasm_conn *c)
{
    bool ready[2], acks[2];
    int first;

    for (int d = 0; d < 2; d++)
        ready[d] = reasm_fin_ready(c, d);
    for (int d = 0; d < 2; d++)
        acks[d] = ready[!d] && c->fin_ack[d] == c->fin_seq[!d] + 1;
    if (ready[0] && ready[1] && acks[0] != acks[1])
        first = acks[0] ? 1 : 0;
    else
        first = ready[1] && (!ready[0] || c->fin_frame[1] < c->fin_frame[0]);
    for (int k = 0; k < 2; k++) {
        int d = k ? !first : first;

        if (ready[d])
            reasm_fin_report(r, c, d);
    }
}

/* After every packet: mostly no FIN yet, and then no call. */
static inline void reasm_fins_check(sc_reasm *r, reasm_conn *c)
{
    if (c->fin_seen[0] || c->fin_seen[1])
        reasm_fins_order(r, c);
}

/* ---- libnids' receive buffers ------------------------------------------ */

static void reasm_hot_unlink(sc_reasm *r, reasm_conn *c)
{
    if (!c->hot)
        return;
    if (c->hot_prev) c->hot_prev->hot_next = c->hot_next; else r->hot_head = c->hot_next;
    if (c->hot_next) c->hot_next->hot_prev = c->hot_prev; else r->hot_tail = c->hot_prev;
    c->hot_prev = c->hot_next = NULL;
    r->hot_bytes -= c->hot_bytes;
    c->hot_bytes = 0;
    c->hot = false;
}

static size_t reasm_half_bytes(const struct half_stream *h)
{
    return h->data && h->bufsize > 0 ? (size_t)h->bufsize : 0;
}

/* libnids just delivered to c (from its callback): c's buffers become the
 * most recently used. Nothing is freed here. */
static void reasm_hot_touch(sc_reasm *r, reasm_conn *c, const struct tcp_stream *a)
{
    size_t n = reasm_half_bytes(&a->client) + reasm_half_bytes(&a->server);

    reasm_hot_unlink(r, c);
    if (!n)
        return;
    c->hot = true;
    c->hot_bytes = n;
    c->hot_prev = r->hot_tail;
    if (r->hot_tail) r->hot_tail->hot_next = c; else r->hot_head = c;
    r->hot_tail = c;
    r->hot_bytes += n;
}

/* A direction's buffer, when it holds nothing undelivered. */
static void reasm_half_release(struct half_stream *h)
{
    if (!h->data || h->count != h->offset)
        return;
    free(h->data);
    h->data = NULL;
    h->bufsize = 0;
}

/* Between packets only (see the header): the least recently fed streams
 * give their buffers back until the rest fit the budget. */
static void reasm_nids_trim(sc_reasm *r)
{
    while (r->hot_bytes > REASM_NIDS_BUDGET && r->hot_head) {
        reasm_conn *c = r->hot_head;

        reasm_hot_unlink(r, c);
        if (c->nids) {
            reasm_half_release(&c->nids->client);
            reasm_half_release(&c->nids->server);
        }
    }
}

/* ---- the connection table ---------------------------------------------- */

static uint32_t reasm_ep_hash(const uint8_t *a, int family, uint16_t port)
{
    uint32_t h = 2166136261u;
    size_t n = family == AF_INET6 ? 16 : 4;

    for (size_t i = 0; i < n; i++)
        h = (h ^ a[i]) * 16777619u;
    h = (h ^ (port & 0xff)) * 16777619u;
    h = (h ^ (port >> 8)) * 16777619u;
    return h;
}

/* One endpoint's part of a bucket number, a word at a time: the lookup
 * is on every packet (reasm_ep_hash, octet by octet, stays for the
 * routing of -j and the tombs, whose slots must not move). */
static inline uint32_t reasm_ep_mix(const uint8_t *a, int family, uint16_t port)
{
    uint32_t h = port, w;
    size_t n = family == AF_INET6 ? 16 : 4;

    for (size_t i = 0; i < n; i += 4) {
        memcpy(&w, a + i, 4);
        h = (h ^ w) * 0x9e3779b1u;
        h ^= h >> 15;
    }
    return h;
}

/* Symmetric: both directions of a connection land in the same bucket. */
static inline size_t reasm_bucket(const sc_reasm *r, int family, const uint8_t *a, uint16_t pa,
                           const uint8_t *b, uint16_t pb)
{
    uint32_t h = reasm_ep_mix(a, family, pa) ^ reasm_ep_mix(b, family, pb);

    h *= 0x45d9f3bu;
    h ^= h >> 16;
    return h & (r->nbuckets - 1);
}

/* A TCP segment is followed when one of its ports is an SMTP port
 * (--port), or any with --any-port; sc_reasm_packet and sc_reasm_route
 * must agree. */
static bool reasm_seg_followed(const sc_config *cfg, const seg *s)
{
    return cfg->any_port || sc_config_is_smtp_port(cfg, s->sport) ||
           sc_config_is_smtp_port(cfg, s->dport);
}

/* -j: the process that follows a connection (sc_reasm_route). Symmetric,
 * like the bucket. */
static int reasm_seg_shard(const seg *s, int n)
{
    uint32_t h = reasm_ep_hash(s->src, s->family, s->sport) ^
                 reasm_ep_hash(s->dst, s->family, s->dport);

    h ^= h >> 16;            /* FNV's low bits alone split poorly */
    h *= 0x45d9f3bu;
    h ^= h >> 16;
    return (int)(h % (uint32_t)n);
}

/* Whether ep is address a, port port: on every packet, so the IPv4
 * address (the common case) is compared as one word rather than by a
 * call to memcmp. */
static bool reasm_ep_is(const sc_endpoint *ep, int family, const uint8_t *a, uint16_t port)
{
    uint32_t x, y;

    if (ep->family != family || ep->port != port)
        return false;
    if (family == AF_INET6)
        return memcmp(ep->addr, a, 16) == 0;
    memcpy(&x, ep->addr, 4);
    memcpy(&y, a, 4);
    return x == y;
}

static reasm_conn *reasm_conn_find(sc_reasm *r, const seg *s, sc_dir *dir)
{
    size_t b = reasm_bucket(r, s->family, s->src, s->sport, s->dst, s->dport);

    for (reasm_conn *c = r->buckets[b]; c; c = c->hnext) {
        if (reasm_ep_is(&c->pub.client, s->family, s->src, s->sport) &&
            reasm_ep_is(&c->pub.server, s->family, s->dst, s->dport)) {
            *dir = SC_DIR_C2S;
            return c;
        }
        if (reasm_ep_is(&c->pub.server, s->family, s->src, s->sport) &&
            reasm_ep_is(&c->pub.client, s->family, s->dst, s->dport)) {
            *dir = SC_DIR_S2C;
            return c;
        }
    }
    return NULL;
}

static size_t reasm_conn_bucket(const sc_reasm *r, const reasm_conn *c)
{
    return reasm_bucket(r, c->pub.client.family, c->pub.client.addr, c->pub.client.port,
                        c->pub.server.addr, c->pub.server.port);
}

static void reasm_table_grow(sc_reasm *r)
{
    size_t n = r->nbuckets * 2;
    reasm_conn **nb = calloc(n, sizeof *nb);
    reasm_conn **old = r->buckets;
    size_t oldn = r->nbuckets;

    if (!nb)
        return;                 /* longer chains, still correct */
    r->buckets = nb;
    r->nbuckets = n;
    for (size_t i = 0; i < oldn; i++)
        for (reasm_conn *c = old[i], *nx; c; c = nx) {
            size_t b = reasm_conn_bucket(r, c);
            nx = c->hnext;
            c->hnext = nb[b];
            nb[b] = c;
        }
    free(old);
}

static void reasm_lru_unlink(sc_reasm *r, reasm_conn *c)
{
    if (c->lru_prev) c->lru_prev->lru_next = c->lru_next; else r->lru_head = c->lru_next;
    if (c->lru_next) c->lru_next->lru_prev = c->lru_prev; else r->lru_tail = c->lru_prev;
    c->lru_prev = c->lru_next = NULL;
}

static void reasm_lru_append(sc_reasm *r, reasm_conn *c)
{
    c->lru_prev = r->lru_tail;
    c->lru_next = NULL;
    if (r->lru_tail) r->lru_tail->lru_next = c; else r->lru_head = c;
    r->lru_tail = c;
}

static void reasm_held_drop_all(sc_reasm *r, reasm_conn *c);

/* A zeroed connection from the spares or the slabs; NULL without memory. */
static reasm_conn *reasm_conn_get(sc_reasm *r)
{
    reasm_conn *c = r->spare;

    if (c) {
        r->spare = c->hnext;
    } else {
        if (!r->slabs || r->slab_used == REASM_SLAB_CONNS) {
            reasm_slab *sl = aligned_alloc(_Alignof(reasm_slab), sizeof *sl);

            if (!sl)
                return NULL;
            sl->next = r->slabs;
            r->slabs = sl;
            r->slab_used = 0;
        }
        c = &r->slabs->conn[r->slab_used++];
    }
    memset(c, 0, sizeof *c);
    return c;
}

static void reasm_conn_put(sc_reasm *r, reasm_conn *c)
{
    c->hnext = r->spare;
    r->spare = c;
}

/* Removes c everywhere, lets libnids forget it, frees it. Never called
 * from inside a libnids callback. */
static void reasm_conn_free(sc_reasm *r, reasm_conn *c)
{
    reasm_conn **pp = &r->buckets[reasm_conn_bucket(r, c)];

    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    reasm_lru_unlink(r, c);
    if (c->all_prev) c->all_prev->all_next = c->all_next; else r->all_head = c->all_next;
    if (c->all_next) c->all_next->all_prev = c->all_prev; else r->all_tail = c->all_prev;
    reasm_hot_unlink(r, c);
    reasm_held_drop_all(r, c);
    if (c->nids) {
        c->nids->user = NULL;
        nids_free_tcp_stream(c->nids);
    }
    r->count--;
    reasm_conn_put(r, c);
}

static size_t reasm_tomb_slot(int family, const uint8_t *a, uint16_t pa,
                              const uint8_t *b, uint16_t pb)
{
    return (reasm_ep_hash(a, family, pa) ^ reasm_ep_hash(b, family, pb)) & (REASM_TOMB_SLOTS - 1);
}

static void reasm_tomb_keep(sc_reasm *r, const reasm_conn *c, sc_flow_end end, struct timeval ts)
{
    reasm_tomb *t;

    if ((end != SC_END_RESET && end != SC_END_CLOSED) || !c->est || c->pub.seq_untrusted)
        return;
    if (!r->tombs && !(r->tombs = calloc(REASM_TOMB_SLOTS, sizeof *r->tombs)))
        return;                  /* a late retransmission may then open a session */
    t = &r->tombs[reasm_tomb_slot(c->pub.client.family, c->pub.client.addr, c->pub.client.port,
                                  c->pub.server.addr, c->pub.server.port)];
    t->used = true;
    t->ep[0] = c->pub.client;
    t->ep[1] = c->pub.server;
    for (int d = 0; d < 2; d++) {
        t->end[d] = reasm_exp(c, d);
        if (c->hi_valid[d] && seq_after(c->hi[d], t->end[d]))
            t->end[d] = c->hi[d];
        if (c->fin_known[d] && seq_after(c->fin_at[d] + 1, t->end[d]))
            t->end[d] = c->fin_at[d] + 1;
    }
    t->at = ts.tv_sec;
}

/* Whether s only repeats bytes of a connection that ended lately. */
static bool reasm_tomb_repeat(const sc_reasm *r, const seg *s, time_t now)
{
    const reasm_tomb *t;
    int d;

    if (!r->tombs)
        return false;
    t = &r->tombs[reasm_tomb_slot(s->family, s->src, s->sport, s->dst, s->dport)];
    if (!t->used || now - t->at > REASM_TOMB_SECS || now < t->at)
        return false;
    if (reasm_ep_is(&t->ep[0], s->family, s->src, s->sport) &&
        reasm_ep_is(&t->ep[1], s->family, s->dst, s->dport))
        d = 0;
    else if (reasm_ep_is(&t->ep[1], s->family, s->src, s->sport) &&
             reasm_ep_is(&t->ep[0], s->family, s->dst, s->dport))
        d = 1;
    else
        return false;
    return !seq_after(s->seq + s->len + ((s->flags & SEG_FIN) != 0), t->end[d]);
}

static void reasm_conn_end(sc_reasm *r, reasm_conn *c, sc_flow_end end,
                           uint64_t frame, struct timeval ts)
{
    reasm_tomb_keep(r, c, end, ts);
    c->end = end;
    reasm_event_emit(r, c, SC_FLOW_CLOSE, SC_DIR_C2S, NULL, 0, frame, ts);
    reasm_conn_free(r, c);
}

/* ---- talking to libnids ------------------------------------------------- */

/* libnids' TCP layer, exported by libnids 1.26 but not declared in
 * nids.h: nids_pcap_handler() ends in it for every TCP packet. */
extern void process_tcp(u_char *data, int skblen);

/* A packet seg_build_v4() wrote, straight to libnids' TCP layer. What
 * nids_pcap_handler() would do first is all settled for these packets:
 * the link header (none: DLT_RAW), the IPv4 header checks (a fresh
 * 20-byte header), the ip_filter (never a
 * fragment), the defragmenter (nothing to put together) and the TCP
 * timeouts (tcp_workarounds off); about 280 instructions a packet. What
 * it leaves behind is done here: the capture header process_tcp reads
 * its times from, and the buffer size it charges to a stream's queue,
 * computed as gen_ip_frag_proc() does (so its 64 KiB queue limit falls
 * where it did). */
static void reasm_inject(sc_reasm *r, size_t len)
{
    struct pcap_pkthdr hdr;
    int skblen = (int)len + 16 + nids_params.dev_addon;

    hdr.ts = r->cur_ts;
    hdr.caplen = hdr.len = (bpf_u_int32)len;
    nids_last_pcap_header = &hdr;
    nids_last_pcap_data = r->buf;
    process_tcp(r->buf, ((skblen + 15) & ~15) + nids_params.sk_buff_size);
    nids_last_pcap_header = NULL;
    nids_last_pcap_data = NULL;
}

/* One segment of direction d to libnids. A segment larger than an IPv4
 * packet can carry (offload: up to 64 KiB and beyond) goes as several
 * packets of consecutive sequence ranges, in order, all with this frame
 * number; FIN, RST and PSH ride on the last one only, as they belong
 * after the last byte. */
static void reasm_inject_seg(sc_reasm *r, reasm_conn *c, int d, const seg *s)
{
    uint16_t sp = d == SC_DIR_C2S ? c->pub.client.port : c->pub.server.port;
    uint16_t dp = d == SC_DIR_C2S ? c->pub.server.port : c->pub.client.port;
    uint32_t seq = s->seq, len = s->len;
    const uint8_t *payload = s->payload;

    for (;;) {
        uint32_t n = len > SEG_MAX_PAYLOAD ? SEG_MAX_PAYLOAD : len;
        uint8_t f = n < len ? (uint8_t)(s->flags & ~(SEG_FIN | SEG_RST | SEG_PSH)) : s->flags;

        reasm_inject(r, seg_build_v4(r->buf, c->v4[d], c->v4[!d], sp, dp, s->tcp, s->tcp_len,
                                     seq, s->ack, f, payload, n));
        len -= n;
        /* libnids may have ended the connection on the way. */
        if (!len || !c->nids || c->dead)
            return;
        seq += n;
        if (payload)
            payload += n;
    }
}

/* SYN with the largest window scale, no timestamps. */
static void reasm_handshake_inject(sc_reasm *r, reasm_conn *c)
{
    static const uint8_t syn_hdr[24] = {
        [12] = 6 << 4, [20] = 1, [21] = 3, [22] = 3, [23] = 14  /* NOP, WSCALE 14 */
    };
    uint32_t cn = c->next[SC_DIR_C2S], sn = c->next[SC_DIR_S2C];
    const seg hs[3] = {
        { .tcp = syn_hdr, .tcp_len = 24, .seq = cn - 1, .ack = 0, .flags = SEG_SYN },
        { .tcp = syn_hdr, .tcp_len = 24, .seq = sn - 1, .ack = cn, .flags = SEG_SYN | SEG_ACK },
        { .tcp = NULL, .tcp_len = 0, .seq = cn, .ack = sn, .flags = SEG_ACK },
    };

    c->est = true;
    c->pub.stream_base[SC_DIR_C2S] = cn;
    c->pub.stream_base[SC_DIR_S2C] = sn;
    r->est_conn = c;
    reasm_inject_seg(r, c, SC_DIR_C2S, &hs[0]);
    reasm_inject_seg(r, c, SC_DIR_S2C, &hs[1]);
    reasm_inject_seg(r, c, SC_DIR_C2S, &hs[2]);
    r->est_conn = NULL;
}

/* ---- segments held back ------------------------------------------------ */

/* Where in o's stream an ACK from the other side says o's bytes reach,
 * when that is beyond what was delivered of o; exp otherwise. */
static uint32_t reasm_ack_target(const reasm_conn *c, int o, uint32_t ack, uint8_t flags)
{
    uint32_t exp = reasm_exp(c, o);

    if (!(flags & SEG_ACK) || !seq_after(ack, exp) || ack - exp > REASM_GAP_LIMIT)
        return exp;
    if (c->fin_known[o] && ack == c->fin_at[o] + 1)
        return c->fin_at[o];                 /* the FIN takes a sequence number */
    return ack;
}

/* One sequence number acknowledged beyond all that o sent: most likely a
 * FIN the capture does not have, not a byte. Whatever waited for it goes
 * on after the slack, without a gap. */
static bool reasm_fin_like(const reasm_conn *c, int o, uint32_t target)
{
    uint32_t exp = reasm_exp(c, o);

    return !c->fin_known[o] && target - exp == 1 &&
           (!c->hi_valid[o] || !seq_after(c->hi[o], exp));
}

/* How far the peer acknowledged d: a FIN captured after its ACK takes
 * the last sequence number, not a byte. */
static uint32_t reasm_gap_target(const reasm_conn *c, int d)
{
    if (c->fin_known[d] && c->gap_target[d] == c->fin_at[d] + 1)
        return c->fin_at[d];
    return c->gap_target[d];
}

typedef enum reasm_block { BLOCK_NONE, BLOCK_SEQ, BLOCK_ACK } reasm_block;

/* What keeps a segment of direction d from libnids: bytes of its own
 * direction before it not yet delivered, or bytes of the other direction
 * that it acknowledges not yet delivered. A segment carrying nothing is
 * never held (only its ACK matters, and reasm_ack_note has it). */
static inline reasm_block reasm_block_of(const reasm_conn *c, int d, uint32_t seq, uint32_t ack,
                                  uint8_t flags, uint32_t len)
{
    if (!len && !(flags & SEG_FIN))
        return BLOCK_NONE;
    if (seq_after(seq, reasm_exp(c, d)))
        return BLOCK_SEQ;
    if (seq_after(reasm_ack_target(c, !d, ack, flags), reasm_exp(c, !d)))
        return BLOCK_ACK;
    return BLOCK_NONE;
}

static reasm_held *reasm_held_hold(sc_reasm *r, reasm_conn *c, const sc_packet *pkt, int d,
                                   const seg *s)
{
    reasm_held *h = malloc(sizeof *h + s->tcp_len + s->len);

    if (!h)
        return NULL;             /* its bytes come out as a gap */
    h->next = NULL;
    h->tent = false;
    h->frame = pkt->frame;
    h->ts = pkt->ts;
    h->dir = d;
    h->seq = s->seq;
    h->ack = s->ack;
    h->len = s->len;
    h->flags = s->flags;
    h->tcp_len = s->tcp_len;
    memcpy(h->bytes, s->tcp, s->tcp_len);
    memcpy(h->bytes + s->tcp_len, s->payload, s->len);
    if (c->held_tail) c->held_tail->next = h; else c->held_head = h;
    c->held_tail = h;
    c->held_n++;
    c->held_bytes += s->len + s->tcp_len;
    r->held_bytes += s->len + s->tcp_len;
    return h;
}

static void reasm_held_unlink(sc_reasm *r, reasm_conn *c, reasm_held **pp, reasm_held *prev)
{
    reasm_held *h = *pp;

    *pp = h->next;
    if (c->held_tail == h)
        c->held_tail = prev;
    if (c->tent[h->dir] == h) {
        c->tent[h->dir] = NULL;
        c->tent_ackd[h->dir] = false;
    }
    c->held_n--;
    c->held_bytes -= h->len + h->tcp_len;
    r->held_bytes -= h->len + h->tcp_len;
}

static void reasm_held_drop_all(sc_reasm *r, reasm_conn *c)
{
    while (c->held_head) {
        reasm_held *h = c->held_head;
        reasm_held_unlink(r, c, &c->held_head, NULL);
        free(h);
    }
}

/* Whether libnids can be spared a bare ACK (no byte, no SYN, FIN or
 * RST): it changes nothing there while both sides are established (no
 * FIN sent: an ACK then confirms it and may close the stream), the
 * stream has its listener, and the receiver's queue is under libnids'
 * prune threshold (it always is: nothing is queued, see Order). All
 * process_tcp() does with such an ACK then is raise the sender's ack_seq,
 * which it reads only when that side receives, and reasm_seg_feed sets
 * it before every such segment; and record the window, 0xffff in every
 * packet built here. About one packet in five on a busy gateway is one. */
static bool reasm_nids_ack_only(const reasm_conn *c, int d, uint8_t flags, uint32_t len)
{
    const struct tcp_stream *a = c->nids;
    const struct half_stream *rcv = d == SC_DIR_C2S ? &a->server : &a->client;

    return !len && (flags & (SEG_SYN | SEG_FIN | SEG_RST | SEG_ACK)) == SEG_ACK &&
           a->nids_state == NIDS_DATA && a->listeners &&
           a->client.state == TCP_ESTABLISHED && a->server.state == TCP_ESTABLISHED &&
           rcv->rmem_alloc <= 65535;
}

/* One segment of direction d to libnids, as of now. libnids drops a
 * segment that ends before the receiver's last ACK and one beyond that ACK
 * plus the window: the receiver's ACK it knows is always the point
 * delivered, so that bytes captured after their ACK still go in (they are
 * in order: everything out of order is held here), and a direction never
 * acknowledged is not cut at the window (1 GiB with the synthetic scale). */
static void reasm_seg_feed(sc_reasm *r, reasm_conn *c, int d, const seg *s, uint64_t frame,
                           const struct timeval *ts)
{
    struct half_stream *rcv;
    uint32_t seq = s->seq, len = s->len, end = seq + len;
    const uint8_t *payload = s->payload;

    if (!c->nids || c->dead)
        return;
    if (len && reasm_fin_ready(c, !d) && c->fin_acks[!d] && seq_after(end, c->fin_ack[!d])) {
        /* The other side's FIN is out of libnids and did not acknowledge
         * these bytes: its sender closed before it read them, whatever
         * order the capture shows (a segment held because it acknowledges
         * that FIN is released by it). The FIN goes first; what it did
         * acknowledge of this segment before it. */
        if (seq_after(c->fin_ack[!d], seq)) {
            seg part = *s;
            uint32_t n = c->fin_ack[!d] - seq;

            part.flags = (uint8_t)(s->flags & ~(SEG_FIN | SEG_RST | SEG_PSH));
            part.len = n;
            reasm_seg_feed(r, c, d, &part, frame, ts);
            if (!c->nids || c->dead)
                return;
            seq += n;
            len -= n;
            if (payload)
                payload += n;
        }
        reasm_fin_report(r, c, !d);
    }
    if ((s->flags & SEG_FIN) && !c->fin_seen[d] && !seq_before(end, reasm_exp(c, d))) {
        c->fin_seen[d] = true;
        c->fin_seq[d] = end;
        c->fin_frame[d] = frame;
        c->fin_ts[d] = *ts;
        c->fin_acks[d] = (s->flags & SEG_ACK) != 0;
        c->fin_ack[d] = s->flags & SEG_ACK ? s->ack : seq;   /* seq: acknowledges no FIN */
    }
    if (reasm_nids_ack_only(c, d, s->flags, len))
        return;
    rcv = d == SC_DIR_C2S ? &c->nids->server : &c->nids->client;
    rcv->ack_seq = reasm_exp(c, d);
    if (seq != s->seq) {                /* the part after the other side's FIN */
        seg rest = *s;

        rest.seq = seq;
        rest.payload = payload;
        rest.len = len;
        reasm_inject_seg(r, c, d, &rest);
    } else {
        reasm_inject_seg(r, c, d, s);
    }
}

/* A held segment as reasm_seg_feed takes it: len of its bytes, flags. */
static seg reasm_held_seg(const reasm_held *h, uint8_t flags, uint32_t len)
{
    seg s = { .tcp = h->bytes, .tcp_len = h->tcp_len, .seq = h->seq, .ack = h->ack,
              .flags = flags, .payload = h->bytes + h->tcp_len, .len = len };

    return s;
}

/* The frame and time a held segment's bytes come out with: its own, or
 * that of the latest byte already out when that is later (the packet that
 * delivered them: events stay in wire order). */
static void reasm_held_clock(sc_reasm *r, const reasm_conn *c, const reasm_held *h)
{
    if (h->frame >= c->frame_out) {
        r->cur_frame = h->frame;
        r->cur_ts = h->ts;
    } else if (r->cur_frame < c->frame_out) {
        r->cur_frame = c->frame_out;
    }
}

static bool reasm_tent_wanted(const reasm_conn *c, int d, uint32_t len, uint8_t flags);
static void reasm_tent_begin(sc_reasm *r, reasm_conn *c, int d, reasm_held *h);

/* Hands libnids every held segment nothing holds any more, in capture
 * order (see reasm_held_clock for their frames; a FIN keeps its own).
 * A segment beyond the receiver's MSS that was held out of order becomes
 * tentative now that it is in order, as if it had been captured in order
 * (see Overlap). force: the ACK no longer holds anything (the capture is
 * over for this connection). */
static void reasm_held_let_go(sc_reasm *r, reasm_conn *c, bool force)
{
    uint64_t frame = r->cur_frame;
    struct timeval ts = r->cur_ts;
    bool again = true;

    while (again && c->held_head && c->nids && !c->dead) {
        reasm_held **pp = &c->held_head, *h, *prev = NULL;

        again = false;
        for (; (h = *pp) != NULL; prev = h, pp = &h->next) {
            reasm_block b = reasm_block_of(c, h->dir, h->seq, h->ack, h->flags, h->len);
            if (b == BLOCK_SEQ || ((b == BLOCK_ACK || h->tent) && !force))
                continue;
            if (!force && reasm_tent_wanted(c, h->dir, h->len, h->flags)) {
                reasm_tent_begin(r, c, h->dir, h);
                again = true;
                break;
            }
            reasm_held_unlink(r, c, pp, prev);
            reasm_held_clock(r, c, h);
            seg hs = reasm_held_seg(h, h->flags, h->len);

            reasm_seg_feed(r, c, h->dir, &hs, h->frame, &h->ts);
            free(h);
            again = true;
            break;
        }
    }
    r->cur_frame = frame;
    r->cur_ts = ts;
}

/* After every packet: mostly nothing held, and then no call. */
static inline void reasm_held_release(sc_reasm *r, reasm_conn *c, bool force)
{
    if (c->held_head)
        reasm_held_let_go(r, c, force);
}

/* ---- overlapping copies (see Overlap in the header comment) ----------- */

/* The MSS option of a SYN; 0 without one. */
static uint16_t reasm_syn_mss(const seg *s)
{
    const uint8_t *o = s->tcp + 20, *end = s->tcp + s->tcp_len;

    while (o < end && *o != 0) {
        if (*o == 1) {                       /* NOP */
            o++;
            continue;
        }
        if (end - o < 2 || o[1] < 2 || o[1] > end - o)
            return 0;
        if (o[0] == 2 && o[1] == 4)
            return (uint16_t)(o[2] << 8 | o[3]);
        o += o[1];
    }
    return 0;
}

/* A segment of d that the receiver's MSS says no receiver was sent as
 * one piece, in order, with both SYNs seen: held as tentative. */
static bool reasm_tent_wanted(const reasm_conn *c, int d, uint32_t len, uint8_t flags)
{
    return c->mss[0] && c->mss[1] && len > c->mss[!d] && !c->tent[d] &&
           !c->pub.seq_untrusted && !(flags & (SEG_FIN | SEG_RST));
}

static uint32_t reasm_tent_hash(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;                /* FNV-1a: a duplicate check only */

    while (n--)
        h = (h ^ *p++) * 16777619u;
    return h;
}

/* The last segment held as tentative captured again (a capture's
 * duplicate, a retransmission of the same oversize packet): it says
 * nothing about what the receiver took, and its bytes are left out. */
static bool reasm_tent_again(reasm_conn *c, int d, const seg *s)
{
    return s->len && c->tent_len[d] == s->len && c->tent_seq[d] == s->seq &&
           c->tent_sum[d] == reasm_tent_hash(s->payload, s->len);
}

static void reasm_tent_start(reasm_conn *c, int d, reasm_held *h)
{
    h->tent = true;
    c->tent[d] = h;
    c->tent_seq[d] = h->seq;
    c->tent_len[d] = h->len;
    c->tent_sum[d] = reasm_tent_hash(h->bytes + h->tcp_len, h->len);
}

/* Shortens the tentative segment of d to its first keep bytes. */
static void reasm_tent_cut(sc_reasm *r, reasm_conn *c, int d, uint32_t keep)
{
    reasm_held *t = c->tent[d];
    uint32_t n = t->len - keep;

    t->len = keep;
    c->held_bytes -= n;
    r->held_bytes -= n;
    if (!keep) {
        reasm_held **pp = &c->held_head, *prev = NULL;

        while (*pp != t) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        reasm_held_unlink(r, c, pp, prev);
        free(t);
    }
}

/* The bytes of o's tentative segment up to upto go to libnids now. */
static void reasm_tent_take(sc_reasm *r, reasm_conn *c, int o, uint32_t upto)
{
    reasm_held *t = c->tent[o];
    uint64_t frame = r->cur_frame;
    struct timeval ts = r->cur_ts;
    uint32_t n;
    seg ts_seg;

    if (!t || !seq_after(upto, t->seq))
        return;
    n = seq_before(upto, t->seq + t->len) ? upto - t->seq : t->len;
    reasm_held_clock(r, c, t);
    ts_seg = reasm_held_seg(t, t->flags & SEG_ACK, n);
    reasm_seg_feed(r, c, o, &ts_seg, t->frame, &t->ts);
    r->cur_frame = frame;
    r->cur_ts = ts;
    if (c->tent[o] != t)
        return;                              /* libnids ended the connection */
    memmove(t->bytes + t->tcp_len, t->bytes + t->tcp_len + n, t->len - n);
    t->seq += n;
    reasm_tent_cut(r, c, o, t->len - n);
}

/* The receiver's ACK (a packet of d) of the other direction: what it
 * acknowledges of a tentative segment is what it took, from that copy up
 * to where a later copy begins. Which later copies there are is known
 * once the capture showed every byte the ACK covers beyond the first
 * copy's part (an ACK may be captured ahead of the later copies it
 * acknowledges, and two of them may be swapped), so the ACK is noted
 * here and applied by reasm_tent_decide. The highest ACK is kept for a
 * tentative segment captured after it. */
static void reasm_tent_ack(reasm_conn *c, int d, const seg *s)
{
    int o = !d;
    reasm_held *t = c->tent[o];

    if (!(s->flags & SEG_ACK))
        return;
    if (!c->peer_ackd[o] || seq_after(s->ack, c->peer_ack[o])) {
        c->peer_ackd[o] = true;
        c->peer_ack[o] = s->ack;
    }
    if (t && seq_after(s->ack, t->seq) && (!c->tent_ackd[o] || seq_after(s->ack, c->tent_ack[o]))) {
        if (!c->tent_ackd[o])
            c->tent_wait[o] = 0;
        c->tent_ackd[o] = true;
        c->tent_ack[o] = s->ack;
    }
}

/* Whether held segments of d other than its tentative one hold every
 * byte from from to to. Bounded passes: beyond, the slack decides. */
static bool reasm_held_cover(const reasm_conn *c, int d, uint32_t from, uint32_t to)
{
    for (int pass = 0; pass < 64 && seq_before(from, to); pass++) {
        uint32_t was = from;

        for (const reasm_held *h = c->held_head; h; h = h->next)
            if (h->dir == d && h != c->tent[d] && h->len && !seq_after(h->seq, from) &&
                seq_after(h->seq + h->len, from))
                from = h->seq + h->len;
        if (from == was)
            break;
    }
    return !seq_before(from, to);
}

/* Applies the receiver's noted ACK to d's tentative segment once the
 * capture showed every byte it covers beyond the tentative one (later
 * copies cut it where they begin, reasm_tent_clash), or after
 * REASM_ACK_SLACK packets (a capture reorders by a few packets). Called
 * once a packet. */
static void reasm_tent_decide(sc_reasm *r, reasm_conn *c, int d)
{
    reasm_held *t = c->tent[d];
    uint32_t ack, end;

    if (!c->tent_ackd[d] || !t) {
        c->tent_ackd[d] = false;
        return;
    }
    ack = c->tent_ack[d];
    end = t->seq + t->len;
    if (c->fin_known[d] && ack == c->fin_at[d] + 1)
        ack = c->fin_at[d];                  /* the FIN takes a sequence number */
    if (++c->tent_wait[d] <= REASM_ACK_SLACK &&
        (seq_before(ack, end) || !reasm_held_cover(c, d, end, ack)))
        return;
    c->tent_ackd[d] = false;
    reasm_tent_take(r, c, d, c->tent_ack[d]);
}

/* Another segment of d (seq, len bytes at p) that brings other bytes for
 * sequence numbers of d's tentative segment: from there on, that copy is
 * what the receiver took; the rest of the tentative one is counted, not
 * taken. */
static void reasm_tent_clash(sc_reasm *r, reasm_conn *c, int d, uint32_t seq,
                             const uint8_t *p, uint32_t len)
{
    reasm_held *t = c->tent[d];
    uint32_t lo, hi;

    if (!t || t->len == 0 || !len)
        return;
    lo = seq_after(seq, t->seq) ? seq : t->seq;
    hi = seq_before(seq + len, t->seq + t->len) ? seq + len : t->seq + t->len;
    if (!seq_before(lo, hi))
        return;
    if (!memcmp(p + (lo - seq), t->bytes + t->tcp_len + (lo - t->seq), hi - lo)) {
        /* The same bytes again in a segment within the MSS (a real
         * retransmission, not the same oversize packet twice): from the
         * start, they are what was sent; out with the first copy's frame. */
        if (lo == t->seq && len <= c->mss[!d])
            reasm_tent_take(r, c, d, hi);
        return;
    }
    c->pub.untaken[d] += t->seq + t->len - lo;
    c->untaken_new[d] += t->seq + t->len - lo;
    c->untaken_at[d] = lo;
    if (c->hi_valid[d] && c->hi[d] == t->seq + t->len)
        c->hi[d] = lo;
    reasm_tent_cut(r, c, d, lo - t->seq);
}

/* h, held, in order and beyond the receiver's MSS, becomes d's tentative
 * segment. Segments of d held before it over its sequence numbers are
 * later copies; the receiver's highest ACK already seen counts as one
 * that comes now. */
static void reasm_tent_begin(sc_reasm *r, reasm_conn *c, int d, reasm_held *h)
{
    reasm_tent_start(c, d, h);
    for (reasm_held *o = c->held_head; o && c->tent[d]; o = o->next)
        if (o != h && o->dir == d)
            reasm_tent_clash(r, c, d, o->seq, o->bytes + o->tcp_len, o->len);
    if (c->tent[d] && c->peer_ackd[d] && seq_after(c->peer_ack[d], c->tent[d]->seq)) {
        c->tent_ackd[d] = true;
        c->tent_ack[d] = c->peer_ack[d];
        c->tent_wait[d] = 0;
    }
}

/* Where filling direction d from exp must stop: the first held byte of d
 * at or after exp (those are real bytes, not to be overwritten). */
static uint32_t reasm_fill_bound(const reasm_conn *c, int d, uint32_t exp, uint32_t limit)
{
    for (const reasm_held *h = c->held_head; h; h = h->next) {
        uint32_t start;

        if (h->dir != d || !h->len || !seq_after(h->seq + h->len, exp))
            continue;
        start = seq_after(h->seq, exp) ? h->seq : exp;
        if (seq_before(start, limit))
            limit = start;
    }
    return limit;
}

/* Pushes direction d past missing bytes up to target with zero fillers,
 * releasing what was held behind them on the way. limit: the bytes are
 * given up on because of a reassembly limit, not known to be missing. */
static void reasm_gap_fill(sc_reasm *r, reasm_conn *c, int d, uint32_t target, bool limit, bool force)
{
    seg fill = { .tcp = NULL, .payload = NULL };   /* no header, no flags, zeros */

    c->gap_limit[d] = limit;
    while (c->nids && !c->dead) {
        uint32_t exp = reasm_exp(c, d);
        uint32_t end, len;

        if (!seq_before(exp, target) || target - exp > REASM_GAP_LIMIT)
            break;
        end = reasm_fill_bound(c, d, exp, target);
        if (end == exp) {
            /* a held segment starts here; only the ACK holds it */
            reasm_held_release(r, c, force);
            if (reasm_exp(c, d) == exp)
                break;
            continue;
        }
        if (end - exp > SEG_MAX_PAYLOAD) {
            /* A long hole: all but its last piece is skipped by moving
             * libnids' expected sequence number (EXP_SEQ is the sender's
             * first_data_seq plus the bytes counted), not filled, so a
             * hostile ACK a gigabyte ahead costs one piece, not 16 000.
             * Nothing libnids holds lies inside: it is given nothing out
             * of order. */
            struct half_stream *snd = d == SC_DIR_C2S ? &c->nids->client : &c->nids->server;
            uint32_t skip = end - exp - SEG_MAX_PAYLOAD;
            snd->first_data_seq += skip;
            c->delivered[d] += skip;
            c->gap_out[d] += skip;
            exp += skip;
        }
        len = end - exp;
        c->filler[d] += len;
        fill.seq = exp;
        fill.len = len;
        reasm_seg_feed(r, c, d, &fill, r->cur_frame, &r->cur_ts);
        if (reasm_exp(c, d) == exp) {       /* refused: give up, never loop */
            c->filler[d] = 0;
            break;
        }
        reasm_gap_report(r, c, d);
        reasm_held_release(r, c, force);
    }
    reasm_gap_report(r, c, d);
    c->gap_limit[d] = false;
}

static void reasm_acked_give_up(sc_reasm *r, reasm_conn *c, int g);

/* Everything seen or acknowledged of both directions is pushed out. */
static void reasm_flush(sc_reasm *r, reasm_conn *c)
{
    for (int round = 0; round < 4 && c->nids && !c->dead; round++) {
        for (int d = 0; d < 2; d++)
            if (c->gap_pending[d])
                reasm_acked_give_up(r, c, d);
        for (int d = 0; d < 2; d++) {
            uint32_t target = reasm_exp(c, d);

            if (c->hi_valid[d] && seq_after(c->hi[d], target))
                target = c->hi[d];
            if (c->gap_pending[d] && seq_after(reasm_gap_target(c, d), target) &&
                !reasm_fin_like(c, d, reasm_gap_target(c, d)))
                target = reasm_gap_target(c, d);
            reasm_gap_fill(r, c, d, target, false, true);
            c->gap_pending[d] = false;
        }
        reasm_held_release(r, c, true);
        if (!c->held_head)
            break;
    }
    reasm_held_drop_all(r, c);
    reasm_fins_check(r, c);
}

/* The libnids TCP callback. */
static void reasm_nids_tcp(struct tcp_stream *a, void **param)
{
    sc_reasm *r = reasm_live;
    reasm_conn *c = a->user;

    (void)param;
    if (!r)
        return;
    switch (a->nids_state) {
    case NIDS_JUST_EST:
        c = r->est_conn;
        if (!c)
            return;          /* not ours (cannot happen: we synthesise every SYN) */
        a->user = c;
        c->nids = a;
        a->client.collect++;
        a->server.collect++;
        return;
    case NIDS_DATA:
        if (!c)
            return;
        if (a->server.count_new > 0)
            reasm_bytes_deliver(r, c, SC_DIR_C2S, (const uint8_t *)a->server.data,
                                (size_t)a->server.count_new);
        if (a->client.count_new > 0)
            reasm_bytes_deliver(r, c, SC_DIR_S2C, (const uint8_t *)a->client.data,
                                (size_t)a->client.count_new);
        if (c->nids == a)
            reasm_hot_touch(r, c, a);
        return;
    case NIDS_CLOSE:
    case NIDS_RESET:
    case NIDS_TIMED_OUT:
        if (!c || c->dead)
            return;
        a->user = NULL;
        c->nids = NULL;          /* libnids frees the stream on return */
        reasm_hot_unlink(r, c);
        c->dead = true;
        c->end = a->nids_state == NIDS_CLOSE ? SC_END_CLOSED
               : a->nids_state == NIDS_RESET ? SC_END_RESET : SC_END_EVICTED;
        c->rst_dir = r->cur_dir;
        c->dead_next = r->dead;
        r->dead = c;
        return;
    default:                     /* NIDS_EXITING: our connections are gone */
        if (c) {
            c->nids = NULL;
            reasm_hot_unlink(r, c);
        }
        a->user = NULL;
        return;
    }
}

/* Connections libnids ended during the last packet. */
static void reasm_dead_report_all(sc_reasm *r)
{
    while (r->dead) {
        reasm_conn *c = r->dead;

        r->dead = c->dead_next;
        reasm_fins_check(r, c);
        if (c->end == SC_END_RESET)
            reasm_event_emit(r, c, SC_FLOW_RST, c->rst_dir, NULL, 0, r->cur_frame, r->cur_ts);
        reasm_conn_end(r, c, c->end, r->cur_frame, r->cur_ts);
    }
}

/* After every packet: mostly none, and then no call. */
static inline void reasm_dead_report(sc_reasm *r)
{
    if (r->dead)
        reasm_dead_report_all(r);
}

static void reasm_nids_log(int type, int err, void *ip, void *data)
{
    (void)type; (void)err; (void)ip; (void)data;   /* counted nowhere: libnids is told little */
}

static void reasm_nids_nomem(char *where)
{
    fprintf(stderr, "smtpscope: out of memory in libnids (%s)\n", where);
    abort();
}

/* ---- connections -------------------------------------------------------- */

static void reasm_ep_set(sc_endpoint *ep, int family, const uint8_t *a, uint16_t port)
{
    memset(ep, 0, sizeof *ep);
    ep->family = family;
    memcpy(ep->addr, a, family == AF_INET6 ? 16 : 4);
    ep->port = port;
}

/* A connection's time for idle expiry: its packet's, except that a packet
 * stamped far behind the clock (sc_reasm_clock) counts at the clock's
 * time, so that it does not expire its connection at once. One stamped
 * far ahead keeps its own: it may be the first of a real jump (clock.c);
 * if it stays alone, sc_reasm_expire restamps its connection. */
static struct timeval reasm_idle_ts(const sc_reasm *r, const sc_packet *pkt)
{
    unsigned idle = r->cfg->idle_timeout;

    if (idle && r->clock.set && pkt->ts.tv_sec < r->clock.now.tv_sec - (time_t)idle)
        return r->clock.now;
    return pkt->ts;
}

/* The client of a connection seen without its SYN: the peer whose port is
 * not an SMTP port; when both or neither are, the higher (ephemeral) port. */
static bool reasm_src_is_client(const sc_reasm *r, const seg *s)
{
    bool ssmtp = sc_config_is_smtp_port(r->cfg, s->sport);
    bool dsmtp = sc_config_is_smtp_port(r->cfg, s->dport);

    if (dsmtp != ssmtp)
        return dsmtp;
    return s->sport >= s->dport;
}

static reasm_conn *reasm_conn_new(sc_reasm *r, const seg *s, bool src_client, const sc_packet *pkt)
{
    reasm_conn *c;
    size_t b;

    while (r->count >= r->max_conns && r->lru_head)
        reasm_conn_end(r, r->lru_head, SC_END_EVICTED, pkt->frame, pkt->ts);
    c = reasm_conn_get(r);
    if (!c)
        return NULL;
    if (src_client) {
        reasm_ep_set(&c->pub.client, s->family, s->src, s->sport);
        reasm_ep_set(&c->pub.server, s->family, s->dst, s->dport);
    } else {
        reasm_ep_set(&c->pub.client, s->family, s->dst, s->dport);
        reasm_ep_set(&c->pub.server, s->family, s->src, s->sport);
    }
    if (s->family == AF_INET && (s->src[0] & 0xf0) != 0xf0 && (s->dst[0] & 0xf0) != 0xf0) {
        memcpy(&c->v4[0], c->pub.client.addr, 4);
        memcpy(&c->v4[1], c->pub.server.addr, 4);
    } else {                    /* IPv6, or IPv4 from 240.0.0.0/4 itself */
        uint32_t base = REASM_V6_NET | ((r->v6_pairs++ * 2u) & 0x0ffffffeu);
        c->v4[0] = htonl(base);
        c->v4[1] = htonl(base + 1);
    }
    c->pub.handshake_seen = (s->flags & SEG_SYN) != 0;
    c->pub.id = ++r->next_id;
    c->pub.first_frame = pkt->frame;
    c->pub.first_ts = pkt->ts;
    c->last_ts = reasm_idle_ts(r, pkt);
    if (r->count >= r->nbuckets)
        reasm_table_grow(r);
    b = reasm_conn_bucket(r, c);
    c->hnext = r->buckets[b];
    r->buckets[b] = c;
    reasm_lru_append(r, c);
    c->all_prev = r->all_tail;
    if (r->all_tail) r->all_tail->all_next = c; else r->all_head = c;
    r->all_tail = c;
    r->count++;
    if (r->h.open)
        r->h.open(r->h.ctx, &c->pub);
    return c;
}

/* Sequence numbers that cannot be trusted: an anonymiser that set them
 * all to 0 (a packet that acknowledges with sequence and acknowledgement
 * number both 0: one chance in 2^64 on a real connection). Such a
 * connection is followed in capture order: each segment's bytes follow
 * the ones before it, each ACK acknowledges all that was seen, a FIN comes
 * after every byte. A packet identical to one of the last two data
 * packets of its direction, IP header included (same IPv4 identification,
 * same TCP timestamp), is the same packet captured twice or retransmitted
 * unchanged: it is left out (returns true). A retransmission that differs
 * in its headers cannot be told from new data without sequence numbers
 * and is delivered again; nothing is dropped. */
static bool reasm_seq_untrusted(reasm_conn *c, int d, seg *s, const sc_packet *pkt)
{
    static const uint32_t base[2] = { 0x10000000u, 0x20000000u };

    if (!c->pub.seq_untrusted) {
        if (!(s->flags & SEG_ACK) || s->seq != 0 || s->ack != 0)
            return false;
        c->pub.seq_untrusted = true;
        for (int k = 0; k < 2; k++)
            c->cap_next[k] = c->known[k] ? reasm_exp(c, k) : base[k];
    }
    if (s->flags & SEG_SYN) {
        s->seq = c->cap_next[d] - 1;
        s->ack = c->cap_next[!d];
        return false;
    }
    if (s->len && pkt->l3) {
        /* FNV-1a over the IP packet: a duplicate check, not a digest
         * anyone relies on for integrity. The TTL is left out (a copy
         * seen on two hops of a path differs there only). */
        uint64_t h = 14695981039346656037ull;
        for (uint32_t i = 0; i < pkt->l3_len; i++) {
            bool ttl = pkt->ipver == 4 ? i == 8 || i == 10 || i == 11 : i == 7;
            h = (h ^ (ttl ? 0 : pkt->l3[i])) * 1099511628211ull;
        }
        h |= 1;             /* 0: no packet yet */
        if (h == c->cap_dup[d][0] || h == c->cap_dup[d][1])
            return true;
        c->cap_dup[d][1] = c->cap_dup[d][0];
        c->cap_dup[d][0] = h;
    }
    s->seq = c->cap_next[d];
    s->ack = c->cap_next[!d] + (c->fin_known[!d] && c->fin_at[!d] == c->cap_next[!d]);
    s->flags |= SEG_ACK;
    if (s->flags & SEG_RST)
        return false;
    c->cap_next[d] += s->len;
    return false;
}

/* Sequence numbers learnt from a packet of direction d. */
static void reasm_seqs_learn(reasm_conn *c, int d, const seg *s)
{
    if ((s->flags & (SEG_SYN | SEG_ACK)) == SEG_SYN) {
        if (d == SC_DIR_C2S && !c->est) {
            c->mss[0] = reasm_syn_mss(s);
            c->next[0] = s->seq + 1;
            c->known[0] = true;
            c->pub.handshake_seen = true;
        }
        return;
    }
    if (s->flags & SEG_SYN) {                  /* SYN/ACK */
        if (d == SC_DIR_S2C && !c->est) {
            c->mss[1] = reasm_syn_mss(s);
            c->next[1] = s->seq + 1;
            c->known[1] = true;
            c->next[0] = s->ack;
            c->known[0] = true;
            c->pub.handshake_seen = true;
        }
        return;
    }
    if (!c->known[d]) {
        c->next[d] = s->seq;
        c->known[d] = true;
    }
    if ((s->flags & SEG_ACK) && !c->known[!d]) {
        c->next[!d] = s->ack;
        c->known[!d] = true;
    }
}

/* What a packet of direction d tells about that stream: how far it
 * reaches (flushes fill up to there), where its FIN is. A hole the peer
 * acknowledged is missing once d sends from beyond it and the next packet
 * does not fill it either: a sender does not go back behind an ACK, but a
 * capture may swap two neighbours (REASM_ACK_SLACK covers the rest). */
static void reasm_stream_note(sc_reasm *r, reasm_conn *c, int d, const seg *s)
{
    uint32_t exp = reasm_exp(c, d);
    uint32_t end = s->seq + s->len;

    if ((s->flags & SEG_FIN) && !c->fin_known[d] && !seq_before(end, exp)) {
        c->fin_known[d] = true;
        c->fin_at[d] = end;
    }
    if (c->gap_pending[d] && (s->len || (s->flags & SEG_FIN)) &&
        !seq_before(s->seq, c->gap_target[d]) && seq_before(exp, c->gap_target[d])) {
        c->stall[d] = REASM_ACK_SLACK - 1;
        if (!c->beyond_frame[d]) {
            c->beyond_frame[d] = r->cur_frame;
            c->beyond_ts[d] = r->cur_ts;
        }
    }

    if (s->len && (!c->hi_valid[d] || seq_after(end, c->hi[d])) && seq_after(end, exp)
        && end - exp <= REASM_GAP_LIMIT) {
        c->hi[d] = end;
        c->hi_valid[d] = true;
    }
}

/* An ACK beyond what was delivered of the other direction: those bytes
 * were sent before this packet. Unless the capture shows them within a
 * few packets (it reordered them), they are missing. */
static void reasm_ack_note(reasm_conn *c, int d, const seg *s)
{
    int o = !d;
    uint32_t target = reasm_ack_target(c, o, s->ack, s->flags);

    if (!seq_after(target, reasm_exp(c, o)))
        return;
    if (!c->gap_pending[o] || seq_after(target, c->gap_target[o])) {
        c->gap_target[o] = target;
        c->gap_peer[o] = c->known[d] ? (uint64_t)(uint32_t)(s->seq - c->next[d]) : 0;
        if (c->gap_peer[o] > c->delivered[d] + REASM_GAP_LIMIT)
            c->gap_peer[o] = c->delivered[d];
    }
    if (!c->gap_pending[o])
        c->stall[o] = 0;
    c->gap_pending[o] = true;
}

/* Direction g's holes that the peer acknowledged are missing: filled one
 * at a time, in the order of the held segments that acknowledged them, so
 * that each gap comes out just before the first segment that answered it
 * (a one-sided capture: each missing reply before the next command). */
static void reasm_acked_give_up(sc_reasm *r, reasm_conn *c, int g)
{
    uint64_t frame = r->cur_frame, peer;
    struct timeval ts = r->cur_ts;

    while (c->nids && !c->dead) {
        const reasm_held *h = c->held_head;
        uint32_t exp = reasm_exp(c, g), t = exp;

        for (; h; h = h->next)
            if (h->dir != g && reasm_block_of(c, h->dir, h->seq, h->ack, h->flags, h->len) == BLOCK_ACK &&
                seq_after(t = reasm_ack_target(c, g, h->ack, h->flags), exp))
                break;
        if (!h || reasm_fin_like(c, g, t))
            break;
        if (h->frame <= frame)               /* not one captured after the give-up's frame */
            reasm_held_clock(r, c, h);
        /* this hole was acknowledged by h: placed before h in its stream
         * (gap_peer is that of the highest ACK, maybe a later one) */
        peer = c->gap_peer[g];
        c->gap_peer[g] = (uint64_t)(uint32_t)(h->seq - c->next[h->dir]);
        if (c->gap_peer[g] > c->delivered[h->dir] + REASM_GAP_LIMIT)
            c->gap_peer[g] = c->delivered[h->dir];
        reasm_gap_fill(r, c, g, t, false, false);
        c->gap_peer[g] = peer;
        if (reasm_exp(c, g) == exp)
            break;
    }
    r->cur_frame = frame;
    r->cur_ts = ts;
    if (reasm_fin_like(c, g, reasm_gap_target(c, g)))
        reasm_held_release(r, c, true);
    else
        reasm_gap_fill(r, c, g, reasm_gap_target(c, g), false, false);
}

/* After a packet: holes the peer acknowledged and REASM_ACK_SLACK packets
 * did not fill are missing from the capture; held segments beyond the
 * bounds are let go, the oldest first, and what they waited for is
 * dropped by reassembly. */
static void reasm_settle(sc_reasm *r, reasm_conn *c, const uint32_t before[2])
{
    /* mostly no hole acknowledged: the loop would only clear what is clear */
    bool holes = c->gap_pending[0] || c->gap_pending[1] || c->beyond_frame[0] || c->beyond_frame[1];

    for (int g = 0; holes && g < 2 && c->nids && !c->dead; g++) {
        if (!c->gap_pending[g] || !seq_before(reasm_exp(c, g), reasm_gap_target(c, g))) {
            c->gap_pending[g] = false;
            c->beyond_frame[g] = 0;
            continue;
        }
        if (reasm_exp(c, g) != before[g]) {
            c->stall[g] = 0;
            c->beyond_frame[g] = 0;
        } else if (++c->stall[g] > REASM_ACK_SLACK) {
            uint64_t frame = r->cur_frame;
            struct timeval ts = r->cur_ts;

            if (c->beyond_frame[g]) {        /* missing since the sender went on */
                r->cur_frame = c->beyond_frame[g];
                r->cur_ts = c->beyond_ts[g];
                c->beyond_frame[g] = 0;
            }
            reasm_acked_give_up(r, c, g);
            r->cur_frame = frame;
            r->cur_ts = ts;
            c->gap_pending[g] = false;
        }
    }
    while (c->held_head && c->nids && !c->dead &&
           (c->held_bytes > REASM_HOLD_MAX || c->held_n > REASM_HOLD_PKTS ||
            r->held_bytes > REASM_HOLD_BUDGET)) {
        reasm_held *h = c->held_head;
        uint64_t d0 = c->delivered[0], d1 = c->delivered[1];

        if (reasm_block_of(c, h->dir, h->seq, h->ack, h->flags, h->len) == BLOCK_SEQ)
            reasm_gap_fill(r, c, h->dir, h->seq, true, false);
        else
            reasm_gap_fill(r, c, !h->dir, reasm_ack_target(c, !h->dir, h->ack, h->flags),
                           false, false);
        reasm_held_release(r, c, false);
        if (c->held_head == h && d0 == c->delivered[0] && d1 == c->delivered[1]) {
            reasm_held_release(r, c, true);   /* never loop */
            if (c->held_head == h) {
                reasm_held_unlink(r, c, &c->held_head, NULL);
                free(h);
            }
        }
    }
}

/* ---- libnids' table ----------------------------------------------------- */

#define REASM_PAGE_HUGE    (2u << 20)
#define REASM_MMAP_DEFAULT (128 * 1024)      /* glibc's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD */
#define REASM_MMAP_MAX     (32u << 20)       /* the largest M_MMAP_THRESHOLD glibc takes (64-bit) */

/* libnids' tcp_init() mallocs a pool of stream records (3/4 of
 * n_tcp_streams, 288 bytes each: 29 MB for the default cap) and links it
 * record by record, touching every page: 7 000 page faults, each a trap
 * into the kernel, about 0.1 s of CPU on a virtual machine, more than
 * the rest of a short capture costs. So the memory it will get is
 * prepared first, in one go and in huge pages where the kernel gives them
 * on request (transparent huge pages in "madvise" mode): a block of the
 * pool's size is taken from the heap (the mmap threshold raised above
 * it), marked MADV_HUGEPAGE and freed into the top of the heap (the
 * trim threshold raised, so it stays), where tcp_init's calloc and malloc
 * find it; its first writes then fault the pool in 2 MB at a time (the
 * block is not written here: the kernel zeroes each page once whoever
 * touches it first, and a store before free() is dead code a compiler
 * removes). The thresholds are then set back to glibc's defaults.
 * The pool's size, and so the memory bound and when anything is evicted,
 * are libnids' own as before; only where its pages come from changes.
 * When a step is refused (a pool beyond 30 MB, --max-sessions above
 * about 105 000, which glibc maps whatever the threshold; an allocator
 * other than glibc's), libnids faults its pages in itself, as before. */
static bool reasm_nids_pool_prepare(size_t streams)
{
    size_t bytes = (streams * 3 / 4 + 1) * sizeof(struct tcp_stream) +
                   streams * sizeof(struct tcp_stream *) + REASM_PAGE_HUGE;
    uintptr_t lo, hi;
    uint8_t *p;

    if (bytes >= REASM_MMAP_MAX || !mallopt(M_MMAP_THRESHOLD, (int)REASM_MMAP_MAX))
        return false;
    if (!mallopt(M_TRIM_THRESHOLD, (int)(2 * REASM_MMAP_MAX)) || !(p = malloc(bytes))) {
        (void)mallopt(M_MMAP_THRESHOLD, REASM_MMAP_DEFAULT);
        return false;
    }
    lo = ((uintptr_t)p + REASM_PAGE_HUGE - 1) & ~(uintptr_t)(REASM_PAGE_HUGE - 1);
    hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(REASM_PAGE_HUGE - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);   /* a hint: refused, 4 KB pages */
    free(p);
    return true;
}

/* glibc's default thresholds again (the dynamic adjustment stays off:
 * it only decides where large blocks come from, not how much is held). */
static void reasm_nids_pool_done(bool prepared)
{
    if (!prepared)
        return;
    (void)mallopt(M_TRIM_THRESHOLD, REASM_MMAP_DEFAULT);
    (void)mallopt(M_MMAP_THRESHOLD, REASM_MMAP_DEFAULT);
}

/* ---- the interface ------------------------------------------------------ */

sc_reasm *sc_reasm_new(const sc_config *cfg, const sc_flow_handler *h, char *err, size_t errlen)
{
    sc_reasm *r;
    uint64_t cap = cfg->max_sessions ? cfg->max_sessions : REASM_NIDS_STREAMS;
    bool prepared;
    int ok;

    if (reasm_live) {
        snprintf(err, errlen, "reassembly already running");
        return NULL;
    }
    r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    r->h = *h;
    r->nbuckets = REASM_HASH_MIN;
    r->buckets = calloc(r->nbuckets, sizeof *r->buckets);
    r->dead_pcap = pcap_open_dead(DLT_RAW, 65535);
    r->defrag = sc_defrag_new();
    if (!r->buckets || !r->dead_pcap || !r->defrag) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (cap > REASM_NIDS_MAX)
        cap = REASM_NIDS_MAX;
    r->max_conns = cap;
    /* libnids holds 3/4 of n_tcp_streams: cap and a margin, so that we
     * always evict first */
    nids_params.n_tcp_streams = (int)(cap * 4 / 3 + 64);
    nids_params.n_hosts = 256;
    nids_params.scan_num_hosts = 0;
    nids_params.syslog = reasm_nids_log;
    nids_params.no_mem = reasm_nids_nomem;
    nids_params.pcap_desc = r->dead_pcap;
    nids_params.pcap_filter = NULL;
    nids_params.device = NULL;
    nids_params.filename = NULL;
    nids_params.tcp_workarounds = 0;
    nids_params.multiproc = 0;
    nids_params.one_loop_less = 0;
    prepared = reasm_nids_pool_prepare((size_t)nids_params.n_tcp_streams);
    ok = nids_init();
    reasm_nids_pool_done(prepared);
    if (!ok) {
        snprintf(err, errlen, "libnids: %s", nids_errbuf);
        goto fail;
    }
    reasm_no_chksum[0].netaddr = 0;
    reasm_no_chksum[0].mask = 0;
    reasm_no_chksum[0].action = NIDS_DONT_CHKSUM;
    nids_register_chksum_ctl(reasm_no_chksum, 1);
    nids_register_tcp(reasm_nids_tcp);
    reasm_live = r;
    return r;
fail:
    if (r->dead_pcap)
        pcap_close(r->dead_pcap);
    sc_defrag_free(r->defrag);
    free(r->buckets);
    free(r);
    return NULL;
}

/* One whole packet, or a datagram defrag.c put together (frags: the
 * packets it came in, one for a whole packet; the connection's packet
 * hook gets each of them). */
static void reasm_packet(sc_reasm *r, const sc_packet *pkt, seg_kind kind, seg *s,
                         const sc_packet *const *frags, size_t nfrags)
{
    sc_dir dir;
    reasm_conn *c;
    uint32_t before[2];

    r->cur_frame = pkt->frame;
    r->cur_ts = pkt->ts;
    if (kind != SEG_TCP)
        return;
    /* -j: every process put the datagram together; one follows it */
    if (nfrags > 1 && r->share_n > 1 &&
        (!reasm_seg_followed(r->cfg, s) || reasm_seg_shard(s, r->share_n) != r->share_idx))
        return;

    /* a connection is made only for a followed segment, whose ports the
     * packets of either direction have: the port test is for the others */
    c = reasm_conn_find(r, s, &dir);
    if (!c && !reasm_seg_followed(r->cfg, s))
        return;
    if ((s->flags & (SEG_SYN | SEG_ACK)) == SEG_SYN && c && c->est && dir == SC_DIR_C2S &&
        s->seq + 1 != c->next[0]) {
        /* A new SYN on a live 4-tuple: the port was reused, the old
         * connection died unseen. */
        reasm_flush(r, c);
        reasm_conn_end(r, c, SC_END_TIMEOUT, pkt->frame, pkt->ts);
        c = NULL;
    }
    if (!c) {
        bool src_client;

        if (s->flags & SEG_RST)
            return;
        if (!(s->flags & SEG_SYN) && reasm_tomb_repeat(r, s, pkt->ts.tv_sec))
            return;          /* a late retransmission of a connection that ended */
        if ((s->flags & (SEG_SYN | SEG_ACK)) == SEG_SYN)
            src_client = true;
        else if (s->flags & SEG_SYN)
            src_client = false;
        else if (s->len == 0)
            return;          /* a bare ACK/FIN of a connection we never saw carry data */
        else
            src_client = reasm_src_is_client(r, s);
        c = reasm_conn_new(r, s, src_client, pkt);
        if (!c)
            return;
        c->pub.first_frame = frags[0]->frame;      /* a datagram: its first fragment */
        c->pub.first_ts = frags[0]->ts;
        dir = src_client ? SC_DIR_C2S : SC_DIR_S2C;
    }
    r->cur_dir = dir;
    c->last_ts = reasm_idle_ts(r, pkt);
    c->pub.last_frame = pkt->frame;
    if (r->lru_tail != c) {
        reasm_lru_unlink(r, c);
        reasm_lru_append(r, c);
    }
    if (r->h.packet && nfrags == 1)   /* a whole packet: no loop to keep registers for */
        r->h.packet(r->h.ctx, &c->pub, frags[0]);
    else if (r->h.packet)
        for (size_t i = 0; i < nfrags; i++)
            r->h.packet(r->h.ctx, &c->pub, frags[i]);

    if (reasm_seq_untrusted(c, dir, s, pkt))
        return;          /* the same packet again, sequence numbers untrusted */
    reasm_seqs_learn(c, dir, s);
    if (!c->est && c->known[0] && c->known[1])
        reasm_handshake_inject(r, c);
    if (s->flags & SEG_SYN) {
        reasm_dead_report(r);
        return;
    }
    if (!c->est || !c->nids) {
        if (s->flags & SEG_RST) {        /* refused, or reset before we could follow it */
            reasm_event_emit(r, c, SC_FLOW_RST, dir, NULL, 0, pkt->frame, pkt->ts);
            reasm_conn_end(r, c, SC_END_RESET, pkt->frame, pkt->ts);
        }
        return;
    }
    before[0] = reasm_exp(c, 0);
    before[1] = reasm_exp(c, 1);
    if (s->flags & SEG_RST) {
        reasm_flush(r, c);
        if (c->nids)
            reasm_seg_feed(r, c, dir, s, pkt->frame, &pkt->ts);
    } else {
        reasm_tent_ack(c, dir, s);
        if (reasm_tent_again(c, dir, s))
            s->len = 0;                   /* only its ACK counts */
        if (c->tent[dir])             /* mostly none: no call */
            reasm_tent_clash(r, c, dir, s->seq, s->payload, s->len);
        reasm_stream_note(r, c, dir, s);
        reasm_ack_note(c, dir, s);
        if (reasm_block_of(c, dir, s->seq, s->ack, s->flags, s->len) != BLOCK_NONE)
            reasm_held_hold(r, c, pkt, dir, s);
        else if (reasm_tent_wanted(c, dir, s->len, s->flags)) {
            reasm_held *h = reasm_held_hold(r, c, pkt, dir, s);
            if (h)
                reasm_tent_begin(r, c, dir, h);
        } else
            reasm_seg_feed(r, c, dir, s, pkt->frame, &pkt->ts);
        /* mostly no tentative segment and no ACK noted for one: nothing to decide */
        if (c->tent[0] || c->tent[1] || c->tent_ackd[0] || c->tent_ackd[1])
            for (int d = 0; d < 2 && c->nids && !c->dead; d++)
                reasm_tent_decide(r, c, d);
        reasm_held_release(r, c, false);
        reasm_settle(r, c, before);
    }
    if (!c->dead)
        reasm_fins_check(r, c);
    reasm_dead_report(r);
    reasm_nids_trim(r);
}

void sc_reasm_packet(sc_reasm *r, const sc_packet *pkt)
{
    const sc_datagram *dg;
    seg s;
    seg_kind kind = seg_parse(pkt, &s);

    if (kind == SEG_V6_CHAIN_LONG)          /* sc_reasm_unanalysed, counted here */
        r->unanalysed[SC_UNANALYSED_V6_CHAIN]++;
    else if (kind == SEG_MALFORMED)
        r->unanalysed[SC_UNANALYSED_MALFORMED]++;
    /* parsed once: defrag.c reads only fragments (it parses them again) */
    if (kind != SEG_V4_FRAGMENT && kind != SEG_V6_FRAGMENT) {
        reasm_packet(r, pkt, kind, &s, &pkt, 1);
        return;
    }
    switch (sc_defrag_add(r->defrag, pkt, &dg)) {
    case SC_DEFRAG_NOT:                 /* not reached: a fragment */
        break;
    case SC_DEFRAG_DONE:
        kind = seg_parse(&dg->pkt, &s);
        reasm_packet(r, &dg->pkt, kind, &s, dg->frags, dg->nfrags);
        break;
    default:
        r->cur_frame = pkt->frame;
        r->cur_ts = pkt->ts;
        break;
    }
}

void sc_reasm_share(sc_reasm *r, int idx, int n)
{
    r->share_idx = idx;
    r->share_n = n;
}

const sc_frag_counts *sc_reasm_frag_counts(const sc_reasm *r)
{
    return sc_defrag_counts(r->defrag);
}

bool sc_reasm_is_fragment(const sc_packet *pkt)
{
    return sc_defrag_is_fragment(pkt);
}

/* Only what reasm_seg_shard needs is decoded; the decisions are those of
 * sc_reasm_packet (which packets it looks at, which it drops at once).
 * IP fragments go to every process rather than to one: a later fragment
 * has no ports, so the connection it belongs to is known only once the
 * datagram is whole. Each process puts every datagram together (defrag.c)
 * and only the one whose share its connection is follows it
 * (sc_reasm_share); the counts of fragments are the same in every one.
 * Hashing on the addresses alone would keep fragments together too, but
 * would send all the traffic between two hosts (a relay and its smart
 * host) to one process; fragmented TCP is rare, so sending fragments
 * everywhere costs little in practice, and a capture made of fragments is
 * put together by each process at the speed of one, never wrongly. */
int sc_reasm_route(const sc_config *cfg, const sc_packet *pkt, int n)
{
    seg s;

    switch (seg_parse(pkt, &s)) {
    case SEG_V4_FRAGMENT:
    case SEG_V6_FRAGMENT:
        return SC_ROUTE_ALL;
    case SEG_TCP:
        break;
    default:
        return SC_ROUTE_NONE;
    }
    return reasm_seg_followed(cfg, &s) ? reasm_seg_shard(&s, n) : SC_ROUTE_NONE;
}

struct timeval sc_reasm_clock(sc_reasm *r, struct timeval ts)
{
    return sc_clock_feed(&r->clock, ts, r->cfg->idle_timeout ? r->cfg->idle_timeout : UINT_MAX);
}

sc_unanalysed sc_reasm_unanalysed(const sc_packet *pkt)
{
    if (!pkt->l3)
        return SC_UNANALYSED_NONE;
    switch (seg_kind_of(pkt)) {
    case SEG_V6_CHAIN_LONG: return SC_UNANALYSED_V6_CHAIN;
    case SEG_MALFORMED:     return SC_UNANALYSED_MALFORMED;
    default:                return SC_UNANALYSED_NONE;
    }
}

uint64_t sc_reasm_unanalysed_count(const sc_reasm *r, sc_unanalysed why)
{
    return (size_t)why < sizeof r->unanalysed / sizeof r->unanalysed[0] ? r->unanalysed[why] : 0;
}

void sc_reasm_seen(sc_reasm *r, uint64_t ip_frame)
{
    r->cur_frame = ip_frame;
}

void sc_reasm_expire(sc_reasm *r, struct timeval now)
{
    time_t limit;

    if (!r->cfg->idle_timeout)
        return;
    limit = now.tv_sec - (time_t)r->cfg->idle_timeout;
    r->cur_ts = now;
    while (r->lru_head) {
        reasm_conn *c = r->lru_head;

        if (c->last_ts.tv_sec > now.tv_sec + (time_t)r->cfg->idle_timeout) {
            /* last touched by a packet stamped far ahead that no other
             * confirmed (clock.c): idle from now on, not until then (it
             * would hold every connection behind it in the LRU) */
            c->last_ts = now;
            reasm_lru_unlink(r, c);
            reasm_lru_append(r, c);
            continue;
        }
        if (c->last_ts.tv_sec >= limit)
            break;
        reasm_flush(r, c);
        reasm_dead_report(r);
        if (r->lru_head == c)
            reasm_conn_end(r, c, SC_END_TIMEOUT, r->cur_frame, now);
    }
}

void sc_reasm_finish(sc_reasm *r, uint64_t last_frame, struct timeval ts)
{
    sc_defrag_finish(r->defrag);
    r->cur_frame = last_frame;
    r->cur_ts = ts;
    while (r->all_head) {
        reasm_conn *c = r->all_head;

        reasm_flush(r, c);
        reasm_dead_report(r);
        if (r->all_head == c)
            reasm_conn_end(r, c, c->fin_done[0] && c->fin_done[1] ? SC_END_CLOSED
                                                                  : SC_END_CAPTURE_END,
                           last_frame, ts);
    }
}

uint64_t sc_reasm_open_count(const sc_reasm *r)
{
    return r->count;
}

void sc_reasm_free(sc_reasm *r)
{
    if (!r)
        return;
    /* Dropped without events: sc_reasm_finish reports what is still open. */
    while (r->all_head) {
        reasm_conn *c = r->all_head;
        r->all_head = c->all_next;
        if (c->nids)
            c->nids->user = NULL;
        reasm_held_drop_all(r, c);
    }
    while (r->slabs) {
        reasm_slab *sl = r->slabs;
        r->slabs = sl->next;
        free(sl);
    }
    sc_defrag_free(r->defrag);
    nids_unregister_tcp(reasm_nids_tcp);
    nids_exit();
    reasm_live = NULL;
    pcap_close(r->dead_pcap);
    free(r->tombs);
    free(r->buckets);
    free(r);
}
