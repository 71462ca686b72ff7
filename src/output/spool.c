/*
 * spool.c - chains of text chunks in one temporary file (spool.h).
 *
 * On disk a chunk is a header {next offset + 1 (0 = end), length} followed
 * by the bytes; appending writes at the end of the file and patches the
 * previous chunk's next field, so a chain costs O(1) memory at any size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "common/wcheck.h"

struct sc_spool {
    FILE    *fp;             /* sc_tmpfile(), NULL until needed or when failed */
    int      fd;
    int      failed;
    uint64_t end;            /* append offset */
    uint64_t live;           /* chunks held by chains */
    size_t   ram;            /* bytes of parked chains kept in RAM */
};

/* Parked chains stay in RAM while they hold at most this much in all.
 * A block that waits for an earlier session is usually small and waits
 * briefly; writing each one out and reading it back cost two pwrite and
 * two pread per chunk (440 000 system calls for 37 000 sessions, most of
 * the text report's time on gateway traffic). Past the budget they go to
 * the file as before, so memory stays bounded whatever the capture. */
#define SPOOL_RAM_PARK (4u << 20)

#define SPOOL_BUF_MIN 256     /* first RAM part of a chain */

typedef struct spool_hdr {
    uint64_t next;
    uint64_t len;
} spool_hdr;

sc_spool *sc_spool_new(void)
{
    sc_spool *sp = calloc(1, sizeof *sp);

    if (sp)
        sp->fd = -1;
    return sp;
}

void sc_spool_free(sc_spool *sp)
{
    if (!sp)
        return;
    if (sp->fp)
        fclose(sp->fp);
    free(sp);
}

void sc_chain_init(sc_chain *c)
{
    memset(c, 0, sizeof *c);
}

static int spool_file_open(sc_spool *sp)
{
    if (sp->fp)
        return 0;
    if (sp->failed)
        return -1;
    sp->fp = sc_tmpfile();
    if (!sp->fp) {
        sp->failed = 1;
        sc_write_lost("temporary file of the report (TMPDIR)", errno,
                      "long transcripts are cut");
        return -1;
    }
    sp->fd = fileno(sp->fp);
    return 0;
}

static int spool_pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const char *q = p;

    while (n > 0) {
        ssize_t k = pwrite(fd, q, n, (off_t)off);
        if (k <= 0)
            return -1;
        q += k; n -= (size_t)k; off += (uint64_t)k;
    }
    return 0;
}

/* Appends the RAM part of c to the file as one chunk. */
static void spool_chain_spill(sc_spool *sp, sc_chain *c)
{
    spool_hdr h = { 0, c->len };
    uint64_t off = sp->end;

    if (c->len == 0)
        return;
    if (spool_file_open(sp) < 0 ||
        spool_pwrite_all(sp->fd, &h, sizeof h, off) < 0 ||
        spool_pwrite_all(sp->fd, c->buf, c->len, off + sizeof h) < 0) {
        if (!sp->failed)     /* the open failure was said already */
            sc_write_lost("temporary file of the report (TMPDIR)", errno,
                          "long transcripts are cut");
        c->lost += c->len;
        c->len = 0;
        return;
    }
    if (c->last) {
        uint64_t next = off + 1;
        if (spool_pwrite_all(sp->fd, &next, sizeof next, c->last - 1) < 0) {
            sc_write_lost("temporary file of the report (TMPDIR)", errno,
                          "long transcripts are cut");
            c->lost += c->len;
        }
    } else {
        c->first = off + 1;
    }
    c->last = off + 1;
    c->nchunks++;
    sp->live++;
    sp->end = off + sizeof h + c->len;
    c->len = 0;
}

/* The RAM part starts small and doubles up to SC_SPOOL_BUF: a block is
 * held for every concurrent session, and most of them write a few hundred
 * bytes. Returns -1 when the full buffer cannot grow (then it spills). */
static int spool_chain_grow(sc_chain *c)
{
    size_t cap = c->cap ? c->cap * 2 : SPOOL_BUF_MIN;
    char *nb;

    if (c->cap >= SC_SPOOL_BUF)
        return -1;
    if (cap > SC_SPOOL_BUF)
        cap = SC_SPOOL_BUF;
    if (!(nb = realloc(c->buf, cap)))
        return -1;
    c->buf = nb;
    c->cap = cap;
    return 0;
}

void sc_chain_reserve(sc_chain *c, size_t n)
{
    size_t cap = c->cap ? c->cap : SPOOL_BUF_MIN;
    char *nb;

    if (c->len + n <= c->cap || c->cap >= SC_SPOOL_BUF)
        return;
    while (cap < c->len + n && cap < SC_SPOOL_BUF)
        cap *= 2;
    if (cap > SC_SPOOL_BUF)
        cap = SC_SPOOL_BUF;
    if (!(nb = realloc(c->buf, cap)))
        return;                 /* the appends grow it, or spill */
    c->buf = nb;
    c->cap = cap;
}

void sc_chain_append(sc_spool *sp, sc_chain *c, const char *p, size_t n)
{
    while (n > 0) {
        if (c->len == c->cap && spool_chain_grow(c) < 0) {
            if (!c->cap) {
                c->lost += n;
                return;
            }
            spool_chain_spill(sp, c);        /* empties it, or counts it lost */
            continue;
        }
        size_t k = c->cap - c->len < n ? c->cap - c->len : n;
        memcpy(c->buf + c->len, p, k);
        c->len += k; p += k; n -= k;
        if (c->len == SC_SPOOL_BUF)
            spool_chain_spill(sp, c);
    }
}

void sc_chain_park(sc_spool *sp, sc_chain *c)
{
    if (c->held == 0 && c->cap > 0 && sp->ram + c->cap <= SPOOL_RAM_PARK) {
        c->held = c->cap;
        sp->ram += c->held;
        return;
    }
    spool_chain_spill(sp, c);
    if (c->len == 0) {
        free(c->buf);
        c->buf = NULL;
        c->cap = 0;
    }
}

int sc_chain_copy(sc_spool *sp, const sc_chain *c, FILE *out)
{
    char buf[SC_SPOOL_BUF];
    uint64_t at = c->first;

    while (at) {
        spool_hdr h;
        if (pread(sp->fd, &h, sizeof h, (off_t)(at - 1)) != (ssize_t)sizeof h ||
            h.len > sizeof buf ||
            pread(sp->fd, buf, h.len, (off_t)(at - 1 + sizeof h)) != (ssize_t)h.len) {
            sc_write_lost("temporary file of the report (TMPDIR)", errno,
                          "a session block is cut");
            fprintf(out, "  [the rest of this report is lost: temporary file unreadable]\n");
            return -1;
        }
        fwrite(buf, 1, h.len, out);
        at = h.next;
    }
    if (c->len)
        fwrite(c->buf, 1, c->len, out);
    if (c->lost)
        fprintf(out, "  [%llu bytes of this report lost: temporary file unusable]\n",
                (unsigned long long)c->lost);
    return 0;
}

void sc_chain_release(sc_spool *sp, sc_chain *c)
{
    sp->live -= c->nchunks;
    sp->ram -= c->held;
    free(c->buf);
    sc_chain_init(c);
    if (sp->live == 0 && sp->fp && sp->end > 0) {
        /* Nothing waits on disk: start the file over. */
        if (ftruncate(sp->fd, 0) == 0)
            sp->end = 0;
    }
}
