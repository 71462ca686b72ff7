/*
 * reasm.h - TCP reassembly: IP packets in, ordered byte streams out.
 *
 * IP fragments of TCP are put together first (defrag.h), IPv4 and IPv6,
 * and the datagram goes the way of a whole packet. Then a wrapper around
 * libnids (TCP reassembly) that covers its limits: IPv6 flows are mapped onto IPv4 for libnids and reported with
 * their real addresses; checksum verification is turned off (offloaded
 * captures); a connection whose handshake is not in the capture is still
 * followed (a handshake is synthesised for libnids and the connection is
 * flagged); FIN and RST are reported with the side that sent them and
 * their frame. libnids is global state, so there is one sc_reasm at a time.
 *
 * Events reach the handler in wire order, and in acknowledgement order: a
 * segment that acknowledges bytes of the other direction comes after them
 * (a capture may show it first). Every chunk of bytes carries the frame
 * number and timestamp of the packet that delivered it. A gap says whether
 * its bytes are missing from the capture or were dropped by a reassembly
 * limit, and where in the other direction's stream they were sent. A
 * connection whose sequence numbers were rewritten (all 0) is followed in
 * capture order and flagged.
 */
#ifndef SC_REASM_H
#define SC_REASM_H

#include "common/sc_types.h"
#include "capture/capture.h"
#include "common/config.h"
#include "common/record.h"

typedef enum sc_flow_kind {
    SC_FLOW_DATA,    /* data, len: in-order stream bytes of dir */
    SC_FLOW_GAP,     /* gap: bytes of dir missing from the capture, or, with
                      * limit set, dropped by a reassembly limit */
    SC_FLOW_FIN,     /* dir sent FIN (after all its data was delivered) */
    SC_FLOW_RST,     /* dir sent RST */
    SC_FLOW_CLOSE    /* the connection is over (end says why); last event */
} sc_flow_kind;

typedef enum sc_flow_end {
    SC_END_CLOSED,       /* both FINs seen */
    SC_END_RESET,        /* after a RST */
    SC_END_TIMEOUT,      /* idle timeout (live) */
    SC_END_CAPTURE_END,  /* input ended while open */
    SC_END_EVICTED       /* dropped to respect the session cap */
} sc_flow_end;

#define SC_PEER_AT_NONE UINT64_MAX

typedef struct sc_flow_event {
    sc_flow_kind    kind;
    sc_dir          dir;
    const uint8_t  *data;
    size_t          len;
    uint64_t        gap;
    uint64_t        untaken;   /* DATA, CLOSE: bytes of a first copy of dir
                                * found not taken since the last event
                                * (see Overlap in reasm.c) */
    bool            limit;     /* GAP: dropped by reassembly, not missing */
    uint64_t        peer_at;   /* GAP: the bytes were sent before this offset
                                * of the other direction's stream (its peer
                                * acknowledged them there); SC_PEER_AT_NONE */
    sc_flow_end     end;
    uint64_t        frame;
    struct timeval  ts;
} sc_flow_event;

typedef struct sc_conn {
    uint64_t        id;            /* 1-based, order of first packet */
    /* Stream offset 0 of each direction (client, server): the sequence
     * number of the byte after the SYN, or on a mid-stream capture the
     * first one seen or acknowledged; set once, before the first event.
     * The offsets of flow events and of sc_range count from here. */
    uint32_t        stream_base[2];
    sc_endpoint     client, server;
    bool            handshake_seen;
    bool            seq_untrusted; /* sequence numbers rewritten (all 0):
                                    * followed in capture order */
    uint64_t        first_frame;
    struct timeval  first_ts;
    uint64_t        last_frame;    /* frame of its latest packet */
    uint64_t        untaken[2];    /* bytes of a first copy the receiver did
                                    * not take: a later copy replaced them
                                    * (see Overlap in reasm.c), per dir */
    void           *user;          /* the handler's per-connection state */
} sc_conn;

typedef struct sc_flow_handler {
    /* A new connection to an SMTP port; set conn->user. */
    void (*open)(void *ctx, sc_conn *conn);
    /* Stream events; after SC_FLOW_CLOSE the conn is freed. */
    void (*event)(void *ctx, sc_conn *conn, const sc_flow_event *ev);
    /* Every packet of the connection (handshake and pure ACKs included),
     * before its events: frame accounting, -w, evidence. May be NULL. */
    void (*packet)(void *ctx, sc_conn *conn, const sc_packet *pkt);
    void *ctx;
} sc_flow_handler;

