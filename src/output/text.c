/*
 * text.c - the text report (sc_text_sink_new, src/output/output.h).
 *
 * One block per session (textblock.h) in order of session start. Sessions
 * end in any order: a finished block waits, parked on disk (spool.h), until
 * every session that started before it has finished and been written, so
 * memory stays bounded by the concurrent sessions. Live (cfg->iface), a
 * block is written as soon as its session ends: a session that stays open
 * for hours must not hold back the report of the others. --session keeps one
 * session, --only-findings drops the blocks of sessions without a finding
 * (findings were already filtered by --min-severity upstream). The report
 * ends with the run's totals, a table of findings per rule and, when set,
 * the per-peer table (peers.h).
 *
 * A large report: the first TEXT_FULL_SESSIONS sessions are shown in
 * full; from then on a session without a finding is one line (a ticket
 * wants the sessions with findings and the totals, not 35 000 clean
 * transcripts), with a note before the first such line. -v (cfg->verbose)
 * and --session show every session in full.
 *
 * Colour: cfg->color 1 always, 0 never, -1 when the output is a terminal,
 * NO_COLOR is unset or empty, and TERM is not "dumb".
 *
 * Diagnostics: a temporary-file failure is reported once by the spool.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/idmap.h"
#include "reasm/reasm.h"
#include "peers.h"
#include "outfmt.h"
#include "output.h"
#include "common/wcheck.h"
#include "common/safeprint.h"
#include "textblock.h"

#define TEXT_FULL_SESSIONS 50
#define TEXT_RECENT        64
#define TEXT_SPARE_MAX     32     /* drained entries kept for the next sessions */

typedef struct text_entry {
    uint64_t           id;
    uint64_t           nth;          /* in order of start, from 1 */
    sc_tb_block       *b;
    bool               done, show;
    struct text_entry *next, *prev;   /* the queue, or the spares (next) */
} text_entry;

/* A live session's block by its id, without its entry: all that a line
 * reads (the entry is one more cache line, long cold between two lines of
 * a session). */
typedef struct text_recent {
    uint64_t     id;
    sc_tb_block *b;              /* NULL: the slot is free */
} text_recent;

typedef struct text_sink {
    sc_sink        sink;
    const sc_config *cfg;
    FILE          *out;
    bool           color, flush;
    sc_tb_engine  *e;
    sc_idmap      *live;          /* id -> text_entry, until session_end */
    /* the live blocks by id modulo TEXT_RECENT: a session's lines find
     * its block without the map (sessions open at once are mostly
     * numbered close together) */
    text_recent    recent[TEXT_RECENT];
    /* Drained entries, for the next sessions instead of a calloc and a
     * free each: at most TEXT_SPARE_MAX of them (linked by next). */
    text_entry    *spare;
    unsigned       nspare;
    text_entry    *qhead, *qtail; /* order of session start */
    uint64_t       shown;
    sc_peers      *peers;         /* per-peer summaries, or NULL */
    uint64_t       begun;         /* sessions begun */
    bool           noted;         /* the note before the first brief line */
    uint64_t       brief;         /* sessions shown as one line */
} text_sink;

bool sc_output_want_color(int setting, FILE *out)
{
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

    if (setting >= 0)
        return setting > 0;
    if (nc && *nc)
        return false;
    if (term && strcmp(term, "dumb") == 0)
        return false;
    return isatty(fileno(out)) == 1;
}

bool sc_output_is_stream(FILE *out)
{
    struct stat st, null;

    if (fstat(fileno(out), &st) != 0)
        return true;
    if (S_ISREG(st.st_mode))
        return false;
    /* The null device has no reader to keep up to date: flushing each
     * line into it was one write(2) per line for nothing (45 000 on a
     * 300 MB capture of short sessions). */
    if (S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 &&
        st.st_rdev == null.st_rdev)
        return false;
    return true;
}

