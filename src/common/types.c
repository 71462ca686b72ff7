/*
 * types.c - names and formatting of the shared vocabulary (sc_types.h).
 *
 * Addresses: IPv4 is written here by hand, IPv6 by inet_ntop. glibc's
 * inet_ntop writes IPv4 with sprintf (2 000 instructions an address), and
 * every JSON line and report block names its addresses; the dotted quad
 * is simple enough to write directly, in the same text (each byte in
 * decimal without leading zeros). tests/unit/test_fastfmt.c compares
 * the two on every byte value in every position and a million random
 * addresses. IPv6's shortest form (RFC 5952's zero compression) stays
 * with libc.
 *
 * Numbers: sc_u64_put writes two digits a step from a table of the
 * hundred pairs, in place from the number's end once its length is
 * known (JSON writes a dozen numbers a session line, most of four to six
 * digits: a digit a division and a copy out of a scratch buffer cost
 * 70 instructions a number). test_fastfmt compares it with printf.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sc_types.h"

/* "00" to "99": a number is written two digits a step, from its last. */
#define U64_PAIRS(t) t "0" t "1" t "2" t "3" t "4" t "5" t "6" t "7" t "8" t "9"
static const char u64_pairs[] =
    U64_PAIRS("0") U64_PAIRS("1") U64_PAIRS("2") U64_PAIRS("3") U64_PAIRS("4")
    U64_PAIRS("5") U64_PAIRS("6") U64_PAIRS("7") U64_PAIRS("8") U64_PAIRS("9");
#undef U64_PAIRS

/* How many decimal digits v (at least 1000) has. */
static unsigned u64_digits(uint64_t v)
{
    unsigned n = 4;

    for (; v >= 100000; v /= 10000)
        n += 4;
    return n + (v >= 10000 ? 1 : 0) - (v < 1000 ? 1 : 0) - (v < 100 ? 1 : 0) - (v < 10 ? 1 : 0);
}

char *sc_u64_put(char *p, uint64_t v)
{
    if (v < 10) {       /* address bytes and most counts: no loop */
        *p = (char)('0' + v);
        return p + 1;
    }
    if (v < 100) {
        memcpy(p, u64_pairs + 2 * v, 2);
        return p + 2;
    }
    if (v < 1000) {
        uint64_t h = v / 100;
        *p = (char)('0' + h);
        memcpy(p + 1, u64_pairs + 2 * (v - 100 * h), 2);
        return p + 3;
    }

    /* ports, frames, byte counts: their length first, then written in
     * place from the end, two digits a division */
    char *end = p + u64_digits(v), *w = end;

    while (v >= 100) {
        w -= 2;
        memcpy(w, u64_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(w - 2, u64_pairs + 2 * v, 2);
    else
        w[-1] = (char)('0' + v);
    return end;
}

const char *sc_addr_str(const sc_endpoint *ep, char *buf, size_t len)
{
    char a[INET_ADDRSTRLEN], *p = a;

    if (ep->family == AF_INET6)
        return inet_ntop(AF_INET6, ep->addr, buf, (socklen_t)len);
    for (int i = 0; i < 4; i++) {
        p = sc_u64_put(p, ep->addr[i]);
        *p++ = i < 3 ? '.' : '\0';
    }
    if ((size_t)(p - a) > len)
        return NULL;            /* inet_ntop's ENOSPC */
    memcpy(buf, a, (size_t)(p - a));
    return buf;
}

const char *sc_endpoint_str(const sc_endpoint *ep, char *buf, size_t len)
{
    char a[1 + INET6_ADDRSTRLEN + 7], *p = a;   /* "[" addr "]:" port NUL */
    bool v6 = ep->family == AF_INET6;

    if (v6)
        *p++ = '[';
    if (!sc_addr_str(ep, p, INET6_ADDRSTRLEN))
        memcpy(p, "?", 2);
    p += strlen(p);
    if (v6)
        *p++ = ']';
    *p++ = ':';
    p = sc_u64_put(p, ep->port);
    *p = '\0';
    if ((size_t)(p - a) < len)
        memcpy(buf, a, (size_t)(p - a) + 1);
    else
        snprintf(buf, len, "%s", a);    /* cut as before */
    return buf;
}

static const char *const severity_names[] = { "info", "warning", "error" };
static const char *const side_names[] = { "client", "server", "either", "capture" };

const char *sc_severity_name(sc_severity s)
{
    return (unsigned)s < 3 ? severity_names[s] : "?";
}

const char *sc_side_name(sc_side s)
{
    return (unsigned)s < 4 ? side_names[s] : "?";
}

int sc_severity_parse(const char *name, sc_severity *out)
{
    for (unsigned i = 0; i < 3; i++)
        if (strcmp(name, severity_names[i]) == 0) {
            *out = (sc_severity)i;
            return 0;
        }
    return -1;
}
