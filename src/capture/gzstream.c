/*
 * gzstream.c - a capture file's bytes, gunzipped when they start with the
 * gzip magic and passed through unchanged otherwise (standard input and
 * pipes cannot be peeked at before libpcap reads them).
 *
 * Interface: gzstream.h (internal to src/capture: reader.c puts it behind
 * a stdio stream for libpcap, ifsplit.c reads pcapng blocks from it).
 *
 * Why not zlib's gzread(): when inflate() fails (a bad CRC in the
 * trailer, a corrupt block) gzread() discards everything it decoded in
 * that call, up to the whole buffer asked for (a megabyte behind
 * libpcap's stream), and only a read error is left: the last sessions of
 * a capture whose trailer is damaged vanished without a word. Here every
 * byte inflate() produced is handed over first, and the damage comes as
 * an error on the next read, with its reason, so the pipeline reports
 * the capture as incomplete after analysing all that could be decoded.
 * A gzip stream cut short is damage too (not a clean end: a cut at a
 * record boundary would otherwise look like a whole capture).
 * Concatenated gzip members are read one after the other, as gzip(1)
 * does; bytes after the last member that are not a member are ignored.
 *
 * Diagnostics: sc_gzstream_error() says why the input ended early:
 * "gzip data damaged (REASON)", "gzip data cut short", "read error: ...".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "gzstream.h"

#define GZS_INBUF  (128 * 1024)

enum gzs_mode { GZS_START, GZS_PLAIN, GZS_GZIP, GZS_END, GZS_FAILED };

struct sc_gzstream {
    int           fd;
    enum gzs_mode mode;
    bool          eof;              /* read(2) said end of input */
    bool          intr;             /* a read interrupted by a stop signal */
    bool          zinit;
    z_stream      z;
    uint64_t      consumed;         /* input bytes given to inflate or passed */
    unsigned char in[GZS_INBUF];
    char          err[160];
};

sc_gzstream *sc_gzstream_new(int fd)
{
    sc_gzstream *gs = calloc(1, sizeof *gs);

    if (!gs) {
        close(fd);
        return NULL;
    }
    gs->fd = fd;
    return gs;
}

static void gzs_fail(sc_gzstream *gs, const char *what, const char *why)
{
    if (why)
        snprintf(gs->err, sizeof gs->err, "%s (%s)", what, why);
    else
        snprintf(gs->err, sizeof gs->err, "%s", what);
    gs->mode = GZS_FAILED;
}

/* Tops the input buffer up (what is unread moved to its start) until it
 * holds at least want bytes or the input ends. -1: read error. */
static int gzs_fill(sc_gzstream *gs, size_t want)
{
    if (gs->z.avail_in && gs->z.next_in != gs->in)
        memmove(gs->in, gs->z.next_in, gs->z.avail_in);
    gs->z.next_in = gs->in;
    while (!gs->eof && gs->z.avail_in < want) {
        ssize_t n = read(gs->fd, gs->in + gs->z.avail_in, sizeof gs->in - gs->z.avail_in);
        if (n < 0 && errno == EINTR) {
            /* Only the stop signals interrupt a read (the others are
             * installed with SA_RESTART): handed up as EINTR, not damage,
             * so that the run ends as the signal asks. */
            gs->intr = true;
            return -1;
        }
        if (n < 0) {
            gzs_fail(gs, "read error", strerror(errno));
            return -1;
        }
        if (n == 0)
            gs->eof = true;
        gs->z.avail_in += (uInt)n;
    }
    return 0;
}

static bool gzs_magic(const sc_gzstream *gs)
{
    return gs->z.avail_in >= 2 && gs->z.next_in[0] == 0x1f && gs->z.next_in[1] == 0x8b;
}

