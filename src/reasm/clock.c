/*
 * clock.c - the capture's clock for idle expiry.
 *
 * Interface: clock.h (internal to src/reasm; reasm.c keeps one, the
 * pipeline feeds it every packet's time and expires against it).
 *
 * Idle connections are closed when the capture's time has moved past
 * their last packet by the idle timeout. Packet time is the capture's
 * own, and one packet can carry a time far from it: a stray frame from a
 * host whose clock is off, a pcap record whose timestamp was damaged, a
 * hostile sender of captures. Taken as it is, one packet stamped a year
 * ahead closed every open session as idle (and the rest of each came
 * out as mid-stream sessions, with false findings); one stamped a year
 * behind held back nothing, but the next packet then looked like a jump.
 * So a time more than `jump` seconds (the idle timeout) from the clock,
 * ahead or behind, moves the clock only once a second packet confirms
 * it (a time within `jump` of the first): a capture whose clock really
 * jumped (merged files, a host's clock set) follows one packet later,
 * and a lone outlier changes nothing. Within `jump`, the clock is the
 * packet's time, as it always was (a little backwards on reordered
 * frames: expiring against an earlier time closes nothing early).
 *
 * Diagnostics: none.
 */
#include "clock.h"

static bool clock_near(struct timeval a, struct timeval b, unsigned jump)
{
    long long d = (long long)a.tv_sec - (long long)b.tv_sec;

    return d <= (long long)jump && d >= -(long long)jump;
}

struct timeval sc_clock_feed_other(sc_clock *k, struct timeval ts, unsigned jump)
{
    if (!k->set || clock_near(ts, k->now, jump) ||
        (k->has_cand && clock_near(ts, k->cand, jump))) {
        k->now = ts;
        k->set = true;
        k->has_cand = false;
    } else {
        k->cand = ts;                 /* an outlier, until confirmed */
        k->has_cand = true;
    }
    return k->now;
}
