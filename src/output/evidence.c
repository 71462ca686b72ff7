/*
 * evidence.c - ticket-ready evidence bundles (sc_evidence_sink_new,
 * include/output.h; --evidence DIR).
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
 *                        payloads masked under --redact.
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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "idmap.h"
#include "outfmt.h"
#include "output.h"
#include "pcapcut.h"
#include "safeprint.h"
#include "sha256.h"
#include "textblock.h"

#ifndef SC_VERSION
#define SC_VERSION "0.0.0"
#endif

#define EV_FINDINGS_LISTED 100
#define EV_COPIES_MAX 999       /* sc_evidence_one_new: session-ID.999.txt */

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
    char             hash[80];
    uint64_t         txt_written;
    bool             one;             /* sc_evidence_one_new */
    char            *msg;             /* one: the outcome, for the status line */
    size_t           msglen;
} evidence_sink;

static bool ev_is_stdin(const char *file)
{
    return !file || strcmp(file, "-") == 0;
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
    if (!file || cfg->nfiles < 2)
        return 0;
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
    if (x->nmore == x->capmore) {
        size_t cap = x->capmore ? x->capmore * 2 : 4;
        ev_found *m = realloc(x->more, cap * sizeof *m);
        if (!m)
            return;
        x->more = m;
        x->capmore = cap;
    }
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

static void ev_txt_header(evidence_sink *v, FILE *fp, const sc_session_info *info, ev_live *x,
                          const char *stem)
{
    char esc[4096];
    const char *file = info->capture_file ? info->capture_file : "-";

    sc_safe_snprint(esc, sizeof esc, (const uint8_t *)file, strlen(file));
    fprintf(fp, "smtpscope %s evidence: session %" PRIu64 "\n", SC_VERSION, info->id);
    fprintf(fp, "capture file:  %s\n", esc);
    fprintf(fp, "SHA-256:       %s\n", ev_hash(v, file));
    fprintf(fp, "frames:        #%" PRIu64 "-#%" PRIu64 " of the capture file (%" PRIu64
            " frames of this session)\n", info->first_frame, info->last_frame, info->frames);
    if (ev_is_stdin(file))
        fprintf(fp, "packets:       not written: standard input cannot be read again "
                "(save the capture to a file and run again)\n");
    else
        fprintf(fp, "packets:       %s.pcap (this session's packets, "
                "original frames and timestamps%s)\n", stem,
                v->cfg->redact ? "; payload masked, checksums recomputed" : "");
    fprintf(fp, "numbering:     frame numbers below are those of the capture file (as "
            "Wireshark numbers it); the .pcap renumbers its frames from 1\n");
    fprintf(fp, "redacted:      %s\n", v->cfg->redact ?
            "yes (message content and AUTH exchanges replaced by X)" : "no");
    fprintf(fp, "\nfindings: %" PRIu64 "\n", x->nfind_total);
    for (size_t i = 0; i < x->nfind; i++)
        fprintf(fp, "  #%-6" PRIu64 " %-7s %s (%s)\n", x->find[i].frame,
                sc_severity_name(x->find[i].severity),
                x->find[i].rule ? x->find[i].rule->name : "?", sc_side_name(x->find[i].side));
    if (x->nfind_shown > x->nfind)
        fprintf(fp, "  (%" PRIu64 " more in the transcript below)\n", x->nfind_shown - x->nfind);
    for (size_t i = 0; i < x->nmore; i++)
        fprintf(fp, "  #%" PRIu64 "-#%" PRIu64 " %s %s (%s): %" PRIu64 " more, counted but "
                "not shown one by one (--max-findings %" PRIu32 ")\n", x->more[i].first,
                x->more[i].frame, sc_severity_name(x->more[i].severity),
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

    if (ev_is_stdin(info->capture_file))
        return;
    if (v->ncuts == v->capcuts) {
        size_t ncap = v->capcuts ? v->capcuts * 2 : 16;
        ev_cut *nc = realloc(v->cuts, ncap * sizeof *nc);
        if (!nc)
            return;
        v->cuts = nc;
        v->capcuts = ncap;
    }
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
    if (v->cfg->redact && info->nredact && info->redact) {
        c->ranges = malloc(info->nredact * sizeof *c->ranges);
        if (!c->ranges) {
            free(c->file);
            free(c->path);
            free(c->txt);
            ev_say(v, "%s.pcap: out of memory", stem);
            return;                /* never write an unmasked pcap */
        }
        memcpy(c->ranges, info->redact, info->nredact * sizeof *c->ranges);
        c->t.nredact = info->nredact;
    }
    c->t.id = info->id;
    c->t.client = info->client;
    c->t.server = info->server;
    c->t.first_frame = info->first_frame;
    c->t.last_frame = info->last_frame;
    c->t.redact = c->ranges;
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
            if ((*fdp = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644)) >= 0)
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
    ev_txt_header(v, fp, info, x, stem);
    sc_tb_block_write(v->e, x->b, fp);
    if (fclose(fp) != 0) {
        ev_say(v, "%s: %s", path, strerror(errno));
    } else {
        v->txt_written++;
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
    /* One pass per capture file, for the sessions that came from it (they
     * are contiguous: files are analysed one after another). */
    for (size_t i = 0; i < v->ncuts;) {
        size_t j = i;
        while (j < v->ncuts && strcmp(v->cuts[j].file, v->cuts[i].file) == 0)
            j++;
        sc_cut_target *t = malloc((j - i) * sizeof *t);
        if (t) {
            for (size_t k = i; k < j; k++)
                t[k - i] = v->cuts[k].t;
            if (sc_pcapcut(v->cuts[i].file, t, j - i, err, sizeof err) < 0)
                ev_say(v, "%s", err);
            for (size_t k = i; k < j; k++) {
                if (t[k - i].error)
                    ev_say(v, "%s: %s", v->cuts[k].path, strerror(t[k - i].error));
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
    sc_idmap_free(v->live);     /* every session ended before finish */
    sc_tb_engine_free(v->e);
    free(v->hash_file);
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

sc_sink *sc_evidence_sink_new(const sc_config *cfg, const char *dir, char *err, size_t errlen)
{
    evidence_sink *v;
    DIR *d;
    struct dirent *de;

    if (ev_dir_check("--evidence ", dir, err, errlen) < 0)
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
