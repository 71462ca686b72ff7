/*
 * jobs.h - -j N: a capture file analysed by N processes, the report byte
 * for byte the one a single process writes (src/jobs/jobs.c).
 */
#ifndef SC_JOBS_H
#define SC_JOBS_H

#include <stdbool.h>

#include "common/config.h"
#include "pipeline/pipeline.h"
#include "session/session.h"

/* True when cfg asks for -j N (N > 1) on what can be split: capture
 * files (one, or several with --separate), the text or JSON report, no
 * --write-streams (the timeline and
 * live capture are never split). */
bool sc_jobs_usable(const sc_config *cfg);

/* Analyses the capture file path as sc_pipeline_file does, the records
 * going to fan (the analyser's: sc_analyzer_fanout) in the order, and
 * with the session ids, one process gives them, and the frames and bytes
 * read added to fan->totals. A plain file is analysed by cfg->jobs
 * worker processes; standard input and gzip files, which cannot be read
 * again as cheaply, by this process through h (the analyser's handler)
 * and hooks, exactly as without -j. Returns 0; 1 for a damaged capture
 * (sc_pipeline_file: what came before the damage is analysed, the reason
 * in err); or -1 with a one-line reason in err (the caller exits 2): a
 * worker that failed after records were merged leaves them in fan. */
int sc_jobs_file(const sc_config *cfg, const char *path, sc_fanout *fan,
                 const sc_flow_handler *h, const sc_pipeline_hooks *hooks,
                 char *err, size_t errlen);

#endif
