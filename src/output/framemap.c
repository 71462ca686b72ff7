/*
 * framemap.c - original and evidence frame numbers (framemap.h).
 *
 * The map is the list of original frames in the order the cut wrote
 * them: entry i (from 0) is evidence frame i + 1. A lookup scans forward
 * from the entry after the previous hit, wrapping once, so lines in
 * frame order cost one pass over the file in all; frames are not assumed
 * sorted (several files read as one capture number theirs file by file).
 *
 * The first FM_BUF entries stay in memory: most sessions never touch the
 * disk for their map. Past them, the entries go FM_BUF at a time, as one
 * chunk, to a temporary file all the maps of the process share: made by
 * sc_tmpfile (in $TMPDIR, else /tmp, mode 0600) and unlinked at once, so
 * nothing is left behind whatever ends the process, even SIGKILL, and a
 * cut of many sessions at once holds one descriptor for all their maps.
 * A map's chunks are a list in that file (each names the next), so a map
 * keeps only its first and last chunk and the one it reads; the file is
 * closed when the last map is freed. Not for a process that forks with
 * maps alive (the children would share the file's end): none does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/frame.h"
#include "common/wcheck.h"
#include "framemap.h"
#include "textblock.h"

#define FM_WIDTH 13              /* the frame column: "#12345 (678)" */

#define FM_BUF 32                /* entries kept before a chunk is written */
#define FM_NONE UINT64_MAX

/* A chunk as written: the offset of the map's next chunk (FM_NONE: the
 * last), how many entries it holds (FM_BUF but in the last), the entries. */
typedef struct fm_chunk {
    uint64_t next;
    uint64_t count;
    uint64_t e[FM_BUF];
} fm_chunk;

/* The file the maps share, while any map lives. */
static FILE    *fm_fp;
static uint64_t fm_end;          /* where the next chunk goes */
static size_t   fm_users;

struct sc_framemap {
    uint64_t buf[FM_BUF];        /* entries not written yet; after the cut,
                                    the chunk being read */
    unsigned nbuf;
    bool     failed;             /* an entry was lost */
    bool     sealed;             /* cut over: every entry is in the file */
    uint64_t first, last;        /* its chunks (FM_NONE: none yet) */
    uint64_t n;                  /* entries in all */
    uint64_t cur, cur_next;      /* the chunk in buf, and the one after it */
    uint64_t cur_base;           /* the entry number of buf[0] */
    uint64_t hint;               /* next entry to look at */
};

sc_framemap *sc_framemap_new(void)
{
    sc_framemap *m = calloc(1, sizeof *m);

    if (m) {
        m->first = m->last = m->cur = FM_NONE;
        fm_users++;
    }
    return m;
}

static int fm_pwrite(const void *p, size_t n, uint64_t off)
{
    ssize_t w = pwrite(fileno(fm_fp), p, n, (off_t)off);

    if (w != (ssize_t)n) {
        if (w >= 0)
            errno = ENOSPC;
        return -1;
    }
    return 0;
}

/* The kept entries as the map's next chunk, linked from its last. */
static int fm_flush(sc_framemap *m)
{
    fm_chunk c = { FM_NONE, m->nbuf, { 0 } };
    uint64_t at;

    if (!fm_fp && !(fm_fp = sc_tmpfile()))
        return -1;
    at = fm_end;
    memcpy(c.e, m->buf, m->nbuf * sizeof m->buf[0]);
    if (fm_pwrite(&c, sizeof c, at) < 0 ||
        (m->last != FM_NONE && fm_pwrite(&at, sizeof at, m->last) < 0))
        return -1;
    fm_end += sizeof c;
    if (m->first == FM_NONE)
        m->first = at;
    m->last = at;
    m->nbuf = 0;
    return 0;
}

int sc_framemap_add(sc_framemap *m, uint64_t frame)
{
    if (m->failed || m->sealed || (m->nbuf == FM_BUF && fm_flush(m) < 0)) {
        m->failed = true;
        return -1;
    }
    m->buf[m->nbuf++] = frame;
    m->n++;
    return 0;
}

