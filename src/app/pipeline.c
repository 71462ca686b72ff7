/*
 * pipeline.c - the packet loop: capture -> link decode -> reassembly ->
 * flow handler, for one capture file or a live interface.
 *
 * Interface: include/pipeline.h.
 *
 * Idle connections are expired against packet time (files) or the clock
 * (live) about once a second, so a long capture or a flood keeps memory
 * bounded. Live mode also writes every frame read to cfg->write_file (-w)
 * and drops privileges to cfg->drop_user (-Z) once the interface is open.
 *
 * Diagnostics: open failures return -1 with "FILE: reason" in err. A read
 * error after the first frame (typically a file cut short while being
 * written) ends the input: the open sessions are closed as at the end of
 * the capture, a warning "smtpscope: FILE: reason (analysed up to frame
 * N)" goes to standard error, and 0 is returned.
 */
#include <grp.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

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

typedef struct pipeline_run {
    const sc_config          *cfg;
    const sc_pipeline_hooks  *hooks;
    sc_pipeline_stats        *stats;
    sc_reasm                 *reasm;
    sc_capture               *cap;
    pcap_dumper_t            *dump;
    time_t                    last_expire;
    uint64_t                  last_frame;
    struct timeval            last_ts;
} pipeline_run;

static void pipeline_progress(pipeline_run *run)
{
    uint64_t done, total;

    if (!run->hooks || !run->hooks->progress)
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

static void pipeline_packet(pipeline_run *run, const sc_packet *pkt)
{
    run->stats->packets++;
    run->stats->bytes += pkt->caplen;
    run->last_frame = pkt->frame;
    run->last_ts = pkt->ts;
    if (run->dump) {
        struct pcap_pkthdr h = { .ts = pkt->ts, .caplen = pkt->caplen, .len = pkt->wirelen };
        pcap_dump((u_char *)run->dump, &h, pkt->data);
    }
    if (run->hooks && run->hooks->packet)
        run->hooks->packet(run->hooks->ctx, pkt);
    if (pkt->l3)
        sc_reasm_packet(run->reasm, pkt);
    if (run->hooks && run->hooks->packet_done)
        run->hooks->packet_done(run->hooks->ctx, pkt);
    if (run->stats->packets % PIPELINE_PROGRESS_EVERY == 0)
        pipeline_progress(run);
}

int sc_pipeline_file(const sc_config *cfg, const char *path,
                     const sc_flow_handler *h, const sc_pipeline_hooks *hooks,
                     sc_pipeline_stats *stats, char *err, size_t errlen)
{
    pipeline_run run = { .cfg = cfg, .hooks = hooks, .stats = stats };
    sc_packet pkt;
    int rc;

    memset(stats, 0, sizeof *stats);
    run.cap = sc_capture_open_file(path, cfg->bpf, err, errlen);
    if (!run.cap)
        return -1;
    run.reasm = sc_reasm_new(cfg, h, err, errlen);
    if (!run.reasm) {
        sc_capture_close(run.cap);
        return -1;
    }
    while ((rc = sc_capture_next(run.cap, &pkt)) == 1) {
        pipeline_packet(&run, &pkt);
        pipeline_expire(&run, pkt.ts);
    }
    if (rc < 0 && run.last_frame == 0) {
        snprintf(err, errlen, "%s", sc_capture_error(run.cap));
        sc_reasm_free(run.reasm);
        sc_capture_close(run.cap);
        return -1;
    }
    if (rc < 0)
        fprintf(stderr, "smtpscope: %s (analysed up to frame %llu)\n",
                sc_capture_error(run.cap), (unsigned long long)run.last_frame);
    if (hooks && hooks->input_end)
        hooks->input_end(hooks->ctx);
    sc_reasm_finish(run.reasm, run.last_frame, run.last_ts);
    pipeline_progress(&run);
    sc_reasm_free(run.reasm);
    sc_capture_close(run.cap);
    return 0;
}

/* -Z USER, as tcpdump does it: after the capture is open. */
static int pipeline_privileges_drop(const char *user, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam(user);

    if (!pw) {
        snprintf(err, errlen, "-Z %s: no such user", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "-Z %s: cannot drop privileges", user);
        return -1;
    }
    return 0;
}

int sc_pipeline_live(const sc_config *cfg, const sc_flow_handler *h,
                     const sc_pipeline_hooks *hooks, sc_pipeline_stats *stats,
                     char *err, size_t errlen)
{
    pipeline_run run = { .cfg = cfg, .hooks = hooks, .stats = stats };
    sc_packet pkt;
    int rc = 0;
    struct timeval now;

    memset(stats, 0, sizeof *stats);
    run.cap = sc_capture_open_live(cfg->iface, cfg->bpf, err, errlen);
    if (!run.cap)
        return -1;
    if (cfg->write_file) {
        run.dump = pcap_dump_open((pcap_t *)sc_capture_pcap(run.cap), cfg->write_file);
        if (!run.dump) {
            snprintf(err, errlen, "%s: %s", cfg->write_file,
                     pcap_geterr((pcap_t *)sc_capture_pcap(run.cap)));
            sc_capture_close(run.cap);
            return -1;
        }
    }
    if (cfg->drop_user && pipeline_privileges_drop(cfg->drop_user, err, errlen) < 0)
        goto fail;
    run.reasm = sc_reasm_new(cfg, h, err, errlen);
    if (!run.reasm)
        goto fail;
    pipeline_stopped = 0;
    pipeline_cap = run.cap;
    while (!pipeline_stopped) {
        rc = sc_capture_next(run.cap, &pkt);
        if (rc == 1)
            pipeline_packet(&run, &pkt);
        else if (rc != -2)
            break;
        gettimeofday(&now, NULL);
        pipeline_expire(&run, now);
        if (run.dump && rc == -2)
            pcap_dump_flush(run.dump);
    }
    pipeline_cap = NULL;
    gettimeofday(&now, NULL);
    sc_reasm_finish(run.reasm, run.last_frame, now);
    sc_reasm_free(run.reasm);
    sc_capture_stats(run.cap, &stats->recv, &stats->drop, &stats->ifdrop);
    if (rc == -1)
        snprintf(err, errlen, "%s", sc_capture_error(run.cap));
    if (run.dump)
        pcap_dump_close(run.dump);
    sc_capture_close(run.cap);
    return rc == -1 ? -1 : 0;
fail:
    if (run.dump)
        pcap_dump_close(run.dump);
    sc_capture_close(run.cap);
    return -1;
}
