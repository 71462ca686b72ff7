/*
 * workers.c - -j N: one capture file analysed by N processes, the report
 * byte for byte the one a single process writes.
 *
 * Interface: workers.h.
 *
 * libnids is global state, so the workers are processes (fork). Each
 * keeps the packets of its share: sc_reasm_route, a symmetric hash of the
 * addresses and ports, so a worker sees whole connections, both
 * directions (IPv4 fragments go to every worker, see reasm.c). Two ways
 * to get them there:
 *
 *  - A plain capture file (sc_capture_rereadable) is read by every worker
 *    itself, from the start, and each drops what is not its own. Reading
 *    a GB through a 1 MB buffer costs about 0.12 s of CPU; handing every
 *    packet over from one reader cost the reader more than that (a copy
 *    into shared memory) and made it the bottleneck. The worker checks it
 *    opened the very file the parent did (device and inode), and each
 *    reports what it read in its last record: the parent takes worker 0's
 *    counts, read error and progress, and refuses a run where the workers
 *    read different frames (the file changed under them).
 *  - Standard input and gzip files can be read only once, or are costly to
 *    decompress N times: the parent reads them, decodes each packet just
 *    enough to route it and copies it into that worker's ring (ring.h,
 *    shared memory) with its frame number, time stamp and lengths.
 *
 * A worker runs the ordinary pipeline and analyser on its packets
 * (sc_pipeline_packet) with one sink, which writes every record (session
 * begin, transcript line, finding, session end) to a pipe to the parent,
 * plus two records of its own: a connection opened, a connection closed.
 *
 * The clock. Idle expiry runs at every packet whose second differs from
 * the previous packet's, and the connections it closes end at the frame
 * of the latest IP packet; the open connections close at the last frame
 * and time of the file. A worker that sees a share of the packets would
 * see other seconds and frames, so for each packet another worker follows
 * the clock advances when the second changes (sc_pipeline_elsewhere: a
 * clock message from the parent, or the worker's own reading), and at the
 * end it stands at the file's last frame and time: every worker expires
 * at the same packets, with the same frames, as one process.
 *
 * The merge runs while the workers work. Two things make it exact:
 *
 *  - Order. Each record carries a key: during the reassembly of frame F,
 *    (F, 0); while idle connections are expired after frame F, (F, the
 *    frame of the connection's last packet), which is the single
 *    process's expiry order (least recently active first); at the end of
 *    the input, (max, the connection's first frame), its closing order
 *    (by id). A frame belongs to one connection, hence to one worker, so
 *    keys of different workers never tie, and each worker's records come
 *    in key order. A worker also writes a mark after each batch of input
 *    it has finished: "all my later records have keys beyond frame F"
 *    (at least every MERGE_EVERY frames, for every worker, so marks
 *    advance for all of them). The parent replays the
 *    smallest head record as soon as every worker either has a head
 *    record or has marked beyond it.
 *  - Session ids. Ids count connections in order of first packet across
 *    all of them. Workers number only their own; the parent numbers the
 *    "opened" records as they come out of the merge, which is that order,
 *    and rewrites the id of every record (a map of the open connections,
 *    dropped at "closed": memory follows concurrent connections).
 *
 * --session ID is applied by the parent on the merged ids, and the totals
 * are counted from the replayed records, as the analyser counts them; the
 * packet and byte counts are those of the process that read every frame.
 *
 * Memory is bounded: a ring per worker when the parent feeds them
 * (RING_TOTAL shared among them), and at most PENDING_MAX bytes of a
 * worker's records waiting in the parent for the others (beyond that the
 * parent stops reading that pipe and the worker stops; a worker reading
 * the file itself waits on its pipe while the others go on; a worker fed
 * by the parent lets its ring fill, and the parent, before it waits for
 * room, hands every other worker what it has read, so the others catch up
 * and the waiting records go out).
 *
 * Limits: --max-sessions is shared out, each worker following at most
 * its N-th part of the cap (so the run's memory stays that of the cap,
 * and each worker's libnids table, set up at start, is an N-th as large)
 * and evicting among its own connections: the output differs from a
 * single process only when the cap is reached (or nearly: the hash
 * shares connections out evenly, not exactly); likewise idle expiry on a
 * capture whose timestamps go backwards.
 *
 * Diagnostics: a file that cannot be read is reported once, as without
 * -j; "smtpscope: FILE: -j: a worker failed" when a worker dies or its
 * records are broken (the others are killed; exit 2); "FILE: -j: the
 * file changed while it was read" when workers reading it themselves saw
 * different frames (exit 2).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../output/idmap.h"
#include "pipeline.h"
#include "ring.h"
#include "session.h"
#include "workers.h"

enum { W_OPEN = 1, W_CLOSE, W_BEGIN, W_LINE, W_FINDING, W_END, W_MARK, W_EOS };
enum { W_PHASE_PACKET, W_PHASE_EXPIRE, W_PHASE_END };

#define W_NIL      UINT64_MAX     /* a NULL pointer in a record */
#define W_EXT_MAX  64
#define W_TXN_MAX  16
#define W_RCPT_MAX 16
#define W_RANGE_MAX 64
#define W_REC_MAX  (16u << 20)    /* no record is near this: a broken file */

bool sc_workers_usable(const sc_config *cfg)
{
    /* Several files read as one capture (cfg->merged) are one process:
     * the merge below orders records by frame, and the frames of files
     * that overlap in time do not grow in the order they are read. */
    return cfg->jobs > 1 && !cfg->iface && cfg->nfiles > 0 && cfg->mode != SC_OUT_TUI &&
           !cfg->write_streams && !cfg->merged;
}

/* ---- records: [u32 length][u8 type][u64 key.drive][u64 key.sub] fields --- */

typedef struct wbuf {
    uint8_t *p;
    size_t   len, cap;
    bool     oom;
} wbuf;

static void wbuf_put(wbuf *b, const void *v, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, v, n);
    b->len += n;
}

static void wbuf_u64(wbuf *b, uint64_t v)
{
    wbuf_put(b, &v, sizeof v);
}

static void wbuf_bytes(wbuf *b, const uint8_t *p, size_t n)
{
    if (!p) {
        wbuf_u64(b, W_NIL);
        return;
    }
    wbuf_u64(b, n);
    wbuf_put(b, p, n);
}

static void wbuf_str(wbuf *b, const char *s)
{
    wbuf_bytes(b, (const uint8_t *)s, s ? strlen(s) + 1 : 0);   /* with its NUL */
}

