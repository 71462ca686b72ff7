/*
 * main.c - smtpscope: options, outputs, the analysis of each input, the
 * exit status.
 *
 * Exit status (docs/interface.md): 0 analysed and no finding at or above
 * --fail-on; 1 findings at or above it; 2 bad usage or unreadable input,
 * with one line on stderr naming the file and the reason (when nothing
 * could be analysed, nothing else is written: no empty report); 3 an
 * output could not be written in full (src/common/wcheck.h), whatever
 * else happened; 4 the analysis ended early (a damaged capture, a -j
 * worker that failed): what came before is reported, and the totals say
 * so; 5 --session named no session of the capture. Precedence: 3, 2, 4,
 * 5, then 1 or 0.
 *
 * Live mode (-i): standard output is line-buffered, so each record is out
 * as soon as it is made, whatever the output is (a file followed with
 * tail -f too). SIGINT and SIGTERM end the capture: the open
 * sessions are closed as capture-truncated and reported, then the capture
 * statistics (pcap_stats: received, dropped by the kernel, dropped by the
 * interface) and the totals go to standard error. SIGUSR1 writes the same
 * statistics without stopping (not while the timeline holds the screen).
 * SIGHUP reopens the --output file and the --syslog connection.
 *
 * --output FILE becomes standard output (dup2), so every output writes
 * there unchanged. --syslog: the JSON sink hands each object to the
 * syslog queue (src/output/syslog.h), pumped on every live tick and
 * every 256 packets of a file; at the end it has SYSLOG_DRAIN_MS to go
 * out, and its counters go to stderr.
 * With --tui the timeline is on screen during the capture and fed as
 * packets come; `q` ends the capture and the program; SIGINT (Ctrl-C) ends
 * the capture and leaves the final state on screen to browse, as `less +F`
 * does; SIGTERM ends both.
 *
 * Files (-r): SIGINT, SIGTERM and SIGHUP end the run as the end of the
 * capture would (the read in progress is interrupted), with a line on
 * stderr naming the signal; a second one kills. SIGUSR1 writes where the
 * reading is, and the read goes on (SA_RESTART).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "capture/capture.h"
#include "common/config.h"
#include "options.h"
#include "output/output.h"
#include "output/outfmt.h"
#include "output/peers.h"
#include "output/syslog.h"
#include "pipeline/pipeline.h"
#include "common/record.h"
#include "common/safeprint.h"
#include "session/session.h"
#include "reasm/streams.h"
#include "tui/tui.h"
#include "ondemand.h"
#include "jobs/jobs.h"
#include "common/pseudo.h"
#include "common/wcheck.h"
#include "common/explain.h"

#define SINKS_MAX 7
/* The end of a run: how long the syslog queue may take to go out. */
#define SYSLOG_DRAIN_MS 5000

#define SC_EXIT_DAMAGED    4    /* the analysis ended early */
#define SC_EXIT_NO_SESSION 5    /* --session ID: no such session */

/* The progress line: bytes read of total, sessions, findings. Written to
 * stderr when it is a terminal, standard output a file (main_progress_fits),
 * the input is a file and -q is not given. */
typedef struct progress {
    sc_sink  sink;            /* counts sessions and findings */
    uint64_t sessions, findings;
    uint64_t at_end, timed_out, evicted;  /* live: how sessions ended */
    uint64_t by_severity[3];
    const char *file;
    bool     shown;
    sc_analyzer *an;
    sc_sink *tui;
    sc_sink *evidence;        /* live --evidence: keeps the packets */
    sc_syslog *syslog;        /* --syslog */
    sc_sink *report;          /* the text or JSON sink (per-peer summaries) */
    sc_sink *json_syslog;     /* the JSON sink feeding only --syslog */
    time_t   peers_next;      /* --summary-interval: the next summary */
    uint64_t packets;         /* for pumping the syslog queue while reading */
    const sc_config *cfg;
} progress;

static void progress_session(sc_sink *s, const sc_session_info *si)
{
    (void)si;
    ((progress *)s->priv)->sessions++;
}

