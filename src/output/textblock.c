/*
 * textblock.c - one session's block of the text report (textblock.h).
 *
 * Line format (docs/interface.md):
 *   "#22    +0.2104  C> RCPT TO:<recipient@example.com>"
 * frame number padded to 5, time since session start padded to 8, the
 * direction, the line escaped by safeprint. A line longer than
 * TB_TEXT_MAX bytes is cut there with a count of the rest. Findings:
 *   "       !! error reply-lost (server): message [cite]"
 * and, at the end of the transcript, those past --max-findings:
 *   "       !! warning pipelining-not-last (client): and 989 more in this
 *    session (frames #7-#170), not shown"
 * Ladder (--ladder): client text in a left column of TB_LADDER_COL cells
 * followed by an arrow to the right, server text after an arrow pointing
 * left, so that a reply between two client content lines stands out:
 *   "#30    +0.5000  [message content...]                      ──────────>"
 *   "#31    +0.5100                                           <──────────  552 too big"
 * and there a finding is wrapped to TB_WIDTH columns, its next lines
 * indented by TB_FIND_INDENT (the transcript keeps one line a finding,
 * for grep).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"
#include "common/grow.h"
#include "outfmt.h"
#include "common/safeprint.h"
#include "textblock.h"

#define TB_TEXT_MAX      2000      /* raw bytes of one line shown */
#define TB_RENDER_MAX    (TB_TEXT_MAX * 4 + 512)   /* the longest line, escaped, with
                                             its prefix, colours and arrows */
#define TB_LADDER_COL    44
#define TB_HEAD_DEFAULT  20000
#define TB_TAIL_DEFAULT  10
#define TB_HOLD_FIRST    256       /* held lines: first buffer, doubling */
#define TB_HOLD_MAX      6144      /* past this a held block is rendered */
#define TB_SPARE_MAX     32        /* freed blocks kept for the next sessions */
#define TB_KEEP_HELD     1024      /* a held-line buffer kept for another block
                                    * at most this large (three sessions in
                                    * four of gateway traffic hold less) */
#define TB_KEEP_REP      256       /* a line of the run kept likewise */
#define TB_LINE          64        /* a cache line: a block's alignment */
#define TB_EXT_SHOWN     32
#define TB_RCPT_SHOWN    16
#define TB_REP_MAX       TB_TEXT_MAX /* a longer line is never folded */
#define TB_WIDTH         80        /* the session header is folded to this */
#define TB_FOLD_INDENT   "  "
#define TB_FIND_INDENT   "          "   /* a ladder finding's next lines */

#define TB_ESC_RESET "\033[0m"

static const char *const tb_sev_color[3] = {
    [SC_SEV_INFO] = "\033[36m", [SC_SEV_WARNING] = "\033[33m", [SC_SEV_ERROR] = "\033[1;31m",
};
static const char *const tb_dir_mark[2] = { [SC_DIR_C2S] = "C>", [SC_DIR_S2C] = "S>" };
static const char *const tb_dir_color[2] = { [SC_DIR_C2S] = "\033[32m", [SC_DIR_S2C] = "\033[34m" };

/* A freed block is kept, with its held-line buffer and its line of the
 * run when they are small, for the next session: up to TB_SPARE_MAX of
 * them, so at most TB_SPARE_MAX * (sizeof (sc_tb_block) + TB_KEEP_HELD +
 * TB_KEEP_REP) bytes, about 55 KB, whatever the capture. On gateway
 * traffic a session is a few dozen lines, and a block, its buffer grown
 * by doubling and their frees were most of what the report's lines cost
 * beyond copying them. The held-line buffer of a parked block (the
 * report's blocks wait behind a long session) is kept too, for a new
 * block, up to TB_SPARE_MAX of them (at most 32 KB). Larger buffers are
 * freed: a buffer passed from block to block would otherwise only grow,
 * and a session that holds little would hold a large one. */
typedef struct tb_buf {
    uint8_t *p;
    size_t   cap;
} tb_buf;

struct sc_tb_engine {
    sc_tb_opts   o;
    sc_spool    *sp;
    sc_tb_block *spare;         /* linked by spare_next */
    unsigned     nspare;
    tb_buf       held[TB_SPARE_MAX];
    unsigned     nheld;
    char         render[TB_RENDER_MAX];
};

typedef struct tb_ring_entry {
    char  *text;
    size_t len;
} tb_ring_entry;

struct sc_tb_block {
    /* Lines held raw (sc_tb_block_defer) until the block is known to be
     * shown in full: tb_held records, each followed by its bytes. First,
     * with the start their times count from: all that a held line reads
     * of the block, in its first cache line (the block is allocated
     * aligned to one; between two lines of a session the rest of the
     * block has left the cache). held stays allocated, empty, once the
     * block no longer holds, for the block's next session (spares). */
    bool           holding;
    uint8_t       *held;
    size_t         held_len, held_cap;
    struct timeval start;
    sc_chain       head, body, tail;
    uint64_t       nlines;
    uint64_t       elided;        /* lines left out since the last marker */
    uint64_t       nfindings;
    tb_ring_entry *ring;          /* allocated once past head_lines */
    unsigned       rfirst, rcount;
    /* A run of identical lines is shown once, then counted (a bot's 500
     * replies): the run's line, its repeats and their frames. */
    uint8_t       *rep_text;      /* the line, whole (at most TB_REP_MAX) */
    size_t         rep_cap;       /* bytes allocated there: as the lines need */
    size_t         rep_len;
    sc_dir         rep_dir;
    sc_line_kind   rep_kind;
    uint64_t       rep_count, rep_first, rep_last;
    char          *rep_render;    /* the last repeat, shown when it is alone */
    size_t         rep_rlen, rep_rcap;
    sc_tb_block   *spare_next;    /* in the engine's spares */
    void          *mem;           /* what malloc gave, the block aligned in it */
};