static void wbuf_tv(wbuf *b, struct timeval tv)
{
    wbuf_u64(b, (uint64_t)tv.tv_sec);
    wbuf_u64(b, (uint64_t)tv.tv_usec);
}

static void wbuf_ep(wbuf *b, const sc_endpoint *ep)
{
    wbuf_u64(b, (uint64_t)ep->family);
    wbuf_put(b, ep->addr, sizeof ep->addr);
    wbuf_u64(b, ep->port);
}

static void wbuf_info(wbuf *b, const sc_session_info *si)
{
    wbuf_u64(b, si->id);
    wbuf_ep(b, &si->client);
    wbuf_ep(b, &si->server);
    wbuf_tv(b, si->start);
    wbuf_tv(b, si->end);
    wbuf_u64(b, si->first_frame);
    wbuf_u64(b, si->last_frame);
    wbuf_u64(b, si->frames);
    wbuf_u64(b, si->bytes_c2s);
    wbuf_u64(b, si->bytes_s2c);
    wbuf_u64(b, si->handshake_seen);
    wbuf_u64(b, si->tls);
    wbuf_u64(b, si->next);
    for (size_t i = 0; i < si->next; i++)
        wbuf_bytes(b, si->extensions[i].p, si->extensions[i].len);
    wbuf_u64(b, si->close_by);
    wbuf_u64(b, si->close_how);
    wbuf_u64(b, si->c2s_after_server_fin);
    wbuf_str(b, si->close_after);
    wbuf_u64(b, si->ntxn);
    wbuf_u64(b, si->ntxn_kept);
    for (size_t i = 0; i < si->ntxn_kept; i++) {
        const sc_txn *t = &si->txn[i];
        wbuf_bytes(b, t->mail_from.p, t->mail_from.len);
        wbuf_u64(b, t->nrcpt);
        wbuf_u64(b, t->nrcpt_kept);
        for (size_t k = 0; k < t->nrcpt_kept; k++)
            wbuf_bytes(b, t->rcpt_to[k].p, t->rcpt_to[k].len);
        wbuf_u64(b, t->result);
        wbuf_bytes(b, t->reply.p, t->reply.len);
        wbuf_u64(b, t->content_bytes);
    }
    wbuf_u64(b, si->nredact);
    for (size_t i = 0; i < si->nredact; i++) {
        wbuf_u64(b, si->redact[i].dir);
        wbuf_u64(b, si->redact[i].start);
        wbuf_u64(b, si->redact[i].end);
    }
    for (int i = 0; i < 3; i++)
        wbuf_u64(b, si->findings[i]);
}

/* ---- sizes and pacing ---------------------------------------------------- */

#define RING_TOTAL   (64u << 20)   /* the rings of all the workers together */
#define RING_MIN     (1u << 20)
#define RING_MAX     (8u << 20)
#define RING_BATCH   (256u << 10)  /* a worker's messages are published this many bytes at a time */
#define RING_KEEP    128           /* room kept behind each message for a mark */
#define PACKET_MAX   (RING_MIN / 4)
#define MERGE_EVERY  4096          /* frames between marks sent to every worker */
#define PENDING_MAX  (4u << 20)    /* a worker's records held back by the merge */
#define READ_CHUNK   (256u << 10)
#define PIPE_SIZE    (1 << 20)

/* ---- routing: the same in the parent and in a worker reading the file -- */

/* Who follows each packet, and when the others' clock advances. */
typedef struct wroute {
    time_t   sec;          /* the second of the previous packet */
    uint64_t ip_frame;     /* the latest frame with an IP header */
} wroute;

/* The worker that follows pkt (0 to n - 1, SC_ROUTE_ALL for a fragment,
 * SC_ROUTE_NONE); *tick is true when pkt's second is new, which is when
 * the workers that do not take it must advance their clocks. */
static int wroute_next(wroute *r, const sc_config *cfg, const sc_packet *pkt, int n, bool *tick)
{
    if (pkt->l3)
        r->ip_frame = pkt->frame;
    *tick = pkt->ts.tv_sec != r->sec;
    r->sec = pkt->ts.tv_sec;
    return sc_reasm_route(cfg, pkt, n);
}

static bool wroute_takes(int to, int i)
{
    return to == i || to == SC_ROUTE_ALL;
}

/* ---- the worker ---------------------------------------------------------- */

typedef struct worker {
    sc_sink          sink;
    FILE            *out;
    wbuf             b;
    bool             failed;
    sc_flow_handler  inner, h;
    int              phase;
    uint64_t         drive, sub;
} worker;

static void worker_rec_begin(worker *w, int type)
{
    uint32_t len = 0;
    uint8_t t = (uint8_t)type;

    w->b.len = 0;
    wbuf_put(&w->b, &len, sizeof len);
    wbuf_put(&w->b, &t, 1);
    wbuf_u64(&w->b, w->drive);
    wbuf_u64(&w->b, w->sub);
}

static void worker_rec_end(worker *w)
{
    uint32_t len;

    if (w->b.oom || w->b.len > W_REC_MAX) {
        w->failed = true;
        return;
    }
    len = (uint32_t)(w->b.len - sizeof len);
    memcpy(w->b.p, &len, sizeof len);
    if (fwrite(w->b.p, 1, w->b.len, w->out) != w->b.len)
        w->failed = true;
}

static void worker_session_begin(sc_sink *k, const sc_session_info *si)
{
    worker *w = k->priv;

    worker_rec_begin(w, W_BEGIN);
    wbuf_info(&w->b, si);
    worker_rec_end(w);
}

static void worker_line(sc_sink *k, const sc_session_info *si, const sc_line *l)
{
    worker *w = k->priv;

    worker_rec_begin(w, W_LINE);
    wbuf_u64(&w->b, si->id);              /* the id alone: see replay_line */
    wbuf_u64(&w->b, l->frame);
    wbuf_tv(&w->b, l->ts);
    wbuf_u64(&w->b, l->dir);
    wbuf_u64(&w->b, l->kind);
    wbuf_bytes(&w->b, l->text, l->len);
    wbuf_u64(&w->b, l->seq);
    worker_rec_end(w);
}

static void worker_finding(sc_sink *k, const sc_session_info *si, const sc_finding *f)
{
    worker *w = k->priv;

    worker_rec_begin(w, W_FINDING);
    wbuf_info(&w->b, si);
    wbuf_u64(&w->b, f->rule->id);
    wbuf_u64(&w->b, f->side);
    wbuf_u64(&w->b, f->severity);
    wbuf_u64(&w->b, f->frame);
    wbuf_tv(&w->b, f->ts);
    wbuf_u64(&w->b, f->after_line);
    wbuf_str(&w->b, f->message);
    wbuf_u64(&w->b, f->nevidence);
    for (size_t i = 0; i < f->nevidence; i++) {
        wbuf_u64(&w->b, f->evidence[i].frame);
        wbuf_u64(&w->b, f->evidence[i].dir);
        wbuf_bytes(&w->b, f->evidence[i].text, f->evidence[i].len);
    }
    wbuf_u64(&w->b, f->suppressed);
    wbuf_u64(&w->b, f->suppressed_first);
    worker_rec_end(w);
}