/* The start of the input, or the end of a member: another member? */
static int gzs_member(sc_gzstream *gs)
{
    if (gzs_fill(gs, 2) < 0)
        return -1;
    if (!gzs_magic(gs)) {
        gs->mode = gs->mode == GZS_START ? GZS_PLAIN : GZS_END;
        return 0;
    }
    if (!gs->zinit) {
        if (inflateInit2(&gs->z, 15 + 16) != Z_OK) {
            gzs_fail(gs, "out of memory", NULL);
            return -1;
        }
        gs->zinit = true;
    } else if (inflateReset(&gs->z) != Z_OK) {
        gzs_fail(gs, "gzip data damaged", gs->z.msg);
        return -1;
    }
    gs->mode = GZS_GZIP;
    return 0;
}

static size_t gzs_plain(sc_gzstream *gs, unsigned char *buf, size_t size)
{
    size_t got = 0;

    if (gs->z.avail_in) {                     /* what was peeked at first */
        got = size < gs->z.avail_in ? size : gs->z.avail_in;
        memcpy(buf, gs->z.next_in, got);
        gs->z.next_in += got;
        gs->z.avail_in -= (uInt)got;
    }
    while (got < size && !gs->eof) {
        ssize_t n = read(gs->fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) {
            gs->intr = got == 0;    /* a stop signal: see gzs_fill */
            break;
        }
        if (n < 0) {
            gzs_fail(gs, "read error", strerror(errno));
            break;
        }
        if (n == 0)
            gs->eof = true;
        got += (size_t)n;
        if (n > 0)
            break;                            /* a pipe: hand over what came */
    }
    gs->consumed += got;
    return got;
}

static size_t gzs_inflate(sc_gzstream *gs, unsigned char *buf, size_t size)
{
    size_t got = 0;

    while (got < size && gs->mode == GZS_GZIP) {
        uInt before_in;
        int ret;

        if (gs->z.avail_in == 0 && gzs_fill(gs, 1) < 0)
            break;
        if (gs->z.avail_in == 0) {
            gzs_fail(gs, "gzip data cut short", NULL);
            break;
        }
        before_in = gs->z.avail_in;
        gs->z.next_out = buf + got;
        gs->z.avail_out = size - got > (1u << 30) ? (1u << 30) : (uInt)(size - got);
        ret = inflate(&gs->z, Z_NO_FLUSH);
        got = (size_t)(gs->z.next_out - buf);
        gs->consumed += before_in - gs->z.avail_in;
        if (ret == Z_STREAM_END) {
            if (gzs_member(gs) < 0)
                break;
        } else if (ret == Z_MEM_ERROR) {
            gzs_fail(gs, "out of memory", NULL);
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            gzs_fail(gs, "gzip data damaged", gs->z.msg ? gs->z.msg : "inflate failed");
        }
    }
    return got;
}

ssize_t sc_gzstream_read(sc_gzstream *gs, void *buf, size_t size)
{
    size_t got = 0;

    if (gs->mode == GZS_START && gzs_member(gs) < 0)
        gs->mode = gs->intr ? GZS_START : GZS_FAILED;
    if (gs->mode == GZS_PLAIN)
        got = gzs_plain(gs, buf, size);
    else if (gs->mode == GZS_GZIP)
        got = gzs_inflate(gs, buf, size);
    if (got == 0 && gs->intr) {
        gs->intr = false;
        errno = EINTR;
        return -1;
    }
    gs->intr = false;
    if (got > 0 || gs->mode != GZS_FAILED)
        return (ssize_t)got;
    errno = EIO;
    return -1;
}

ssize_t sc_gzstream_read_full(sc_gzstream *gs, void *buf, size_t size)
{
    size_t got = 0;

    while (got < size) {
        ssize_t n = sc_gzstream_read(gs, (unsigned char *)buf + got, size - got);
        if (n < 0)
            return got ? (ssize_t)got : -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

const char *sc_gzstream_error(const sc_gzstream *gs) { return gs->err; }
uint64_t sc_gzstream_offset(const sc_gzstream *gs) { return gs->consumed; }

int sc_gzstream_close(sc_gzstream *gs)
{
    int rc;

    if (!gs)
        return 0;
    if (gs->zinit)
        inflateEnd(&gs->z);
    rc = close(gs->fd) == 0 ? 0 : EOF;
    free(gs);
    return rc;
}
