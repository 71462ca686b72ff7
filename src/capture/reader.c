/*
 * reader.c - packets in from libpcap, one source at a time: a capture file
 * (pcap, pcapng, gzip, standard input), one link type of a pcapng whose
 * interfaces have several (ifsplit.h), or a live interface.
 *
 * Interface: reader.h (internal to src/capture; merge.c makes the
 * sources of a run one capture, src/capture/capture.h).
 *
 * Files are read through a stdio stream with a 1 MB buffer: libpcap's own
 * pcap_open_offline() freads header and packet through the stream's
 * default buffer (4 KB with glibc, one read(2) each), and those system
 * calls cost more than the reassembly they feed (docs/performance.md). A
 * regular file that does not start with the gzip magic is handed to
 * libpcap as a plain stream; gzip files and pipes (standard input, which
 * cannot be peeked at) are read through gzstream.c, which passes data
 * that is not gzip through unchanged, behind a stream made with
 * fopencookie() that has the same large buffer (gzstream.c: what decodes
 * before damage in a gzip file is analysed, the damage is a read error).
 * Once libpcap has read the file header of a regular file opened by name,
 * the records of a plain pcap file are read by pcapfile.c from a buffer
 * of its own (libpcap still reads every record it must check or cut,
 * and pcapng); a break (sc_reader_break) ends such a file as it ends one
 * libpcap reads.
 *
 * A BPF filter on a file is not installed with pcap_setfilter(): every
 * frame is read and numbered, and the filter is applied here with
 * pcap_offline_filter(), so frame numbers stay those of the unfiltered file
 * (what Wireshark shows). Live captures filter in the kernel.
 *
 * Frames are numbered from 1 in file order, as Wireshark numbers them;
 * a reader of one link type takes each packet's number from its filter.
 *
 * Diagnostics: open failures return NULL with "FILE: reason" in err (an
 * unsupported link type is named: "FILE: unsupported link type NAME (N)");
 * read errors are reported by sc_reader_error().
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gzstream.h"
#include "ifsplit.h"
#include "link.h"
#include "pcapfile.h"
#include "reader.h"

/* Live: snap length that holds any frame, kernel buffer for bursts, and a
 * read timeout: the longest a packet waits in the kernel before it is
 * handed over. Not immediate mode: on Linux it switches libpcap from
 * TPACKET_V3 (blocks packed with frames of any size) to TPACKET_V2, a ring
 * of slots each as large as the interface's MTU allows (64 KiB on lo,
 * offloaded frames elsewhere), so 16 MB hold a few hundred packets and a
 * burst is lost (measured on lo: 100 Mbit/s of SMTP lost 1 % in immediate
 * mode, nothing without it; bench/live-rate.sh). The cost is latency: up
 * to CAPTURE_LIVE_TIMEOUT ms before a finding can be printed. */
#define CAPTURE_LIVE_SNAPLEN   262144
#define CAPTURE_LIVE_BUFFER    (16 * 1024 * 1024)
#define CAPTURE_LIVE_TIMEOUT   250

/* Files: the stdio buffer libpcap reads through (see the header). */
#define CAPTURE_FILE_BUFFER    (1024 * 1024)
#define CAPTURE_GZ_MAGIC       0x1f

struct sc_reader {
    pcap_t              *pcap;
    char                 name[256];
    bool                 live;
    bool                 have_filter;    /* files: filter applied by hand */
    struct bpf_program   filter;
    sc_gzstream         *gz;             /* files: owned by the cookie stream */
    FILE                *fp;             /* files: the stream, owned by pcap */
    char                *iobuf;          /* its buffer, freed after pcap_close */
    uint64_t             total;          /* file size, 0 when unknown */
    bool                 rereadable;     /* a regular file by name, no zlib */
    dev_t                dev;            /* which file (rereadable only) */
    ino_t                ino;
    uint64_t             frame;
    int                  linktype;
    sc_ifsplit          *split;          /* one link type of a pcapng, or NULL */
    sc_pcapfile         *pf;             /* a plain pcap file read past libpcap, or NULL */
    volatile sig_atomic_t broken;
    volatile sig_atomic_t halted;        /* files: sc_reader_break() ends the input */
    char                 err[PCAP_ERRBUF_SIZE + 300];
};

