/*
 * matcher.c - pending commands and reply pairing (see matcher.h).
 */
#include <stdlib.h>
#include <string.h>

#include "matcher.h"

#define MATCHER_CAP_MIN 4

void sc_matcher_init(sc_matcher *m)
{
    memset(m, 0, sizeof *m);
}

void sc_matcher_free(sc_matcher *m)
{
    free(m->q);
    memset(m, 0, sizeof *m);
}

/* Room for one more entry: the ring doubles (its entries moved to the
 * front in order) while under SC_PENDING_MAX. False when full, or out of
 * memory, which counts as full. */
static bool matcher_room(sc_matcher *m)
{
    unsigned cap;
    sc_pending *q;

    if (m->n < m->cap)
        return true;
    if (m->cap == SC_PENDING_MAX)
        return false;
    cap = m->cap ? m->cap * 2 : MATCHER_CAP_MIN;
    if (cap > SC_PENDING_MAX)
        cap = SC_PENDING_MAX;
    if (!(q = malloc(cap * sizeof *q)))
        return false;
    for (unsigned i = 0; i < m->n; i++)
        q[i] = m->q[(m->head + i) % m->cap];
    free(m->q);
    m->q = q;
    m->cap = cap;
    m->head = 0;
    return true;
}

bool sc_matcher_push(sc_matcher *m, const sc_pending *p)
{
    /* Once a command went untracked, the ones behind it are counted too:
     * replies come in order, so they answer the untracked ones first. */
    if (m->untracked > 0 || !matcher_room(m)) {
        if (m->untracked++ == 0)
            m->untracked_frame = p->frame;
        return false;
    }
    m->q[(m->head + m->n) % m->cap] = *p;
    m->n++;
    return true;
}

bool sc_matcher_push_front(sc_matcher *m, const sc_pending *p)
{
    if (!matcher_room(m)) {
        if (m->untracked++ == 0)
            m->untracked_frame = p->frame;
        return false;
    }
    m->head = (m->head + m->cap - 1) % m->cap;
    m->q[m->head] = *p;
    m->n++;
    return true;
}

sc_pending *sc_matcher_at(sc_matcher *m, unsigned i)
{
    return i < m->n ? &m->q[(m->head + i) % m->cap] : NULL;
}

void sc_matcher_pop(sc_matcher *m)
{
    if (m->n == 0)
        return;
    m->head = (m->head + 1) % m->cap;
    m->n--;
}

void sc_matcher_clear(sc_matcher *m)
{
    m->head = 0;
    m->n = 0;
    m->untracked = 0;
}

sc_pending *sc_matcher_last_firm(sc_matcher *m)
{
    for (unsigned i = m->n; i-- > 0;) {
        sc_pending *p = sc_matcher_at(m, i);
        if (!(p->flags & SC_PF_OPTIONAL))
            return p;
    }
    return NULL;
}

unsigned sc_matcher_firm(const sc_matcher *m)
{
    unsigned k = 0;

    for (unsigned i = 0; i < m->n; i++)
        if (!(m->q[(m->head + i) % m->cap].flags & SC_PF_OPTIONAL))
            k++;
    return k;
}

bool sc_pending_allows(const sc_pending *p, int code)
{
    if (p->verb == SC_V_RESIDUE) {
        /* Whatever the server made of a content line, except the codes
         * that only another verb can draw. */
        return !(sc_code_resyncs(code, SC_V_QUIT) || sc_code_resyncs(code, SC_V_DATA) ||
                 sc_code_resyncs(code, SC_V_AUTH) || sc_code_resyncs(code, SC_V_STARTTLS));
    }
    return sc_cmd_allows(p->verb, code);
}

sc_match_kind sc_matcher_match(sc_matcher *m, int code, unsigned *index)
{
    unsigned i;

    if (m->n == 0)
        return SC_MATCH_NONE;
    for (i = 0; i < m->n; i++) {
        sc_pending *p = sc_matcher_at(m, i);
        if (sc_pending_allows(p, code)) {
            *index = i;
            return SC_MATCH_HEAD;
        }
        if (!(p->flags & SC_PF_OPTIONAL))
            break;
    }
    if (i == m->n)               /* only optional entries, none fits */
        return SC_MATCH_NONE;
    /* A code the oldest command cannot draw but a later one can: the
     * reply belongs to that later command (RFC 2920 §3.2 (1) broken). */
    for (unsigned j = i + 1; j < m->n; j++) {
        sc_pending *p = sc_matcher_at(m, j);
        if (p->verb != SC_V_RESIDUE && p->verb != SC_V_UNKNOWN &&
            sc_cmd_owns(p->verb, code)) {
            *index = j;
            return SC_MATCH_LATER;
        }
    }
    *index = i;
    return SC_MATCH_MISMATCH;
}