/* A line held raw is a record of fixed fields, then the bytes shown (at
 * most TB_TEXT_MAX; the length counts the rest): the frame (8 bytes), the
 * seconds after the block's start and the microseconds (4 each, signed),
 * the length (4) and a byte of direction, kind and whether it has text.
 * Written and read with fixed-size copies (a line that is held and never
 * shown, most lines under --only-findings, costs little more than its
 * bytes); a line whose fields do not fit is rendered instead. */
#define TB_HELD_HDR  21

static bool tb_held_fits(const sc_tb_block *b, const sc_line *l)
{
    /* each range a single unsigned comparison (a line's cost, held) */
    uint64_t dsec = (uint64_t)((int64_t)l->ts.tv_sec - (int64_t)b->start.tv_sec);
    uint64_t usec = (uint64_t)(int64_t)l->ts.tv_usec;

    return (unsigned)l->kind <= 63 && (unsigned)l->dir <= 1 &&
           dsec + 0x80000000u <= UINT32_MAX && usec + 0x80000000u <= UINT32_MAX &&
           (uint64_t)l->len <= UINT32_MAX;
}

sc_tb_engine *sc_tb_engine_new(const sc_tb_opts *o)
{
    sc_tb_engine *e = calloc(1, sizeof *e);

    if (!e)
        return NULL;
    e->o = *o;
    if (e->o.head_lines == 0)
        e->o.head_lines = TB_HEAD_DEFAULT;
    if (e->o.tail_lines == 0)
        e->o.tail_lines = TB_TAIL_DEFAULT;
    if (!(e->sp = sc_spool_new())) {
        free(e);
        return NULL;
    }
    return e;
}

void sc_tb_engine_free(sc_tb_engine *e)
{
    if (!e)
        return;
    while (e->spare) {
        sc_tb_block *b = e->spare;
        e->spare = b->spare_next;
        free(b->held);
        free(b->rep_text);
        free(b->mem);
    }
    while (e->nheld)
        free(e->held[--e->nheld].p);
    sc_spool_free(e->sp);
    free(e);
}

/* A spare block emptied, its buffers kept, or a new one (zeroed, aligned
 * to a cache line: by hand, aligned_alloc cost three times a malloc). */
static sc_tb_block *tb_block_alloc(sc_tb_engine *e)
{
    sc_tb_block *b = e->spare;

    if (!b) {
        void *mem = malloc(sizeof *b + TB_LINE - 1);
        if (!mem)
            return NULL;
        b = (sc_tb_block *)(((uintptr_t)mem + TB_LINE - 1) & ~(uintptr_t)(TB_LINE - 1));
        memset(b, 0, sizeof *b);
        b->mem = mem;
        if (e->nheld) {
            tb_buf *h = &e->held[--e->nheld];
            b->held = h->p;
            b->held_cap = h->cap;
        }
        return b;
    }
    e->spare = b->spare_next;
    e->nspare--;
    uint8_t *held = b->held, *rep = b->rep_text;
    size_t held_cap = b->held_cap, rep_cap = b->rep_cap;
    void *mem = b->mem;
    memset(b, 0, sizeof *b);
    b->mem = mem;
    b->held = held;
    b->held_cap = held_cap;
    b->rep_text = rep;
    b->rep_cap = rep_cap;
    return b;
}

sc_tb_block *sc_tb_block_new(sc_tb_engine *e, const sc_session_info *info)
{
    sc_tb_block *b = tb_block_alloc(e);

    if (!b)
        return NULL;
    b->start = info->start;     /* the rest comes zeroed: empty chains */
    return b;
}

/* Direct appends for the block's text: what printf would write, without
 * its parsing (printf's format walk and floating point were most of the
 * cost of a block's header, summary, findings and one-line form). Each
 * writes at w and returns the new end; the callers' buffers are sized for
 * the longest text they append. */
static char *tb_cat(char *w, const char *s)
{
    size_t n = strlen(s);

    memcpy(w, s, n);
    return w + n;
}

static char *tb_frame(char *w, uint64_t frame)         /* sc_frame_name() */
{
    if (sc_frame_named())
        return tb_cat(w, sc_frame_name(frame));
    *w++ = '#';
    return sc_u64_put(w, SC_FRAME_NUMBER(frame));
}

static char *tb_spaces(char *w, char *from, size_t width)   /* "%-*s" padding */
{
    while ((size_t)(w - from) < width)
        *w++ = ' ';
    return w;
}

/* Writes at w what sprintf(w, "%-6s %-8s ", sc_frame_name(frame), tm)
 * writes, tm being the time since the start as "%+.4f" (with the frame
 * between marks instead for the evidence .txt); returns the end.
 * printf's floating point and padding were a quarter of the cost of a
 * transcript line. */
