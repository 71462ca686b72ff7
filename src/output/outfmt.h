/*
 * outfmt.h - words and numbers shared by the text report and JSON Lines,
 * so that both name things the same way.
 */
#ifndef SC_OUTFMT_H
#define SC_OUTFMT_H

#include "common/config.h"
#include "common/record.h"

/* "2024-01-02T03:04:05.123456Z" (RFC 3339, UTC, microseconds); buf >= 32. */
const char *sc_fmt_rfc3339(const struct timeval *tv, char *buf, size_t len);
/* Seconds from a to b (negative when b is earlier). */
double sc_fmt_elapsed(const struct timeval *a, const struct timeval *b);

/* Writes at w d as printf's "%.Nf" (N = decimals, at most 4; "%+.Nf"
 * when plus) and returns the end; at most SC_FMT_FIXED_MAX - 1 bytes, cut
 * there as snprintf into a buffer of SC_FMT_FIXED_MAX would. The common
 * case with integers; a value that is a tie one place past the last
 * decimal, or past 10^11, goes to snprintf itself, so the text is
 * printf's byte for byte (printf's floating point was a quarter of the
 * cost of a transcript line). */
#define SC_FMT_FIXED_MAX 32
char *sc_fmt_fixed(char *w, double d, unsigned decimals, bool plus);

const char *sc_fmt_close_by(sc_close_by by);      /* "client", "server", "none" */
const char *sc_fmt_close_how(sc_close_how how);   /* "fin", "rst", "capture-end", ... */
const char *sc_fmt_txn_result(sc_txn_result r);   /* "accepted", ... "unknown" */

/* The address part of a MAIL/RCPT argument: a leading "FROM:" or "TO:" (any
 * case) and spaces removed, so "FROM:<a@b> SIZE=9" and "<a@b> SIZE=9" read
 * the same. */
sc_bytes sc_fmt_path_arg(sc_bytes arg);

/* Findings of the session at or above every severity (sum of findings[]). */
uint64_t sc_fmt_findings_total(const sc_session_info *info);

/* The sensor's name: --sensor, or the host name ("unknown" without one). */
/* What --redact did, in words, for the evidence and the HTML: with
 * addresses true (--redact=addresses), the pseudonyms too. */
const char *sc_fmt_redacted(bool addresses);
void sc_fmt_sensor(const sc_config *cfg, char *buf, size_t len);

#endif
