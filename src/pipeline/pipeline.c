/*
 * pipeline.c - the packet loop: capture -> link decode -> reassembly ->
 * flow handler, for one capture file or a live interface.
 *
 * Interface: src/pipeline/pipeline.h.
 *
 * Idle connections are expired against packet time (files: a time that
 * one stray timestamp does not move, src/reasm/clock.c) or the clock
 * (live) about once a second, so a long capture or a flood keeps memory
 * bounded. Live mode narrows the kernel filter to SMTP when no BPF
 * expression is given, writes the frames of SMTP connections to
 * cfg->write_file (-w, rotated by dumper.c), drops privileges to
 * cfg->drop_user (-Z) once the interface and -w are open, and calls the
 * tick hook at least every 250 ms, so the caller can print statistics or
 * give the timeline its turn whether packets come or not.
 *
 * Diagnostics: open failures return -1 with "FILE: reason" in err. A read
 * error after the first frame (typically a file cut short while being
 * written) ends the input: the open sessions are closed as at the end of
 * the capture, a warning "smtpscope: FILE: reason (analysed up to frame
 * N)" goes to standard error, and 0 is returned.
 */
#include <errno.h>
#include <grp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "dumper.h"
#include "common/frame.h"
#include "common/safeprint.h"
#include "common/wcheck.h"
#include "pipeline.h"

#define PIPELINE_PROGRESS_EVERY 4096   /* packets between progress calls */

static sc_capture *volatile pipeline_cap;
static volatile sig_atomic_t pipeline_stopped;

void sc_pipeline_stop(void)
{
    sc_capture *cap = pipeline_cap;

    pipeline_stopped = 1;
    if (cap)
        sc_capture_break(cap);
}

typedef struct sc_pipeline {
    const sc_config          *cfg;
    const sc_pipeline_hooks  *hooks;
    /* hooks->packet, packet_done and ctx, read once: called per packet */
    void                    (*on_packet)(void *ctx, const sc_packet *pkt);
    void                    (*on_packet_done)(void *ctx, const sc_packet *pkt);
    void                     *hook_ctx;
    sc_pipeline_stats        *stats;
    sc_reasm                 *reasm;
    sc_capture               *cap;
    sc_dumper                *dump;          /* live -w */
    sc_flow_handler           inner;         /* -w: the caller's handler */
    sc_flow_handler           wrap;          /* -w of a file: inner, and the dumper */
    struct timeval            last_tick;
    int                       fd;            /* live: to poll(), or -1 */
    time_t                    last_expire;
    uint64_t                  last_frame;
    struct timeval            last_ts;
    struct timeval            clock;         /* sc_reasm_clock after the packet */
    char                      filter[2 * SC_PORTS_MAX * 24 + 544]; /* live: in force */
} pipeline_run;

static void pipeline_conn_open(void *ctx, sc_conn *conn);
static void pipeline_conn_event(void *ctx, sc_conn *conn, const sc_flow_event *ev);
static void pipeline_conn_packet(void *ctx, sc_conn *conn, const sc_packet *pkt);

/* (sc_pipeline is the file loop in pieces, for -j: src/pipeline/pipeline.h.) */

static void pipeline_progress(pipeline_run *run)
{
    uint64_t done, total;

    if (!run->hooks || !run->hooks->progress || !run->cap)
        return;
    sc_capture_progress(run->cap, &done, &total);
    run->hooks->progress(run->hooks->ctx, done, total);
}

static void pipeline_expire(pipeline_run *run, struct timeval now)
{
    if (now.tv_sec == run->last_expire)
        return;
    run->last_expire = now.tv_sec;
    sc_reasm_expire(run->reasm, now);
}

/* The hooks, and the two called per packet read once (may be NULL). */
static void pipeline_hooks_take(pipeline_run *run, const sc_pipeline_hooks *hooks)
{
    run->hooks = hooks;
    if (hooks) {
        run->on_packet = hooks->packet;
        run->on_packet_done = hooks->packet_done;
        run->hook_ctx = hooks->ctx;
    }
}

static void pipeline_packet(pipeline_run *run, const sc_packet *pkt)
{
    run->stats->packets++;
    run->stats->bytes += pkt->caplen;
    run->last_frame = pkt->frame;
    run->last_ts = pkt->ts;
    run->clock = sc_reasm_clock(run->reasm, pkt->ts);
    if (run->on_packet)
        run->on_packet(run->hook_ctx, pkt);
    if (pkt->l3)
        sc_reasm_packet(run->reasm, pkt);
    if (run->on_packet_done)
        run->on_packet_done(run->hook_ctx, pkt);
    if (run->stats->packets % PIPELINE_PROGRESS_EVERY == 0)
        pipeline_progress(run);
}

