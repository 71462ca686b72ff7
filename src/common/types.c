/*
 * types.c - names and formatting of the shared vocabulary (sc_types.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sc_types.h"

const char *sc_endpoint_str(const sc_endpoint *ep, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN];

    if (!inet_ntop(ep->family == AF_INET6 ? AF_INET6 : AF_INET, ep->addr, a, sizeof a))
        snprintf(a, sizeof a, "?");
    if (ep->family == AF_INET6)
        snprintf(buf, len, "[%s]:%u", a, (unsigned)ep->port);
    else
        snprintf(buf, len, "%s:%u", a, (unsigned)ep->port);
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
