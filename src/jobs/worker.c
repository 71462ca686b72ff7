/*
 * worker.c - one -j worker (worker.h).
 *
 * The worker reads the whole capture file itself, from its start (a
 * plain file: reading a GB through a 1 MB buffer costs about 0.12 s of
 * CPU), and keeps the frames of its share: sc_reasm_route, a symmetric
 * hash of the addresses and ports, so it sees whole connections, both
 * directions (IP fragments go to every worker, see reasm.c). It checks
 * it opened the very file the parent did (device and inode).
 *
 * It runs the ordinary pipeline and analyser on its frames
 * (sc_pipeline_packet) with one sink, which writes every record (session
 * begin, transcript line, finding, session end) to the parent, plus two
 * records of its own: a connection opened, a connection closed (wire.h).
 *
 * The clock. Idle expiry runs at every packet whose second on the clock
 * expiry goes by (packet time that a lone outlier does not move,
 * src/reasm/clock.c) differs from the previous packet's, and the connections it closes end at the frame
 * of the latest IP packet; the open connections close at the last frame
 * and time of the file. For a frame another worker follows, the worker
 * feeds the clock and expires when its second is new
 * (sc_pipeline_elsewhere), and at the end it stands at the file's last
 * frame and time: every worker expires at the same packets, with the
 * same frames, as one process.
 *
 * The key of each record (merge.c puts the workers' records in order by
 * it): during the reassembly of frame F, (F, 0); while idle connections
 * are expired after frame F, (F, the frame of the connection's last
 * packet), which is the single process's expiry order (least recently
 * active first); at the end of the input, (max, the connection's first
 * frame), its closing order (by id). A frame belongs to one connection,
 * hence to one worker, so keys of different workers never tie, and each
 * worker's records come in key order. Every JOBS_MARK_EVERY frames it
 * writes a mark, "all my later records have keys beyond frame F", with
 * how far it has read; its last record says what it read in all (frames,
 * bytes, the read error).
 *
 * --max-sessions: the worker follows at most its N-th part of the cap
 * (jobs.c says why). Its ids are its own (the parent numbers them).
 */
#include <string.h>
#include <unistd.h>

#include "pipeline/pipeline.h"
#include "session/session.h"
#include "wire.h"
#include "worker.h"

enum { PHASE_PACKET, PHASE_EXPIRE, PHASE_END };

typedef struct worker {
    sc_sink          sink;
    FILE            *out;
    wire_buf         b;
    wire_rec         rec;           /* the record being written */
    bool             failed;
    sc_flow_handler  inner, h;
    int              phase;
    uint64_t         drive, sub;    /* the key of the next records */
} worker;

/* Writes w->rec with type and the current key. */
static void worker_write(worker *w, int type)
{
    w->rec.type = type;
    w->rec.drive = w->drive;
    w->rec.sub = w->sub;
    if (!wire_put(&w->b, &w->rec) || fwrite(w->b.p, 1, w->b.len, w->out) != w->b.len)
        w->failed = true;
}

/* ---- the sink: the analyser's records ---- */

static void worker_session_begin(sc_sink *k, const sc_session_info *si)
{
    worker *w = k->priv;

    w->rec.info = *si;
    worker_write(w, W_BEGIN);
}

static void worker_line(sc_sink *k, const sc_session_info *si, const sc_line *l)
{
    worker *w = k->priv;

    w->rec.id = si->id;
    w->rec.line = *l;
    worker_write(w, W_LINE);
}

static void worker_finding(sc_sink *k, const sc_session_info *si, const sc_finding *f)
{
    worker *w = k->priv;

    w->rec.info = *si;
    w->rec.finding = *f;
    worker_write(w, W_FINDING);
}

static void worker_session_end(sc_sink *k, const sc_session_info *si)
{
    worker *w = k->priv;

    w->rec.info = *si;
    worker_write(w, W_END);
}

/* ---- the flow handler around the analyser's: connections, keys ---- */

static void worker_open(void *ctx, sc_conn *conn)
{
    worker *w = ctx;

    w->rec.id = conn->id;
    worker_write(w, W_OPEN);
    if (w->inner.open)
        w->inner.open(w->inner.ctx, conn);
}

static void worker_event(void *ctx, sc_conn *conn, const sc_flow_event *ev)
{
    worker *w = ctx;

    if (w->phase == PHASE_EXPIRE)
        w->sub = conn->last_frame;
    else if (w->phase == PHASE_END)
        w->sub = conn->first_frame;
    if (w->inner.event)
        w->inner.event(w->inner.ctx, conn, ev);
    if (ev->kind == SC_FLOW_CLOSE) {
        w->rec.id = conn->id;
        worker_write(w, W_CLOSE);
    }
}

static void worker_packet(void *ctx, sc_conn *conn, const sc_packet *pkt)
{
    worker *w = ctx;

    if (w->inner.packet)
        w->inner.packet(w->inner.ctx, conn, pkt);
}

static void worker_on_packet(void *ctx, const sc_packet *pkt)
{
    worker *w = ctx;

    w->phase = PHASE_PACKET;
    w->drive = pkt->frame;
    w->sub = 0;
}

static void worker_on_packet_done(void *ctx, const sc_packet *pkt)
{
    (void)pkt;
    ((worker *)ctx)->phase = PHASE_EXPIRE;
}

