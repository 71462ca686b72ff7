/*
 * ifsplit.c - a pcapng file whose interfaces have different link types
 * (dumpcap -i eth0 -i lo; -i any beside a real interface), read with
 * libpcap anyway.
 *
 * Interface: ifsplit.h (internal to src/capture).
 *
 * libpcap gives a capture one link type, the first interface's, and stops
 * at an interface of another type ("an interface has a type 1 different
 * from the type of the first interface"); tshark reads such files. Rather
 * than parse packets here, the file is read once per link type, each time
 * through a filter that shows libpcap a pcapng of that one type: the
 * section headers, the interface blocks of that type (renumbered from 0,
 * options untouched, so each keeps its time stamp resolution) and the
 * packet blocks (enhanced, simple, obsolete) of those interfaces with
 * their interface number rewritten; every other block is left out. So
 * libpcap still does what it does well (blocks, byte order, time stamps,
 * snap lengths, BPF), and the merge (merge.c) puts the streams back in
 * file order, by the frame number each packet had in the whole file,
 * which the filter counts (every packet block, as Wireshark numbers them)
 * and queues for its reader.
 *
 * The filter is a stdio stream made with fopencookie() over gzstream.c
 * (plain files pass through; damaged gzip is a read error), serving one block per read: libpcap's
 * stream is at most a block ahead of the packets it has returned, and the
 * queue of frame numbers stays short (bounded by IFSPLIT_QUEUE anyway).
 *
 * The same walk over the blocks before the first packet finds the
 * Decryption Secrets Blocks (pcapng type 0x0000000A) that editcap
 * --inject-secrets and Wireshark write there, which libpcap skips:
 * sc_capture_pcapng_secrets() hands their secrets to the caller. Only a
 * regular file is walked (a pipe cannot be read twice); secrets written
 * after the first packet are not looked for (the walk would cost a second
 * read of the whole file). The same walk tells whether an interface's
 * if_tsresol is finer than a microsecond (sc_capture_nanosecond), so
 * that evidence cut from the file keeps its nanoseconds.
 *
 * Diagnostics: a block that is not pcapng (length not a multiple of 4,
 * under 12 or over IFSPLIT_BLOCK_MAX octets), more than IFSPLIT_IFACES
 * interfaces in a section, or a full queue end the stream with a read
 * error whose reason sc_ifsplit_error() gives; a file cut inside a block
 * is handed to libpcap as it is, which reports it truncated.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "capture.h"
#include "gzstream.h"
#include "ifsplit.h"

#define IFSPLIT_SHB        0x0A0D0D0Au
#define IFSPLIT_IDB        1u
#define IFSPLIT_PB         2u     /* obsolete packet block */
#define IFSPLIT_SPB        3u
#define IFSPLIT_EPB        6u
#define IFSPLIT_DSB        0x0Au
#define IFSPLIT_BLOCK_MAX  (16u * 1024 * 1024)   /* libpcap's own limit */
#define IFSPLIT_IFACES     1024
#define IFSPLIT_QUEUE      1024
#define IFSPLIT_SCAN_MAX   4096   /* blocks looked at before the first packet */

struct sc_ifsplit {
    sc_gzstream *gz;
    int       linktype;            /* the type this stream keeps (-1: scan) */
    bool      shb_seen;
    bool      big;                 /* the section's byte order */
    uint32_t  nifaces;             /* interfaces of the section so far */
    int32_t   map[IFSPLIT_IFACES]; /* section's number -> ours, -1: other type */
    uint32_t  nmine;
    uint64_t  frame;               /* packet blocks of the file so far */
    uint64_t  queue[IFSPLIT_QUEUE];
    size_t    qhead, qlen;
    uint8_t  *blk;                 /* the block being served */
    size_t    blkcap, blklen, pos;
    char      err[200];
};

