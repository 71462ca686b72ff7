/*
 * evidence.c - ticket-ready evidence bundles (sc_evidence_sink_new,
 * src/output/output.h; --evidence DIR).
 *
 * For each reported session (the same --session / --only-findings choice
 * as the report):
 *   DIR/session-ID.txt   written when the session ends: a header (tool
 *                        version, capture file and its SHA-256, frame
 *                        range, redaction, each finding with its frame,
 *                        the count and frame range of those past
 *                        --max-findings, and the full text every cited
 *                        rule rests on),
 *                        then the session's text report without colour.
 *   DIR/session-ID.pcap  written at finish: the capture file is read again
 *                        (pcapcut.h) and the session's packets copied, with
 *                        payloads masked under --redact. Live (-i) there is
 *                        no capture file: each connection's packets are
 *                        spooled as they come (livecut.h, made after -Z by
 *                        sc_evidence_live_open), the pcap is cut from the
 *                        spool when the session ends, before its .txt,
 *                        whose header then names the interface, the filter
 *                        and the start of the capture, and hashes the pcap.
 * Names are built from numbers only, never from wire data. Each capture
 * file of -r numbers its sessions from 1, so with several files the names
 * start with the file's position in -r: DIR/2-session-ID.txt.
 *
 * Two modes:
 *   sc_evidence_sink_new  (--evidence DIR) DIR is created when missing; a
 *                         DIR that already holds bundles is refused when
 *                         the sink is created; diagnostics on stderr.
 *   sc_evidence_one_new   (the timeline's `e`) one session, whatever its
 *                         findings; a name in use gets a copy number
 *                         (session-ID.2.txt, .3, ...); nothing is printed
 *                         (the screen is open): the outcome is one line in
 *                         the caller's buffer.
 * Either way nothing is ever overwritten: files are opened with O_EXCL. A
 * capture read from standard input cannot be read again: the .txt says so
 * and no .pcap is written.
 *
 * Memory: the sessions still to cut are kept (endpoints, frame range and,
 * under --redact, their ranges) until finish; bounded by the sessions
 * reported, each of which also costs two files.
 *
 * Diagnostics: creation errors in err (the caller exits 2); file errors
 * on standard error, one line each naming the file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/frame.h"
#include "common/grow.h"
#include "common/idmap.h"
#include "livecut.h"
#include "outfmt.h"
#include "output.h"
#include "common/wcheck.h"
#include "pcapcut.h"
#include "common/safeprint.h"
#include "sha256.h"
#include "textblock.h"

#ifndef SC_VERSION
#define SC_VERSION "0.0.0"
#endif

#define EV_FINDINGS_LISTED 100
#define EV_COPIES_MAX 999       /* sc_evidence_one_new: session-ID.999.txt */
/* Live: packets kept for a connection that is not (yet) a session. A
 * session starts at its first stream bytes, so this is the handshake and
 * one delivery; more means a connection --any-port follows but the
 * analyser did not take for SMTP (or a client talking long before the
 * greeting), whose bytes need not fill the disk. */
#define EV_PRESESSION_MAX  (256 * 1024)
#define EV_PRESESSION_TEXT "256 KiB"

typedef struct ev_finding {
    const sc_rule *rule;
    sc_severity    severity;
    sc_side        side;
    uint64_t       frame;
    uint64_t       more, first;   /* past --max-findings: count, first frame */
} ev_found;

/* The findings listed in the header: the first EV_FINDINGS_LISTED reported
 * one by one, then every count of those past --max-findings (at most one
 * per rule and side, so few; kept apart so a long list never hides them). */
typedef struct ev_live {
    sc_tb_block *b;
    size_t       nfind;
    uint64_t     nfind_total;     /* every finding, counted ones included */
    uint64_t     nfind_shown;     /* reported one by one (in the transcript) */
    ev_found     find[EV_FINDINGS_LISTED];
    ev_found    *more;
    size_t       nmore, capmore;
    bool         cited[SC_RULE_COUNT];
} ev_live;

typedef struct ev_cut {
    sc_cut_target t;
    sc_range     *ranges;
    char         *file;
    char         *path;
    char         *txt;      /* the .txt written with it (for the message) */
} ev_cut;