typedef struct sc_reasm sc_reasm;

/* One TCP segment read as the reassembler reads it (src/reasm/segment.c):
 * offloaded IPv4 packets with a total length of 0 or wrapped, IPv6 with a
 * payload length of 0 and the extension headers it follows. Whoever reads
 * a capture again (the evidence cutter) sees the same payload bytes the
 * analysis saw. Offsets are from pkt->l3. */
typedef struct sc_tcpseg {
    int             family;        /* AF_INET or AF_INET6 */
    const uint8_t  *src, *dst;     /* addresses inside the packet */
    uint16_t        sport, dport;
    uint32_t        seq;
    uint8_t         flags;
    size_t          tcp_off, payload_off;
    size_t          payload_len;   /* payload bytes the capture holds */
} sc_tcpseg;

/* 0: a TCP segment; -1: not TCP, malformed, an IP fragment (put it
 * together first: defrag.h), or a header chain the reassembler does not
 * follow. */
int sc_reasm_segment(const sc_packet *pkt, sc_tcpseg *out);

sc_reasm *sc_reasm_new(const sc_config *cfg, const sc_flow_handler *h,
                       char *err, size_t errlen);
/* Feeds one decoded packet (pkt->l3 set). A fragment is kept until its
 * datagram is whole; the connection's packet hook then gets every
 * fragment, and its events carry the frame of the one that completed it. */
void sc_reasm_packet(sc_reasm *r, const sc_packet *pkt);
/* The IP fragments read so far: reassembled, and dropped by reason. */
const sc_frag_counts *sc_reasm_frag_counts(const sc_reasm *r);
/* Whether pkt is an IPv4 or IPv6 fragment of TCP. */
bool sc_reasm_is_fragment(const sc_packet *pkt);
/* -j: this process is idx of n; of the datagrams put together from
 * fragments (which every process reads), it follows only its share. */
void sc_reasm_share(sc_reasm *r, int idx, int n);
/* -j: which of n processes a packet goes to: 0 to n-1 (the one that
 * follows its connection: a symmetric hash of the addresses and ports),
 * SC_ROUTE_ALL (every one: IP fragments of TCP) or SC_ROUTE_NONE (none:
 * sc_reasm_packet would ignore it). */
#define SC_ROUTE_NONE (-1)
#define SC_ROUTE_ALL  (-2)
int sc_reasm_route(const sc_config *cfg, const sc_packet *pkt, int n);
/* -j: packets that another process follows were read, the latest one
 * with an IP header being frame ip_frame (0: none yet). Connections
 * expired before the next packet close at that frame, as they would in a
 * single process. */
void sc_reasm_seen(sc_reasm *r, uint64_t ip_frame);
/* Feeds the clock idle expiry goes by with a packet's time (every packet
 * read, followed or not) and returns its time: the packet's, unless the
 * packet is far from the capture's time and no second packet confirmed
 * the jump yet (clock.c). */
struct timeval sc_reasm_clock(sc_reasm *r, struct timeval ts);
/* Closes connections idle since before now - cfg->idle_timeout. */
void sc_reasm_expire(sc_reasm *r, struct timeval now);
/* Input ended: every open connection gets SC_FLOW_CLOSE(CAPTURE_END). */
void sc_reasm_finish(sc_reasm *r, uint64_t last_frame, struct timeval ts);
uint64_t sc_reasm_open_count(const sc_reasm *r);
/* Why an IP packet that may carry TCP is not analysed, for the totals
 * (every such drop is counted: text totals and the JSON summary):
 * an IPv6 extension header chain longer than SC_REASM_V6_MAX_EXT headers
 * (ipv6_chain_dropped), header lengths that do not fit the packet, IP
 * or TCP (malformed_dropped). IP fragments are counted by the
 * defragmenter (defrag.h). Other protocols and non-IP frames are not
 * counted: they are not SMTP. */
#define SC_REASM_V6_MAX_EXT 32
typedef enum sc_unanalysed {
    SC_UNANALYSED_NONE,
    SC_UNANALYSED_V6_CHAIN,
    SC_UNANALYSED_MALFORMED
} sc_unanalysed;
sc_unanalysed sc_reasm_unanalysed(const sc_packet *pkt);
/* The packets given to sc_reasm_packet so far that sc_reasm_unanalysed
 * would class as why. */
uint64_t sc_reasm_unanalysed_count(const sc_reasm *r, sc_unanalysed why);
void sc_reasm_free(sc_reasm *r);

#endif