static void progress_finding(sc_sink *s, const sc_session_info *si, const sc_finding *f)
{
    progress *p = s->priv;

    (void)si;
    p->findings += sc_finding_count(f);
    if ((unsigned)f->severity < 3)
        p->by_severity[f->severity] += sc_finding_count(f);
}

static void progress_session_end(sc_sink *s, const sc_session_info *si)
{
    progress *p = s->priv;

    if (si->close_how == SC_HOW_CAPTURE_END)
        p->at_end++;
    else if (si->close_how == SC_HOW_TIMEOUT)
        p->timed_out++;
    else if (si->close_how == SC_HOW_EVICTED)
        p->evicted++;
}

/* A message that may carry a file name, through the safe printer. */
static void say_err(const char *what, const char *err)
{
    fprintf(stderr, "smtpscope: %s", what);
    sc_safe_fputstr(stderr, err);
    fputc('\n', stderr);
}

static void progress_show(void *ctx, uint64_t done, uint64_t total)
{
    progress *p = ctx;

    fputc('\r', stderr);
    sc_safe_fputstr(stderr, p->file);
    if (total)
        fprintf(stderr, ": %3d%% (%.1f of %.1f MB), %llu sessions, %llu findings ",
                (int)(done * 100 / total), done / 1e6, total / 1e6,
                (unsigned long long)p->sessions, (unsigned long long)p->findings);
    else
        fprintf(stderr, ": %.1f MB, %llu sessions, %llu findings ",
                done / 1e6, (unsigned long long)p->sessions,
                (unsigned long long)p->findings);
    p->shown = true;
}

/* The progress line goes to stderr when it is a terminal and standard
 * output is a file: not when the report goes to that terminal too (the
 * line would mix with the session headers), nor into a pipe, whose reader
 * (less, head) owns the screen and would have the line drawn over its own
 * or left behind when it exits. */
static bool main_progress_fits(void)
{
    struct stat st;

    return isatty(STDERR_FILENO) && fstat(STDOUT_FILENO, &st) == 0 &&
           (S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) && !isatty(STDOUT_FILENO)));
}

static void progress_clear(progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = false;
}

/* "N:" of --session N:ID, for messages. */
static const char *main_file_prefix(unsigned n)
{
    static char buf[16];
    snprintf(buf, sizeof buf, "%u:", n);
    return buf;
}

static volatile sig_atomic_t main_stop_signal;   /* what ended the capture */
static volatile sig_atomic_t main_stats_wanted;  /* SIGUSR1 */
static volatile sig_atomic_t main_reopen_wanted; /* SIGHUP, live */

/* The per-peer summaries now (SIGUSR1, --summary-interval): into the
 * report and to syslog. */
static void main_peers_now(const progress *p)
{
    const sc_config *cfg = p->cfg;

    if (p->report && cfg->mode == SC_OUT_JSON)
        sc_json_write_peers(p->report);
    else if (p->report && cfg->mode == SC_OUT_TEXT)
        sc_text_write_peers(p->report);
    if (p->json_syslog)
        sc_json_write_peers(p->json_syslog);
}

/* The syslog counters on stderr (SIGUSR1, the end). */
static void main_syslog_print(const progress *p)
{
    char line[512];

    if (!p->syslog)
        return;
    sc_syslog_describe(p->syslog, line, sizeof line);
    fputs("smtpscope: ", stderr);
    sc_safe_fputs(stderr, (const uint8_t *)line, strlen(line));
    fputc('\n', stderr);
}

/* --output FILE: opened for appending (a log file), created mode 0600
 * (the report holds mail addresses and AUTH lines), never through a
 * symbolic link, and made standard output so that every output writes
 * there unchanged. Live, SIGHUP opens the name again: after logrotate has
 * moved the file, a new one. -1 with errno. */
static int main_output_open(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0)
        return -1;
    fflush(stdout);
    if (dup2(fd, STDOUT_FILENO) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    close(fd);
    return 0;
}