static void worker_session_end(sc_sink *k, const sc_session_info *si)
{
    worker *w = k->priv;

    worker_rec_begin(w, W_END);
    wbuf_info(&w->b, si);
    worker_rec_end(w);
}

static void worker_conn_rec(worker *w, int type, uint64_t id)
{
    worker_rec_begin(w, type);
    wbuf_u64(&w->b, id);
    worker_rec_end(w);
}

static void worker_open(void *ctx, sc_conn *conn)
{
    worker *w = ctx;

    worker_conn_rec(w, W_OPEN, conn->id);
    if (w->inner.open)
        w->inner.open(w->inner.ctx, conn);
}

static void worker_event(void *ctx, sc_conn *conn, const sc_flow_event *ev)
{
    worker *w = ctx;

    if (w->phase == W_PHASE_EXPIRE)
        w->sub = conn->last_frame;
    else if (w->phase == W_PHASE_END)
        w->sub = conn->first_frame;
    if (w->inner.event)
        w->inner.event(w->inner.ctx, conn, ev);
    if (ev->kind == SC_FLOW_CLOSE)
        worker_conn_rec(w, W_CLOSE, conn->id);
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

    w->phase = W_PHASE_PACKET;
    w->drive = pkt->frame;
    w->sub = 0;
}

static void worker_on_packet_done(void *ctx, const sc_packet *pkt)
{
    (void)pkt;
    ((worker *)ctx)->phase = W_PHASE_EXPIRE;
}

static void worker_on_input_end(void *ctx)
{
    worker *w = ctx;

    w->phase = W_PHASE_END;
    w->drive = UINT64_MAX;
}

/* ---- what the parent hands a worker ------------------------------------- */

/* One ring message: a header, and for M_PACKET the frame's bytes. */
enum { M_PACKET = 1, M_CLOCK, M_MARK, M_END };

typedef struct wmsg {
    uint32_t kind;
    uint32_t caplen, wirelen;
    uint32_t l3_off, l3_len;         /* l3_off W_NO_L3: no IP header */
    int32_t  ipver;
    uint64_t frame;
    uint64_t ip_frame;               /* M_CLOCK, M_END: the latest IP packet's */
    int64_t  sec, usec;
} wmsg;

#define W_NO_L3 UINT32_MAX

/* The packet a message carries; false when the message is broken. */
static bool worker_msg_packet(const wmsg *m, const uint8_t *data, size_t len, int linktype,
                              sc_packet *pkt)
{
    if (len - sizeof *m < m->caplen)
        return false;
    memset(pkt, 0, sizeof *pkt);
    pkt->frame = m->frame;
    pkt->ts.tv_sec = (time_t)m->sec;
    pkt->ts.tv_usec = (suseconds_t)m->usec;
    pkt->caplen = m->caplen;
    pkt->wirelen = m->wirelen;
    pkt->linktype = linktype;
    pkt->data = data;
    if (m->l3_off != W_NO_L3) {
        if (m->l3_off > m->caplen || m->l3_len > m->caplen - m->l3_off)
            return false;
        pkt->l3 = data + m->l3_off;
        pkt->l3_len = m->l3_len;
        pkt->ipver = m->ipver;
    }
    return true;
}

/* A mark: the batch is done, its ring space goes back, and every record
 * written after this one will have a key beyond frame. */
static void worker_mark_write(worker *w, uint64_t frame, uint64_t done, uint64_t total)
{
    w->drive = frame;
    w->sub = 0;
    worker_rec_begin(w, W_MARK);
    wbuf_u64(&w->b, done);
    wbuf_u64(&w->b, total);
    worker_rec_end(w);
    if (fflush(w->out) != 0)
        w->failed = true;
}

static void worker_mark(worker *w, sc_ring *ring, uint64_t frame)
{
    sc_ring_release(ring);
    worker_mark_write(w, frame, 0, 0);
}

/* One message of the parent's; false at the end of the input. */
static bool worker_msg(worker *w, sc_pipeline *p, sc_ring *ring, int linktype,
                       const uint8_t *msg, size_t len)
{
    wmsg m;
    sc_packet pkt;
    struct timeval ts;

    if (len < sizeof m) {
        w->failed = true;
        return false;
    }
    memcpy(&m, msg, sizeof m);
    ts.tv_sec = (time_t)m.sec;
    ts.tv_usec = (suseconds_t)m.usec;
    switch (m.kind) {
    case M_PACKET:
        if (!worker_msg_packet(&m, msg + sizeof m, len, linktype, &pkt)) {
            w->failed = true;
            return false;
        }
        sc_pipeline_packet(p, &pkt);
        return true;
    case M_CLOCK:
    case M_END:
        w->phase = W_PHASE_EXPIRE;
        w->drive = m.frame;
        sc_pipeline_elsewhere(p, m.frame, m.ip_frame, ts);
        return m.kind == M_CLOCK;
    case M_MARK:
        worker_mark(w, ring, m.frame);
        return !w->failed;
    default:
        w->failed = true;
        return false;
    }
}

/* The worker's input from the ring: until M_END. */
static void worker_from_ring(worker *w, sc_pipeline *p, sc_ring *ring, int linktype)
{
    bool more = true;

    while (more && !w->failed) {
        size_t len;
        const uint8_t *msg = sc_ring_next(ring, &len);

        if (!msg)
            sc_ring_wait(ring);
        else
            more = worker_msg(w, p, ring, linktype, msg, len);
    }
}

/* How a worker that read the file itself found it (its end-of-stream
 * record carries it; the parent reports worker 0's). */
typedef struct wread {
    uint64_t packets, bytes, last_frame;
    int64_t  rc;                     /* sc_capture_next's last: 0 or -1 */
    char     err[512];
} wread;

/* The worker's input from the file itself (a rereadable one): every
 * frame is read, those of worker idx's share (sc_reasm_route, as the
 * parent would route them) are analysed, and for the others it does what
 * the parent's clock message would: the clock advances when a frame's
 * second is new. A mark goes out every MERGE_EVERY frames. */