static uint32_t ifsplit_u32(const sc_ifsplit *s, const uint8_t *p)
{
    return s->big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
                  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t ifsplit_u16(const sc_ifsplit *s, const uint8_t *p)
{
    return s->big ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static void ifsplit_put32(const sc_ifsplit *s, uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[s->big ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

static void ifsplit_put16(const sc_ifsplit *s, uint8_t *p, uint16_t v)
{
    p[s->big ? 0 : 1] = (uint8_t)(v >> 8);
    p[s->big ? 1 : 0] = (uint8_t)v;
}

/* Reads the next whole block into s->blk. 1: a block; 0: end of file;
 * -1: not pcapng (s->err); 2: the file ends inside it (s->blk holds what
 * there was, for libpcap to call truncated). */
static int ifsplit_block(sc_ifsplit *s)
{
    uint8_t h[12];
    ssize_t got = sc_gzstream_read_full(s->gz, h, sizeof h);
    uint32_t type, len;

    if (got <= 0)
        return got == 0 ? 0 : (snprintf(s->err, sizeof s->err, "%s", sc_gzstream_error(s->gz)), -1);
    if (got < (ssize_t)sizeof h) {
        if (*sc_gzstream_error(s->gz))
            snprintf(s->err, sizeof s->err, "%s", sc_gzstream_error(s->gz));
        memcpy(s->blk, h, (size_t)got);      /* blkcap >= 12 */
        s->blklen = (size_t)got;
        return 2;
    }
    type = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    if (type == IFSPLIT_SHB) {
        /* the byte-order magic, as written: 1A 2B 3C 4D is big-endian */
        s->big = h[8] == 0x1A && h[9] == 0x2B && h[10] == 0x3C && h[11] == 0x4D;
        s->shb_seen = true;
    } else if (!s->shb_seen) {
        snprintf(s->err, sizeof s->err, "not a pcapng file");
        return -1;
    }
    type = ifsplit_u32(s, h);
    len = ifsplit_u32(s, h + 4);
    if (len < 12 || len % 4 || len > IFSPLIT_BLOCK_MAX) {
        snprintf(s->err, sizeof s->err, "pcapng block of %u octets after frame %llu",
                 len, (unsigned long long)s->frame);
        return -1;
    }
    if (len > s->blkcap) {
        uint8_t *nb = realloc(s->blk, len);
        if (!nb) {
            snprintf(s->err, sizeof s->err, "out of memory");
            return -1;
        }
        s->blk = nb;
        s->blkcap = len;
    }
    memcpy(s->blk, h, sizeof h);
    got = len > 12 ? sc_gzstream_read_full(s->gz, s->blk + 12, len - 12) : 0;
    if (got < 0) {
        snprintf(s->err, sizeof s->err, "%s", sc_gzstream_error(s->gz));
        return -1;
    }
    if ((size_t)got < len - 12 && *sc_gzstream_error(s->gz))
        snprintf(s->err, sizeof s->err, "%s", sc_gzstream_error(s->gz));
    s->blklen = 12 + (size_t)got;
    return s->blklen < len ? 2 : 1;
}

/* What the block in s->blk is to this stream: true when it is passed on
 * (interface number rewritten), false when it is left out. Counts frames
 * and queues the passed packets' numbers; -1 on a limit (s->err). */
static int ifsplit_keep(sc_ifsplit *s)
{
    uint32_t type = ifsplit_u32(s, s->blk), iface;
    bool packet = type == IFSPLIT_EPB || type == IFSPLIT_PB || type == IFSPLIT_SPB;

    if (type == IFSPLIT_SHB) {
        s->nifaces = s->nmine = 0;       /* interfaces are numbered per section */
        return 1;
    }
    if (type == IFSPLIT_IDB) {
        if (s->blklen < 16 || s->nifaces == IFSPLIT_IFACES) {
            snprintf(s->err, sizeof s->err, "more than %d interfaces in a section",
                     IFSPLIT_IFACES);
            return -1;
        }
        bool mine = ifsplit_u16(s, s->blk + 8) == s->linktype;
        s->map[s->nifaces++] = mine ? (int32_t)s->nmine++ : -1;
        return mine;
    }
    if (!packet)
        return 0;
    s->frame++;
    if (s->blklen < 16)
        return 0;                         /* libpcap would refuse it: cannot be ours */
    iface = type == IFSPLIT_EPB ? ifsplit_u32(s, s->blk + 8)
          : type == IFSPLIT_PB ? ifsplit_u16(s, s->blk + 8) : 0;
    if (iface >= s->nifaces || s->map[iface] < 0)
        return 0;
    if (type == IFSPLIT_EPB)
        ifsplit_put32(s, s->blk + 8, (uint32_t)s->map[iface]);
    else if (type == IFSPLIT_PB)
        ifsplit_put16(s, s->blk + 8, (uint16_t)s->map[iface]);
    if (s->qlen == IFSPLIT_QUEUE) {
        snprintf(s->err, sizeof s->err, "reader fell behind at frame %llu",
                 (unsigned long long)s->frame);
        return -1;
    }
    s->queue[(s->qhead + s->qlen++) % IFSPLIT_QUEUE] = s->frame;
    return 1;
}

static ssize_t ifsplit_read(void *cookie, char *buf, size_t size)
{
    sc_ifsplit *s = cookie;

    while (s->pos == s->blklen) {
        int rc;

        if (s->err[0]) {
            errno = EINVAL;
            return -1;
        }
        s->pos = s->blklen = 0;
        rc = ifsplit_block(s);
        if (rc == 0)
            return 0;
        if (rc == 2)
            break;                        /* cut short: libpcap says so */
        if (rc < 0 || (rc = ifsplit_keep(s)) < 0) {
            s->blklen = 0;
            errno = EINVAL;
            return -1;
        }
        if (!rc)
            s->blklen = 0;
    }
    size_t n = s->blklen - s->pos < size ? s->blklen - s->pos : size;
    memcpy(buf, s->blk + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

static void ifsplit_free(sc_ifsplit *s)
{
    sc_gzstream_close(s->gz);
    free(s->blk);
    free(s);
}

static int ifsplit_close(void *cookie)
{
    ifsplit_free(cookie);
    return 0;
}

static sc_ifsplit *ifsplit_new(const char *path, int linktype)
{
    sc_ifsplit *s = calloc(1, sizeof *s);
    int fd;

    if (!s)
        return NULL;
    s->linktype = linktype;
    s->blkcap = 4096;
    s->blk = malloc(s->blkcap);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    s->gz = fd >= 0 ? sc_gzstream_new(fd) : NULL;
    if (!s->blk || !s->gz) {
        ifsplit_free(s);
        return NULL;
    }
    return s;
}

int sc_ifsplit_scan(const char *path, int *types, char *err, size_t errlen)
{
    sc_ifsplit *s;
    int n = 0;

    struct stat st;

    /* Only a file that can be read again is scanned ahead: a pipe (standard
     * input, a FIFO, -r <(cmd)) would lose what the scan read. Such an
     * input is read as one link type, and libpcap says so if it is not. */
    if (strcmp(path, "-") == 0 || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    if (!(s = ifsplit_new(path, -1)))
        return 0;                 /* libpcap will say why */
    for (int blocks = 0; blocks < IFSPLIT_SCAN_MAX; blocks++) {
        if (ifsplit_block(s) != 1)
            break;
        uint32_t type = ifsplit_u32(s, s->blk);
        if (type == IFSPLIT_EPB || type == IFSPLIT_PB || type == IFSPLIT_SPB)
            break;
        if (type != IFSPLIT_IDB || s->blklen < 16)
            continue;
        int lt = ifsplit_u16(s, s->blk + 8), k = 0;
        while (k < n && types[k] != lt)
            k++;
        if (k < n)
            continue;
        if (n == SC_IFSPLIT_MAX) {
            snprintf(err, errlen, "%s: interfaces of more than %d link types", path,
                     SC_IFSPLIT_MAX);
            n = -1;
            break;
        }
        types[n++] = lt;
    }
    ifsplit_free(s);
    return n;
}

int sc_capture_pcapng_secrets(const char *path, uint32_t type, sc_secrets_fn fn, void *ctx)
{
    struct stat st;
    sc_ifsplit *s;
    int n = 0;

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(s = ifsplit_new(path, -1)))
        return 0;
    for (int blocks = 0; blocks < IFSPLIT_SCAN_MAX && ifsplit_block(s) == 1; blocks++) {
        uint32_t bt = ifsplit_u32(s, s->blk);
        if (bt == IFSPLIT_EPB || bt == IFSPLIT_PB || bt == IFSPLIT_SPB)
            break;
        /* type, total length, secrets type, secrets length, secrets
         * (padded to 4 octets), options, total length */
        if (bt != IFSPLIT_DSB || s->blklen < 20 || ifsplit_u32(s, s->blk + 8) != type)
            continue;
        uint32_t len = ifsplit_u32(s, s->blk + 12);
        if (len > s->blklen - 20)
            continue;                /* a secrets length past the block */
        fn(ctx, s->blk + 16, len);
        n++;
    }
    ifsplit_free(s);
    return n;
}

FILE *sc_ifsplit_open(const char *path, int linktype, sc_ifsplit **out,
                      char *err, size_t errlen)
{
    static const cookie_io_functions_t io = {
        .read = ifsplit_read, .write = NULL, .seek = NULL, .close = ifsplit_close
    };
    sc_ifsplit *s = ifsplit_new(path, linktype);
    FILE *fp;

    if (!s) {
        snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    fp = fopencookie(s, "r", io);
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        ifsplit_free(s);
        return NULL;
    }
    *out = s;
    return fp;
}

uint64_t sc_ifsplit_frame(sc_ifsplit *s)
{
    uint64_t f;

    if (!s->qlen)
        return 0;
    f = s->queue[s->qhead];
    s->qhead = (s->qhead + 1) % IFSPLIT_QUEUE;
    s->qlen--;
    return f;
}

const char *sc_ifsplit_error(const sc_ifsplit *s)
{
    return s->err;
}

/* An interface's if_tsresol (option 9, one octet): finer than a
 * microsecond? 10^-v (high bit clear) or 2^-v (high bit set). */
static bool ifsplit_idb_nano(const sc_ifsplit *s)
{
    size_t at = 16, end = s->blklen - 4;     /* options, then the length */

    while (at + 4 <= end) {
        uint16_t code = ifsplit_u16(s, s->blk + at), len = ifsplit_u16(s, s->blk + at + 2);
        if (code == 0 || at + 4 + len > end)
            break;
        if (code == 9 && len >= 1) {
            uint8_t v = s->blk[at + 4];
            return (v & 0x80) ? (v & 0x7F) > 19 : v > 6;
        }
        at += 4 + (((size_t)len + 3) & ~(size_t)3);
    }
    return false;                            /* the default: microseconds */
}

bool sc_capture_nanosecond(const char *path)
{
    struct stat st;
    sc_ifsplit *s;
    uint8_t m[4];
    bool nano = false, ng;

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(s = ifsplit_new(path, -1)))
        return false;
    if (sc_gzstream_read_full(s->gz, m, sizeof m) != (ssize_t)sizeof m) {
        ifsplit_free(s);
        return false;
    }
    nano = (m[0] == 0xa1 && m[1] == 0xb2 && m[2] == 0x3c && m[3] == 0x4d) ||
           (m[0] == 0x4d && m[1] == 0x3c && m[2] == 0xb2 && m[3] == 0xa1);
    ng = m[0] == 0x0a && m[1] == 0x0d && m[2] == 0x0d && m[3] == 0x0a;
    ifsplit_free(s);
    if (!ng || !(s = ifsplit_new(path, -1)))
        return nano;
    /* the interfaces described before the first packet */
    for (int blocks = 0; blocks < IFSPLIT_SCAN_MAX && !nano && ifsplit_block(s) == 1; blocks++) {
        uint32_t bt = ifsplit_u32(s, s->blk);
        if (bt == IFSPLIT_EPB || bt == IFSPLIT_PB || bt == IFSPLIT_SPB)
            break;
        if (bt == IFSPLIT_IDB && s->blklen >= 20)
            nano = ifsplit_idb_nano(s);
    }
    ifsplit_free(s);
    return nano;
}