/* Reads the chunk at off into buf (base: its first entry's number). */
static int fm_load(sc_framemap *m, uint64_t off, uint64_t base)
{
    fm_chunk c;

    if (pread(fileno(fm_fp), &c, sizeof c, (off_t)off) != (ssize_t)sizeof c ||
        c.count > FM_BUF)
        return -1;
    memcpy(m->buf, c.e, sizeof c.e);
    m->nbuf = (unsigned)c.count;
    m->cur = off;
    m->cur_next = c.next;
    m->cur_base = base;
    return 0;
}

/* After the cut: every entry in the file (false: the map is in buf
 * alone, or cannot be read). */
static bool fm_on_disk(sc_framemap *m)
{
    if (m->first == FM_NONE || m->failed)
        return false;
    if (!m->sealed) {
        if (m->nbuf && fm_flush(m) < 0) {
            m->failed = true;
            return false;
        }
        m->sealed = true;
        m->cur = FM_NONE;
    }
    return true;
}

/* Entries in memory only: a short map. */
static uint64_t fm_lookup_buf(sc_framemap *m, uint64_t frame)
{
    for (unsigned k = 0; k < m->nbuf; k++) {
        unsigned i = (unsigned)((m->hint + k) % m->nbuf);
        if (m->buf[i] == frame) {
            m->hint = i;
            return i + 1;
        }
    }
    return 0;
}

uint64_t sc_framemap_lookup(sc_framemap *m, uint64_t frame)
{
    if (!m || m->failed)
        return 0;
    if (!fm_on_disk(m))
        return m->first == FM_NONE ? fm_lookup_buf(m, frame) : 0;
    if (m->n == 0)
        return 0;
    if (m->hint >= m->n)
        m->hint = 0;
    /* chunks are full but the last: entry i is in chunk i / FM_BUF */
    if (m->cur == FM_NONE || m->hint < m->cur_base || m->hint >= m->cur_base + m->nbuf) {
        uint64_t off = m->first, base = 0;
        if (m->cur != FM_NONE && m->hint >= m->cur_base + m->nbuf &&
            m->hint < m->cur_base + m->nbuf + FM_BUF && m->cur_next != FM_NONE) {
            off = m->cur_next;         /* the next chunk: the usual case */
            base = m->cur_base + m->nbuf;
        }
        for (;;) {
            if (fm_load(m, off, base) < 0)
                return 0;
            if (m->hint < base + m->nbuf || m->cur_next == FM_NONE)
                break;
            off = m->cur_next;
            base += m->nbuf;
        }
    }
    for (uint64_t k = 0; k < m->n; k++) {
        uint64_t i = m->hint + k < m->n ? m->hint + k : m->hint + k - m->n;
        if (i < m->cur_base || i >= m->cur_base + m->nbuf) {
            if (i == 0 ? fm_load(m, m->first, 0) < 0
                       : m->cur_next == FM_NONE || fm_load(m, m->cur_next, m->cur_base + m->nbuf) < 0)
                return 0;
        }
        if (m->buf[i - m->cur_base] == frame) {
            m->hint = i;          /* several lines end in one frame */
            return i + 1;
        }
    }
    return 0;
}

const char *sc_framemap_name(sc_framemap *m, uint64_t frame, char *buf, size_t len)
{
    uint64_t e = sc_framemap_lookup(m, frame);

    if (e)
        snprintf(buf, len, "%s (%" PRIu64 ")", sc_frame_name(frame), e);
    else
        snprintf(buf, len, "%s", sc_frame_name(frame));
    return buf;
}

int sc_framemap_expand(sc_framemap *m, FILE *in, FILE *out)
{
    char name[FRAME_NAME_MAX + 32];
    int c;

    while ((c = getc(in)) != EOF) {
        if (c != SC_TB_MARK_OPEN) {
            putc(c, out);
            continue;
        }
        uint64_t f = 0;
        while ((c = getc(in)) != EOF && c != SC_TB_MARK_CLOSE)
            if (c >= '0' && c <= '9')
                f = f * 10 + (uint64_t)(c - '0');
        fprintf(out, "%-*s", FM_WIDTH, sc_framemap_name(m, f, name, sizeof name));
    }
    return ferror(in) ? -1 : 0;
}

void sc_framemap_free(sc_framemap *m)
{
    if (!m)
        return;
    free(m);
    if (--fm_users == 0 && fm_fp) {
        fclose(fm_fp);             /* unlinked already: its space goes */
        fm_fp = NULL;
        fm_end = 0;
    }
}