static char *tb_line_prefix(const sc_tb_opts *o, const struct timeval *start,
                            const sc_line *l, char *w)
{
    char *from = w;

    if (o->frame_marks) {       /* HTML: the frame between marks */
        *w++ = SC_TB_MARK_OPEN;
        w = sc_u64_put(w, l->frame);
        *w++ = SC_TB_MARK_CLOSE;
    } else {
        w = tb_spaces(tb_frame(w, l->frame), from, 6);
    }
    *w++ = ' ';
    from = w;
    w = tb_spaces(sc_fmt_fixed(w, sc_fmt_elapsed(start, &l->ts), 4, true), from, 8);
    *w++ = ' ';
    return w;
}

/* The line is written straight into buf when buf holds the longest line
 * (the blocks' render buffer), else into a local one and cut to len. */
size_t sc_tb_format_line(const sc_tb_opts *o, const struct timeval *start,
                         const sc_line *l, char *buf, size_t len)
{
    static const char arrow_right[] = " \u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500>";
    static const char arrow_left[] = " <\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500";
    char local[TB_RENDER_MAX], *out = len >= TB_RENDER_MAX ? buf : local, *w = out, *esc;
    uint8_t masked[TB_TEXT_MAX];
    const uint8_t *text = l->text;
    size_t n = l->len < TB_TEXT_MAX ? l->len : TB_TEXT_MAX, ne, nmore;
    unsigned d = l->dir == SC_DIR_S2C ? SC_DIR_S2C : SC_DIR_C2S;

    if (len == 0)
        return 0;
    /* With --show-content the content lines are real message lines: under
     * --redact they are masked here too, whatever the session layer did. */
    if (o->redact && o->show_content && l->kind == SC_LINE_CONTENT && text) {
        for (size_t i = 0; i < n; i++)
            masked[i] = text[i] == '\r' || text[i] == '\n' ? text[i] : 'X';
        text = masked;
    }
    if (o->color)
        w = tb_cat(w, "\033[2m");
    w = tb_line_prefix(o, start, l, w);
    if (o->color)
        w = tb_cat(w, TB_ESC_RESET);
    if (o->ladder && d == SC_DIR_S2C) {
        w = tb_spaces(w, w, TB_LADDER_COL);
        if (o->color)
            w = tb_cat(w, tb_dir_color[d]);
        w = tb_cat(w, arrow_left);
        if (o->color)
            w = tb_cat(w, TB_ESC_RESET);
        w = tb_cat(w, "  ");
    } else if (!o->ladder) {
        if (o->color)
            w = tb_cat(w, tb_dir_color[d]);
        w = tb_cat(w, tb_dir_mark[d]);
        if (o->color)
            w = tb_cat(w, TB_ESC_RESET);
        *w++ = ' ';
    }
    /* the text, escaped (at most 4 bytes a byte: never cut here), and
     * the count of the bytes past TB_TEXT_MAX */
    esc = w;
    ne = text ? sc_safe_snprint(w, TB_TEXT_MAX * 4 + 1, text, n) : 0;
    w += ne;
    if (l->len > n)
        w = tb_cat(sc_u64_put(tb_cat(w, " [... "), (uint64_t)(l->len - n)), " more bytes]");
    nmore = (size_t)(w - esc) - ne;
    if (o->ladder && d == SC_DIR_C2S) {
        size_t width = sc_safe_width(esc, ne) + nmore;
        w = tb_spaces(w, w, width < TB_LADDER_COL ? TB_LADDER_COL - width : 0);
        if (o->color)
            w = tb_cat(w, tb_dir_color[d]);
        w = tb_cat(w, arrow_right);
        if (o->color)
            w = tb_cat(w, TB_ESC_RESET);
    }
    size_t k = (size_t)(w - out);
    if (out != buf) {
        k = k < len ? k : len - 1;
        memcpy(buf, out, k);
    }
    buf[k] = '\0';
    return k;
}

size_t sc_tb_format_finding(const sc_tb_opts *o, const sc_finding *f, char *buf, size_t len)
{
    char msg[SC_MESSAGE_MAX * 4 + 1], line[SC_MESSAGE_MAX * 4 + 1024], *w = line;
    size_t mlen = strnlen(f->message, sizeof f->message), n;
    unsigned sev = (unsigned)f->severity < 3 ? (unsigned)f->severity : SC_SEV_ERROR;

    if (len == 0)
        return 0;
    sc_safe_snprint(msg, sizeof msg, (const uint8_t *)f->message, mlen);
    /* "       !! SEVERITY RULE (SIDE): MESSAGE [CITE]"; the count of
     * findings past --max-findings cites nothing: the rule's citation is
     * on the findings shown above it. (line holds the longest: the
     * message escaped, and a rule's name and citation, short strings of
     * the catalogue.) */
    w = tb_cat(w, "       ");
    if (o->color)
        w = tb_cat(w, tb_sev_color[sev]);
    w = tb_cat(w, "!! ");
    w = tb_cat(w, sc_severity_name(f->severity));
    if (o->color)
        w = tb_cat(w, TB_ESC_RESET);
    *w++ = ' ';
    w = tb_cat(w, f->rule ? f->rule->name : "?");
    w = tb_cat(w, " (");
    w = tb_cat(w, sc_side_name(f->side));
    w = tb_cat(w, "): ");
    w = tb_cat(w, msg);
    if (!f->suppressed) {
        w = tb_cat(w, " [");
        if (f->rule)
            w = tb_cat(w, f->rule->cite);
        *w++ = ']';
    }
    n = (size_t)(w - line) < len ? (size_t)(w - line) : len - 1;
    memcpy(buf, line, n);
    buf[n] = '\0';
    return n;
}

