/*
 * view.c - the timeline's screen: the session list above, the selected
 * session's timeline (transcript or ladder) below, a status line, and the
 * key loop (keys: src/tui/tui.h and the `?` screen).
 *
 * The list is an array of session indexes in display order (sorted,
 * filtered), rebuilt when the store changes or the sort or filter does;
 * only the visible rows are drawn. The timeline reads the visible records
 * of the selected session from the store; every wire byte shown goes
 * through sc_safe_snprint.
 *
 * `n`/`N` move to the next/previous finding, across sessions in display
 * order, wrapping around. After a `/` search they move to the next or
 * previous match instead (as in less), until Esc ends the search.
 *
 * Interface: sc_tui_run, sc_tui_start, sc_tui_poll, sc_tui_stop (tui.h).
 * Diagnostics: in the status line (evidence result, search not found,
 * spill file errors); sc_tui_start/sc_tui_run print a one-line reason
 * on stderr when no terminal can be used.
 */
#include <ctype.h>
#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/explain.h"
#include "common/frame.h"
#include "common/rules.h"
#include "common/safeprint.h"
#include "tui_detail.h"
#include "tui_screen.h"
#include "tui_store.h"

#define VIEW_ESC_MAX   (TUI_TEXT_MAX * 4 + 64)
#define VIEW_SEARCH_MAX 128
#define VIEW_HSTEP     8
#define VIEW_WRAP_ROWS 5        /* rows of a finding wrapped in the ladder, at most */

typedef enum view_sort { VIEW_SORT_ID, VIEW_SORT_START, VIEW_SORT_FINDINGS } view_sort;
typedef enum view_focus { VIEW_FOCUS_LIST, VIEW_FOCUS_TIMELINE } view_focus;

static const char *const view_sort_names[] = { "id", "start", "findings" };

typedef struct tui_view {
    tui_sink  *t;
    /* the session list */
    uint32_t  *order;
    size_t     norder, caporder;
    uint64_t   built_version;
    view_sort  sort;
    bool       filter;
    size_t     sel, top;
    /* the timeline of the selected session */
    tui_tl     tl;
    size_t     cur, tltop;
    int        hscroll;
    view_focus focus;
    bool       ladder, abstime, help;
    /* Enter on a finding: its detail view, scrolled to detail_top */
    bool       detail_on;
    tui_detail detail;
    int        detail_top, detail_rows;
    /* search */
    char       search[VIEW_SEARCH_MAX];
    bool       search_on;
    /* layout */
    int        rows, cols;
    int        list_y, list_h, tl_y, tl_h;
    char       status[320];
    char      *esc;
    bool       dirty;
} tui_view;

/* ---- the session list ---- */

static const tui_store *view_sort_store;    /* qsort has no context */

static uint32_t view_sess_findings(const tui_sess *s)
{
    return s->findings[0] + s->findings[1] + s->findings[2];
}

