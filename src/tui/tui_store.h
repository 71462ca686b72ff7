/*
 * tui_store.h - the timeline's storage: a compact in-memory index of the
 * sessions and a spill file holding their transcript lines and findings.
 *
 * Records of a session are appended to a small per-session buffer while
 * the session is open; a full buffer (or the end of the session, or a
 * read of that session) is written to the spill file as one chunk whose
 * header points back to the session's previous chunk. Reading a session
 * walks its chain back, then reads the chunks forward: a few reads per
 * session, whatever the interleaving of sessions in the capture.
 *
 * Memory: one tui_sess per session (fixed size), one buffer of at most
 * TUI_CHUNK_MAX bytes per open session, and for the one session being
 * viewed an array of record offsets (tui_tl). Records of any size are
 * accepted: text beyond TUI_TEXT_MAX bytes is cut and flagged.
 *
 * A run of identical lines (same direction, kind and bytes, message
 * content aside, no finding between them: a bot's 500 replies) is loaded
 * as its first line and one entry that counts the repeats (TUI_F_RUN,
 * tui_rec.run_count and run_first/run_last frames), as the text report
 * shows it; a run of one repeat shows that line as it is.
 *
 * Diagnostics: a failed write to the spill file sets store->spill_error
 * (errno text in store->spill_msg); later records of all sessions are
 * dropped, the index keeps counting.
 */
#ifndef SC_TUI_STORE_H
#define SC_TUI_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"
#include "common/record.h"
#include "tui.h"

#define TUI_TEXT_MAX   16384u   /* bytes of one line or message kept */
#define TUI_CHUNK_MAX  4096u    /* per-session write buffer, at most */
#define TUI_NO_OFF     UINT64_MAX
#define TUI_FILES_MAX  65535u   /* capture files told apart */

typedef enum tui_rec_type { TUI_REC_LINE = 1, TUI_REC_FINDING = 2 } tui_rec_type;

/* Record flags. */
#define TUI_F_TRUNCATED 0x01    /* text was cut at TUI_TEXT_MAX */
#define TUI_F_IN_DATA   0x02    /* computed on read: client is inside DATA content */
#define TUI_F_CROSSES   0x04    /* computed on read: a reply sent during that content */
#define TUI_F_FINDING   0x08    /* in tui_tl.flags: the record is a finding */
#define TUI_F_MORE      0x10    /* a finding record that counts the findings
                                   past --max-findings (sc_finding.suppressed) */
#define TUI_F_RUN       0x20    /* in tui_tl.flags: a line entry that stands
                                   for a run of repeats of the line before */

/* One record as read back. text points into the reader's buffer. */
typedef struct tui_rec {
    tui_rec_type   type;
    uint8_t        flags;
    sc_dir         dir;          /* lines */
    sc_line_kind   kind;         /* lines */
    sc_severity    severity;     /* findings */
    sc_side        side;         /* findings */
    unsigned       rule;         /* findings: index into sc_rules */
    uint64_t       frame;
    struct timeval ts;
    const uint8_t *text;         /* raw wire bytes (lines) or message */
    size_t         len;
    uint64_t       run_count;    /* TUI_F_RUN: repeats it stands for */
    uint64_t       run_first, run_last;   /* TUI_F_RUN: their frames */
} tui_rec;

typedef enum tui_sess_state { TUI_SESS_OPEN, TUI_SESS_CLOSED } tui_sess_state;

/* The in-memory index of one session. */
typedef struct tui_sess {
    uint64_t        id;                /* unique within its capture file */
    uint16_t        file;              /* index in tui_store.files */
    sc_endpoint     client, server;
    struct timeval  start, last;       /* first and latest record time */
    uint64_t        first_frame, frames;
    uint32_t        findings[3];       /* by severity */
    uint32_t        nrec;              /* records stored */
    uint64_t        last_chunk;        /* spill offset of the newest chunk */
    uint8_t        *buf;               /* pending records (open sessions) */
    uint32_t        buflen, bufcap;
    uint8_t         state;             /* tui_sess_state */
    uint8_t         close_how;         /* sc_close_how */
    bool            tls;
} tui_sess;