static void tb_block_emit(sc_tb_engine *e, sc_tb_block *b, const char *s, size_t n)
{
    sc_chain_write(e->sp, &b->body, s, n);
    sc_chain_write(e->sp, &b->body, "\n", 1);
}

/* Writes the elision marker (if lines were left out) and the ring. */
static void tb_block_flush_ring(sc_tb_engine *e, sc_tb_block *b)
{
    if (b->elided) {
        char buf[64], *w = sc_u64_put(tb_cat(buf, "       ... "), b->elided);
        w = tb_cat(w, " lines not shown ...\n");
        sc_chain_write(e->sp, &b->body, buf, (size_t)(w - buf));
        b->elided = 0;
    }
    for (; b->rcount > 0; b->rcount--) {
        tb_ring_entry *r = &b->ring[b->rfirst];
        tb_block_emit(e, b, r->text, r->len);
        free(r->text);
        r->text = NULL;
        b->rfirst = (b->rfirst + 1) % e->o.tail_lines;
    }
}

/* One rendered line into the block: the first head_lines lines, then the
 * ring of the last tail_lines (kept for the next finding or the end). */
static void tb_block_put(sc_tb_engine *e, sc_tb_block *b, const char *render, size_t n)
{

    if (b->nlines++ < e->o.head_lines) {
        tb_block_emit(e, b, render, n);
        return;
    }
    if (!b->ring && !(b->ring = calloc(e->o.tail_lines, sizeof *b->ring))) {
        b->elided++;
        return;
    }
    if (b->rcount == e->o.tail_lines) {          /* the oldest is left out */
        free(b->ring[b->rfirst].text);
        b->ring[b->rfirst].text = NULL;
        b->rfirst = (b->rfirst + 1) % e->o.tail_lines;
        b->rcount--;
        b->elided++;
    }
    tb_ring_entry *r = &b->ring[(b->rfirst + b->rcount) % e->o.tail_lines];
    if (!(r->text = malloc(n + 1))) {
        b->elided++;
        return;
    }
    memcpy(r->text, render, n);
    r->text[n] = '\0';
    r->len = n;
    b->rcount++;
}

/* Is l the line of the run in progress? (Message content is never folded;
 * lines are compared whole, as the TUI compares them.) */
static bool tb_rep_same(const sc_tb_block *b, const sc_line *l)
{
    return b->rep_text && l->kind != SC_LINE_CONTENT && l->len <= TB_REP_MAX &&
           l->kind == b->rep_kind && l->dir == b->rep_dir && l->len == b->rep_len &&
           (l->len == 0 || (l->text && memcmp(l->text, b->rep_text, l->len) == 0));
}

/* Ends the run: one repeat is shown as it is, more as one line that
 * counts them. */
static void tb_rep_flush(sc_tb_engine *e, sc_tb_block *b)
{
    char buf[FRAME_NAME_MAX * 2 + 96];

    if (b->rep_count == 1 && b->rep_render) {
        tb_block_put(e, b, b->rep_render, b->rep_rlen);
    } else if (b->rep_count > 1) {
        char *w = sc_u64_put(tb_cat(buf, "       ... the same line "), b->rep_count);
        w = tb_frame(tb_cat(w, " more times ("), b->rep_first);
        if (b->rep_last != b->rep_first)
            w = tb_frame(tb_cat(w, "-"), b->rep_last);
        *w++ = ')';
        tb_block_put(e, b, buf, (size_t)(w - buf));
    }
    b->rep_count = 0;
}

/* Keeps l raw at the end of the held lines; false when it does not fit
 * within TB_HOLD_MAX or its fields do not fit the record (the caller
 * renders what is held, then l). */
static bool tb_hold_line(sc_tb_block *b, const sc_line *l)
{
    size_t kept = l->text ? (l->len < TB_TEXT_MAX ? l->len : TB_TEXT_MAX) : 0;
    size_t need = b->held_len + TB_HELD_HDR + kept;

    if (need > TB_HOLD_MAX || !tb_held_fits(b, l))
        return false;
    if (need > b->held_cap) {
        uint8_t *nb = sc_grow_bytes(b->held, &b->held_cap, need, TB_HOLD_FIRST, TB_HOLD_MAX);
        if (!nb)
            return false;
        b->held = nb;
    }
    uint8_t *w = b->held + b->held_len;
    uint64_t frame = l->frame;
    int32_t sec = (int32_t)((int64_t)l->ts.tv_sec - (int64_t)b->start.tv_sec);
    int32_t usec = (int32_t)l->ts.tv_usec;
    uint32_t len = (uint32_t)l->len;
    memcpy(w, &frame, 8);
    memcpy(w + 8, &sec, 4);
    memcpy(w + 12, &usec, 4);
    memcpy(w + 16, &len, 4);
    w[20] = (uint8_t)((l->dir == SC_DIR_S2C) | (l->text != NULL) << 1 | (unsigned)l->kind << 2);
    if (kept)
        memcpy(w + TB_HELD_HDR, l->text, kept);
    b->held_len = need;
    return true;
}