static void worker_from_file(worker *w, sc_pipeline *p, const sc_config *cfg,
                             const sc_capture *orig, const char *path, int idx, int n,
                             wread *rd)
{
    sc_capture *cap = sc_capture_open_file(path, cfg->bpf, rd->err, sizeof rd->err);
    sc_packet pkt;
    wroute route = { 0, 0 };
    uint64_t done, total;
    struct timeval last_ts = { 0, 0 };
    bool tick;
    int rc;

    if (!cap || !sc_capture_same_file(orig, cap)) {
        sc_capture_close(cap);
        w->failed = true;
        return;
    }
    while (!w->failed && (rc = sc_capture_next(cap, &pkt)) == 1) {
        int to = wroute_next(&route, cfg, &pkt, n, &tick);

        rd->packets++;
        rd->bytes += pkt.caplen;
        if (wroute_takes(to, idx)) {
            sc_pipeline_packet(p, &pkt);
        } else if (tick) {
            w->phase = W_PHASE_EXPIRE;
            w->drive = pkt.frame;
            sc_pipeline_elsewhere(p, pkt.frame, route.ip_frame, pkt.ts);
        }
        rd->last_frame = pkt.frame;
        last_ts = pkt.ts;
        if (rd->packets % MERGE_EVERY == 0) {
            sc_capture_progress(cap, &done, &total);
            worker_mark_write(w, pkt.frame, done, total);
        }
    }
    if (!w->failed) {
        rd->rc = rc < 0 ? -1 : 0;
        if (rc < 0)
            snprintf(rd->err, sizeof rd->err, "%s", sc_capture_error(cap));
        w->phase = W_PHASE_EXPIRE;            /* the parent's M_END */
        w->drive = rd->last_frame;
        sc_pipeline_elsewhere(p, rd->last_frame, route.ip_frame, last_ts);
    }
    sc_capture_close(cap);
}

/* The child: analyses what the parent hands it through ring, or, without
 * a ring, worker idx's share of the file it reads itself (orig is the
 * parent's capture of it); writes the records to out. Never returns. */
static void worker_main(const sc_config *cfg, const char *path, const sc_capture *orig,
                        int idx, int n, sc_ring *ring, FILE *out)
{
    sc_config c = *cfg;
    worker w;
    sc_sink *sinks[1];
    sc_pipeline_stats stats;
    char err[512] = "";
    wread rd;

    memset(&w, 0, sizeof w);
    memset(&rd, 0, sizeof rd);
    c.jobs = 1;
    c.only_session = 0;           /* ids are the parent's: it filters */
    if (c.max_sessions)           /* its share of the cap (see the header) */
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
    if (ring)
        worker_from_ring(&w, p, ring, sc_capture_linktype(orig));
    else
        worker_from_file(&w, p, &c, orig, path, idx, n, &rd);
    if (w.failed)
        _exit(3);
    sc_pipeline_end(p);
    sc_pipeline_free(p);
    sc_analyzer_finish(an, NULL);
    sc_analyzer_free(an);

    w.drive = w.sub = UINT64_MAX;
    worker_rec_begin(&w, W_EOS);
    wbuf_u64(&w.b, rd.packets);
    wbuf_u64(&w.b, rd.bytes);
    wbuf_u64(&w.b, rd.last_frame);
    wbuf_u64(&w.b, (uint64_t)rd.rc);
    wbuf_str(&w.b, rd.err);
    worker_rec_end(&w);
    if (fflush(out) != 0 || w.failed)
        _exit(3);
    _exit(0);
}

/* ---- the parent: reading ----------------------------------------------- */

typedef struct winfo {
    sc_session_info info;
    sc_bytes        ext[W_EXT_MAX];
    sc_txn          txn[W_TXN_MAX];
    sc_bytes        rcpt[W_TXN_MAX][W_RCPT_MAX];
    sc_range        redact[W_RANGE_MAX];
} winfo;

/* The record being replayed: its fields are read from pos to end. */
typedef struct wreader {
    const uint8_t *pos, *end;
    bool           bad;
    int            type;
    uint64_t       drive, sub;
} wreader;

static uint64_t rd_u64(wreader *r)
{
    uint64_t v = 0;

    if ((size_t)(r->end - r->pos) < sizeof v) {
        r->bad = true;
        r->pos = r->end;
        return 0;
    }
    memcpy(&v, r->pos, sizeof v);
    r->pos += sizeof v;
    return v;
}

static sc_bytes rd_bytes(wreader *r)
{
    sc_bytes b = { NULL, 0 };
    uint64_t n = rd_u64(r);

    if (n == W_NIL || r->bad)
        return b;
    if (n > (uint64_t)(r->end - r->pos)) {
        r->bad = true;
        r->pos = r->end;
        return b;
    }
    b.p = r->pos;
    b.len = (size_t)n;
    r->pos += n;
    return b;
}

static const char *rd_str(wreader *r)
{
    sc_bytes b = rd_bytes(r);

    if (!b.p)
        return NULL;
    if (b.len == 0 || b.p[b.len - 1] != '\0') {
        r->bad = true;
        return "";
    }
    return (const char *)b.p;
}

static struct timeval rd_tv(wreader *r)
{
    struct timeval tv;

    tv.tv_sec = (time_t)rd_u64(r);
    tv.tv_usec = (suseconds_t)rd_u64(r);
    return tv;
}

static void rd_ep(wreader *r, sc_endpoint *ep)
{
    ep->family = (int)rd_u64(r);
    if ((size_t)(r->end - r->pos) < sizeof ep->addr) {
        r->bad = true;
        return;
    }
    memcpy(ep->addr, r->pos, sizeof ep->addr);
    r->pos += sizeof ep->addr;
    ep->port = (uint16_t)rd_u64(r);
}

/* Counts read beyond what winfo holds are read and dropped (never occurs:
 * the analyser keeps fewer). */
