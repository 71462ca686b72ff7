/*
 * pcapng.c - a pcapng writer (pcapng.h), after the pcapng specification
 * (draft-ietf-opsawg-pcapng): blocks in host byte order, as the byte-order
 * magic of the section header tells readers; each block and option padded
 * to 32 bits; timestamps in microseconds (the default if_tsresol), or
 * in nanoseconds with if_tsresol 9 in every interface when the source
 * capture holds nanoseconds (sc_pcapng_open's nano): never rounded, never
 * padded with invented digits.
 *
 * libpcap writes no pcapng, hence this file. Options are bounded: a
 * comment longer than PCAPNG_OPT_MAX is cut (an option length is 16 bits).
 *
 * A writer can be suspended (its file closed, what it has described kept:
 * the interfaces per link type, whether packets were written) and resumed
 * on a descriptor opened to append: the section header and the secrets
 * block are written once, at the open.
 *
 * Diagnostics: the first failed write is remembered (errno) and every
 * later call fails; sc_pcapng_close reports it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcapng.h"

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_DSB 0x0000000Au
#define PCAPNG_MAGIC 0x1A2B3C4Du

#define OPT_END      0
#define OPT_COMMENT  1
#define SHB_USERAPPL 4
#define IF_SNAPLEN   262144u
#define IF_TSRESOL   9              /* option code */
#define TSRESOL_NANO 9              /* its value: 10^-9 s */
#define EPB_PACKETID 5

#define PCAPNG_OPT_MAX 65000u
#define PCAPNG_IFS_MAX 16           /* link types in one file */

struct sc_pcapng {
    FILE    *fp;
    int      err;
    bool     packets;               /* a packet was written */
    bool     nano;                  /* timestamps in nanoseconds */
    int      iflink[PCAPNG_IFS_MAX];
    unsigned nifs;
};

static size_t ng_pad4(size_t n) { return (n + 3) & ~(size_t)3; }

static void ng_put(sc_pcapng *w, const void *p, size_t n)
{
    if (!w->err && n && fwrite(p, 1, n, w->fp) != n)
        w->err = errno ? errno : EIO;
}

static void ng_u32(sc_pcapng *w, uint32_t v) { ng_put(w, &v, 4); }

static void ng_zeros(sc_pcapng *w, size_t n)
{
    static const uint8_t z[4];
    ng_put(w, z, n);
}

static size_t ng_strlen(const char *s)
{
    size_t n = strlen(s);
    return n > PCAPNG_OPT_MAX ? PCAPNG_OPT_MAX : n;
}

/* Bytes an option of n value bytes takes. */
static size_t ng_opt_size(size_t n) { return 4 + ng_pad4(n); }

static void ng_opt(sc_pcapng *w, uint16_t code, const void *v, size_t n)
{
    uint16_t h[2] = { code, (uint16_t)n };

    ng_put(w, h, 4);
    ng_put(w, v, n);
    ng_zeros(w, ng_pad4(n) - n);
}

/* The options of a string list, with their end-of-options. */
static size_t ng_strs_size(const char *const *s, size_t n)
{
    size_t t = 0;

    for (size_t i = 0; i < n; i++)
        t += ng_opt_size(ng_strlen(s[i]));
    return t;
}

static void ng_strs(sc_pcapng *w, uint16_t code, const char *const *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ng_opt(w, code, s[i], ng_strlen(s[i]));
}

static void ng_end_opts(sc_pcapng *w) { ng_opt(w, OPT_END, NULL, 0); }

sc_pcapng *sc_pcapng_open(int fd, const char *userappl, const char *const *comments,
                          size_t ncomments, bool nano)
{
    sc_pcapng *w = calloc(1, sizeof *w);
    size_t opts = ng_strs_size(comments, ncomments) +
                  (userappl ? ng_opt_size(ng_strlen(userappl)) : 0) + 4;
    uint32_t len = (uint32_t)(28 + opts);
    uint16_t ver[2] = { 1, 0 };
    int64_t seclen = -1;

    if (!w || !(w->fp = fdopen(fd, "wb"))) {
        int e = errno;
        free(w);
        close(fd);
        errno = e;
        return NULL;
    }
    w->nano = nano;
    ng_u32(w, PCAPNG_SHB);
    ng_u32(w, len);
    ng_u32(w, PCAPNG_MAGIC);
    ng_put(w, ver, 4);
    ng_put(w, &seclen, 8);
    ng_strs(w, OPT_COMMENT, comments, ncomments);
    if (userappl)
        ng_opt(w, SHB_USERAPPL, userappl, ng_strlen(userappl));
    ng_end_opts(w);
    ng_u32(w, len);
    if (w->err) {
        int e = w->err;
        fclose(w->fp);
        free(w);
        errno = e;
        return NULL;
    }
    return w;
}