static void worker_on_input_end(void *ctx)
{
    worker *w = ctx;

    w->phase = PHASE_END;
    w->drive = UINT64_MAX;
}

/* ---- reading ---- */

/* A frame another worker follows: the clock advances when its second is
 * new, as the frame itself would advance it. */
static void worker_elsewhere(worker *w, sc_pipeline *p, const sc_packet *pkt,
                             uint64_t ip_frame)
{
    w->phase = PHASE_EXPIRE;
    w->drive = pkt->frame;
    sc_pipeline_elsewhere(p, pkt->frame, ip_frame, pkt->ts);
}

/* A mark: every record written after this one has a key beyond frame. */
static void worker_mark(worker *w, const sc_capture *cap, uint64_t frame)
{
    w->drive = frame;
    w->sub = 0;
    sc_capture_progress(cap, &w->rec.mark.done, &w->rec.mark.total);
    worker_write(w, W_MARK);
    if (fflush(w->out) != 0)
        w->failed = true;
}

/* Reads the file: the frames of share idx are analysed; for the others
 * the clock advances. What was read goes into eos. */
static void worker_read(worker *w, sc_pipeline *p, const sc_config *cfg, const sc_capture *orig,
                        const char *path, int idx, int n, wire_eos *eos)
{
    sc_capture *cap = sc_capture_open_file(path, cfg->bpf, eos->err, sizeof eos->err);
    sc_packet pkt, last;
    uint64_t ip_frame = 0;
    time_t sec = 0;
    struct timeval now;
    int rc;

    if (!cap || !sc_capture_same_file(orig, cap)) {
        sc_capture_close(cap);
        w->failed = true;
        return;
    }
    memset(&last, 0, sizeof last);
    while (!w->failed && (rc = sc_capture_next(cap, &pkt)) == 1) {
        int to = sc_reasm_route(cfg, &pkt, n);

        if (pkt.l3)
            ip_frame = pkt.frame;
        eos->packets++;
        eos->bytes += pkt.caplen;
        if (to == SC_ROUTE_NONE) {
            switch (sc_reasm_unanalysed(&pkt)) {
            case SC_UNANALYSED_V6_CHAIN:    eos->chain_dropped++; break;
            case SC_UNANALYSED_MALFORMED:   eos->malformed_dropped++; break;
            case SC_UNANALYSED_NONE:        break;
            }
        }
        /* the clock idle expiry goes by, not pkt.ts (src/reasm/clock.c) */
        if (to == idx || to == SC_ROUTE_ALL)
            now = sc_pipeline_packet(p, &pkt);
        else if ((now = sc_pipeline_clock(p, pkt.ts)).tv_sec != sec)
            worker_elsewhere(w, p, &pkt, ip_frame);
        sec = now.tv_sec;
        last = pkt;
        if (eos->packets % JOBS_MARK_EVERY == 0)
            worker_mark(w, cap, pkt.frame);
    }
    if (!w->failed) {
        eos->last_frame = last.frame;
        eos->failed = rc < 0;
        if (rc < 0)
            snprintf(eos->err, sizeof eos->err, "%s", sc_capture_error(cap));
        worker_elsewhere(w, p, &last, ip_frame);    /* the end of the file */
    }
    sc_capture_close(cap);
}

_Noreturn void jobs_worker_main(const sc_config *cfg, const char *path, const sc_capture *orig,
                                int idx, int n, FILE *out)
{
    sc_config c = *cfg;
    worker w;
    sc_sink *sinks[1];
    sc_pipeline_stats stats;
    char err[512] = "";
    wire_eos eos;

    memset(&w, 0, sizeof w);
    memset(&eos, 0, sizeof eos);
    c.jobs = 1;
    c.only_session = 0;           /* ids are the parent's: it filters */
    if (c.max_sessions)           /* its share of the cap */
        c.max_sessions = (c.max_sessions + (uint64_t)n - 1) / (uint64_t)n;
    w.out = out;
    w.sink = (sc_sink){ .session_begin = worker_session_begin, .line = worker_line,
                        .finding = worker_finding, .session_end = worker_session_end,
                        .priv = &w };
    sinks[0] = &w.sink;
    sc_analyzer *an = sc_analyzer_new(&c, sinks, 1);
    if (!an)
        _exit(3);
    sc_analyzer_set_file(an, path);
    w.inner = *sc_analyzer_handler(an);
    w.h = (sc_flow_handler){ .open = worker_open, .event = worker_event,
                             .packet = worker_packet, .ctx = &w };
    sc_pipeline_hooks hooks = { .packet = worker_on_packet, .packet_done = worker_on_packet_done,
                                .input_end = worker_on_input_end, .ctx = &w };
    sc_pipeline *p = sc_pipeline_new(&c, &w.h, &hooks, &stats, err, sizeof err);
    if (!p)
        _exit(3);
    sc_pipeline_share(p, idx, n);
    worker_read(&w, p, &c, orig, path, idx, n, &eos);
    if (w.failed)
        _exit(3);
    sc_pipeline_end(p);
    eos.frag = stats.frag;
    sc_pipeline_free(p);
    sc_totals tot;
    sc_analyzer_finish(an, &tot);
    sc_analyzer_free(an);
    eos.not_smtp = tot.not_smtp;

    w.drive = w.sub = UINT64_MAX;
    w.rec.eos = eos;
    worker_write(&w, W_EOS);
    if (fflush(out) != 0 || w.failed)
        _exit(3);
    _exit(0);
}