static void rd_info(wreader *r, winfo *wi)
{
    sc_session_info *si = &wi->info;
    uint64_t n;

    memset(si, 0, sizeof *si);
    si->id = rd_u64(r);
    rd_ep(r, &si->client);
    rd_ep(r, &si->server);
    si->start = rd_tv(r);
    si->end = rd_tv(r);
    si->first_frame = rd_u64(r);
    si->last_frame = rd_u64(r);
    si->frames = rd_u64(r);
    si->bytes_c2s = rd_u64(r);
    si->bytes_s2c = rd_u64(r);
    si->handshake_seen = rd_u64(r) != 0;
    si->tls = rd_u64(r) != 0;
    n = rd_u64(r);
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        sc_bytes b = rd_bytes(r);
        if (i < W_EXT_MAX)
            wi->ext[si->next++] = b;
    }
    si->extensions = wi->ext;
    si->close_by = (sc_close_by)rd_u64(r);
    si->close_how = (sc_close_how)rd_u64(r);
    si->c2s_after_server_fin = rd_u64(r);
    si->close_after = rd_str(r);
    si->ntxn = (size_t)rd_u64(r);
    n = rd_u64(r);
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        sc_txn t;
        uint64_t nr;
        memset(&t, 0, sizeof t);
        t.mail_from = rd_bytes(r);
        t.nrcpt = (size_t)rd_u64(r);
        nr = rd_u64(r);
        for (uint64_t k = 0; k < nr && !r->bad; k++) {
            sc_bytes b = rd_bytes(r);
            if (i < W_TXN_MAX && k < W_RCPT_MAX)
                wi->rcpt[i][t.nrcpt_kept++] = b;
        }
        t.result = (sc_txn_result)rd_u64(r);
        t.reply = rd_bytes(r);
        t.content_bytes = rd_u64(r);
        if (i < W_TXN_MAX) {
            t.rcpt_to = wi->rcpt[i];
            wi->txn[si->ntxn_kept++] = t;
        }
    }
    si->txn = wi->txn;
    n = rd_u64(r);
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        sc_range g;
        g.dir = (sc_dir)rd_u64(r);
        g.start = rd_u64(r);
        g.end = rd_u64(r);
        if (i < W_RANGE_MAX)
            wi->redact[si->nredact++] = g;
    }
    si->redact = wi->redact;
    for (int i = 0; i < 3; i++)
        si->findings[i] = rd_u64(r);
}

/* ---- the parent: replay ------------------------------------------------- */

typedef struct replay {
    const sc_config *cfg;
    sc_sink        **sinks;
    size_t           nsinks;
    sc_totals       *totals;
    sc_idmap        *ids;        /* worker-local key -> global id */
    uint64_t         next_id;
    int              n;
    const char      *file;
    winfo            wi;
} replay;

static uint64_t replay_key(const replay *p, int w, uint64_t local)
{
    return local * (uint64_t)p->n + (uint64_t)w;
}

/* A transcript line. It is the most frequent record (every content line
 * with --show-content), and carries its session's id alone, not the whole
 * session info: the outputs -j feeds (text, evidence) file a line under
 * the session's id and read nothing else of the info (the timeline, which
 * would, is never split). */
static bool replay_line(replay *p, int w, wreader *r)
{
    sc_session_info si;
    sc_line l;
    sc_bytes t;
    uint64_t gid = (uint64_t)(uintptr_t)sc_idmap_get(p->ids, replay_key(p, w, rd_u64(r)));

    memset(&l, 0, sizeof l);
    l.frame = rd_u64(r);
    l.ts = rd_tv(r);
    l.dir = (sc_dir)rd_u64(r);
    l.kind = (sc_line_kind)rd_u64(r);
    t = rd_bytes(r);
    l.text = t.p;
    l.len = t.len;
    l.seq = rd_u64(r);
    if (!gid || r->bad)
        return false;
    if (p->cfg->only_session && gid != p->cfg->only_session)
        return true;
    memset(&si, 0, sizeof si);
    si.id = gid;
    si.capture_file = p->file;
    for (size_t i = 0; i < p->nsinks; i++)
        if (p->sinks[i]->line)
            p->sinks[i]->line(p->sinks[i], &si, &l);
    return true;
}

/* One record of worker w, in merged order. Returns false on a broken one. */
static bool replay_record(replay *p, int w, wreader *r)
{
    uint64_t gid;
    sc_finding f;

    switch (r->type) {
    case W_OPEN:
        gid = ++p->next_id;
        return sc_idmap_put(p->ids, replay_key(p, w, rd_u64(r)), (void *)(uintptr_t)gid) == 0 &&
               !r->bad;
    case W_CLOSE:
        sc_idmap_del(p->ids, replay_key(p, w, rd_u64(r)));
        return !r->bad;
    case W_BEGIN: case W_LINE: case W_FINDING: case W_END:
        break;
    default:
        return false;
    }
    if (r->type == W_LINE)
        return replay_line(p, w, r);
    rd_info(r, &p->wi);
    gid = (uint64_t)(uintptr_t)sc_idmap_get(p->ids, replay_key(p, w, p->wi.info.id));
    if (!gid || r->bad)
        return false;
    if (p->cfg->only_session && gid != p->cfg->only_session)
        return true;
    p->wi.info.id = gid;
    p->wi.info.capture_file = p->file;
    const sc_session_info *si = &p->wi.info;
    switch (r->type) {
    case W_BEGIN:
        p->totals->sessions++;
        for (size_t i = 0; i < p->nsinks; i++)
            if (p->sinks[i]->session_begin)
                p->sinks[i]->session_begin(p->sinks[i], si);
        break;
    case W_FINDING: {
        uint64_t id = rd_u64(r);
        memset(&f, 0, sizeof f);
        if (id >= SC_RULE_COUNT)
            return false;
        f.rule = &sc_rules[id];
        f.side = (sc_side)rd_u64(r);
        f.severity = (sc_severity)rd_u64(r);
        f.frame = rd_u64(r);
        f.ts = rd_tv(r);
        f.after_line = rd_u64(r);
        const char *m = rd_str(r);
        snprintf(f.message, sizeof f.message, "%s", m ? m : "");
        uint64_t ne = rd_u64(r);
        for (uint64_t i = 0; i < ne && !r->bad; i++) {
            sc_evidence e;
            e.frame = rd_u64(r);
            e.dir = (sc_dir)rd_u64(r);
            sc_bytes t = rd_bytes(r);
            e.text = t.p;
            e.len = t.len;
            if (i < SC_EVIDENCE_MAX)
                f.evidence[f.nevidence++] = e;
        }
        f.suppressed = rd_u64(r);
        f.suppressed_first = rd_u64(r);
        if (r->bad || f.severity > SC_SEV_ERROR)
            return false;
        p->totals->by_rule[f.rule->id] += sc_finding_count(&f);
        p->totals->by_severity[f.severity] += sc_finding_count(&f);
        for (size_t i = 0; i < p->nsinks; i++)
            if (p->sinks[i]->finding)
                p->sinks[i]->finding(p->sinks[i], si, &f);
        break;
    }
    case W_END:
        for (size_t i = 0; i < p->nsinks; i++)
            if (p->sinks[i]->session_end)
                p->sinks[i]->session_end(p->sinks[i], si);
        break;
    }
    return true;
}

