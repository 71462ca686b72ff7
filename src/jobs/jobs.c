/*
 * jobs.c - -j N: one capture file analysed by N processes (jobs.h).
 *
 * libnids is global state, so the workers are processes (fork). Each
 * reads the whole file itself and analyses its share of the connections
 * (worker.c); the parent merges their records back into the order and
 * the ids of one process (merge.c), through the wire records of wire.c,
 * into the run's fan-out. The parent reads no packet.
 *
 * One way in: only a plain capture file (sc_capture_rereadable) is
 * split. Standard input can be read only once, and a gzip file would be
 * decompressed by every worker; handing their packets from the parent to
 * the workers through shared-memory rings cost the parent a copy of
 * every frame on top of the reading, and measured no faster than one
 * process (docs/performance.md): they are analysed by this process, as
 * without -j.
 *
 * The parent takes worker 0's counts, read error and progress, and
 * refuses a run where the workers read different frames (the file
 * changed under them).
 *
 * --max-sessions is shared out: each worker follows at most its N-th
 * part of the cap, so the run's memory stays that of the cap and each
 * worker's libnids table, set up at start, is an N-th as large; each
 * evicts among its own connections, so the output differs from a single
 * process only when the cap is reached (or nearly: the hash shares
 * connections out evenly, not exactly); likewise idle expiry on a
 * capture whose timestamps go backwards.
 *
 * Diagnostics: a file that cannot be read is reported once, as without
 * -j; "FILE: -j: a worker failed" when a worker dies or its records are
 * broken (the others are killed); "FILE: -j: the file changed while it
 * was read" when the workers saw different frames. Both: -1 (exit 2).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobs.h"
#include "merge.h"
#include "worker.h"

#define PIPE_SIZE (1 << 20)

bool sc_jobs_usable(const sc_config *cfg)
{
    /* Several files read as one capture (cfg->merged) are one process:
     * the merge orders records by frame, and the frames of files that
     * overlap in time do not grow in the order they are read. */
    /* -c and -w follow the packets in file order: one process too. So
     * does --redact=addresses: its table of pseudonyms is one. */
    return cfg->jobs > 1 && !cfg->iface && cfg->nfiles > 0 && cfg->mode != SC_OUT_TUI &&
           !cfg->write_streams && !cfg->merged && !cfg->max_packets && !cfg->write_file &&
           !cfg->redact_addresses;
}

/* Forks worker i of n, which writes to the pipe whose read end goes into
 * fds[i] (the read ends of the workers before it closed in the child).
 * Returns its pid, or -1 with errno. */
static pid_t jobs_fork(const sc_config *cfg, const char *path, const sc_capture *cap,
                       int i, int n, int *fds)
{
    int p[2];
    pid_t parent = getpid(), pid;

    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        static char obuf[1 << 20];
        FILE *out;

        /* The parent gone, nobody reads: end with it. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(3);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        close(p[0]);
        for (int k = 0; k < i; k++)
            close(fds[k]);
        if (!(out = fdopen(p[1], "w")))
            _exit(3);
        setvbuf(out, obuf, _IOFBF, sizeof obuf);
        jobs_worker_main(cfg, path, cap, i, n, out);
    }
    close(p[1]);
    fds[i] = p[0];
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fcntl(p[0], F_SETPIPE_SZ, PIPE_SIZE);   /* fewer wake-ups; the default when refused */
    return pid;
}

/* Waits for the workers; kills them first when the run has failed.
 * False when one did not end well. */
static bool jobs_reap(const pid_t *pid, int n, bool failed)
{
    bool ok = !failed;

    for (int i = 0; i < n; i++)
        if (pid[i] > 0 && failed)
            kill(pid[i], SIGKILL);
    for (int i = 0; i < n; i++) {
        int ws;

        if (pid[i] <= 0)
            continue;
        while (waitpid(pid[i], &ws, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
            ok = false;
    }
    return ok;
}

/* What the workers read: worker 0's, when every worker read the same. */
static int jobs_result(jobs_merge *m, int n, const sc_capture *cap, const char *path,
                       sc_fanout *fan, const sc_pipeline_hooks *hooks, char *err, size_t errlen)
{
    const wire_eos *rd = jobs_merge_eos(m, 0);

    for (int i = 1; i < n; i++)
        if (jobs_merge_eos(m, i)->packets != rd->packets ||
            jobs_merge_eos(m, i)->bytes != rd->bytes) {
            snprintf(err, errlen, "%s: -j: the file changed while it was read", path);
            return -1;
        }
    for (int i = 0; i < n; i++)   /* each worker's share of the connections */
        fan->totals.not_smtp += jobs_merge_eos(m, i)->not_smtp;
    fan->totals.packets += rd->packets;
    fan->totals.bytes += rd->bytes;
    fan->totals.chain_dropped += rd->chain_dropped;
    fan->totals.malformed_dropped += rd->malformed_dropped;
    sc_totals_add_frag(&fan->totals, &rd->frag);   /* the same in every worker */
    if (hooks && hooks->progress) {
        uint64_t done, total;

        sc_capture_progress(cap, &done, &total);
        hooks->progress(hooks->ctx, total, total);
    }
    if (rd->failed)
        return sc_pipeline_read_error(rd->err, rd->last_frame, err, errlen);
    return 0;
}

int sc_jobs_file(const sc_config *cfg, const char *path, sc_fanout *fan,
                 const sc_flow_handler *h, const sc_pipeline_hooks *hooks,
                 char *err, size_t errlen)
{
    sc_capture *cap = sc_capture_open_file(path, cfg->bpf, err, errlen);
    int n = cfg->jobs, rc = 0;
    pid_t *pid;
    int *fds;
    jobs_merge *m = NULL;
    bool failed = false;

    if (!cap)
        return -1;
    if (!sc_capture_rereadable(cap)) {
        sc_pipeline_stats stats = { 0 };

        rc = sc_pipeline_capture(cfg, cap, h, hooks, &stats, err, errlen);
        sc_pipeline_stats_add(&fan->totals, &stats);
        sc_capture_close(cap);
        return rc;
    }
    pid = calloc((size_t)n, sizeof *pid);
    fds = calloc((size_t)n, sizeof *fds);
    if (!pid || !fds) {
        free(pid);
        free(fds);
        sc_capture_close(cap);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    fflush(NULL);                 /* nothing buffered is written twice */
    for (int i = 0; i < n && !failed; i++)
        if ((pid[i] = jobs_fork(cfg, path, cap, i, n, fds)) < 0) {
            fprintf(stderr, "smtpscope: -j: %s\n", strerror(errno));
            for (int k = 0; k < i; k++)
                close(fds[k]);
            failed = true;
        }
    if (!failed && !(m = jobs_merge_new(cfg, n, fds, fan, path, hooks))) {
        for (int k = 0; k < n; k++)
            close(fds[k]);
        failed = true;
    }
    if (m && !jobs_merge_run(m))
        failed = true;
    if (!failed)
        rc = jobs_result(m, n, cap, path, fan, hooks, err, errlen);
    /* a worker that failed once records were merged: what was merged
     * stands, and the analysis is incomplete (1, as a damaged capture) */
    if (!jobs_reap(pid, n, failed)) {
        snprintf(err, errlen, "%s: -j: a worker failed; the analysis is incomplete", path);
        rc = m ? 1 : -1;
    }
    jobs_merge_free(m);
    free(pid);
    free(fds);
    sc_capture_close(cap);
    return rc;
}
