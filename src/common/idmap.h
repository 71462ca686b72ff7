/*
 * idmap.h - session id -> per-session state of an output (a hash table).
 *
 * Outputs receive records of many concurrent sessions interleaved and find
 * their state by the session id; the table grows with concurrent sessions.
 */
#ifndef SC_IDMAP_H
#define SC_IDMAP_H

#include <stdint.h>
#include <stddef.h>

typedef struct sc_idmap sc_idmap;

sc_idmap *sc_idmap_new(void);
void sc_idmap_free(sc_idmap *m);
/* 0, or -1 when out of memory. An existing id is replaced; a NULL value
 * removes it. */
int sc_idmap_put(sc_idmap *m, uint64_t id, void *value);
void *sc_idmap_get(const sc_idmap *m, uint64_t id);
/* Removes id; returns its value or NULL. */
void *sc_idmap_del(sc_idmap *m, uint64_t id);
size_t sc_idmap_count(const sc_idmap *m);

#endif