/* ---- the parent: the workers ------------------------------------------- */


typedef struct wproc {
    pid_t     pid;
    sc_ring  *ring;
    int       fd;              /* its records; -1 after end of file */
    uint8_t  *in;              /* records read; [start, end) not yet replayed */
    size_t    start, end, cap;
    bool      head;            /* rd is the first record */
    wreader   rd;
    uint64_t  mark;            /* its later records have keys beyond this frame */
    uint64_t  decided;         /* the last frame it was given or told about
                                  (the others' may be one frame ahead: a
                                  mark must not pass a frame not yet sent) */
    uint64_t  marked;          /* the frame of the last mark sent to it */
    bool      ended;           /* M_END sent */
    bool      eos;             /* its end-of-stream record was read */
    uint64_t  done, total;     /* reading itself: its progress (marks) */
    wread     read;            /* reading itself: its end-of-stream record */
} wproc;

typedef struct jobs {
    const sc_config *cfg;
    int              n;
    wproc           *w;
    struct pollfd   *pfd;
    int             *pidx;
    replay           rp;
    bool             broken;
    bool             self;      /* the workers read the file themselves */
    const sc_pipeline_hooks *hooks;
    wroute           route;
} jobs;

/* ---- records coming back ---- */

static uint32_t jobs_len_at(const wproc *w, size_t at)
{
    uint32_t len;

    memcpy(&len, w->in + at, sizeof len);
    return len;
}

/* True when worker w's first record is complete (then w->rd is it). */
static bool jobs_head(jobs *J, wproc *w)
{
    uint32_t len;
    const uint8_t *p;

    if (w->head)
        return true;
    if (w->end - w->start < sizeof len)
        return false;
    len = jobs_len_at(w, w->start);
    if (len < 17 || len > W_REC_MAX) {
        J->broken = true;
        return false;
    }
    if (w->end - w->start - sizeof len < len)
        return false;
    p = w->in + w->start + sizeof len;
    memset(&w->rd, 0, sizeof w->rd);
    w->rd.type = p[0];
    w->rd.pos = p + 1;
    w->rd.end = p + len;
    w->rd.drive = rd_u64(&w->rd);
    w->rd.sub = rd_u64(&w->rd);
    w->head = true;
    return true;
}

static void jobs_pop(wproc *w)
{
    w->start += sizeof(uint32_t) + jobs_len_at(w, w->start);
    w->head = false;
}

/* After end of file: the worker exited as it should when what it wrote
 * ends with its end-of-stream record; otherwise it died. */
static bool jobs_ended_well(const wproc *w)
{
    size_t at = w->start;
    int last = 0;

    if (w->eos)
        return true;
    while (w->end - at >= sizeof(uint32_t)) {
        uint32_t len = jobs_len_at(w, at);
        if (len < 17 || len > W_REC_MAX || w->end - at - sizeof len < len)
            return false;
        last = w->in[at + sizeof len];
        at += sizeof len + len;
    }
    return at == w->end && last == W_EOS;
}

/* Reads what worker i has written (one read). Returns true when there
 * may be more. */
static bool jobs_read(jobs *J, int i)
{
    wproc *w = &J->w[i];
    ssize_t got;
    size_t room;

    /* What waits is moved to the front only when it is no larger than
     * what was replayed before it: each byte is moved about once. */
    if (w->start && (w->start == w->end ||
                     (w->cap - w->end < READ_CHUNK && w->end - w->start <= w->start))) {
        memmove(w->in, w->in + w->start, w->end - w->start);
        w->end -= w->start;
        w->start = 0;
        w->head = false;                    /* rd pointed into the old place */
    }
    if (w->cap - w->end < READ_CHUNK) {
        size_t cap = w->cap * 2 > w->end + READ_CHUNK ? w->cap * 2 : w->end + READ_CHUNK;
        uint8_t *p = realloc(w->in, cap);
        if (!p) {
            J->broken = true;
            return false;
        }
        w->in = p;
        w->cap = cap;
        w->head = false;
    }
    room = w->cap - w->end;
    got = read(w->fd, w->in + w->end, room);
    if (got > 0) {
        w->end += (size_t)got;
        return (size_t)got == room;
    }
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    close(w->fd);
    w->fd = -1;
    if (!jobs_ended_well(w))
        J->broken = true;
    return false;
}

/* Worker i may read: its pipe is open and what waits of it in the merge
 * is under PENDING_MAX (or not even one whole record). */
static bool jobs_readable(jobs *J, int i)
{
    wproc *w = &J->w[i];

    return w->fd >= 0 && (w->end - w->start < PENDING_MAX || !jobs_head(J, w));
}

/* A mark of worker i: its later records have keys beyond its frame. A
 * worker that reads the file itself says how far it has read: worker
 * 0's progress is the run's. */
static void jobs_mark(jobs *J, int i, wreader *r)
{
    wproc *w = &J->w[i];

    w->mark = r->drive;
    w->done = rd_u64(r);
    w->total = rd_u64(r);
    if (r->bad)
        J->broken = true;
    else if (J->self && i == 0 && J->hooks && J->hooks->progress)
        J->hooks->progress(J->hooks->ctx, w->done, w->total);
}

/* A worker's end-of-stream record: what it read (reading itself). */
static void jobs_eos(jobs *J, wproc *w, wreader *r)
{
    const char *e;

    w->eos = true;
    w->read.packets = rd_u64(r);
    w->read.bytes = rd_u64(r);
    w->read.last_frame = rd_u64(r);
    w->read.rc = (int64_t)rd_u64(r);
    e = rd_str(r);
    snprintf(w->read.err, sizeof w->read.err, "%s", e ? e : "");
    if (r->bad)
        J->broken = true;
}

/* Replays every record that is known to come next: the smallest head
 * record, once each other worker has a head record or has marked beyond
 * its frame. */
static void jobs_merge(jobs *J)
{
    while (!J->broken) {
        int best = -1;

        for (int i = 0; i < J->n; i++) {
            wproc *w = &J->w[i];

            while (!w->eos && jobs_head(J, w) && (w->rd.type == W_MARK || w->rd.type == W_EOS)) {
                if (w->rd.type == W_MARK)
                    jobs_mark(J, i, &w->rd);
                else
                    jobs_eos(J, w, &w->rd);
                jobs_pop(w);
            }
            if (w->eos || !w->head)
                continue;
            if (best < 0 || w->rd.drive < J->w[best].rd.drive ||
                (w->rd.drive == J->w[best].rd.drive && w->rd.sub < J->w[best].rd.sub))
                best = i;
        }
        if (best < 0 || J->broken)
            return;
        for (int j = 0; j < J->n; j++)
            if (!J->w[j].eos && !J->w[j].head && J->w[best].rd.drive > J->w[j].mark)
                return;
        if (!replay_record(&J->rp, best, &J->w[best].rd)) {
            J->broken = true;
            return;
        }
        jobs_pop(&J->w[best]);
    }
}

