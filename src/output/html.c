/*
 * html.c - the evidence bundle's HTML pages (html.h).
 *
 * A page is one file with its style inline; it names no other resource
 * (no script, link, font, image or URL), so a browser opening it from a
 * mail attachment fetches nothing and runs nothing. Text escaping:
 * sc_html_text runs the bytes through safeprint (control bytes, invalid
 * UTF-8 and characters that hide or reorder text become \xHH), then
 * writes & < > " ' as character references; everything the pages print
 * goes through it.
 *
 * A cited rule is explained in plain words (common/explain.h: what
 * happened, why it matters, the usual cause, what to tell the vendor)
 * before the RFC text it rests on.
 *
 * Records: a session's lines and findings are written to its spool chain
 * as html_rec headers followed by their text, up to SC_HTML_LINES_MAX;
 * they are read back from a temporary file when the page is written.
 *
 * Diagnostics: none of its own; write errors show in the caller's FILE.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/wcheck.h"
#include "common/explain.h"
#include "common/frame.h"
#include "common/grow.h"
#include "common/pseudo.h"
#include "common/safeprint.h"
#include "html.h"
#include "html_int.h"
#include "outfmt.h"
#include "spool.h"

#define HTML_INDEX_SERVERS 64      /* server rows of the index */
#ifndef SC_VERSION
#define SC_VERSION "0.0.0"
#endif

typedef struct html_row {
    uint64_t    id;
    sc_endpoint client, server;
    uint64_t    findings[3];
    char       *page;
} html_row;

struct sc_html {
    sc_spool *sp;
    html_row *rows;
    size_t    nrows, caprows;
};

struct sc_html_sess {
    sc_chain chain;
    uint64_t nrec, dropped;
};

sc_html *sc_html_new(void)
{
    sc_html *h = calloc(1, sizeof *h);

    if (h && !(h->sp = sc_spool_new())) {
        free(h);
        return NULL;
    }
    return h;
}

void sc_html_free(sc_html *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nrows; i++)
        free(h->rows[i].page);
    free(h->rows);
    sc_spool_free(h->sp);
    free(h);
}

void sc_html_text(FILE *fp, const uint8_t *p, size_t n)
{
    char esc[HTML_TEXT_MAX * 4 + 1];

    while (n) {
        size_t k = n < HTML_TEXT_MAX ? n : HTML_TEXT_MAX;
        sc_safe_snprint(esc, sizeof esc, p, k);
        for (const char *c = esc; *c; c++) {
            switch (*c) {
            case '&': fputs("&amp;", fp); break;
            case '<': fputs("&lt;", fp); break;
            case '>': fputs("&gt;", fp); break;
            case '"': fputs("&quot;", fp); break;
            case '\'': fputs("&#39;", fp); break;
            default: putc(*c, fp);
            }
        }
        p += k;
        n -= k;
    }
}

void sc_html_str(FILE *fp, const char *s)
{
    if (s)
        sc_html_text(fp, (const uint8_t *)s, strlen(s));
}

sc_html_sess *sc_html_sess_new(sc_html *h)
{
    sc_html_sess *s = calloc(1, sizeof *s);

    (void)h;
    if (s)
        sc_chain_init(&s->chain);
    return s;
}

static void html_put(sc_html *h, sc_html_sess *s, html_rec *r, const uint8_t *text, size_t len)
{
    if (s->nrec >= SC_HTML_LINES_MAX) {
        s->dropped++;
        return;
    }
    r->len = (uint16_t)(len < HTML_TEXT_MAX ? len : HTML_TEXT_MAX);
    sc_chain_write(h->sp, &s->chain, (const char *)r, sizeof *r);
    if (r->len)
        sc_chain_write(h->sp, &s->chain, (const char *)text, r->len);
    s->nrec++;
}

