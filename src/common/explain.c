/*
 * explain.c - the explanations of src/common/explain.def as a table by
 * rule id, and their printing wrapped to a width (explain.h).
 *
 * Diagnostics: none; a rule without a line in explain.def has an empty
 * explanation, which tests/firstuse.sh catches for every rule.
 */
#include <string.h>

#include "explain.h"
#include "sc_types.h"

static const sc_explanation explain_table[SC_RULE_COUNT] = {
#define SC_EXPLAIN(e, what, why, cause, vendor) [e] = { what, why, cause, vendor },
#include "explain.def"
#undef SC_EXPLAIN
};

static const char *const explain_headings[SC_EXPLAIN_PARTS] = {
    "What happened", "Why it matters", "Usual cause", "What to tell the vendor",
    "What the standard says",
};

const sc_explanation *sc_explain(sc_rule_id id)
{
    static const sc_explanation none = { "", "", "", "" };
    const sc_explanation *x = (unsigned)id < SC_RULE_COUNT ? &explain_table[id] : &none;

    return x->what ? x : &none;
}

const char *sc_explain_heading(int n)
{
    return n >= 0 && n < SC_EXPLAIN_PARTS ? explain_headings[n] : "";
}

const char *sc_explain_part(const sc_rule *r, int n)
{
    const sc_explanation *x = sc_explain(r->id);

    switch (n) {
    case 0: return x->what;
    case 1: return x->why;
    case 2: return x->cause;
    case 3: return x->vendor;
    case 4: return r->rests_on;
    default: return "";
    }
}

size_t sc_wrap_len(const char *text, size_t width)
{
    size_t n = strlen(text), cut = 0;

    if (width == 0 || n <= width)
        return n;
    for (size_t i = 0; i <= width; i++)
        if (text[i] == ' ')
            cut = i;
    return cut ? cut : width;
}

void sc_explain_print(FILE *fp, const sc_rule *r, size_t width)
{
    const size_t indent = 2;

    fprintf(fp, "%s (%s, %s by default)\n", r->name, sc_side_name(r->side),
            sc_severity_name(r->severity));
    for (int n = 0; n < SC_EXPLAIN_PARTS; n++) {
        const char *t = sc_explain_part(r, n);
        fprintf(fp, "\n%s:\n", sc_explain_heading(n));
        while (*t) {
            size_t k = sc_wrap_len(t, width > indent + 20 ? width - indent : 20);
            fprintf(fp, "%*s%.*s\n", (int)indent, "", (int)k, t);
            t += k;
            while (*t == ' ')
                t++;
        }
    }
    fprintf(fp, "\nCitation: %s\n", r->cite);
}
