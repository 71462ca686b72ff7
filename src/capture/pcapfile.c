/*
 * pcapfile.c - the records of a plain pcap file, read from a buffer of
 * our own rather than through libpcap.
 *
 * Interface: pcapfile.h (internal to src/capture; reader.c uses it for a
 * regular file opened by name).
 *
 * libpcap reads a record with two fread() calls through the stdio
 * stream, one for its header and one copying the packet into its own
 * buffer: about 440 instructions a packet, more than the reassembly of a
 * bare ACK. Here the file is read with pread() in blocks of
 * PCAPFILE_BLOCK bytes and a record is handed over where it lies in the
 * block, its header decoded in place: about 40 instructions.
 *
 * Only records libpcap would hand over exactly as stored are read here:
 * a file of version 2.4 with the micro- or nanosecond magic (pcapng,
 * older versions and the modified formats stay with libpcap), a link
 * type whose packets libpcap does not rewrite (it swaps the pseudo-
 * headers of some link types in files of the other byte order), and a
 * record whose captured length is within the file's snapshot length and
 * whose time is a plain one (seconds below 2^31, the fraction below one
 * second). Anything else, and a record the file cuts short, is read by
 * libpcap itself, from that record's offset (the stdio stream is moved
 * there), so its checks, its truncation of oversized records and its
 * error messages are the ones the user sees; the next record is read here
 * again, from where libpcap stopped. After PCAPFILE_HANDOFF such records
 * libpcap reads the rest of the file (a file made of them would otherwise
 * refill stdio's buffer for each). Times are handed over as libpcap
 * hands them to a reader that asked for nanoseconds.
 *
 * Diagnostics: none of its own; errors are libpcap's (pcap_geterr()),
 * including that of a read that failed here (the record is handed to
 * libpcap, which reads it again and reports).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcapfile.h"

#define PCAPFILE_BLOCK    (512 * 1024)   /* twice the largest snapshot libpcap allows */
#define PCAPFILE_HANDOFF  64             /* records for libpcap before it reads the rest */
#define PCAPFILE_MAGIC_US 0xa1b2c3d4u
#define PCAPFILE_MAGIC_NS 0xa1b23c4du

struct sc_pcapfile {
    pcap_t             *pcap;
    FILE               *fp;
    int                 fd;
    bool                swapped;      /* the file's byte order is not ours */
    bool                nano;
    bool                eof;          /* the block ends at the end of the file */
    bool                libpcap_only; /* after PCAPFILE_HANDOFF records */
    unsigned            handoff;
    uint32_t            snaplen;
    off_t               off;          /* file offset of buf[0] */
    size_t              pos, len;     /* the bytes not yet handed over: buf[pos..len) */
    struct pcap_pkthdr  hdr;
    uint8_t            *buf;
};

/* Link types whose records libpcap hands over as stored (the others,
 * rarer, stay with libpcap); the cooked Linux header only in our byte
 * order (libpcap swaps a field of it). */
static bool pcapfile_link_plain(int dlt, bool swapped)
{
    static const int plain[] = { DLT_EN10MB, DLT_RAW, 12, 14, DLT_NULL, DLT_LOOP };

    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (plain[i] == dlt)
            return true;
    return !swapped && dlt == DLT_LINUX_SLL;
}

sc_pcapfile *sc_pcapfile_new(pcap_t *pcap, FILE *fp)
{
    sc_pcapfile *pf;
    uint8_t m[4];
    uint32_t magic;
    off_t at = ftello(fp);
    int fd = fileno(fp);

    if (at <= 0 || fd < 0 || pcap_major_version(pcap) != 2 || pcap_minor_version(pcap) != 4 ||
        pread(fd, m, sizeof m, 0) != (ssize_t)sizeof m)
        return NULL;
    magic = pcap_is_swapped(pcap) ? (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3]
                                  : (uint32_t)m[3] << 24 | (uint32_t)m[2] << 16 | (uint32_t)m[1] << 8 | m[0];
    if ((magic != PCAPFILE_MAGIC_US && magic != PCAPFILE_MAGIC_NS) ||
        !pcapfile_link_plain(pcap_datalink(pcap), pcap_is_swapped(pcap) != 0) ||
        pcap_snapshot(pcap) <= 0 || pcap_snapshot(pcap) > PCAPFILE_BLOCK / 2)
        return NULL;
    if (!(pf = calloc(1, sizeof *pf)) || !(pf->buf = malloc(PCAPFILE_BLOCK))) {
        free(pf);
        return NULL;
    }
    pf->pcap = pcap;
    pf->fp = fp;
    pf->fd = fd;
    pf->swapped = pcap_is_swapped(pcap) != 0;
    pf->nano = magic == PCAPFILE_MAGIC_NS;
    pf->snaplen = (uint32_t)pcap_snapshot(pcap);
    pf->off = at;
    return pf;
}

