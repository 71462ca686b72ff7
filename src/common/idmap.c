/*
 * idmap.c - session id -> pointer, an open-addressed hash (linear probing)
 * that doubles its slots when more than half are taken (idmap.h).
 *
 * A slot holds the id and the value: a session's begin and end are a put
 * and a del with no allocation (a chained map's node was a malloc and a
 * free per session, and a pointer more to follow on each look-up). A del
 * moves the slots after it back into the hole, so no tombstones pile up.
 */
#include <stdlib.h>

#include "idmap.h"

typedef struct idmap_slot {
    uint64_t id;
    void    *value;              /* NULL: the slot is free */
} idmap_slot;

struct sc_idmap {
    idmap_slot *s;
    size_t      cap, n;          /* cap a power of two, n <= cap / 2 */
};

static size_t idmap_hash(uint64_t id, size_t cap)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)(id & (cap - 1));
}

sc_idmap *sc_idmap_new(void)
{
    sc_idmap *m = calloc(1, sizeof *m);

    if (!m)
        return NULL;
    m->cap = 64;
    m->s = calloc(m->cap, sizeof *m->s);
    if (!m->s) {
        free(m);
        return NULL;
    }
    return m;
}

void sc_idmap_free(sc_idmap *m)
{
    if (!m)
        return;
    free(m->s);
    free(m);
}

/* The slot of id, or the free slot where it would go. */
static idmap_slot *idmap_find(const sc_idmap *m, uint64_t id)
{
    size_t i = idmap_hash(id, m->cap);

    while (m->s[i].value && m->s[i].id != id)
        i = (i + 1) & (m->cap - 1);
    return &m->s[i];
}

/* Twice the slots; false when out of memory (the map stays as it is). */
static int idmap_grow(sc_idmap *m)
{
    idmap_slot *old = m->s;
    size_t ocap = m->cap;

    if (ocap > SIZE_MAX / 2 / sizeof *old)
        return -1;
    if (!(m->s = calloc(ocap * 2, sizeof *old))) {
        m->s = old;
        return -1;
    }
    m->cap = ocap * 2;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].value)
            *idmap_find(m, old[i].id) = old[i];
    free(old);
    return 0;
}

int sc_idmap_put(sc_idmap *m, uint64_t id, void *value)
{
    idmap_slot *x;

    if (!value) {
        sc_idmap_del(m, id);
        return 0;
    }
    x = idmap_find(m, id);
    if (x->value) {
        x->value = value;
        return 0;
    }
    if ((m->n + 1) * 2 > m->cap) {
        /* without more room, fuller: one slot always stays free */
        if (idmap_grow(m) < 0 && m->n + 2 > m->cap)
            return -1;
        x = idmap_find(m, id);
    }
    x->id = id;
    x->value = value;
    m->n++;
    return 0;
}

void *sc_idmap_get(const sc_idmap *m, uint64_t id)
{
    return idmap_find(m, id)->value;
}

void *sc_idmap_del(sc_idmap *m, uint64_t id)
{
    size_t mask = m->cap - 1, hole = (size_t)(idmap_find(m, id) - m->s);
    void *v = m->s[hole].value;

    if (!v)
        return NULL;
    /* Backward shift: each slot after the hole, up to a free one, that
     * may sit in the hole (its home is not between the hole and it) moves
     * there, and its own slot becomes the hole. */
    for (size_t i = (hole + 1) & mask; m->s[i].value; i = (i + 1) & mask) {
        size_t home = idmap_hash(m->s[i].id, m->cap);
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            m->s[hole] = m->s[i];
            hole = i;
        }
    }
    m->s[hole].value = NULL;
    m->n--;
    return v;
}

size_t sc_idmap_count(const sc_idmap *m)
{
    return m->n;
}
