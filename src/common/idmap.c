/*
 * idmap.c - session id -> pointer, a chained hash that doubles its bucket
 * array when the load passes 1 (idmap.h).
 */
#include <stdlib.h>

#include "idmap.h"

typedef struct idmap_node {
    struct idmap_node *next;
    uint64_t id;
    void *value;
} idmap_node;

struct sc_idmap {
    idmap_node **b;
    size_t nb, n;
};

static size_t idmap_slot(uint64_t id, size_t nb)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)(id & (nb - 1));
}

sc_idmap *sc_idmap_new(void)
{
    sc_idmap *m = calloc(1, sizeof *m);

    if (!m)
        return NULL;
    m->nb = 64;
    m->b = calloc(m->nb, sizeof *m->b);
    if (!m->b) {
        free(m);
        return NULL;
    }
    return m;
}

void sc_idmap_free(sc_idmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nb; i++)
        for (idmap_node *x = m->b[i], *nx; x; x = nx) {
            nx = x->next;
            free(x);
        }
    free(m->b);
    free(m);
}

static void idmap_grow(sc_idmap *m)
{
    size_t nb = m->nb * 2;
    idmap_node **b = calloc(nb, sizeof *b);

    if (!b)
        return;                 /* keep the longer chains */
    for (size_t i = 0; i < m->nb; i++)
        for (idmap_node *x = m->b[i], *nx; x; x = nx) {
            nx = x->next;
            size_t s = idmap_slot(x->id, nb);
            x->next = b[s];
            b[s] = x;
        }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

int sc_idmap_put(sc_idmap *m, uint64_t id, void *value)
{
    size_t s = idmap_slot(id, m->nb);

    for (idmap_node *x = m->b[s]; x; x = x->next)
        if (x->id == id) {
            x->value = value;
            return 0;
        }
    idmap_node *x = malloc(sizeof *x);
    if (!x)
        return -1;
    x->id = id;
    x->value = value;
    x->next = m->b[s];
    m->b[s] = x;
    if (++m->n > m->nb)
        idmap_grow(m);
    return 0;
}

void *sc_idmap_get(const sc_idmap *m, uint64_t id)
{
    for (idmap_node *x = m->b[idmap_slot(id, m->nb)]; x; x = x->next)
        if (x->id == id)
            return x->value;
    return NULL;
}

void *sc_idmap_del(sc_idmap *m, uint64_t id)
{
    for (idmap_node **pp = &m->b[idmap_slot(id, m->nb)]; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id) {
            idmap_node *x = *pp;
            void *v = x->value;
            *pp = x->next;
            free(x);
            m->n--;
            return v;
        }
    return NULL;
}

size_t sc_idmap_count(const sc_idmap *m)
{
    return m->n;
}
