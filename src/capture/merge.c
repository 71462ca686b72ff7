/*
 * merge.c - the capture of a run: several files read as one, in time
 * order, as mergecap would merge them; a pcapng whose interfaces have
 * different link types read as one stream per link type put back in file
 * order; a live interface.
 *
 * Interface: src/capture/capture.h (sc_capture_*, on the sources of reader.h).
 *
 * Files given together are one capture (interface.md): each is opened
 * once at the start to read its first packet (the first that passes the
 * BPF filter), and they are ordered by that packet's time stamp, ties by
 * name (merge_cmp), then by their order on the command line. Then packet
 * by packet the capture hands over the earliest of the files' next
 * packets (ties by that order: a packet stamped like the last one of the
 * file before stays after it, whatever the command line), so a chain cut by tcpdump -C/-G, editcap or smtpscope's
 * own -w -C/-G reads as the unsplit file did, and files that overlap in
 * time (two hosts, two interfaces) interleave. A file is opened when its
 * first packet is the earliest left and closed at its end, so a long
 * rotated chain holds one file open at a time: memory and descriptors
 * follow the files that overlap, not the files given.
 *
 * Frames keep the number Wireshark gives them in their file; a packet's
 * frame is that number plus the file's position in time order times
 * 2^SC_FRAME_FILE_SHIFT (src/capture/capture.h), so one file alone is
 * numbered as before and the frames of a chain grow along it.
 * sc_frame_name() (framename.c) turns it back into "file#number".
 *
 * A file whose interfaces have several link types is read by one reader
 * per link type (ifsplit.h); its packets are handed over in file order,
 * by their frame number in the whole file.
 *
 * One file with one link type (the common case, and every live capture)
 * is passed straight through to its reader.
 *
 * The link types of each file are kept from its opening, so a writer of
 * one link type (-w) learns before the first packet whether the whole
 * capture is of one (sc_capture_one_link), whatever files are open.
 *
 * Diagnostics: a file that cannot be opened, or whose first packet cannot
 * be read, fails the open ("FILE: reason"). A read error later in a file
 * of several ends that file only: "smtpscope: FILE: reason (analysed up
 * to frame N of that file)" on standard error, and the others go on.
 */
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "common/safeprint.h"
#include "ifsplit.h"
#include "reader.h"

enum { HEAD_EMPTY, HEAD_FULL, HEAD_DONE };

typedef struct cap_head {
    sc_reader *rd;
    sc_packet  pkt;
    int        state;
} cap_head;

typedef struct cap_file {
    const char     *path;
    unsigned        arg;              /* position on the command line */
    uint64_t        order;            /* position in time order */
    bool            empty;            /* no packet passes the filter */
    struct timeval  first;
    int             types[SC_IFSPLIT_MAX];
    int             ntypes;           /* 0: the file is read whole */
    int             dlt[SC_IFSPLIT_MAX]; /* its readers' link types (DLT_*) */
    int             snaplen;          /* the largest of its readers' */
    cap_head        h[SC_IFSPLIT_MAX];
    int             nh;               /* readers open (0: closed) */
    int             cur;              /* head handed over last, or -1 */
    uint64_t        last_frame;       /* for the warning of a read error */
    uint64_t        size;             /* for progress */
} cap_file;

struct sc_capture {
    sc_reader  *solo;                 /* one reader for the whole run */
    cap_file   *f;                    /* in time order */
    size_t      n;
    size_t      next;                 /* f[next..] not opened yet */
    size_t     *act;                  /* files open, by index */
    size_t      nact;
    cap_file   *last;                 /* the file of the packet handed over */
    const char *bpf;
    uint64_t    done_bytes;           /* sizes of the files read to the end */
    volatile sig_atomic_t broken;     /* sc_capture_break, from a signal */
    char        err[PCAP_ERRBUF_SIZE + 300];
};

static void file_close(cap_file *f)
{
    for (int i = 0; i < f->nh; i++)
        sc_reader_close(f->h[i].rd);
    f->nh = 0;
    f->cur = -1;
}

static int file_open(cap_file *f, const char *bpf, char *err, size_t errlen)
{
    int want = f->ntypes ? f->ntypes : 1;

    f->cur = -1;
    for (f->nh = 0; f->nh < want; f->nh++) {
        cap_head *h = &f->h[f->nh];
        h->rd = sc_reader_open_file(f->path, bpf, f->ntypes ? f->types[f->nh] : -1,
                                    err, errlen);
        if (!h->rd) {
            file_close(f);
            return -1;
        }
        h->state = HEAD_EMPTY;
    }
    return 0;
}

