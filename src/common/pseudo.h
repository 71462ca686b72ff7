/*
 * pseudo.h - the pseudonyms of --redact=addresses: one mapping per run
 * from real IP addresses, host names and mailboxes to stand-ins.
 *
 * Every output that shows an address or a name gets it from here, so the
 * same real address or name has the same pseudonym in the text report,
 * the JSON, the HTML, the evidence .txt and the pcapng's bytes, in every
 * session of the run. Pseudonyms are derived with HMAC-SHA256 (OpenSSL
 * libcrypto) under a key drawn at random for the run, or read from
 * --redact-key FILE so that runs on several machines agree.
 *
 *   - An IP address becomes an address of a block that is never assigned
 *     and whose text is as long as the real one's (so that an address
 *     literal in an SMTP line keeps its length in the packet bytes):
 *     240.0.0.0/4 ("reserved", RFC 1112 4), 0.0.0.0/8 for the texts of
 *     7 and 8 characters ("1.2.3.4"), and 2001:db8::/96 (documentation,
 *     RFC 3849) for IPv6. The mapping is a table: two addresses never get
 *     one pseudonym while it has room (SC_PSEUDO_TABLE_MAX addresses);
 *     beyond it an address gets its first keyed choice unchecked, and
 *     sc_pseudo_unchecked() counts them.
 *   - A name (domain, local part, word) keeps its length and its layout:
 *     letters become letters, digits digits, every other byte stays
 *     (dots, hyphens, '@', brackets). A domain that is a plain host name
 *     with a dot, of 7 characters or more, ends in ".test" (RFC 2606). Domains are
 *     taken case-insensitively (the pseudonym is lower case); local parts
 *     and words exactly.
 *
 * Interface: sc_pseudo_init once before any use (else nothing is on);
 * then the functions below. Not thread-safe (one analysis per process).
 * Diagnostics: sc_pseudo_init says why a key file cannot be used.
 */
#ifndef SC_PSEUDO_H
#define SC_PSEUDO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sc_types.h"

#define SC_PSEUDO_TABLE_MAX 65536   /* addresses mapped collision-free */
#define SC_PSEUDO_KEY_MIN   16      /* bytes of a --redact-key file, at least */
#define SC_PSEUDO_KEY_MAX   4096    /* ... and at most */

/* keyfile NULL: a random key. Returns 0, or -1 with a one-line reason. */
int sc_pseudo_init(const char *keyfile, char *err, size_t errlen);
bool sc_pseudo_on(void);
void sc_pseudo_done(void);

/* The pseudonym of ep's address (the port is kept). */
void sc_pseudo_endpoint(sc_endpoint *out, const sc_endpoint *ep);

/* Same-length rewrites in place of n bytes. */
void sc_pseudo_domain(uint8_t *p, size_t n);
void sc_pseudo_local(uint8_t *p, size_t n);
/* An address text (dotted quad; an IPv6 text after "IPv6:"): true and
 * rewritten to the address's pseudonym written in as many characters,
 * or false and left alone when p is no address. An IPv6 pseudonym that
 * cannot be written in n characters leaves its hex digits scrambled
 * (sc_pseudo_unmatched counts them). */
bool sc_pseudo_ipv4_text(uint8_t *p, size_t n);
bool sc_pseudo_ipv6_text(uint8_t *p, size_t n);

uint64_t sc_pseudo_unchecked(void);   /* addresses beyond the table */
uint64_t sc_pseudo_unmatched(void);   /* IPv6 texts not written as their pseudonym */

#endif