/* Drops the held lines unrendered and holds no more (the buffer stays,
 * empty, for the block's next session). */
static void tb_hold_drop(sc_tb_block *b)
{
    b->held_len = 0;
    b->holding = false;
}

static void tb_line_render(sc_tb_engine *e, sc_tb_block *b, const sc_line *l);

/* Renders the held lines, in order, as they would have been; from then on
 * lines are rendered as they come. */
static void tb_hold_release(sc_tb_engine *e, sc_tb_block *b)
{
    const uint8_t *p = b->held, *end = p ? p + b->held_len : NULL;   /* none held yet */

    b->holding = false;         /* the lines below are rendered, not held */
    /* about as many bytes rendered as held: a line's prefix is as long as
     * its record's fields */
    sc_chain_reserve(&b->body, b->held_len + b->held_len / 8);
    while (p && p < end) {
        uint64_t frame;
        int32_t sec, usec;
        uint32_t len;
        memcpy(&frame, p, 8);
        memcpy(&sec, p + 8, 4);
        memcpy(&usec, p + 12, 4);
        memcpy(&len, p + 16, 4);
        unsigned bits = p[20];
        p += TB_HELD_HDR;
        sc_line l = { .frame = frame, .dir = bits & 1 ? SC_DIR_S2C : SC_DIR_C2S,
                      .kind = (sc_line_kind)(bits >> 2), .len = (size_t)len,
                      .text = bits & 2 ? p : NULL };
        l.ts.tv_sec = (time_t)((int64_t)b->start.tv_sec + sec);
        l.ts.tv_usec = (suseconds_t)usec;
        p += bits & 2 ? (len < TB_TEXT_MAX ? len : TB_TEXT_MAX) : 0;
        tb_line_render(e, b, &l);
    }
    b->held_len = 0;
}

void sc_tb_block_defer(sc_tb_engine *e, sc_tb_block *b)
{
    (void)e;
    b->holding = true;
}

void sc_tb_block_undefer(sc_tb_engine *e, sc_tb_block *b)
{
    if (b->holding)
        tb_hold_release(e, b);
}

/* A line of a block that does not hold (any more): rendered into it. */
static void tb_line_render(sc_tb_engine *e, sc_tb_block *b, const sc_line *l)
{
    size_t n = sc_tb_format_line(&e->o, &b->start, l, e->render, sizeof e->render);

    if (tb_rep_same(b, l)) {
        if (b->rep_count++ == 0)
            b->rep_first = l->frame;
        b->rep_last = l->frame;
        if (n + 1 > b->rep_rcap) {      /* the buffer is kept from run to run */
            char *r = realloc(b->rep_render, n + 1);
            if (!r) {
                free(b->rep_render);
                b->rep_render = NULL;
                b->rep_rcap = 0;
                return;
            }
            b->rep_render = r;
            b->rep_rcap = n + 1;
        }
        memcpy(b->rep_render, e->render, n + 1);
        b->rep_rlen = n;
        return;
    }
    tb_rep_flush(e, b);
    /* The line kept for the comparison: as long as it is (most are a few
     * dozen bytes; a block per open session holds one); a line longer than
     * TB_REP_MAX starts no run. */
    size_t k = l->len;
    if (k > TB_REP_MAX || (k && !l->text)) {
        b->rep_len = SIZE_MAX;                  /* matches no line */
        tb_block_put(e, b, e->render, n);
        return;
    }
    if (!b->rep_text || k > b->rep_cap) {
        size_t cap = k < 64 ? 64 : k;
        uint8_t *t = realloc(b->rep_text, cap);
        if (t) {
            b->rep_text = t;
            b->rep_cap = cap;
        } else {                /* no run detection for this line */
            free(b->rep_text);
            b->rep_text = NULL;
            b->rep_cap = 0;
        }
    }
    if (b->rep_text) {
        if (k)
            memcpy(b->rep_text, l->text, k);
        b->rep_len = l->len;
        b->rep_dir = l->dir;
        b->rep_kind = l->kind;
    }
    tb_block_put(e, b, e->render, n);
}

/* Held, or rendered: the held path apart, so that a held line (most lines
 * under --only-findings) costs no more than its copy. */
void sc_tb_block_line(sc_tb_engine *e, sc_tb_block *b, const sc_line *l)
{
    if (b->holding) {
        if (tb_hold_line(b, l))
            return;
        tb_hold_release(e, b);      /* past the bound: rendered from now on */
    }
    tb_line_render(e, b, l);
}

/* The bytes of s (n bytes) that fit in width columns, cut after the last
 * space past column from when the line goes on (at width when it has
 * none): colour sequences take no column, nor do the bytes that continue
 * a UTF-8 character. */
static size_t tb_wrap_cut(const char *s, size_t n, size_t width, size_t from)
{
    size_t col = 0, cut = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\033') {                       /* ESC [ ... m */
            while (i < n && s[i] != 'm')
                i++;
            continue;
        }
        if (((unsigned char)s[i] & 0xc0) == 0x80)
            continue;
        if (col == width)
            return cut ? cut : i;
        if (s[i] == ' ' && col >= from)
            cut = i;
        col++;
    }
    return n;
}

/* A finding of the ladder: wrapped to TB_WIDTH columns, the rest of its
 * message indented under it, as the ladder's lanes are (a finding one
 * line long is shown as it is). */
