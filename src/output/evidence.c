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
 * and no .pcap is written. Nor is one cut from a capture file that changed
 * since the analysis read it (capture.h, sc_capture_changed: one line on
 * stderr, exit status 3, each .txt says why); the hash is taken from a
 * descriptor whose file is compared the same way. A session the cut found
 * fewer packets of than the analysis counted gets a "missing:" line in its
 * .txt, and a line on stderr counts them.
 *
 * Memory: the sessions still to cut are kept (endpoints, frame range and,
 * under --redact, their ranges) until finish; bounded by the sessions
 * reported, each of which also costs two files.
 *
 * Diagnostics: creation errors in err (the caller exits 2); file errors
 * on standard error, one line each naming the file, the first
 * EV_LOST_SAID of them (a full disk fails every file after it), the rest
 * counted in one line; exit status 3 (wcheck.h). A session's bundle is
 * whole or removed: when its .txt or its packet file cannot be written,
 * its other files go too, so a run into DIR once there is room is not
 * refused for half bundles.
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

#include "capture/capture.h"
#include "common/frame.h"
#include "framemap.h"
#include "html.h"
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
#define EV_NOTES_MAX       1000 /* pcapng comments of one session */
#define EV_SHB_MAX         (2 * 8 + 4) /* section comments: files and hashes */
#define EV_COPIES_MAX 999       /* sc_evidence_one_new: session-ID.999.txt */
#define EV_LOST_SAID  10        /* files not written named one by one (a full
                                   disk fails every file after it: the rest
                                   are counted in one line) */
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
    sc_html_sess *hs;             /* what its HTML page draws */
    sc_cut_note *notes;           /* the pcapng's comments, one per finding */
    size_t       nnotes, capnotes;
    size_t       nfind;
    uint64_t     nfind_total;     /* every finding, counted ones included */
    uint64_t     nfind_shown;     /* reported one by one (in the transcript) */
    ev_found     find[EV_FINDINGS_LISTED];
    ev_found    *more;
    size_t       nmore, capmore;
    bool         cited[SC_RULE_COUNT];
} ev_live;

/* A session whose packets are still to cut from the capture file: its
 * .txt is written once they are (its name is taken already), since the
 * .txt names each frame in both numberings and hashes the packet file. */
typedef struct ev_cut {
    sc_cut_target t;
    sc_range     *ranges;
    sc_subst     *subst;    /* --redact=addresses: the pseudonyms' places */
    uint8_t      *sbytes;   /* ... and bytes */
    char         *file;
    char         *path;
    char         *txt;      /* the .txt, created empty at the session's end */
    char         *secrets;  /* the session's TLS key log lines (pcapng only) */
    char          stem[96];
    ev_live      *x;        /* its block (parked on disk) and findings */
    sc_session_info info;   /* the scalars; no pointer but capture_file */
    char         *shb[EV_SHB_MAX];  /* the pcapng's section comments */
    size_t        nshb;
} ev_cut;

typedef struct evidence_sink {
    sc_sink          sink;
    const sc_config *cfg;
    char            *dir;
    sc_tb_engine    *e;
    sc_html         *html;            /* the pages' store and index rows */
    sc_idmap        *live;
    ev_cut          *cuts;
    size_t           ncuts, capcuts;
    const char      *ext;             /* "pcapng", or "pcap" (--evidence-format) */
    char            *hash_file;       /* file whose hash is cached */
    char            *rr_file;         /* file whose kind is known */
    bool             rr_regular;      /* it is a regular file */
    char             hash[80];
    uint64_t         txt_written;
    bool             one;             /* sc_evidence_one_new */
    char            *msg;             /* one: the outcome, for the status line */
    size_t           msglen;
    uint64_t         pcaps_live;      /* live: session pcaps written */
    uint64_t         nlost;           /* files not written (ev_lost) */
    FILE            *txt_tmp;         /* ev_txt_tmp */
    int              lost_err;        /* the last one's errno */
    sc_livecut      *lc;              /* live: each connection's packets */
    char            *live_iface;      /* live: where they come from */
    char            *live_filter;
    struct timeval   live_start;
} evidence_sink;

/* A session's packet file as written (for the .txt header). */
typedef struct ev_livepcap {
    bool          written;
    char          sha[80];
    sc_cut_target t;
    char          why[700];          /* not written: the reason */
    sc_framemap  *map;               /* its frames in both numberings */
    uint64_t      counted;           /* packets the analysis counted (file cut) */
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

    if (strcmp(name, "index.html") == 0)
        return true;
    p = p && *p == '-' ? p + 1 : name;
    if (strncmp(p, "session-", 8) != 0 || !(p = ev_digits(p + 8)))
        return false;
    if (*p == '.' && ev_digits(p + 1))
        p = ev_digits(p + 1);
    return strcmp(p, ".txt") == 0 || strcmp(p, ".pcap") == 0 || strcmp(p, ".pcapng") == 0 ||
           strcmp(p, ".html") == 0;
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
        char line[8192];
        /* the message names files: through the safe printer */
        vsnprintf(line, sizeof line, fmt, ap);
        fputs("smtpscope: --evidence: ", stderr);
        sc_safe_fputstr(stderr, line);
        fputc('\n', stderr);
    } else if (v->msg && v->msglen && !v->msg[0]) {
        vsnprintf(v->msg, v->msglen, fmt, ap);
    }
    va_end(ap);
}

