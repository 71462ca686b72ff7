/*
 * segment.h - internal to src/reasm: one TCP segment parsed out of an IPv4
 * or IPv6 packet, and the synthetic IPv4 packets built for libnids.
 */
#ifndef SC_REASM_SEGMENT_H
#define SC_REASM_SEGMENT_H

#include "capture/capture.h"

#define SEG_FIN 0x01
#define SEG_SYN 0x02
#define SEG_RST 0x04
#define SEG_PSH 0x08
#define SEG_ACK 0x10
#define SEG_URG 0x20

typedef enum seg_kind {
    SEG_TCP,            /* a complete TCP header; payload may be truncated */
    SEG_NOT_TCP,        /* another protocol, or IPv6 header chain we do not follow */
    SEG_MALFORMED,      /* header lengths that do not fit */
    SEG_V4_FRAGMENT,    /* IPv4 fragment of TCP: defrag.c reassembles it */
    SEG_V6_FRAGMENT,    /* IPv6 fragment of TCP: the same */
    SEG_V6_CHAIN_LONG   /* IPv6 extension headers beyond those followed */
} seg_kind;

typedef struct seg {
    int             family;        /* AF_INET or AF_INET6 */
    uint8_t         src[16], dst[16];
    uint16_t        sport, dport;  /* host order */
    uint32_t        seq, ack;
    uint8_t         flags;
    const uint8_t  *tcp;           /* TCP header */
    unsigned        tcp_len;       /* its length, options included */
    const uint8_t  *payload;
    uint32_t        len;           /* payload bytes present in the capture */
    /* fragments (SEG_V4_FRAGMENT, SEG_V6_FRAGMENT), offsets from pkt->l3: */
    uint32_t        ip_len;        /* the IP packet's bytes in the capture */
    uint32_t        frag_hdr;      /* IPv4: the header length; IPv6: the
                                    * fragment header */
    uint32_t        frag_nh;       /* IPv6: the Next Header field naming it */
} seg;

/* Parses pkt->l3. */
seg_kind seg_parse(const sc_packet *pkt, seg *s);
/* What seg_parse would return, without the record. */
seg_kind seg_kind_of(const sc_packet *pkt);

/* Sequence arithmetic modulo 2^32. */
static inline bool seq_before(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_after(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

/* The Internet checksum of len bytes (RFC 1071), folded, not inverted. */
uint16_t seg_cksum(const uint8_t *p, size_t len);

/* Largest TCP payload one synthetic IPv4 packet carries, whatever the TCP
 * header length: a larger segment (offload, see segment.c) is handed to
 * libnids as several packets of consecutive sequence ranges. */
#define SEG_MAX_PAYLOAD (65535u - 20u - 60u)

/* Writes into buf an IPv4 packet from saddr to daddr (network order)
 * carrying a 20-byte TCP header with ports, seq, ack, flags and an open
 * window, plus, in a SYN, the options of the TCP header tcp (tcp_len
 * bytes; none when tcp is NULL), and
 * len payload bytes (zeros when payload is NULL). Returns its length.
 * len must not exceed SEG_MAX_PAYLOAD: the caller splits (what is beyond
 * would be cut off). */
size_t seg_build_v4(uint8_t *buf, uint32_t saddr, uint32_t daddr,
                    uint16_t sport, uint16_t dport,
                    const uint8_t *tcp, unsigned tcp_len,
                    uint32_t seq, uint32_t ack, uint8_t flags,
                    const uint8_t *payload, uint32_t len);

#endif