/* ---- the gunzipping stdio stream - ------------------------------------ */

static ssize_t capture_gz_read(void *cookie, char *buf, size_t size)
{
    return sc_gzstream_read(cookie, buf, size);
}

static int capture_gz_close(void *cookie)
{
    return sc_gzstream_close(cookie);
}

/* The stream's buffer: glibc ignores the size given to setvbuf() without
 * a buffer, so it is allocated here and outlives the stream. Without
 * memory the stream keeps stdio's default buffer (slower, still right). */
static void capture_buffer_set(sc_reader *cap, FILE *fp)
{
    /* only libpcap reads it, from this thread: no lock per fread */
    (void)__fsetlocking(fp, FSETLOCKING_BYCALLER);
    cap->iobuf = malloc(CAPTURE_FILE_BUFFER);
    if (cap->iobuf && setvbuf(fp, cap->iobuf, _IOFBF, CAPTURE_FILE_BUFFER) != 0) {
        free(cap->iobuf);
        cap->iobuf = NULL;
    }
}

/* A regular file whose first octet (at the current offset: standard input
 * may be a file already read from) is not gzip's can skip zlib. */
static bool capture_is_plain_file(int fd, const struct stat *st)
{
    off_t at;
    uint8_t b;

    if (!S_ISREG(st->st_mode))
        return false;
    at = lseek(fd, 0, SEEK_CUR);
    return at >= 0 && pread(fd, &b, 1, at) == 1 && b != CAPTURE_GZ_MAGIC;
}

static FILE *capture_gz_stream(sc_reader *cap, int fd, const char *path, char *err,
                               size_t errlen)
{
    static const cookie_io_functions_t io = {
        .read = capture_gz_read, .write = NULL, .seek = NULL, .close = capture_gz_close
    };
    FILE *fp;

    cap->gz = sc_gzstream_new(fd);
    if (!cap->gz) {
        snprintf(err, errlen, "%s: cannot read (out of memory)", path);
        return NULL;
    }
    fp = fopencookie(cap->gz, "r", io);
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        sc_gzstream_close(cap->gz);
        cap->gz = NULL;
    }
    return fp;
}

static FILE *capture_stream(sc_reader *cap, const char *path, char *err, size_t errlen)
{
    int fd;
    struct stat st;
    FILE *fp;

    fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
        close(fd);
        return NULL;
    }
    if (S_ISREG(st.st_mode)) {
        cap->total = (uint64_t)st.st_size;
        if (strcmp(path, "-") != 0)
            sc_capture_ident_seen(path, &st);
    }
    if (!capture_is_plain_file(fd, &st))
        fp = capture_gz_stream(cap, fd, path, err, errlen);
    else if (!(fp = fdopen(fd, "rb"))) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
    } else if (strcmp(path, "-") != 0) {
        cap->rereadable = true;
        cap->dev = st.st_dev;
        cap->ino = st.st_ino;
    }
    if (fp)
        capture_buffer_set(cap, fp);
    cap->fp = fp;
    return fp;
}

/* ---- opening ------------------------------------------------------------ */

static int capture_linktype_check(sc_reader *cap, char *err, size_t errlen)
{
    const char *lname;

    cap->linktype = pcap_datalink(cap->pcap);
    if (sc_link_supported(cap->linktype))
        return 0;
    lname = pcap_datalink_val_to_name(cap->linktype);
    snprintf(err, errlen, "%s: unsupported link type %s (%d)", cap->name,
             lname ? lname : "unknown", cap->linktype);
    return -1;
}

