/*
 * livecut.c - per-connection spool files of a live capture (livecut.h).
 *
 * A spool file is a classic pcap file: its header is written by libpcap
 * (so the link type is spelled as libpcap spells it in files), then each
 * frame is appended with one writev() of a record header and the frame,
 * unbuffered, so that a descriptor can be closed at any time without a
 * flush and nothing of a connection sits in memory but its small head.
 *
 * Connections are kept in an id map (lookup) and on a list (to remove
 * what is left at the end); those with an open descriptor also on an LRU
 * list, most recently written first.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/safeprint.h"
#include "livecut.h"

#define LIVECUT_PATH_MAX 4096

typedef struct lc_conn {
    uint64_t        id;
    int             fd;             /* -1 when not open */
    bool            created;        /* the file exists */
    bool            failed;         /* writing failed: nothing more kept */
    bool            stopped;        /* sc_livecut_stop: nothing more kept */
    uint64_t        bytes;
    uint8_t        *head;           /* frames not on disk yet (records) */
    size_t          nhead;
    uint64_t        frames;
    struct lc_conn *lru_prev, *lru_next;
    struct lc_conn *all_prev, *all_next;
} lc_conn;

struct sc_livecut {
    char      dir[LIVECUT_PATH_MAX];   /* the private spool directory */
    char      path[LIVECUT_PATH_MAX];  /* sc_livecut_take's answer */
    pcap_t   *dead;                    /* for the file header */
    sc_idmap *conns;
    lc_conn  *lru_first, *lru_last;
    size_t    nopen;
    lc_conn  *all;
    bool      warned;
};

/* The record header of the classic pcap format, in host order as the
 * file header libpcap writes. */
typedef struct lc_rec {
    uint32_t sec, usec, caplen, len;
} lc_rec;

static void lc_path(const sc_livecut *lc, uint64_t id, char *buf, size_t len)
{
    snprintf(buf, len, "%.4000s/%" PRIu64 ".pcap", lc->dir, id);
}

static void lc_lru_unlink(sc_livecut *lc, lc_conn *c)
{
    if (c->lru_prev)
        c->lru_prev->lru_next = c->lru_next;
    else
        lc->lru_first = c->lru_next;
    if (c->lru_next)
        c->lru_next->lru_prev = c->lru_prev;
    else
        lc->lru_last = c->lru_prev;
    c->lru_prev = c->lru_next = NULL;
}

static void lc_lru_front(sc_livecut *lc, lc_conn *c)
{
    c->lru_next = lc->lru_first;
    if (lc->lru_first)
        lc->lru_first->lru_prev = c;
    lc->lru_first = c;
    if (!lc->lru_last)
        lc->lru_last = c;
}

static void lc_fd_close(sc_livecut *lc, lc_conn *c)
{
    if (c->fd < 0)
        return;
    close(c->fd);
    c->fd = -1;
    lc_lru_unlink(lc, c);
    lc->nopen--;
}

/* Stops keeping c's packets; says so once per run. */
static void lc_fail(sc_livecut *lc, lc_conn *c, const char *what, int err)
{
    char path[LIVECUT_PATH_MAX];

    c->failed = true;
    lc_fd_close(lc, c);
    free(c->head);
    c->head = NULL;
    c->nhead = 0;
    if (!lc->warned) {
        lc_path(lc, c->id, path, sizeof path);
        fputs("smtpscope: --evidence: ", stderr);
        sc_safe_fputstr(stderr, path);
        fprintf(stderr, ": %s: %s (the session's packets are not kept)\n", what,
                strerror(err));
        lc->warned = true;
    }
}