static int view_cmp(const void *pa, const void *pb, view_sort how)
{
    const tui_sess *a = &view_sort_store->sess[*(const uint32_t *)pa];
    const tui_sess *b = &view_sort_store->sess[*(const uint32_t *)pb];

    switch (how) {
    case VIEW_SORT_START:
        if (timercmp(&a->start, &b->start, !=))
            return timercmp(&a->start, &b->start, <) ? -1 : 1;
        break;
    case VIEW_SORT_FINDINGS:
        for (int s = SC_SEV_ERROR; s >= SC_SEV_INFO; s--)
            if (a->findings[s] != b->findings[s])
                return a->findings[s] > b->findings[s] ? -1 : 1;
        break;
    case VIEW_SORT_ID:
        break;
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

static int view_cmp_id(const void *a, const void *b) { return view_cmp(a, b, VIEW_SORT_ID); }
static int view_cmp_start(const void *a, const void *b) { return view_cmp(a, b, VIEW_SORT_START); }
static int view_cmp_findings(const void *a, const void *b) { return view_cmp(a, b, VIEW_SORT_FINDINGS); }

static int (*const view_cmps[])(const void *, const void *) = {
    view_cmp_id, view_cmp_start, view_cmp_findings
};

static size_t view_sel_store_index(const tui_view *v)
{
    return v->sel < v->norder ? v->order[v->sel] : SIZE_MAX;
}

/* Rebuilds the display order, keeping the selected session selected when
 * it is still listed. */
static void view_order_build(tui_view *v)
{
    tui_store *st = v->t->st;
    size_t keep = view_sel_store_index(v);

    if (st->nsess > v->caporder) {
        uint32_t *no = realloc(v->order, st->nsess * sizeof *no);
        if (!no)
            return;
        v->order = no;
        v->caporder = st->nsess;
    }
    v->norder = 0;
    for (size_t i = 0; i < st->nsess; i++)
        if (!v->filter || view_sess_findings(&st->sess[i]))
            v->order[v->norder++] = (uint32_t)i;
    view_sort_store = st;
    qsort(v->order, v->norder, sizeof *v->order, view_cmps[v->sort]);
    v->built_version = st->version;
    if (v->sel >= v->norder)
        v->sel = v->norder ? v->norder - 1 : 0;
    if (keep != SIZE_MAX)
        for (size_t i = 0; i < v->norder; i++)
            if (v->order[i] == keep) {
                v->sel = i;
                break;
            }
}

/* Makes the selected session's records current (reloading when the
 * session grew). */
static void view_tl_sync(tui_view *v)
{
    size_t idx = view_sel_store_index(v);

    if (idx == SIZE_MAX) {
        v->tl.n = 0;
        v->tl.sess = SIZE_MAX;
        return;
    }
    if (v->tl.sess != idx) {
        v->cur = v->tltop = 0;
        v->hscroll = 0;
    }
    if (tui_store_load(v->t->st, &v->tl, idx) < 0)
        snprintf(v->status, sizeof v->status, "cannot read the transcript: %s",
                 v->t->st->spill_msg);
    if (v->cur >= v->tl.n)
        v->cur = v->tl.n ? v->tl.n - 1 : 0;
}

static void view_select(tui_view *v, size_t pos)
{
    if (v->norder == 0)
        return;
    if (pos >= v->norder)
        pos = v->norder - 1;
    v->sel = pos;
    view_tl_sync(v);
}

/* ---- layout and text helpers ---- */

static void view_layout(tui_view *v)
{
    getmaxyx(stdscr, v->rows, v->cols);
    /* title, list header, list, timeline title, timeline, status */
    int body = v->rows - 4;
    v->list_h = body / 3;
    if (v->list_h < 1)
        v->list_h = body > 0 ? 1 : 0;
    v->list_y = 2;
    v->tl_y = v->list_y + v->list_h + 1;
    v->tl_h = v->rows - 1 - v->tl_y;
    if (v->tl_h < 0)
        v->tl_h = 0;
}

/* The escaped form of n wire bytes, in v->esc. */
static const char *view_escape(tui_view *v, const uint8_t *p, size_t n)
{
    sc_safe_snprint(v->esc, VIEW_ESC_MAX, p, n);
    return v->esc;
}

/* The text of a line record as shown: the line escaped, or for an entry
 * that stands for a run of repeats, their count and frames (in the words
 * of the text report). */
static const char *view_line_text(tui_view *v, const tui_rec *r)
{
    if (!(r->flags & TUI_F_RUN) || r->run_count < 2)
        return view_escape(v, r->text, r->len);
    if (r->run_first == r->run_last)
        snprintf(v->esc, VIEW_ESC_MAX, "... the same line %llu more times (%s)",
                 (unsigned long long)r->run_count, sc_frame_name(r->run_first));
    else
        snprintf(v->esc, VIEW_ESC_MAX, "... the same line %llu more times (%s-%s)",
                 (unsigned long long)r->run_count, sc_frame_name(r->run_first),
                 sc_frame_name(r->run_last));
    return v->esc;
}

/* Writes at most w columns of s (ASCII) at (y, x). */
static void view_put(int y, int x, const char *s, int w)
{
    if (w <= 0)
        return;
    mvaddnstr(y, x, s, w);
}

static void view_time(const tui_view *v, const tui_sess *s, struct timeval ts,
                      char *buf, size_t len)
{
    if (v->abstime) {
        struct tm tm;
        time_t t = ts.tv_sec;
        gmtime_r(&t, &tm);
        snprintf(buf, len, "%02d:%02d:%02d.%06ld", tm.tm_hour, tm.tm_min,
                 tm.tm_sec, (long)ts.tv_usec);
    } else {
        double d = (double)(ts.tv_sec - s->start.tv_sec) +
                   (double)(ts.tv_usec - s->start.tv_usec) / 1e6;
        snprintf(buf, len, "%+9.4f", d);
    }
}

static int view_sev_attr(sc_severity sev)
{
    static const short pair[3] = { TUI_C_INFO, TUI_C_WARNING, TUI_C_ERROR };
    return COLOR_PAIR(pair[(unsigned)sev < 3 ? sev : 2]) | A_BOLD;
}

/* The finding as one line: "!! error reply-lost (server): message [cite]";
 * the count of those past --max-findings without the citation, as in the
 * text report. */
static void view_finding_text(tui_view *v, const tui_rec *r, char *buf, size_t len)
{
    const sc_rule *rule = r->rule < SC_RULE_COUNT ? &sc_rules[r->rule] : NULL;
    bool more = r->flags & TUI_F_MORE;

    snprintf(buf, len, "!! %s %s (%s): %s%s%s%s", sc_severity_name(r->severity),
             rule ? rule->name : "?", sc_side_name(r->side),
             view_escape(v, r->text, r->len), more ? "" : " [",
             more || !rule ? "" : rule->cite, more ? "" : "]");
}

/* ---- drawing ---- */

/* The attributes of a timeline row: its colour, or, under the cursor of
 * the focused pane, plain reverse video (a colour on reverse is hard to
 * read). */
static int view_row_attr(int colour, int base)
{
    return base == A_REVERSE ? (int)(A_REVERSE | A_BOLD) : colour | base;
}

/* Title bars: black on cyan, or reverse video without colours. */
static int view_bar_attr(void)
{
    return has_colors() && !getenv("NO_COLOR") ? (int)COLOR_PAIR(TUI_C_BAR) : A_REVERSE;
}

static void view_draw_title(tui_view *v)
{
    const tui_store *st = v->t->st;
    char buf[256];

    attron(view_bar_attr());
    mvhline(0, 0, ' ' | (chtype)view_bar_attr(), v->cols);
    char shown[64] = "";
    if (v->filter)
        snprintf(shown, sizeof shown, " (%zu with findings shown)", v->norder);
    snprintf(buf, sizeof buf, " smtpscope  %zu session%s%s  findings: %llu error, "
             "%llu warning, %llu info  sort:%s  ?:help", st->nsess,
             st->nsess == 1 ? "" : "s", shown,
             (unsigned long long)st->findings[SC_SEV_ERROR],
             (unsigned long long)st->findings[SC_SEV_WARNING],
             (unsigned long long)st->findings[SC_SEV_INFO], view_sort_names[v->sort]);
    view_put(0, 0, buf, v->cols);
    attroff(view_bar_attr());
}

/* Column widths of the session list for the current width. */
typedef struct view_cols { int id, ep, start, dur; bool date; } view_cols;

static view_cols view_list_cols(const tui_view *v)
{
    view_cols c = { 7, 0, 8, 9, false };

    if (v->cols >= 110) {
        c.date = true;
        c.start = 19;
    }
    /* id start dur E W I, spaces between */
    int fixed = c.id + 1 + 1 + c.start + 1 + c.dur + 1 + 12;
    c.ep = (v->cols - fixed) / 2 - 1;
    if (c.ep > 47)
        c.ep = 47;
    if (c.ep < 8)
        c.ep = 8;
    return c;
}

/* "ip:port" in at most w columns; a cut one ends with '~' so that it
 * cannot be mistaken for another address. */
static void view_ep_fit(const sc_endpoint *ep, char *buf, size_t len, int w)
{
    sc_endpoint_str(ep, buf, len);
    if (w > 1 && strlen(buf) > (size_t)w && (size_t)w < len) {
        buf[w - 1] = '~';
        buf[w] = 0;
    }
}

static void view_draw_list(tui_view *v)
{
    const tui_store *st = v->t->st;
    view_cols c = view_list_cols(v);
    char buf[512], cl[64], sv[64], start[32], dur[32];

    attron(A_BOLD | A_UNDERLINE);
    mvhline(1, 0, ' ' | A_UNDERLINE, v->cols);
    snprintf(buf, sizeof buf, "%*s %-*s %-*s %-*s %*s   E   W   I", c.id,
             st->nfiles > 1 ? "file:id" : "id",
             c.ep, "client", c.ep, "server", c.start, "start", c.dur, "duration");
    view_put(1, 0, buf, v->cols);
    attroff(A_BOLD | A_UNDERLINE);

    if (v->sel < v->top)
        v->top = v->sel;
    if (v->list_h > 0 && v->sel >= v->top + (size_t)v->list_h)
        v->top = v->sel - (size_t)v->list_h + 1;
    for (int row = 0; row < v->list_h; row++) {
        size_t pos = v->top + (size_t)row;
        int y = v->list_y + row;
        move(y, 0);
        clrtoeol();
        if (pos >= v->norder) {
            if (pos == 0)
                view_put(y, 1, v->filter ? "(no session with findings)" :
                         "(no SMTP session yet)", v->cols - 1);
            continue;
        }
        const tui_sess *s = &st->sess[v->order[pos]];
        struct tm tm;
        time_t t = s->start.tv_sec;
        gmtime_r(&t, &tm);
        if (c.date)
            strftime(start, sizeof start, "%Y-%m-%d %H:%M:%S", &tm);
        else
            strftime(start, sizeof start, "%H:%M:%S", &tm);
        double d = (double)(s->last.tv_sec - s->start.tv_sec) +
                   (double)(s->last.tv_usec - s->start.tv_usec) / 1e6;
        if (s->state == TUI_SESS_OPEN)
            snprintf(dur, sizeof dur, "%.1fs+", d);
        else
            snprintf(dur, sizeof dur, "%.3fs", d);
        view_ep_fit(&s->client, cl, sizeof cl, c.ep);
        view_ep_fit(&s->server, sv, sizeof sv, c.ep);
        /* with several capture files, "file:id" (each numbers from 1) */
        char id[48];
        if (st->nfiles > 1)
            snprintf(id, sizeof id, "%u:%llu", s->file + 1u, (unsigned long long)s->id);
        else
            snprintf(id, sizeof id, "%llu", (unsigned long long)s->id);
        snprintf(buf, sizeof buf, "%*s %-*.*s %-*.*s %-*s %*s", c.id,
                 id, c.ep, c.ep, cl, c.ep, c.ep, sv,
                 c.start, start, c.dur, dur);
        bool selected = pos == v->sel;
        int attr = selected ? (v->focus == VIEW_FOCUS_LIST ? A_REVERSE : A_UNDERLINE | A_BOLD) : 0;
        attron(attr);
        mvhline(y, 0, ' ' | (chtype)attr, v->cols);
        view_put(y, 0, buf, v->cols);
        int x = (int)strlen(buf) + 1;
        for (int sev = SC_SEV_ERROR; sev >= SC_SEV_INFO; sev--) {
            char n[16];
            if (s->findings[sev]) {
                snprintf(n, sizeof n, "%3u", s->findings[sev]);
                attroff(attr);      /* the colour must stay readable on the selected row */
                attron(view_sev_attr((sc_severity)sev));
            } else {
                snprintf(n, sizeof n, "  .");
            }
            if (x + 3 <= v->cols)
                view_put(y, x, n, 3);
            if (s->findings[sev])
                attroff(view_sev_attr((sc_severity)sev));
            attron(attr);
            x += 4;
        }
        attroff(attr);
    }
}

static void view_draw_tl_title(tui_view *v)
{
    char buf[512], cl[64], sv[64];
    size_t idx = view_sel_store_index(v);
    int y = v->tl_y - 1;

    attron(view_bar_attr());
    mvhline(y, 0, ' ' | (chtype)view_bar_attr(), v->cols);
    if (idx != SIZE_MAX) {
        const tui_sess *s = &v->t->st->sess[idx];
        char file[80] = "";
        if (v->t->st->nfiles > 1) {
            const char *f = tui_store_file_name(v->t->st, s->file), *slash = strrchr(f, '/');
            char esc[61];
            f = slash ? slash + 1 : f;
            sc_safe_snprint(esc, sizeof esc, (const uint8_t *)f, strlen(f));
            snprintf(file, sizeof file, " of %s", esc);
        }
        snprintf(buf, sizeof buf, " session %llu%s [%zu/%zu]  %s -> %s  %s, %s time%s",
                 (unsigned long long)s->id, file, v->tl.n ? v->cur + 1 : 0, v->tl.n,
                 sc_endpoint_str(&s->client, cl, sizeof cl),
                 sc_endpoint_str(&s->server, sv, sizeof sv),
                 v->ladder ? "ladder" : "transcript", v->abstime ? "UTC" : "relative",
                 v->hscroll ? "  (scrolled right)" : "");
    } else {
        snprintf(buf, sizeof buf, " no session selected");
    }
    view_put(y, 0, buf, v->cols);
    /* The ladder's legend, when it fits. */
    int x = (int)strlen(buf) + 3;
    if (v->ladder && x + 20 <= v->cols) {
        mvaddstr(y, x, tui_screen_utf8() ? "\u2503" : "#");
        addstr(" client inside DATA");
    }
    attroff(view_bar_attr());
}

/* The text of a record, after the horizontal scroll. */
static const char *view_hcut(const tui_view *v, const char *s)
{
    size_t n = strlen(s), h = (size_t)v->hscroll;

    if (h >= n)
        return s + n;
    while (h < n && ((unsigned char)s[h] & 0xc0) == 0x80)   /* not inside a UTF-8 character */
        h++;
    return s + h;
}

static bool view_matches(const char *hay, const char *needle)
{
    return needle[0] && strcasestr(hay, needle) != NULL;
}

/* One transcript row: "#frame  +time C> text". */
static void view_draw_transcript_row(tui_view *v, int y, const tui_sess *s,
                                     const tui_rec *r, int base)
{
    char pre[FRAME_NAME_MAX + 48], tbuf[32], fbuf[SC_MESSAGE_MAX * 4 + 256];
    const char *text;
    int attr = 0;

    view_time(v, s, r->ts, tbuf, sizeof tbuf);
    if (r->type == TUI_REC_FINDING) {
        snprintf(pre, sizeof pre, "%-7s %*s    ", "", (int)strlen(tbuf), "");
        view_finding_text(v, r, fbuf, sizeof fbuf);
        text = fbuf;
        attr = view_sev_attr(r->severity);
    } else {
        snprintf(pre, sizeof pre, "%-7s %s %s ", sc_frame_name(r->frame), tbuf,
                 r->dir == SC_DIR_C2S ? "C>" : "S>");
        text = view_line_text(v, r);
        if (r->dir == SC_DIR_S2C)
            attr = COLOR_PAIR(TUI_C_SERVER);
    }
    attron(base);
    view_put(y, 0, pre, v->cols);
    int x = (int)strlen(pre);
    if (v->search_on && view_matches(text, v->search) && !base)
        attr = COLOR_PAIR(TUI_C_MATCH);
    attr = view_row_attr(attr, base);
    attron(attr);
    view_put(y, x, view_hcut(v, text), v->cols - x);
    attroff(attr);
}

/* The ladder's columns on a finding's rows: the client lane at *xc
 * (after the blank frame and time of view_draw_ladder_row), the server
 * lane at *xs. */
static void view_ladder_lanes(const tui_view *v, int *xc, int *xs)
{
    *xc = 7 + 1 + (v->abstime ? 15 : 9) + 1;    /* "%-7s %s " of view_time() */
    *xs = v->cols - 2;
}

/* The rows a finding takes in the ladder: its text wrapped in the room
 * between the lanes, at most VIEW_WRAP_ROWS (Enter shows the rest);
 * one for a line, and for anything in the transcript. */
static int view_finding_rows(const char *text, int width)
{
    int rows = 0;

    if (width < 10)
        return 1;
    while (*text && rows < VIEW_WRAP_ROWS) {
        text += sc_wrap_len(text, (size_t)width);
        while (*text == ' ')
            text++;
        rows++;
    }
    return rows ? rows : 1;
}

static int view_rec_rows(tui_view *v, size_t i)
{
    tui_rec r;
    char fbuf[SC_MESSAGE_MAX * 4 + 256];
    int xc, xs;

    if (!v->ladder || i >= v->tl.n || !(v->tl.flags[i] & TUI_F_FINDING) ||
        tui_store_rec(v->t->st, &v->tl, i, &r) < 0)
        return 1;
    view_finding_text(v, &r, fbuf, sizeof fbuf);
    view_ladder_lanes(v, &xc, &xs);
    return view_finding_rows(fbuf, xs - xc - 3);
}

/* One ladder row: client lane at the left, server lane at the right, the
 * line as an arrow between them. A lane drawn thick marks the client
 * inside DATA content; a reply arrow drawn double and red crosses it. A
 * finding is wrapped in the lane over up to nrows rows, its last row
 * ending in "..." when the text goes on. */
static void view_draw_ladder_row(tui_view *v, int y, const tui_sess *s,
                                 const tui_rec *r, int base, int nrows)
{
    bool utf8 = tui_screen_utf8();
    const char *lane = utf8 ? "\u2502" : "|", *lane_data = utf8 ? "\u2503" : "#";
    const char *shaft = utf8 ? "\u2500" : "-", *shaft_x = utf8 ? "\u2550" : "=";
    char pre[FRAME_NAME_MAX + 48], tbuf[32], fbuf[SC_MESSAGE_MAX * 4 + 256];

    view_time(v, s, r->ts, tbuf, sizeof tbuf);
    if (r->type == TUI_REC_FINDING)
        snprintf(pre, sizeof pre, "%-7s %*s ", "", (int)strlen(tbuf), "");
    else
        snprintf(pre, sizeof pre, "%-7s %s ", sc_frame_name(r->frame), tbuf);
    attron(base);
    view_put(y, 0, pre, v->cols);
    attroff(base);

    int xc = (int)strlen(pre), xs = v->cols - 2;     /* the two lanes */
    int w = xs - xc - 1;                              /* between them */
    if (w < 4)
        return;
    bool in_data = r->flags & TUI_F_IN_DATA;
    for (int k = 0; k < nrows; k++) {
        if (in_data)
            attron(COLOR_PAIR(TUI_C_DATA) | A_BOLD);
        mvaddstr(y + k, xc, in_data ? lane_data : lane);
        if (in_data)
            attroff(COLOR_PAIR(TUI_C_DATA) | A_BOLD);
        mvaddstr(y + k, xs, lane);
    }

    if (r->type == TUI_REC_FINDING) {
        view_finding_text(v, r, fbuf, sizeof fbuf);
        int fattr = view_row_attr(view_sev_attr(r->severity), base);
        const char *t = fbuf;
        attron(fattr);
        for (int k = 0; k < nrows && *t; k++) {
            size_t n = w - 2 >= 10 ? sc_wrap_len(t, (size_t)(w - 2)) : strlen(t);
            const char *next = t + n;
            while (*next == ' ')
                next++;
            if (k == nrows - 1 && *next && w - 2 >= 10) {     /* cut: say so */
                n = n + 3 > (size_t)(w - 2) ? (size_t)(w - 2) - 3 : n;
                mvaddnstr(y + k, xc + 2, t, (int)n);
                addstr("...");
            } else {
                view_put(y + k, xc + 2, t, (int)n < w - 2 ? (int)n : w - 2);
            }
            t = next;
        }
        attroff(fattr);
        return;
    }
    const char *text = view_hcut(v, view_line_text(v, r));
    int tlen = (int)strlen(text);
    int room = w - 4;                  /* text plus at least 2 of shaft and the head */
    if (tlen > room)
        tlen = room;
    bool crosses = r->flags & TUI_F_CROSSES;
    int attr = 0;
    if (crosses)
        attr = COLOR_PAIR(TUI_C_ERROR) | A_BOLD;
    else if (v->search_on && view_matches(text, v->search) && !base)
        attr = COLOR_PAIR(TUI_C_MATCH);
    else if (r->dir == SC_DIR_S2C)
        attr = COLOR_PAIR(TUI_C_SERVER);
    attr = view_row_attr(attr, base);
    attron(attr);
    if (r->dir == SC_DIR_C2S) {
        /* C |text ─────────> | S */
        mvaddnstr(y, xc + 1, text, tlen);
        move(y, xc + 1 + tlen);
        addch(' ');
        for (int i = xc + 2 + tlen; i < xs - 1; i++)
            addstr(shaft);
        addch('>');
    } else {
        /* C |<═════════ text| S */
        move(y, xc + 1);
        addch('<');
        for (int i = xc + 2; i < xs - tlen - 1; i++)
            addstr(crosses ? shaft_x : shaft);
        addch(' ');
        mvaddnstr(y, xs - tlen, text, tlen);
    }
    attroff(attr);
}

static void view_draw_timeline(tui_view *v)
{
    size_t idx = view_sel_store_index(v);
    const tui_sess *s = idx != SIZE_MAX ? &v->t->st->sess[idx] : NULL;

    if (v->cur < v->tltop)
        v->tltop = v->cur;
    /* the cursor's record whole on screen: the records from the top to it
     * fit, counted back from it (a wrapped finding takes several rows) */
    if (v->tl_h > 0 && v->cur < v->tl.n) {
        size_t t = v->cur;
        int used = view_rec_rows(v, t);
        while (t > v->tltop && used + view_rec_rows(v, t - 1) <= v->tl_h)
            used += view_rec_rows(v, --t);
        if (t > v->tltop)
            v->tltop = t;
    }
    size_t i = v->tltop;
    for (int row = 0; row < v->tl_h; i++) {
        int y = v->tl_y + row;
        tui_rec r;
        move(y, 0);
        clrtoeol();
        if (!s || i >= v->tl.n || tui_store_rec(v->t->st, &v->tl, i, &r) < 0) {
            row++;
            continue;
        }
        int nrows = view_rec_rows(v, i);
        if (nrows > v->tl_h - row)
            nrows = v->tl_h - row;
        tui_store_rec(v->t->st, &v->tl, i, &r);          /* view_rec_rows read another */
        int base = 0;
        if (i == v->cur)
            base = v->focus == VIEW_FOCUS_TIMELINE ? A_REVERSE : A_UNDERLINE;
        for (int k = 1; k < nrows; k++) {
            move(y + k, 0);
            clrtoeol();
        }
        if (base == A_REVERSE) {
            attron(A_REVERSE);
            for (int k = 0; k < nrows; k++)
                mvhline(y + k, 0, ' ' | A_REVERSE, v->cols);
            attroff(A_REVERSE);
        }
        if (v->ladder)
            view_draw_ladder_row(v, y, s, &r, base, nrows);
        else
            view_draw_transcript_row(v, y, s, &r, base);
        row += nrows;
    }
}

/* The record drawn at screen row y of the timeline, or SIZE_MAX. */
static size_t view_tl_at(tui_view *v, int y)
{
    int row = v->tl_y;

    for (size_t i = v->tltop; i < v->tl.n && row < v->tl_y + v->tl_h; i++) {
        row += view_rec_rows(v, i);
        if (y < row)
            return i;
    }
    return SIZE_MAX;
}

static void view_draw_status(tui_view *v)
{
    const char *msg = v->status;
    char buf[256], esc[1024];

    if (!msg[0] && v->t->st->spill_error)
        msg = v->t->st->spill_msg;
    if (!msg[0] && v->search_on) {
        snprintf(buf, sizeof buf, "search \"%s\": n/N next/previous match, Esc ends the search",
                 v->search);
        msg = buf;
    }
    /* the longest key bar that fits: a key is never cut in two */
    static const char *const bars[] = {
        "q quit  ? help  Tab pane  Enter timeline/detail  n/N finding  / search  "
        "f filter  s sort  l ladder  t time  e evidence",
        "q quit  ? help  Tab pane  Enter open  n/N finding  / search  f filter  "
        "s sort  l ladder  e evid",
        "q quit ?help Tab pane Enter open n/N finding /search s sort l ladder",
        "q quit  ? help  Tab pane  Enter open",
        "q quit  ? help",
    };
    if (v->detail_on)
        msg = "Up/Down scroll  any other key closes the finding";
    for (size_t i = 0; !msg[0] && i < sizeof bars / sizeof bars[0]; i++)
        if ((int)strlen(bars[i]) <= v->cols || i + 1 == sizeof bars / sizeof bars[0])
            msg = bars[i];
    /* file names (evidence, spill file) and the search pattern may hold
     * any byte */
    sc_safe_snprint(esc, sizeof esc, (const uint8_t *)msg, strlen(msg));
    move(v->rows - 1, 0);
    clrtoeol();
    attron(A_BOLD);
    view_put(v->rows - 1, 0, esc, v->cols);
    attroff(A_BOLD);
}

static const char *const view_help_lines[] = {
    "smtpscope timeline - keys",
    "Up/Down, j/k      move in the focused pane (mouse wheel: scroll)",
    "PgUp/PgDn, space  page up/down",
    "g/G, Home/End     first/last",
    "Left/Right, < >   scroll long lines sideways;  0: back to column 0",
    "Enter             focus the timeline of the selected session;",
    "                  on a finding: its detail (message, explanation)",
    "Tab               switch between session list and timeline",
    "n/N               next/previous finding, across sessions",
    "/                 search the lines (case-insensitive, as shown);",
    "                  then n/N go to the next/previous match, Esc ends",
    "f                 only sessions with findings (toggle)",
    "s                 sort sessions by id, start, findings",
    "t                 absolute (UTC) / relative time",
    "l                 ladder / transcript",
    "e                 write the evidence bundle of the session",
    "?                 this help;  q: quit",
    "",
    "Ladder: client lane left, server lane right; a thick client lane",
    "marks message content in progress, a red double arrow a reply",
    "sent while it was (e.g. 552 in the middle of DATA).",
    "any key closes this help",
};

static void view_draw_help(tui_view *v)
{
    int n = (int)(sizeof view_help_lines / sizeof view_help_lines[0]);
    int w = 72 < v->cols - 2 ? 72 : v->cols - 2;
    int h = n + 2 < v->rows ? n + 2 : v->rows;
    int y0 = (v->rows - h) / 2, x0 = (v->cols - w) / 2;

    if (w < 10 || h < 3)
        return;
    attron(view_bar_attr());
    for (int y = 0; y < h; y++)
        mvhline(y0 + y, x0, ' ' | (chtype)view_bar_attr(), w);
    for (int i = 0; i < n && i + 1 < h - 1; i++)
        view_put(y0 + 1 + i, x0 + 2, view_help_lines[i], w - 4);
    attroff(view_bar_attr());
}

static void view_draw(tui_view *v)
{
    view_layout(v);
    erase();
    if (v->rows < 6 || v->cols < 30) {
        view_put(0, 0, "terminal too small", v->cols);
        refresh();
        return;
    }
    view_draw_title(v);
    if (v->detail_on) {
        v->detail_rows = tui_detail_draw(&v->detail, v->detail_top, 1, v->rows - 2, v->cols);
        view_draw_status(v);
        refresh();
        v->dirty = false;
        return;
    }
    view_draw_list(v);
    view_draw_tl_title(v);
    view_draw_timeline(v);
    view_draw_status(v);
    if (v->help)
        view_draw_help(v);
    refresh();
    v->dirty = false;
}

/* ---- navigation ---- */

/* Scrolls the timeline so that the cursor shows with some context: the
 * whole session when it fits, else the cursor a third of the way down. */
static void view_tl_reveal(tui_view *v)
{
    size_t h = v->tl_h > 0 ? (size_t)v->tl_h : 1;

    if (v->tl.n <= h)
        v->tltop = 0;
    else if (v->cur < v->tltop || v->cur >= v->tltop + h)
        v->tltop = v->cur > h / 3 ? v->cur - h / 3 : 0;
}

/* The first (dir > 0) or last finding of the loaded session at or after
 * (or before) from; SIZE_MAX when none. */
static size_t view_tl_find_finding(const tui_view *v, size_t from, int dir)
{
    for (size_t i = from; i < v->tl.n; i = dir > 0 ? i + 1 : i - 1)
        if (v->tl.flags[i] & TUI_F_FINDING)
            return i;
    return SIZE_MAX;
}

static bool view_rec_matches(tui_view *v, size_t i)
{
    tui_rec r;
    char fbuf[SC_MESSAGE_MAX * 4 + 256];

    if (tui_store_rec(v->t->st, &v->tl, i, &r) < 0)
        return false;
    if (r.type == TUI_REC_FINDING) {
        view_finding_text(v, &r, fbuf, sizeof fbuf);
        return view_matches(fbuf, v->search);
    }
    return view_matches(view_line_text(v, &r), v->search);
}

static size_t view_tl_find_match(tui_view *v, size_t from, int dir)
{
    for (size_t i = from; i < v->tl.n; i = dir > 0 ? i + 1 : i - 1)
        if (view_rec_matches(v, i))
            return i;
    return SIZE_MAX;
}

/* Moves to the next (dir 1) or previous (-1) finding or search match,
 * across sessions in display order, wrapping around. */
static void view_goto_next(tui_view *v, int dir, bool match)
{
    size_t n = v->norder, start = v->sel;

    if (n == 0)
        return;
    /* step n comes back to the starting session, searched whole. */
    for (size_t step = 0; step <= n; step++) {
        size_t pos = dir > 0 ? (start + step) % n : (start + n - step % n) % n;
        const tui_sess *s = &v->t->st->sess[v->order[pos]];
        if (!match && view_sess_findings(s) == 0)
            continue;
        if (pos != v->sel)
            view_select(v, pos);
        size_t from;
        if (step == 0)
            from = dir > 0 ? v->cur + 1 : v->cur - 1;   /* SIZE_MAX when cur is 0 */
        else
            from = dir > 0 ? 0 : v->tl.n - 1;           /* SIZE_MAX when empty */
        size_t i = match ? view_tl_find_match(v, from, dir)
                         : view_tl_find_finding(v, from, dir);
        if (i == SIZE_MAX)
            continue;
        v->cur = i;
        view_tl_reveal(v);
        v->hscroll = 0;
        if (step > 0 && (dir > 0 ? pos <= start : pos >= start))
            snprintf(v->status, sizeof v->status, "(search wrapped around)");
        return;
    }
    if (match)
        snprintf(v->status, sizeof v->status, "pattern not found: %s", v->search);
    else
        snprintf(v->status, sizeof v->status, "no finding");
}

/* The pane under the pointer, for the mouse. */
static bool view_y_in_timeline(const tui_view *v, int y)
{
    return y >= v->tl_y - 1;
}

static void view_move(tui_view *v, long delta, bool timeline)
{
    if (timeline) {
        long c = (long)v->cur + delta;
        if (c < 0 || v->tl.n == 0)
            c = 0;
        else if ((size_t)c >= v->tl.n)
            c = (long)v->tl.n - 1;
        v->cur = (size_t)c;
    } else {
        long p = (long)v->sel + delta;
        if (p < 0)
            p = 0;
        view_select(v, (size_t)p);
    }
}

/* Reads a search pattern on the status line; false when cancelled. */
static bool view_prompt(tui_view *v, char *out, size_t len)
{
    size_t n = 0;

    out[0] = 0;
    curs_set(1);
    for (;;) {
        move(v->rows - 1, 0);
        clrtoeol();
        mvaddstr(v->rows - 1, 0, "/");
        addnstr(out, v->cols - 2);
        refresh();
        timeout(200);
        int ch = getch();
        if (tui_screen_quit) {
            curs_set(0);
            return false;
        }
        if (ch == ERR)
            continue;
        if (ch == 27 || ch == 7) {           /* Esc, ^G */
            curs_set(0);
            return false;
        }
        if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            curs_set(0);
            return n > 0;
        }
        if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0)
            out[--n] = 0;
        else if (ch == KEY_RESIZE)
            view_draw(v);
        else if (ch >= 32 && ch < 127 && n + 1 < len) {
            out[n++] = (char)ch;
            out[n] = 0;
        }
    }
}

