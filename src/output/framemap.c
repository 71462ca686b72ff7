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
 * disk for their map. Past them, the list goes to a temporary file of
 * its own, created 0600 with O_EXCL by mkstemp in $TMPDIR (else /tmp)
 * and removed by sc_framemap_free, FM_BUF entries at a time; it is open
 * only while it is written (a cut of many sessions at once holds no
 * descriptor for their maps), then for the lookups after the cut.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/frame.h"
#include "framemap.h"
#include "textblock.h"

#define FM_WIDTH 13              /* the frame column: "#12345 (678)" */

#define FM_BUF 32                /* entries kept before the file is written */

struct sc_framemap {
    uint64_t buf[FM_BUF];        /* the latest entries, not in the file yet */
    unsigned nbuf;
    char    *path;               /* the temporary file, once made */
    FILE    *fp;                 /* open for lookups, after the cut */
    bool     failed;             /* an entry was lost */
    uint64_t n;                  /* entries in the file (known after the cut) */
    uint64_t hint;               /* next entry to look at */
};

sc_framemap *sc_framemap_new(void)
{
    return calloc(1, sizeof(sc_framemap));
}

/* Appends the kept entries to the file (made the first time), which is
 * open only while it is written. */
static int fm_flush(sc_framemap *m)
{
    size_t len = m->nbuf * sizeof m->buf[0];
    ssize_t w;
    int fd;

    if (!m->path) {
        const char *dir = getenv("TMPDIR");
        size_t plen;
        if (!dir || !*dir)
            dir = "/tmp";
        plen = strlen(dir) + sizeof "/smtpscope-frames-XXXXXX";
        if (!(m->path = malloc(plen)))
            return -1;
        snprintf(m->path, plen, "%s/smtpscope-frames-XXXXXX", dir);
        if ((fd = mkstemp(m->path)) < 0) {
            free(m->path);
            m->path = NULL;
            return -1;
        }
    } else if ((fd = open(m->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        return -1;
    }
    w = write(fd, m->buf, len);
    if (close(fd) != 0 || w != (ssize_t)len)
        return -1;
    m->nbuf = 0;
    return 0;
}

int sc_framemap_add(sc_framemap *m, uint64_t frame)
{
    if (m->failed || (m->nbuf == FM_BUF && fm_flush(m) < 0)) {
        m->failed = true;
        return -1;
    }
    m->buf[m->nbuf++] = frame;
    return 0;
}

/* After the cut: the file with every entry, open to read (NULL: the map
 * is in buf alone, or the file cannot be read). */
static FILE *fm_file(sc_framemap *m)
{
    int fd;

    if (m->fp || !m->path || m->failed)
        return m->fp;
    if ((m->nbuf && fm_flush(m) < 0) ||
        (fd = open(m->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        m->failed = true;
        return NULL;
    }
    if (!(m->fp = fdopen(fd, "rb"))) {
        close(fd);
        m->failed = true;
    }
    return m->fp;
}

/* A short map: entries in memory. */
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

static int fm_at(sc_framemap *m, uint64_t i, uint64_t *frame)
{
    if (fseeko(m->fp, (off_t)(i * sizeof *frame), SEEK_SET) != 0)
        return -1;
    return fread(frame, sizeof *frame, 1, m->fp) == 1 ? 0 : -1;
}

uint64_t sc_framemap_lookup(sc_framemap *m, uint64_t frame)
{
    uint64_t f;

    if (!m)
        return 0;
    if (!m->path)
        return fm_lookup_buf(m, frame);
    if (!fm_file(m))
        return 0;
    if (!m->n) {
        if (fseeko(m->fp, 0, SEEK_END) != 0)
            return 0;
        m->n = (uint64_t)ftello(m->fp) / sizeof f;
    }
    if (m->hint >= m->n)
        m->hint = 0;
    if (m->n == 0 || fm_at(m, m->hint, &f) < 0)
        return 0;
    for (uint64_t k = 0; k < m->n; k++) {
        uint64_t i = (m->hint + k) % m->n;
        if (i == 0 && k && fseeko(m->fp, 0, SEEK_SET) != 0)
            return 0;
        if (k && fread(&f, sizeof f, 1, m->fp) != 1)
            return 0;
        if (f == frame) {
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
    if (m->fp)
        fclose(m->fp);
    if (m->path)
        unlink(m->path);
    free(m->path);
    free(m);
}