/* Reads from the workers (waiting up to timeout ms, -1: until one
 * writes) and replays what can go. A worker whose records wait for the
 * others beyond PENDING_MAX is not read from until they have gone. */
static void jobs_pump(jobs *J, int timeout)
{
    int k = 0;

    jobs_merge(J);
    for (int i = 0; i < J->n; i++)
        if (jobs_readable(J, i)) {
            J->pfd[k] = (struct pollfd){ .fd = J->w[i].fd, .events = POLLIN };
            J->pidx[k++] = i;
        }
    if (k == 0) {
        if (timeout)                /* waiting for what can never come */
            J->broken = true;
        return;
    }
    if (poll(J->pfd, (nfds_t)k, timeout) <= 0)
        return;
    for (int j = 0; j < k && !J->broken; j++)
        if (J->pfd[j].revents)
            while (jobs_read(J, J->pidx[j]) && !J->broken && jobs_readable(J, J->pidx[j]))
                ;
    jobs_merge(J);
}

/* ---- packets going out ---- */

/* Makes worker i's messages visible, after a mark: it will have done all
 * frames up to the one it was last told about. */
static void jobs_publish(jobs *J, int i)
{
    wproc *w = &J->w[i];

    if (!w->ended && (w->decided != w->marked || sc_ring_unpublished(w->ring))) {
        wmsg *m = sc_ring_reserve(w->ring, sizeof *m, 0);
        if (m) {                    /* room was kept for it */
            memset(m, 0, sizeof *m);
            m->kind = M_MARK;
            m->frame = w->decided;
            sc_ring_commit(w->ring);
            w->marked = w->decided;
        }
    }
    sc_ring_publish(w->ring);
}

static void jobs_publish_all(jobs *J)
{
    for (int i = 0; i < J->n; i++)
        jobs_publish(J, i);
}

/* Room for len bytes in worker i's ring. While there is none, everything
 * read so far goes out to every worker (so that their marks can pass the
 * records that wait in the merge) and the workers' records are read.
 * NULL when the workers failed. */
static void *jobs_reserve(jobs *J, int i, size_t len, size_t keep)
{
    wproc *w = &J->w[i];

    if (len > PACKET_MAX + sizeof(wmsg)) {
        J->broken = true;
        return NULL;
    }
    for (;;) {
        void *p = sc_ring_reserve(w->ring, len, keep);

        if (p || J->broken)
            return p;
        if (w->fd < 0) {            /* it has exited: room will never come */
            J->broken = true;
            return NULL;
        }
        jobs_publish_all(J);
        jobs_pump(J, -1);
    }
}

/* A message to worker i: pkt itself (M_PACKET), or its frame and time. */
static void jobs_send(jobs *J, int i, int kind, const sc_packet *pkt)
{
    size_t len = sizeof(wmsg) + (kind == M_PACKET ? pkt->caplen : 0);
    uint8_t *p = jobs_reserve(J, i, len, kind == M_END ? 0 : RING_KEEP);
    wmsg m;

    if (!p)
        return;
    memset(&m, 0, sizeof m);
    m.kind = (uint32_t)kind;
    m.frame = pkt->frame;
    m.ip_frame = J->route.ip_frame;
    m.sec = (int64_t)pkt->ts.tv_sec;
    m.usec = (int64_t)pkt->ts.tv_usec;
    m.l3_off = W_NO_L3;
    if (kind == M_PACKET) {
        m.caplen = pkt->caplen;
        m.wirelen = pkt->wirelen;
        if (pkt->l3) {
            m.l3_off = (uint32_t)(pkt->l3 - pkt->data);
            m.l3_len = pkt->l3_len;
            m.ipver = pkt->ipver;
        }
        memcpy(p + sizeof m, pkt->data, pkt->caplen);
    }
    memcpy(p, &m, sizeof m);
    sc_ring_commit(J->w[i].ring);
    if (kind == M_END)
        J->w[i].ended = true;
}

/* One packet read: to the worker that follows it (to all, for a
 * fragment), a clock message to the others when its second is new to
 * them. */
static void jobs_route(jobs *J, const sc_packet *pkt)
{
    bool tick;
    int to = wroute_next(&J->route, J->cfg, pkt, J->n, &tick);

    for (int i = 0; i < J->n && !J->broken; i++) {
        wproc *w = &J->w[i];

        if (wroute_takes(to, i))
            jobs_send(J, i, M_PACKET, pkt);
        else if (tick)
            jobs_send(J, i, M_CLOCK, pkt);
        w->decided = pkt->frame;
        if (sc_ring_unpublished(w->ring) >= RING_BATCH)
            jobs_publish(J, i);
    }
}

/* Reads the capture to its end and hands it out; then the workers end.
 * Returns 0, or -1 with the reason in err when not a frame could be read
 * (as sc_pipeline_file). */
static int jobs_feed(jobs *J, sc_capture *cap, const sc_pipeline_hooks *hooks,
                     sc_totals *totals, char *err, size_t errlen)
{
    sc_packet pkt, last;
    uint64_t count = 0, done, total;
    int rc = 0;

    memset(&last, 0, sizeof last);
    while (!J->broken && (rc = sc_capture_next(cap, &pkt)) == 1) {
        totals->packets++;
        totals->bytes += pkt.caplen;
        jobs_route(J, &pkt);
        last.frame = pkt.frame;
        last.ts = pkt.ts;
        if (++count % MERGE_EVERY == 0) {
            jobs_publish_all(J);
            jobs_pump(J, 0);
            if (hooks && hooks->progress) {
                sc_capture_progress(cap, &done, &total);
                hooks->progress(hooks->ctx, done, total);
            }
        }
    }
    if (J->broken)
        return 0;
    if (rc < 0 && last.frame)
        fprintf(stderr, "smtpscope: %s (analysed up to frame %llu)\n",
                sc_capture_error(cap), (unsigned long long)last.frame);
    for (int i = 0; i < J->n && !J->broken; i++)
        jobs_send(J, i, M_END, &last);
    jobs_publish_all(J);
    for (int i = 0; i < J->n && !J->broken; i++)
        while (!J->w[i].eos && !J->broken)
            jobs_pump(J, -1);
    if (hooks && hooks->progress) {
        sc_capture_progress(cap, &done, &total);
        hooks->progress(hooks->ctx, done, total);
    }
    if (rc < 0 && !last.frame) {
        snprintf(err, errlen, "%s", sc_capture_error(cap));
        return -1;
    }
    return 0;
}