/* Creates c's file with the pcap file header. */
static int lc_create(sc_livecut *lc, lc_conn *c)
{
    char path[LIVECUT_PATH_MAX];
    int fd, keep;
    FILE *fp;
    pcap_dumper_t *d;

    lc_path(lc, c->id, path, sizeof path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        lc_fail(lc, c, "cannot create", errno);
        return -1;
    }
    keep = dup(fd);
    if (keep < 0 || !(fp = fdopen(fd, "wb"))) {
        int e = errno;
        if (keep >= 0)
            close(keep);
        close(fd);
        unlink(path);
        lc_fail(lc, c, "cannot create", e);
        return -1;
    }
    d = pcap_dump_fopen(lc->dead, fp);
    if (!d) {
        fclose(fp);
        close(keep);
        unlink(path);
        lc_fail(lc, c, "cannot write the pcap header", EIO);
        return -1;
    }
    if (pcap_dump_flush(d) < 0) {
        pcap_dump_close(d);
        close(keep);
        unlink(path);
        lc_fail(lc, c, "cannot write the pcap header", errno ? errno : EIO);
        return -1;
    }
    pcap_dump_close(d);
    c->created = true;
    c->fd = keep;
    lc_lru_front(lc, c);
    lc->nopen++;
    return 0;
}

/* c's descriptor, opened (created, or reopened for appending) when
 * needed, the least recently written one closed to make room. */
static int lc_fd(sc_livecut *lc, lc_conn *c)
{
    char path[LIVECUT_PATH_MAX];

    if (c->fd >= 0) {
        lc_lru_unlink(lc, c);
        lc_lru_front(lc, c);
        return c->fd;
    }
    if (lc->nopen >= SC_LIVECUT_FDS)
        lc_fd_close(lc, lc->lru_last);
    if (!c->created)
        return lc_create(lc, c) < 0 ? -1 : c->fd;
    lc_path(lc, c->id, path, sizeof path);
    c->fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (c->fd < 0) {
        lc_fail(lc, c, "cannot reopen", errno);
        return -1;
    }
    lc_lru_front(lc, c);
    lc->nopen++;
    return c->fd;
}

/* Writes all of iov (a short write on a regular file means the disk is
 * full; then the connection's spool fails). */
static int lc_write(sc_livecut *lc, lc_conn *c, const struct iovec *iov, int n)
{
    size_t want = 0;
    int fd = lc_fd(lc, c);

    if (fd < 0)
        return -1;
    for (int i = 0; i < n; i++)
        want += iov[i].iov_len;
    ssize_t got = writev(fd, iov, n);
    if (got < 0 || (size_t)got != want) {
        lc_fail(lc, c, "cannot write", got < 0 ? errno : ENOSPC);
        return -1;
    }
    return 0;
}

/* Moves the head (frames kept in memory) to the file. */
static int lc_head_flush(sc_livecut *lc, lc_conn *c)
{
    struct iovec iov = { c->head, c->nhead };

    if (c->nhead && lc_write(lc, c, &iov, 1) < 0)
        return -1;
    if (!c->created && lc_fd(lc, c) < 0)
        return -1;
    free(c->head);
    c->head = NULL;
    c->nhead = 0;
    return 0;
}

static lc_conn *lc_conn_get(sc_livecut *lc, uint64_t id)
{
    lc_conn *c = sc_idmap_get(lc->conns, id);

    if (c)
        return c;
    if (!(c = calloc(1, sizeof *c)))
        return NULL;
    c->id = id;
    c->fd = -1;
    if (sc_idmap_put(lc->conns, id, c) < 0) {
        free(c);
        return NULL;
    }
    c->all_next = lc->all;
    if (lc->all)
        lc->all->all_prev = c;
    lc->all = c;
    return c;
}

void sc_livecut_packet(sc_livecut *lc, uint64_t id, const sc_packet *pkt)
{
    lc_conn *c = lc_conn_get(lc, id);
    lc_rec r = { (uint32_t)pkt->ts.tv_sec, (uint32_t)pkt->ts.tv_usec,
                 pkt->caplen, pkt->wirelen };

    if (!c || c->failed || c->stopped)
        return;
    c->frames++;
    c->bytes += sizeof r + pkt->caplen;
    /* Small frames of a connection without a file wait in its head: the
     * handshake of a connection that never carries data costs no file. */
    if (!c->created && c->nhead + sizeof r + pkt->caplen <= SC_LIVECUT_HEAD) {
        if (!c->head && !(c->head = malloc(SC_LIVECUT_HEAD))) {
            lc_fail(lc, c, "out of memory", ENOMEM);
            return;
        }
        memcpy(c->head + c->nhead, &r, sizeof r);
        memcpy(c->head + c->nhead + sizeof r, pkt->data, pkt->caplen);
        c->nhead += sizeof r + pkt->caplen;
        return;
    }
    if (lc_head_flush(lc, c) < 0)
        return;
    struct iovec iov[2] = { { &r, sizeof r }, { (void *)pkt->data, pkt->caplen } };
    (void)lc_write(lc, c, iov, 2);
}

