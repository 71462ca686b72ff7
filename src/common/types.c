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
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sc_types.h"

char *sc_u64_put(char *p, uint64_t v)
{
    char d[SC_U64_DIGITS];
    size_t k = sizeof d;

    if (v < 1000) {     /* address bytes and most counts: no loop, no copy */
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        return p;
    }

    do d[--k] = (char)('0' + v % 10); while ((v /= 10) != 0);
    memcpy(p, d + k, sizeof d - k);
    return p + (sizeof d - k);
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