void sc_html_sess_line(sc_html *h, sc_html_sess *s, const sc_line *l, bool redact)
{
    html_rec r;
    memset(&r, 0, sizeof r);          /* padding too: it goes to disk */
    r.type = HTML_REC_LINE;
    r.dir = (uint8_t)l->dir;
    r.kind = (uint8_t)l->kind;
    r.frame = l->frame;
    r.seq = l->seq;
    r.sec = l->ts.tv_sec;
    r.usec = (int32_t)l->ts.tv_usec;
    uint8_t masked[HTML_TEXT_MAX];
    const uint8_t *text = l->text;
    size_t n = l->text ? l->len : 0;

    /* content lines shown one by one are masked under --redact, as the
     * text report masks them */
    if (redact && l->kind == SC_LINE_CONTENT && text && n) {
        n = n < HTML_TEXT_MAX ? n : HTML_TEXT_MAX;
        for (size_t i = 0; i < n; i++)
            masked[i] = 'X';
        text = masked;
    }
    html_put(h, s, &r, text, n);
}

void sc_html_sess_finding(sc_html *h, sc_html_sess *s, const sc_finding *f)
{
    html_rec r;

    memset(&r, 0, sizeof r);
    r.type = HTML_REC_FINDING;
    r.dir = (uint8_t)f->side;
    r.severity = (uint8_t)f->severity;
    r.rule = (uint16_t)(f->rule ? f->rule->id : SC_RULE_COUNT);
    r.frame = f->frame;
    r.seq = f->after_line;
    r.sec = f->ts.tv_sec;
    r.usec = (int32_t)f->ts.tv_usec;

    html_put(h, s, &r, (const uint8_t *)f->message, strnlen(f->message, sizeof f->message));
}

void sc_html_sess_park(sc_html *h, sc_html_sess *s)
{
    sc_chain_park(h->sp, &s->chain);
}

void sc_html_sess_free(sc_html *h, sc_html_sess *s)
{
    if (!s)
        return;
    sc_chain_release(h->sp, &s->chain);
    free(s);
}

int html_rec_read(FILE *fp, html_rec *r, uint8_t text[HTML_TEXT_MAX + 1])
{
    if (fread(r, sizeof *r, 1, fp) != 1)
        return 0;
    if (r->len > HTML_TEXT_MAX || (r->len && fread(text, 1, r->len, fp) != r->len))
        return 0;
    text[r->len] = 0;
    return 1;
}

static const char html_style[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222;max-width:72em}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;"
    "text-align:left;vertical-align:top}"
    ".error{color:#b00020;font-weight:bold}.warning{color:#a05a00;font-weight:bold}"
    ".info{color:#00639b}code,pre{font-family:monospace}"
    "blockquote{margin:.3em 0 .8em 1.2em;padding-left:.6em;border-left:3px solid #ccc}"
    "svg text{font-family:monospace;font-size:12px}";

static void html_head(FILE *out, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n<title>", out);
    sc_html_str(out, title);
    fprintf(out, "</title>\n<style>%s</style></head>\n<body>\n", html_style);
}

static void html_fact(FILE *out, const char *name, const char *value)
{
    fputs("<tr><th>", out);
    sc_html_str(out, name);
    fputs("</th><td>", out);
    sc_html_str(out, value);
    fputs("</td></tr>\n", out);
}

static void html_facts(FILE *out, const sc_session_info *info, const char *pkt)
{
    char c[64], s[64], t[64], buf[FRAME_NAME_MAX * 2 + 64];

    sc_endpoint_str(&info->client, c, sizeof c);
    sc_endpoint_str(&info->server, s, sizeof s);
    fputs("<h2>Session</h2>\n<table>\n", out);
    html_fact(out, "client", c);
    html_fact(out, "server", s);
    html_fact(out, "start", sc_fmt_rfc3339(&info->start, t, sizeof t));
    snprintf(buf, sizeof buf, "%.4f s", sc_fmt_elapsed(&info->start, &info->end));
    html_fact(out, "duration", buf);
    snprintf(buf, sizeof buf, "%" PRIu64 " (%s-%s of the capture)", info->frames,
             sc_frame_name(info->first_frame), sc_frame_name(info->last_frame));
    html_fact(out, "frames", buf);
    snprintf(buf, sizeof buf, "%s %s%s%s", sc_fmt_close_by(info->close_by),
             sc_fmt_close_how(info->close_how), info->close_after ? " after " : "",
             info->close_after ? info->close_after : "");
    html_fact(out, "closed", buf);
    html_fact(out, "TLS", info->tls || info->tls_state ? "yes" : "no");
    if (info->capture_file)
        html_fact(out, "capture file", info->capture_file);
    html_fact(out, "packets", pkt ? pkt : "not written");
    fputs("</table>\n", out);
}