/* The workers read the file themselves: the parent only merges, until
 * every worker has ended. Then what worker 0 read is the run's (every
 * worker read the same frames, or the file changed under them). Returns
 * as jobs_feed. */
static int jobs_collect(jobs *J, const char *path, sc_totals *totals, char *err, size_t errlen)
{
    const wread *rd = &J->w[0].read;

    for (int i = 0; i < J->n && !J->broken; i++)
        while (!J->w[i].eos && !J->broken)
            jobs_pump(J, -1);
    if (J->broken)
        return 0;
    for (int i = 1; i < J->n; i++)
        if (J->w[i].read.packets != rd->packets || J->w[i].read.bytes != rd->bytes) {
            snprintf(err, errlen, "%s: -j: the file changed while it was read", path);
            return -1;
        }
    totals->packets += rd->packets;
    totals->bytes += rd->bytes;
    if (J->hooks && J->hooks->progress)
        J->hooks->progress(J->hooks->ctx, J->w[0].total, J->w[0].total);
    if (rd->rc < 0 && !rd->last_frame) {
        snprintf(err, errlen, "%s", rd->err);
        return -1;
    }
    if (rd->rc < 0)
        fprintf(stderr, "smtpscope: %s (analysed up to frame %llu)\n", rd->err,
                (unsigned long long)rd->last_frame);
    return 0;
}

/* ---- the processes ---- */

static size_t jobs_ring_size(int n)
{
    size_t each = RING_TOTAL / (size_t)n;

    return each < RING_MIN ? RING_MIN : each > RING_MAX ? RING_MAX : each;
}

/* Forks worker i. Returns 0, or -1 with errno. */
static int jobs_fork(jobs *J, int i, const char *path, const sc_capture *cap)
{
    int fds[2];
    pid_t parent = getpid();

    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    J->w[i].pid = fork();
    if (J->w[i].pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (J->w[i].pid == 0) {
        static char obuf[1 << 20];
        FILE *out;

        /* The parent gone, nobody reads: end with it. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(3);
        close(fds[0]);
        for (int k = 0; k < i; k++)
            close(J->w[k].fd);
        out = fdopen(fds[1], "w");
        if (!out)
            _exit(3);
        setvbuf(out, obuf, _IOFBF, sizeof obuf);
        worker_main(J->cfg, path, cap, i, J->n, J->w[i].ring, out);
    }
    close(fds[1]);
    J->w[i].fd = fds[0];
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[0], F_SETPIPE_SZ, PIPE_SIZE);   /* fewer wake-ups; the default when refused */
    return 0;
}

/* Waits for every worker; kills them first when the run has failed.
 * Returns false when one did not end well. */
static bool jobs_reap(jobs *J)
{
    bool ok = !J->broken;

    for (int i = 0; i < J->n; i++)
        if (J->w[i].pid > 0 && J->broken)
            kill(J->w[i].pid, SIGKILL);
    for (int i = 0; i < J->n; i++) {
        int ws;

        if (J->w[i].pid <= 0)
            continue;
        while (waitpid(J->w[i].pid, &ws, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
            ok = false;
    }
    return ok;
}

static void jobs_free(jobs *J)
{
    if (J->w)
        for (int i = 0; i < J->n; i++) {
            if (J->w[i].fd >= 0)
                close(J->w[i].fd);
            sc_ring_free(J->w[i].ring);
            free(J->w[i].in);
        }
    free(J->w);
    free(J->pfd);
    free(J->pidx);
    sc_idmap_free(J->rp.ids);
}

/* Sets up the workers' state and rings. Returns false when out of memory. */
static bool jobs_init(jobs *J, const sc_config *cfg, const char *path, const sc_capture *cap,
                      sc_sink **sinks, size_t nsinks, const sc_pipeline_hooks *hooks,
                      sc_totals *totals)
{
    int n = cfg->jobs;

    memset(J, 0, sizeof *J);
    J->cfg = cfg;
    J->n = n;
    J->hooks = hooks;
    J->self = sc_capture_rereadable(cap);
    J->rp = (replay){ .cfg = cfg, .sinks = sinks, .nsinks = nsinks, .totals = totals,
                      .n = n, .file = path };
    J->rp.ids = sc_idmap_new();
    J->w = calloc((size_t)n, sizeof *J->w);
    J->pfd = calloc((size_t)n, sizeof *J->pfd);
    J->pidx = calloc((size_t)n, sizeof *J->pidx);
    if (!J->rp.ids || !J->w || !J->pfd || !J->pidx)
        return false;
    for (int i = 0; i < n; i++) {
        J->w[i].fd = -1;
        if (J->self)
            continue;
        J->w[i].ring = sc_ring_new(jobs_ring_size(n));
        if (!J->w[i].ring)
            return false;
    }
    return true;
}

int sc_workers_file(const sc_config *cfg, const char *path, sc_sink **sinks, size_t nsinks,
                    const sc_pipeline_hooks *hooks, sc_totals *totals)
{
    char err[512];
    sc_capture *cap = sc_capture_open_file(path, cfg->bpf, err, sizeof err);
    jobs J;
    int rc = -1;

    totals->files++;
    if (!cap) {
        fprintf(stderr, "smtpscope: %s\n", err);
        return 2;
    }
    if (!jobs_init(&J, cfg, path, cap, sinks, nsinks, hooks, totals)) {
        fprintf(stderr, "smtpscope: out of memory\n");
        jobs_free(&J);
        sc_capture_close(cap);
        return 2;
    }
    fflush(NULL);                 /* nothing buffered is written twice */
    for (int i = 0; i < J.n; i++)
        if (jobs_fork(&J, i, path, cap) < 0) {
            fprintf(stderr, "smtpscope: -j: %s\n", strerror(errno));
            J.broken = true;
            break;
        }
    if (!J.broken)
        rc = J.self ? jobs_collect(&J, path, totals, err, sizeof err)
                    : jobs_feed(&J, cap, hooks, totals, err, sizeof err);
    bool ok = jobs_reap(&J);
    jobs_free(&J);
    sc_capture_close(cap);
    if (!ok) {
        fprintf(stderr, "smtpscope: %s: -j: a worker failed\n", path);
        return 2;
    }
    if (rc < 0) {
        fprintf(stderr, "smtpscope: %s\n", err);
        return 2;
    }
    return 0;
}
