/*
 * workers.c - -j N: one capture file analysed by N processes, the report
 * byte for byte the one a single process writes.
 *
 * Interface: workers.h.
 *
 * libnids is global state, so the workers are processes (fork). Each one
 * reads the whole file but follows only its share of the connections: the
 * reassembler drops the TCP segments whose symmetric flow hash modulo N is
 * not its shard (config.h), so a worker sees whole sessions, both
 * directions. It runs the ordinary analyser with one sink, which writes
 * every record (session begin, transcript line, finding, session end) to
 * an unlinked temporary file, plus two records of its own: a connection
 * opened, a connection closed.
 *
 * The parent merges the N files and replays the records into the real
 * sinks. Two things make the merge exact:
 *
 *  - Order. Each record carries a key: during the reassembly of frame F,
 *    (F, 0); while idle connections are expired after frame F, (F, the
 *    frame of the connection's last packet), which is the single
 *    process's expiry order (least recently active first); at the end of
 *    the input, (max, the connection's first frame), its closing order
 *    (by id). A frame belongs to one connection, hence to one worker, so
 *    keys of different workers never tie, and each worker's file is in
 *    key order: an N-way merge restores the single-process sequence.
 *  - Session ids. Ids count connections in order of first packet across
 *    all of them. Workers number only their own; the parent numbers the
 *    "opened" records as they come out of the merge, which is that order,
 *    and rewrites the id of every record (a map of the open connections,
 *    dropped at "closed": memory follows concurrent connections).
 *
 * --session ID is applied by the parent on the merged ids, and the totals
 * are counted from the replayed records, as the analyser counts them.
 *
 * Limits: --max-sessions evicts per worker, so the output differs from a
 * single process only when that cap is reached; likewise idle expiry on a
 * capture whose timestamps go backwards. Output appears once every worker
 * has finished (the temporary files hold the records meanwhile: about a
 * tenth of the text report's size per session).
 *
 * Diagnostics: a file that cannot be read is reported once, as without
 * -j; "smtpscope: FILE: -j: a worker failed" when a worker dies or its
 * records cannot be written or read (exit 2).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../output/idmap.h"
#include "pipeline.h"
#include "session.h"
#include "workers.h"

enum { W_OPEN = 1, W_CLOSE, W_BEGIN, W_LINE, W_FINDING, W_END, W_EOS };
enum { W_PHASE_PACKET, W_PHASE_EXPIRE, W_PHASE_END };

#define W_NIL      UINT64_MAX     /* a NULL pointer in a record */
#define W_EXT_MAX  64
#define W_TXN_MAX  16
#define W_RCPT_MAX 16
#define W_RANGE_MAX 64
#define W_REC_MAX  (16u << 20)    /* no record is near this: a broken file */