/* A zeroed entry, a spare if there is one. */
static text_entry *text_entry_alloc(text_sink *t)
{
    text_entry *x = t->spare;

    if (!x)
        return calloc(1, sizeof *x);
    t->spare = x->next;
    t->nspare--;
    memset(x, 0, sizeof *x);
    return x;
}

/* The entry and its block, gone from the queue: kept as spares while
 * there is room. */
static void text_entry_free(text_sink *t, text_entry *x)
{
    sc_tb_block_free(t->e, x->b);
    if (t->nspare >= TEXT_SPARE_MAX) {
        free(x);
        return;
    }
    x->next = t->spare;
    t->spare = x;
    t->nspare++;
}

/* Forgets the recent slot of a session whose lines are over. */
static void text_recent_drop(text_sink *t, uint64_t id)
{
    text_recent *r = &t->recent[id % TEXT_RECENT];

    if (r->b && r->id == id)
        r->b = NULL;
}

/* Writes every finished block at the head of the queue. */
static void text_queue_drain(text_sink *t)
{
    bool wrote = false;

    while (t->qhead && t->qhead->done) {
        text_entry *x = t->qhead;
        if (x->show) {
            sc_tb_block_write(t->e, x->b, t->out);
            t->shown++;
            wrote = true;
        }
        t->qhead = x->next;
        if (t->qhead)
            t->qhead->prev = NULL;
        else
            t->qtail = NULL;
        text_entry_free(t, x);
    }
    if (wrote && t->flush)
        sc_write_check(t->out, "standard output", "the report is incomplete");
}

/* One line for this session if it has no finding? (TEXT_FULL_SESSIONS) */
static bool text_may_brief(const text_sink *t, const text_entry *x)
{
    return x->nth > TEXT_FULL_SESSIONS && !t->cfg->verbose && !t->cfg->only_session;
}

/* One line for this session? */
static bool text_brief(const text_sink *t, const text_entry *x, const sc_session_info *info)
{
    return text_may_brief(t, x) && info->findings[SC_SEV_ERROR] +
           info->findings[SC_SEV_WARNING] + info->findings[SC_SEV_INFO] == 0;
}

static void text_session_begin(sc_sink *s, const sc_session_info *info)
{
    text_sink *t = s->priv;
    text_entry *x;

    if (t->cfg->only_session && info->id != t->cfg->only_session)
        return;
    if (!(x = text_entry_alloc(t)))
        return;
    x->id = info->id;
    x->nth = ++t->begun;
    if (!(x->b = sc_tb_block_new(t->e, info)) || sc_idmap_put(t->live, info->id, x) < 0) {
        text_entry_free(t, x);
        return;
    }
    t->recent[info->id % TEXT_RECENT] = (text_recent){ info->id, x->b };
    x->prev = t->qtail;
    if (t->qtail)
        t->qtail->next = x;
    else
        t->qhead = x;
    t->qtail = x;
    /* Most sessions of a large report end as one line, and --only-findings
     * leaves out those without a finding: their lines are held raw and
     * rendered only if the block is shown in full (rendering every line of
     * every session was most of the report's cost on gateway traffic). */
    if (t->cfg->only_findings || text_may_brief(t, x))
        sc_tb_block_defer(t->e, x->b);
}

/* Live: the block goes out now, and leaves the queue wherever it is. */
static void text_entry_write_now(text_sink *t, text_entry *x)
{
    if (x->show) {
        sc_tb_block_write(t->e, x->b, t->out);
        t->shown++;
        if (t->flush)
            sc_write_check(t->out, "standard output", "the report is incomplete");
    }
    if (x->prev)
        x->prev->next = x->next;
    else
        t->qhead = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else
        t->qtail = x->prev;
    text_entry_free(t, x);
}

/* The block of a live session, or NULL. */
static sc_tb_block *text_live(text_sink *t, uint64_t id)
{
    text_recent *r = &t->recent[id % TEXT_RECENT];
    text_entry *x;

    if (r->b && r->id == id)
        return r->b;
    if (!(x = sc_idmap_get(t->live, id)))
        return NULL;
    *r = (text_recent){ id, x->b };
    return x->b;
}

