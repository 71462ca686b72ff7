/*
 * merge.h - the -j parent's side: the workers' records read from their
 * pipes, put back in the order one process makes them, numbered, and
 * replayed into the run's outputs (src/jobs/merge.c).
 */
#ifndef SC_JOBS_MERGE_H
#define SC_JOBS_MERGE_H

#include <stdbool.h>

#include "common/config.h"
#include "pipeline/pipeline.h"
#include "session/session.h"
#include "wire.h"

typedef struct jobs_merge jobs_merge;

/* The merge of n workers writing to fds[0..n-1] (the merge closes them),
 * replayed into fan under the name file; hooks->progress gets worker
 * 0's progress (hooks may be NULL). NULL when out of memory (the fds
 * are then the caller's to close). */
jobs_merge *jobs_merge_new(const sc_config *cfg, int n, const int *fds, sc_fanout *fan,
                           const char *file, const sc_pipeline_hooks *hooks);
/* Reads and replays until every worker has written its last record.
 * False when one died or wrote something broken. */
bool jobs_merge_run(jobs_merge *m);
/* What worker i says it read (its last record). */
const wire_eos *jobs_merge_eos(const jobs_merge *m, int i);
void jobs_merge_free(jobs_merge *m);

#endif
