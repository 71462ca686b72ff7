/*
 * progress.c - the progress bar of an offline analysis before the
 * timeline opens: "[=========>      ]  61%  12.3 of 20.1 MB  57 sessions
 * 12 findings", redrawn in place on standard error at most ten times a
 * second, only when standard error is a terminal.
 *
 * Interface: sc_tui_progress (the sc_pipeline_hooks.progress signature,
 * ctx the timeline sink or NULL) and sc_tui_progress_end (tui.h).
 * Diagnostics: none; a failed write to stderr is ignored.
 */
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "tui_store.h"

static double progress_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int progress_width(void)
{
    struct winsize ws;

    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return 80;
}

void sc_tui_progress(void *ctx, uint64_t done, uint64_t total)
{
    static double last_alone;          /* when ctx is NULL */
    tui_sink *t = ctx;
    double *last = t ? &t->progress_last : &last_alone, now = progress_now();
    char tail[128], bar[256];

    if (!isatty(STDERR_FILENO) || (now - *last < 0.1 && done < total))
        return;
    *last = now;
    if (t) {
        t->progress_shown = true;
        snprintf(tail, sizeof tail, "  %zu sessions  %llu findings", t->st->nsess,
                 (unsigned long long)(t->st->findings[0] + t->st->findings[1] +
                                      t->st->findings[2]));
    } else {
        tail[0] = 0;
    }
    int width = progress_width();
    if (total == 0) {
        fprintf(stderr, "\r\033[Kreading: %.1f MB%s", (double)done / 1e6, tail);
        return;
    }
    if (done > total)
        done = total;
    int pct = (int)(done * 100 / total);
    /* bar, percentage and sizes, then the counts if there is room */
    int barw = width - 48;
    if (barw > 50)
        barw = 50;
    if (barw < 10)
        barw = 10;
    int fill = (int)((double)barw * (double)done / (double)total);
    for (int i = 0; i < barw; i++)
        bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[barw] = 0;
    fprintf(stderr, "\r\033[K[%s] %3d%%  %.1f of %.1f MB%.*s", bar, pct,
            (double)done / 1e6, (double)total / 1e6,
            width - barw - 28 > 0 ? width - barw - 28 : 0, tail);
}

void sc_tui_progress_end(void *ctx)
{
    tui_sink *t = ctx;

    if (isatty(STDERR_FILENO) && (!t || t->progress_shown))
        fputs("\r\033[K", stderr);
    if (t)
        t->progress_shown = false;
}