static void text_line(sc_sink *s, const sc_session_info *info, const sc_line *l)
{
    text_sink *t = s->priv;
    sc_tb_block *b = text_live(t, info->id);

    if (b)
        sc_tb_block_line(t->e, b, l);
}

static void text_finding(sc_sink *s, const sc_session_info *info, const sc_finding *f)
{
    text_sink *t = s->priv;
    sc_tb_block *b = text_live(t, info->id);

    if (b)
        sc_tb_block_finding(t->e, b, f);
}

static void text_session_end(sc_sink *s, const sc_session_info *info)
{
    text_sink *t = s->priv;
    text_entry *x = sc_idmap_del(t->live, info->id);

    if (!x)
        return;
    text_recent_drop(t, x->id);
    x->done = true;
    x->show = !t->cfg->only_findings || sc_tb_block_findings(x->b) > 0;
    if (!x->show)       /* a block never shown needs no header or summary */
        ;
    else if (text_brief(t, x, info)) {
        sc_tb_block_end_brief(t->e, x->b, info, t->noted ? NULL :
            "(from here on, a session without a finding is one line; -v shows each in full)");
        t->noted = true;
        t->brief++;
    } else {
        sc_tb_block_end(t->e, x->b, info);
    }
    if (t->cfg->iface) {
        text_entry_write_now(t, x);
        return;
    }
    if (x == t->qhead) {
        text_queue_drain(t);
        return;
    }
    /* Behind a session that is still running: wait, on disk, or as an
     * empty slot when the block will not be shown. (The queue head is
     * never finished between calls, so draining here would do nothing.) */
    if (x->show) {
        sc_tb_block_park(t->e, x->b);
    } else {
        sc_tb_block_free(t->e, x->b);
        x->b = NULL;
    }
}

/* Live: no file was read; the interface and what pcap_stats counted
 * (tcpdump's words), the interface name printed safely. */
static void text_totals_live(text_sink *t, const sc_totals *tot)
{
    char iface[256];

    sc_safe_snprint(iface, sizeof iface, (const uint8_t *)tot->iface, strlen(tot->iface));
    fprintf(t->out, "%stotals: live capture on %s, %" PRIu64 " packets (%" PRIu64
            " received by filter, %" PRIu64 " dropped by kernel, %" PRIu64
            " dropped by interface), %" PRIu64 " bytes, %" PRIu64 " session%s (%" PRIu64
            " shown)%s\n", t->color ? "\033[1m" : "", iface, tot->packets, tot->received,
            tot->dropped_kernel, tot->dropped_iface, tot->bytes, tot->sessions,
            tot->sessions == 1 ? "" : "s", t->shown, t->color ? "\033[0m" : "");
}

/* ", N as one line" for the totals, or "" */
static const char *text_brief_count(const text_sink *t)
{
    static char buf[48];

    if (!t->brief)
        return "";
    snprintf(buf, sizeof buf, ", %" PRIu64 " as one line", t->brief);
    return buf;
}