/* A report into a file or the null device has no reader waiting for its
 * lines: it leaves in writes of 256 KB, not in stdio's default of the
 * file system's block (4 KB: 9 700 write(2) calls for the JSON of a
 * 300 MB capture of short sessions). A pipe or a terminal keeps stdio's
 * default; the outputs flush it line by line or block by block there
 * (sc_output_is_stream). Errors are caught as before: the outputs check
 * the stream, and the end of the run flushes and checks it. */
static void main_stdout_buffer(void)
{
    static char buf[256 * 1024];

    if (!sc_output_is_stream(stdout))
        (void)setvbuf(stdout, buf, _IOFBF, sizeof buf);
}

/* What the packet hook needs: the syslog queue pumped now and then; and,
 * from a file, SIGUSR1's line. (Packets and bytes are counted by the
 * pipeline, sc_pipeline_stats_add.) */
static void main_on_packet(void *ctx, const sc_packet *pkt)
{
    progress *p = ctx;

    if (p->syslog && (++p->packets & 255) == 0)   /* reconnect, send */
        sc_syslog_pump(p->syslog);
    if (main_stats_wanted && !p->tui) {
        main_stats_wanted = 0;
        progress_clear(p);
        fputs("smtpscope: ", stderr);
        sc_safe_fputs(stderr, (const uint8_t *)p->file, strlen(p->file));
        fprintf(stderr, ": at frame %llu, %llu sessions, %llu findings so far\n",
                (unsigned long long)pkt->frame, (unsigned long long)p->sessions,
                (unsigned long long)p->findings);
        main_syslog_print(p);
        main_peers_now(p);
    }
}

static void main_on_tui_progress(void *ctx, uint64_t done, uint64_t total)
{
    sc_tui_progress(((progress *)ctx)->tui, done, total);
}

/* ---- live mode -------------------------------------------------------- */

/* --evidence live: the packets of each connection are kept by the
 * evidence sink until its session ends (no capture file to cut from). */
static int main_on_live_open(void *ctx, const sc_live_source *src, char *err, size_t errlen)
{
    progress *p = ctx;
    const sc_config *cfg = p->cfg;

    /* Called after -Z: --write-streams files are opened from now on, as
     * that user; a directory it cannot write is refused now rather than
     * once per stream. */
    if (cfg->write_streams && access(cfg->write_streams, W_OK | X_OK) < 0) {
        snprintf(err, errlen, "--write-streams %s: %s%s%s%s", cfg->write_streams,
                 strerror(errno), cfg->drop_user ? " (as -Z user " : "",
                 cfg->drop_user ? cfg->drop_user : "", cfg->drop_user ? ")" : "");
        return -1;
    }
    return p->evidence ? sc_evidence_live_open(p->evidence, src, err, errlen) : 0;
}

static void main_on_conn_packet(void *ctx, const sc_conn *conn, const sc_packet *pkt)
{
    progress *p = ctx;

    if (p->evidence)
        sc_evidence_live_packet(p->evidence, conn->id, pkt);
}

static void main_on_conn_closed(void *ctx, const sc_conn *conn)
{
    progress *p = ctx;

    if (p->evidence)
        sc_evidence_live_closed(p->evidence, conn->id);
}

static void main_on_stop(int sig)
{
    main_stop_signal = sig;
    sc_pipeline_stop();
}

static void main_on_usr1(int sig)
{
    (void)sig;
    main_stats_wanted = 1;
}

static void main_on_hup(int sig)
{
    (void)sig;
    main_reopen_wanted = 1;
}

/* SIGHUP live: --output FILE opened again (logrotate moved it), the
 * syslog connection made anew (the local daemon was restarted). -w is
 * not touched: it rotates itself (-C, -G), as tcpdump's. */
static void main_reopen(progress *p)
{
    const sc_config *cfg = p->cfg;

    main_reopen_wanted = 0;
    if (cfg->output_file) {
        sc_write_check(stdout, cfg->output_file, "the report is incomplete");
        if (main_output_open(cfg->output_file) < 0) {
            char msg[600];
            snprintf(msg, sizeof msg, "%s: %s; writing on to the file open before",
                     cfg->output_file, strerror(errno));
            say_err("--output ", msg);
        }
    }
    if (p->syslog)
        sc_syslog_reopen(p->syslog);
}