/* A file that could not be written (err: errno), removed; lost says what
 * is missing. The first EV_LOST_SAID are named, the rest counted for one
 * line at finish; either way the exit status says so (wcheck.h). */
static void ev_lost(evidence_sink *v, const char *path, int err, const char *lost)
{
    if (v->one) {
        ev_say(v, "%s: %s", path, err ? strerror(err) : "write error");
        return;
    }
    if (++v->nlost <= EV_LOST_SAID)
        sc_write_lost(path, err, lost);
    v->lost_err = err;
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
    /* Hashed from a descriptor whose file is compared with the one the
     * analysis read: a name given to another file since is not hashed as
     * if it were the capture. */
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    FILE *fp = NULL;
    if (fd < 0 || fstat(fd, &st) < 0 || !(fp = fdopen(fd, "rb"))) {
        snprintf(v->hash, sizeof v->hash, "not available: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
    } else if (sc_capture_check_stat(file, &st, NULL, 0)) {
        fclose(fp);
        snprintf(v->hash, sizeof v->hash, "not available: the capture file changed "
                 "during the run");
    } else if (sc_sha256_stream(fp, v->hash) < 0) {
        snprintf(v->hash, sizeof v->hash, "not available: %s", strerror(errno));
    }
    return v->hash;
}

static void ev_live_free(evidence_sink *v, ev_live *x);

static void ev_session_begin(sc_sink *s, const sc_session_info *info)
{
    evidence_sink *v = s->priv;
    ev_live *x;

    if (v->cfg->only_session && info->id != v->cfg->only_session)
        return;
    if (!(x = calloc(1, sizeof *x)))
        return;
    if (!(x->b = sc_tb_block_new(v->e, info)) || !(x->hs = sc_html_sess_new(v->html)) ||
        sc_idmap_put(v->live, info->id, x) < 0)
        ev_live_free(v, x);
}

static void ev_line(sc_sink *s, const sc_session_info *info, const sc_line *l)
{
    evidence_sink *v = s->priv;
    ev_live *x = sc_idmap_get(v->live, info->id);

    if (x) {
        sc_tb_block_line(v->e, x->b, l);
        sc_html_sess_line(v->html, x->hs, l, v->cfg->redact);
    }
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

/* The finding as a pcapng packet comment: the line the report gives it,
 * without its indent ("smtpscope: error reply-lost (server): ... [RFC
 * 2920 §3.2 (1)]"), so Wireshark's frame.comment and expert info say
 * what the .txt says. Past EV_NOTES_MAX the rest are in the .txt only. */
static void ev_note_add(evidence_sink *v, ev_live *x, const sc_finding *f)
{
    sc_tb_opts o = { .redact = v->cfg->redact };
    char line[SC_MESSAGE_MAX * 4 + 256], *text;
    sc_cut_note *n;
    const char *p = line;

    if (x->nnotes >= EV_NOTES_MAX ||
        !(n = sc_grow(x->notes, &x->capnotes, x->nnotes, sizeof *n, 4)))
        return;
    x->notes = n;
    sc_tb_format_finding(&o, f, line, sizeof line);
    while (*p == ' ')
        p++;
    if (strncmp(p, "!! ", 3) == 0)
        p += 3;
    if (!(text = malloc(strlen(p) + 12)))
        return;
    sprintf(text, "smtpscope: %s", p);
    x->notes[x->nnotes++] = (sc_cut_note){ f->frame, text };
}

static void ev_live_free(evidence_sink *v, ev_live *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->nnotes; i++)
        free((char *)x->notes[i].text);
    free(x->notes);
    sc_tb_block_free(v->e, x->b);
    sc_html_sess_free(v->html, x->hs);
    free(x->more);
    free(x);
}

/* Notes by frame, in finding order within a frame (an insertion sort:
 * findings come nearly in frame order, and there are few). */
static void ev_notes_sort(ev_live *x)
{
    for (size_t i = 1; i < x->nnotes; i++) {
        sc_cut_note n = x->notes[i];
        size_t j = i;
        for (; j > 0 && x->notes[j - 1].frame > n.frame; j--)
            x->notes[j] = x->notes[j - 1];
        x->notes[j] = n;
    }
}

static void ev_finding(sc_sink *s, const sc_session_info *info, const sc_finding *f)
{
    evidence_sink *v = s->priv;
    ev_live *x = sc_idmap_get(v->live, info->id);

    if (!x)
        return;
    sc_tb_block_finding(v->e, x->b, f);
    sc_html_sess_finding(v->html, x->hs, f);
    x->nfind_total += sc_finding_count(f);
    if (f->suppressed)
        ev_more_add(x, f);
    else if (x->nfind < EV_FINDINGS_LISTED)
        x->find[x->nfind++] = (ev_found){ f->rule, f->severity, f->side, f->frame, 0, 0 };
    if (!f->suppressed)
        x->nfind_shown++;
    if (f->rule && (unsigned)f->rule->id < SC_RULE_COUNT)
        x->cited[f->rule->id] = true;
    ev_note_add(v, x, f);
}

/* The packets line and the numbering line, for a file or live. */
static void ev_txt_packets(evidence_sink *v, FILE *fp, const char *stem, const ev_livepcap *lp,
                           const char *what)
{
    if (!lp->written) {
        fprintf(fp, "packets:       not written: %s\n", lp->why);
        return;
    }
    fprintf(fp, "packets:       %s.%s (this session's %" PRIu64 " packets %s, original "
            "timestamps", stem, v->ext, lp->t.written, what);
    if (lp->t.pcapng)
        fprintf(fp, "; %" PRIu64 " with a finding as a comment", lp->t.commented);
    fprintf(fp, "%s%s)\n", v->cfg->redact_addresses ? "; payload masked, addresses "
            "pseudonymised, checksums recomputed" : v->cfg->redact ? "; payload masked, "
            "checksums recomputed" : "",
            lp->t.frags_left_out ? "; IP fragments left out" : "");
    if (lp->counted > lp->t.written + lp->t.frags_left_out)
        fprintf(fp, "missing:       %" PRIu64 " of the %" PRIu64 " packets the analysis "
                "counted for this session were not found in the capture file\n",
                lp->counted - lp->t.written - lp->t.frags_left_out, lp->counted);
    fprintf(fp, "numbering:     each frame below is named by its number in the capture, "
            "then in brackets its number in %s.%s: #22 (3)\n", stem, v->ext);
}

/* Where the session came from: a capture file. lp: the cut. */
static void ev_txt_source_file(evidence_sink *v, FILE *fp, const sc_session_info *info,
                               const char *stem, const ev_livepcap *lp)
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
    if (ev_unrereadable(v, file)) {
        fprintf(fp, "packets:       not written: %s "
                "(save the capture to a file and run again)\n", ev_unrereadable(v, file));
        fprintf(fp, "numbering:     frame numbers below are those of the capture file (as "
                "Wireshark numbers it)\n");
    } else {
        ev_txt_packets(v, fp, stem, lp, "cut from the capture");
    }
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
    if (lp->written)
        fprintf(fp, "SHA-256:       %s (of %s.%s as written; there is no capture "
                "file to hash)\n", lp->sha, stem, v->ext);
    else
        fprintf(fp, "SHA-256:       not available: no packet file written\n");
    fprintf(fp, "frames:        #%" PRIu64 "-#%" PRIu64 " counted from the start of the "
            "capture (%" PRIu64 " frames of this session)\n",
            info->first_frame, info->last_frame, info->frames);
    ev_txt_packets(v, fp, stem, lp, "as captured");
}