static int ng_fail(sc_pcapng *w)
{
    errno = w->err;
    return -1;
}

int sc_pcapng_secrets(sc_pcapng *w, uint32_t type, const char *data, size_t len)
{
    if (w->packets) {
        errno = EINVAL;         /* readers apply secrets to what follows */
        return -1;
    }
    uint32_t blen = (uint32_t)(20 + ng_pad4(len));

    if (len > UINT32_MAX - 64) {
        errno = EFBIG;
        return -1;
    }
    ng_u32(w, PCAPNG_DSB);
    ng_u32(w, blen);
    ng_u32(w, type);
    ng_u32(w, (uint32_t)len);
    ng_put(w, data, len);
    ng_zeros(w, ng_pad4(len) - len);
    ng_u32(w, blen);
    return w->err ? ng_fail(w) : 0;
}

/* The interface of a link type, described at its first packet. */
static int ng_iface(sc_pcapng *w, int linktype)
{
    uint32_t snap = IF_SNAPLEN, len = 20 + 4 + (w->nano ? ng_opt_size(1) : 0);
    uint16_t lt[2] = { (uint16_t)linktype, 0 };
    uint8_t resol = TSRESOL_NANO;

    for (unsigned i = 0; i < w->nifs; i++)
        if (w->iflink[i] == linktype)
            return (int)i;
    if (w->nifs == PCAPNG_IFS_MAX) {
        errno = EMLINK;
        return -1;
    }
    ng_u32(w, PCAPNG_IDB);
    ng_u32(w, len);
    ng_put(w, lt, 4);
    ng_u32(w, snap);
    if (w->nano)
        ng_opt(w, IF_TSRESOL, &resol, 1);
    ng_end_opts(w);
    ng_u32(w, len);
    w->iflink[w->nifs] = linktype;
    return (int)w->nifs++;
}

int sc_pcapng_packet(sc_pcapng *w, const sc_pcapng_pkt *p)
{
    int ifid;

    if (w->err)
        return ng_fail(w);
    if ((ifid = ng_iface(w, p->linktype)) < 0)
        return -1;
    uint64_t us = w->nano ? (uint64_t)p->ts.tv_sec * 1000000000u + p->ts_nsec
                          : (uint64_t)p->ts.tv_sec * 1000000u + (uint64_t)p->ts.tv_usec;
    size_t opts = ng_strs_size(p->comments, p->ncomments) + (p->packet_id ? ng_opt_size(8) : 0);
    if (opts)
        opts += 4;
    uint32_t len = (uint32_t)(32 + ng_pad4(p->caplen) + opts);

    ng_u32(w, PCAPNG_EPB);
    ng_u32(w, len);
    ng_u32(w, (uint32_t)ifid);
    ng_u32(w, (uint32_t)(us >> 32));
    ng_u32(w, (uint32_t)us);
    ng_u32(w, p->caplen);
    ng_u32(w, p->wirelen);
    ng_put(w, p->data, p->caplen);
    ng_zeros(w, ng_pad4(p->caplen) - p->caplen);
    if (opts) {
        ng_strs(w, OPT_COMMENT, p->comments, p->ncomments);
        if (p->packet_id)
            ng_opt(w, EPB_PACKETID, &p->packet_id, 8);
        ng_end_opts(w);
    }
    ng_u32(w, len);
    w->packets = true;
    return w->err ? ng_fail(w) : 0;
}

int sc_pcapng_suspend(sc_pcapng *w)
{
    errno = 0;
    if (fflush(w->fp) != 0 && !w->err)
        w->err = errno ? errno : EIO;
    if (fclose(w->fp) != 0 && !w->err)
        w->err = errno ? errno : EIO;
    w->fp = NULL;
    return w->err ? ng_fail(w) : 0;
}

int sc_pcapng_resume(sc_pcapng *w, int fd)
{
    if (w->err) {
        close(fd);
        return ng_fail(w);
    }
    if (!(w->fp = fdopen(fd, "ab"))) {
        w->err = errno ? errno : EIO;
        close(fd);
        return ng_fail(w);
    }
    return 0;
}

int sc_pcapng_close(sc_pcapng *w)
{
    int e;

    if (!w)
        return 0;
    if (w->fp)
        sc_pcapng_suspend(w);
    e = w->err;
    free(w);
    errno = e;
    return e ? -1 : 0;
}