/* Without SA_RESTART: a signal must interrupt the blocked read. flags:
 * SA_RESETHAND so that a second signal ends a run that does not stop,
 * SA_RESTART for a signal that must not end the read. */
static void main_signal_set_flags(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void main_signal_set(int sig, void (*fn)(int))
{
    main_signal_set_flags(sig, fn, 0);
}

/* Files: SIGINT, SIGTERM and SIGHUP end the run as the end of the capture
 * would (the read in progress is interrupted: no SA_RESTART); a second
 * one kills. SIGUSR1 writes where the reading is, and the read goes on. */
static void main_file_signals(void)
{
    static const int stop[] = { SIGINT, SIGTERM, SIGHUP };

    for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++)
        main_signal_set_flags(stop[i], main_on_stop, SA_RESETHAND);
    main_signal_set_flags(SIGUSR1, main_on_usr1, SA_RESTART);
}

static const char *main_signal_name(int sig)
{
    switch (sig) {
    case SIGINT:  return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP:  return "SIGHUP";
    default:      return "a signal";
    }
}

/* The statistics of a live capture, on stderr, tcpdump's words first. */
static void main_live_stats_print(const sc_pipeline_stats *st, const progress *p, bool final)
{
    fprintf(stderr, "smtpscope: %llu packets captured, %llu received by filter, "
            "%llu dropped by kernel, %llu dropped by interface\n",
            (unsigned long long)st->packets, (unsigned long long)st->recv,
            (unsigned long long)st->drop, (unsigned long long)st->ifdrop);
    fprintf(stderr, "smtpscope: %llu session%s (%llu %s, %llu closed by idle timeout, "
            "%llu evicted), %llu findings (%llu error, %llu warning, %llu info)\n",
            (unsigned long long)p->sessions, p->sessions == 1 ? "" : "s",
            (unsigned long long)(final ? p->at_end : st->open),
            final ? "open at the end" : "open", (unsigned long long)p->timed_out,
            (unsigned long long)p->evicted, (unsigned long long)p->findings,
            (unsigned long long)p->by_severity[SC_SEV_ERROR],
            (unsigned long long)p->by_severity[SC_SEV_WARNING],
            (unsigned long long)p->by_severity[SC_SEV_INFO]);
    if (st->files_written)
        fprintf(stderr, "smtpscope: %llu packets written to %u file%s\n",
                (unsigned long long)st->written, st->files_written,
                st->files_written == 1 ? "" : "s");
}

/* The live tick: SIGUSR1 statistics, the timeline's turn. */
static int main_on_tick(void *ctx, const sc_pipeline_stats *st)
{
    progress *p = ctx;

    if (main_reopen_wanted)
        main_reopen(p);
    if (p->syslog)
        sc_syslog_pump(p->syslog);
    if (p->tui) {
        int rc = sc_tui_poll(p->tui, 0);
        main_stats_wanted = 0;       /* the screen is the timeline's */
        return rc != 0;
    }
    if (main_stats_wanted) {
        main_stats_wanted = 0;
        main_live_stats_print(st, p, false);
        main_syslog_print(p);
        main_peers_now(p);
    }
    if (p->cfg->summary_interval) {
        time_t now = time(NULL);
        if (!p->peers_next) {
            p->peers_next = now + p->cfg->summary_interval;
        } else if (now >= p->peers_next) {
            p->peers_next = now + p->cfg->summary_interval;
            main_peers_now(p);
        }
    }
    return 0;
}

