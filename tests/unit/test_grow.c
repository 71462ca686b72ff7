/*
 * test_grow.c - sc_grow (src/common/grow.h): room by doubling, the array
 * kept when there is room, and a size that would overflow refused with
 * the array and its capacity unchanged; sc_grow_bytes: room doubled until
 * the bytes fit, never past its maximum, refused beyond it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/grow.h"
#include "tap.h"

int main(void)
{
    size_t cap = 0, n;
    int *a = NULL, *p;
    bool ok = true;

    for (n = 0; n < 1000; n++) {
        if (!(p = sc_grow(a, &cap, n, sizeof *a, 4))) {
            ok = false;
            break;
        }
        a = p;
        a[n] = (int)n;
    }
    for (size_t i = 0; i < n && ok; i++)
        ok = a[i] == (int)i;
    T_CHECK(ok && n == 1000 && cap == 1024, "1000 elements appended, room 4 doubled to %zu", cap);
    T_CHECK(sc_grow(a, &cap, 10, sizeof *a, 4) == a && cap == 1024, "room left: the same array");
    size_t big = SIZE_MAX / 2 + 1;
    T_CHECK(sc_grow(a, &big, big, 2, 4) == NULL && big == SIZE_MAX / 2 + 1,
            "a size past SIZE_MAX refused, capacity unchanged");
    free(a);

    size_t bcap = 0;
    char *b = sc_grow_bytes(NULL, &bcap, 1, 128, 4096), *c;
    T_CHECK(b && bcap == 128, "bytes: the first room for an empty buffer (%zu)", bcap);
    c = sc_grow_bytes(b, &bcap, 1000, 128, 4096);
    T_CHECK(c && bcap == 1024, "bytes: doubled until 1000 fit (%zu)", bcap);
    b = c ? c : b;
    T_CHECK(sc_grow_bytes(b, &bcap, 900, 128, 4096) == b && bcap == 1024,
            "bytes: room enough, the same buffer");
    c = sc_grow_bytes(b, &bcap, 3000, 128, 3500);
    T_CHECK(c && bcap == 3500, "bytes: doubling stops at the maximum (%zu)", bcap);
    b = c ? c : b;
    T_CHECK(sc_grow_bytes(b, &bcap, 3501, 128, 3500) == NULL && bcap == 3500,
            "bytes: past the maximum refused, room unchanged");
    free(b);
    T_DONE();
}
