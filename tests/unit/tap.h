/*
 * tap.h - the smallest test protocol: each check prints
 *   PASS: name            or
 *   FAIL: name: reason
 * and tests/run.sh counts them. A test program exits non-zero when any
 * check failed.
 */
#ifndef SC_TAP_H
#define SC_TAP_H

#include <stdio.h>

static int tap_failed;

#define T_CHECK(cond, ...) do {                                   \
        if (cond) { printf("PASS: "); printf(__VA_ARGS__); printf("\n"); } \
        else { tap_failed = 1; printf("FAIL: "); printf(__VA_ARGS__);      \
               printf(": %s:%d: %s\n", __FILE__, __LINE__, #cond); }        \
        fflush(stdout);                                           \
    } while (0)

#define T_SKIP(...) do { printf("SKIP: "); printf(__VA_ARGS__); printf("\n"); } while (0)

#define T_DONE() return tap_failed ? 1 : 0

#endif
