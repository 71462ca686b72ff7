/*
 * peers.c - per-peer summaries (interface: src/output/peers.h).
 *
 * Each role (servers, clients) has a table of at most SC_PEERS_MAX peers
 * found by address through an open-addressing hash of twice that size; a
 * peer is made at its first finding or session end, and once the table is
 * full the sessions of new addresses are only counted (beyond). While a
 * session runs, the rules it has had are kept as one bit each, by session
 * id, until its end: memory per concurrent session is one word.
 *
 * Diagnostics: none; allocation failures count the session as beyond.
 */
#include <stdlib.h>
#include <string.h>

#include "common/idmap.h"
#include "peers.h"

_Static_assert(SC_RULE_COUNT <= 63, "a session's rules fit one word beside its mark");

#define PEERS_SLOTS (2 * SC_PEERS_MAX)
#define PEERS_MARK  (1ull << 63)      /* an idmap value is never NULL */

typedef struct peers_table {
    sc_peer   *peer;                  /* SC_PEERS_MAX, in order of arrival */
    size_t     n;
    int32_t    slot[PEERS_SLOTS];     /* index + 1 in peer[], 0 free */
    uint64_t   beyond;
    const sc_peer **sorted;
} peers_table;

struct sc_peers {
    sc_sink     sink;
    peers_table t[2];
    sc_idmap   *rules;                /* session id -> PEERS_MARK | rule bits */
};

const char *sc_peer_role_name(sc_peer_role role)
{
    return role == SC_PEER_SERVER ? "server" : "client";
}

/* The address as two words, multiplied and folded: its slot only, so any
 * spread will do, and a session end looks up two addresses. */
static size_t peers_hash(const sc_endpoint *a)
{
    uint64_t w0, w1;

    memcpy(&w0, a->addr, 8);
    memcpy(&w1, a->addr + 8, 8);
    uint64_t h = (w0 ^ (uint64_t)a->family) * 0x9e3779b97f4a7c15ull ^ w1 * 0xc2b2ae3d27d4eb4full;

    return (size_t)((h ^ h >> 32) % PEERS_SLOTS);
}

/* The peer of address ep in table t, made when missing; NULL when the
 * table is full. */
static sc_peer *peers_find(peers_table *t, sc_peer_role role, const sc_endpoint *ep)
{
    sc_endpoint a = { .family = ep->family };
    size_t alen = ep->family == 10 /* AF_INET6 */ ? 16 : 4;

    memcpy(a.addr, ep->addr, alen);
    for (size_t i = peers_hash(&a), k = 0; k < PEERS_SLOTS; k++, i = (i + 1) % PEERS_SLOTS) {
        if (t->slot[i] == 0) {
            if (t->n == SC_PEERS_MAX)
                return NULL;
            sc_peer *p = &t->peer[t->n];
            memset(p, 0, sizeof *p);
            p->role = role;
            p->addr = a;
            t->slot[i] = (int32_t)++t->n;
            return p;
        }
        sc_peer *p = &t->peer[t->slot[i] - 1];
        if (p->addr.family == a.family && memcmp(p->addr.addr, a.addr, 16) == 0)
            return p;
    }
    return NULL;
}

static void peers_name(sc_peer *p, sc_bytes name)
{
    if (!name.len)
        return;
    if (!p->name_len) {
        p->name_len = name.len < sizeof p->name ? name.len : sizeof p->name;
        memcpy(p->name, name.p, p->name_len);
    } else if (p->name_len != name.len || memcmp(p->name, name.p, name.len) != 0) {
        p->other_names++;
    }
}

static void peers_finding(sc_sink *k, const sc_session_info *si, const sc_finding *f)
{
    sc_peers *ps = k->priv;
    uint64_t bits = (uint64_t)(uintptr_t)sc_idmap_get(ps->rules, si->id);

    if (!f->rule)
        return;
    bits |= PEERS_MARK | (1ull << f->rule->id);
    if (sc_idmap_put(ps->rules, si->id, (void *)(uintptr_t)bits) < 0)
        return;
    for (int r = 0; r < 2; r++) {
        sc_peer *p = peers_find(&ps->t[r], (sc_peer_role)r, r == SC_PEER_SERVER ? &si->server
                                                                                : &si->client);
        if (p)
            p->findings[f->rule->id] += sc_finding_count(f);
    }
}

static void peers_session_end(sc_sink *k, const sc_session_info *si)
{
    sc_peers *ps = k->priv;
    uint64_t bits = (uint64_t)(uintptr_t)sc_idmap_del(ps->rules, si->id);

    for (int r = 0; r < 2; r++) {
        peers_table *t = &ps->t[r];
        sc_peer *p = peers_find(t, (sc_peer_role)r, r == SC_PEER_SERVER ? &si->server
                                                                        : &si->client);
        if (!p) {
            t->beyond++;
            continue;
        }
        p->sessions++;
        peers_name(p, r == SC_PEER_SERVER ? si->greeting_name : si->helo_name);
        for (uint64_t b = bits & ~PEERS_MARK; b; b &= b - 1)   /* the rules it had */
            p->with_rule[__builtin_ctzll(b)]++;
    }
}

static int peers_cmp(const void *a, const void *b)
{
    const sc_peer *x = *(const sc_peer *const *)a, *y = *(const sc_peer *const *)b;

    if (x->sessions != y->sessions)
        return x->sessions > y->sessions ? -1 : 1;
    if (x->addr.family != y->addr.family)
        return x->addr.family < y->addr.family ? -1 : 1;
    return memcmp(x->addr.addr, y->addr.addr, 16);
}

size_t sc_peers_sorted(sc_peers *ps, sc_peer_role role, const sc_peer *const **out)
{
    peers_table *t = &ps->t[role];

    for (size_t i = 0; i < t->n; i++)
        t->sorted[i] = &t->peer[i];
    qsort(t->sorted, t->n, sizeof *t->sorted, peers_cmp);
    *out = t->sorted;
    return t->n;
}

uint64_t sc_peers_beyond(const sc_peers *ps, sc_peer_role role)
{
    return ps->t[role].beyond;
}

sc_sink *sc_peers_sink(sc_peers *ps)
{
    return &ps->sink;
}

sc_peers *sc_peers_new(void)
{
    sc_peers *ps = calloc(1, sizeof *ps);

    if (!ps)
        return NULL;
    ps->rules = sc_idmap_new();
    for (int r = 0; r < 2; r++) {
        ps->t[r].peer = calloc(SC_PEERS_MAX, sizeof *ps->t[r].peer);
        ps->t[r].sorted = calloc(SC_PEERS_MAX, sizeof *ps->t[r].sorted);
    }
    if (!ps->rules || !ps->t[0].peer || !ps->t[1].peer || !ps->t[0].sorted || !ps->t[1].sorted) {
        sc_peers_free(ps);
        return NULL;
    }
    ps->sink = (sc_sink){ .finding = peers_finding, .session_end = peers_session_end,
                          .priv = ps };
    return ps;
}

void sc_peers_free(sc_peers *ps)
{
    if (!ps)
        return;
    sc_idmap_free(ps->rules);
    for (int r = 0; r < 2; r++) {
        free(ps->t[r].peer);
        free(ps->t[r].sorted);
    }
    free(ps);
}
