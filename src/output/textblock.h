/*
 * textblock.h - one session's block of the text report, built while the
 * session runs: header line, transcript (or ladder) with findings under
 * the line they follow, transaction summary.
 *
 * Shared by the text report (text.c, which orders blocks by session start)
 * and the evidence bundle (evidence.c, one block per .txt file). The block
 * lives in a spool chain (spool.h), so its memory is bounded; a transcript
 * longer than head_lines keeps its first head_lines lines, then only the
 * tail_lines lines before each finding and at the end, with a count of the
 * lines left out in between ("... N lines not shown ...").
 */
#ifndef SC_TEXTBLOCK_H
#define SC_TEXTBLOCK_H

#include <stdio.h>

#include "common/record.h"
#include "spool.h"

typedef struct sc_tb_opts {
    bool     color;          /* ANSI colour sequences */
    bool     ladder;         /* two-column ladder instead of the transcript */
    bool     show_content;   /* content lines are real lines (mask under redact) */
    bool     redact;
    bool     frame_marks;    /* the frame column as SC_TB_MARK_OPEN, the raw
                                frame in decimal, SC_TB_MARK_CLOSE, for the
                                evidence .txt to name it in two numberings
                                (safeprint never lets these bytes through) */
    uint64_t head_lines;     /* 0 = default (20000) */
    unsigned tail_lines;     /* 0 = default (10) */
} sc_tb_opts;

#define SC_TB_MARK_OPEN  '\001'
#define SC_TB_MARK_CLOSE '\002'

typedef struct sc_tb_engine sc_tb_engine;
typedef struct sc_tb_block sc_tb_block;

sc_tb_engine *sc_tb_engine_new(const sc_tb_opts *o);
void sc_tb_engine_free(sc_tb_engine *e);

sc_tb_block *sc_tb_block_new(sc_tb_engine *e, const sc_session_info *info);
void sc_tb_block_line(sc_tb_engine *e, sc_tb_block *b, const sc_line *l);
/* For a block that may never be shown in full (a one-line session, or one
 * that --only-findings leaves out): its lines are held raw, up to 6 KB,
 * and rendered only when it turns out to be shown in full: at its first
 * finding, at sc_tb_block_end, at sc_tb_block_undefer, or past those 6 KB.
 * sc_tb_block_end_brief and sc_tb_block_free drop them unrendered. The
 * text is the same as without. */
void sc_tb_block_defer(sc_tb_engine *e, sc_tb_block *b);
void sc_tb_block_undefer(sc_tb_engine *e, sc_tb_block *b);
void sc_tb_block_finding(sc_tb_engine *e, sc_tb_block *b, const sc_finding *f);
/* Renders the header and the summary from the final info. */
void sc_tb_block_end(sc_tb_engine *e, sc_tb_block *b, const sc_session_info *info);
/* Instead of sc_tb_block_end, for a session without a finding in a large
 * report: one line (id, peers, start, duration, frames, transactions),
 * the transcript dropped; note, if not NULL, is a line written before it. */
void sc_tb_block_end_brief(sc_tb_engine *e, sc_tb_block *b, const sc_session_info *info,
                           const char *note);
/* Moves what the block holds in RAM to disk (the block must wait). */
void sc_tb_block_park(sc_tb_engine *e, sc_tb_block *b);
/* Writes header, transcript and summary to out. */
int sc_tb_block_write(sc_tb_engine *e, const sc_tb_block *b, FILE *out);
uint64_t sc_tb_block_findings(const sc_tb_block *b);
void sc_tb_block_free(sc_tb_engine *e, sc_tb_block *b);

/* The text form of one transcript line or finding, as the report prints it
 * (exposed for the tests and the timeline). start is the session start.
 * Returns the length written into buf (always NUL-terminated). */
size_t sc_tb_format_line(const sc_tb_opts *o, const struct timeval *start,
                         const sc_line *l, char *buf, size_t len);
size_t sc_tb_format_finding(const sc_tb_opts *o, const sc_finding *f,
                            char *buf, size_t len);

#endif
