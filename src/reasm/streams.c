/*
 * streams.c - --write-streams DIR: reassembled bytes to files, as a flow
 * handler decorator.
 *
 * Interface: src/reasm/streams.h.
 *
 * Each connection gets a small record that holds the inner handler's user
 * pointer; around every call into the inner handler conn->user is swapped
 * to the inner value and back, so the inner handler never sees the
 * decorator.
 *
 * Names are those of the evidence bundles: session-ID, and with several
 * capture files N-session-ID (N: the file's position in -r, set by
 * sc_streams_set_file), since each file numbers its connections from 1.
 * A connection keeps the number of the file it opened in.
 *
 * Files are created once, O_EXCL|O_NOFOLLOW, mode 0600 (the directory may
 * be writable by others; the bytes are the client's), and written through
 * the descriptor kept open; past STREAMS_FD_MAX open descriptors a stream
 * is reopened for each write, append only, and only if it is still the
 * file created (device and inode). A directory that holds streams already
 * is refused.
 *
 * Diagnostics: "smtpscope: DIR/session-ID.c2s: reason; ..." once per
 * failing stream on standard error (src/common/wcheck.h: exit status 3).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "streams.h"
#include "common/wcheck.h"

/* Descriptors kept open at most; beyond, a stream is reopened (append,
 * never created again) for each write, so a flood of connections cannot
 * exhaust the process's descriptors. */
#define STREAMS_FD_MAX 256

struct sc_streams {
    char             dir[4096];
    sc_flow_handler  inner;
    bool             has_inner;
    sc_flow_handler  self;
    unsigned         file;        /* sc_streams_set_file; 0: no prefix */
    unsigned         nopen;       /* descriptors held, <= STREAMS_FD_MAX */
};

typedef struct streams_conn {
    void    *inner_user;
    unsigned file;
    bool     failed[2];
    int      fd[2];               /* -1: not held (closed or failed) */
    dev_t    dev[2];              /* the file created, to know it again */
    ino_t    ino[2];
} streams_conn;

static const char *const streams_suffix[2] = { "c2s", "s2c" };

static void streams_path(const sc_streams *s, const sc_conn *conn, const streams_conn *sc,
                         int d, char *buf, size_t len)
{
    char pre[16] = "";

    if (sc->file)
        snprintf(pre, sizeof pre, "%u-", sc->file);
    snprintf(buf, len, "%s/%ssession-%llu.%s", s->dir, pre, (unsigned long long)conn->id,
             streams_suffix[d]);
}

static void streams_fail(streams_conn *sc, int d, const char *path, int err)
{
    sc->failed[d] = true;
    sc_write_lost(path, err, "the stream file is incomplete");
}

/* Creates the file: never one that exists, never through a symbolic
 * link (the directory may be writable by others), private to the user. */
static void streams_create(sc_streams *s, const sc_conn *conn, streams_conn *sc, int d)
{
    char path[4200];
    struct stat st;
    int fd;

    streams_path(s, conn, sc, d, path, sizeof path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || fstat(fd, &st) < 0) {
        streams_fail(sc, d, path, errno);
        if (fd >= 0)
            close(fd);
        return;
    }
    sc->dev[d] = st.st_dev;
    sc->ino[d] = st.st_ino;
    if (s->nopen < STREAMS_FD_MAX) {
        sc->fd[d] = fd;
        s->nopen++;
    } else {
        close(fd);
    }
}

static int streams_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k; n -= (size_t)k;
    }
    return 0;
}

static void streams_write(sc_streams *s, const sc_conn *conn, streams_conn *sc, int d,
                          const uint8_t *p, size_t n)
{
    char path[4200];
    struct stat st;
    int fd = sc->fd[d];

    if (sc->failed[d])
        return;
    if (fd < 0) {
        /* Past the bound: reopen the file this run created, and only it. */
        streams_path(s, conn, sc, d, path, sizeof path);
        fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_dev != sc->dev[d] ||
                        st.st_ino != sc->ino[d])) {
            close(fd);
            fd = -1;
            errno = EEXIST;       /* replaced by another file meanwhile */
        }
        if (fd < 0 || streams_write_all(fd, p, n) < 0)
            streams_fail(sc, d, path, errno);
        if (fd >= 0)
            close(fd);
        return;
    }
    if (streams_write_all(fd, p, n) < 0) {
        streams_path(s, conn, sc, d, path, sizeof path);
        streams_fail(sc, d, path, errno);
    }
}