/* Runs the live capture; returns the exit status so far (0 or 2). */
static int main_live(const sc_config *cfg, sc_analyzer *an, const sc_flow_handler *handler,
                     progress *prog, sc_pipeline_hooks *hooks, sc_pipeline_stats *stats)
{
    char err[512];
    int status = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    main_signal_set(SIGINT, main_on_stop);
    main_signal_set(SIGTERM, main_on_stop);
    main_signal_set_flags(SIGHUP, main_on_hup, SA_RESTART);
    main_signal_set(SIGUSR1, main_on_usr1);
    hooks->progress = NULL;          /* no file to show progress through */
    hooks->tick = main_on_tick;
    hooks->live_open = main_on_live_open;
    hooks->conn_packet = main_on_conn_packet;
    hooks->conn_closed = main_on_conn_closed;
    if (prog->tui && sc_tui_start(prog->tui) < 0)
        return 2;
    memset(stats, 0, sizeof *stats);
    if (sc_pipeline_live(cfg, handler, hooks, stats, err, sizeof err) < 0) {
        if (prog->tui)
            sc_tui_stop(prog->tui);
        sc_analyzer_set_live(an, cfg->iface, 0, 0, 0);
        sc_pipeline_stats_add(&sc_analyzer_fanout(an)->totals, stats);   /* read so far */
        say_err("", err);
        return 2;
    }
    if (prog->tui)
        sc_tui_stop(prog->tui);
    sc_analyzer_set_live(an, cfg->iface, stats->recv, stats->drop, stats->ifdrop);
    sc_pipeline_stats_add(&sc_analyzer_fanout(an)->totals, stats);
    sc_totals_add_frag(&sc_analyzer_fanout(an)->totals, &stats->frag);
    main_live_stats_print(stats, prog, true);
    return status;
}

/* Builds the outputs the options ask for. Returns the count, -1 on error. */
static int main_sinks_build(const sc_config *cfg, sc_syslog *syslog, sc_sink **sinks,
                            sc_sink **evidence, sc_sink **json_syslog, char *err, size_t errlen)
{
    int n = 0;

    switch (cfg->mode) {
    case SC_OUT_JSON:       /* --syslog: the same objects, from one sink */
        sinks[n++] = sc_json_sink_new(cfg, stdout, syslog ? sc_syslog_send : NULL, syslog);
        break;
    case SC_OUT_TUI:
        /* `e` writes the selected session's bundle (src/app/ondemand.c) */
        sinks[n++] = sc_tui_sink_new(cfg);
        if (sinks[n - 1])
            sc_tui_set_evidence(sinks[n - 1], sc_ondemand_evidence, (void *)cfg);
        break;
    case SC_OUT_TEXT:
        sinks[n++] = sc_text_sink_new(cfg, stdout);
        break;
    }
    if (syslog && cfg->mode != SC_OUT_JSON)   /* JSON objects for syslog only */
        *json_syslog = sinks[n++] = sc_json_sink_new(cfg, NULL, sc_syslog_send, syslog);
    for (int i = 0; i < n; i++)
        if (!sinks[i]) {
            snprintf(err, errlen, "cannot set up the output");
            return -1;
        }
    /* Offline timeline: --evidence DIR is where `e` writes, on demand. */
    if (cfg->evidence_dir && !(cfg->mode == SC_OUT_TUI && !cfg->iface)) {
        sinks[n] = sc_evidence_sink_new(cfg, cfg->evidence_dir, err, errlen);
        if (!sinks[n])
            return -1;
        *evidence = sinks[n++];
    }
    if (cfg->html_file && !(sinks[n++] = sc_html_report_new(cfg, cfg->html_file, err, errlen)))
        return -1;
    return n;
}

/* Frees the outputs; the exit status. */
static int main_end(sc_config *cfg, sc_sink **sinks, int nsinks, int status,
                    const sc_totals *totals)
{
    for (int i = 0; i < nsinks; i++)
        if (sinks[i]->destroy)
            sinks[i]->destroy(sinks[i]);
    free(cfg->bpf);
    sc_write_check(stdout, "standard output", "the report is incomplete");

    if (sc_write_failed())
        return SC_EXIT_WRITE;
    if (status == 2)
        return status;
    if (totals->damaged)
        return SC_EXIT_DAMAGED;
    if (status)
        return status;
    for (int s = cfg->fail_on; s <= SC_SEV_ERROR; s++)
        if (totals->by_severity[s])
            return 1;
    return 0;
}

