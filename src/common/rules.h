/*
 * rules.h - the rule catalogue as data.
 *
 * The table lives in src/common/rules.def (one line per rule); this header
 * turns it into the sc_rule_id enum and declares the table built by
 * src/common/rules.c. Lookups by id string serve --disable/--enable.
 */
#ifndef SC_RULES_H
#define SC_RULES_H

#include "sc_types.h"

typedef enum sc_rule_id {
#define SC_RULE(e, id, side, sev, relax, cite, rests, trig) e,
#include "rules.def"
#undef SC_RULE
    SC_RULE_COUNT
} sc_rule_id;

typedef struct sc_rule {
    sc_rule_id  id;
    const char *name;        /* stable id: "reply-lost" */
    sc_side     side;        /* may be SC_SIDE_EITHER */
    sc_severity severity;    /* default severity */
    bool        relaxed_by_rfc821;
    const char *cite;        /* short citation for one-line output */
    const char *rests_on;    /* full citation for evidence and docs */
    const char *trigger;     /* when it fires */
} sc_rule;

extern const sc_rule sc_rules[SC_RULE_COUNT];

/* Returns the rule named `name`, or NULL. */
const sc_rule *sc_rule_by_name(const char *name);

/* Writes the catalogue: plain text (--rules) or Markdown (docs/rules.md). */
#include <stdio.h>
void sc_rules_print(FILE *fp, bool markdown);

#endif
