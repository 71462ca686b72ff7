/*
 * wcheck.h - write failures: said once on stderr, remembered for the exit
 * status.
 *
 * Every output (the report on standard output, the JSON, the report's
 * temporary file, -w, --evidence, --write-streams) calls sc_write_lost
 * when a write fails; the program then ends with status SC_EXIT_WRITE
 * (docs/interface.md) instead of 0 or 1.
 *
 * Diagnostics: one line per output, "smtpscope: WHAT: REASON; LOST".
 */
#ifndef SC_WCHECK_H
#define SC_WCHECK_H

#include <stdbool.h>
#include <stdio.h>

#define SC_EXIT_WRITE 3

/* Records a failed write of output `what` (a file name or "standard
 * output"); err is the errno (0: unknown); lost says what is missing.
 * The first failure of the same `what` is printed, later ones only
 * counted. */
void sc_write_lost(const char *what, int err, const char *lost);

/* An output left incomplete for another reason than a failed write (why
 * says what happened and what is missing): said the same way, one line,
 * and the exit status is the same. */
void sc_write_incomplete(const char *what, const char *why);

/* True once any write failed. */
bool sc_write_failed(void);

/* Flushes out and checks its error flag; on failure sc_write_lost(what,
 * ..., lost) and -1. */
int sc_write_check(FILE *out, const char *what, const char *lost);

/* A temporary file in $TMPDIR (or /tmp), already unlinked, mode 0600;
 * NULL with errno set. tmpfile(3) ignores TMPDIR. */
FILE *sc_tmpfile(void);

#endif