/* The file's next packet (the head with the lowest frame), read ahead but
 * not handed over: 1, 0 at its end, -1 on a read error (err). */
static int file_peek(cap_file *f, cap_head **out, char *err, size_t errlen)
{
    cap_head *best = NULL;

    for (int i = 0; i < f->nh; i++) {
        cap_head *h = &f->h[i];
        if (h->state == HEAD_EMPTY) {
            int rc;
            while ((rc = sc_reader_next(h->rd, &h->pkt)) == -2)
                ;
            if (rc < 0) {
                snprintf(err, errlen, "%s", sc_reader_error(h->rd));
                return -1;
            }
            h->state = rc == 1 ? HEAD_FULL : HEAD_DONE;
        }
        if (h->state == HEAD_FULL && (!best || h->pkt.frame < best->pkt.frame))
            best = h;
    }
    *out = best;
    return best != NULL;
}

/* True when file a's next packet (time ta) comes before b's (tb). */
static bool merge_before(struct timeval ta, const cap_file *a, struct timeval tb,
                         const cap_file *b)
{
    if (ta.tv_sec != tb.tv_sec)
        return ta.tv_sec < tb.tv_sec;
    if (ta.tv_usec != tb.tv_usec)
        return ta.tv_usec < tb.tv_usec;
    return a->order < b->order;
}

/* Time order of the files: by first packet; files that begin at the same
 * time by name in version order (a chain of tcpdump -C is cap, cap1, cap2,
 * ..., one of -G or editcap names by time or number), so a chain given in
 * any order on the command line reads the same; then the command line. */
static int merge_cmp(const void *pa, const void *pb)
{
    const cap_file *a = pa, *b = pb;
    int c;

    if (a->empty != b->empty)
        return a->empty ? 1 : -1;
    if (a->first.tv_sec != b->first.tv_sec)
        return a->first.tv_sec < b->first.tv_sec ? -1 : 1;
    if (a->first.tv_usec != b->first.tv_usec)
        return a->first.tv_usec < b->first.tv_usec ? -1 : 1;
    if ((c = strverscmp(a->path, b->path)) != 0)
        return c;
    return a->arg < b->arg ? -1 : a->arg > b->arg;
}

/* Opens every file once: its link types, its first packet. Standard
 * input cannot be opened twice: it stays open. */
static int merge_probe(sc_capture *cap, cap_file *f, char *err, size_t errlen)
{
    cap_head *h;
    int rc;

    f->ntypes = sc_ifsplit_scan(f->path, f->types, err, errlen);
    if (f->ntypes < 0)
        return -1;
    if (f->ntypes < 2)
        f->ntypes = 0;
    if (file_open(f, cap->bpf, err, errlen) < 0)
        return -1;
    for (int i = 0; i < f->nh; i++) {
        int snap = sc_reader_snaplen(f->h[i].rd);
        f->dlt[i] = sc_reader_linktype(f->h[i].rd);
        if (snap > f->snaplen)
            f->snaplen = snap;
    }
    rc = file_peek(f, &h, err, errlen);
    if (rc < 0) {
        file_close(f);
        return -1;
    }
    f->empty = rc == 0;
    if (rc)
        f->first = h->pkt.ts;
    sc_reader_progress(f->h[0].rd, &(uint64_t){ 0 }, &f->size);
    if (strcmp(f->path, "-") != 0)
        file_close(f);
    return 0;
}

static sc_capture *merge_fail(sc_capture *cap)
{
    if (cap->f)
        for (size_t i = 0; i < cap->n; i++)
            file_close(&cap->f[i]);
    free(cap->f);
    free(cap->act);
    free(cap);
    return NULL;
}

