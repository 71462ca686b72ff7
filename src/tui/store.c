/*
 * store.c - the timeline's storage: session index in memory, transcript
 * lines and findings spilled to a temporary file (see tui_store.h).
 *
 * Spill file layout: a sequence of chunks, each
 *     chunk header (magic, payload bytes, previous chunk of the same
 *                   session or TUI_NO_OFF, session id)
 *     records      (record header, then len text bytes), back to back
 * The file is private to the process (sc_tmpfile(): in TMPDIR, already unlinked) and
 * read with pread(), so the format is the host's.
 *
 * Diagnostics: see tui_store.h (spill_error, spill_msg).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/grow.h"
#include "common/wcheck.h"
#include "tui_store.h"

#define CHUNK_MAGIC 0x53434b31u   /* "SCK1" */

typedef struct chunk_hdr {
    uint32_t magic;
    uint32_t nbytes;
    uint64_t prev;
    uint64_t id;
} chunk_hdr;

typedef struct rec_hdr {
    uint32_t len;
    uint8_t  type;
    uint8_t  flags;
    uint8_t  a;          /* line: dir;  finding: severity */
    uint8_t  b;          /* line: kind; finding: side */
    uint16_t rule;
    uint16_t pad;
    int32_t  usec;
    uint64_t frame;
    int64_t  sec;
} rec_hdr;

/* ---- the id -> index hash ---- */

static size_t store_hash_slot(unsigned file, uint64_t id, size_t cap)
{
    id ^= (uint64_t)file * 0x9e3779b97f4a7c15ULL;
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id & (cap - 1);
}

static int store_hash_grow(tui_store *st)
{
    size_t cap = st->hashcap ? st->hashcap * 2 : 1024;
    size_t *h = calloc(cap, sizeof *h);

    if (!h)
        return -1;
    for (size_t i = 0; i < st->nsess; i++) {
        size_t s = store_hash_slot(st->sess[i].file, st->sess[i].id, cap);
        while (h[s])
            s = (s + 1) & (cap - 1);
        h[s] = i + 1;
    }
    free(st->hash);
    st->hash = h;
    st->hashcap = cap;
    return 0;
}

size_t tui_store_find(const tui_store *st, unsigned file, uint64_t id)
{
    if (!st->hashcap)
        return SIZE_MAX;
    for (size_t s = store_hash_slot(file, id, st->hashcap); st->hash[s];
         s = (s + 1) & (st->hashcap - 1)) {
        const tui_sess *x = &st->sess[st->hash[s] - 1];
        if (x->id == id && x->file == file)
            return st->hash[s] - 1;
    }
    return SIZE_MAX;
}

/* Appends a copy of name to the file table; its index, or -1. */
static int store_file_add(tui_store *st, const char *name)
{
    if (st->nfiles >= TUI_FILES_MAX)
        return -1;
    char **nf = realloc(st->files, (st->nfiles + 1) * sizeof *nf);
    char *copy = strdup(name);
    if (!nf || !copy) {
        free(copy);
        if (nf)
            st->files = nf;
        return -1;
    }
    st->files = nf;
    st->files[st->nfiles] = copy;
    return (int)st->nfiles++;
}

void tui_store_set_files(tui_store *st, const char *const *files, size_t n)
{
    size_t i;

    for (i = 0; i < n && files[i]; i++)
        if (store_file_add(st, files[i]) < 0)
            break;
    st->args = files;
    st->nargs = i;
}

const char *tui_store_file_arg(const tui_store *st, unsigned file)
{
    return file < st->nargs ? st->args[file] : tui_store_file_name(st, file);
}

/* The index of the capture file a record comes from. Files are analysed
 * one after another and each numbers its sessions from 1, so (file, id)
 * names a session. The analyser hands over the -r string itself, so a
 * registered file is known by its address first. */