typedef struct evidence_sink {
    sc_sink          sink;
    const sc_config *cfg;
    char            *dir;
    sc_tb_engine    *e;
    sc_idmap        *live;
    ev_cut          *cuts;
    size_t           ncuts, capcuts;
    char            *hash_file;       /* file whose hash is cached */
    char            *rr_file;         /* file whose kind is known */
    bool             rr_regular;      /* it is a regular file */
    char             hash[80];
    uint64_t         txt_written;
    bool             one;             /* sc_evidence_one_new */
    char            *msg;             /* one: the outcome, for the status line */
    size_t           msglen;
    uint64_t         pcaps_live;      /* live: session pcaps written */
    sc_livecut      *lc;              /* live: each connection's packets */
    char            *live_iface;      /* live: where they come from */
    char            *live_filter;
    struct timeval   live_start;
} evidence_sink;

/* A live session's pcap, as written at its end (for the .txt header). */
typedef struct ev_livepcap {
    bool          written;
    char          sha[80];
    sc_cut_target t;
    char          why[160];          /* not written: the reason */
} ev_livepcap;

static bool ev_is_stdin(const char *file)
{
    return !file || strcmp(file, "-") == 0;
}

/* Why the capture cannot be read again for the hash and the pcap cut, or
 * NULL when it can (a regular file). A FIFO or a pipe (-r <(cmd)) opened
 * again would eat the rest of the capture, and the cut would wait on it
 * forever. Decided once per file, without opening it. */
static const char *ev_unrereadable(evidence_sink *v, const char *file)
{
    struct stat st;

    if (ev_is_stdin(file))
        return "standard input cannot be read again";
    if (!v->rr_file || strcmp(v->rr_file, file) != 0) {
        free(v->rr_file);
        v->rr_file = strdup(file);
        v->rr_regular = stat(file, &st) == 0 && S_ISREG(st.st_mode);
    }
    return v->rr_regular ? NULL : "the capture is not a regular file (a pipe or FIFO) "
                                  "and cannot be read again";
}

/* mkdir -p */
static int ev_mkdirs(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return -1;
        path[i] = c;
    }
    return 0;
}

static const char *ev_digits(const char *p)
{
    if (*p < '0' || *p > '9')
        return NULL;
    while (*p >= '0' && *p <= '9')
        p++;
    return p;
}

/* A name this sink would write: [N-]session-N[.N].(txt|pcap). */
static bool ev_name_ours(const char *name)
{
    const char *p = ev_digits(name);

    p = p && *p == '-' ? p + 1 : name;
    if (strncmp(p, "session-", 8) != 0 || !(p = ev_digits(p + 8)))
        return false;
    if (*p == '.' && ev_digits(p + 1))
        p = ev_digits(p + 1);
    return strcmp(p, ".txt") == 0 || strcmp(p, ".pcap") == 0;
}

/* The position (from 1) of the session's capture file in -r when there are
 * several, else 0. The analyser hands over the -r string itself, so the
 * same file given twice still gets two numbers; a copy of the name (the
 * timeline keeps one) is matched by its text. */
static size_t ev_file_number(const sc_config *cfg, const char *file)
{
    if (!file || cfg->nfiles < 2 || cfg->merged)
        return 0;                  /* one capture: session ids are unique */
    for (size_t i = 0; i < cfg->nfiles; i++)
        if (cfg->files[i] == file)
            return i + 1;
    for (size_t i = 0; i < cfg->nfiles; i++)
        if (cfg->files[i] && strcmp(cfg->files[i], file) == 0)
            return i + 1;
    return 0;
}

/* The file name without extension: [FILE-]session-ID[.COPY] (copy 1 has
 * no number). */
static void ev_stem(const evidence_sink *v, const sc_session_info *info, unsigned copy,
                    char *buf, size_t len)
{
    size_t fileno_ = ev_file_number(v->cfg, info->capture_file);
    char pre[32] = "", post[16] = "";

    if (fileno_)
        snprintf(pre, sizeof pre, "%zu-", fileno_);
    if (copy > 1)
        snprintf(post, sizeof post, ".%u", copy);
    snprintf(buf, len, "%ssession-%" PRIu64 "%s", pre, info->id, post);
}