static int capture_filter_compile(sc_reader *cap, const char *bpf, char *err, size_t errlen)
{
    if (!bpf || !*bpf)
        return 0;
    if (pcap_compile(cap->pcap, &cap->filter, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(err, errlen, "bad BPF expression \"%s\": %s", bpf, pcap_geterr(cap->pcap));
        return -1;
    }
    cap->have_filter = true;
    return 0;
}

sc_reader *sc_reader_open_file(const char *path, const char *bpf, int split,
                               char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    sc_reader *cap = calloc(1, sizeof *cap);
    FILE *fp;

    if (!cap) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    snprintf(cap->name, sizeof cap->name, "%s", strcmp(path, "-") == 0 ? "(stdin)" : path);
    if (split >= 0) {
        struct stat st;
        fp = sc_ifsplit_open(path, split, &cap->split, err, errlen);
        if (fp && stat(path, &st) == 0)
            cap->total = (uint64_t)st.st_size;
    } else
        fp = capture_stream(cap, path, err, errlen);
    if (!fp) {
        free(cap->iobuf);
        free(cap);
        return NULL;
    }
    /* Nanoseconds, as a nanosecond capture holds them: an evidence pcap
     * keeps them (pkt->ts_nsec); everything else reads microseconds. */
    cap->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!cap->pcap) {
        /* a gzip file damaged before the capture header also lands here */
        snprintf(err, errlen, "%s: not a capture file (%s)", cap->name,
                 cap->gz && *sc_gzstream_error(cap->gz) ? sc_gzstream_error(cap->gz) : perr);
        fclose(fp);
        free(cap->iobuf);
        free(cap);
        return NULL;
    }
    if (capture_linktype_check(cap, err, errlen) < 0 ||
        capture_filter_compile(cap, bpf, err, errlen) < 0) {
        sc_reader_close(cap);
        return NULL;
    }
    /* a plain pcap file is read past libpcap's stdio reads (pcapfile.c) */
    if (cap->rereadable)
        cap->pf = sc_pcapfile_new(cap->pcap, fp);
    return cap;
}

sc_reader *sc_reader_open_live(const char *iface, const char *bpf, unsigned buffer_kib,
                                 char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    sc_reader *cap = calloc(1, sizeof *cap);
    int rc;

    if (!cap) {
        snprintf(err, errlen, "%s: out of memory", iface);
        return NULL;
    }
    snprintf(cap->name, sizeof cap->name, "%s", iface);
    cap->live = true;
    cap->pcap = pcap_create(iface, perr);
    if (!cap->pcap) {
        snprintf(err, errlen, "%s: %s", iface, perr);
        free(cap);
        return NULL;
    }
    pcap_set_snaplen(cap->pcap, CAPTURE_LIVE_SNAPLEN);
    pcap_set_promisc(cap->pcap, 1);
    pcap_set_buffer_size(cap->pcap, buffer_kib ? (int)buffer_kib * 1024 : CAPTURE_LIVE_BUFFER);
    pcap_set_timeout(cap->pcap, CAPTURE_LIVE_TIMEOUT);
    rc = pcap_activate(cap->pcap);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", iface,
                 rc == PCAP_ERROR ? pcap_geterr(cap->pcap) : pcap_statustostr(rc));
        pcap_close(cap->pcap);
        free(cap);
        return NULL;
    }
    if (capture_linktype_check(cap, err, errlen) < 0 ||
        capture_filter_compile(cap, bpf, err, errlen) < 0) {
        sc_reader_close(cap);
        return NULL;
    }
    if (cap->have_filter) {
        if (pcap_setfilter(cap->pcap, &cap->filter) < 0) {
            snprintf(err, errlen, "%s: cannot set filter: %s", iface, pcap_geterr(cap->pcap));
            sc_reader_close(cap);
            return NULL;
        }
        /* The kernel filters now; frames are numbered as they arrive. */
        pcap_freecode(&cap->filter);
        cap->have_filter = false;
    }
    return cap;
}

/* ---- reading ------------------------------------------------------------ */