static void html_findings(FILE *out, FILE *recs, sc_framemap *map)
{
    html_rec r;
    uint8_t text[HTML_TEXT_MAX + 1];
    char name[FRAME_NAME_MAX + 32];
    bool cited[SC_RULE_COUNT] = { false }, any = false;

    fputs("<h2>Findings</h2>\n", out);
    rewind(recs);
    while (html_rec_read(recs, &r, text)) {
        if (r.type != HTML_REC_FINDING)
            continue;
        const sc_rule *rule = r.rule < SC_RULE_COUNT ? &sc_rules[r.rule] : NULL;
        const char *sev = sc_severity_name((sc_severity)r.severity);
        if (!any)
            fputs("<table>\n<tr><th>frame</th><th>severity</th><th>rule</th><th>side</th>"
                  "<th>what was seen</th><th>RFC</th></tr>\n", out);
        any = true;
        fputs("<tr><td>", out);
        sc_html_str(out, sc_framemap_name(map, r.frame, name, sizeof name));
        fprintf(out, "</td><td class=\"%s\">%s</td><td>", sev, sev);
        sc_html_str(out, rule ? rule->name : "?");
        fputs("</td><td>", out);
        sc_html_str(out, sc_side_name((sc_side)r.dir));
        fputs("</td><td>", out);
        sc_html_text(out, text, r.len);
        fputs("</td><td>", out);
        sc_html_str(out, rule ? rule->cite : "");
        fputs("</td></tr>\n", out);
        if (rule)
            cited[rule->id] = true;
    }
    if (!any) {
        fputs("<p>None.</p>\n", out);
        return;
    }
    fputs("</table>\n<h2>What the findings rest on</h2>\n", out);
    for (unsigned i = 0; i < SC_RULE_COUNT; i++) {
        if (!cited[i])
            continue;
        fputs("<p><b>", out);
        sc_html_str(out, sc_rules[i].name);
        fputs("</b>: ", out);
        sc_html_str(out, sc_rules[i].trigger);
        fputs("</p>\n<dl>", out);
        /* the rule in plain words, as --explain and the timeline say it;
         * the last part is the RFC text, quoted below */
        for (int n = 0; n + 1 < SC_EXPLAIN_PARTS; n++) {
            fputs("<dt>", out);
            sc_html_str(out, sc_explain_heading(n));
            fputs("</dt><dd>", out);
            sc_html_str(out, sc_explain_part(&sc_rules[i], n));
            fputs("</dd>", out);
        }
        fputs("</dl>\n<blockquote>", out);
        sc_html_str(out, sc_rules[i].rests_on);
        fputs("</blockquote>\n", out);
    }
}

int sc_html_sess_write(sc_html *h, sc_html_sess *s, const sc_session_info *info, bool redact,
                       sc_framemap *map, const char *pkt, bool whole, FILE *out)
{
    char title[96];
    FILE *recs = sc_tmpfile();

    if (!recs || sc_chain_copy(h->sp, &s->chain, recs) < 0 || fflush(recs) != 0) {
        if (recs)
            fclose(recs);
        return -1;
    }
    snprintf(title, sizeof title, "smtpscope session %" PRIu64, info->id);
    if (whole)
        html_head(out, title);
    fprintf(out, "<section id=\"session-%" PRIu64 "\">\n<h1>smtpscope %s: session %" PRIu64
            "</h1>\n", info->id, SC_VERSION, info->id);
    if (redact)
        fprintf(out, "<p>Redacted: %s.</p>\n", sc_fmt_redacted(sc_pseudo_on()));
    html_facts(out, info, pkt);
    html_findings(out, recs, map);
    fputs("<h2>Ladder</h2>\n<p>Client on the left, server on the right, time going down; "
          "each arrow is a command or a reply, labelled with its frame in the capture and, "
          "in brackets, in the packet file. Red: a finding rests on it; orange, dashed: a "
          "reply that crosses the client's unfinished DATA; a red cross: a reply that never "
          "came.</p>\n", out);
    rewind(recs);
    html_svg_ladder(out, recs, map, &info->start);
    if (s->dropped)
        fprintf(out, "<p>%" PRIu64 " more lines and findings not drawn (a page draws at most %d; "
                "the .txt has them).</p>\n", s->dropped, SC_HTML_LINES_MAX);
    fputs("</section>\n", out);
    if (whole)
        fputs("</body></html>\n", out);
    fclose(recs);
    return 0;
}

