/*
 * html_int.h - the records a session's HTML page is drawn from, private
 * to html.c (which keeps and reads them) and htmlsvg.c (which draws the
 * ladder from them).
 */
#ifndef SC_HTML_INT_H
#define SC_HTML_INT_H

#include <stdio.h>

#include "common/record.h"
#include "framemap.h"

#define HTML_TEXT_MAX 600          /* bytes of a line or message kept */

typedef enum html_rec_kind { HTML_REC_LINE = 1, HTML_REC_FINDING = 2 } html_rec_kind;

typedef struct html_rec {
    uint8_t  type;                 /* html_rec_kind */
    uint8_t  dir;                  /* sc_dir */
    uint8_t  kind;                 /* sc_line_kind */
    uint8_t  severity;             /* finding */
    uint16_t rule;                 /* finding: sc_rule_id */
    uint16_t len;                  /* bytes of text that follow */
    uint64_t frame;
    uint64_t seq;                  /* line: its seq; finding: after_line */
    int64_t  sec;
    int32_t  usec;
} html_rec;

/* Reads the next record and its text (text[len] = 0): 1, 0 at the end. */
int html_rec_read(FILE *fp, html_rec *r, uint8_t text[HTML_TEXT_MAX + 1]);

/* Draws the ladder of the records in fp (read from its start). */
void html_svg_ladder(FILE *out, FILE *fp, sc_framemap *map, const struct timeval *start);

#endif