static void tb_block_emit_wrapped(sc_tb_engine *e, sc_tb_block *b, const char *s, size_t n)
{
    bool first = true;

    while (n > 0) {
        size_t room = first ? TB_WIDTH : TB_WIDTH - strlen(TB_FIND_INDENT);
        size_t k = tb_wrap_cut(s, n, room, first ? strlen(TB_FIND_INDENT) : 1);
        if (!first)
            sc_chain_write(e->sp, &b->body, TB_FIND_INDENT, strlen(TB_FIND_INDENT));
        tb_block_emit(e, b, s, k);
        s += k;
        n -= k;
        while (n > 0 && *s == ' ')
            s++, n--;
        first = false;
    }
}

void sc_tb_block_finding(sc_tb_engine *e, sc_tb_block *b, const sc_finding *f)
{
    size_t n;

    sc_tb_block_undefer(e, b);          /* a block with a finding is shown */
    n = sc_tb_format_finding(&e->o, f, e->render, sizeof e->render);
    b->nfindings++;
    tb_rep_flush(e, b);
    tb_block_flush_ring(e, b);          /* the lines before a finding are kept */
    if (e->o.ladder)
        tb_block_emit_wrapped(e, b, e->render, n);
    else
        tb_block_emit(e, b, e->render, n);
}

/* The header folded to fit TB_WIDTH columns: fields are never cut, a
 * field that does not fit on the line starts the next one, indented.
 * (A terminal that wraps a 300-column line cuts addresses and counts in
 * two; a folded header reads and greps as it is.) */
typedef struct tb_fold {
    sc_spool *sp;
    sc_chain *c;
    size_t    col;
    bool      fresh;        /* nothing on this line yet but the indent */
} tb_fold;

static void tb_fold_put(tb_fold *f, const char *sep, const char *text)
{
    size_t n = strlen(text);

    if (!f->fresh && f->col > 0 && f->col + strlen(sep) + n > TB_WIDTH) {
        sc_chain_write(f->sp, f->c, "\n" TB_FOLD_INDENT, 1 + strlen(TB_FOLD_INDENT));
        f->col = strlen(TB_FOLD_INDENT);
    } else if (!f->fresh && f->col > 0) {
        sc_chain_write(f->sp, f->c, sep, strlen(sep));
        f->col += strlen(sep);
    }
    sc_chain_write(f->sp, f->c, text, n);
    f->col += n;
    f->fresh = false;
}

/* The fields after this start a new line. */
static void tb_fold_break(tb_fold *f)
{
    if (!f->fresh) {
        sc_chain_write(f->sp, f->c, "\n" TB_FOLD_INDENT, 1 + strlen(TB_FOLD_INDENT));
        f->col = strlen(TB_FOLD_INDENT);
        f->fresh = true;
    }
}

/* One field of the header: "  " between fields on one line. */
static void tb_fold_field(tb_fold *f, const char *field, char *end)
{
    *end = '\0';
    tb_fold_put(f, "  ", field);
}

