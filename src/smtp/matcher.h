/*
 * matcher.h - the queue of commands waiting for their reply, and the rule
 * that pairs a reply with one of them.
 *
 * Each reply answers the oldest pending command (RFC 2920 §3.2 (1)). When
 * the code does not fit the oldest but is one of a later pending command's
 * own codes (221 for QUIT, 354 for DATA, 214 for HELP, ...), the reply
 * re-synchronises the queue: the skipped commands were lost. Optional
 * entries (a dot whose transaction the server already answered, content
 * a server read as commands) are skipped silently when they do not fit.
 *
 * The queue is bounded (SC_PENDING_MAX): commands beyond it are counted
 * as untracked, never stored, so a million pipelined commands cost no
 * more memory than sixteen. Once one is untracked, the commands behind it
 * are counted too (replies come in order: the untracked ones are answered
 * first), so the count stays truthful and the session can still say how
 * many were never answered. Clearing the queue forgets them.
 */
#ifndef SC_SMTP_MATCHER_H
#define SC_SMTP_MATCHER_H

#include <stdbool.h>
#include <stdint.h>

#include "command.h"

#define SC_PENDING_MAX  16
#define SC_PENDING_TEXT 64

enum {
    SC_PF_OPTIONAL = 1u << 0,  /* may go unanswered */
    SC_PF_BADSEQ   = 1u << 1,  /* out of sequence when the client sent it */
    SC_PF_INJECTED = 1u << 2,  /* sent after STARTTLS before its 220 */
    SC_PF_SMUGGLED = 1u << 3,  /* read from message content by a lenient server */
    SC_PF_INTXN    = 1u << 4,  /* ETRN sent inside a mail transaction */
    SC_PF_LAST     = 1u << 5,  /* BDAT ... LAST */
    SC_PF_BLIND    = 1u << 6,  /* sent before a gap or mid-stream sync */
    SC_PF_RESIDUE  = 1u << 7,  /* read from rejected content (500s expected) */
    SC_PF_ONEROUND = 1u << 8   /* AUTH with an initial response for a mechanism
                                  that completes in one round trip (PLAIN,
                                  EXTERNAL): it need not end a group */
};

typedef struct sc_pending {
    sc_verb   verb;
    unsigned  flags;
    uint64_t  frame;           /* frame of the command line */
    uint64_t  count;           /* SC_V_RESIDUE: lines still to be answered */
    uint8_t   tlen;
    uint8_t   text[SC_PENDING_TEXT];   /* the command line, for messages */
} sc_pending;

typedef struct sc_matcher {
    sc_pending *q;             /* ring of cap entries, grown on demand up to
                                  SC_PENDING_MAX (most sessions pipeline a
                                  few commands; an idle one holds none) */
    unsigned   cap, head, n;
    uint64_t   untracked;      /* commands not stored (the queue was full, or
                                  earlier ones were not stored), unanswered */
    uint64_t   untracked_frame;/* frame of the first of them */
} sc_matcher;

typedef enum sc_match_kind {
    SC_MATCH_NONE,       /* nothing pending */
    SC_MATCH_HEAD,       /* answers entry `index` (earlier ones are optional) */
    SC_MATCH_LATER,      /* can only answer entry `index`: earlier ones lost */
    SC_MATCH_MISMATCH    /* answers entry `index` with a code it does not allow */
} sc_match_kind;

void sc_matcher_init(sc_matcher *m);
void sc_matcher_free(sc_matcher *m);
/* Returns false (and counts it) when the queue is full. */
bool sc_matcher_push(sc_matcher *m, const sc_pending *p);
/* Inserts at the front (re-synchronisation on smuggled commands). */
bool sc_matcher_push_front(sc_matcher *m, const sc_pending *p);
sc_pending *sc_matcher_at(sc_matcher *m, unsigned i);
void sc_matcher_pop(sc_matcher *m);
void sc_matcher_clear(sc_matcher *m);
/* The newest entry that is not optional, or NULL. */
sc_pending *sc_matcher_last_firm(sc_matcher *m);
/* Number of entries that are not optional. */
unsigned sc_matcher_firm(const sc_matcher *m);

/* True when `code` may answer entry p. */
bool sc_pending_allows(const sc_pending *p, int code);
/* Decides which pending command a reply with `code` answers. */
sc_match_kind sc_matcher_match(sc_matcher *m, int code, unsigned *index);

#endif
