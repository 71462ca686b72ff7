/*
 * test_idmap.c - sc_idmap (src/common/idmap.h) against a plain array: ids
 * put, replaced, looked up and removed in a pseudo-random order through
 * several growths, including ids that share a slot and runs that wrap
 * around the end of the table, so that removals move the slots after
 * them; a NULL value removes its id.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/idmap.h"
#include "tap.h"

#define IDS 5000

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The id of index i: dense, sparse and huge ids mixed. */
static uint64_t id_of(size_t i)
{
    return i % 3 == 0 ? i : i % 3 == 1 ? i << 32 : UINT64_MAX - i;
}

int main(void)
{
    static uintptr_t ref[IDS];       /* 0: absent */
    sc_idmap *m = sc_idmap_new();
    size_t n = 0;
    bool ok = true, put_ok = true;

    T_CHECK(m && sc_idmap_get(m, 7) == NULL && sc_idmap_del(m, 7) == NULL &&
            sc_idmap_count(m) == 0, "an empty map has nothing");
    for (int round = 0; round < 200000 && m; round++) {
        size_t i = (size_t)(next() % IDS);
        uint64_t op = next() % 8;
        if (op < 4) {
            uintptr_t v = (uintptr_t)round * 2 + 1;
            put_ok &= sc_idmap_put(m, id_of(i), (void *)v) == 0;
            n += ref[i] == 0;
            ref[i] = v;
        } else if (op < 7) {
            ok &= (uintptr_t)sc_idmap_del(m, id_of(i)) == ref[i];
            n -= ref[i] != 0;
            ref[i] = 0;
        } else {
            ok &= (uintptr_t)sc_idmap_get(m, id_of(i)) == ref[i];
        }
        ok &= sc_idmap_count(m) == n;
    }
    for (size_t i = 0; i < IDS && m; i++)
        ok &= (uintptr_t)sc_idmap_get(m, id_of(i)) == ref[i];
    T_CHECK(put_ok, "every put succeeded");
    T_CHECK(ok, "200000 puts, removals and look-ups agree with an array (%zu ids left)", n);
    for (size_t i = 0; i < IDS && m; i++)
        if (ref[i]) {
            sc_idmap_put(m, id_of(i), NULL);
            n--;
        }
    T_CHECK(m && sc_idmap_count(m) == 0 && n == 0, "a NULL value removes its id");
    sc_idmap_free(m);
    T_DONE();
}
