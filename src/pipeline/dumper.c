/*
 * dumper.c - the -w FILE writer, live or from files (include:
 * src/pipeline/dumper.h).
 *
 * Rotation follows tcpdump, so scripts written for it keep working:
 *  - -C SIZE: before a frame is written, if the current file already holds
 *    more than SIZE million bytes, it is closed and the next one opened:
 *    FILE, FILE1, FILE2, ...
 *  - -G SECONDS: FILE is a strftime(3) pattern (local time, as tcpdump);
 *    SECONDS after a file was opened the next one is opened with the
 *    pattern expanded anew. With -C too, the size counter restarts at
 *    each new interval (NAME, NAME1, NAME2, ...).
 * Time rotation follows the clock, not packet time, and is also checked
 * when no packet comes (sc_dumper_tick), so an idle link still rotates.
 * Files opened after -Z belong to the unprivileged user. Files are mode
 * 0600 whatever the umask (they hold mail and AUTH data).
 *
 * The files are written from a pcap_open_dead() descriptor of the link type
 * and snap length the caller gives, never from the reader's: a capture of
 * several files or of a pcapng split by link type has no one reader, and a
 * file's reader reads nanoseconds while sc_dumper_write is given
 * microseconds (struct timeval): a dead descriptor's precision is the
 * microsecond, so the file's header says what its records hold.
 *
 * Diagnostics: sc_dumper_open fails with "FILE: reason"; a failure to
 * open a later file is written once to stderr and the writing stops. A
 * write error (full disk) stops the writing too, with one line naming the
 * file and the packets left out; the count of packets written is then
 * that of the packets flushed to the file before the error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dumper.h"
#include "common/safeprint.h"
#include "common/wcheck.h"

#define DUMPER_NAME_MAX 4096

struct sc_dumper {
    pcap_t        *pcap;            /* dead: the link type and snap length */
    pcap_dumper_t *out;             /* NULL once writing failed */
    char           pattern[DUMPER_NAME_MAX];
    char           name[DUMPER_NAME_MAX];
    uint64_t       max_bytes;
    unsigned       rotate_secs;
    time_t         opened;          /* clock time the interval began */
    unsigned       seq;             /* size rotations in this interval */
    uint64_t       packets;         /* in files, surely (flushed) */
    uint64_t       pending;         /* written since the last flush */
    unsigned       files;
};

/* The name of the next file: the pattern (expanded under -G) and the
 * size-rotation number. */
