/*
 * workers.h - -j N: a capture file analysed by N processes (workers.c).
 */
#ifndef SC_APP_WORKERS_H
#define SC_APP_WORKERS_H

#include <stdbool.h>

#include "config.h"
#include "pipeline.h"
#include "record.h"

/* True when cfg asks for -j N (N > 1) on something it can split: capture
 * files (one, or several with --separate), the text or JSON report, no
 * --write-streams. Otherwise the run is
 * a single process (the timeline and live capture are never split). */
bool sc_workers_usable(const sc_config *cfg);

/* Analyses the capture file path with cfg->jobs processes and hands the
 * records to the sinks in the order, and with the session ids, a single
 * process would have, as they come. Adds to *totals (the file, packets,
 * bytes, sessions, findings); calls hooks->progress now and then (hooks
 * may be NULL). sink->finish is the caller's. Returns 0, or 2 when the
 * file could not be analysed (one line on stderr, as without -j). */
int sc_workers_file(const sc_config *cfg, const char *path, sc_sink **sinks, size_t nsinks,
                    const sc_pipeline_hooks *hooks, sc_totals *totals);

#endif