uint64_t sc_livecut_bytes(const sc_livecut *lc, uint64_t id)
{
    const lc_conn *c = sc_idmap_get(lc->conns, id);

    return c ? c->bytes : 0;
}

/* Removes c's file and head; c stays (known, keeping nothing). */
static void lc_discard(sc_livecut *lc, lc_conn *c)
{
    char path[LIVECUT_PATH_MAX];

    lc_fd_close(lc, c);
    if (c->created) {
        lc_path(lc, c->id, path, sizeof path);
        unlink(path);
        c->created = false;
    }
    free(c->head);
    c->head = NULL;
    c->nhead = 0;
}

void sc_livecut_stop(sc_livecut *lc, uint64_t id)
{
    lc_conn *c = lc_conn_get(lc, id);

    if (!c)
        return;
    c->stopped = true;
    lc_discard(lc, c);
}

const char *sc_livecut_take(sc_livecut *lc, uint64_t id, uint64_t *frames,
                            sc_livecut_lack *lack)
{
    lc_conn *c = sc_idmap_get(lc->conns, id);

    *frames = c ? c->frames : 0;
    *lack = !c || c->frames == 0 ? SC_LIVECUT_NOTHING :
            c->failed ? SC_LIVECUT_FAILED : c->stopped ? SC_LIVECUT_STOPPED : SC_LIVECUT_KEPT;
    if (*lack != SC_LIVECUT_KEPT)
        return NULL;
    if (lc_head_flush(lc, c) < 0) {
        *lack = SC_LIVECUT_FAILED;
        return NULL;
    }
    lc_fd_close(lc, c);
    lc_path(lc, id, lc->path, sizeof lc->path);
    return lc->path;
}

static void lc_conn_free(sc_livecut *lc, lc_conn *c)
{
    lc_discard(lc, c);
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        lc->all = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
    free(c);
}

void sc_livecut_drop(sc_livecut *lc, uint64_t id)
{
    lc_conn *c = sc_idmap_del(lc->conns, id);

    if (c)
        lc_conn_free(lc, c);
}

sc_livecut *sc_livecut_new(const char *dir, int linktype, int snaplen,
                           char *err, size_t errlen)
{
    sc_livecut *lc = calloc(1, sizeof *lc);
    int n;

    if (!lc || !(lc->conns = sc_idmap_new()) ||
        !(lc->dead = pcap_open_dead(linktype, snaplen))) {
        snprintf(err, errlen, "%s: out of memory", dir);
        goto fail;
    }
    n = snprintf(lc->dir, sizeof lc->dir, "%s/.smtpscope-spool-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof lc->dir - 32) {
        snprintf(err, errlen, "%s: name too long", dir);
        goto fail;
    }
    /* mkdtemp: mode 0700, a fresh name, so the unmasked packets kept
     * under --redact are readable by this user only. */
    if (!mkdtemp(lc->dir)) {
        snprintf(err, errlen, "%s: cannot create the packet spool: %s", dir, strerror(errno));
        goto fail;
    }
    return lc;
fail:
    if (lc) {
        if (lc->dead)
            pcap_close(lc->dead);
        sc_idmap_free(lc->conns);
        free(lc);
    }
    return NULL;
}

void sc_livecut_free(sc_livecut *lc)
{
    if (!lc)
        return;
    while (lc->all) {
        lc_conn *c = lc->all;
        sc_idmap_del(lc->conns, c->id);
        lc_conn_free(lc, c);
    }
    rmdir(lc->dir);
    sc_idmap_free(lc->conns);
    pcap_close(lc->dead);
    free(lc);
}