/* IP fragments: what became of them, each drop by its reason. */
static void text_totals_frag(FILE *o, const sc_frag_counts *f)
{
    static const char *const why[SC_FRAG_REASONS] = {
        [SC_FRAG_TIMEOUT] = "incomplete after " SC_FRAG_TIMEOUT_TEXT,
        [SC_FRAG_INCOMPLETE] = "incomplete at the end of the capture",
        [SC_FRAG_OVERLAP] = "overlapping IPv6 fragments (RFC 5722)",
        [SC_FRAG_LIMIT] = "beyond the fragment reassembly limits",
        [SC_FRAG_TOO_BIG] = "datagram beyond 65535 bytes",
        [SC_FRAG_MALFORMED] = "malformed or cut by the snap length",
    };
    uint64_t dropped = 0;
    const char *sep = " (";

    if (!f->fragments)
        return;
    fprintf(o, "fragments: %" PRIu64 " IP fragment%s of TCP, %" PRIu64 " datagram%s "
            "reassembled", f->fragments, f->fragments == 1 ? "" : "s", f->datagrams,
            f->datagrams == 1 ? "" : "s");
    if (f->duplicates)
        fprintf(o, ", %" PRIu64 " duplicate%s", f->duplicates, f->duplicates == 1 ? "" : "s");
    if (f->overlap_v4)
        fprintf(o, ", %" PRIu64 " IPv4 fragment%s overlapping (the first copy kept)",
                f->overlap_v4, f->overlap_v4 == 1 ? "" : "s");
    fputc('\n', o);
    for (int i = 0; i < SC_FRAG_REASONS; i++)
        dropped += f->dropped[i];
    if (!dropped)
        return;
    fprintf(o, "dropped by reassembly: %" PRIu64 " IP fragment%s", dropped,
            dropped == 1 ? "" : "s");
    for (int i = 0; i < SC_FRAG_REASONS; i++) {
        if (!f->dropped[i])
            continue;
        fprintf(o, "%s%" PRIu64 " %s", sep, f->dropped[i], why[i]);
        sep = ", ";
    }
    fputs("; not missing from the capture)\n", o);
}

static void text_totals(text_sink *t, const sc_totals *tot)
{
    FILE *o = t->out;
    uint64_t nf = tot->by_severity[0] + tot->by_severity[1] + tot->by_severity[2];

    if (tot->iface)
        text_totals_live(t, tot);
    else
        fprintf(o, "%stotals: %" PRIu64 " file%s, %" PRIu64 " packets, %" PRIu64 " bytes, %"
                PRIu64 " session%s (%" PRIu64 " shown%s), %" PRIu64 " dropped%s\n",
                t->color ? "\033[1m" : "", tot->files, tot->files == 1 ? "" : "s",
                tot->packets, tot->bytes, tot->sessions, tot->sessions == 1 ? "" : "s",
                t->shown, text_brief_count(t), tot->dropped,
                t->color ? "\033[0m" : "");
    if (tot->not_smtp)          /* --any-port: what was left out, nothing of its bytes */
        fprintf(o, "not SMTP: %" PRIu64 " flow%s on other ports (no greeting with an SMTP "
                "command); not analysed, none of %s bytes shown\n", tot->not_smtp,
                tot->not_smtp == 1 ? "" : "s", tot->not_smtp == 1 ? "its" : "their");
    if (tot->damaged) {         /* the capture's bytes, printed safely */
        char why[sizeof tot->damage * 4];
        sc_safe_snprint(why, sizeof why, (const uint8_t *)tot->damage, strlen(tot->damage));
        fprintf(o, "%sINCOMPLETE: %" PRIu64 " input%s ended early: %s%s; the report covers "
                "what came before%s\n", t->color ? "\033[1;31m" : "", tot->damaged,
                tot->damaged == 1 ? "" : "s", why, tot->damaged > 1 ? " (the first)" : "",
                t->color ? "\033[0m" : "");
    }
    if (tot->keylog)            /* --tls-keylog */
        fprintf(o, "tls: %" PRIu64 " session%s encrypted, %" PRIu64 " decrypted, %" PRIu64
                " without a key in the key log\n", tot->tls_encrypted,
                tot->tls_encrypted == 1 ? "" : "s", tot->tls_decrypted, tot->tls_no_key);
    if (tot->syslog) {          /* --syslog: what became of the messages so far */
        const sc_delivery *d = tot->syslog;
        fputs("syslog: ", o);
        sc_safe_fputs(o, (const uint8_t *)d->dest, strlen(d->dest));
        fprintf(o, ": %" PRIu64 " sent, %" PRIu64 " queued, %" PRIu64 " dropped, %" PRIu64
                " lost (queue peak %" PRIu64 " of %" PRIu64 " bytes)\n", d->sent, d->queued,
                d->dropped, d->lost, d->queue_peak, d->queue_cap);
    }
    if (tot->reasm_dropped)
        fprintf(o, "dropped by reassembly: %" PRIu64 " stream bytes (out of order beyond its "
                "limits; not missing from the capture)\n", tot->reasm_dropped);
    text_totals_frag(o, &tot->frag);
    if (tot->chain_dropped)
        fprintf(o, "dropped: %" PRIu64 " IPv6 packet%s with more than %d extension headers "
                "(not analysed)\n", tot->chain_dropped, tot->chain_dropped == 1 ? "" : "s",
                SC_REASM_V6_MAX_EXT);
    if (tot->malformed_dropped)
        fprintf(o, "dropped: %" PRIu64 " malformed IP packet%s (header lengths that do not "
                "fit the packet; not analysed)\n", tot->malformed_dropped,
                tot->malformed_dropped == 1 ? "" : "s");
    if (nf == 0) {
        fprintf(o, "findings: none\n");
        return;
    }
    fprintf(o, "findings: %" PRIu64 " (%" PRIu64 " error, %" PRIu64 " warning, %" PRIu64 " info)\n",
            nf, tot->by_severity[SC_SEV_ERROR], tot->by_severity[SC_SEV_WARNING],
            tot->by_severity[SC_SEV_INFO]);
    fprintf(o, "  %-26s %-8s %7s  %s\n", "rule", "side", "count", "rests on");
    for (unsigned i = 0; i < SC_RULE_COUNT; i++)
        if (tot->by_rule[i])
            fprintf(o, "  %-26s %-8s %7" PRIu64 "  %s\n", sc_rules[i].name,
                    sc_side_name(sc_rules[i].side), tot->by_rule[i], sc_rules[i].cite);
}

