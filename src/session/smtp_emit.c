/*
 * smtp_emit.c - what a session tells its sink: transcript lines, findings.
 *
 * A finding's severity is the rule's, lowered to info under --profile
 * rfc821 for the rules RFC 5321 tightened (relaxed_by_rfc821). A finding
 * whose rule is disabled, or whose severity is below --min-severity, is
 * neither emitted nor counted. Findings follow the transcript line that
 * completes them (after_line is that line's sequence number).
 *
 * Report once: a bit per rule and key (side, second check, per message)
 * says that a finding reported once per session or per message was
 * reported already; the files of each concern ask smtp_once() rather than
 * keep flags of their own.
 *
 * --max-findings N: a session reports the first N findings of each rule
 * one by one. The rest are counted per rule and side (in the session's
 * findings by severity at once, since the header and the exit status
 * must stay true), their first and last frame kept, and at the session's
 * end one record per rule and side says how many there were
 * (sc_finding.suppressed). Should the table for them not be allocated, a
 * finding is reported one by one rather than lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "smtp_int.h"

void smtp_line(sc_smtp *s, sc_dir dir, sc_line_kind kind, uint64_t frame,
               const uint8_t *text, size_t len)
{
    uint64_t seq = s->emit.nlines++;    /* counted whether or not one reads it */

    if (s->line_out) {
        sc_line l = {
            .frame = frame, .ts = s->ts, .dir = dir, .kind = kind,
            .text = text, .len = len, .seq = seq,
        };
        s->line_out->line(s->line_out, &s->info, &l);
    }
}

