/*
 * tui_detail.h - the finding detail view of the timeline (detail.c):
 * Enter on a finding shows its whole message wrapped, the rule's
 * explanation in plain words (src/common/explain.h), the lines and frames
 * before it, and the text of the standard, scrolled with the arrows.
 */
#ifndef SC_TUI_DETAIL_H
#define SC_TUI_DETAIL_H

#include <stddef.h>

#include "common/rules.h"

#define TUI_DETAIL_CONTEXT 4

typedef struct tui_detail {
    const sc_rule *rule;
    sc_severity    severity;
    sc_side        side;
    char           frame[48];               /* "#22" */
    char          *message;                 /* escaped, owned */
    char          *context[TUI_DETAIL_CONTEXT];  /* the lines before it, owned */
    size_t         ncontext;
} tui_detail;

/* Draws the view from its row `top` (scrolling) over the screen rows
 * [y0, y0 + h) and columns [0, w); returns the number of rows it has in
 * all (for scrolling to stop at its end). */
int tui_detail_draw(const tui_detail *d, int top, int y0, int h, int w);
void tui_detail_clear(tui_detail *d);

#endif
