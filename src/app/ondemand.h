/*
 * ondemand.h - the evidence bundle of one session on demand (the
 * timeline's `e` key), by analysing its capture file again
 * (src/app/ondemand.c).
 */
#ifndef SC_ONDEMAND_H
#define SC_ONDEMAND_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

/* Where `e` writes when --evidence DIR is not given. */
#define SC_ONDEMAND_DIR "smtpscope-evidence"

/* ctx is the run's sc_config (it must outlive the timeline). Has the
 * signature of sc_tui_evidence_fn (src/tui/tui.h). */
int sc_ondemand_evidence(void *ctx, const char *capture_file, uint64_t session_id,
                         char *msg, size_t len);

#endif