sc_pipeline *sc_pipeline_new(const sc_config *cfg, const sc_flow_handler *h,
                             const sc_pipeline_hooks *hooks, sc_pipeline_stats *stats,
                             char *err, size_t errlen)
{
    pipeline_run *run = calloc(1, sizeof *run);

    if (!run) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    run->cfg = cfg;
    pipeline_hooks_take(run, hooks);
    run->stats = stats;
    memset(stats, 0, sizeof *stats);
    run->inner = *h;
    run->wrap = (sc_flow_handler){ .open = pipeline_conn_open, .event = pipeline_conn_event,
                                   .packet = pipeline_conn_packet, .ctx = run };
    run->reasm = sc_reasm_new(cfg, cfg->write_file && !cfg->iface ? &run->wrap : h,
                              err, errlen);
    if (!run->reasm) {
        free(run);
        return NULL;
    }
    return run;
}

struct timeval sc_pipeline_packet(sc_pipeline *run, const sc_packet *pkt)
{
    pipeline_packet(run, pkt);
    pipeline_expire(run, run->clock);     /* not pkt->ts: clock.c */
    return run->clock;
}

struct timeval sc_pipeline_clock(sc_pipeline *run, struct timeval ts)
{
    return run->clock = sc_reasm_clock(run->reasm, ts);
}

void sc_pipeline_elsewhere(sc_pipeline *run, uint64_t frame, uint64_t ip_frame,
                           struct timeval ts)
{
    run->last_frame = frame;
    run->last_ts = ts;
    sc_reasm_seen(run->reasm, ip_frame);
    pipeline_expire(run, run->clock);     /* sc_pipeline_clock's */
}

/* The reassembler's counts into the stats. */
static void pipeline_counts(pipeline_run *run)
{
    run->stats->frag = *sc_reasm_frag_counts(run->reasm);
    run->stats->chain_dropped = sc_reasm_unanalysed_count(run->reasm, SC_UNANALYSED_V6_CHAIN);
    run->stats->malformed_dropped = sc_reasm_unanalysed_count(run->reasm,
                                                              SC_UNANALYSED_MALFORMED);
}

void sc_pipeline_end(sc_pipeline *run)
{
    if (run->hooks && run->hooks->input_end)
        run->hooks->input_end(run->hooks->ctx);
    sc_reasm_finish(run->reasm, run->last_frame, run->last_ts);
    pipeline_counts(run);
    pipeline_progress(run);
}

void sc_pipeline_share(sc_pipeline *run, int idx, int n)
{
    sc_reasm_share(run->reasm, idx, n);
}

void sc_pipeline_free(sc_pipeline *run)
{
    if (!run)
        return;
    sc_reasm_free(run->reasm);
    sc_dumper_close(run->dump);
    free(run);
}

/* -c COUNT: the input ends after COUNT frames, as if the file did. */
static bool pipeline_count_reached(const pipeline_run *run)
{
    return run->cfg->max_packets && run->stats->packets >= run->cfg->max_packets;
}

/* -w with a file: the reassembler has the caller's handler wrapped
 * (sc_pipeline_new), as live, so that every frame of a followed
 * connection is written (--session: of that session only).
 * A capture whose frames are of several link types (files of different
 * ones, a pcapng whose interfaces differ) is refused before any frame is
 * read (exit status 2): -w writes a classic pcap, as tcpdump does, so that
 * its chains are read back by any tool and by -r F1 F2 ..., and a pcap
 * holds one link type; frames written under another's would be a corrupt
 * file, and a pcapng for these inputs only would make -w's format depend
 * on its input. */
static int pipeline_file_dump(pipeline_run *run, const sc_config *cfg,
                              char *err, size_t errlen)
{
    int linktype, snaplen;

    if (sc_capture_one_link(run->cap, &linktype, &snaplen, err, errlen) < 0)
        return -1;
    run->dump = sc_dumper_open(linktype, snaplen, cfg->write_file, cfg->write_max_bytes,
                               cfg->write_rotate, err, errlen);
    return run->dump ? 0 : -1;
}

int sc_pipeline_read_error(const char *reason, uint64_t last_frame, char *err, size_t errlen)
{
    if (last_frame == 0) {
        snprintf(err, errlen, "%s", reason);
        return -1;
    }
    snprintf(err, errlen, "%s (analysed up to frame %s)", reason, sc_frame_bare(last_frame));
    return 1;
}