void smtp_line_str(sc_smtp *s, sc_dir dir, sc_line_kind kind, uint64_t frame,
                   const char *fmt, ...)
{
    char buf[160];
    va_list ap;
    int n;

    if (!s->line_out) {                  /* no one reads it: not formatted */
        s->emit.nlines++;
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    smtp_line(s, dir, kind, frame, (const uint8_t *)buf, (size_t)n);
}

void smtp_line_lit(sc_smtp *s, sc_dir dir, sc_line_kind kind, uint64_t frame,
                   const char *text)
{
    smtp_line(s, dir, kind, frame, (const uint8_t *)text, strlen(text));
}

static smtp_capped *smtp_capped_slot(sc_smtp *s, sc_rule_id id, sc_side side)
{
    for (size_t i = 0; i < s->emit.ncapped; i++)
        if (s->emit.capped[i].rule == id && s->emit.capped[i].side == side)
            return &s->emit.capped[i];
    smtp_capped *c = sc_grow(s->emit.capped, &s->emit.capcapped, s->emit.ncapped, sizeof *c, 4);
    if (!c)
        return NULL;
    s->emit.capped = c;
    c = &s->emit.capped[s->emit.ncapped++];
    memset(c, 0, sizeof *c);
    c->rule = id;
    c->side = side;
    return c;
}

/* True when the finding is past --max-findings: it is then counted, not
 * reported. */
static bool smtp_capped_count(sc_smtp *s, sc_rule_id id, sc_side side, sc_severity sev,
                              uint64_t frame)
{
    smtp_capped *c;

    if (s->cfg->max_findings == 0 || s->emit.nfound[id] < s->cfg->max_findings)
        return false;
    if (!(c = smtp_capped_slot(s, id, side)))
        return false;
    /* The range the reader must search: lowest and highest frame (a
     * finding about an earlier command may name a later frame first). */
    if (c->count++ == 0 || frame < c->first)
        c->first = frame;
    if (c->count == 1 || frame >= c->last) {
        c->last = frame;
        c->last_ts = s->ts;
    }
    c->severity = sev;
    s->info.findings[sev]++;
    return true;
}

static bool smtp_report_vbegin(sc_smtp *s, smtp_report *r, sc_rule_id id,
                               sc_side side, uint64_t frame, const char *fmt,
                               va_list ap)
{
    const sc_rule *rule = &sc_rules[id];
    sc_severity sev = rule->severity;

    r->on = false;
    if (s->cfg->profile == SC_PROFILE_RFC821 && rule->relaxed_by_rfc821)
        sev = SC_SEV_INFO;
    if (!s->cfg->rule_enabled[id] || sev < s->cfg->min_severity)
        return false;
    if (smtp_capped_count(s, id, side, sev, frame))
        return false;
    memset(&r->f, 0, sizeof r->f);
    r->f.rule = rule;
    r->f.side = side;
    r->f.severity = sev;
    r->f.frame = frame;
    r->f.ts = s->ts;
    r->f.after_line = s->emit.nlines ? s->emit.nlines - 1 : 0;
    vsnprintf(r->f.message, sizeof r->f.message, fmt, ap);
    r->on = true;
    return true;
}

bool smtp_report_begin(sc_smtp *s, smtp_report *r, sc_rule_id id, sc_side side,
                       uint64_t frame, const char *fmt, ...)
{
    va_list ap;
    bool on;

    va_start(ap, fmt);
    on = smtp_report_vbegin(s, r, id, side, frame, fmt, ap);
    va_end(ap);
    return on;
}

void smtp_report_evidence(smtp_report *r, uint64_t frame, sc_dir dir,
                          const uint8_t *text, size_t len)
{
    if (!r->on || r->f.nevidence == SC_EVIDENCE_MAX)
        return;
    r->f.evidence[r->f.nevidence++] = (sc_evidence){ frame, dir, text, len };
}

void smtp_report_end(sc_smtp *s, smtp_report *r)
{
    if (!r->on)
        return;
    s->info.findings[r->f.severity]++;
    s->emit.nfound[r->f.rule->id]++;
    if (s->out && s->out->finding)
        s->out->finding(s->out, &s->info, &r->f);
    r->on = false;
}

void smtp_find(sc_smtp *s, sc_rule_id id, sc_side side, uint64_t frame,
               const sc_evidence *ev, const char *fmt, ...)
{
    smtp_report r;
    va_list ap;
    bool on;

    va_start(ap, fmt);
    on = smtp_report_vbegin(s, &r, id, side, frame, fmt, ap);
    va_end(ap);
    if (!on)
        return;
    if (ev)
        smtp_report_evidence(&r, ev->frame, ev->dir, ev->text, ev->len);
    smtp_report_end(s, &r);
}

bool smtp_once(sc_smtp *s, sc_rule_id id, unsigned key)
{
    uint8_t bit = (uint8_t)(1u << (key & 7u));

    if (s->emit.once[id] & bit)
        return false;
    s->emit.once[id] |= bit;
    return true;
}

bool smtp_once_done(const sc_smtp *s, sc_rule_id id, unsigned key)
{
    return s->emit.once[id] & (1u << (key & 7u));
}

void smtp_once_clear(sc_smtp *s, sc_rule_id id, unsigned key)
{
    s->emit.once[id] &= (uint8_t)~(1u << (key & 7u));
}

void smtp_report_capped(sc_smtp *s)
{
    for (size_t i = 0; i < s->emit.ncapped; i++) {
        const smtp_capped *c = &s->emit.capped[i];
        sc_finding f;

        memset(&f, 0, sizeof f);
        f.rule = &sc_rules[c->rule];
        f.side = c->side;
        f.severity = c->severity;
        f.frame = c->last;
        f.ts = c->last_ts;
        f.after_line = s->emit.nlines ? s->emit.nlines - 1 : 0;
        f.suppressed = c->count;
        f.suppressed_first = c->first;
        if (c->first == c->last)
            snprintf(f.message, sizeof f.message,
                     "and %llu more in this session (frame %s), not shown",
                     (unsigned long long)c->count, sc_frame_name(c->first));
        else
            snprintf(f.message, sizeof f.message,
                     "and %llu more in this session (frames %s-%s), not shown",
                     (unsigned long long)c->count, sc_frame_name(c->first),
                     sc_frame_name(c->last));
        if (s->out && s->out->finding)
            s->out->finding(s->out, &s->info, &f);
    }
}