static unsigned store_file_index(tui_store *st, const char *name)
{
    if (st->one_capture) {
        if (!st->nfiles)
            store_file_add(st, name ? name : "");
        return 0;
    }
    for (size_t i = 0; name && i < st->nargs; i++)
        if (st->args[i] == name)
            return st->cur_file = (unsigned)i;
    if (!name)
        name = "";
    if (st->nfiles && strcmp(st->files[st->cur_file], name) == 0)
        return st->cur_file;
    for (size_t i = 0; i < st->nfiles; i++)
        if (strcmp(st->files[i], name) == 0)
            return st->cur_file = (unsigned)i;
    int added = store_file_add(st, name);
    return added < 0 ? st->cur_file : (st->cur_file = (unsigned)added);
}

const char *tui_store_file_name(const tui_store *st, unsigned file)
{
    return file < st->nfiles ? st->files[file] : "";
}

/* ---- the spill file ---- */

static void store_spill_fail(tui_store *st, const char *what, int err)
{
    if (!st->spill_error)
        snprintf(st->spill_msg, sizeof st->spill_msg, "spill file: %s: %s",
                 what, err ? strerror(err) : "short read");
    st->spill_error = true;
}

static int store_spill_write(tui_store *st, const void *p, size_t n)
{
    const uint8_t *b = p;

    while (n > 0) {
        ssize_t w = pwrite(st->fd, b, n, (off_t)st->end);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            store_spill_fail(st, "write", w < 0 ? errno : ENOSPC);
            return -1;
        }
        b += w;
        n -= (size_t)w;
        st->end += (uint64_t)w;
    }
    return 0;
}

