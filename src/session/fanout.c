/*
 * fanout.c - the records of a run handed to every output, and the run's
 * totals counted as they pass (sc_fanout, src/session/session.h).
 *
 * The one place where sessions and findings are counted: the analyser
 * hands its sessions this sink, and under -j the parent replays the
 * workers' records into it, so that both count alike. Findings count as
 * many as they stand for (sc_finding_count: a record of findings past
 * --max-findings counts its whole number), so the totals match what was
 * found whatever the report shows one by one.
 *
 * Transcript lines are most of the records and most outputs do not want
 * them (the JSON report, the counters): the sinks that do are listed once
 * here, and sc_fanout_lines gives a session the one to send its lines to
 * (none, the one output that wants them, or the fan-out when several do),
 * so that a line nobody reads costs no call.
 */
#include <string.h>

#include "session.h"

static void fan_begin(sc_sink *k, const sc_session_info *si)
{
    sc_fanout *f = k->priv;

    f->totals.sessions++;
    for (size_t i = 0; i < f->nsinks; i++)
        if (f->sinks[i]->session_begin)
            f->sinks[i]->session_begin(f->sinks[i], si);
}

static void fan_line(sc_sink *k, const sc_session_info *si, const sc_line *l)
{
    sc_fanout *f = k->priv;

    for (size_t i = 0; i < f->nline; i++)
        f->line[i]->line(f->line[i], si, l);
}

static void fan_finding(sc_sink *k, const sc_session_info *si, const sc_finding *fd)
{
    sc_fanout *f = k->priv;

    f->totals.by_rule[fd->rule->id] += sc_finding_count(fd);
    f->totals.by_severity[fd->severity] += sc_finding_count(fd);
    for (size_t i = 0; i < f->nsinks; i++)
        if (f->sinks[i]->finding)
            f->sinks[i]->finding(f->sinks[i], si, fd);
}

static void fan_end(sc_sink *k, const sc_session_info *si)
{
    sc_fanout *f = k->priv;

    sc_totals_count_tls(&f->totals, si);
    f->totals.reasm_dropped += si->reasm_dropped;
    for (size_t i = 0; i < f->nsinks; i++)
        if (f->sinks[i]->session_end)
            f->sinks[i]->session_end(f->sinks[i], si);
}

void sc_fanout_init(sc_fanout *f, sc_sink **sinks, size_t nsinks)
{
    memset(f, 0, sizeof *f);
    f->sinks = sinks;
    f->nsinks = nsinks;
    for (size_t i = 0; i < nsinks; i++)
        if (sinks[i]->line && f->nline < SC_FANOUT_LINE_MAX)
            f->line[f->nline++] = sinks[i];
    f->sink = (sc_sink){ .session_begin = fan_begin, .line = fan_line,
                         .finding = fan_finding, .session_end = fan_end, .priv = f };
}

sc_sink *sc_fanout_lines(sc_fanout *f)
{
    return f->nline == 0 ? NULL : f->nline == 1 ? f->line[0] : &f->sink;
}

void sc_fanout_finish(sc_fanout *f)
{
    for (size_t i = 0; i < f->nsinks; i++)
        if (f->sinks[i]->finish)
            f->sinks[i]->finish(f->sinks[i], &f->totals);
}
