/*
 * clock.h - the capture's clock for idle expiry: packet time that does
 * not jump on one outlier (see clock.c).
 */
#ifndef SC_REASM_CLOCK_H
#define SC_REASM_CLOCK_H

#include <stdbool.h>
#include <sys/time.h>

typedef struct sc_clock {
    struct timeval now;        /* the time trusted so far */
    struct timeval cand;       /* a jump not confirmed yet */
    bool           set, has_cand;
} sc_clock;

/* sc_clock_feed's general case, for a time in another second. */
struct timeval sc_clock_feed_other(sc_clock *k, struct timeval ts, unsigned jump);

/* Feeds one packet's time; jump: the distance in seconds (ahead or
 * behind) beyond which one packet alone does not move the clock. Returns
 * the clock's time after it. On every packet, and mostly in the clock's
 * own second: within any jump, so the clock takes it without a call. */
static inline struct timeval sc_clock_feed(sc_clock *k, struct timeval ts, unsigned jump)
{
    if (k->set && ts.tv_sec == k->now.tv_sec) {
        k->now = ts;
        k->has_cand = false;
        return ts;
    }
    return sc_clock_feed_other(k, ts, jump);
}

#endif