/* --redact=addresses: what the pseudonym table could not promise, said. */
static void main_pseudo_end(void)
{
    if (sc_pseudo_unchecked())
        fprintf(stderr, "smtpscope: --redact=addresses: %llu address%s beyond the table of "
                "%d pseudonyms: not checked against the others for collisions\n",
                (unsigned long long)sc_pseudo_unchecked(),
                sc_pseudo_unchecked() == 1 ? "" : "es", SC_PSEUDO_TABLE_MAX);
    if (sc_pseudo_unmatched())
        fprintf(stderr, "smtpscope: --redact=addresses: %llu IPv6 address literal%s too short "
                "for its pseudonym: hex digits scrambled instead\n",
                (unsigned long long)sc_pseudo_unmatched(),
                sc_pseudo_unmatched() == 1 ? "" : "s");
    sc_pseudo_done();
}

int main(int argc, char **argv)
{
    sc_config cfg;
    sc_action action;
    char err[512];
    sc_sink *sinks[SINKS_MAX] = { NULL };
    int status = 0;

    if (sc_options_parse(argc, argv, &cfg, &action, err, sizeof err) < 0) {
        say_err("", err);
        free(cfg.bpf);
        return 2;
    }
    switch (action) {
    case SC_ACTION_HELP:
        sc_options_usage(stdout);
        return sc_write_check(stdout, "standard output", "") < 0 ? SC_EXIT_WRITE : 0;
    case SC_ACTION_VERSION:
        printf("smtpscope %s\n", SC_VERSION);
        return sc_write_check(stdout, "standard output", "") < 0 ? SC_EXIT_WRITE : 0;
    case SC_ACTION_RULES:
    case SC_ACTION_RULES_MARKDOWN:
        sc_rules_print(stdout, action == SC_ACTION_RULES_MARKDOWN);
        return sc_write_check(stdout, "standard output", "") < 0 ? SC_EXIT_WRITE : 0;
    case SC_ACTION_EXPLAIN:
        sc_explain_print(stdout, cfg.explain, 78);
        return sc_write_check(stdout, "standard output", "") < 0 ? SC_EXIT_WRITE : 0;
    case SC_ACTION_INTERFACES:
        if (sc_capture_list_interfaces(stdout, err, sizeof err) < 0) {
            say_err("", err);
            return 2;
        }
        return sc_write_check(stdout, "standard output", "") < 0 ? SC_EXIT_WRITE : 0;
    case SC_ACTION_RUN:
        break;
    }

    /* libcrypto without the system's openssl.cnf and without its legacy
     * table of every cipher and digest name: what the program asks of it
     * (SHA-1 of the Community ID, SHA-256, HMAC, the TLS ciphers and
     * KDFs) is the same from its default provider whatever the file says,
     * and is found by the provider's own names (EVP_MD_fetch, EVP_sha256()
     * and the like; nothing looks a name up with EVP_get_*byname). Reading
     * the file and copying the table into the provider's names were 3.6 M
     * instructions of every run that uses libcrypto (--json: the Community
     * ID). Here, before any other call to libcrypto, so that every run
     * does the same. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
                        OPENSSL_INIT_NO_ADD_ALL_DIGESTS, NULL);

    /* The pseudonyms' key before anything is read or forked. */
    if (cfg.redact_addresses && sc_pseudo_init(cfg.redact_key, err, sizeof err) < 0) {
        say_err("", err);
        return 2;
    }
    if (cfg.output_file && main_output_open(cfg.output_file) < 0) {
        snprintf(err, sizeof err, "%s: %s", cfg.output_file, strerror(errno));
        say_err("--output ", err);
        return 2;
    }
    main_stdout_buffer();
    sc_syslog *syslog = NULL;
    if (cfg.syslog) {
        char sensor[SC_SENSOR_MAX + 1];
        sc_fmt_sensor(&cfg, sensor, sizeof sensor);
        syslog = sc_syslog_open(cfg.syslog_dest, sensor, (size_t)cfg.syslog_queue_kib * 1024,
                                err, sizeof err);
        if (!syslog) {
            say_err("", err);
            return 2;
        }
        sc_syslog_pump(syslog);      /* connect now, before any packet */
    }
    sc_sink *evidence = NULL, *json_syslog = NULL;
    int nsinks = main_sinks_build(&cfg, syslog, sinks, &evidence, &json_syslog, err, sizeof err);
    if (nsinks < 0) {
        for (int i = 0; i < SINKS_MAX && sinks[i]; i++)
            if (sinks[i]->destroy)
                sinks[i]->destroy(sinks[i]);
        say_err("", err);
        sc_syslog_close(syslog);
        return 2;
    }
    sc_peers *peers = sc_peers_new();
    if (!peers) {
        fprintf(stderr, "smtpscope: out of memory\n");
        return 2;
    }
    progress prog = { .sink = { .session_begin = progress_session,
                                .finding = progress_finding,
                                .session_end = progress_session_end } };
    prog.sink.priv = &prog;
    prog.evidence = cfg.iface ? evidence : NULL;
    prog.cfg = &cfg;
    prog.syslog = syslog;
    sinks[nsinks++] = &prog.sink;
    /* Per-peer summaries: counted by their sink, written by the report's
     * sink and by the JSON sink of --syslog alone. */
    sinks[nsinks++] = sc_peers_sink(peers);
    if (cfg.mode != SC_OUT_TUI) {
        prog.report = sinks[0];
        if (cfg.mode == SC_OUT_JSON)
            sc_json_set_peers(sinks[0], peers);
        else
            sc_text_set_peers(sinks[0], peers);
    }
    prog.json_syslog = json_syslog;
    if (json_syslog)
        sc_json_set_peers(json_syslog, peers);

    bool show_progress = !cfg.quiet && cfg.mode != SC_OUT_TUI && main_progress_fits();
    bool jobs = sc_jobs_usable(&cfg);          /* -j N */
    sc_analyzer *an = sc_analyzer_new(&cfg, sinks, (size_t)nsinks);
    if (!an) {
        fprintf(stderr, "smtpscope: out of memory\n");
        return 2;
    }
    prog.an = an;
    const sc_flow_handler *handler = sc_analyzer_handler(an);
    sc_streams *streams = NULL;
    if (cfg.write_streams) {
        streams = sc_streams_new(cfg.write_streams, handler, err, sizeof err);
        if (!streams) {
            sc_totals none;
            say_err("--write-streams: ", err);
            memset(&none, 0, sizeof none);
            sc_analyzer_free(an);
            int rc = main_end(&cfg, sinks, nsinks, 2, &none);
            sc_peers_free(peers);
            sc_syslog_close(syslog);
            return rc;
        }
        handler = sc_streams_handler(streams);
    }
    sc_sink *tui = cfg.mode == SC_OUT_TUI ? sinks[0] : NULL;
    size_t analysed = 0;          /* inputs analysed, in full or in part */
    prog.tui = tui;
    sc_pipeline_hooks hooks = { .packet = main_on_packet,
                                .progress = show_progress ? progress_show : NULL,
                                .ctx = &prog };
    if (tui && !cfg.quiet)
        hooks.progress = main_on_tui_progress;
    sc_pipeline_stats stats;

    if (cfg.iface) {
        status = main_live(&cfg, an, handler, &prog, &hooks, &stats);
        if (status == 0)
            analysed++;
    } else {
        if (!jobs)              /* -j: the signals end parent and workers */
            main_file_signals();
        /* Several files are one capture, read once in time order; with
         * --separate each is its own, one after the other. */
        size_t runs = cfg.merged ? 1 : cfg.nfiles;
        /* read again later (evidence): each file compared with this reading */
        sc_capture_watch(cfg.files, cfg.nfiles);
        for (size_t i = 0; i < runs && !main_stop_signal; i++) {
            size_t nf = cfg.merged ? cfg.nfiles : 1;
            if (cfg.only_file && runs > 1 && i + 1 != cfg.only_file)
                continue;       /* --session N:ID: only the Nth file is read */
            prog.file = cfg.files[i];
            for (size_t k = 0; k < nf; k++)
                sc_analyzer_set_file(an, cfg.files[i + k]);
            if (streams)    /* names as the evidence's: N-session-ID */
                sc_streams_set_file(streams, runs > 1 ? (unsigned)(i + 1) : 0);
            memset(&stats, 0, sizeof stats);
            uint64_t sessions_before = prog.sessions;
            int rc = jobs ? sc_jobs_file(&cfg, cfg.files[i], sc_analyzer_fanout(an), handler,
                                         &hooks, err, sizeof err)
                          : sc_pipeline_files(&cfg, cfg.files + i, nf, handler, &hooks,
                                              &stats, err, sizeof err);
            progress_clear(&prog);
            if (!jobs) {        /* -j: the workers' counts (jobs.c) */
                sc_pipeline_stats_add(&sc_analyzer_fanout(an)->totals, &stats);
                sc_totals_add_frag(&sc_analyzer_fanout(an)->totals, &stats.frag);
            }
            if (main_stop_signal) {
                fputs("smtpscope: ", stderr);
                sc_safe_fputs(stderr, (const uint8_t *)cfg.files[i], strlen(cfg.files[i]));
                fprintf(stderr, ": stopped by %s after frame %llu%s; the open sessions "
                        "are closed as at the end of the capture\n",
                        main_signal_name(main_stop_signal),
                        (unsigned long long)stats.packets,
                        i + 1 < runs ? ", the files after it are not read" : "");
            } else if (rc != 0) {
                say_err("", err);
                /* ended early (1), or failed after sessions were
                 * reported: the totals say the report is incomplete */
                if (rc > 0 || prog.sessions > sessions_before)
                    sc_analyzer_set_damaged(an, err);
                if (rc < 0)
                    status = 2;
            }
            if (rc >= 0)
                analysed++;
            if (cfg.write_file && rc == 0) {
                char what[64];
                snprintf(what, sizeof what, "%llu packets written to ",
                         (unsigned long long)stats.written);
                say_err(what, cfg.write_file);
            }
        }
        /* --session ID that names no session: said, with its own status */
        if (cfg.only_session && status == 0 && !main_stop_signal && prog.sessions == 0) {
            fprintf(stderr, "smtpscope: --session %s%llu: no such SMTP session in the "
                    "capture (the report without --session lists them)\n",
                    cfg.only_file ? main_file_prefix(cfg.only_file) : "",
                    (unsigned long long)cfg.only_session);
            status = SC_EXIT_NO_SESSION;
        }
    }

    sc_totals totals;
    if (syslog)
        sc_analyzer_fanout(an)->totals.syslog = sc_syslog_counts(syslog);
    /* Nothing could be analysed: the message said it all; no empty
     * report, no all-zero summary. */
    if (status == 2 && analysed == 0 && prog.sessions == 0)
        memset(&totals, 0, sizeof totals);
    else
        sc_analyzer_finish(an, &totals);
    if (syslog) {       /* what is still queued: a few seconds to go */
        sc_syslog_drain(syslog, SYSLOG_DRAIN_MS);
        main_syslog_print(&prog);
        totals.syslog = NULL;
        sc_syslog_close(syslog);
    }
    sc_analyzer_free(an);
    sc_streams_free(streams);
    /* Offline: the timeline opens now. Live: it was on screen during the
     * capture; after Ctrl-C it stays for browsing, after q or SIGTERM not. */
    bool browse = !cfg.iface || (main_stop_signal == SIGINT);
    if (tui && status == 0 && browse) {
        sc_tui_progress_end(tui);
        if (sc_tui_run(tui) < 0)
            status = 2;
    }
    status = main_end(&cfg, sinks, nsinks, status, &totals);
    sc_peers_free(peers);
    main_pseudo_end();
    return status;
}
