/*
 * evidence.c - ticket-ready evidence bundles (sc_evidence_sink_new,
 * include/output.h; --evidence DIR).
 *
 * For each reported session (the same --session / --only-findings choice
 * as the report):
 *   DIR/session-ID.txt   written when the session ends: a header (tool
 *                        version, capture file and its SHA-256, frame
 *                        range, redaction, each finding with its frame,
 *                        and the full text every cited rule rests on),
 *                        then the session's text report without colour.
 *   DIR/session-ID.pcap  written at finish: the capture file is read again
 *                        (pcapcut.h) and the session's packets copied, with
 *                        payloads masked under --redact.
 * Names are built from the numeric session id only. DIR is created when
 * missing; a DIR that already holds session-*.txt or session-*.pcap files
 * is refused when the sink is created (nothing is ever overwritten; files
 * are also opened with O_EXCL). A capture read from standard input cannot
 * be read again: the .txt says so and no .pcap is written.
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

typedef struct ev_finding {
    const sc_rule *rule;
    sc_severity    severity;
    sc_side        side;
    uint64_t       frame;
} ev_found;

typedef struct ev_live {
    sc_tb_block *b;
    size_t       nfind;
    uint64_t     nfind_total;
    ev_found     find[EV_FINDINGS_LISTED];
    bool         cited[SC_RULE_COUNT];
} ev_live;

typedef struct ev_cut {
    sc_cut_target t;
    sc_range     *ranges;
    char         *file;
    char         *path;
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

/* A name this sink would write: session-<digits>.(txt|pcap). */
static bool ev_name_ours(const char *name)
{
    const char *p = name + 8;

    if (strncmp(name, "session-", 8) != 0 || *p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    return strcmp(p, ".txt") == 0 || strcmp(p, ".pcap") == 0;
}

static char *ev_path(const evidence_sink *v, uint64_t id, const char *ext)
{
    size_t n = strlen(v->dir) + 48;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/session-%" PRIu64 ".%s", v->dir, id, ext);
    return p;
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

static void ev_finding(sc_sink *s, const sc_session_info *info, const sc_finding *f)
{
    evidence_sink *v = s->priv;
    ev_live *x = sc_idmap_get(v->live, info->id);

    if (!x)
        return;
    sc_tb_block_finding(v->e, x->b, f);
    if (x->nfind < EV_FINDINGS_LISTED)
        x->find[x->nfind++] = (ev_found){ f->rule, f->severity, f->side, f->frame };
    x->nfind_total++;
    if (f->rule && (unsigned)f->rule->id < SC_RULE_COUNT)
        x->cited[f->rule->id] = true;
}

static void ev_txt_header(evidence_sink *v, FILE *fp, const sc_session_info *info, ev_live *x)
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
        fprintf(fp, "packets:       session-%" PRIu64 ".pcap (this session's packets, "
                "original frames and timestamps%s)\n", info->id,
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
    if (x->nfind_total > x->nfind)
        fprintf(fp, "  (%" PRIu64 " more in the transcript below)\n", x->nfind_total - x->nfind);
    if (x->nfind_total) {
        fprintf(fp, "\nwhat the findings rest on:\n");
        for (unsigned r = 0; r < SC_RULE_COUNT; r++)
            if (x->cited[r])
                fprintf(fp, "  %s: %s\n", sc_rules[r].name, sc_rules[r].rests_on);
    }
    fputs("\n", fp);
}

static void ev_cut_add(evidence_sink *v, const sc_session_info *info)
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
    c->path = ev_path(v, info->id, "pcap");
    if (!c->file || !c->path) {
        free(c->file);
        free(c->path);
        return;
    }
    if (v->cfg->redact && info->nredact && info->redact) {
        c->ranges = malloc(info->nredact * sizeof *c->ranges);
        if (!c->ranges) {
            free(c->file);
            free(c->path);
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

static void ev_session_end(sc_sink *s, const sc_session_info *info)
{
    evidence_sink *v = s->priv;
    ev_live *x = sc_idmap_del(v->live, info->id);
    char *path;
    int fd;
    FILE *fp;

    if (!x)
        return;
    if (v->cfg->only_findings && x->nfind_total == 0)
        goto done;
    sc_tb_block_end(v->e, x->b, info);
    if (!(path = ev_path(v, info->id, "txt")))
        goto done;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || !(fp = fdopen(fd, "w"))) {
        fprintf(stderr, "smtpscope: --evidence: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(path);
        goto done;
    }
    ev_txt_header(v, fp, info, x);
    sc_tb_block_write(v->e, x->b, fp);
    if (fclose(fp) != 0)
        fprintf(stderr, "smtpscope: --evidence: %s: %s\n", path, strerror(errno));
    else
        v->txt_written++;
    free(path);
    ev_cut_add(v, info);
done:
    sc_tb_block_free(v->e, x->b);
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
                fprintf(stderr, "smtpscope: --evidence: %s\n", err);
            for (size_t k = i; k < j; k++) {
                if (t[k - i].error)
                    fprintf(stderr, "smtpscope: --evidence: %s: %s\n", v->cuts[k].path,
                            strerror(t[k - i].error));
                else if (t[k - i].written)
                    pcaps++;
                if (t[k - i].frags_left_out)
                    fprintf(stderr, "smtpscope: --evidence: %s: %" PRIu64 " IP fragments left "
                            "out (their payload cannot be masked)\n", v->cuts[k].path,
                            t[k - i].frags_left_out);
            }
            free(t);
        }
        i = j;
    }
    if (!v->cfg->quiet && (v->txt_written || pcaps))
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
    }
    free(v->cuts);
    sc_idmap_free(v->live);     /* every session ended before finish */
    sc_tb_engine_free(v->e);
    free(v->hash_file);
    free(v->dir);
    free(v);
}

sc_sink *sc_evidence_sink_new(const sc_config *cfg, const char *dir, char *err, size_t errlen)
{
    evidence_sink *v;
    struct stat st;
    DIR *d;
    struct dirent *de;
    sc_tb_opts o = { .ladder = cfg->ladder, .show_content = cfg->show_content,
                     .redact = cfg->redact };

    if (ev_mkdirs(dir) < 0 || stat(dir, &st) < 0) {
        snprintf(err, errlen, "--evidence %s: %s", dir, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) < 0) {
        snprintf(err, errlen, "--evidence %s: %s", dir,
                 S_ISDIR(st.st_mode) ? strerror(errno) : "not a directory");
        return NULL;
    }
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
    return &v->sink;
}