static void view_evidence(tui_view *v)
{
    size_t idx = view_sel_store_index(v);
    char msg[256];

    if (idx == SIZE_MAX)
        return;
    if (!v->t->evidence) {
        snprintf(v->status, sizeof v->status, "evidence: not available in this run");
        return;
    }
    msg[0] = 0;
    const tui_sess *s = &v->t->st->sess[idx];
    /* the handler may read the whole capture file again: say so first */
    mvaddstr(v->rows - 1, 0, "writing the evidence bundle...");
    clrtoeol();
    refresh();
    int rc = v->t->evidence(v->t->evidence_ctx, tui_store_file_arg(v->t->st, s->file),
                            s->id, msg, sizeof msg);
    msg[sizeof msg - 1] = 0;
    snprintf(v->status, sizeof v->status, "evidence%s: %s", rc < 0 ? " failed" : "",
             msg[0] ? msg : (rc < 0 ? "unknown error" : "written"));
}

/* Enter on a finding of the timeline: its detail view. False when the
 * cursor is on no finding. */
static bool view_detail_open(tui_view *v)
{
    tui_rec r;
    char fbuf[64];
    const tui_sess *s;
    size_t idx = view_sel_store_index(v);

    if (idx == SIZE_MAX || v->cur >= v->tl.n || tui_store_rec(v->t->st, &v->tl, v->cur, &r) < 0 ||
        r.type != TUI_REC_FINDING)
        return false;
    s = &v->t->st->sess[idx];
    tui_detail_clear(&v->detail);
    v->detail.rule = r.rule < SC_RULE_COUNT ? &sc_rules[r.rule] : NULL;
    v->detail.severity = r.severity;
    v->detail.side = r.side;
    snprintf(v->detail.frame, sizeof v->detail.frame, "%s", sc_frame_name(r.frame));
    v->detail.message = strdup(view_escape(v, r.text, r.len));
    /* the transcript lines just before it: the one that completed it and
     * those that led there */
    size_t from = v->cur >= TUI_DETAIL_CONTEXT ? v->cur - TUI_DETAIL_CONTEXT : 0;
    for (size_t i = from; i < v->cur; i++) {
        tui_rec l;
        char tbuf[32], *line;
        if (tui_store_rec(v->t->st, &v->tl, i, &l) < 0 || l.type == TUI_REC_FINDING)
            continue;
        view_time(v, s, l.ts, tbuf, sizeof tbuf);
        const char *txt = view_line_text(v, &l);
        size_t n = strlen(txt) + sizeof fbuf + sizeof tbuf;
        if (!(line = malloc(n)))
            continue;
        snprintf(line, n, "%s %s %s %s", sc_frame_name(l.frame), tbuf,
                 l.dir == SC_DIR_C2S ? "C>" : "S>", txt);
        v->detail.context[v->detail.ncontext++] = line;
    }
    v->detail_on = true;
    v->detail_top = 0;
    return true;
}