int sc_pipeline_capture(const sc_config *cfg, sc_capture *cap, const sc_flow_handler *h,
                        const sc_pipeline_hooks *hooks, sc_pipeline_stats *stats,
                        char *err, size_t errlen)
{
    pipeline_run *run = sc_pipeline_new(cfg, h, hooks, stats, err, errlen);
    sc_packet pkt;
    int rc = 0;

    if (!run)
        return -1;
    run->cap = cap;
    /* -w: the frames of the followed connections, as live */
    if (cfg->write_file && pipeline_file_dump(run, cfg, err, errlen) < 0) {
        sc_pipeline_free(run);
        return -1;
    }
    while (!pipeline_stopped && !pipeline_count_reached(run) &&
           (rc = sc_capture_next(cap, &pkt)) == 1)
        sc_pipeline_packet(run, &pkt);
    /* sc_pipeline_stop (a signal): the input ends here, as if the file
     * did; the read it interrupted fails, and that is no read error.
     * -c COUNT: the input ends after the last packet read (rc 1). */
    if (pipeline_stopped || rc == 1)
        rc = 0;
    if (rc < 0 && (rc = sc_pipeline_read_error(sc_capture_error(cap), run->last_frame,
                                               err, errlen)) < 0) {
        sc_pipeline_free(run);
        return -1;
    }
    sc_pipeline_end(run);
    if (run->dump) {
        stats->written = sc_dumper_packets(run->dump);
        stats->files_written = sc_dumper_files(run->dump);
    }
    sc_pipeline_free(run);
    return rc == 1 ? 1 : 0;
}

int sc_pipeline_file(const sc_config *cfg, const char *path,
                     const sc_flow_handler *h, const sc_pipeline_hooks *hooks,
                     sc_pipeline_stats *stats, char *err, size_t errlen)
{
    return sc_pipeline_files(cfg, &path, 1, h, hooks, stats, err, errlen);
}

int sc_pipeline_files(const sc_config *cfg, const char *const *paths, size_t npaths,
                      const sc_flow_handler *h, const sc_pipeline_hooks *hooks,
                      sc_pipeline_stats *stats, char *err, size_t errlen)
{
    sc_capture *cap = sc_capture_open_files(paths, npaths, cfg->bpf, err, errlen);
    int rc;

    memset(stats, 0, sizeof *stats);
    if (!cap)
        return -1;
    rc = sc_pipeline_capture(cfg, cap, h, hooks, stats, err, errlen);
    sc_capture_close(cap);
    return rc;
}


/* ---- live --------------------------------------------------------------- */

/* The tick hook runs this often, busy or idle. libpcap's read timeout
 * cannot be relied on for that: on Linux (TPACKET rings, libpcap 1.10) a
 * read with no packet coming never returns. So the live handle is made
 * non-blocking and the loop waits in poll() on its descriptor itself. */
#define PIPELINE_TICK_MS     100
#define PIPELINE_FILTER_MAX  (SC_PORTS_MAX * 24 + 256)

/* IP fragments of TCP: a later part carries no ports, so live -w keeps
 * them all as they are read rather than lose part of an SMTP segment (the
 * connection's packet hook then skips them: they are written already). */
static bool pipeline_tcp_fragment(const sc_packet *pkt)
{
    return pkt->l3 && sc_reasm_is_fragment(pkt);
}

/* The flow handler seen by the reassembler in live mode: the analyser's,
 * with -w writing every frame of an SMTP connection on the way. */
static void pipeline_conn_open(void *ctx, sc_conn *conn)
{
    pipeline_run *run = ctx;

    if (run->inner.open)
        run->inner.open(run->inner.ctx, conn);
}

static void pipeline_conn_event(void *ctx, sc_conn *conn, const sc_flow_event *ev)
{
    pipeline_run *run = ctx;

    if (run->inner.event)
        run->inner.event(run->inner.ctx, conn, ev);
    if (ev->kind == SC_FLOW_CLOSE && run->hooks && run->hooks->conn_closed)
        run->hooks->conn_closed(run->hooks->ctx, conn);
}

static void pipeline_conn_packet(void *ctx, sc_conn *conn, const sc_packet *pkt)
{
    pipeline_run *run = ctx;

    if (run->dump && (!run->cfg->only_session || conn->id == run->cfg->only_session) &&
        !(run->cfg->iface && pipeline_tcp_fragment(pkt)))
        sc_dumper_write(run->dump, &pkt->ts, pkt->caplen, pkt->wirelen, pkt->data);
    if (run->hooks && run->hooks->conn_packet)
        run->hooks->conn_packet(run->hooks->ctx, conn, pkt);
    if (run->inner.packet)
        run->inner.packet(run->inner.ctx, conn, pkt);
}