static uint32_t pcapfile_u32(const sc_pcapfile *pf, const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return pf->swapped ? __builtin_bswap32(v) : v;
}

/* Moves what is left to the start of the block and reads more behind
 * it. false on a read error (the record goes to libpcap). */
static bool pcapfile_fill(sc_pcapfile *pf)
{
    ssize_t n;

    memmove(pf->buf, pf->buf + pf->pos, pf->len - pf->pos);
    pf->off += (off_t)pf->pos;
    pf->len -= pf->pos;
    pf->pos = 0;
    do
        n = pread(pf->fd, pf->buf + pf->len, PCAPFILE_BLOCK - pf->len, pf->off + (off_t)pf->len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return false;
    pf->eof = n == 0;
    pf->len += (size_t)n;
    return true;
}

/* The record at the current offset, read by libpcap; the next one is
 * read here again, from where libpcap stopped. */
static int pcapfile_by_libpcap(sc_pcapfile *pf, struct pcap_pkthdr **hdr, const u_char **data)
{
    off_t at = pf->off + (off_t)pf->pos;
    int rc;

    if (fseeko(pf->fp, at, SEEK_SET) != 0)
        pf->libpcap_only = true;         /* libpcap goes on from where it was */
    rc = pcap_next_ex(pf->pcap, hdr, data);
    if (++pf->handoff >= PCAPFILE_HANDOFF)
        pf->libpcap_only = true;
    if (!pf->libpcap_only) {
        at = ftello(pf->fp);
        if (at < 0)
            pf->libpcap_only = true;
        pf->off = at;
        pf->pos = pf->len = 0;
        pf->eof = false;
    }
    return rc;
}

int sc_pcapfile_next(sc_pcapfile *pf, struct pcap_pkthdr **hdr, const u_char **data)
{
    if (pf->libpcap_only)
        return pcap_next_ex(pf->pcap, hdr, data);
    for (;;) {
        size_t left = pf->len - pf->pos;

        if (left >= 16) {
            const uint8_t *p = pf->buf + pf->pos;
            uint32_t sec = pcapfile_u32(pf, p), frac = pcapfile_u32(pf, p + 4);
            uint32_t caplen = pcapfile_u32(pf, p + 8);

            if (caplen > pf->snaplen || sec > INT32_MAX ||
                frac >= (pf->nano ? 1000000000u : 1000000u))
                return pcapfile_by_libpcap(pf, hdr, data);
            if (left - 16 >= caplen) {
                pf->hdr.ts.tv_sec = (time_t)sec;
                pf->hdr.ts.tv_usec = (suseconds_t)(pf->nano ? frac : frac * 1000u);
                pf->hdr.caplen = caplen;
                pf->hdr.len = pcapfile_u32(pf, p + 12);
                *hdr = &pf->hdr;
                *data = p + 16;
                pf->pos += 16 + (size_t)caplen;
                return 1;
            }
        }
        if (pf->eof) {
            if (!left)
                return PCAP_ERROR_BREAK;
            return pcapfile_by_libpcap(pf, hdr, data);   /* cut short: libpcap says so */
        }
        if (!pcapfile_fill(pf))
            return pcapfile_by_libpcap(pf, hdr, data);
    }
}

off_t sc_pcapfile_offset(const sc_pcapfile *pf)
{
    return pf->libpcap_only ? ftello(pf->fp) : pf->off + (off_t)pf->pos;
}

void sc_pcapfile_free(sc_pcapfile *pf)
{
    if (!pf)
        return;
    free(pf->buf);
    free(pf);
}