bool sc_workers_usable(const sc_config *cfg)
{
    return cfg->jobs > 1 && !cfg->iface && cfg->nfiles > 0 && cfg->mode != SC_OUT_TUI &&
           !cfg->write_streams;
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
    wbuf_info(&w->b, si);
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

/* The child: analyses its shard of path, writes the records to out. */
static void worker_main(const sc_config *cfg, const char *path, int shard, FILE *out)
{
    sc_config c = *cfg;
    worker w;
    sc_sink *sinks[1];
    sc_pipeline_stats stats;
    char err[512] = "";

    memset(&w, 0, sizeof w);
    c.shard = shard;
    c.nshards = cfg->jobs;
    c.jobs = 1;
    c.only_session = 0;           /* ids are the parent's: it filters */
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
    int rc = sc_pipeline_file(&c, path, &w.h, &hooks, &stats, err, sizeof err);
    sc_analyzer_finish(an, NULL);
    sc_analyzer_free(an);

    w.drive = w.sub = UINT64_MAX;
    worker_rec_begin(&w, W_EOS);
    wbuf_u64(&w.b, rc < 0);
    wbuf_str(&w.b, err);
    wbuf_u64(&w.b, stats.packets);
    wbuf_u64(&w.b, stats.bytes);
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

typedef struct wreader {
    FILE          *f;
    uint8_t       *buf;
    size_t         cap;
    const uint8_t *pos, *end;
    bool           bad, eof;
    int            type;
    uint64_t       drive, sub;
    /* the end-of-stream record */
    bool           eos, failed;
    char           err[512];
    uint64_t       packets, bytes;
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

/* Loads the next record; at the end-of-stream record (or a broken file)
 * the reader is at eof. */
static void reader_next(wreader *r)
{
    uint32_t len;

    if (r->eof)
        return;
    if (fread(&len, sizeof len, 1, r->f) != 1 || len < 17 || len > W_REC_MAX) {
        r->eof = true;
        return;
    }
    if (len > r->cap) {
        uint8_t *p = realloc(r->buf, len);
        if (!p) {
            r->eof = true;
            return;
        }
        r->buf = p;
        r->cap = len;
    }
    if (fread(r->buf, 1, len, r->f) != len) {
        r->eof = true;
        return;
    }
    r->type = r->buf[0];
    r->pos = r->buf + 1;
    r->end = r->buf + len;
    r->drive = rd_u64(r);
    r->sub = rd_u64(r);
    if (r->type == W_EOS) {
        r->failed = rd_u64(r) != 0;
        const char *e = rd_str(r);
        snprintf(r->err, sizeof r->err, "%s", e ? e : "");
        r->packets = rd_u64(r);
        r->bytes = rd_u64(r);
        r->eos = !r->bad;
        r->eof = true;
    }
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

/* One record of worker w, in merged order. Returns false on a broken one. */
static bool replay_record(replay *p, int w, wreader *r)
{
    uint64_t gid;
    sc_line l;
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
    case W_LINE:
        memset(&l, 0, sizeof l);
        l.frame = rd_u64(r);
        l.ts = rd_tv(r);
        l.dir = (sc_dir)rd_u64(r);
        l.kind = (sc_line_kind)rd_u64(r);
        {
            sc_bytes t = rd_bytes(r);
            l.text = t.p;
            l.len = t.len;
        }
        l.seq = rd_u64(r);
        if (r->bad)
            return false;
        for (size_t i = 0; i < p->nsinks; i++)
            if (p->sinks[i]->line)
                p->sinks[i]->line(p->sinks[i], si, &l);
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

/* The worker whose head record comes first; -1 when all are done. */
static int replay_pick(wreader *rd, int n)
{
    int best = -1;

    for (int i = 0; i < n; i++) {
        if (rd[i].eof)
            continue;
        if (best < 0 || rd[i].drive < rd[best].drive ||
            (rd[i].drive == rd[best].drive && rd[i].sub < rd[best].sub))
            best = i;
    }
    return best;
}

/* One file: fork, wait, merge. Returns 0, or 2 with the reason on stderr. */
static int workers_file(const sc_config *cfg, const char *path, sc_sink **sinks,
                        size_t nsinks, sc_totals *totals)
{
    int n = cfg->jobs, status = 0;
    wreader *rd = calloc((size_t)n, sizeof *rd);
    pid_t *pid = calloc((size_t)n, sizeof *pid);
    replay p = { .cfg = cfg, .sinks = sinks, .nsinks = nsinks, .totals = totals,
                 .n = n, .file = path };
    bool broken = false;

    p.ids = sc_idmap_new();
    if (!rd || !pid || !p.ids) {
        fprintf(stderr, "smtpscope: out of memory\n");
        status = 2;
        goto out;
    }
    fflush(NULL);                 /* nothing buffered is written twice */
    for (int i = 0; i < n; i++) {
        if (!(rd[i].f = tmpfile())) {
            fprintf(stderr, "smtpscope: -j: temporary file: %s\n", strerror(errno));
            status = 2;
            goto reap;
        }
        pid[i] = fork();
        if (pid[i] < 0) {
            fprintf(stderr, "smtpscope: -j: fork: %s\n", strerror(errno));
            status = 2;
            goto reap;
        }
        if (pid[i] == 0) {
            static char obuf[1 << 20];
            setvbuf(rd[i].f, obuf, _IOFBF, sizeof obuf);
            if (i > 0 && !freopen("/dev/null", "w", stderr))
                _exit(3);     /* warnings about the file: the first worker's */
            worker_main(cfg, path, i, rd[i].f);
        }
    }
reap:
    for (int i = 0; i < n; i++) {
        int ws;
        if (pid[i] <= 0)
            continue;
        while (waitpid(pid[i], &ws, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
            broken = true;
    }
    if (status)
        goto out;
    for (int i = 0; i < n; i++) {
        rewind(rd[i].f);
        reader_next(&rd[i]);
    }
    for (int w; (w = replay_pick(rd, n)) >= 0;) {
        if (!replay_record(&p, w, &rd[w])) {
            broken = true;
            break;
        }
        reader_next(&rd[w]);
    }
    for (int i = 0; i < n; i++)
        broken |= !rd[i].eos;
    if (!broken && rd[0].failed) {
        fprintf(stderr, "smtpscope: %s\n", rd[0].err);
        status = 2;
    } else if (broken) {
        fprintf(stderr, "smtpscope: %s: -j: a worker failed\n", path);
        status = 2;
    } else {
        totals->packets += rd[0].packets;
        totals->bytes += rd[0].bytes;
    }
out:
    if (rd)
        for (int i = 0; i < n; i++) {
            if (rd[i].f)
                fclose(rd[i].f);
            free(rd[i].buf);
        }
    free(rd);
    free(pid);
    sc_idmap_free(p.ids);
    return status;
}

int sc_workers_run(const sc_config *cfg, sc_sink **sinks, size_t nsinks, sc_totals *totals)
{
    int status = 0;

    memset(totals, 0, sizeof *totals);
    for (size_t i = 0; i < cfg->nfiles; i++) {
        totals->files++;
        if (workers_file(cfg, cfg->files[i], sinks, nsinks, totals))
            status = 2;
    }
    for (size_t i = 0; i < nsinks; i++)
        if (sinks[i]->finish)
            sinks[i]->finish(sinks[i], totals);
    return status;
}
