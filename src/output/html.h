/*
 * html.h - the evidence bundle's HTML pages (html.c, ladder drawn by
 * htmlsvg.c): session-ID.html, one self-contained page per session (no
 * script, no font, no style or image from anywhere else: it opens from a
 * mail attachment), and the run's index.html.
 *
 * A session's page: its facts, its findings with what they rest on (the
 * rule catalogue's text), and the ladder as inline SVG (htmlsvg.h).
 * Every text, wire bytes above all, goes through sc_html_text, the one
 * escaping function (safeprint first, then the HTML metacharacters).
 *
 * The lines and findings a page draws are kept while the session runs in
 * a spool chain (spool.h: RAM bounded, the rest on disk), at most
 * SC_HTML_LINES_MAX of them per session; the rest are counted.
 *
 * Interface:
 *   sc_html_new/free          the run's store (the spool, the index rows)
 *   sc_html_sess_*            one session's records: line, finding, park
 *                             (the session waits for its cut), write, free
 *   sc_html_index_add/write   the run's index.html: the sessions with
 *                             findings, and per server address the
 *                             sessions and findings
 * --html FILE (htmlreport.c) writes the index and every page as one file.
 */
#ifndef SC_HTML_H
#define SC_HTML_H

#include <stdio.h>

#include "common/record.h"
#include "framemap.h"

#define SC_HTML_LINES_MAX 2000

typedef struct sc_html sc_html;
typedef struct sc_html_sess sc_html_sess;

sc_html *sc_html_new(void);
void sc_html_free(sc_html *h);

/* Writes n bytes of p, escaped for HTML text and attributes. */
void sc_html_text(FILE *fp, const uint8_t *p, size_t n);
void sc_html_str(FILE *fp, const char *s);

sc_html_sess *sc_html_sess_new(sc_html *h);
void sc_html_sess_line(sc_html *h, sc_html_sess *s, const sc_line *l, bool redact);
void sc_html_sess_finding(sc_html *h, sc_html_sess *s, const sc_finding *f);
void sc_html_sess_park(sc_html *h, sc_html_sess *s);
/* The page of a session; pkt: the packet file's name, or NULL; whole:
 * a page of its own, else its <section id="session-ID"> alone (for the
 * one-file report of --html). Returns 0, or -1 when the kept records
 * could not be read back. */
int sc_html_sess_write(sc_html *h, sc_html_sess *s, const sc_session_info *info, bool redact,
                       sc_framemap *map, const char *pkt, bool whole, FILE *out);
void sc_html_sess_free(sc_html *h, sc_html_sess *s);

/* A row of the index: a session with findings and its page. */
void sc_html_index_add(sc_html *h, const sc_session_info *info, const char *page);
/* The head of the page and the index; whole: the page ends there, else
 * the caller appends the sessions' sections and ends it. */
int sc_html_index_write(sc_html *h, bool whole, FILE *out);

#endif
