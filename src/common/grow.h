/*
 * grow.h - room for one more element in an array that doubles as it fills
 * (src/common/grow.c).
 */
#ifndef SC_GROW_H
#define SC_GROW_H

#include <stddef.h>

/* arr holds n elements of size bytes in room for *cap. When n < *cap,
 * returns arr; else the array reallocated with twice the room (first
 * elements for an empty one) and *cap updated. NULL when out of memory
 * or the size would overflow: arr and *cap are then unchanged. */
void *sc_grow(void *arr, size_t *cap, size_t n, size_t size, size_t first);

/* A byte buffer of room *cap made to hold need bytes: its room doubled
 * (from first when empty) until need fits, but never past max. Returns the
 * buffer, reallocated if it had to grow; NULL when need exceeds max, the
 * size would overflow or memory is out: buf and *cap are then unchanged. */
void *sc_grow_bytes(void *buf, size_t *cap, size_t need, size_t first, size_t max);

#endif
