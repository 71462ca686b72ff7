/*
 * sc_types.h - vocabulary shared by every layer of smtpscope.
 *
 * Directions, endpoints, severities and sides. Nothing here allocates.
 * Every layer (capture, reasm, smtp, session, output, tui) includes this
 * header and nothing else of another layer's internals.
 */
#ifndef SC_TYPES_H
#define SC_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

/* Which peer sent a byte. The client is the side that connected to the
 * SMTP port (the SYN sender; on a mid-stream capture, the peer whose port
 * is not an SMTP port). */
typedef enum sc_dir {
    SC_DIR_C2S = 0,   /* client to server: commands, message content */
    SC_DIR_S2C = 1    /* server to client: replies */
} sc_dir;

/* One end of a TCP connection, with its real address (IPv4 or IPv6). */
typedef struct sc_endpoint {
    int      family;      /* AF_INET or AF_INET6 */
    uint8_t  addr[16];    /* network order; IPv4 uses the first 4 bytes */
    uint16_t port;        /* host order */
} sc_endpoint;

/* Severities are ordered: a finding passes --min-severity S when sev >= S. */
typedef enum sc_severity {
    SC_SEV_INFO = 0,
    SC_SEV_WARNING = 1,
    SC_SEV_ERROR = 2
} sc_severity;

/* The side at fault. SC_SIDE_EITHER appears only in the rule catalogue;
 * a finding always names client, server or capture. */
typedef enum sc_side {
    SC_SIDE_CLIENT = 0,
    SC_SIDE_SERVER = 1,
    SC_SIDE_EITHER = 2,
    SC_SIDE_CAPTURE = 3
} sc_side;

/* Writes v in decimal (as "%" PRIu64, at most SC_U64_DIGITS bytes, no
 * NUL) at p; returns the end. The one hand-written number formatter of
 * the outputs: addresses, JSON and the text report's hot paths. */
#define SC_U64_DIGITS 20
char *sc_u64_put(char *p, uint64_t v);

/* Formats "ip:port" ("[v6]:port" for IPv6) into buf, cut as snprintf
 * cuts; returns buf. */
const char *sc_endpoint_str(const sc_endpoint *ep, char *buf, size_t len);

/* The address alone, as inet_ntop writes it ("192.0.2.1", "2001:db8::1";
 * a family other than AF_INET6 is taken as IPv4); NULL when it does not
 * fit in len. */
const char *sc_addr_str(const sc_endpoint *ep, char *buf, size_t len);

const char *sc_severity_name(sc_severity s);   /* "info", "warning", "error" */
const char *sc_side_name(sc_side s);           /* "client", ... "capture" */
int sc_severity_parse(const char *name, sc_severity *out);  /* 0 ok, -1 bad */

#endif