static void streams_close(sc_streams *s, streams_conn *sc)
{
    for (int d = 0; d < 2; d++)
        if (sc->fd[d] >= 0) {
            close(sc->fd[d]);
            sc->fd[d] = -1;
            s->nopen--;
        }
}

static void streams_open(void *ctx, sc_conn *conn)
{
    sc_streams *s = ctx;
    streams_conn *sc = calloc(1, sizeof *sc);

    conn->user = NULL;
    if (s->has_inner && s->inner.open)
        s->inner.open(s->inner.ctx, conn);
    if (!sc) {
        fprintf(stderr, "smtpscope: --write-streams: out of memory\n");
        return;        /* conn->user stays the inner one; we write nothing */
    }
    sc->inner_user = conn->user;
    sc->file = s->file;
    conn->user = sc;
    for (int d = 0; d < 2; d++) {
        sc->fd[d] = -1;
        streams_create(s, conn, sc, d);
    }
}

static void streams_event(void *ctx, sc_conn *conn, const sc_flow_event *ev)
{
    sc_streams *s = ctx;
    streams_conn *sc = conn->user;

    if (sc && ev->kind == SC_FLOW_DATA && ev->len)
        streams_write(s, conn, sc, ev->dir == SC_DIR_S2C, ev->data, ev->len);
    if (sc)
        conn->user = sc->inner_user;
    if (s->has_inner && s->inner.event)
        s->inner.event(s->inner.ctx, conn, ev);
    if (!sc)
        return;
    if (ev->kind == SC_FLOW_CLOSE) {
        streams_close(s, sc);
        free(sc);                  /* the connection is freed after this */
        return;
    }
    sc->inner_user = conn->user;
    conn->user = sc;
}

static void streams_packet(void *ctx, sc_conn *conn, const sc_packet *pkt)
{
    sc_streams *s = ctx;
    streams_conn *sc = conn->user;

    if (!s->has_inner || !s->inner.packet)
        return;
    if (sc)
        conn->user = sc->inner_user;
    s->inner.packet(s->inner.ctx, conn, pkt);
    if (sc) {
        sc->inner_user = conn->user;
        conn->user = sc;
    }
}

/* True (with the reason in err) when dir holds streams already: a second
 * run would mix its files with the first's, or be refused file by file. */
static bool streams_dir_used(const char *dir, char *err, size_t errlen)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    bool used = false;

    if (!dp) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return true;
    }
    while (!used && (e = readdir(dp))) {
        const char *dot = strrchr(e->d_name, '.');
        if (strstr(e->d_name, "session-") && dot &&
            (strcmp(dot + 1, streams_suffix[0]) == 0 || strcmp(dot + 1, streams_suffix[1]) == 0)) {
            snprintf(err, errlen, "%s already holds %.200s; refusing to mix streams "
                     "(use an empty directory)", dir, e->d_name);
            used = true;
        }
    }
    closedir(dp);
    return used;
}

sc_streams *sc_streams_new(const char *dir, const sc_flow_handler *inner, char *err, size_t errlen)
{
    struct stat st;
    sc_streams *s;

    if (stat(dir, &st) != 0 || access(dir, W_OK) != 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", dir);
        return NULL;
    }
    if (strlen(dir) >= sizeof s->dir) {
        snprintf(err, errlen, "%s: name too long", dir);
        return NULL;
    }
    if (streams_dir_used(dir, err, errlen))
        return NULL;
    s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", dir);
        return NULL;
    }
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    if (inner) {
        s->inner = *inner;
        s->has_inner = true;
    }
    s->self.open = streams_open;
    s->self.event = streams_event;
    s->self.packet = streams_packet;
    s->self.ctx = s;
    return s;
}

void sc_streams_set_file(sc_streams *s, unsigned number)
{
    s->file = number;
}

const sc_flow_handler *sc_streams_handler(sc_streams *s)
{
    return &s->self;
}

void sc_streams_free(sc_streams *s)
{
    free(s);
}