/* A key in the detail view: arrows and pages scroll, q quits, any other
 * key closes it. */
static int view_detail_key(tui_view *v, int ch)
{
    int page = v->rows > 4 ? v->rows - 4 : 1, max = v->detail_rows - (v->rows - 2);

    switch (ch) {
    case KEY_UP: case 'k': v->detail_top -= 1; break;
    case KEY_DOWN: case 'j': v->detail_top += 1; break;
    case KEY_PPAGE: case 'b': v->detail_top -= page; break;
    case KEY_NPAGE: case ' ': v->detail_top += page; break;
    case KEY_RESIZE: break;
    case 'q': return 1;
    default:
        v->detail_on = false;
        tui_detail_clear(&v->detail);
        return 0;
    }
    if (v->detail_top > max)
        v->detail_top = max;
    if (v->detail_top < 0)
        v->detail_top = 0;
    return 0;
}

/* Handles one key; returns 1 to quit. */
static int view_key(tui_view *v, int ch)
{
    bool tl = v->focus == VIEW_FOCUS_TIMELINE;
    long page = tl ? (v->tl_h > 1 ? v->tl_h - 1 : 1) : (v->list_h > 1 ? v->list_h - 1 : 1);

    v->dirty = true;
    if (v->help) {
        v->help = false;
        return ch == 'q';
    }
    if (v->detail_on)
        return view_detail_key(v, ch);
    v->status[0] = 0;
    switch (ch) {
    case 'q':
        return 1;
    case KEY_UP: case 'k':
        view_move(v, -1, tl);
        break;
    case KEY_DOWN: case 'j':
        view_move(v, 1, tl);
        break;
    case KEY_PPAGE: case 'b': case 2:    /* ^B */
        view_move(v, -page, tl);
        break;
    case KEY_NPAGE: case ' ': case 6:    /* ^F */
        view_move(v, page, tl);
        break;
    case 'g': case KEY_HOME:
        view_move(v, -(long)(tl ? v->tl.n : v->norder), tl);
        break;
    case 'G': case KEY_END:
        view_move(v, (long)(tl ? v->tl.n : v->norder), tl);
        break;
    case KEY_LEFT: case '<':
        v->hscroll = v->hscroll > VIEW_HSTEP ? v->hscroll - VIEW_HSTEP : 0;
        break;
    case KEY_RIGHT: case '>':
        if (v->hscroll < (int)VIEW_ESC_MAX - VIEW_HSTEP)
            v->hscroll += VIEW_HSTEP;
        break;
    case '0':
        v->hscroll = 0;
        break;
    case '\n': case '\r': case KEY_ENTER:
        if (tl && view_detail_open(v))
            break;
        v->focus = VIEW_FOCUS_TIMELINE;
        break;
    case '\t':
        v->focus = tl ? VIEW_FOCUS_LIST : VIEW_FOCUS_TIMELINE;
        break;
    case 'n': case 'N':
        view_goto_next(v, ch == 'n' ? 1 : -1, v->search_on);
        break;
    case '/': {
        char pat[VIEW_SEARCH_MAX];
        if (view_prompt(v, pat, sizeof pat)) {
            snprintf(v->search, sizeof v->search, "%s", pat);
            v->search_on = true;
            mvaddstr(v->rows - 1, 0, "searching...");
            clrtoeol();
            refresh();
            view_goto_next(v, 1, true);
        }
        break;
    }
    case 27:                               /* Esc */
        v->search_on = false;
        break;
    case 'f':
        v->filter = !v->filter;
        view_order_build(v);
        view_tl_sync(v);
        break;
    case 's':
        v->sort = (view_sort)((v->sort + 1) % 3);
        view_order_build(v);
        snprintf(v->status, sizeof v->status, "sessions sorted by %s", view_sort_names[v->sort]);
        break;
    case 't':
        v->abstime = !v->abstime;
        break;
    case 'l':
        v->ladder = !v->ladder;
        break;
    case 'e':
        view_evidence(v);
        break;
    case '?': case 'h': case KEY_F(1):
        v->help = true;
        break;
    case KEY_RESIZE:            /* the selected line stays in view */
        view_layout(v);
        view_tl_reveal(v);
        if (v->sel < v->top || (v->list_h > 0 && v->sel >= v->top + (size_t)v->list_h))
            v->top = v->sel > (size_t)v->list_h / 2 ? v->sel - (size_t)v->list_h / 2 : 0;
        break;
    case KEY_MOUSE: {
        MEVENT me;
        if (getmouse(&me) != OK)
            break;
        bool over_tl = view_y_in_timeline(v, me.y);
        if (me.bstate & BUTTON4_PRESSED)
            view_move(v, -3, over_tl);
        else if (me.bstate & BUTTON5_PRESSED)
            view_move(v, 3, over_tl);
        else if (me.bstate & BUTTON1_CLICKED) {
            if (me.y >= v->list_y && me.y < v->list_y + v->list_h) {
                v->focus = VIEW_FOCUS_LIST;
                view_select(v, v->top + (size_t)(me.y - v->list_y));
            } else if (me.y >= v->tl_y && me.y < v->tl_y + v->tl_h &&
                       view_tl_at(v, me.y) != SIZE_MAX) {
                v->focus = VIEW_FOCUS_TIMELINE;
                v->cur = view_tl_at(v, me.y);
            }
        }
        break;
    }
    default:
        v->dirty = false;
        break;
    }
    return 0;
}

