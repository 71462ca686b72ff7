/*
 * merge.c - the -j parent's side (merge.h).
 *
 * Order. Each record carries a key (worker.c says which), keys of
 * different workers never tie and each worker's records come in key
 * order; a mark of a worker says its later records have keys beyond a
 * frame. The smallest head record is replayed as soon as every other
 * worker either has a head record or has marked beyond it.
 *
 * Session ids count connections in order of first packet across all of
 * them. Workers number only their own; the merge numbers the "opened"
 * records as they come out, which is that order, and rewrites the id of
 * every record (a map of the open connections, dropped at "closed":
 * memory follows concurrent connections). --session ID is applied here,
 * on those ids. The records go into the run's fan-out (session.h), which
 * counts the totals as the analyser's does.
 *
 * Memory: at most PENDING_MAX bytes of a worker's records wait here for
 * the others; beyond that its pipe is not read until they have gone, and
 * the worker, its pipe full, waits while the others go on.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/idmap.h"
#include "merge.h"

#define PENDING_MAX  (4u << 20)    /* a worker's records held back by the merge */
#define READ_CHUNK   (256u << 10)

typedef struct wsrc {
    int       fd;              /* its records; -1 after end of file */
    uint8_t  *in;              /* records read; [start, end) not yet replayed */
    size_t    start, end, cap;
    long      head;            /* the size of its first record, or 0 */
    wire_rec  key;             /* the first record's type and key */
    uint64_t  mark;            /* its later records have keys beyond this frame */
    bool      eos;             /* its last record was read */
    wire_eos  read;            /* ... which says what it read */
} wsrc;

struct jobs_merge {
    const sc_config *cfg;
    int              n;
    wsrc            *w;
    struct pollfd   *pfd;
    int             *pidx;
    bool             broken;
    sc_fanout       *fan;
    const char      *file;
    const sc_pipeline_hooks *hooks;
    sc_idmap        *ids;      /* worker-local key -> run's id */
    uint64_t         next_id;
    wire_rec         rec;      /* the record being replayed */
    wire_arena      *arena;
};

/* ---- replay ---- */

static uint64_t merge_key(const jobs_merge *m, int w, uint64_t local)
{
    return local * (uint64_t)m->n + (uint64_t)w;
}

/* m->rec, of worker w, in merged order. False on a broken one. */
static bool merge_replay(jobs_merge *m, int w)
{
    wire_rec *r = &m->rec;
    sc_sink *fan = &m->fan->sink;
    sc_session_info *si = &r->info;
    uint64_t gid;

    switch (r->type) {
    case W_OPEN:
        gid = ++m->next_id;
        return sc_idmap_put(m->ids, merge_key(m, w, r->id), (void *)(uintptr_t)gid) == 0;
    case W_CLOSE:
        sc_idmap_del(m->ids, merge_key(m, w, r->id));
        return true;
    case W_MARK:
        m->w[w].mark = r->drive;
        if (w == 0 && m->hooks && m->hooks->progress)
            m->hooks->progress(m->hooks->ctx, r->mark.done, r->mark.total);
        return true;
    case W_EOS:
        m->w[w].eos = true;
        m->w[w].read = r->eos;
        return true;
    }
    gid = (uint64_t)(uintptr_t)sc_idmap_get(m->ids, merge_key(m, w, r->type == W_LINE ? r->id : si->id));
    if (!gid)
        return false;
    if (m->cfg->only_session && gid != m->cfg->only_session)
        return true;
    si->id = gid;
    si->capture_file = m->file;
    switch (r->type) {
    case W_BEGIN:   fan->session_begin(fan, si); break;
    case W_LINE:    fan->line(fan, si, &r->line); break;
    case W_FINDING: fan->finding(fan, si, &r->finding); break;
    case W_END:     fan->session_end(fan, si); break;
    }
    return true;
}

/* ---- records coming in ---- */

/* True when worker w's first record is complete (its key in w->key). */
static bool merge_head(jobs_merge *m, wsrc *w)
{
    if (!w->head && w->end > w->start) {
        w->head = wire_size(w->in + w->start, w->end - w->start);
        if (w->head < 0) {
            m->broken = true;
            w->head = 0;
        }
        if (w->head)
            wire_key(w->in + w->start, &w->key);
    }
    return w->head > 0;
}

/* Decodes worker i's first record, replays it and drops it. */
static void merge_pop(jobs_merge *m, int i)
{
    wsrc *w = &m->w[i];

    if (!wire_get(w->in + w->start, (size_t)w->head, &m->rec, m->arena) ||
        !merge_replay(m, i))
        m->broken = true;
    w->start += (size_t)w->head;
    w->head = 0;
}

/* After end of file: the worker exited as it should when its last
 * record has been read, or is what remains, whole. */
static bool merge_ended_well(const wsrc *w)
{
    size_t at = w->start;
    int last = 0;
    long len;

    if (w->eos)
        return true;
    while (at < w->end && (len = wire_size(w->in + at, w->end - at)) > 0) {
        last = w->in[at + 4];
        at += (size_t)len;
    }
    return at == w->end && last == W_EOS;
}

