/*
 * cutout.c - the file a session is cut into (cutout.h).
 *
 * A pcap: libpcap writes the file header (its link type numbering, the
 * source's link type, the magic of microsecond or nanosecond timestamps),
 * the records that follow are written here in the same host order, so
 * that the file can be closed and appended to later; the frame bytes stay
 * exactly as captured. A pcapng (pcapng.h) also carries, per packet, its
 * original frame number as the packet id and the comments of the findings
 * that rest on that frame (target->notes, sorted by frame, found by
 * binary search: a session's packets need not come in frame order when
 * several files are read as one capture); from a nanosecond source its
 * interfaces say if_tsresol 9 and the timestamps are the source's own
 * nanoseconds, otherwise microseconds as before.
 *
 * Suspended, a file is closed; the pcapng writer keeps its state (the
 * interfaces it described), so the section header and the secrets block
 * are written once and the next packet goes on with the same interface
 * ids. Files are created with O_EXCL|O_NOFOLLOW, mode 0600 (never over
 * an existing file, and they hold mail) and re-opened with
 * O_APPEND|O_NOFOLLOW. A file cut short (a failed write, a failed close)
 * is removed by sc_cutout_close: it would block the next run's O_EXCL
 * and pass for complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/frame.h"
#include "cutout.h"
#include "framemap.h"
#include "pcapng.h"

#define CUTOUT_SNAPLEN 262144
#define CUTOUT_COMMENTS_MAX 32      /* comments on one frame */

struct sc_cutout {
    bool           created;         /* the file exists (remove it if cut short) */
    bool           failed;
    bool           nano;            /* timestamps in nanoseconds */
    FILE          *fp;              /* pcap, while open */
    sc_pcapng     *ng;              /* pcapng: the writer, open or suspended */
    bool           ng_open;
};

static void cutout_shut(sc_cutout *o, sc_cut_target *t)
{
    int e = 0;

    errno = 0;
    if (o->fp) {
        bool bad = ferror(o->fp) != 0;
        if (fclose(o->fp) != 0 || bad)
            e = errno ? errno : EIO;
        o->fp = NULL;
    }
    if (o->ng_open) {
        if (sc_pcapng_suspend(o->ng) < 0)
            e = errno ? errno : EIO;
        o->ng_open = false;
    }
    if (e) {
        if (!t->error)
            t->error = e;
        o->failed = true;
    }
}

static int cutout_fail(sc_cutout *o, sc_cut_target *t)
{
    if (!t->error)
        t->error = errno ? errno : EIO;
    o->failed = true;
    cutout_shut(o, t);
    return -1;
}

static int cutout_create(sc_cutout *o, sc_cut_target *t, int linktype)
{
    int fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    pcap_t *dead;

    if (fd < 0)
        return cutout_fail(o, t);
    o->created = true;
    if (t->pcapng) {
        if (!(o->ng = sc_pcapng_open(fd, t->ng_appl, t->ng_shb, t->ng_nshb, o->nano)))
            return cutout_fail(o, t);
        o->ng_open = true;
        if (t->secrets_len &&
            sc_pcapng_secrets(o->ng, SC_PCAPNG_SECRETS_TLS, t->secrets, t->secrets_len) < 0)
            return cutout_fail(o, t);
        return 0;
    }
    if (!(o->fp = fdopen(fd, "wb"))) {
        close(fd);
        return cutout_fail(o, t);
    }
    dead = pcap_open_dead_with_tstamp_precision(linktype, CUTOUT_SNAPLEN,
               o->nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
    /* The dumper is the stream itself: never closed as a dumper. */
    if (!dead || !pcap_dump_fopen(dead, o->fp)) {
        if (dead)
            pcap_close(dead);
        return cutout_fail(o, t);
    }
    pcap_close(dead);
    return 0;
}

static int cutout_resume(sc_cutout *o, sc_cut_target *t)
{
    int fd = open(t->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return cutout_fail(o, t);
    if (t->pcapng) {
        if (sc_pcapng_resume(o->ng, fd) < 0)
            return cutout_fail(o, t);
        o->ng_open = true;
    } else if (!(o->fp = fdopen(fd, "ab"))) {
        close(fd);
        return cutout_fail(o, t);
    }
    return 0;
}

/* The comments of the findings on frame (notes sorted by frame). */
static size_t cutout_notes(const sc_cut_target *t, uint64_t frame, const char **out)
{
    size_t lo = 0, hi = t->nnotes, n = 0;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->notes[mid].frame < frame)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < t->nnotes && t->notes[lo].frame == frame && n < CUTOUT_COMMENTS_MAX; lo++)
        out[n++] = t->notes[lo].text;
    return n;
}

static int cutout_write(sc_cutout *o, sc_cut_target *t, const sc_packet *pkt,
                        const uint8_t *data)
{
    if (o->ng) {
        const char *c[CUTOUT_COMMENTS_MAX];
        sc_pcapng_pkt p = { pkt->linktype, pkt->ts, pkt->ts_nsec, pkt->caplen, pkt->wirelen,
                            data, SC_FRAME_NUMBER(pkt->frame), c,
                            cutout_notes(t, pkt->frame, c) };
        if (sc_pcapng_packet(o->ng, &p) < 0)
            return -1;
        t->commented += p.ncomments > 0;
        return 0;
    }
    uint32_t rec[4] = { (uint32_t)pkt->ts.tv_sec,
                        o->nano ? pkt->ts_nsec : (uint32_t)pkt->ts.tv_usec,
                        pkt->caplen, pkt->wirelen };
    errno = 0;
    if (fwrite(rec, sizeof rec, 1, o->fp) != 1 ||
        fwrite(data, 1, pkt->caplen, o->fp) != pkt->caplen)
        return -1;
    return 0;
}

void sc_cutout_packet(sc_cutout **out, sc_cut_target *t, const sc_packet *pkt,
                      const uint8_t *data, bool nano)
{
    sc_cutout *o = *out;

    if (!o) {
        if (!(o = *out = calloc(1, sizeof *o))) {
            t->error = ENOMEM;
            return;
        }
        o->nano = nano;
    }
    if (o->failed)
        return;
    errno = 0;
    if (!sc_cutout_is_open(o) &&
        (o->created ? cutout_resume(o, t) : cutout_create(o, t, pkt->linktype)) < 0)
        return;
    if (cutout_write(o, t, pkt, data) < 0) {
        cutout_fail(o, t);
        return;
    }
    t->written++;
    if (t->framemap && sc_framemap_add(t->framemap, pkt->frame) < 0)
        t->map_failed = true;
}

bool sc_cutout_is_open(const sc_cutout *o)
{
    return o && (o->fp || o->ng_open);
}

void sc_cutout_suspend(sc_cutout *o, sc_cut_target *t)
{
    if (o)
        cutout_shut(o, t);
}

void sc_cutout_close(sc_cutout *o, sc_cut_target *t)
{
    if (!o)
        return;
    cutout_shut(o, t);
    if (o->ng && sc_pcapng_close(o->ng) < 0 && !t->error)
        t->error = errno ? errno : EIO;
    if (t->error && o->created)
        unlink(t->path);
    free(o);
}