/* ---- life cycle ---- */

static void view_free(tui_sink *t)
{
    tui_view *v = t->view;

    if (!v)
        return;
    tui_screen_close();
    tui_tl_free(&v->tl);
    tui_detail_clear(&v->detail);
    free(v->order);
    free(v->esc);
    free(v);
    t->view = NULL;
}

static tui_view *view_new(tui_sink *t)
{
    tui_view *v = calloc(1, sizeof *v);

    if (!v || !(v->esc = malloc(VIEW_ESC_MAX))) {
        free(v);
        return NULL;
    }
    v->t = t;
    v->tl.sess = SIZE_MAX;
    v->filter = t->cfg && t->cfg->only_findings;
    v->ladder = t->cfg && t->cfg->ladder;
    v->dirty = true;
    t->view = v;
    t->view_free = view_free;
    return v;
}

int sc_tui_start(sc_sink *sink)
{
    tui_sink *t = (tui_sink *)sink;
    char err[256];

    if (!t->view && !view_new(t)) {
        fprintf(stderr, "smtpscope: --tui: out of memory\n");
        return -1;
    }
    if (tui_screen_open(err, sizeof err) < 0) {
        fputs("smtpscope: ", stderr);
        sc_safe_fputstr(stderr, err);     /* names $TERM */
        fputc('\n', stderr);
        return -1;
    }
    view_order_build(t->view);
    view_tl_sync(t->view);
    t->view->dirty = true;
    return 0;
}