/* Reads what worker i has written (one read). True when there may be more. */
static bool merge_read(jobs_merge *m, int i)
{
    wsrc *w = &m->w[i];
    ssize_t got;
    size_t room;

    /* What waits is moved to the front only when it is no larger than
     * what was replayed before it: each byte is moved about once. */
    if (w->start && (w->start == w->end ||
                     (w->cap - w->end < READ_CHUNK && w->end - w->start <= w->start))) {
        memmove(w->in, w->in + w->start, w->end - w->start);
        w->end -= w->start;
        w->start = 0;
    }
    if (w->cap - w->end < READ_CHUNK) {
        size_t cap = w->cap * 2 > w->end + READ_CHUNK ? w->cap * 2 : w->end + READ_CHUNK;
        uint8_t *p = realloc(w->in, cap);

        if (!p) {
            m->broken = true;
            return false;
        }
        w->in = p;
        w->cap = cap;
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
    if (!merge_ended_well(w))
        m->broken = true;
    return false;
}

/* Worker i may be read: its pipe is open and what waits of it is under
 * PENDING_MAX (or not even one whole record). */
static bool merge_readable(jobs_merge *m, int i)
{
    wsrc *w = &m->w[i];

    return w->fd >= 0 && (w->end - w->start < PENDING_MAX || !merge_head(m, w));
}

/* Replays every record known to come next. */
static void merge_step(jobs_merge *m)
{
    while (!m->broken) {
        int best = -1;

        for (int i = 0; i < m->n && !m->broken; i++) {
            wsrc *w = &m->w[i];

            /* marks and the last record go at once: they order nothing */
            while (!w->eos && merge_head(m, w) && (w->key.type == W_MARK || w->key.type == W_EOS))
                merge_pop(m, i);
            if (w->eos || !merge_head(m, w))
                continue;
            if (best < 0 || w->key.drive < m->w[best].key.drive ||
                (w->key.drive == m->w[best].key.drive && w->key.sub < m->w[best].key.sub))
                best = i;
        }
        if (best < 0 || m->broken)
            return;
        for (int j = 0; j < m->n; j++)
            if (!m->w[j].eos && !m->w[j].head && m->w[best].key.drive > m->w[j].mark)
                return;
        merge_pop(m, best);
    }
}

/* Waits until a worker writes, reads, replays what can go. */
static void merge_pump(jobs_merge *m)
{
    int k = 0;

    merge_step(m);
    for (int i = 0; i < m->n; i++)
        if (merge_readable(m, i)) {
            m->pfd[k] = (struct pollfd){ .fd = m->w[i].fd, .events = POLLIN };
            m->pidx[k++] = i;
        }
    if (k == 0) {                   /* waiting for what can never come */
        m->broken = true;
        return;
    }
    if (poll(m->pfd, (nfds_t)k, -1) <= 0)
        return;
    for (int j = 0; j < k && !m->broken; j++)
        if (m->pfd[j].revents)
            while (merge_read(m, m->pidx[j]) && !m->broken && merge_readable(m, m->pidx[j]))
                ;
    merge_step(m);
}

bool jobs_merge_run(jobs_merge *m)
{
    for (int i = 0; i < m->n && !m->broken; i++)
        while (!m->w[i].eos && !m->broken)
            merge_pump(m);
    return !m->broken;
}

const wire_eos *jobs_merge_eos(const jobs_merge *m, int i)
{
    return &m->w[i].read;
}

jobs_merge *jobs_merge_new(const sc_config *cfg, int n, const int *fds, sc_fanout *fan,
                           const char *file, const sc_pipeline_hooks *hooks)
{
    jobs_merge *m = calloc(1, sizeof *m);

    if (!m)
        return NULL;
    *m = (jobs_merge){ .cfg = cfg, .n = n, .fan = fan, .file = file, .hooks = hooks };
    m->w = calloc((size_t)n, sizeof *m->w);
    m->pfd = calloc((size_t)n, sizeof *m->pfd);
    m->pidx = calloc((size_t)n, sizeof *m->pidx);
    m->ids = sc_idmap_new();
    m->arena = wire_arena_new();
    if (!m->w || !m->pfd || !m->pidx || !m->ids || !m->arena) {
        if (m->w)
            for (int i = 0; i < n; i++)
                m->w[i].fd = -1;      /* the caller's still */
        jobs_merge_free(m);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        m->w[i].fd = fds[i];
    return m;
}

void jobs_merge_free(jobs_merge *m)
{
    if (!m)
        return;
    if (m->w)
        for (int i = 0; i < m->n; i++) {
            if (m->w[i].fd >= 0)
                close(m->w[i].fd);
            free(m->w[i].in);
        }
    free(m->w);
    free(m->pfd);
    free(m->pidx);
    sc_idmap_free(m->ids);
    wire_arena_free(m->arena);
    free(m);
}
