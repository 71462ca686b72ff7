/*
 * session.h - one SMTP session replayed through the client and server
 * machines, and the analyser that owns all sessions of a run.
 *
 * sc_smtp is the unit the tests drive: feed it flow events (both
 * directions, wire order) and it emits transcript lines and findings to
 * its sink, then the session summary when it gets SC_FLOW_CLOSE.
 *
 * sc_analyzer implements sc_flow_handler for the reassembler: it creates an
 * sc_smtp per connection, whose records go out through an sc_fanout (the
 * outputs and the totals).
 */
#ifndef SC_SESSION_H
#define SC_SESSION_H

#include "common/config.h"
#include "common/record.h"
#include "reasm/reasm.h"

typedef struct sc_smtp sc_smtp;

sc_smtp *sc_smtp_new(const sc_config *cfg, const sc_conn *conn, sc_sink *out,
                     const char *capture_file);
/* The same in the memory of an ended session (sc_smtp_end), NULL to
 * allocate: a run that reuses one saves an allocation of a few kilobytes
 * per session, and the memory is still in the cache. */
sc_smtp *sc_smtp_new_in(sc_smtp *spare, const sc_config *cfg, const sc_conn *conn,
                        sc_sink *out, const char *capture_file);
/* Transcript lines go to lines rather than out (NULL: to no one); out
 * still gets every other record. */
void sc_smtp_lines_to(sc_smtp *s, sc_sink *lines);
void sc_smtp_packet(sc_smtp *s, const sc_packet *pkt);   /* frame accounting */
void sc_smtp_event(sc_smtp *s, const sc_flow_event *ev);
/* True once the session has emitted session_end. */
bool sc_smtp_done(const sc_smtp *s);
void sc_smtp_free(sc_smtp *s);
/* Frees what the session holds but not its own memory, which it returns
 * for sc_smtp_new_in (or free()). */
sc_smtp *sc_smtp_end(sc_smtp *s);

/* The records of a run handed to every output, and the run's totals
 * counted as they pass (src/session/fanout.c): whatever makes records
 * (the analyser's sessions, -j's merge) writes them to &fan->sink.
 * sc_fanout_finish calls finish on every output with the totals; the
 * counts the records do not carry (files, packets, bytes, live
 * statistics) are added to totals directly by their owner. */
#define SC_FANOUT_LINE_MAX 8
typedef struct sc_fanout {
    sc_sink    sink;
    sc_sink  **sinks;
    size_t     nsinks;
    sc_sink   *line[SC_FANOUT_LINE_MAX];   /* the sinks that take lines */
    size_t     nline;
    sc_totals  totals;
} sc_fanout;

void sc_fanout_init(sc_fanout *f, sc_sink **sinks, size_t nsinks);
/* Where a session sends its transcript lines: NULL when no output takes
 * them, the one output that does, or &f->sink when several do. */
sc_sink *sc_fanout_lines(sc_fanout *f);
void sc_fanout_finish(sc_fanout *f);

/* TLS decryption (src/session/tls_bridge.c drives these; smtp_tls.c). */
/* True once the session is in TLS (STARTTLS's 220, implicit TLS). */
bool sc_smtp_tls_started(const sc_smtp *s);
/* The client's first bytes are a ClientHello: implicit TLS on any port. */
void sc_smtp_tls_implicit(sc_smtp *s, uint64_t frame);
/* The TLS state (a name from sc_tls_state_name, kept as a pointer);
 * decrypted: the records open and the plaintext follows as DATA events;
 * false after true: decryption stopped, the rest is counted. */
void sc_smtp_tls_state(sc_smtp *s, const char *state, const char *version,
                       const char *cipher, bool decrypted, uint64_t frame);
/* The key log lines of the session's keys (sc_keylog_lines), kept as
 * info.tls_secrets unless --redact. */
void sc_smtp_tls_secrets(sc_smtp *s, const char *lines);
/* A note of the TLS layer, as a transcript line at frame. */
void sc_smtp_tls_note(sc_smtp *s, sc_dir dir, uint64_t frame, const char *msg);

typedef struct sc_analyzer sc_analyzer;

sc_analyzer *sc_analyzer_new(const sc_config *cfg, sc_sink **sinks, size_t nsinks);
const sc_flow_handler *sc_analyzer_handler(sc_analyzer *a);
void sc_analyzer_set_file(sc_analyzer *a, const char *capture_file);
/* The analyser's outputs and totals, for records made elsewhere (-j). */
sc_fanout *sc_analyzer_fanout(sc_analyzer *a);
/* Live capture: the interface and its pcap_stats counters for the
 * totals (frames received by the filter, dropped by the kernel and by the
 * interface; "dropped" is the sum of the last two). iface must outlive the
 * analyser's finish. */
void sc_analyzer_set_live(sc_analyzer *a, const char *iface, uint64_t received,
                          uint64_t dropped_kernel, uint64_t dropped_iface);
/* An input's analysis ended early (a damaged capture, a -j worker that
 * failed): counted in the totals, the first reason kept. */
void sc_analyzer_set_damaged(sc_analyzer *a, const char *reason);
/* Calls finish on every sink with the run's totals. */
void sc_analyzer_finish(sc_analyzer *a, sc_totals *out);
void sc_analyzer_free(sc_analyzer *a);

#endif
