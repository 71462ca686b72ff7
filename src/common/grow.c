/*
 * grow.c - sc_grow (src/common/grow.h): the one place where an array of
 * records that only grows (findings counted past the cap, evidence cuts,
 * the timeline's sessions) gets its room. Doubling keeps the copies to
 * about one per element; the overflow test keeps a hostile count from
 * wrapping the size.
 */
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"

void *sc_grow_bytes(void *buf, size_t *cap, size_t need, size_t first, size_t max)
{
    size_t ncap = *cap ? *cap : first;
    void *p;

    if (need <= *cap)
        return buf;
    if (need > max || ncap == 0)
        return NULL;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
    if (ncap > max)
        ncap = max;
    if (!(p = realloc(buf, ncap)))
        return NULL;
    *cap = ncap;
    return p;
}

void *sc_grow(void *arr, size_t *cap, size_t n, size_t size, size_t first)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return arr;
    ncap = *cap ? *cap * 2 : first;
    if (ncap <= *cap || size == 0 || ncap > SIZE_MAX / size)
        return NULL;
    if (!(p = realloc(arr, ncap * size)))
        return NULL;
    *cap = ncap;
    return p;
}
