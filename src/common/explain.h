/*
 * explain.h - each rule explained in plain words (src/common/explain.def):
 * what happened, why it matters to mail delivery, the usual cause, what to
 * tell the vendor; with the RFC text of rules.def. For `smtpscope
 * --explain RULE` and the timeline's finding detail view.
 *
 * (Defined by src/common/explain.c.)
 */
#ifndef SC_EXPLAIN_H
#define SC_EXPLAIN_H

#include <stdio.h>

#include "rules.h"

typedef struct sc_explanation {
    const char *what;      /* what happened */
    const char *why;       /* why it matters to mail delivery */
    const char *cause;     /* the usual cause */
    const char *vendor;    /* what to tell the vendor */
} sc_explanation;

/* The rule's explanation (never NULL for a rule of the catalogue). */
const sc_explanation *sc_explain(sc_rule_id id);

/* The headings and texts of an explanation, in the order they are shown:
 * n = 0..SC_EXPLAIN_PARTS-1; the last is the RFC text of rules.def. */
#define SC_EXPLAIN_PARTS 5
const char *sc_explain_heading(int n);
const char *sc_explain_part(const sc_rule *r, int n);

/* The length of the next line of text that fits width columns, cut after
 * a space when it can be (a word longer than width is cut). */
size_t sc_wrap_len(const char *text, size_t width);

/* Writes the rule's id, side, severity and its explanation, wrapped to
 * width columns (--explain). */
void sc_explain_print(FILE *fp, const sc_rule *r, size_t width);

#endif