/* Without a BPF expression the kernel keeps what the reassembler can use:
 * TCP on the SMTP ports (all TCP with --any-port) and IPv4 fragments, also
 * under one VLAN tag on Ethernet. A busy gateway then copies its other
 * traffic to nobody, which is what keeps the drop counters at zero. */
static int pipeline_filter_install(const sc_config *cfg, sc_capture *cap, char *expr,
                                   size_t exprlen, char *err, size_t errlen)
{
    char core[PIPELINE_FILTER_MAX];
    size_t n = 0;
    struct bpf_program prog;
    pcap_t *p = sc_capture_pcap(cap);

    if (cfg->bpf)
        return 0;            /* the user's expression, installed at open */
    if (cfg->any_port || cfg->nports == 0)
        n = (size_t)snprintf(core, sizeof core, "tcp");
    else
        for (size_t i = 0; i < cfg->nports && n < sizeof core; i++)
            n += (size_t)snprintf(core + n, sizeof core - n, "%stcp port %u",
                                  i ? " or " : "", (unsigned)cfg->ports[i]);
    if (n >= sizeof core) {
        snprintf(err, errlen, "%s: too many ports for the capture filter", sc_capture_name(cap));
        return -1;
    }
    /* IP fragments: IPv4 with MF or an offset, IPv6 with a fragment
     * header right after the fixed one (the usual place) */
    snprintf(core + n, sizeof core - n, " or (ip[6:2] & 0x3fff != 0) or (ip6[6] == 44)");
    if (sc_capture_linktype(cap) == DLT_EN10MB)
        snprintf(expr, exprlen, "%s or (vlan and (%s))", core, core);
    else
        snprintf(expr, exprlen, "%s", core);
    if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(err, errlen, "%s: cannot compile the capture filter: %s",
                 sc_capture_name(cap), pcap_geterr(p));
        return -1;
    }
    if (pcap_setfilter(p, &prog) < 0) {
        snprintf(err, errlen, "%s: cannot set the capture filter: %s",
                 sc_capture_name(cap), pcap_geterr(p));
        pcap_freecode(&prog);
        return -1;
    }
    pcap_freecode(&prog);
    return 0;
}

/* -Z USER, as tcpdump does it: once the capture (and -w) is open, the
 * supplementary groups, then the group, then the user; then a check that
 * there is no way back. */
static int pipeline_privileges_drop(const char *user, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam(user);

    if (!pw) {
        snprintf(err, errlen, "-Z %s: no such user", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0) {
        snprintf(err, errlen, "-Z %s: cannot set the groups: %s", user, strerror(errno));
        return -1;
    }
    if (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "-Z %s: cannot change user: %s", user, strerror(errno));
        return -1;
    }
    if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
        getgid() != pw->pw_gid || getegid() != pw->pw_gid ||
        (pw->pw_uid != 0 && setuid(0) == 0)) {
        snprintf(err, errlen, "-Z %s: privileges were not dropped", user);
        return -1;
    }
    /* The report's and the evidence's temporary files are made in TMPDIR
     * as the run needs them, now as USER: one made and removed here tells
     * before the first packet, rather than a long transcript later. */
    FILE *t = sc_tmpfile();
    if (!t) {
        const char *dir = getenv("TMPDIR");
        snprintf(err, errlen, "-Z %s: cannot make a temporary file in %s as %s: %s "
                 "(set TMPDIR to a directory %s may write)", user,
                 dir && *dir ? dir : "/tmp", user, strerror(errno), user);
        return -1;
    }
    fclose(t);
    return 0;
}

/* Waits for packets, at most ms milliseconds; a signal cuts it short. */
static void pipeline_wait(pipeline_run *run, int ms)
{
    struct pollfd pfd = { .fd = run->fd, .events = POLLIN };

    if (pipeline_stopped)
        return;
    if (run->fd < 0) {
        usleep((useconds_t)ms * 1000);
        return;
    }
    (void)poll(&pfd, 1, ms);
}

static long pipeline_ms_between(struct timeval a, struct timeval b)
{
    return (long)(b.tv_sec - a.tv_sec) * 1000 + (long)(b.tv_usec - a.tv_usec) / 1000;
}

/* Brings the live counters up to date. */
static void pipeline_stats_update(pipeline_run *run)
{
    sc_pipeline_stats *st = run->stats;

    sc_capture_stats(run->cap, &st->recv, &st->drop, &st->ifdrop);
    st->open = sc_reasm_open_count(run->reasm);
    pipeline_counts(run);
    if (run->dump) {
        st->written = sc_dumper_packets(run->dump);
        st->files_written = sc_dumper_files(run->dump);
    }
}