int sc_tui_poll(sc_sink *sink, int timeout_ms)
{
    tui_sink *t = (tui_sink *)sink;
    tui_view *v = t->view;
    int ch;

    if (!v || !tui_screen_is_open())
        return -1;
    if (v->built_version != t->st->version) {
        view_order_build(v);
        view_tl_sync(v);
        v->dirty = true;
    }
    if (v->dirty)
        view_draw(v);
    timeout(timeout_ms);
    while ((ch = getch()) != ERR) {
        if (view_key(v, ch))
            return 1;
        timeout(0);
    }
    if (v->dirty)
        view_draw(v);
    return 0;
}

void sc_tui_stop(sc_sink *sink)
{
    (void)sink;
    tui_screen_close();
}

/* Selects the first session (in display order) with a finding and puts
 * the cursor on that finding. */
static void view_open_on_finding(tui_view *v)
{
    for (size_t pos = 0; pos < v->norder; pos++)
        if (view_sess_findings(&v->t->st->sess[v->order[pos]])) {
            view_select(v, pos);
            size_t i = view_tl_find_finding(v, 0, 1);
            if (i != SIZE_MAX) {
                v->cur = i;
                view_layout(v);
                view_tl_reveal(v);
            }
            return;
        }
    view_select(v, 0);
}

int sc_tui_run(sc_sink *sink)
{
    tui_sink *t = (tui_sink *)sink;
    int rc;

    tui_screen_catch_quit(true);
    if (sc_tui_start(sink) < 0) {
        tui_screen_catch_quit(false);
        return -1;
    }
    view_open_on_finding(t->view);
    for (;;) {
        if (tui_screen_quit) {
            rc = 1;                 /* SIGINT, SIGTERM or SIGHUP */
            break;
        }
        int p = sc_tui_poll(sink, 200);
        if (p != 0) {
            rc = p == 1 ? 0 : -1;   /* q, or the screen failed */
            break;
        }
    }
    sc_tui_stop(sink);
    tui_screen_catch_quit(false);
    return rc;
}