sc_capture *sc_capture_open_files(const char *const *paths, size_t n, const char *bpf,
                                  char *err, size_t errlen)
{
    sc_capture *cap = calloc(1, sizeof *cap);
    const char **names;

    if (!cap || n == 0) {
        snprintf(err, errlen, "%s: out of memory", n ? paths[0] : "-r");
        free(cap);
        return NULL;
    }
    cap->bpf = bpf;
    cap->n = n;
    if (n == 1) {
        int types[SC_IFSPLIT_MAX];
        int nt = sc_ifsplit_scan(paths[0], types, err, errlen);
        if (nt < 0)
            return merge_fail(cap);
        sc_frame_names_set(paths, 1);
        if (nt < 2) {
            cap->solo = sc_reader_open_file(paths[0], bpf, -1, err, errlen);
            return cap->solo ? cap : merge_fail(cap);
        }
    }
    cap->f = calloc(n, sizeof *cap->f);
    cap->act = calloc(n, sizeof *cap->act);
    names = calloc(n, sizeof *names);
    if (!cap->f || !cap->act || !names) {
        free(names);
        snprintf(err, errlen, "%s: out of memory", paths[0]);
        return merge_fail(cap);
    }
    for (size_t i = 0; i < n; i++) {
        cap->f[i].path = paths[i];
        cap->f[i].arg = (unsigned)i;
        cap->f[i].cur = -1;
        if (merge_probe(cap, &cap->f[i], err, errlen) < 0) {
            free(names);
            return merge_fail(cap);
        }
    }
    qsort(cap->f, n, sizeof *cap->f, merge_cmp);
    for (size_t i = 0; i < n; i++) {
        cap->f[i].order = i;
        names[i] = cap->f[i].path;
    }
    sc_frame_names_set(names, n);
    free(names);
    return cap;
}

sc_capture *sc_capture_open_file(const char *path, const char *bpf, char *err, size_t errlen)
{
    return sc_capture_open_files(&path, 1, bpf, err, errlen);
}

sc_capture *sc_capture_open_live(const char *iface, const char *bpf, unsigned buffer_kib,
                                 char *err, size_t errlen)
{
    sc_capture *cap = calloc(1, sizeof *cap);

    if (!cap) {
        snprintf(err, errlen, "%s: out of memory", iface);
        return NULL;
    }
    cap->solo = sc_reader_open_live(iface, bpf, buffer_kib, err, errlen);
    if (!cap->solo) {
        free(cap);
        return NULL;
    }
    return cap;
}

/* A file of several ended (rc 0) or failed (-1): closed, its size counted
 * as read; a failure is said and the others go on. */
static void merge_file_end(sc_capture *cap, size_t k, int rc)
{
    cap_file *f = &cap->f[cap->act[k]];

    if (rc < 0) {
        fputs("smtpscope: ", stderr);
        sc_safe_fputstr(stderr, cap->err);
        fprintf(stderr, " (analysed up to frame %llu of that file)\n",
                (unsigned long long)f->last_frame);
    }
    cap->done_bytes += f->size;
    file_close(f);
    cap->act[k] = cap->act[--cap->nact];
    if (cap->last == f)
        cap->last = NULL;
}

int sc_capture_next(sc_capture *cap, sc_packet *pkt)
{
    if (cap->solo)
        return sc_reader_next(cap->solo, pkt);
    if (cap->broken)
        return 0;
    if (cap->last && cap->last->cur >= 0) {
        cap->last->h[cap->last->cur].state = HEAD_EMPTY;    /* handed over */
        cap->last->cur = -1;
    }
    for (;;) {
        cap_file *best = NULL;
        cap_head *bh = NULL;

        for (size_t k = 0; k < cap->nact;) {
            cap_file *f = &cap->f[cap->act[k]];
            cap_head *h;
            int rc = file_peek(f, &h, cap->err, sizeof cap->err);
            if (rc <= 0) {
                merge_file_end(cap, k, rc);
                continue;
            }
            if (!best || merge_before(h->pkt.ts, f, bh->pkt.ts, best)) {
                best = f;
                bh = h;
            }
            k++;
        }
        if (cap->next < cap->n && !cap->f[cap->next].empty &&
            (!best || merge_before(cap->f[cap->next].first, &cap->f[cap->next],
                                   bh->pkt.ts, best))) {
            cap_file *f = &cap->f[cap->next++];
            if (!f->nh && file_open(f, cap->bpf, cap->err, sizeof cap->err) < 0)
                return -1;
            cap->act[cap->nact++] = (size_t)(f - cap->f);
            continue;
        }
        if (!best)
            return 0;
        *pkt = bh->pkt;
        best->cur = (int)(bh - best->h);
        best->last_frame = bh->pkt.frame;
        pkt->frame |= best->order << SC_FRAME_FILE_SHIFT;
        cap->last = best;
        return 1;
    }
}

/* The reader that speaks for the capture: the only one, or the first. */
static sc_reader *merge_first(const sc_capture *cap)
{
    if (cap->solo)
        return cap->solo;
    for (size_t k = 0; k < cap->nact; k++)
        if (cap->f[cap->act[k]].nh)
            return cap->f[cap->act[k]].h[0].rd;
    return NULL;
}

const char *sc_capture_error(const sc_capture *cap)
{
    return cap->solo ? sc_reader_error(cap->solo) : cap->err;
}