/* A run of repeats folded into the entry at index i of a tui_tl. */
typedef struct tui_run {
    size_t   i;
    uint64_t count, first, last;
} tui_run;

/* The records of the session being viewed: offsets into the spill file. */
typedef struct tui_tl {
    size_t    sess;                    /* index in store, SIZE_MAX: none */
    uint32_t  nrec_loaded;             /* sess->nrec when loaded */
    uint64_t *off;
    uint8_t  *flags;                   /* TUI_F_IN_DATA, TUI_F_CROSSES, ... */
    size_t    n, cap;
    tui_run  *runs;                    /* by entry index, ascending */
    size_t    nruns, capruns;
    uint8_t  *last;                    /* the last line loaded (runs) */
    size_t    lastlen, lastcap;
} tui_tl;

typedef struct tui_store {
    FILE      *spill;
    int        fd;
    uint64_t   end;                    /* bytes written to spill */
    tui_sess  *sess;
    size_t     nsess, capsess;
    size_t    *hash;                   /* id -> index+1, open addressing */
    size_t     hashcap;
    char     **files;                  /* capture file names, in order seen */
    size_t     nfiles;
    bool       one_capture;            /* several files read as one: ids unique */
    const char *const *args;           /* the -r strings (tui_store_set_files) */
    size_t     nargs;
    unsigned   cur_file;
    uint64_t   version;                /* bumped on every change */
    uint64_t   findings[3];
    bool       spill_error;
    char       spill_msg[128];
    uint8_t   *rbuf;                   /* reader buffer for one record */
    size_t     rbufcap;
} tui_store;

tui_store *tui_store_new(void);
void tui_store_free(tui_store *st);

void tui_store_session_begin(tui_store *st, const sc_session_info *si);
void tui_store_line(tui_store *st, const sc_session_info *si, const sc_line *ln);
void tui_store_finding(tui_store *st, const sc_session_info *si, const sc_finding *f);
void tui_store_session_end(tui_store *st, const sc_session_info *si);

/* Registers the files of -r in order (the strings must outlive the
 * store), so that file numbers are positions in -r, as the evidence names
 * and the list's "file:id" say, even when a file brings no session; a
 * file given twice is told apart by its -r string. Call before records
 * arrive. */
void tui_store_set_files(tui_store *st, const char *const *files, size_t n);
/* The -r string of file number file when registered, else its name. */
const char *tui_store_file_arg(const tui_store *st, unsigned file);

/* Index of session id of capture file number file, or SIZE_MAX. */
size_t tui_store_find(const tui_store *st, unsigned file, uint64_t id);
const char *tui_store_file_name(const tui_store *st, unsigned file);

/* Loads (or refreshes, when the session grew) the offsets of session idx
 * into tl. Returns 0 or -1 (spill file unreadable). */
int tui_store_load(tui_store *st, tui_tl *tl, size_t idx);
void tui_tl_free(tui_tl *tl);

/* Reads record i of tl into rec (rec->text valid until the next call).
 * Returns 0 or -1. */
int tui_store_rec(tui_store *st, const tui_tl *tl, size_t i, tui_rec *rec);

/* The private state of the timeline sink. */
struct tui_view;
typedef struct tui_sink {
    sc_sink             base;          /* first: the sc_sink handed out */
    const sc_config    *cfg;
    tui_store          *st;
    sc_tui_evidence_fn  evidence;
    void               *evidence_ctx;
    struct tui_view    *view;          /* NULL until the screen opens */
    void              (*view_free)(struct tui_sink *);  /* set with view */
    double              progress_last; /* time of the last progress draw */
    bool                progress_shown;
} tui_sink;

#endif