static char *ev_path(const evidence_sink *v, const char *stem, const char *ext)
{
    size_t n = strlen(v->dir) + strlen(stem) + strlen(ext) + 3;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s.%s", v->dir, stem, ext);
    return p;
}

/* A diagnostic: on stderr, or (sc_evidence_one_new) the first one kept
 * for the status line. */
static void ev_say(evidence_sink *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ev_say(evidence_sink *v, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (!v->one) {
        fputs("smtpscope: --evidence: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    } else if (v->msg && v->msglen && !v->msg[0]) {
        vsnprintf(v->msg, v->msglen, fmt, ap);
    }
    va_end(ap);
}

static const char *ev_hash(evidence_sink *v, const char *file)
{
    if (ev_is_stdin(file))
        return "not available: the capture was read from standard input";
    if (ev_unrereadable(v, file))
        return "not available: the capture is not a regular file (a pipe or FIFO)";
    if (v->hash_file && strcmp(v->hash_file, file) == 0)
        return v->hash;
    free(v->hash_file);
    v->hash_file = strdup(file);
    if (sc_sha256_file(file, v->hash) < 0)
        snprintf(v->hash, sizeof v->hash, "not available: %s", strerror(errno));
    return v->hash;
}

static void ev_session_begin(sc_sink *s, const sc_session_info *info)
{
    evidence_sink *v = s->priv;
    ev_live *x;

    if (v->cfg->only_session && info->id != v->cfg->only_session)
        return;
    if (!(x = calloc(1, sizeof *x)))
        return;
    if (!(x->b = sc_tb_block_new(v->e, info)) || sc_idmap_put(v->live, info->id, x) < 0) {
        sc_tb_block_free(v->e, x->b);
        free(x);
    }
}

static void ev_line(sc_sink *s, const sc_session_info *info, const sc_line *l)
{
    evidence_sink *v = s->priv;
    ev_live *x = sc_idmap_get(v->live, info->id);

    if (x)
        sc_tb_block_line(v->e, x->b, l);
}

/* A count of findings past --max-findings, for the header; should the
 * list not grow, the count is still in the total and the transcript. */
static void ev_more_add(ev_live *x, const sc_finding *f)
{
    ev_found *m = sc_grow(x->more, &x->capmore, x->nmore, sizeof *m, 4);

    if (!m)
        return;
    x->more = m;
    x->more[x->nmore++] = (ev_found){ f->rule, f->severity, f->side, f->frame,
                                      f->suppressed, f->suppressed_first };
}

static void ev_finding(sc_sink *s, const sc_session_info *info, const sc_finding *f)
{
    evidence_sink *v = s->priv;
    ev_live *x = sc_idmap_get(v->live, info->id);

    if (!x)
        return;
    sc_tb_block_finding(v->e, x->b, f);
    x->nfind_total += sc_finding_count(f);
    if (f->suppressed)
        ev_more_add(x, f);
    else if (x->nfind < EV_FINDINGS_LISTED)
        x->find[x->nfind++] = (ev_found){ f->rule, f->severity, f->side, f->frame, 0, 0 };
    if (!f->suppressed)
        x->nfind_shown++;
    if (f->rule && (unsigned)f->rule->id < SC_RULE_COUNT)
        x->cited[f->rule->id] = true;
}

/* Where the session came from: a capture file. */
static void ev_txt_source_file(evidence_sink *v, FILE *fp, const sc_session_info *info,
                               const char *stem)
{
    char esc[4096];
    const char *file = info->capture_file ? info->capture_file : "-";

    if (sc_frame_named()) {
        /* several files, one capture: each file the session's frames are in */
        for (uint64_t k = SC_FRAME_FILE(info->first_frame);
             k <= SC_FRAME_FILE(info->last_frame); k++) {
            const char *part = sc_frame_path(k << SC_FRAME_FILE_SHIFT);
            if (!part)
                break;
            sc_safe_snprint(esc, sizeof esc, (const uint8_t *)part, strlen(part));
            fprintf(fp, "capture file:  %s\n", esc);
            fprintf(fp, "SHA-256:       %s\n", ev_hash(v, part));
        }
        fprintf(fp, "frames:        %s-%s of the capture files, read as one capture in "
                "time order (%" PRIu64 " frames of this session)\n",
                sc_frame_name(info->first_frame), sc_frame_name(info->last_frame),
                info->frames);
    } else {
        sc_safe_snprint(esc, sizeof esc, (const uint8_t *)file, strlen(file));
        fprintf(fp, "capture file:  %s\n", esc);
        fprintf(fp, "SHA-256:       %s\n", ev_hash(v, file));
        fprintf(fp, "frames:        %s-%s of the capture file (%" PRIu64
                " frames of this session)\n", sc_frame_name(info->first_frame),
                sc_frame_name(info->last_frame), info->frames);
    }
    if (ev_unrereadable(v, file))
        fprintf(fp, "packets:       not written: %s "
                "(save the capture to a file and run again)\n", ev_unrereadable(v, file));
    else
        fprintf(fp, "packets:       %s.pcap (this session's packets, "
                "original frames and timestamps%s)\n", stem,
                v->cfg->redact ? "; payload masked, checksums recomputed" : "");
    fprintf(fp, "numbering:     frame numbers below are those of the capture file (as "
            "Wireshark numbers it); the .pcap renumbers its frames from 1\n");
}

/* Where the session came from: a live interface. There is no capture
 * file: the hash is that of the session's pcap, written from the packets
 * kept as they arrived. The interface name and the filter are the user's
 * words, still printed safely. */
static void ev_txt_source_live(evidence_sink *v, FILE *fp, const sc_session_info *info,
                               const char *stem, const ev_livepcap *lp)
{
    char iface[512], filter[4096], t[64];

    sc_safe_snprint(iface, sizeof iface, (const uint8_t *)v->live_iface, strlen(v->live_iface));
    sc_safe_snprint(filter, sizeof filter, (const uint8_t *)v->live_filter,
                    strlen(v->live_filter));
    fprintf(fp, "capture file:  none: captured live on interface %s\n", iface);
    fprintf(fp, "capture:       started %s, kernel filter \"%s\"\n",
            sc_fmt_rfc3339(&v->live_start, t, sizeof t), filter);
    if (lp->written) {
        fprintf(fp, "SHA-256:       %s (of %s.pcap as written; there is no capture "
                "file to hash)\n", lp->sha, stem);
        fprintf(fp, "packets:       %s.pcap (this session's %" PRIu64 " packets as captured, "
                "original timestamps%s%s)\n", stem, lp->t.written,
                v->cfg->redact ? "; payload masked, checksums recomputed" : "",
                lp->t.frags_left_out ? "; IP fragments left out" : "");
    } else {
        fprintf(fp, "SHA-256:       not available: no pcap written\n");
        fprintf(fp, "packets:       not written: %s\n", lp->why);
    }
    fprintf(fp, "frames:        #%" PRIu64 "-#%" PRIu64 " counted from the start of the "
            "capture (%" PRIu64 " frames of this session)\n",
            info->first_frame, info->last_frame, info->frames);
    fprintf(fp, "numbering:     frame numbers below count every frame the kernel filter "
            "passed since the capture started; the .pcap numbers its frames from 1\n");
}

static void ev_txt_header(evidence_sink *v, FILE *fp, const sc_session_info *info, ev_live *x,
                          const char *stem, const ev_livepcap *lp)
{
    fprintf(fp, "smtpscope %s evidence: session %" PRIu64 "\n", SC_VERSION, info->id);
    if (lp)
        ev_txt_source_live(v, fp, info, stem, lp);
    else
        ev_txt_source_file(v, fp, info, stem);
    fprintf(fp, "redacted:      %s\n", v->cfg->redact ?
            "yes (message content and AUTH exchanges replaced by X)" : "no");
    fprintf(fp, "\nfindings: %" PRIu64 "\n", x->nfind_total);
    for (size_t i = 0; i < x->nfind; i++)
        fprintf(fp, "  %-7s %-7s %s (%s)\n", sc_frame_name(x->find[i].frame),
                sc_severity_name(x->find[i].severity),
                x->find[i].rule ? x->find[i].rule->name : "?", sc_side_name(x->find[i].side));
    if (x->nfind_shown > x->nfind)
        fprintf(fp, "  (%" PRIu64 " more in the transcript below)\n", x->nfind_shown - x->nfind);
    for (size_t i = 0; i < x->nmore; i++)
        fprintf(fp, "  %s-%s %s %s (%s): %" PRIu64 " more, counted but "
                "not shown one by one (--max-findings %" PRIu32 ")\n",
                sc_frame_name(x->more[i].first), sc_frame_name(x->more[i].frame), sc_severity_name(x->more[i].severity),
                x->more[i].rule ? x->more[i].rule->name : "?", sc_side_name(x->more[i].side),
                x->more[i].more, v->cfg->max_findings);
    if (x->nfind_total) {
        fprintf(fp, "\nwhat the findings rest on:\n");
        for (unsigned r = 0; r < SC_RULE_COUNT; r++)
            if (x->cited[r])
                fprintf(fp, "  %s: %s\n", sc_rules[r].name, sc_rules[r].rests_on);
    }
    fputs("\n", fp);
}

static void ev_cut_add(evidence_sink *v, const sc_session_info *info, const char *stem,
                       const char *txt)
{
    ev_cut *c;

    if (ev_unrereadable(v, info->capture_file))
        return;
    if (!(c = sc_grow(v->cuts, &v->capcuts, v->ncuts, sizeof *c, 16)))
        return;
    v->cuts = c;
    c = &v->cuts[v->ncuts];
    memset(c, 0, sizeof *c);
    c->file = strdup(info->capture_file);
    c->path = ev_path(v, stem, "pcap");
    c->txt = strdup(txt);
    if (!c->file || !c->path || !c->txt) {
        free(c->file);
        free(c->path);
        free(c->txt);
        ev_say(v, "%s.pcap: out of memory", stem);
        return;
    }
    sc_pcapcut_target(&c->t, info, v->cfg->redact);
    if (c->t.nredact) {
        c->ranges = malloc(c->t.nredact * sizeof *c->ranges);
        if (!c->ranges) {
            free(c->file);
            free(c->path);
            free(c->txt);
            ev_say(v, "%s.pcap: out of memory", stem);
            return;                /* never write an unmasked pcap */
        }
        memcpy(c->ranges, info->redact, c->t.nredact * sizeof *c->ranges);
        c->t.redact = c->ranges;
    }
    c->t.path = c->path;
    v->ncuts++;
}

/* Creates the session's .txt; its stem (the name without extension) in
 * stem. --evidence: the one name, O_EXCL. On demand: the first copy number
 * whose .txt and .pcap are both free. Returns the path or NULL (said). */
static char *ev_txt_open(evidence_sink *v, const sc_session_info *info, char *stem,
                         size_t stemlen, int *fdp)
{
    for (unsigned copy = 1; copy <= EV_COPIES_MAX; copy++) {
        struct stat st;
        char *path, *pcap;

        ev_stem(v, info, copy, stem, stemlen);
        if (!(path = ev_path(v, stem, "txt")) || !(pcap = ev_path(v, stem, "pcap"))) {
            free(path);
            ev_say(v, "%s.txt: out of memory", stem);
            return NULL;
        }
        bool pcap_taken = v->one && lstat(pcap, &st) == 0;
        free(pcap);
        if (!pcap_taken) {
            if ((*fdp = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0)
                return path;
            if (!v->one || errno != EEXIST) {
                ev_say(v, "%s: %s", path, strerror(errno));
                free(path);
                return NULL;
            }
        }
        free(path);
    }
    ev_say(v, "%s/%s: %d copies exist already", v->dir, stem, EV_COPIES_MAX);
    return NULL;
}

/* Live: the session's pcap, cut from the packets kept for its
 * connection (the same cut as from a capture file: only its 4-tuple,
 * masked under --redact), then hashed. The spool goes once the
 * connection ends (sc_evidence_live_closed). */
static void ev_live_cut(evidence_sink *v, const sc_session_info *info, const char *stem,
                        ev_livepcap *lp)
{
    char err[512];
    uint64_t frames;
    sc_livecut_lack lack;
    const char *spool = sc_livecut_take(v->lc, info->id, &frames, &lack);
    char *path = ev_path(v, stem, "pcap");

    memset(lp, 0, sizeof *lp);
    if (!spool || !path) {
        snprintf(lp->why, sizeof lp->why, "%s",
                 !path ? "out of memory" :
                 lack == SC_LIVECUT_FAILED ?
                 "the packets could not be kept (see the message on standard error)" :
                 lack == SC_LIVECUT_STOPPED ?
                 "the connection carried over " EV_PRESESSION_TEXT " before it was "
                 "recognised as SMTP; its packets were not kept" :
                 "no packet of the session was kept");
        free(path);
        return;
    }
    sc_pcapcut_target(&lp->t, info, v->cfg->redact);
    lp->t.first_frame = 1;
    lp->t.last_frame = UINT64_MAX;
    lp->t.path = path;
    if (sc_pcapcut(spool, &lp->t, 1, err, sizeof err) < 0) {
        ev_say(v, "%s", err);
        snprintf(lp->why, sizeof lp->why, "the kept packets could not be read back");
    } else if (lp->t.error) {
        ev_say(v, "%s: %s", path, strerror(lp->t.error));
        snprintf(lp->why, sizeof lp->why, "%s", strerror(lp->t.error));
    } else if (!lp->t.written) {
        snprintf(lp->why, sizeof lp->why, "no packet of the session was kept");
    } else if (sc_sha256_file(path, lp->sha) < 0) {
        lp->written = true;
        snprintf(lp->sha, sizeof lp->sha, "not available: %s", strerror(errno));
    } else {
        lp->written = true;
    }
    if (lp->written)
        v->pcaps_live++;
    if (lp->t.frags_left_out)
        ev_say(v, "%s: %" PRIu64 " IP fragments left out (their payload cannot be masked)",
               path, lp->t.frags_left_out);
    lp->t.path = NULL;
    lp->t.redact = NULL;
    free(path);
}

static void ev_session_end(sc_sink *s, const sc_session_info *info)
{
    evidence_sink *v = s->priv;
    ev_live *x = sc_idmap_del(v->live, info->id);
    char *path, stem[96];
    int fd = -1;
    FILE *fp;

    if (!x)
        return;
    if (v->cfg->only_findings && x->nfind_total == 0 && !v->one)
        goto done;
    sc_tb_block_end(v->e, x->b, info);
    if (!(path = ev_txt_open(v, info, stem, sizeof stem, &fd)))
        goto done;
    if (!(fp = fdopen(fd, "w"))) {
        ev_say(v, "%s: %s", path, strerror(errno));
        close(fd);
        free(path);
        goto done;
    }
    if (v->lc) {
        ev_livepcap lp;
        ev_live_cut(v, info, stem, &lp);
        ev_txt_header(v, fp, info, x, stem, &lp);
    } else {
        ev_txt_header(v, fp, info, x, stem, NULL);
    }
    sc_tb_block_write(v->e, x->b, fp);
    errno = 0;
    bool bad = ferror(fp);
    if (fclose(fp) != 0 || bad) {
        int e = errno;
        unlink(path);             /* an incomplete report would pass for one */
        if (v->one)
            ev_say(v, "%s: %s", path, e ? strerror(e) : "write error");
        else
            sc_write_lost(path, e, "the session report is removed");
    } else {
        v->txt_written++;
        if (!v->lc)
            ev_cut_add(v, info, stem, path);
        if (v->one && ev_is_stdin(info->capture_file))
            ev_say(v, "wrote %s (no pcap: standard input cannot be read again)", path);
    }
    free(path);
done:
    sc_tb_block_free(v->e, x->b);
    free(x->more);
    free(x);
}

static void ev_finish(sc_sink *s, const sc_totals *tot)
{
    evidence_sink *v = s->priv;
    char err[512];
    uint64_t pcaps = 0;

    (void)tot;
    pcaps = v->pcaps_live;
    /* One pass per capture file, for the sessions that came from it (they
     * are contiguous: files are analysed one after another). */
    for (size_t i = 0; i < v->ncuts;) {
        size_t j = i;
        while (j < v->ncuts && (v->cfg->merged || strcmp(v->cuts[j].file, v->cuts[i].file) == 0))
            j++;            /* several files as one capture: one pass over them all */
        sc_cut_target *t = malloc((j - i) * sizeof *t);
        if (t) {
            for (size_t k = i; k < j; k++)
                t[k - i] = v->cuts[k].t;
            const char *one = v->cuts[i].file;
            if (sc_pcapcut_files(v->cfg->merged ? v->cfg->files : &one,
                                 v->cfg->merged ? v->cfg->nfiles : 1, t, j - i,
                                 err, sizeof err) < 0)
                ev_say(v, "%s", err);
            for (size_t k = i; k < j; k++) {
                if (t[k - i].error && v->one)
                    ev_say(v, "%s: %s", v->cuts[k].path, strerror(t[k - i].error));
                else if (t[k - i].error)
                    sc_write_lost(v->cuts[k].path, t[k - i].error, "no pcap for this session");
                else if (t[k - i].written)
                    pcaps++;
                if (v->one && !t[k - i].error)
                    ev_say(v, "wrote %s, %s (%" PRIu64 " packets%s)", v->cuts[k].txt,
                           v->cuts[k].path, t[k - i].written, t[k - i].frags_left_out ?
                           "; IP fragments left out: their payload cannot be masked" : "");
                else if (t[k - i].frags_left_out)
                    ev_say(v, "%s: %" PRIu64 " IP fragments left out (their payload "
                           "cannot be masked)", v->cuts[k].path, t[k - i].frags_left_out);
            }
            free(t);
        }
        i = j;
    }
    if (!v->one && !v->cfg->quiet && (v->txt_written || pcaps))
        fprintf(stderr, "smtpscope: evidence: %" PRIu64 " session reports and %" PRIu64
                " pcap files in %s\n", v->txt_written, pcaps, v->dir);
}

static void ev_destroy(sc_sink *s)
{
    evidence_sink *v = s->priv;

    for (size_t i = 0; i < v->ncuts; i++) {
        free(v->cuts[i].ranges);
        free(v->cuts[i].file);
        free(v->cuts[i].path);
        free(v->cuts[i].txt);
    }
    free(v->cuts);
    sc_livecut_free(v->lc);
    free(v->live_iface);
    free(v->live_filter);
    sc_idmap_free(v->live);     /* every session ended before finish */
    sc_tb_engine_free(v->e);
    free(v->hash_file);
    free(v->rr_file);
    free(v->dir);
    free(v);
}

/* DIR created when missing, a writable directory; else -1 and err
 * "PREFIXDIR: reason". */
static int ev_dir_check(const char *prefix, const char *dir, char *err, size_t errlen)
{
    struct stat st;

    if (ev_mkdirs(dir) < 0 || stat(dir, &st) < 0) {
        snprintf(err, errlen, "%s%s: %s", prefix, dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) < 0) {
        snprintf(err, errlen, "%s%s: %s", prefix, dir,
                 S_ISDIR(st.st_mode) ? strerror(errno) : "not a directory");
        return -1;
    }
    return 0;
}

static evidence_sink *ev_new(const sc_config *cfg, const char *dir, char *err, size_t errlen)
{
    evidence_sink *v;
    sc_tb_opts o = { .ladder = cfg->ladder, .show_content = cfg->show_content,
                     .redact = cfg->redact };

    if (!(v = calloc(1, sizeof *v)) || !(v->dir = strdup(dir)) ||
        !(v->e = sc_tb_engine_new(&o)) || !(v->live = sc_idmap_new())) {
        snprintf(err, errlen, "--evidence %s: out of memory", dir);
        if (v) {
            sc_tb_engine_free(v->e);
            free(v->dir);
            free(v);
        }
        return NULL;
    }
    v->cfg = cfg;
    v->sink = (sc_sink){ ev_session_begin, ev_line, ev_finding, ev_session_end,
                         ev_finish, ev_destroy, v };
    return v;
}

/* Live with -Z: a DIR made here (as root, before the drop) is given to
 * the -Z user, who writes the bundles once privileges are dropped, as
 * tcpdump's -Z user writes its rotated files. A DIR that existed is left
 * as it is: if that user cannot write it, sc_evidence_live_open says so
 * before any packet is read. */
static int ev_dir_give(const sc_config *cfg, const char *dir, char *err, size_t errlen)
{
    struct passwd *pw;

    if (!cfg->iface || !cfg->drop_user || geteuid() != 0)
        return 0;
    if (!(pw = getpwnam(cfg->drop_user)))
        return 0;                /* the pipeline refuses the unknown user */
    if (chown(dir, pw->pw_uid, pw->pw_gid) < 0) {
        snprintf(err, errlen, "--evidence %s: cannot give it to %s: %s", dir,
                 cfg->drop_user, strerror(errno));
        return -1;
    }
    return 0;
}

sc_sink *sc_evidence_sink_new(const sc_config *cfg, const char *dir, char *err, size_t errlen)
{
    evidence_sink *v;
    DIR *d;
    struct dirent *de;

    struct stat st;
    bool made = stat(dir, &st) < 0 && errno == ENOENT;

    if (ev_dir_check("--evidence ", dir, err, errlen) < 0)
        return NULL;
    if (made && ev_dir_give(cfg, dir, err, errlen) < 0)
        return NULL;
    if (!(d = opendir(dir))) {
        snprintf(err, errlen, "--evidence %s: %s", dir, strerror(errno));
        return NULL;
    }
    while ((de = readdir(d)) != NULL)
        if (ev_name_ours(de->d_name)) {
            snprintf(err, errlen, "--evidence %s: already holds %s; refusing to overwrite "
                     "evidence (use an empty directory)", dir, de->d_name);
            closedir(d);
            return NULL;
        }
    closedir(d);
    v = ev_new(cfg, dir, err, errlen);
    return v ? &v->sink : NULL;
}

sc_sink *sc_evidence_one_new(const sc_config *cfg, const char *dir, char *msg, size_t msglen)
{
    evidence_sink *v;

    if (msglen)
        msg[0] = 0;
    if (ev_dir_check("", dir, msg, msglen) < 0 || !(v = ev_new(cfg, dir, msg, msglen)))
        return NULL;
    v->one = true;
    v->msg = msg;
    v->msglen = msglen;
    return &v->sink;
}

/* ---- live capture ------------------------------------------------------ */

int sc_evidence_live_open(sc_sink *ev, const sc_live_source *src, char *err, size_t errlen)
{
    evidence_sink *v = ev->priv;
    char why[512];

    if (!(v->live_iface = strdup(src->iface)) || !(v->live_filter = strdup(src->filter))) {
        snprintf(err, errlen, "--evidence %s: out of memory", v->dir);
        return -1;
    }
    v->live_start = src->start;
    /* Made now, after -Z: the spool is the -Z user's, and a DIR that user
     * cannot write is refused before any packet is read. */
    if (!(v->lc = sc_livecut_new(v->dir, src->linktype, src->snaplen, why, sizeof why))) {
        snprintf(err, errlen, "--evidence %s%s%s", why,
                 v->cfg->drop_user ? " (as -Z user " : "",
                 v->cfg->drop_user ? v->cfg->drop_user : "");
        if (v->cfg->drop_user)
            snprintf(err + strlen(err), errlen - strlen(err), ")");
        return -1;
    }
    return 0;
}

void sc_evidence_live_packet(sc_sink *ev, uint64_t conn_id, const sc_packet *pkt)
{
    evidence_sink *v = ev->priv;

    if (!v->lc || (v->cfg->only_session && v->cfg->only_session != conn_id))
        return;
    sc_livecut_packet(v->lc, conn_id, pkt);
    if (!sc_idmap_get(v->live, conn_id) &&
        sc_livecut_bytes(v->lc, conn_id) > EV_PRESESSION_MAX)
        sc_livecut_stop(v->lc, conn_id);
}

void sc_evidence_live_closed(sc_sink *ev, uint64_t conn_id)
{
    evidence_sink *v = ev->priv;

    if (v->lc)
        sc_livecut_drop(v->lc, conn_id);
}