/* Direct appends for the per-peer table: what its printf formats wrote,
 * without printf (its "%5.1f" was most of the table's cost). Each writes
 * at w and returns the new end. */
static char *text_cat(char *w, const char *s)
{
    size_t n = strlen(s);

    memcpy(w, s, n);
    return w + n;
}

/* The text from..w right-aligned in width columns ("%*s"). */
static char *text_right(char *from, char *w, size_t width)
{
    size_t n = (size_t)(w - from);

    if (n >= width)
        return w;
    memmove(from + (width - n), from, n);
    memset(from, ' ', width - n);
    return from + width;
}

/* "    %-26s %6" PRIu64 " session%s %5.1f%%  %" PRIu64 " finding%s\n" */
static char *text_peer_rule(char *w, const sc_peer *p, unsigned k)
{
    const char *name = sc_rules[k].name;
    char *from;

    w = text_cat(w, "    ");
    from = w;
    w = text_cat(w, name);
    while (w - from < 26)
        *w++ = ' ';
    *w++ = ' ';
    from = w;
    w = text_right(from, sc_u64_put(w, p->with_rule[k]), 6);
    w = text_cat(w, p->with_rule[k] == 1 ? " session  " : " sessions ");
    from = w;
    w = sc_fmt_fixed(w, p->sessions ? 100.0 * (double)p->with_rule[k] / (double)p->sessions
                                    : 0.0, 1, false);
    w = text_cat(text_right(from, w, 5), "%  ");
    w = sc_u64_put(w, p->findings[k]);
    return text_cat(w, p->findings[k] == 1 ? " finding\n" : " findings\n");
}

/* The per-peer table: each server, then each client, most sessions
 * first, with the name it gave and, per rule, the sessions that had it,
 * their share and the findings. Names are wire bytes: printed safely. */