/* Housekeeping between packets: idle sessions by the clock, -w rotation
 * and flushing, the caller's tick. Returns nonzero to stop. */
static int pipeline_tick(pipeline_run *run, struct timeval now)
{
    run->last_tick = now;
    if (run->dump)
        sc_dumper_tick(run->dump, now.tv_sec);
    if (!run->hooks || !run->hooks->tick)
        return 0;
    pipeline_stats_update(run);
    return run->hooks->tick(run->hooks->ctx, run->stats);
}

int sc_pipeline_live(const sc_config *cfg, const sc_flow_handler *h,
                     const sc_pipeline_hooks *hooks, sc_pipeline_stats *stats,
                     char *err, size_t errlen)
{
    pipeline_run run = { .cfg = cfg, .stats = stats, .inner = *h };

    pipeline_hooks_take(&run, hooks);
    sc_flow_handler wrap = { .open = pipeline_conn_open, .event = pipeline_conn_event,
                             .packet = pipeline_conn_packet, .ctx = &run };
    sc_packet pkt;
    int rc = 0;
    struct timeval now;

    memset(stats, 0, sizeof *stats);
    run.cap = sc_capture_open_live(cfg->iface, cfg->bpf, cfg->buffer_kib, err, errlen);
    if (!run.cap)
        return -1;
    gettimeofday(&now, NULL);
    if (pipeline_filter_install(cfg, run.cap, run.filter, sizeof run.filter, err, errlen) < 0)
        goto fail;
    {
        char perr[PCAP_ERRBUF_SIZE];
        pcap_t *p = sc_capture_pcap(run.cap);

        if (pcap_setnonblock(p, 1, perr) < 0) {
            snprintf(err, errlen, "%s: %s", cfg->iface, perr);
            goto fail;
        }
        run.fd = pcap_get_selectable_fd(p);
    }
    if (cfg->write_file) {
        pcap_t *p = sc_capture_pcap(run.cap);

        run.dump = sc_dumper_open(pcap_datalink(p), pcap_snapshot(p), cfg->write_file,
                                  cfg->write_max_bytes, cfg->write_rotate, err, errlen);
        if (!run.dump)
            goto fail;
    }
    if (cfg->drop_user && pipeline_privileges_drop(cfg->drop_user, err, errlen) < 0)
        goto fail;
    if (hooks && hooks->live_open) {
        pcap_t *p = sc_capture_pcap(run.cap);
        sc_live_source src = { .iface = cfg->iface,
                               .filter = cfg->bpf ? cfg->bpf : run.filter,
                               .linktype = pcap_datalink(p), .snaplen = pcap_snapshot(p),
                               .start = now };
        if (hooks->live_open(hooks->ctx, &src, err, errlen) != 0)
            goto fail;
    }
    run.reasm = sc_reasm_new(cfg, &wrap, err, errlen);
    if (!run.reasm)
        goto fail;
    /* pipeline_stopped is not cleared here: a stop signal that came while
     * the interface was being opened (the handler is installed before)
     * ends the capture before its first packet instead of being lost. */
    pipeline_cap = run.cap;
    gettimeofday(&run.last_tick, NULL);
    while (!pipeline_stopped && !pipeline_count_reached(&run)) {
        rc = sc_capture_next(run.cap, &pkt);
        if (rc == 1) {
            if (run.dump && pipeline_tcp_fragment(&pkt))
                sc_dumper_write(run.dump, &pkt.ts, pkt.caplen, pkt.wirelen, pkt.data);
            pipeline_packet(&run, &pkt);
        } else if (rc == -2) {
            pipeline_wait(&run, PIPELINE_TICK_MS);
        } else {
            break;
        }
        gettimeofday(&now, NULL);
        pipeline_expire(&run, now);
        if (pipeline_ms_between(run.last_tick, now) >= PIPELINE_TICK_MS &&
            pipeline_tick(&run, now) != 0)
            break;
    }
    pipeline_cap = NULL;
    gettimeofday(&now, NULL);
    sc_reasm_finish(run.reasm, run.last_frame, now);
    pipeline_stats_update(&run);
    sc_reasm_free(run.reasm);
    if (rc == -1)
        snprintf(err, errlen, "%s", sc_capture_error(run.cap));
    sc_dumper_close(run.dump);
    sc_capture_close(run.cap);
    return rc == -1 ? -1 : 0;
fail:
    sc_dumper_close(run.dump);
    sc_capture_close(run.cap);
    return -1;
}
