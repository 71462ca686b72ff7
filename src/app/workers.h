/*
 * workers.h - -j N: capture files analysed by N processes (workers.c).
 */
#ifndef SC_APP_WORKERS_H
#define SC_APP_WORKERS_H

#include <stdbool.h>

#include "config.h"
#include "record.h"

/* True when cfg asks for -j N (N > 1) on something it can split: capture
 * files, the text or JSON report, no --write-streams. Otherwise the run is
 * a single process (the timeline and live capture are never split). */
bool sc_workers_usable(const sc_config *cfg);

/* Analyses cfg->files with cfg->jobs processes and hands the records to
 * the sinks in the order, and with the session ids, a single process
 * would have; ends with sink->finish. Fills *totals. Returns 0, or 2 when
 * a file could not be analysed (one line on stderr, as without -j). */
int sc_workers_run(const sc_config *cfg, sc_sink **sinks, size_t nsinks, sc_totals *totals);

#endif
