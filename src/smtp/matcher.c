/*
 * matcher.c - pending commands and reply pairing (see matcher.h).
 */
#include <string.h>

#include "matcher.h"

void sc_matcher_init(sc_matcher *m)
{
    memset(m, 0, sizeof *m);
}

bool sc_matcher_push(sc_matcher *m, const sc_pending *p)
{
    /* Once a command went untracked, the ones behind it are counted too:
     * replies come in order, so they answer the untracked ones first. */
    if (m->n == SC_PENDING_MAX || m->untracked > 0) {
        if (m->untracked++ == 0)
            m->untracked_frame = p->frame;
        return false;
    }
    m->q[(m->head + m->n) % SC_PENDING_MAX] = *p;
    m->n++;
    return true;
}

bool sc_matcher_push_front(sc_matcher *m, const sc_pending *p)
{
    if (m->n == SC_PENDING_MAX) {
        if (m->untracked++ == 0)
            m->untracked_frame = p->frame;
        return false;
    }
    m->head = (m->head + SC_PENDING_MAX - 1) % SC_PENDING_MAX;
    m->q[m->head] = *p;
    m->n++;
    return true;
}

sc_pending *sc_matcher_at(sc_matcher *m, unsigned i)
{
    return i < m->n ? &m->q[(m->head + i) % SC_PENDING_MAX] : NULL;
}

void sc_matcher_pop(sc_matcher *m)
{
    if (m->n == 0)
        return;
    m->head = (m->head + 1) % SC_PENDING_MAX;
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
        if (!(m->q[(m->head + i) % SC_PENDING_MAX].flags & SC_PF_OPTIONAL))
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