static int dumper_name_make(sc_dumper *d, time_t now)
{
    char base[DUMPER_NAME_MAX];

    int n;

    if (d->rotate_secs) {
        struct tm tm;
        size_t len;
        /* The pattern is the user's -w argument, a strftime pattern by
         * design (as in tcpdump): strftime reads no varargs from it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        len = localtime_r(&now, &tm) ? strftime(base, sizeof base, d->pattern, &tm) : 0;
#pragma GCC diagnostic pop
        if (len == 0)
            return -1;
    } else {
        snprintf(base, sizeof base, "%s", d->pattern);
    }
    if (d->seq == 0)
        n = snprintf(d->name, sizeof d->name, "%s", base);
    else
        n = snprintf(d->name, sizeof d->name, "%.4000s%u", base, d->seq);
    return n < 0 || (size_t)n >= sizeof d->name ? -1 : 0;
}

static int dumper_file_open(sc_dumper *d, time_t now, char *err, size_t errlen)
{
    if (dumper_name_make(d, now) < 0) {
        snprintf(err, errlen, "%s: cannot make a file name from the pattern", d->pattern);
        return -1;
    }
    /* 0600 whatever the umask: the frames hold mail and AUTH exchanges.
     * An existing file is truncated, as tcpdump does, and made private
     * (a regular file only: never a device such as /dev/null). */
    int fd = open(d->name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    struct stat st;
    if (!fp || fstat(fd, &st) < 0 || (S_ISREG(st.st_mode) && fchmod(fd, 0600) < 0)) {
        snprintf(err, errlen, "%s: %s", d->name, strerror(errno));
        if (fp)
            fclose(fp);
        else if (fd >= 0)
            close(fd);
        return -1;
    }
    d->out = pcap_dump_fopen(d->pcap, fp);
    if (!d->out) {
        snprintf(err, errlen, "%s: %s", d->name, pcap_geterr(d->pcap));
        fclose(fp);
        return -1;
    }
    d->files++;
    return 0;
}

/* Flushes the current file; on a write error stops writing, says so and
 * returns -1. Only flushed packets count as written. */
static int dumper_flush(sc_dumper *d)
{
    if (pcap_dump_flush(d->out) == 0 && !ferror(pcap_dump_file(d->out))) {
        d->packets += d->pending;
        d->pending = 0;
        return 0;
    }
    char lost[128];
    snprintf(lost, sizeof lost, "%llu packets written before, "
             "no more are written", (unsigned long long)d->packets);
    sc_write_lost(d->name, errno, lost);
    pcap_dump_close(d->out);
    d->out = NULL;
    d->pending = 0;
    return -1;
}

/* Closes the current file and opens the next; on failure stops writing. */
static void dumper_rotate(sc_dumper *d, time_t now, bool new_interval)
{
    char err[DUMPER_NAME_MAX + 256];

    if (dumper_flush(d) < 0)
        return;
    pcap_dump_close(d->out);
    d->out = NULL;
    if (new_interval) {
        d->opened = now;
        d->seq = 0;
    } else {
        d->seq++;
    }
    if (dumper_file_open(d, now, err, sizeof err) < 0) {
        fputs("smtpscope: -w: ", stderr);
        sc_safe_fputstr(stderr, err);     /* names the file */
        fputs("; no more packets are written\n", stderr);
    }
}

sc_dumper *sc_dumper_open(int linktype, int snaplen, const char *pattern, uint64_t max_bytes,
                          unsigned rotate_secs, char *err, size_t errlen)
{
    sc_dumper *d = calloc(1, sizeof *d);

    if (!d || !(d->pcap = pcap_open_dead(linktype, snaplen))) {
        free(d);
        snprintf(err, errlen, "%s: out of memory", pattern);
        return NULL;
    }
    if (strlen(pattern) >= sizeof d->pattern) {
        snprintf(err, errlen, "-w: file name too long");
        pcap_close(d->pcap);
        free(d);
        return NULL;
    }
    snprintf(d->pattern, sizeof d->pattern, "%s", pattern);
    d->max_bytes = max_bytes;
    d->rotate_secs = rotate_secs;
    d->opened = time(NULL);
    if (dumper_file_open(d, d->opened, err, errlen) < 0) {
        pcap_close(d->pcap);
        free(d);
        return NULL;
    }
    return d;
}

void sc_dumper_tick(sc_dumper *d, time_t now)
{
    if (!d->out)
        return;
    if (d->rotate_secs && now - d->opened >= (time_t)d->rotate_secs)
        dumper_rotate(d, now, true);
    if (d->out)
        dumper_flush(d);
}

void sc_dumper_write(sc_dumper *d, const struct timeval *ts, uint32_t caplen,
                     uint32_t wirelen, const uint8_t *data)
{
    struct pcap_pkthdr h;

    if (!d->out)
        return;
    if (d->rotate_secs) {
        time_t now = time(NULL);
        if (now - d->opened >= (time_t)d->rotate_secs)
            dumper_rotate(d, now, true);
    }
    if (d->out && d->max_bytes) {
        int64_t pos = pcap_dump_ftell64(d->out);
        if (pos > 0 && (uint64_t)pos > d->max_bytes)
            dumper_rotate(d, d->opened, false);
    }
    if (!d->out)
        return;
    h.ts = *ts;
    h.caplen = caplen;
    h.len = wirelen;
    pcap_dump((u_char *)d->out, &h, data);
    d->pending++;
    if (ferror(pcap_dump_file(d->out)))
        dumper_flush(d);
}

/* Flushes first: a count is only given for packets the file holds. */
uint64_t sc_dumper_packets(sc_dumper *d)
{
    if (d->out)
        dumper_flush(d);
    return d->packets;
}
unsigned sc_dumper_files(const sc_dumper *d) { return d->files; }

void sc_dumper_close(sc_dumper *d)
{
    if (!d)
        return;
    if (d->out && dumper_flush(d) == 0)
        pcap_dump_close(d->out);
    pcap_close(d->pcap);
    free(d);
}
