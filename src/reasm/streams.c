/*
 * streams.c - --write-streams DIR: reassembled bytes to files, as a flow
 * handler decorator.
 *
 * Interface: include/streams.h.
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
 * Diagnostics: "smtpscope: DIR/session-ID.c2s: reason" once per failing
 * stream on standard error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "streams.h"
#include "wcheck.h"

struct sc_streams {
    char             dir[4096];
    sc_flow_handler  inner;
    bool             has_inner;
    sc_flow_handler  self;
    unsigned         file;        /* sc_streams_set_file; 0: no prefix */
};

typedef struct streams_conn {
    void    *inner_user;
    unsigned file;
    bool     failed[2];
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

static void streams_write(sc_streams *s, const sc_conn *conn, streams_conn *sc, int d,
                          const char *mode, const uint8_t *p, size_t n)
{
    char path[4200];
    FILE *fp;

    if (sc->failed[d])
        return;
    streams_path(s, conn, sc, d, path, sizeof path);
    fp = fopen(path, mode);
    if (fp && n && fwrite(p, 1, n, fp) != n) {
        fclose(fp);
        fp = NULL;
    }
    if (!fp || fclose(fp) != 0) {
        sc->failed[d] = true;
        sc_write_lost(path, errno, "the stream file is incomplete");
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
    for (int d = 0; d < 2; d++)
        streams_write(s, conn, sc, d, "wb", NULL, 0);
}

static void streams_event(void *ctx, sc_conn *conn, const sc_flow_event *ev)
{
    sc_streams *s = ctx;
    streams_conn *sc = conn->user;

    if (sc && ev->kind == SC_FLOW_DATA && ev->len)
        streams_write(s, conn, sc, ev->dir == SC_DIR_S2C, "ab", ev->data, ev->len);
    if (sc)
        conn->user = sc->inner_user;
    if (s->has_inner && s->inner.event)
        s->inner.event(s->inner.ctx, conn, ev);
    if (!sc)
        return;
    if (ev->kind == SC_FLOW_CLOSE) {
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
