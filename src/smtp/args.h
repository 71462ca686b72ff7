/*
 * args.h - readers of SMTP command arguments: pure functions over one
 * command line (the kept prefix the client machine hands over), with no
 * session state. They sit beside the command table (command.h) because
 * they read the same grammar: RFC 5321 §4.1.1.2, §4.1.1.3 (MAIL, RCPT and
 * their parameters), RFC 1870 (SIZE=), RFC 6152 and RFC 3030 (BODY=),
 * RFC 3030 §2 (BDAT), RFC 4954 §4 (AUTH).
 *
 * Interface: sc_arg_after() finds the argument after the verb (and an
 * optional "FROM:"/"TO:"); sc_arg_param() finds one ESMTP parameter of a
 * MAIL/RCPT line; sc_arg_number() reads a decimal count; sc_arg_bdat()
 * reads "BDAT" SP chunk-size [ SP "LAST" ]; sc_arg_unadvertised() names
 * the MAIL/RCPT parameters whose EHLO keyword is missing; sc_arg_auth()
 * reads an AUTH mechanism and what the analyser knows about it;
 * sc_arg_word() measures a word (the EHLO domain, a greeting's host).
 *
 * Diagnostics: none; a malformed argument is reported by the return value
 * (the server will answer it with 501, which is its business).
 */
#ifndef SC_SMTP_ARGS_H
#define SC_SMTP_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The argument after "VERB " and an optional `prefix` ("FROM:", "TO:",
 * "" for none), leading spaces skipped. */
void sc_arg_after(const uint8_t *t, size_t n, const char *prefix,
                  const uint8_t **ap, size_t *an);

/* The length of the word at p (up to a space, a tab or n). */
size_t sc_arg_word(const uint8_t *p, size_t n);

/* The ESMTP parameter `name` ("SIZE=", "SMTPUTF8") of a MAIL/RCPT line,
 * after the path: its value (and length), or NULL. */
const uint8_t *sc_arg_param(const uint8_t *t, size_t n, const char *name, size_t *vlen);

/* A decimal number of 1 to 19 digits; *ok false otherwise. */
uint64_t sc_arg_number(const uint8_t *p, size_t n, bool *ok);

/* A BDAT line: SC_BDAT_OK with the chunk size and whether it is the LAST
 * one; otherwise a syntax error (the server refuses it without reading a
 * chunk: the next bytes are commands again), in the size or after it. */
typedef enum sc_bdat_syntax { SC_BDAT_OK, SC_BDAT_BAD_SIZE, SC_BDAT_BAD_END } sc_bdat_syntax;
sc_bdat_syntax sc_arg_bdat(const uint8_t *t, size_t n, uint64_t *size, bool *last);

/* The parameters of a MAIL/RCPT line that need an extension absent from
 * `ext` (SC_EXT_* bits), as "SIZE=, BODY=8BITMIME" in out[cap]: its
 * length, 0 when every parameter used was advertised. */
size_t sc_arg_unadvertised(const uint8_t *t, size_t n, unsigned ext, char *out, size_t cap);

/* What an AUTH mechanism is, for the rules about it. */
enum {
    SC_AUTH_CREDENTIALS = 1u << 0,   /* sends a password in the clear (PLAIN, LOGIN) */
    SC_AUTH_ONE_ROUND   = 1u << 1    /* completes in one round trip (PLAIN, EXTERNAL) */
};

/* An AUTH line: the mechanism (*mech, *mlen), where the initial response
 * starts (*resp; == n when there is none) and the SC_AUTH_* bits. */
unsigned sc_arg_auth(const uint8_t *t, size_t n, const uint8_t **mech, size_t *mlen,
                     size_t *resp);

#endif
