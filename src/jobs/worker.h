/*
 * worker.h - one -j worker: a share of a capture file's connections
 * analysed, its records written to the parent (src/jobs/worker.c).
 */
#ifndef SC_JOBS_WORKER_H
#define SC_JOBS_WORKER_H

#include <stdio.h>

#include "capture/capture.h"
#include "common/config.h"

/* Frames between a worker's marks (and its progress). */
#define JOBS_MARK_EVERY 4096

/* The child process: opens path itself (it must be the very file the
 * parent opened as orig), analyses the connections of share idx of n
 * and writes its records to out. Never returns: exit 0 after its
 * end-of-stream record, 3 when it could not go on. */
_Noreturn void jobs_worker_main(const sc_config *cfg, const char *path, const sc_capture *orig,
                                int idx, int n, FILE *out);

#endif
