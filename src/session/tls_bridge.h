/*
 * tls_bridge.h - TLS between the reassembler and an SMTP session.
 *
 * The analyser (analyzer.c) hands every event of a connection to
 * sc_tls_bridge_event first; the bridge feeds the TLS layer
 * (src/tls/tls.h) and gives the session plaintext DATA events.
 * Implementation: tls_bridge.c.
 */
#ifndef SC_TLS_BRIDGE_H
#define SC_TLS_BRIDGE_H

#include <stdbool.h>

#include "reasm/reasm.h"
#include "session.h"
#include "tls/tls.h"

/* ---- the bridge between the reassembler and a session ---- */

typedef struct sc_tls_bridge sc_tls_bridge;

/* Every event of a session's connection, before the session sees it
 * (*bp starts NULL and is allocated at the first event). Returns true
 * when the event was consumed: its bytes were TLS records, whose
 * plaintext has gone to the session as DATA events (each with the frame
 * that completed its record); false: give the event to the session.
 * kl NULL (no --tls-keylog): only implicit TLS is recognised (a
 * ClientHello as the client's first bytes). dump_dir, when not NULL:
 * the plaintext is also appended to dump_dir/NAME.c2s.tls and .s2c.tls
 * (NAME as --write-streams names the session). */
bool sc_tls_bridge_event(sc_tls_bridge **bp, sc_keylog *kl, sc_smtp *s,
                         const sc_flow_event *ev, const char *dump_dir,
                         const char *dump_name);
/* The connection's events before either side has sent bytes, when no
 * key log is given (no bridge is needed then): the client's first bytes,
 * when they are a ClientHello, make the session implicit TLS. Returns
 * true at the first event that carries bytes; the events after it need
 * not be shown. */
bool sc_tls_bridge_first(sc_smtp *s, const sc_flow_event *ev);
void sc_tls_bridge_free(sc_tls_bridge *b);

#endif