static int store_spill_read(tui_store *st, void *p, size_t n, uint64_t off)
{
    uint8_t *b = p;

    while (n > 0) {
        ssize_t r = pread(st->fd, b, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            store_spill_fail(st, "read", r < 0 ? errno : 0);
            return -1;
        }
        b += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Writes one chunk (payload p, n bytes) for session s. */
static void store_chunk_write(tui_store *st, tui_sess *s, const uint8_t *p, size_t n)
{
    chunk_hdr h = { CHUNK_MAGIC, (uint32_t)n, s->last_chunk, s->id };
    uint64_t at = st->end;

    if (st->spill_error || n == 0)
        return;
    if (store_spill_write(st, &h, sizeof h) < 0 || store_spill_write(st, p, n) < 0)
        return;
    s->last_chunk = at;
}

static void store_sess_flush(tui_store *st, tui_sess *s)
{
    if (s->buflen) {
        store_chunk_write(st, s, s->buf, s->buflen);
        s->buflen = 0;
    }
}

/* Appends one record to the session's buffer (or straight to the file
 * when it is larger than a chunk). */
static void store_rec_append(tui_store *st, tui_sess *s, const rec_hdr *h,
                             const uint8_t *text)
{
    size_t need = sizeof *h + h->len;

    if (st->spill_error)
        return;
    if (s->buflen && s->buflen + need > TUI_CHUNK_MAX)
        store_sess_flush(st, s);
    if (need > TUI_CHUNK_MAX) {
        uint8_t *tmp = malloc(need);
        if (!tmp) {
            store_spill_fail(st, "record", ENOMEM);
            return;
        }
        memcpy(tmp, h, sizeof *h);
        memcpy(tmp + sizeof *h, text, h->len);
        store_chunk_write(st, s, tmp, need);
        free(tmp);
    } else {
        if (s->buflen + need > s->bufcap) {
            uint32_t cap = s->bufcap ? s->bufcap : 256;
            while (cap < s->buflen + need)
                cap *= 2;
            if (cap > TUI_CHUNK_MAX)
                cap = TUI_CHUNK_MAX;
            uint8_t *nb = realloc(s->buf, cap);
            if (!nb) {
                store_spill_fail(st, "buffer", ENOMEM);
                return;
            }
            s->buf = nb;
            s->bufcap = cap;
        }
        memcpy(s->buf + s->buflen, h, sizeof *h);
        memcpy(s->buf + s->buflen + sizeof *h, text, h->len);
        s->buflen += (uint32_t)need;
    }
    if (!st->spill_error)
        s->nrec++;
}

/* ---- the session index ---- */

static void store_sess_update(tui_sess *s, const sc_session_info *si)
{
    s->client = si->client;
    s->server = si->server;
    if (si->start.tv_sec || si->start.tv_usec)
        s->start = si->start;
    if (timercmp(&si->end, &s->last, >))
        s->last = si->end;
    if (si->first_frame)
        s->first_frame = si->first_frame;
    if (si->frames > s->frames)
        s->frames = si->frames;
    s->tls = si->tls;
}

/* The index entry of si's session, created on first sight. */
static tui_sess *store_sess_get(tui_store *st, const sc_session_info *si)
{
    unsigned file = store_file_index(st, si->capture_file);
    size_t i = tui_store_find(st, file, si->id);
    tui_sess *s;

    if (i != SIZE_MAX)
        return &st->sess[i];
    if (!(s = sc_grow(st->sess, &st->capsess, st->nsess, sizeof *s, 256)))
        return NULL;
    st->sess = s;
    if ((st->nsess + 1) * 2 > st->hashcap && store_hash_grow(st) < 0)
        return NULL;
    s = &st->sess[st->nsess];
    memset(s, 0, sizeof *s);
    s->id = si->id;
    s->file = (uint16_t)file;
    s->last_chunk = TUI_NO_OFF;
    s->state = TUI_SESS_OPEN;
    store_sess_update(s, si);
    s->last = s->start;
    size_t slot = store_hash_slot(file, si->id, st->hashcap);
    while (st->hash[slot])
        slot = (slot + 1) & (st->hashcap - 1);
    st->hash[slot] = ++st->nsess;
    return s;
}

static void store_sess_touch(tui_sess *s, struct timeval ts)
{
    if (timercmp(&ts, &s->last, >))
        s->last = ts;
    if (!s->start.tv_sec && !s->start.tv_usec)
        s->start = ts;
}

void tui_store_session_begin(tui_store *st, const sc_session_info *si)
{
    if (store_sess_get(st, si))
        st->version++;
}

void tui_store_line(tui_store *st, const sc_session_info *si, const sc_line *ln)
{
    tui_sess *s = store_sess_get(st, si);
    rec_hdr h;

    if (!s)
        return;
    memset(&h, 0, sizeof h);
    h.type = TUI_REC_LINE;
    h.len = ln->len > TUI_TEXT_MAX ? TUI_TEXT_MAX : (uint32_t)ln->len;
    h.flags = ln->len > TUI_TEXT_MAX ? TUI_F_TRUNCATED : 0;
    h.a = (uint8_t)ln->dir;
    h.b = (uint8_t)ln->kind;
    h.frame = ln->frame;
    h.sec = ln->ts.tv_sec;
    h.usec = (int32_t)ln->ts.tv_usec;
    store_rec_append(st, s, &h, ln->text ? ln->text : (const uint8_t *)"");
    store_sess_touch(s, ln->ts);
    st->version++;
}

void tui_store_finding(tui_store *st, const sc_session_info *si, const sc_finding *f)
{
    tui_sess *s = store_sess_get(st, si);
    size_t mlen = strnlen(f->message, sizeof f->message);
    unsigned sev = (unsigned)f->severity < 3 ? (unsigned)f->severity : SC_SEV_ERROR;
    rec_hdr h;

    if (!s)
        return;
    memset(&h, 0, sizeof h);
    h.type = TUI_REC_FINDING;
    h.flags = f->suppressed ? TUI_F_MORE : 0;
    h.len = (uint32_t)mlen;
    h.a = (uint8_t)sev;
    h.b = (uint8_t)f->side;
    h.rule = f->rule ? (uint16_t)f->rule->id : UINT16_MAX;
    h.frame = f->frame;
    h.sec = f->ts.tv_sec;
    h.usec = (int32_t)f->ts.tv_usec;
    store_rec_append(st, s, &h, (const uint8_t *)f->message);
    /* the list's counts are the session's, those past --max-findings too */
    uint64_t n = sc_finding_count(f);
    s->findings[sev] = n > UINT32_MAX - s->findings[sev] ? UINT32_MAX
                     : s->findings[sev] + (uint32_t)n;
    st->findings[sev] += n;
    store_sess_touch(s, f->ts);
    st->version++;
}

void tui_store_session_end(tui_store *st, const sc_session_info *si)
{
    tui_sess *s = store_sess_get(st, si);

    if (!s)
        return;
    store_sess_update(s, si);
    s->state = TUI_SESS_CLOSED;
    s->close_how = (uint8_t)si->close_how;
    store_sess_flush(st, s);
    free(s->buf);
    s->buf = NULL;
    s->bufcap = 0;
    st->version++;
}

/* ---- reading a session back ---- */

/* Tracks the client's DATA phase so that the ladder can show a reply
 * that crosses unfinished message content (seed 004: 552 mid-DATA). */
typedef enum tl_data_state { TL_DATA_NONE, TL_DATA_SENT, TL_DATA_CONTENT } tl_data_state;

static bool tl_text_is(const uint8_t *t, size_t n, const char *word)
{
    size_t w = strlen(word);

    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    if (n != w)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((t[i] | 0x20) != (word[i] | 0x20) && t[i] != word[i])
            return false;
    return true;
}

static uint8_t tl_data_step(tl_data_state *ds, const rec_hdr *h, const uint8_t *t)
{
    bool client = h->a == SC_DIR_C2S;

    if (h->type == TUI_REC_FINDING)
        return *ds == TL_DATA_CONTENT ? TUI_F_IN_DATA : 0;
    switch ((sc_line_kind)h->b) {
    case SC_LINE_COMMAND:
        if (*ds == TL_DATA_CONTENT && tl_text_is(t, h->len, ".")) {
            *ds = TL_DATA_NONE;           /* the end of data: last row of the bar */
            return TUI_F_IN_DATA;
        }
        if (tl_text_is(t, h->len, "DATA")) {
            *ds = TL_DATA_SENT;
            return 0;
        }
        *ds = TL_DATA_NONE;
        return 0;
    case SC_LINE_CONTENT:
        if (*ds == TL_DATA_NONE)
            return 0;
        /* content lines (--show-content) or the summary written at the
         * end of data; the "." that follows is a command line */
        *ds = TL_DATA_CONTENT;
        return TUI_F_IN_DATA;
    case SC_LINE_REPLY:
        if (*ds == TL_DATA_SENT && h->len >= 3 && memcmp(t, "354", 3) == 0) {
            *ds = TL_DATA_CONTENT;
            return 0;
        }
        return *ds == TL_DATA_CONTENT ? TUI_F_IN_DATA | TUI_F_CROSSES : 0;
    case SC_LINE_EVENT:
        if (*ds != TL_DATA_CONTENT)
            return 0;
        if (client) {
            *ds = TL_DATA_NONE;
            return TUI_F_IN_DATA;
        }
        return TUI_F_IN_DATA | TUI_F_CROSSES;
    default:
        return *ds == TL_DATA_CONTENT ? TUI_F_IN_DATA : 0;
    }
}

static int tl_push(tui_tl *tl, uint64_t off, uint8_t flags)
{
    if (tl->n == tl->cap) {
        size_t cap = tl->cap ? tl->cap * 2 : 256;
        uint64_t *no = realloc(tl->off, cap * sizeof *no);
        if (!no)
            return -1;
        tl->off = no;
        uint8_t *nf = realloc(tl->flags, cap);
        if (!nf)
            return -1;
        tl->flags = nf;
        tl->cap = cap;
    }
    tl->off[tl->n] = off;
    tl->flags[tl->n] = flags;
    tl->n++;
    return 0;
}

/* The run state of a load: is the record at t the line loaded last? */
typedef struct tl_run_state {
    bool     have;            /* tl->last holds a line */
    uint8_t  dir, kind;
} tl_run_state;

static bool tl_run_same(const tui_tl *tl, const tl_run_state *rs, const rec_hdr *r,
                        const uint8_t *t)
{
    return rs->have && r->type == TUI_REC_LINE && r->b != SC_LINE_CONTENT &&
           r->a == rs->dir && r->b == rs->kind && r->len == tl->lastlen &&
           (r->len == 0 || memcmp(t, tl->last, r->len) == 0);
}

/* Folds line r (text t) into the run after the last line loaded, or
 * starts a new one: 1 when r was folded, 0 when it is to be pushed,
 * -1 out of memory. */
static int tl_run_step(tui_tl *tl, tl_run_state *rs, const rec_hdr *r, const uint8_t *t,
                       uint8_t fl)
{
    if (tl_run_same(tl, rs, r, t)) {
        tui_run *last = tl->nruns ? &tl->runs[tl->nruns - 1] : NULL;
        if (last && last->i + 1 == tl->n && (tl->flags[last->i] & TUI_F_RUN)) {
            last->count++;
            last->last = r->frame;
            tl->flags[last->i] |= fl & (TUI_F_IN_DATA | TUI_F_CROSSES);
            return 1;
        }
        tui_run *nr = sc_grow(tl->runs, &tl->capruns, tl->nruns, sizeof *nr, 16);
        if (!nr)
            return -1;
        tl->runs = nr;
        tl->runs[tl->nruns++] = (tui_run){ tl->n, 1, r->frame, r->frame };
        return 0;             /* pushed next, flagged TUI_F_RUN */
    }
    rs->have = false;
    if (r->type != TUI_REC_LINE || r->b == SC_LINE_CONTENT)
        return 0;             /* a finding or content ends the run */
    if (r->len > tl->lastcap) {
        uint8_t *nl = realloc(tl->last, r->len);
        if (!nl)
            return 0;         /* no run this time; the line is still shown */
        tl->last = nl;
        tl->lastcap = r->len;
    }
    if (r->len)
        memcpy(tl->last, t, r->len);
    tl->lastlen = r->len;
    rs->dir = r->a;
    rs->kind = r->b;
    rs->have = true;
    return 0;
}

int tui_store_load(tui_store *st, tui_tl *tl, size_t idx)
{
    tl_run_state rs = { false, 0, 0 };
    tui_sess *s;
    uint64_t *chain = NULL, off;
    size_t nchain = 0, capchain = 0;
    uint8_t *buf = NULL;
    size_t bufcap = 0;
    tl_data_state ds = TL_DATA_NONE;
    int rc = -1;

    if (idx >= st->nsess)
        return -1;
    s = &st->sess[idx];
    if (tl->sess == idx && tl->nrec_loaded == s->nrec)
        return 0;
    store_sess_flush(st, s);
    tl->sess = idx;
    tl->n = 0;
    tl->nruns = 0;
    tl->nrec_loaded = UINT32_MAX;         /* until the load succeeds */
    /* Walk the chain back; a chain longer than the record count means a
     * corrupted file, not a reason to loop. */
    for (off = s->last_chunk; off != TUI_NO_OFF; ) {
        chunk_hdr h;
        if (nchain > s->nrec || store_spill_read(st, &h, sizeof h, off) < 0 ||
            h.magic != CHUNK_MAGIC || h.id != s->id)
            goto out;
        if (nchain == capchain) {
            capchain = capchain ? capchain * 2 : 64;
            uint64_t *nc = realloc(chain, capchain * sizeof *nc);
            if (!nc)
                goto out;
            chain = nc;
        }
        chain[nchain++] = off;
        off = h.prev;
    }
    while (nchain > 0) {
        chunk_hdr h;
        off = chain[--nchain];
        if (store_spill_read(st, &h, sizeof h, off) < 0)
            goto out;
        if (h.nbytes > bufcap) {
            uint8_t *nb = realloc(buf, h.nbytes);
            if (!nb)
                goto out;
            buf = nb;
            bufcap = h.nbytes;
        }
        if (store_spill_read(st, buf, h.nbytes, off + sizeof h) < 0)
            goto out;
        for (size_t p = 0; p + sizeof(rec_hdr) <= h.nbytes; ) {
            rec_hdr r;
            memcpy(&r, buf + p, sizeof r);
            if (r.len > h.nbytes - p - sizeof r)
                goto out;
            const uint8_t *t = buf + p + sizeof r;
            uint8_t fl = tl_data_step(&ds, &r, t);
            size_t nruns = tl->nruns;
            if (r.type == TUI_REC_FINDING)
                fl |= TUI_F_FINDING;
            int folded = tl_run_step(tl, &rs, &r, t, fl);
            if (folded < 0)
                goto out;
            if (tl->nruns > nruns)
                fl |= TUI_F_RUN;
            if (!folded && tl_push(tl, off + sizeof h + p, fl) < 0)
                goto out;
            p += sizeof r + r.len;
        }
    }
    tl->nrec_loaded = s->nrec;
    rc = 0;
out:
    free(chain);
    free(buf);
    return rc;
}

int tui_store_rec(tui_store *st, const tui_tl *tl, size_t i, tui_rec *rec)
{
    rec_hdr h;

    if (i >= tl->n || store_spill_read(st, &h, sizeof h, tl->off[i]) < 0)
        return -1;
    if (h.len > TUI_TEXT_MAX + 0u && h.type == TUI_REC_LINE)
        return -1;
    if (h.len + 1 > st->rbufcap) {
        uint8_t *nb = realloc(st->rbuf, h.len + 1);
        if (!nb)
            return -1;
        st->rbuf = nb;
        st->rbufcap = h.len + 1;
    }
    if (h.len && store_spill_read(st, st->rbuf, h.len, tl->off[i] + sizeof h) < 0)
        return -1;
    st->rbuf[h.len] = 0;
    memset(rec, 0, sizeof *rec);
    rec->type = (tui_rec_type)h.type;
    rec->flags = h.flags | (tl->flags[i] & (TUI_F_IN_DATA | TUI_F_CROSSES | TUI_F_RUN));
    rec->frame = h.frame;
    rec->ts.tv_sec = (time_t)h.sec;
    rec->ts.tv_usec = h.usec;
    rec->text = st->rbuf;
    rec->len = h.len;
    if (h.type == TUI_REC_LINE) {
        rec->dir = (sc_dir)h.a;
        rec->kind = (sc_line_kind)h.b;
    } else {
        rec->severity = (sc_severity)h.a;
        rec->side = (sc_side)h.b;
        rec->rule = h.rule;
    }
    if (tl->flags[i] & TUI_F_RUN) {       /* its run: a binary search */
        size_t lo = 0, hi = tl->nruns;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (tl->runs[mid].i < i)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < tl->nruns && tl->runs[lo].i == i) {
            rec->run_count = tl->runs[lo].count;
            rec->run_first = tl->runs[lo].first;
            rec->run_last = tl->runs[lo].last;
        }
    }
    return 0;
}

void tui_tl_free(tui_tl *tl)
{
    free(tl->off);
    free(tl->flags);
    free(tl->runs);
    free(tl->last);
    memset(tl, 0, sizeof *tl);
    tl->sess = SIZE_MAX;
}

/* ---- life cycle ---- */

tui_store *tui_store_new(void)
{
    tui_store *st = calloc(1, sizeof *st);

    if (!st)
        return NULL;
    st->spill = sc_tmpfile();          /* in TMPDIR, already unlinked */
    if (!st->spill) {
        free(st);
        return NULL;
    }
    st->fd = fileno(st->spill);
    return st;
}

void tui_store_free(tui_store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->nsess; i++)
        free(st->sess[i].buf);
    free(st->sess);
    free(st->hash);
    free(st->rbuf);
    for (size_t i = 0; i < st->nfiles; i++)
        free(st->files[i]);
    free(st->files);
    fclose(st->spill);
    free(st);
}