int sc_reader_next(sc_reader *cap, sc_packet *pkt)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;

    for (;;) {
        int rc;

        if (cap->broken) {
            cap->broken = 0;
            return -2;
        }
        if (cap->pf && cap->halted)
            return 0;                        /* as libpcap ends after a break */
        rc = cap->pf ? sc_pcapfile_next(cap->pf, &hdr, &data)
                     : pcap_next_ex(cap->pcap, &hdr, &data);
        if (rc == 0)
            return -2;                       /* live read timeout */
        if (rc == PCAP_ERROR_BREAK)
            return cap->live ? -2 : 0;       /* files: end of input */
        if (rc < 0) {
            /* the damage itself, rather than what libpcap made of it */
            const char *why = cap->split && *sc_ifsplit_error(cap->split)
                            ? sc_ifsplit_error(cap->split)
                            : cap->gz && *sc_gzstream_error(cap->gz)
                            ? sc_gzstream_error(cap->gz) : pcap_geterr(cap->pcap);
            snprintf(cap->err, sizeof cap->err, "%s: %s", cap->name, why);
            return -1;
        }
        cap->frame = cap->split ? sc_ifsplit_frame(cap->split) : cap->frame + 1;
        if (cap->have_filter && !pcap_offline_filter(&cap->filter, hdr, data))
            continue;
        memset(pkt, 0, sizeof *pkt);
        pkt->frame = cap->frame;
        pkt->ts = hdr->ts;
        if (cap->live) {
            pkt->ts_nsec = (uint32_t)hdr->ts.tv_usec * 1000u;
        } else {
            pkt->ts_nsec = (uint32_t)hdr->ts.tv_usec;
            pkt->ts.tv_usec = hdr->ts.tv_usec / 1000;
        }
        pkt->caplen = hdr->caplen;
        pkt->wirelen = hdr->len;
        pkt->linktype = cap->linktype;
        pkt->data = data;
        sc_link_decode(cap->linktype, pkt);
        return 1;
    }
}

const char *sc_reader_error(const sc_reader *cap) { return cap->err; }
const char *sc_reader_name(const sc_reader *cap) { return cap->name; }
int sc_reader_linktype(const sc_reader *cap) { return cap->linktype; }
int sc_reader_snaplen(const sc_reader *cap) { return pcap_snapshot(cap->pcap); }
void *sc_reader_pcap(sc_reader *cap) { return cap->pcap; }

void sc_reader_progress(const sc_reader *cap, uint64_t *done, uint64_t *total)
{
    /* gzip: the compressed bytes read, as total counts them */
    off_t off = cap->gz ? (off_t)sc_gzstream_offset(cap->gz)
              : cap->pf ? sc_pcapfile_offset(cap->pf) : cap->fp ? ftello(cap->fp) : -1;

    *done = off > 0 ? (uint64_t)off : 0;
    *total = cap->total;
    if (*total && *done > *total)
        *done = *total;
}

int sc_reader_stats(sc_reader *cap, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop)
{
    struct pcap_stat st;

    if (!cap->live || pcap_stats(cap->pcap, &st) < 0)
        return -1;
    *recv = st.ps_recv;
    *drop = st.ps_drop;
    *ifdrop = st.ps_ifdrop;
    return 0;
}

void sc_reader_break(sc_reader *cap)
{
    cap->broken = 1;
    cap->halted = 1;
    pcap_breakloop(cap->pcap);
}

bool sc_reader_rereadable(const sc_reader *cap)
{
    return cap->rereadable;
}

bool sc_reader_same_file(const sc_reader *a, const sc_reader *b)
{
    return a->rereadable && b->rereadable && a->dev == b->dev && a->ino == b->ino;
}

void sc_reader_close(sc_reader *cap)
{
    if (!cap)
        return;
    if (cap->have_filter)
        pcap_freecode(&cap->filter);
    sc_pcapfile_free(cap->pf);
    if (cap->pcap)
        pcap_close(cap->pcap);     /* closes the stream (and the gzFile) */
    free(cap->iobuf);
    free(cap);
}