static void tb_block_header(sc_tb_engine *e, sc_tb_block *b, const sc_session_info *info)
{
    /* buf holds the longest field: "closed: ... after " and an escaped
     * command (esc), or an escaped extension keyword */
    char c[64], s[64], t[40], esc[1024], tls[256] = "", buf[1200], *w;
    tb_fold f = { e->sp, &b->head, 0, true };

    sc_chain_reserve(&b->head, 6 * TB_WIDTH);      /* most headers: 4 or 5 lines */

    sc_endpoint_str(&info->client, c, sizeof c);
    sc_endpoint_str(&info->server, s, sizeof s);
    sc_fmt_rfc3339(&info->start, t, sizeof t);
    /* the first line in bold: the session and its peers */
    w = tb_cat(buf, e->o.color ? "\033[1msession " : "session ");
    tb_fold_field(&f, buf, sc_u64_put(w, info->id));
    w = tb_cat(tb_cat(tb_cat(buf, c), " -> "), s);
    tb_fold_field(&f, buf, e->o.color ? tb_cat(w, TB_ESC_RESET) : w);
    tb_fold_break(&f);
    tb_fold_field(&f, buf, tb_cat(tb_cat(buf, "start "), t));
    w = sc_fmt_fixed(tb_cat(buf, "duration "), sc_fmt_elapsed(&info->start, &info->end), 4, false);
    tb_fold_field(&f, buf, tb_cat(w, " s"));
    w = sc_u64_put(tb_cat(buf, "frames "), info->frames);
    w = tb_frame(tb_cat(w, " ("), info->first_frame);
    w = tb_frame(tb_cat(w, "-"), info->last_frame);
    tb_fold_field(&f, buf, tb_cat(w, ")"));
    esc[0] = '\0';
    if (info->close_after)
        sc_safe_snprint(esc, sizeof esc, (const uint8_t *)info->close_after,
                        strlen(info->close_after));
    if (info->close_by == SC_CLOSE_NONE && info->close_how == SC_HOW_CAPTURE_END) {
        w = tb_cat(buf, "closed: open at capture end");
    } else {
        w = tb_cat(tb_cat(buf, "closed: "), sc_fmt_close_by(info->close_by));
        w = tb_cat(tb_cat(w, " "), sc_fmt_close_how(info->close_how));
    }
    if (esc[0])
        w = tb_cat(tb_cat(w, " after "), esc);
    tb_fold_field(&f, buf, w);
    if (info->tls_state)        /* --tls-keylog */
        snprintf(tls, sizeof tls, " (%s%s%s%s%s)", info->tls_state,
                 info->tls_version ? ", " : "", info->tls_version ? info->tls_version : "",
                 info->tls_cipher ? " " : "", info->tls_cipher ? info->tls_cipher : "");
    w = tb_cat(buf, info->tls || info->tls_state ? "tls: yes" : "tls: no");
    tb_fold_field(&f, buf, tb_cat(w, tls));
    if (!info->handshake_seen)
        tb_fold_put(&f, "  ", "mid-stream");
    if (info->seq_untrusted)
        tb_fold_put(&f, "  ", "sequence numbers rewritten: capture order");
    if (info->reasm_dropped) {
        w = sc_u64_put(tb_cat(buf, "dropped by reassembly: "), info->reasm_dropped);
        tb_fold_field(&f, buf, tb_cat(w, " bytes"));
    }
    if (info->reasm_untaken) {
        w = tb_cat(buf, "not taken (a later copy replaced them): ");
        tb_fold_field(&f, buf, tb_cat(sc_u64_put(w, info->reasm_untaken), " bytes"));
    }
    w = sc_u64_put(tb_cat(buf, "findings: "), info->findings[SC_SEV_ERROR]);
    w = sc_u64_put(tb_cat(w, " error, "), info->findings[SC_SEV_WARNING]);
    w = sc_u64_put(tb_cat(w, " warning, "), info->findings[SC_SEV_INFO]);
    tb_fold_field(&f, buf, tb_cat(w, " info"));
    tb_fold_break(&f);
    if (info->next == 0 || !info->extensions)
        tb_fold_put(&f, "  ", "extensions: none");
    for (size_t i = 0; info->extensions && i < info->next && i < TB_EXT_SHOWN; i++) {
        bool last = i + 1 == info->next || i + 1 == TB_EXT_SHOWN;
        sc_safe_snprint(esc, sizeof esc, info->extensions[i].p, info->extensions[i].len);
        w = tb_cat(tb_cat(buf, i ? "" : "extensions: "), esc);
        *tb_cat(w, last ? "" : ",") = '\0';
        tb_fold_put(&f, i ? " " : "  ", buf);
    }
    if (info->next > TB_EXT_SHOWN) {
        w = sc_u64_put(tb_cat(buf, "(+"), (uint64_t)(info->next - TB_EXT_SHOWN));
        *tb_cat(w, " more)") = '\0';
        tb_fold_put(&f, " ", buf);
    }
    sc_chain_write(e->sp, &b->head, "\n", 1);
    if (e->o.ladder) {          /* "%-15s %-44s             SERVER %s" */
        w = tb_spaces(buf, buf, 16);
        char *col = w;
        w = tb_spaces(tb_cat(tb_cat(w, "CLIENT "), c), col, TB_LADDER_COL);
        w = tb_cat(tb_cat(tb_spaces(w, w, 13), "SERVER "), s);
        *w++ = '\n';
        sc_chain_write(e->sp, &b->head, buf, (size_t)(w - buf));
    }
}

/* An escaped argument of the summary: at most TB_TEXT_MAX raw bytes. */
static char *tb_summary_arg(char *w, sc_bytes a)
{
    return w + sc_safe_snprint(w, TB_TEXT_MAX * 4 + 1, a.p,
                               a.p ? (a.len < TB_TEXT_MAX ? a.len : TB_TEXT_MAX) : 0);
}

static void tb_block_summary(sc_tb_engine *e, sc_tb_block *b, const sc_session_info *info)
{
    /* the longest line: an escaped argument and the words around it */
    char buf[TB_TEXT_MAX * 4 + 128], *w;
    sc_spool *sp = e->sp;
    sc_chain *t = &b->tail;

    if (info->ntxn == 0 || !info->txn) {
        static const char none[] = "  transactions: none\n\n";
        sc_chain_write(sp, t, none, sizeof none - 1);
        return;
    }
    w = sc_u64_put(tb_cat(buf, "  transactions: "), (uint64_t)info->ntxn);
    if (info->ntxn_kept < info->ntxn)
        w = tb_cat(sc_u64_put(tb_cat(w, " ("), (uint64_t)info->ntxn_kept), " shown)");
    *w++ = '\n';
    sc_chain_write(sp, t, buf, (size_t)(w - buf));
    for (size_t i = 0; i < info->ntxn_kept; i++) {
        const sc_txn *x = &info->txn[i];
        size_t shown = x->rcpt_to ? x->nrcpt_kept : 0;

        w = tb_cat(sc_u64_put(tb_cat(buf, "    "), (uint64_t)i + 1), ". MAIL FROM:");
        w = tb_summary_arg(w, sc_fmt_path_arg(x->mail_from));
        *w++ = '\n';
        sc_chain_write(sp, t, buf, (size_t)(w - buf));
        for (size_t r = 0; r < shown && r < TB_RCPT_SHOWN; r++) {
            w = tb_summary_arg(tb_cat(buf, "       RCPT TO:"), sc_fmt_path_arg(x->rcpt_to[r]));
            *w++ = '\n';
            sc_chain_write(sp, t, buf, (size_t)(w - buf));
        }
        if (x->nrcpt > shown || shown > TB_RCPT_SHOWN) {
            w = sc_u64_put(tb_cat(buf, "       ("), (uint64_t)x->nrcpt);
            w = sc_u64_put(tb_cat(w, " recipients, "),
                       (uint64_t)(shown < TB_RCPT_SHOWN ? shown : TB_RCPT_SHOWN));
            w = tb_cat(w, " shown)\n");
            sc_chain_write(sp, t, buf, (size_t)(w - buf));
        }
        w = tb_cat(tb_cat(buf, "       -> "), sc_fmt_txn_result(x->result));
        w = tb_cat(sc_u64_put(tb_cat(w, ", "), x->content_bytes), " content bytes");
        char *arg = w + 2, *end = tb_summary_arg(arg, x->reply);
        if (end > arg) {
            w[0] = ':';
            w[1] = ' ';
            w = end;
        }
        *w++ = '\n';
        sc_chain_write(sp, t, buf, (size_t)(w - buf));
    }
    sc_chain_write(sp, t, "\n", 1);
}

