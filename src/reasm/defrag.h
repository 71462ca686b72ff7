/*
 * defrag.h - IP fragments of TCP put back together (defrag.c), IPv4 and
 * IPv6, before anything reads their TCP header: the reassembler (reasm.c)
 * and the evidence cutter (src/output/pcapcut.c) both go through it, so
 * they see the same datagrams, made of the same fragments.
 *
 * Interface:
 *   sc_defrag_new      an empty reassembler (NULL: out of memory).
 *   sc_defrag_add      offers a packet: SC_DEFRAG_NOT (not a fragment of
 *                      TCP: read it as it is), SC_DEFRAG_TAKEN (a fragment,
 *                      kept, or dropped and counted), SC_DEFRAG_DONE (it
 *                      completed a datagram: *out, valid until the next
 *                      call, holds the whole datagram as a packet and each
 *                      of its fragments as captured, in capture order).
 *   sc_defrag_finish   the input ended: what is still incomplete is dropped
 *                      and counted (SC_FRAG_INCOMPLETE).
 *   sc_defrag_counts   the counters (common/record.h, sc_frag_counts).
 *   sc_defrag_is_fragment  whether a packet is a fragment of TCP.
 *   sc_defrag_free
 *
 * Diagnostics: none but the counters; every fragment read is counted as
 * reassembled, duplicate or dropped by reason.
 */
#ifndef SC_REASM_DEFRAG_H
#define SC_REASM_DEFRAG_H

#include "capture/capture.h"
#include "common/record.h"

#define SC_DEFRAG_NOT   0
#define SC_DEFRAG_TAKEN 1
#define SC_DEFRAG_DONE  2

typedef struct sc_datagram {
    /* The datagram as one packet: data and l3 point to it (no link layer,
     * caplen = wirelen = l3_len), frame and time those of the fragment
     * that completed it (the last captured, as Wireshark shows it). */
    sc_packet            pkt;
    const sc_packet     *const *frags;    /* its fragments, capture order */
    size_t               nfrags;
} sc_datagram;

typedef struct sc_defrag sc_defrag;

sc_defrag *sc_defrag_new(void);
int sc_defrag_add(sc_defrag *d, const sc_packet *pkt, const sc_datagram **out);
void sc_defrag_finish(sc_defrag *d);
const sc_frag_counts *sc_defrag_counts(const sc_defrag *d);
bool sc_defrag_is_fragment(const sc_packet *pkt);
void sc_defrag_free(sc_defrag *d);

#endif
