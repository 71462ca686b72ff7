/*
 * test_grow.c - sc_grow (src/common/grow.h): room by doubling, the array
 * kept when there is room, and a size that would overflow refused with
 * the array and its capacity unchanged.
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
    T_DONE();
}
