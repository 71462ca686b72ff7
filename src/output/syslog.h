/*
 * syslog.h - --syslog[=DEST]: each JSON object as one syslog message, to
 * the local socket or a collector, through a bounded queue that never
 * stalls the capture (defined by src/output/syslog.c).
 *
 * DEST (docs/interface.md):
 *   (none)            the local socket /dev/log
 *   unix:PATH         a local datagram socket at PATH
 *   tcp://HOST:PORT   RFC 5424 over TCP, RFC 6587 octet counting
 *   udp://HOST:PORT   RFC 5424, one message per datagram
 * HOST may be a name (resolved once, at the start) or an address, IPv6
 * in brackets ("tcp://[::1]:514").
 */
#ifndef SC_SYSLOG_H
#define SC_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/record.h"

typedef struct sc_syslog sc_syslog;

/* Parses DEST (NULL: the local socket) and prepares the queue of
 * queue_bytes; host is the HOSTNAME of the messages (the sensor). No
 * connection is made yet. NULL with a one-line reason in err: DEST is
 * not understood or its host does not resolve. */
sc_syslog *sc_syslog_open(const char *dest, const char *host, size_t queue_bytes,
                          char *err, size_t errlen);

/* Queues one message (msg: one JSON object, without newline; msgid: its
 * "type"; severity: syslog's 0-7) and sends what it can without waiting.
 * A full queue drops the message and counts it. The signature is that of
 * the JSON sink's tee (src/output/output.h): s is the sc_syslog. */
void sc_syslog_send(void *s, const char *msgid, int severity, const char *msg, size_t len);

/* Sends what the queue holds and the socket takes, reconnecting when the
 * backoff allows; never waits. Call it often (the live tick). */
void sc_syslog_pump(sc_syslog *s);

/* SIGHUP: drops the connection and makes a new one at once. */
void sc_syslog_reopen(sc_syslog *s);

/* The end of a run: sends the queue, waiting at most ms milliseconds;
 * what is left then counts as dropped. */
void sc_syslog_drain(sc_syslog *s, unsigned ms);

/* The counters, kept up to date (valid until sc_syslog_close). */
const sc_delivery *sc_syslog_counts(const sc_syslog *s);

/* One line "syslog DEST: N sent, ..." of the counters, for stderr. */
void sc_syslog_describe(const sc_syslog *s, char *buf, size_t len);

void sc_syslog_close(sc_syslog *s);

#endif
