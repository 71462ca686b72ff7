/*
 * anyport.h - --any-port: is a connection on a port that is not an SMTP
 * port an SMTP session?
 *
 * The analyser (analyzer.c) gives each event of such a connection to
 * sc_anyport_event until a verdict: SMTP when the server's first bytes
 * are a greeting AND the client sent a line that starts with a verb only
 * SMTP has (EHLO, HELO, MAIL, ...); not SMTP when the server opened with
 * anything else, when the client's first line after the greeting has no
 * such verb (FTP's USER, a POP3 or IMAP login), or when the connection
 * broke or ended first. Until then the events are held, in order and
 * bounded (anyport.c gives the bounds), and on the verdict SMTP replayed
 * into the session. Nothing held is ever printed: a connection that is
 * not SMTP leaves only a count in the totals.
 * Implementation: anyport.c.
 */
#ifndef SC_ANYPORT_H
#define SC_ANYPORT_H

#include <stdbool.h>

#include "reasm/reasm.h"

typedef enum sc_anyport_verdict {
    SC_ANYPORT_WAIT,      /* undecided: the event is held */
    SC_ANYPORT_SMTP,      /* replay the held events into a session */
    SC_ANYPORT_NOT        /* not SMTP: drop the connection */
} sc_anyport_verdict;

typedef struct sc_anyport sc_anyport;

/* One event of an undecided connection (*ap starts NULL, allocated at the
 * first bytes). With SC_ANYPORT_SMTP, *held says whether the event is in
 * the hold (replayed) or must still be given to the session after it. */
sc_anyport_verdict sc_anyport_event(sc_anyport **ap, const sc_flow_event *ev, bool *held);

/* The held events, in order, to fn (bytes as DATA, bytes beyond the
 * bound as one GAP). */
void sc_anyport_replay(const sc_anyport *ap, void (*fn)(void *ctx, const sc_flow_event *ev),
                       void *ctx);

/* True when the connection carried stream bytes (a flow worth counting). */
bool sc_anyport_had_bytes(const sc_anyport *ap);

void sc_anyport_free(sc_anyport *ap);

#endif