/* A page created once (never over a file or through a link), mode 0600;
 * NULL when it cannot be (said). */
static FILE *ev_create(evidence_sink *v, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (!fp) {
        ev_lost(v, path, errno, "not written");
        if (fd >= 0)
            close(fd);
    }
    return fp;
}

/* The session's HTML page, DIR/STEM.html; its SHA-256 in sha ("" when
 * not written, said). A session with findings gets its row in the index
 * once its .txt is written (ev_txt_write). */
static void ev_html_write(evidence_sink *v, const sc_session_info *info, ev_live *x,
                          const char *stem, const ev_livepcap *lp, char sha[80])
{
    char *path = ev_path(v, stem, "html"), pkt[128];
    FILE *fp;
    bool bad;

    sha[0] = 0;
    if (!path)
        return;
    snprintf(pkt, sizeof pkt, "%s.%s", stem, v->ext);
    if (!(fp = ev_create(v, path))) {
        free(path);
        return;
    }
    bad = sc_html_sess_write(v->html, x->hs, info, v->cfg->redact, lp ? lp->map : NULL,
                             lp && lp->written ? pkt : NULL, true, fp) < 0;
    errno = 0;
    bad |= ferror(fp);
    if (fclose(fp) != 0 || bad) {
        unlink(path);
        ev_lost(v, path, errno, "the session page is removed");
    } else if (sc_sha256_file(path, sha) < 0) {
        snprintf(sha, 80, "not available: %s", strerror(errno));
    }
    free(path);
}

/* The bundle's files and their digests, and how to open the packets at
 * the first finding (the .txt cannot hash itself). */
static void ev_txt_bundle(evidence_sink *v, FILE *fp, const char *stem, ev_live *x,
                          const ev_livepcap *lp, const char *html_sha)
{
    uint64_t first = 0, e;

    if (html_sha[0])
        fprintf(fp, "bundle:        %s.html  SHA-256 %s\n", stem, html_sha);
    if (!lp || !lp->written)
        return;
    fprintf(fp, "bundle:        %s.%s  SHA-256 %s\n", stem, v->ext, lp->sha);
    for (size_t i = 0; i < x->nnotes; i++)     /* sorted: the earliest */
        if ((e = sc_framemap_lookup(lp->map, x->notes[i].frame)) != 0) {
            first = e;
            break;
        }
    if (first)
        fprintf(fp, "open:          wireshark -r %s.%s -g %" PRIu64 "   (the first finding)%s%s%s\n",
                stem, v->ext, first, lp->t.pcapng ? "; every finding: wireshark -r " : "",
                lp->t.pcapng ? stem : "", lp->t.pcapng ? ".pcapng -Y frame.comment" : "");
}

