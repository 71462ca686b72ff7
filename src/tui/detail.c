/*
 * detail.c - the finding detail view (tui_detail.h): one finding, whole,
 * wrapped to the screen's width; then the rule explained (explain.def), the
 * transcript lines that led to it, and the standard's text.
 *
 * Every text drawn here is already escaped (the message and the lines by
 * the view, through the safe printer) or comes from the catalogue.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "common/explain.h"
#include "tui_detail.h"
#include "tui_screen.h"

typedef struct detail_pen {
    int top, y0, h, w, row;     /* row: the next row of the whole view */
} detail_pen;

/* One row of the view: drawn when it falls in the window. */
static void detail_row(detail_pen *p, int indent, const char *s, size_t n, int attr)
{
    int y = p->row++ - p->top;

    if (y < 0 || y >= p->h)
        return;
    if (attr)
        attron(attr);
    mvaddnstr(p->y0 + y, indent, s, (int)n < p->w - indent ? (int)n : p->w - indent);
    if (attr)
        attroff(attr);
}

/* A paragraph wrapped to the width, indented. */
static void detail_text(detail_pen *p, int indent, const char *t, int attr)
{
    size_t width = p->w - indent > 10 ? (size_t)(p->w - indent) : 10;

    while (*t) {
        size_t k = sc_wrap_len(t, width);
        detail_row(p, indent, t, k, attr);
        t += k;
        while (*t == ' ')
            t++;
    }
}

int tui_detail_draw(const tui_detail *d, int top, int y0, int h, int w)
{
    detail_pen p = { top, y0, h, w, 0 };
    char head[256];

    for (int y = 0; y < h; y++) {
        move(y0 + y, 0);
        clrtoeol();
    }
    snprintf(head, sizeof head, "%s %s (%s) at %s", sc_severity_name(d->severity),
             d->rule ? d->rule->name : "?", sc_side_name(d->side), d->frame);
    detail_text(&p, 0, head, A_BOLD);
    detail_text(&p, 2, d->message ? d->message : "", 0);
    if (d->ncontext) {
        detail_row(&p, 0, "", 0, 0);
        detail_text(&p, 0, "Lines and frames:", A_BOLD);
        for (size_t i = 0; i < d->ncontext; i++)
            detail_text(&p, 2, d->context[i], 0);
    }
    for (int n = 0; d->rule && n < SC_EXPLAIN_PARTS; n++) {
        detail_row(&p, 0, "", 0, 0);
        snprintf(head, sizeof head, "%s:", sc_explain_heading(n));
        detail_text(&p, 0, head, A_BOLD);
        detail_text(&p, 2, sc_explain_part(d->rule, n), 0);
    }
    detail_row(&p, 0, "", 0, 0);
    detail_text(&p, 0, "Up/Down scroll, any other key closes", A_DIM);
    return p.row;
}

void tui_detail_clear(tui_detail *d)
{
    free(d->message);
    for (size_t i = 0; i < d->ncontext; i++)
        free(d->context[i]);
    memset(d, 0, sizeof *d);
}