static void text_peers(text_sink *t)
{
    FILE *o = t->out;
    /* the longest line: a rule's row (its name, three numbers, words) */
    char buf[256 + 3 * 24 + SC_FMT_FIXED_MAX], *w;

    for (int r = SC_PEER_SERVER; r <= SC_PEER_CLIENT; r++) {
        const sc_peer *const *v;
        size_t n = sc_peers_sorted(t->peers, (sc_peer_role)r, &v);
        uint64_t beyond = sc_peers_beyond(t->peers, (sc_peer_role)r);
        fprintf(o, "%ss: %zu (by address; name from the %s)\n", sc_peer_role_name((sc_peer_role)r),
                n, r == SC_PEER_SERVER ? "greeting" : "EHLO/HELO");
        for (size_t i = 0; i < n; i++) {
            const sc_peer *p = v[i];
            char a[64];
            w = text_cat(text_cat(buf, "  "), sc_addr_str(&p->addr, a, sizeof a) ? a : "?");
            *w++ = ' ';
            fwrite(buf, 1, (size_t)(w - buf), o);
            if (p->name_len)
                sc_safe_fputs(o, p->name, p->name_len);
            else
                fputs("(no name)", o);
            w = buf;
            if (p->other_names)
                w = text_cat(sc_u64_put(text_cat(w, " (another name in "), p->other_names), ")");
            w = sc_u64_put(text_cat(w, ": "), p->sessions);
            w = text_cat(w, p->sessions == 1 ? " session\n" : " sessions\n");
            fwrite(buf, 1, (size_t)(w - buf), o);
            for (unsigned k = 0; k < SC_RULE_COUNT; k++)
                if (p->findings[k] || p->with_rule[k]) {
                    w = text_peer_rule(buf, p, k);
                    fwrite(buf, 1, (size_t)(w - buf), o);
                }
        }
        if (beyond)
            fprintf(o, "  %" PRIu64 " session%s of %ss beyond the first %d not counted by %s\n",
                    beyond, beyond == 1 ? "" : "s", sc_peer_role_name((sc_peer_role)r),
                    SC_PEERS_MAX, sc_peer_role_name((sc_peer_role)r));
    }
}

void sc_text_set_peers(sc_sink *s, sc_peers *peers)
{
    ((text_sink *)s->priv)->peers = peers;
}

void sc_text_write_peers(sc_sink *s)
{
    text_sink *t = s->priv;

    if (!t->peers)
        return;
    text_peers(t);
    sc_write_check(t->out, "standard output", "the report is incomplete");
}

static void text_finish(sc_sink *s, const sc_totals *tot)
{
    text_sink *t = s->priv;

    /* Sessions that never ended (should not happen): print what they have. */
    for (text_entry *x = t->qhead; x; x = x->next)
        if (!x->done) {
            sc_idmap_del(t->live, x->id);
            text_recent_drop(t, x->id);
            x->done = x->show = true;
            sc_tb_block_undefer(t->e, x->b);
        }
    text_queue_drain(t);
    text_totals(t, tot);
    if (t->peers)
        text_peers(t);
    sc_write_check(t->out, "standard output", "the report is incomplete");
}

static void text_destroy(sc_sink *s)
{
    text_sink *t = s->priv;

    while (t->qhead) {
        text_entry *x = t->qhead;
        t->qhead = x->next;
        sc_tb_block_free(t->e, x->b);
        free(x);
    }
    while (t->spare) {
        text_entry *x = t->spare;
        t->spare = x->next;
        free(x);
    }
    sc_idmap_free(t->live);
    sc_tb_engine_free(t->e);
    free(t);
}

sc_sink *sc_text_sink_new(const sc_config *cfg, FILE *out)
{
    text_sink *t = calloc(1, sizeof *t);
    sc_tb_opts o = { 0 };

    if (!t)
        return NULL;
    t->cfg = cfg;
    t->out = out;
    t->color = sc_output_want_color(cfg->color, out);
    t->flush = sc_output_is_stream(out);
    o.color = t->color;
    o.ladder = cfg->ladder;
    o.show_content = cfg->show_content;
    o.redact = cfg->redact;
    t->e = sc_tb_engine_new(&o);
    t->live = sc_idmap_new();
    if (!t->e || !t->live) {
        sc_tb_engine_free(t->e);
        sc_idmap_free(t->live);
        free(t);
        return NULL;
    }
    t->sink = (sc_sink){ text_session_begin, text_line, text_finding, text_session_end,
                         text_finish, text_destroy, t };
    return &t->sink;
}