static void ev_txt_header(evidence_sink *v, FILE *fp, const sc_session_info *info, ev_live *x,
                          const char *stem, const ev_livepcap *lp, bool live,
                          const char *html_sha)
{
    char name[FRAME_NAME_MAX + 32], name2[FRAME_NAME_MAX + 32];
    sc_framemap *map = lp ? lp->map : NULL;

    fprintf(fp, "smtpscope %s evidence: session %" PRIu64 "\n", SC_VERSION, info->id);
    if (live)
        ev_txt_source_live(v, fp, info, stem, lp);
    else
        ev_txt_source_file(v, fp, info, stem, lp);
    ev_txt_bundle(v, fp, stem, x, lp, html_sha);
    if (v->cfg->redact)
        fprintf(fp, "redacted:      yes (%s)\n", sc_fmt_redacted(v->cfg->redact_addresses));
    else
        fprintf(fp, "redacted:      no\n");
    if (lp && lp->written && lp->t.secrets_len)
        fprintf(fp, "tls keys:      in %s.pcapng (a Decryption Secrets Block): Wireshark "
                "shows the session decrypted, no key file needed\n", stem);
    else if (lp && lp->t.secrets_withheld)
        fprintf(fp, "tls keys:      left out (--redact: they would decrypt the masked "
                "content); give Wireshark the key log to see it decrypted\n");
    else if (lp && lp->written && info->tls_state && strcmp(info->tls_state, "decrypted") == 0)
        fprintf(fp, "tls keys:      not in the %s file (only a pcapng carries them); "
                "give Wireshark the key log to see it decrypted\n", v->ext);
    fprintf(fp, "\nfindings: %" PRIu64 "\n", x->nfind_total);
    for (size_t i = 0; i < x->nfind; i++)
        fprintf(fp, "  %-13s %-7s %s (%s)\n", sc_framemap_name(map, x->find[i].frame, name, sizeof name),
                sc_severity_name(x->find[i].severity),
                x->find[i].rule ? x->find[i].rule->name : "?", sc_side_name(x->find[i].side));
    if (x->nfind_shown > x->nfind)
        fprintf(fp, "  (%" PRIu64 " more in the transcript below)\n", x->nfind_shown - x->nfind);
    for (size_t i = 0; i < x->nmore; i++)
        fprintf(fp, "  %s-%s %s %s (%s): %" PRIu64 " more, counted but "
                "not shown one by one (--max-findings %" PRIu32 ")\n",
                sc_framemap_name(map, x->more[i].first, name, sizeof name),
                sc_framemap_name(map, x->more[i].frame, name2, sizeof name2),
                sc_severity_name(x->more[i].severity),
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

/* A session whose .txt could not be written: its packet file and page go
 * too. They would be half a bundle, which a reader cannot trust, and
 * their names would make the next run into DIR refuse it. */
static void ev_bundle_remove(evidence_sink *v, const char *stem)
{
    const char *ext[] = { v->ext, "html" };

    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        char *p = ev_path(v, stem, ext[i]);
        if (p)
            unlink(p);
        free(p);
    }
}

/* The .txt's transcript goes through one temporary file for the run (in
 * TMPDIR, unlinked at once), emptied for each session: made once, not
 * per session. NULL with errno when it cannot be made or emptied. */
static FILE *ev_txt_tmp(evidence_sink *v)
{
    if (v->txt_tmp) {
        rewind(v->txt_tmp);
        clearerr(v->txt_tmp);
        if (ftruncate(fileno(v->txt_tmp), 0) == 0)
            return v->txt_tmp;
        fclose(v->txt_tmp);
    }
    return v->txt_tmp = sc_tmpfile();
}

/* Writes the session's .txt on fd (closed here): the header, then the
 * block with each frame in both numberings. Failures are said; a .txt
 * cut short is removed. */
static bool ev_txt_write(evidence_sink *v, int fd, const char *path, const sc_session_info *info,
                         ev_live *x, const char *stem, const ev_livepcap *lp, bool live)
{
    FILE *fp, *tmp = ev_txt_tmp(v);
    bool bad;
    char html_sha[80];

    ev_html_write(v, info, x, stem, lp, html_sha);
    if (!tmp || !(fp = fdopen(fd, "w"))) {
        ev_lost(v, tmp ? path : "temporary file of the session report (TMPDIR)", errno,
                "the session report is removed");
        close(fd);
        unlink(path);
        ev_bundle_remove(v, stem);
        return false;
    }
    ev_txt_header(v, fp, info, x, stem, lp, live, html_sha);
    bad = sc_tb_block_write(v->e, x->b, tmp) < 0 || fflush(tmp) != 0 || ferror(tmp);
    rewind(tmp);
    bad |= sc_framemap_expand(lp ? lp->map : NULL, tmp, fp) < 0;
    errno = 0;
    bad |= ferror(fp);
    if (fclose(fp) != 0 || bad) {
        int e = errno;
        unlink(path);             /* an incomplete report would pass for one */
        ev_lost(v, path, e, "the session report is removed, with its packet file and page");
        ev_bundle_remove(v, stem);
        return false;
    }
    if (html_sha[0] && x->nfind_total) {
        char page[128];
        snprintf(page, sizeof page, "%s.html", stem);
        sc_html_index_add(v->html, info, page);
    }
    v->txt_written++;
    return true;
}

static void ev_cut_free(ev_cut *c, evidence_sink *v)
{
    free(c->ranges);
    free(c->subst);
    free(c->sbytes);
    free(c->file);
    free(c->path);
    free(c->txt);
    free(c->secrets);
    for (size_t i = 0; i < c->nshb; i++)
        free(c->shb[i]);
    ev_live_free(v, c->x);
    memset(c, 0, sizeof *c);
}

/* The pcapng's section comments: what it is cut from. */
static void ev_shb_add(ev_cut *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ev_shb_add(ev_cut *c, const char *fmt, ...)
{
    va_list ap;
    char buf[4600];

    if (c->nshb >= EV_SHB_MAX)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if ((c->shb[c->nshb] = strdup(buf)))
        c->nshb++;
}

static void ev_shb_fill(evidence_sink *v, ev_cut *c, const sc_session_info *info)
{
    char esc[4096];

    ev_shb_add(c, "smtpscope %s evidence: session %" PRIu64 ", frames %s-%s; each packet's "
               "id (frame.packet_id) is its frame number in the capture file", SC_VERSION,
               info->id, sc_frame_name(info->first_frame), sc_frame_name(info->last_frame));
    for (uint64_t k = SC_FRAME_FILE(info->first_frame);
         sc_frame_named() && k <= SC_FRAME_FILE(info->last_frame) && c->nshb + 2 <= EV_SHB_MAX; k++) {
        const char *part = sc_frame_path(k << SC_FRAME_FILE_SHIFT);
        if (!part)
            break;
        sc_safe_snprint(esc, sizeof esc, (const uint8_t *)part, strlen(part));
        ev_shb_add(c, "source capture: %s", esc);
        ev_shb_add(c, "source SHA-256: %s", ev_hash(v, part));
    }
    if (!sc_frame_named()) {
        sc_safe_snprint(esc, sizeof esc, (const uint8_t *)info->capture_file,
                        strlen(info->capture_file));
        ev_shb_add(c, "source capture: %s", esc);
        ev_shb_add(c, "source SHA-256: %s", ev_hash(v, info->capture_file));
    }
    if (v->cfg->redact)
        ev_shb_add(c, "redacted: %s; checksums recomputed",
                   sc_fmt_redacted(v->cfg->redact_addresses));
}

/* What a cut target needs for the pcapng: the section header, the
 * comments. */
static void ev_target_ng(evidence_sink *v, sc_cut_target *t, ev_live *x, const char *const *shb,
                         size_t nshb)
{
    t->pcapng = strcmp(v->ext, "pcapng") == 0;
    t->ng_appl = "smtpscope " SC_VERSION;
    t->ng_shb = shb;
    t->ng_nshb = nshb;
    t->notes = x->notes;
    t->nnotes = x->nnotes;
}

/* The pseudonyms of a deferred cut, copied (the session's go with it). */
static int ev_subst_copy(ev_cut *c)
{
    size_t nb = 0;

    for (size_t i = 0; i < c->t.nsubst; i++)
        if (c->t.subst[i].at + (size_t)c->t.subst[i].len > nb)
            nb = c->t.subst[i].at + (size_t)c->t.subst[i].len;
    c->subst = malloc(c->t.nsubst * sizeof *c->subst);
    c->sbytes = malloc(nb ? nb : 1);
    if (!c->subst || !c->sbytes)
        return -1;
    memcpy(c->subst, c->t.subst, c->t.nsubst * sizeof *c->subst);
    memcpy(c->sbytes, c->t.subst_bytes, nb);
    c->t.subst = c->subst;
    c->t.subst_bytes = c->sbytes;
    return 0;
}

/* Keeps the session until its packets are cut at finish (its .txt then
 * written); false when it cannot be kept (out of memory, said). */
static bool ev_cut_add(evidence_sink *v, const sc_session_info *info, const char *stem,
                       const char *txt, ev_live *x)
{
    ev_cut *c;

    if (!(c = sc_grow(v->cuts, &v->capcuts, v->ncuts, sizeof *c, 16))) {
        ev_say(v, "%s.txt: out of memory", stem);
        return false;
    }
    v->cuts = c;
    c = &v->cuts[v->ncuts];
    memset(c, 0, sizeof *c);
    c->file = strdup(info->capture_file);
    c->path = ev_path(v, stem, v->ext);
    c->txt = strdup(txt);
    if (!c->file || !c->path || !c->txt) {
        ev_cut_free(c, v);
        ev_say(v, "%s.txt: out of memory", stem);
        return false;
    }
    sc_pcapcut_target(&c->t, info, v->cfg->redact);
    if (c->t.nredact) {
        c->ranges = malloc(c->t.nredact * sizeof *c->ranges);
        if (!c->ranges) {
            ev_cut_free(c, v);
            ev_say(v, "%s.%s: out of memory", stem, v->ext);
            return false;          /* never write an unmasked pcap */
        }
        memcpy(c->ranges, info->redact, c->t.nredact * sizeof *c->ranges);
        c->t.redact = c->ranges;
    }
    if (c->t.nsubst && ev_subst_copy(c) < 0) {
        ev_cut_free(c, v);
        ev_say(v, "%s.%s: out of memory", stem, v->ext);
        return false;              /* never write the real names */
    }
    /* A decrypted session's keys travel with its pcapng (a Decryption
     * Secrets Block: the vendor's Wireshark shows it decrypted); the
     * analysis hands none under --redact, where they would undo the
     * masking of the content. */
    if (info->tls_secrets && strcmp(v->ext, "pcapng") == 0) {
        if (!(c->secrets = strdup(info->tls_secrets))) {
            ev_cut_free(c, v);
            ev_say(v, "%s.%s: out of memory", stem, v->ext);
            return false;
        }
        c->t.secrets = c->secrets;
        c->t.secrets_len = strlen(c->secrets);
    }
    c->t.secrets_withheld = v->cfg->redact && info->tls_state &&
                            strcmp(info->tls_state, "decrypted") == 0;
    snprintf(c->stem, sizeof c->stem, "%s", stem);
    c->info = *info;
    c->info.tls_secrets = NULL;
    c->info.capture_file = c->file;
    c->info.extensions = NULL;
    c->info.next = 0;
    c->info.txn = NULL;
    c->info.ntxn_kept = 0;
    c->info.redact = NULL;
    c->info.subst = NULL;
    c->info.subst_bytes = NULL;
    c->info.close_after = NULL;
    c->info.tls_state = c->info.tls_version = c->info.tls_cipher = NULL;
    ev_shb_fill(v, c, info);
    c->t.path = c->path;
    c->x = x;
    v->ncuts++;
    return true;
}

/* Creates the session's .txt; its stem (the name without extension) in
 * stem. --evidence: the one name, O_EXCL. On demand: the first copy number
 * whose .txt and packet file are both free. Returns the path or NULL
 * (said). */
static char *ev_txt_open(evidence_sink *v, const sc_session_info *info, char *stem,
                         size_t stemlen, int *fdp)
{
    for (unsigned copy = 1; copy <= EV_COPIES_MAX; copy++) {
        struct stat st;
        char *path, *pcap;

        ev_stem(v, info, copy, stem, stemlen);
        if (!(path = ev_path(v, stem, "txt")) || !(pcap = ev_path(v, stem, v->ext))) {
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
                ev_lost(v, path, errno, "no evidence for this session");
                free(path);
                return NULL;
            }
        }
        free(path);
    }
    ev_say(v, "%s/%s: %d copies exist already", v->dir, stem, EV_COPIES_MAX);
    return NULL;
}

/* After a cut: the packet file's hash, or why there is none. */
static void ev_cut_done(evidence_sink *v, const char *path, ev_livepcap *lp, const char *none)
{
    if (lp->t.error) {
        snprintf(lp->why, sizeof lp->why, "%s", strerror(lp->t.error));
    } else if (!lp->t.written) {
        snprintf(lp->why, sizeof lp->why, "%s", none);
    } else if (sc_sha256_file(path, lp->sha) < 0) {
        lp->written = true;
        snprintf(lp->sha, sizeof lp->sha, "not available: %s", strerror(errno));
    } else {
        lp->written = true;
    }
    if (lp->t.map_failed) {
        ev_say(v, "%s: the frame map could not be kept: evidence frame numbers are missing",
               path);
        sc_framemap_free(lp->map);
        lp->map = NULL;
    }
}

/* Live: the session's pcap, cut from the packets kept for its
 * connection (the same cut as from a capture file: only its 4-tuple,
 * masked under --redact), then hashed. The spool goes once the
 * connection ends (sc_evidence_live_closed). */
static void ev_live_cut(evidence_sink *v, const sc_session_info *info, const char *stem,
                        ev_live *x, ev_livepcap *lp)
{
    char err[512];
    uint64_t frames;
    sc_livecut_lack lack;
    const char *spool = sc_livecut_take(v->lc, info->id, &frames, &lack);
    char *path = ev_path(v, stem, v->ext);
    char shb[600];
    const char *shbp[1] = { shb };

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
    snprintf(shb, sizeof shb, "smtpscope %s evidence: session %" PRIu64 ", captured live; "
             "each packet's id (frame.packet_id) is its frame number counted from the start "
             "of the capture", SC_VERSION, info->id);
    sc_pcapcut_target(&lp->t, info, v->cfg->redact);
    lp->t.first_frame = 1;
    lp->t.last_frame = UINT64_MAX;
    lp->t.path = path;
    ev_notes_sort(x);
    ev_target_ng(v, &lp->t, x, shbp, 1);
    lp->map = sc_framemap_new();
    lp->t.framemap = lp->map;
    if (sc_pcapcut(spool, &lp->t, 1, err, sizeof err) < 0) {
        ev_say(v, "%s", err);
        snprintf(lp->why, sizeof lp->why, "the kept packets could not be read back");
    } else {
        if (lp->t.error)
            ev_lost(v, path, lp->t.error, "the session's bundle is removed");
        ev_cut_done(v, path, lp, "no packet of the session was kept");
    }
    if (lp->written)
        v->pcaps_live++;
    if (lp->t.frags_left_out)
        ev_say(v, "%s: %" PRIu64 " IP fragments left out (their payload cannot be masked)",
               path, lp->t.frags_left_out);
    lp->t.path = NULL;
    lp->t.redact = NULL;
    lp->t.subst = NULL;
    lp->t.subst_bytes = NULL;
    lp->t.ng_shb = NULL;
    lp->t.notes = NULL;
    lp->t.framemap = NULL;
    free(path);
}

static void ev_session_end(sc_sink *s, const sc_session_info *info)
{
    evidence_sink *v = s->priv;
    ev_live *x = sc_idmap_del(v->live, info->id);
    char *path, stem[96];
    int fd = -1;

    if (!x)
        return;
    if (v->cfg->only_findings && x->nfind_total == 0 && !v->one)
        goto done;
    sc_tb_block_end(v->e, x->b, info);
    if (!(path = ev_txt_open(v, info, stem, sizeof stem, &fd)))
        goto done;
    if (v->lc) {
        ev_livepcap lp;
        ev_live_cut(v, info, stem, x, &lp);
        if (lp.t.error) {         /* whole bundles only, as from a file */
            close(fd);
            unlink(path);
            ev_bundle_remove(v, stem);
        } else {
            ev_txt_write(v, fd, path, info, x, stem, &lp, true);
        }
        sc_framemap_free(lp.map);
    } else if (ev_unrereadable(v, info->capture_file)) {
        if (ev_txt_write(v, fd, path, info, x, stem, NULL, false) && v->one)
            ev_say(v, "wrote %s (no pcap: standard input cannot be read again)", path);
    } else {
        /* the name is taken now; the text comes once the packets are cut */
        close(fd);
        ev_notes_sort(x);
        sc_tb_block_park(v->e, x->b);
        sc_html_sess_park(v->html, x->hs);
        if (ev_cut_add(v, info, stem, path, x))
            x = NULL;
        else
            unlink(path);
    }
    free(path);
done:
    ev_live_free(v, x);
}

/* After the cut of c: its .txt, written where its name was taken.
 * nocut: why nothing was cut from its capture (NULL: it was). */
static void ev_cut_report(evidence_sink *v, ev_cut *c, ev_livepcap *lp, uint64_t *pcaps,
                          const char *nocut)
{
    sc_cut_target *t = &lp->t;
    int fd;

    if (t->error) {
        /* the packet file failed (a full disk): the bundle is whole or
         * not at all, so that a run into DIR once there is room is not
         * refused for half bundles */
        ev_lost(v, c->path, t->error, "the session's bundle is removed");
        unlink(c->txt);
        ev_bundle_remove(v, c->stem);
        return;
    }
    if (nocut)
        snprintf(lp->why, sizeof lp->why, "%s", nocut);
    else
        ev_cut_done(v, c->path, lp, "no packet of the session was found in the capture");
    if (lp->written)
        (*pcaps)++;
    if (t->frags_left_out)
        ev_say(v, "%s: %" PRIu64 " IP fragments left out (their payload cannot be masked)",
               c->path, t->frags_left_out);
    fd = open(c->txt, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        ev_lost(v, c->txt, errno, "the session report is removed, with its packet file");
        unlink(c->txt);           /* an empty report would pass for one */
        ev_bundle_remove(v, c->stem);
        return;
    }
    if (ev_txt_write(v, fd, c->txt, &c->info, c->x, c->stem, lp, false) && v->one && !t->error)
        ev_say(v, "wrote %s, %s (%" PRIu64 " packets%s)", c->txt, c->path, t->written,
               t->frags_left_out ? "; IP fragments left out: their payload cannot be masked" : "");
}

/* Cuts cuts[i..j) from their capture in one pass (pcapcut.h keeps a
 * bounded number of files open, each target with its frame map), then
 * writes their reports. Out of memory for the targets: one pass each. */
static void ev_cut_run(evidence_sink *v, size_t i, size_t j, uint64_t *pcaps)
{
    char err[512];
    sc_cut_target one_t, *t = calloc(j - i, sizeof *t);
    size_t chunk = t ? j - i : 1;
    char *one = v->cuts[i].file;    /* kept here: the cuts are freed one by one */

    v->cuts[i].file = NULL;

    if (!t)
        t = &one_t;
    for (size_t a = i; a < j; a += chunk) {
        size_t n = j - a < chunk ? j - a : chunk;
        for (size_t k = 0; k < n; k++) {
            ev_cut *c = &v->cuts[a + k];
            t[k] = c->t;
            ev_target_ng(v, &t[k], c->x, (const char *const *)c->shb, c->nshb);
            if (!(t[k].framemap = sc_framemap_new()))
                ev_say(v, "%s: out of memory: evidence frame numbers are missing", c->path);
        }
        const char *one_c = one;
        int rc = sc_pcapcut_files(v->cfg->merged ? v->cfg->files : &one_c,
                                  v->cfg->merged ? v->cfg->nfiles : 1, t, n, err, sizeof err);
        char nocut[sizeof err + 128];
        if (rc == -2) {
            /* one line for the file, and each .txt says why it has no
             * packet file (the .txt names the file: the reason alone) */
            const char *changed = v->cfg->merged ? v->cfg->files[0] : one, *reason = err;
            for (size_t f = 0; f < (v->cfg->merged ? v->cfg->nfiles : 1); f++) {
                size_t fl = strlen(v->cfg->merged ? v->cfg->files[f] : one);
                if (strncmp(err, v->cfg->merged ? v->cfg->files[f] : one, fl) == 0 &&
                    err[fl] == ':') {
                    changed = v->cfg->merged ? v->cfg->files[f] : one;
                    reason = err + fl + 2;
                }
            }
            snprintf(nocut, sizeof nocut, "%s; its packets were not cut (they would not "
                     "be this session's)", reason);
            if (v->one) {
                ev_say(v, "%s", err);
            } else {
                char why[sizeof err + 128];
                snprintf(why, sizeof why, "%s; no %s file is cut from it (%zu session%s), "
                         "%s", reason, v->ext, n, n == 1 ? "" : "s",
                         n == 1 ? "its .txt says why" : "their .txt say why");
                sc_write_incomplete(changed, why);
            }
        } else if (rc < 0) {
            ev_say(v, "%s", err);
        }
        /* sessions the cut found fewer packets of than the analysis counted */
        uint64_t short_sessions = 0, short_packets = 0, counted = 0;
        char first_short[128] = "";
        for (size_t k = 0; k < n; k++) {
            ev_livepcap lp;
            ev_cut *c = &v->cuts[a + k];
            memset(&lp, 0, sizeof lp);
            lp.t = t[k];
            lp.map = t[k].framemap;
            lp.counted = rc == 0 ? c->info.frames : 0;
            if (lp.counted > t[k].written + t[k].frags_left_out && !t[k].error) {
                short_sessions++;
                short_packets += lp.counted - t[k].written - t[k].frags_left_out;
                counted += lp.counted;
                if (!first_short[0])
                    snprintf(first_short, sizeof first_short, "%s.%s", c->stem, v->ext);
            }
            ev_cut_report(v, c, &lp, pcaps, rc == -2 ? nocut : NULL);
            sc_framemap_free(lp.map);
            ev_cut_free(c, v);
        }
        if (short_sessions)
            ev_say(v, "%s: %" PRIu64 " session%s miss packets in their %s file (%" PRIu64
                   " of %" PRIu64 " packets the analysis counted were not found in the "
                   "capture; the first: %s), their .txt say how many",
                   v->cfg->merged ? "the capture files" : one, short_sessions,
                   short_sessions == 1 ? "" : "s", v->ext, short_packets, counted,
                   first_short);
    }
    if (t != &one_t)
        free(t);
    free(one);
}

/* DIR/index.html: the sessions with findings, by server and one by one,
 * each linked to its page. */
static void ev_index_write(evidence_sink *v)
{
    char *path = ev_path(v, "index", "html");
    FILE *fp;

    if (!path)
        return;
    if (!(fp = ev_create(v, path))) {
        free(path);
        return;
    }
    bool bad = sc_html_index_write(v->html, true, fp) < 0;
    errno = 0;
    if (fclose(fp) != 0 || bad) {
        unlink(path);
        ev_lost(v, path, errno, "the index page is removed");
    }
    free(path);
}

static void ev_finish(sc_sink *s, const sc_totals *tot)
{
    evidence_sink *v = s->priv;
    uint64_t pcaps = 0;

    (void)tot;
    pcaps = v->pcaps_live;
    /* One pass per capture file, for the sessions that came from it (they
     * are contiguous: files are analysed one after another). */
    for (size_t i = 0; i < v->ncuts;) {
        size_t j = i;
        while (j < v->ncuts && (v->cfg->merged || strcmp(v->cuts[j].file, v->cuts[i].file) == 0))
            j++;            /* several files as one capture: one pass over them all */
        ev_cut_run(v, i, j, &pcaps);
        i = j;
    }
    v->ncuts = 0;
    if (!v->one && v->txt_written)      /* no bundle: nothing to index */
        ev_index_write(v);
    if (v->nlost > EV_LOST_SAID) {
        char why[256];
        snprintf(why, sizeof why, "%" PRIu64 " more evidence files not written (%s), "
                 "not named one by one; what was cut short is removed",
                 v->nlost - EV_LOST_SAID, v->lost_err ? strerror(v->lost_err) : "write error");
        sc_write_incomplete(v->dir, why);
    }
    if (!v->one && !v->cfg->quiet && (v->txt_written || pcaps)) {
        fprintf(stderr, "smtpscope: evidence: %" PRIu64 " session reports and %" PRIu64
                " %s files in ", v->txt_written, pcaps, v->ext);
        sc_safe_fputstr(stderr, v->dir);
        fputc('\n', stderr);
    }
}

static void ev_destroy(sc_sink *s)
{
    evidence_sink *v = s->priv;

    for (size_t i = 0; i < v->ncuts; i++)
        ev_cut_free(&v->cuts[i], v);
    free(v->cuts);
    sc_livecut_free(v->lc);
    if (v->txt_tmp)
        fclose(v->txt_tmp);
    free(v->live_iface);
    free(v->live_filter);
    sc_idmap_free(v->live);     /* every session ended before finish */
    sc_tb_engine_free(v->e);
    sc_html_free(v->html);
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
                     .redact = cfg->redact, .frame_marks = true };

    if (!(v = calloc(1, sizeof *v)) || !(v->dir = strdup(dir)) ||
        !(v->e = sc_tb_engine_new(&o)) || !(v->live = sc_idmap_new()) ||
        !(v->html = sc_html_new())) {
        snprintf(err, errlen, "--evidence %s: out of memory", dir);
        if (v) {
            sc_idmap_free(v->live);
            sc_tb_engine_free(v->e);
            free(v->dir);
            free(v);
        }
        return NULL;
    }
    v->cfg = cfg;
    v->ext = cfg->evidence_pcap ? "pcap" : "pcapng";
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
