/*
 * safeprint.h - the one way wire bytes reach a human.
 *
 * Every byte that came off the wire is printed through these functions:
 * printable ASCII passes, valid UTF-8 passes except code points that hide
 * or reorder text (C1 controls, bidi overrides and isolates, zero-width
 * characters: see safeprint.c), everything else (control characters, ESC, DEL, invalid UTF-8) is
 * written as \xHH; a backslash is written as \\. The JSON escaper produces
 * a valid JSON string body for any input bytes (invalid UTF-8 as \u00HH of
 * the byte value, so no byte is lost).
 */
#ifndef SC_SAFEPRINT_H
#define SC_SAFEPRINT_H

#include <stdio.h>
#include "sc_types.h"

/* Escapes n bytes of p to fp for a terminal or text file. */
void sc_safe_fputs(FILE *fp, const uint8_t *p, size_t n);
/* The same for a NUL-terminated string (a file name, a message carrying
 * one): what the operator typed may hold any byte too. */
void sc_safe_fputstr(FILE *fp, const char *s);

/* Escapes into buf (always NUL-terminated); returns bytes written
 * (without the NUL). Truncates on a whole escape boundary. */
size_t sc_safe_snprint(char *buf, size_t buflen, const uint8_t *p, size_t n);

/* Display width (code points) of n bytes of already escaped text. */
size_t sc_safe_width(const char *s, size_t n);

/* The JSON escaper itself: the string body of p (no quotes) into out,
 * which has room bytes, up to the first unit that would not fit (an
 * escape or a code point is never split; room >= SC_JSON_UNIT_MAX always
 * takes at least one). Returns the bytes written; *used is the input
 * consumed. The JSON writer's buffer (src/output/jsonbuf.c) grows and
 * calls again until used reaches n. */
#define SC_JSON_UNIT_MAX 12
size_t sc_json_escape(char *out, size_t room, const uint8_t *p, size_t n, size_t *used);

/* How many of the n bytes of p, from the first, a JSON string body holds
 * as they are (printable ASCII but '"' and '\\'): a whole string that is
 * plain is copied without the escaper. */
size_t sc_json_plain_len(const uint8_t *p, size_t n);

/* Writes p as a JSON string, quotes included. */
void sc_json_fputs(FILE *fp, const uint8_t *p, size_t n);

/* Writes the NUL-terminated s as a JSON string, or null when s is NULL. */
void sc_json_fputstr(FILE *fp, const char *s);

#endif