const char *sc_capture_name(const sc_capture *cap)
{
    return cap->solo ? sc_reader_name(cap->solo) : cap->f[0].path;
}

int sc_capture_linktype(const sc_capture *cap)
{
    sc_reader *rd = merge_first(cap);
    return rd ? sc_reader_linktype(rd) : -1;
}

int sc_capture_snaplen(const sc_capture *cap)
{
    sc_reader *rd = merge_first(cap);
    return rd ? sc_reader_snaplen(rd) : 0;
}

/* Appends "FILE (TYPE, ...)" to err at *n, for -w's refusal; cut short
 * at errlen. */
static void link_file_say(char *err, size_t errlen, size_t *n, const char *path,
                          const int *dlt, int nt)
{
    for (int i = 0; i <= nt && *n < errlen; i++) {
        const char *name = i < nt ? pcap_datalink_val_to_name(dlt[i]) : NULL;
        int k;
        if (i == nt)
            k = snprintf(err + *n, errlen - *n, ")");
        else if (name)
            k = snprintf(err + *n, errlen - *n, "%s%s%s", i ? ", " : path, i ? "" : " (", name);
        else
            k = snprintf(err + *n, errlen - *n, "%s%s%d", i ? ", " : path, i ? "" : " (", dlt[i]);
        *n += k > 0 ? (size_t)k : 0;
    }
}

int sc_capture_one_link(const sc_capture *cap, int *linktype, int *snaplen,
                        char *err, size_t errlen)
{
    bool mixed = false;
    size_t n = 0;

    if (cap->solo) {
        *linktype = sc_reader_linktype(cap->solo);
        *snaplen = sc_reader_snaplen(cap->solo);
        return 0;
    }
    /* files in time order, those with no frame last: the first speaks */
    *linktype = cap->f[0].dlt[0];
    *snaplen = 0;
    for (size_t i = 0; i < cap->n; i++) {
        const cap_file *f = &cap->f[i];
        if (f->empty && i)
            continue;
        for (int t = 0; t < (f->ntypes ? f->ntypes : 1); t++)
            mixed |= f->dlt[t] != *linktype;
        if (f->snaplen > *snaplen)
            *snaplen = f->snaplen;
    }
    if (!mixed)
        return 0;
    n = (size_t)snprintf(err, errlen, "-w: a pcap file holds one link type and the frames "
                         "of this capture are of several: ");
    for (size_t i = 0; i < cap->n && n < errlen; i++) {
        if (cap->f[i].empty && i)
            continue;
        if (i)
            n += (size_t)snprintf(err + n, errlen - n, "; ");
        if (n < errlen)
            link_file_say(err, errlen, &n, cap->f[i].path, cap->f[i].dlt,
                          cap->f[i].ntypes ? cap->f[i].ntypes : 1);
    }
    return -1;
}

void *sc_capture_pcap(sc_capture *cap)
{
    sc_reader *rd = merge_first(cap);
    return rd ? sc_reader_pcap(rd) : NULL;
}

void sc_capture_progress(const sc_capture *cap, uint64_t *done, uint64_t *total)
{
    if (cap->solo) {
        sc_reader_progress(cap->solo, done, total);
        return;
    }
    *done = cap->done_bytes;
    *total = 0;
    for (size_t i = 0; i < cap->n; i++)
        *total += cap->f[i].size;
    for (size_t k = 0; k < cap->nact; k++) {
        const cap_file *f = &cap->f[cap->act[k]];
        uint64_t best = 0;
        for (int i = 0; i < f->nh; i++) {
            uint64_t d, t;
            sc_reader_progress(f->h[i].rd, &d, &t);
            best = d > best ? d : best;
        }
        *done += best;
    }
    if (*done > *total)
        *done = *total;
}

int sc_capture_stats(sc_capture *cap, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop)
{
    return cap->solo ? sc_reader_stats(cap->solo, recv, drop, ifdrop) : -1;
}

void sc_capture_break(sc_capture *cap)
{
    if (cap->solo)
        sc_reader_break(cap->solo);
    else
        cap->broken = 1;
}

bool sc_capture_rereadable(const sc_capture *cap)
{
    return cap->solo && sc_reader_rereadable(cap->solo);
}

bool sc_capture_same_file(const sc_capture *a, const sc_capture *b)
{
    return a->solo && b->solo && sc_reader_same_file(a->solo, b->solo);
}

void sc_capture_close(sc_capture *cap)
{
    if (!cap)
        return;
    if (cap->solo)
        sc_reader_close(cap->solo);
    merge_fail(cap);
}
