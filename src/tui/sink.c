/*
 * sink.c - the timeline as an sc_sink: records go to the store (store.c),
 * the screen (view.c) reads them back. Nothing here touches the terminal,
 * so the store can be tested without one.
 *
 * Interface: sc_tui_sink_new, sc_tui_set_evidence (src/tui/tui.h).
 * Diagnostics: sc_tui_sink_new says on stderr why the temporary file could
 * not be created.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tui_store.h"

static tui_sink *sink_priv(sc_sink *s)
{
    return (tui_sink *)s;
}

static void sink_session_begin(sc_sink *s, const sc_session_info *si)
{
    tui_store_session_begin(sink_priv(s)->st, si);
}

static void sink_line(sc_sink *s, const sc_session_info *si, const sc_line *ln)
{
    tui_store_line(sink_priv(s)->st, si, ln);
}

static void sink_finding(sc_sink *s, const sc_session_info *si, const sc_finding *f)
{
    tui_store_finding(sink_priv(s)->st, si, f);
}

static void sink_session_end(sc_sink *s, const sc_session_info *si)
{
    tui_store_session_end(sink_priv(s)->st, si);
}

static void sink_destroy(sc_sink *s)
{
    tui_sink *t = sink_priv(s);

    if (t->view_free)
        t->view_free(t);
    tui_store_free(t->st);
    free(t);
}

sc_sink *sc_tui_sink_new(const sc_config *cfg)
{
    tui_sink *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    t->st = tui_store_new();
    if (!t->st) {
        fprintf(stderr, "smtpscope: --tui: cannot create a temporary file: %s\n",
                strerror(errno));
        free(t);
        return NULL;
    }
    t->cfg = cfg;
    if (cfg && cfg->merged)
        t->st->one_capture = true;       /* one capture: session ids unique */
    else if (cfg && cfg->files && cfg->nfiles)
        tui_store_set_files(t->st, cfg->files, cfg->nfiles);
    t->base.session_begin = sink_session_begin;
    t->base.line = sink_line;
    t->base.finding = sink_finding;
    t->base.session_end = sink_session_end;
    t->base.destroy = sink_destroy;
    t->base.priv = t;
    return &t->base;
}

void sc_tui_set_evidence(sc_sink *s, sc_tui_evidence_fn fn, void *ctx)
{
    tui_sink *t = sink_priv(s);

    t->evidence = fn;
    t->evidence_ctx = ctx;
}
