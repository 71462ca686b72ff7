/*
 * peers.h - per-peer summaries: for each server address and each client
 * address, the name it gave (the greeting's host, the EHLO/HELO domain),
 * its sessions, its findings per rule and how many of its sessions had
 * each rule (defined by src/output/peers.c).
 *
 * The summaries are counted by a sink (sc_peers_sink) fed with the run's
 * records, and written by the text report (a table after the totals) and
 * the JSON Lines ("type":"peer" objects before the summary), at the end of
 * a run, on SIGUSR1 and every --summary-interval live (output.h).
 *
 * Memory is bounded: at most SC_PEERS_MAX peers of each role are kept;
 * the sessions of the peers beyond are counted (sc_peers_beyond) and said
 * in both outputs.
 */
#ifndef SC_PEERS_H
#define SC_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "common/record.h"

#define SC_PEERS_MAX 4096          /* of each role */

typedef enum sc_peer_role { SC_PEER_SERVER, SC_PEER_CLIENT } sc_peer_role;

/* What every session's end reads and writes (the address it is found by,
 * the counts, the start of the name) comes first: one cache line of a
 * record of some 1.3 KB. */
typedef struct sc_peer {
    sc_peer_role role;
    sc_endpoint  addr;                   /* port 0 */
    size_t       name_len;               /* 0: none yet */
    uint64_t     other_names;            /* sessions that gave another name */
    uint64_t     sessions;               /* ended */
    uint8_t      name[SC_PEER_NAME_MAX]; /* the first name it gave */
    uint64_t     with_rule[SC_RULE_COUNT];  /* ended sessions with the rule */
    uint64_t     findings[SC_RULE_COUNT];   /* findings (those past
                                               --max-findings included) */
} sc_peer;

typedef struct sc_peers sc_peers;

sc_peers *sc_peers_new(void);
void sc_peers_free(sc_peers *p);

/* The sink that counts: findings as they come, sessions at their end. */
sc_sink *sc_peers_sink(sc_peers *p);

/* The peers of a role, most sessions first (then by address): *out points
 * to an array valid until the next record or call. Returns the count. */
size_t sc_peers_sorted(sc_peers *p, sc_peer_role role, const sc_peer *const **out);

/* Sessions of peers of the role not kept (beyond SC_PEERS_MAX). */
uint64_t sc_peers_beyond(const sc_peers *p, sc_peer_role role);

/* "server" or "client". */
const char *sc_peer_role_name(sc_peer_role role);

#endif