void sc_tb_block_end(sc_tb_engine *e, sc_tb_block *b, const sc_session_info *info)
{
    sc_tb_block_undefer(e, b);
    tb_rep_flush(e, b);
    tb_block_flush_ring(e, b);
    tb_block_header(e, b, info);
    tb_block_summary(e, b, info);
}

void sc_tb_block_end_brief(sc_tb_engine *e, sc_tb_block *b, const sc_session_info *info,
                           const char *note)
{
    char c[64], s[64], buf[512], *w;
    size_t n = info->ntxn;

    tb_hold_drop(b);
    sc_chain_release(e->sp, &b->body);
    sc_chain_init(&b->body);
    if (note) {
        sc_chain_write(e->sp, &b->head, note, strlen(note));
        sc_chain_write(e->sp, &b->head, "\n", 1);
    }
    sc_endpoint_str(&info->client, c, sizeof c);
    sc_endpoint_str(&info->server, s, sizeof s);
    /* "session ID  CLIENT -> SERVER  start TIME  DURATION s  N frames  no
     * finding, N transactions" */
    w = tb_cat(sc_u64_put(tb_cat(buf, "session "), info->id), "  ");
    w = tb_cat(tb_cat(tb_cat(w, c), " -> "), s);
    w = tb_cat(w, "  start ");
    sc_fmt_rfc3339(&info->start, w, 40);
    w += strlen(w);
    w = sc_fmt_fixed(tb_cat(w, "  "), sc_fmt_elapsed(&info->start, &info->end), 4, false);
    w = tb_cat(sc_u64_put(tb_cat(w, " s  "), info->frames), " frames  no finding, ");
    w = tb_cat(sc_u64_put(w, (uint64_t)n), n == 1 ? " transaction\n" : " transactions\n");
    sc_chain_write(e->sp, &b->head, buf, (size_t)(w - buf));
}

void sc_tb_block_park(sc_tb_engine *e, sc_tb_block *b)
{
    sc_tb_block_undefer(e, b);
    /* A parked block waits for its turn, in numbers the capture decides:
     * it keeps no buffer it will not use again (its held-line buffer goes
     * to the next new block, if there is room). */
    if (b->held && b->held_cap <= TB_KEEP_HELD && e->nheld < TB_SPARE_MAX)
        e->held[e->nheld++] = (tb_buf){ b->held, b->held_cap };
    else
        free(b->held);
    b->held = NULL;
    b->held_cap = 0;
    free(b->rep_text);
    b->rep_text = NULL;
    b->rep_cap = 0;
    free(b->rep_render);
    b->rep_render = NULL;
    b->rep_rcap = 0;
    sc_chain_park(e->sp, &b->head);
    sc_chain_park(e->sp, &b->body);
    sc_chain_park(e->sp, &b->tail);
}

int sc_tb_block_write(sc_tb_engine *e, const sc_tb_block *b, FILE *out)
{
    int rc = 0;

    rc |= sc_chain_copy(e->sp, &b->head, out);
    rc |= sc_chain_copy(e->sp, &b->body, out);
    rc |= sc_chain_copy(e->sp, &b->tail, out);
    return rc;
}

uint64_t sc_tb_block_findings(const sc_tb_block *b)
{
    return b->nfindings;
}

void sc_tb_block_free(sc_tb_engine *e, sc_tb_block *b)
{
    if (!b)
        return;
    sc_chain_release(e->sp, &b->head);
    sc_chain_release(e->sp, &b->body);
    sc_chain_release(e->sp, &b->tail);
    if (b->ring) {
        for (unsigned i = 0; i < e->o.tail_lines; i++)
            free(b->ring[i].text);
        free(b->ring);
    }
    free(b->rep_render);
    if (b->held_cap > TB_KEEP_HELD) {
        free(b->held);
        b->held = NULL;
        b->held_cap = 0;
    }
    if (b->rep_cap > TB_KEEP_REP) {
        free(b->rep_text);
        b->rep_text = NULL;
        b->rep_cap = 0;
    }
    if (e->nspare < TB_SPARE_MAX) {
        b->spare_next = e->spare;
        e->spare = b;
        e->nspare++;
        return;
    }
    free(b->rep_text);
    free(b->held);
    free(b->mem);
}