void sc_html_index_add(sc_html *h, const sc_session_info *info, const char *page)
{
    html_row *r = sc_grow(h->rows, &h->caprows, h->nrows, sizeof *r, 16);

    if (!r)
        return;
    h->rows = r;
    r = &h->rows[h->nrows];
    if (!(r->page = strdup(page)))
        return;
    r->id = info->id;
    r->client = info->client;
    r->server = info->server;
    memcpy(r->findings, info->findings, sizeof r->findings);
    h->nrows++;
}

static bool html_same_addr(const sc_endpoint *a, const sc_endpoint *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, sizeof a->addr) == 0;
}

int sc_html_index_write(sc_html *h, bool whole, FILE *out)
{
    char c[64], s[64];
    size_t nsrv = 0;
    struct { sc_endpoint ep; uint64_t sessions, findings[3]; } srv[HTML_INDEX_SERVERS];

    html_head(out, "smtpscope evidence");
    (void)whole;
    fprintf(out, "<h1>smtpscope %s: sessions with findings</h1>\n", SC_VERSION);
    fputs("<h2>By server address</h2>\n<table>\n<tr><th>server</th><th>sessions</th>"
          "<th class=\"error\">error</th><th class=\"warning\">warning</th>"
          "<th class=\"info\">info</th></tr>\n", out);
    for (size_t i = 0; i < h->nrows; i++) {
        size_t k = 0;
        while (k < nsrv && !html_same_addr(&srv[k].ep, &h->rows[i].server))
            k++;
        if (k == nsrv) {
            if (nsrv == HTML_INDEX_SERVERS)
                continue;
            memset(&srv[k], 0, sizeof srv[k]);
            srv[k].ep = h->rows[i].server;
            nsrv++;
        }
        srv[k].sessions++;
        for (int v = 0; v < 3; v++)
            srv[k].findings[v] += h->rows[i].findings[v];
    }
    for (size_t k = 0; k < nsrv; k++) {
        sc_endpoint_str(&srv[k].ep, s, sizeof s);
        char *colon = strrchr(s, ':');        /* the address, without the port */
        if (colon)
            *colon = 0;
        if (s[0] == '[' && colon && colon[-1] == ']')
            colon[-1] = 0;                    /* IPv6: [addr] */
        fputs("<tr><td>", out);
        sc_html_str(out, s[0] == '[' ? s + 1 : s);
        fprintf(out, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%"
                PRIu64 "</td></tr>\n", srv[k].sessions, srv[k].findings[SC_SEV_ERROR],
                srv[k].findings[SC_SEV_WARNING], srv[k].findings[SC_SEV_INFO]);
    }
    fputs("</table>\n<h2>Sessions</h2>\n<table>\n<tr><th>session</th><th>client</th>"
          "<th>server</th><th>error</th><th>warning</th><th>info</th></tr>\n", out);
    for (size_t i = 0; i < h->nrows; i++) {
        html_row *r = &h->rows[i];
        sc_endpoint_str(&r->client, c, sizeof c);
        sc_endpoint_str(&r->server, s, sizeof s);
        fputs("<tr><td><a href=\"", out);
        sc_html_str(out, r->page);
        fprintf(out, "\">%" PRIu64 "</a></td><td>", r->id);
        sc_html_str(out, c);
        fputs("</td><td>", out);
        sc_html_str(out, s);
        fprintf(out, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td></tr>\n",
                r->findings[SC_SEV_ERROR], r->findings[SC_SEV_WARNING], r->findings[SC_SEV_INFO]);
    }
    fputs("</table>\n", out);
    if (whole)
        fputs("</body></html>\n", out);
    return ferror(out) ? -1 : 0;
}
