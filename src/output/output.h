/*
 * output.h - the outputs: text report (and ladder), JSON Lines, evidence
 * bundles. Each is an sc_sink (record.h); the analyser fans records out to
 * every sink the options ask for.
 */
#ifndef SC_OUTPUT_H
#define SC_OUTPUT_H

#include <stdio.h>
#include "capture/capture.h"
#include "common/config.h"
#include "common/record.h"

/* The text report of docs/interface.md (with --ladder, the two-column form),
 * sessions in order of start, totals per rule at the end. */
sc_sink *sc_text_sink_new(const sc_config *cfg, FILE *out);

/* JSON Lines: session, finding, peer and summary records, to out (NULL:
 * none) and each also to tee (NULL: none) when it is complete: the object
 * without its newline, its "type" and a syslog severity (--syslog). */
#define SC_SYSLOG_INFO 6
typedef void (*sc_json_tee)(void *ctx, const char *type, int severity,
                            const char *line, size_t len);
sc_sink *sc_json_sink_new(const sc_config *cfg, FILE *out, sc_json_tee tee, void *tee_ctx);

/* --evidence DIR: session-ID.pcap and session-ID.txt per reported session.
 * Returns NULL with a reason in err when DIR cannot be used. */
sc_sink *sc_evidence_sink_new(const sc_config *cfg, const char *dir,
                              char *err, size_t errlen);

/* --html FILE: the run's HTML report (index and every reported session's
 * ladder) in one self-contained file, without the rest of the bundle.
 * NULL with a reason in err when FILE cannot be created. */
sc_sink *sc_html_report_new(const sc_config *cfg, const char *path, char *err, size_t errlen);

/* Live capture (-i): there is no capture file to cut the pcaps from
 * afterwards, so the evidence sink keeps each connection's packets on disk
 * (a private spool under DIR, src/output/livecut.h) and writes the
 * session's pcap when the session ends. live_open is called once the
 * capture is open and privileges dropped (-1 with a reason in err: DIR is
 * not writable); live_packet for every packet of a connection; live_closed
 * when the connection is gone (its spool is removed). */
int  sc_evidence_live_open(sc_sink *ev, const sc_live_source *src, char *err, size_t errlen);
void sc_evidence_live_packet(sc_sink *ev, uint64_t conn_id, const sc_packet *pkt);
void sc_evidence_live_closed(sc_sink *ev, uint64_t conn_id);

/* The timeline's `e`: the bundle of the one session cfg->only_session,
 * written whatever its findings. DIR is created when missing and may hold
 * bundles already: a name in use gets a copy number (session-3.2.txt).
 * Nothing is printed: the outcome ("wrote DIR/session-3.txt, ...", or the
 * first error) is left in msg, "" when the session never came. Returns
 * NULL with the reason in msg when DIR cannot be used. msg must outlive
 * the sink. */
sc_sink *sc_evidence_one_new(const sc_config *cfg, const char *dir,
                             char *msg, size_t msglen);

/* Per-peer summaries (peers.h): set_peers makes the text report end with
 * their table (after the totals) and the JSON Lines with their "peer"
 * objects (before the summary); write_peers writes them now (SIGUSR1,
 * --summary-interval), "final":false in JSON. */
typedef struct sc_peers sc_peers;
void sc_text_set_peers(sc_sink *text, sc_peers *peers);
void sc_text_write_peers(sc_sink *text);
void sc_json_set_peers(sc_sink *json, sc_peers *peers);
void sc_json_write_peers(sc_sink *json);

/* Whether to colour: setting 1 always, 0 never, -1 when out is a terminal,
 * NO_COLOR is unset or empty and TERM is not "dumb". */
bool sc_output_want_color(int setting, FILE *out);

/* True when out is not a regular file (terminal, pipe, socket) nor the
 * null device: outputs then flush after each record so that live mode
 * reads them at once. */
bool sc_output_is_stream(FILE *out);

#endif
