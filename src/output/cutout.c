/*
 * cutout.c - the file a session is cut into (cutout.h).
 *
 * A pcap goes through libpcap's dumper with the link type of the source,
 * so the frame bytes stay exactly as captured. A pcapng (pcapng.h) also
 * carries, per packet, its original frame number as the packet id and
 * the comments of the findings that rest on that frame (target->notes,
 * sorted by frame, found by binary search: a session's packets need not
 * come in frame order when several files are read as one capture).
 * Files are created with O_EXCL|O_NOFOLLOW, mode 0600: never over an
 * existing file, and they hold mail.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/frame.h"
#include "cutout.h"
#include "pcapng.h"

#define CUTOUT_SNAPLEN 262144
#define CUTOUT_COMMENTS_MAX 32      /* comments on one frame */

struct sc_cutout {
    bool           failed;
    pcap_t        *dead;            /* pcap */
    pcap_dumper_t *dump;
    sc_pcapng     *ng;              /* pcapng */
};

static int cutout_open(sc_cutout *o, sc_cut_target *t, int linktype)
{
    int fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *fp = NULL;

    if (fd < 0)
        goto fail;
    if (t->pcapng) {
        if (!(o->ng = sc_pcapng_open(fd, t->ng_appl, t->ng_shb, t->ng_nshb)))
            goto fail_made;
        if (t->secrets_len &&
            sc_pcapng_secrets(o->ng, SC_PCAPNG_SECRETS_TLS, t->secrets, t->secrets_len) < 0)
            goto fail_made;
        return 0;
    }
    if (!(fp = fdopen(fd, "wb")) || !(o->dead = pcap_open_dead(linktype, CUTOUT_SNAPLEN)) ||
        !(o->dump = pcap_dump_fopen(o->dead, fp))) {
        if (fp)
            fclose(fp);
        else
            close(fd);
        goto fail_made;
    }
    return 0;
fail_made:
    t->error = errno ? errno : EIO;
    o->failed = true;
    sc_pcapng_close(o->ng);
    o->ng = NULL;
    unlink(t->path);
    return -1;
fail:
    t->error = errno ? errno : EIO;
    o->failed = true;
    return -1;
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

void sc_cutout_packet(sc_cutout **out, sc_cut_target *t, const sc_packet *pkt,
                      const uint8_t *data)
{
    sc_cutout *o = *out;

    if (!o) {
        if (!(o = *out = calloc(1, sizeof *o))) {
            t->error = ENOMEM;
            return;
        }
        errno = 0;
        cutout_open(o, t, pkt->linktype);
    }
    if (o->failed)
        return;
    if (o->ng) {
        const char *c[CUTOUT_COMMENTS_MAX];
        sc_pcapng_pkt p = { pkt->linktype, pkt->ts, pkt->caplen, pkt->wirelen, data,
                            SC_FRAME_NUMBER(pkt->frame), c, cutout_notes(t, pkt->frame, c) };
        if (sc_pcapng_packet(o->ng, &p) < 0) {
            t->error = errno ? errno : EIO;
            o->failed = true;
            return;
        }
        t->commented += p.ncomments > 0;
    } else {
        struct pcap_pkthdr ph = { .ts = pkt->ts, .caplen = pkt->caplen, .len = pkt->wirelen };
        pcap_dump((u_char *)o->dump, &ph, data);
    }
    t->written++;
    if (t->framemap && fwrite(&pkt->frame, sizeof pkt->frame, 1, t->framemap) != 1)
        t->map_failed = true;
}

void sc_cutout_close(sc_cutout *o, sc_cut_target *t)
{
    if (!o)
        return;
    if (o->ng) {
        if (sc_pcapng_close(o->ng) < 0 && !t->error)
            t->error = errno ? errno : EIO;
    } else if (o->dump) {
        /* A pcap cut short (full disk) is worse than none: it would
         * block the next run's O_EXCL and pass for complete. */
        errno = 0;
        if ((pcap_dump_flush(o->dump) < 0 || ferror(pcap_dump_file(o->dump))) && !t->error)
            t->error = errno ? errno : EIO;
        pcap_dump_close(o->dump);
    }
    if (o->dead)
        pcap_close(o->dead);
    if (t->error && (o->ng || o->dump))
        unlink(t->path);
    free(o);
}
