/*
 * floor.c - the cost floor smtpscope is measured against.
 *
 *   floor [--read] [--buffer SIZE] [--ports P,P...] [--streams N] FILE
 *
 * Default: libpcap reads FILE and libnids reassembles every TCP connection
 * to the SMTP ports (default 25,587), both directions collected, nothing
 * discarded, checksum verification off (as smtpscope runs it); the TCP
 * callback only counts. This is what any libnids-based analyser pays before
 * it looks at a byte of SMTP.
 * --read: libpcap alone, a pcap_loop() whose callback only counts.
 * --buffer SIZE (e.g. 1M): the file is read through a stdio buffer of
 * SIZE instead of libpcap's default, to show what the read(2) calls cost.
 * --streams N: libnids' connection table (n_tcp_streams, default 16384).
 * smtpscope sizes it from --max-sessions (100 000 by default: 133 397
 * streams), whose set-up alone costs about 0.1 s of CPU; `--streams 133397`
 * is the floor an analyser that follows as many connections pays.
 *
 * Prints one line:
 *   mode=nids packets=N bytes=N streams=N closed=N reset=N stream_bytes=N
 *   seconds=S MB/s=R
 * where bytes is the size of the file, streams the SMTP connections libnids
 * established, closed/reset how many ended by FIN both ways or by RST,
 * stream_bytes the payload delivered in order, and MB = 10^6 bytes. Exit status 0,
 * 2 with a message when the file cannot be read.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <nids.h>
#include <pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static uint64_t packets, streams, stream_bytes, closed, reset;
static uint16_t ports[16];
static int nstreams = 1 << 14;   /* --streams */
static size_t bufsize;           /* --buffer: stdio buffer of the file, 0 = libpcap's */
static size_t nports;

static int floor_port_is_smtp(uint16_t port)
{
    for (size_t i = 0; i < nports; i++)
        if (ports[i] == port) return 1;
    return 0;
}

static void floor_tcp_cb(struct tcp_stream *a, void **param)
{
    (void)param;
    switch (a->nids_state) {
    case NIDS_JUST_EST:
        if (!floor_port_is_smtp(a->addr.dest)) return;
        a->client.collect++;
        a->server.collect++;
        streams++;
        return;
    case NIDS_DATA:
        stream_bytes += (uint64_t)a->client.count_new + (uint64_t)a->server.count_new;
        return;
    case NIDS_CLOSE:
        closed++;
        return;
    case NIDS_RESET:
        reset++;
        return;
    default:          /* TIMEOUT, EXITING */
        return;
    }
}

static void floor_ip_cb(struct ip *ip, int len)
{
    (void)ip; (void)len;
    packets++;
}

static void floor_pcap_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    (void)user; (void)h; (void)bytes;
    packets++;
}

/* libpcap reads a file through stdio with the default buffer (4 KB with
 * glibc: one read(2) per 4 KB). With --buffer the file is opened here with
 * a larger buffer and handed to libpcap, to measure what that costs. */
static pcap_t *floor_open(const char *file)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p;
    if (!bufsize) {
        p = pcap_open_offline(file, err);
    } else {
        FILE *fp = fopen(file, "rb");
        if (!fp) { perror(file); return NULL; }
        /* glibc ignores the size when setvbuf() is given no buffer */
        char *buf = malloc(bufsize);         /* lives as long as the process */
        if (!buf || setvbuf(fp, buf, _IOFBF, bufsize) != 0) {
            perror("setvbuf"); fclose(fp); free(buf); return NULL;
        }
        p = pcap_fopen_offline(fp, err);
        if (!p) fclose(fp);
    }
    if (!p) fprintf(stderr, "floor: %s: %s\n", file, err);
    return p;
}

static int floor_read(const char *file)
{
    pcap_t *p = floor_open(file);
    if (!p) return -1;
    if (pcap_loop(p, -1, floor_pcap_cb, NULL) == -1) {
        fprintf(stderr, "floor: %s: %s\n", file, pcap_geterr(p));
        pcap_close(p);
        return -1;
    }
    pcap_close(p);
    return 0;
}

static int floor_nids(const char *file)
{
    static struct nids_chksum_ctl all = { 0, 0, NIDS_DONT_CHKSUM, 0 };
    if (bufsize) {                           /* libnids takes an open pcap_t */
        nids_params.pcap_desc = floor_open(file);
        if (!nids_params.pcap_desc) return -1;
    } else
        nids_params.filename = (char *)file;
    nids_params.device = NULL;
    nids_params.scan_num_hosts = 0;          /* no port-scan detection */
    nids_params.n_tcp_streams = nstreams;
    nids_params.pcap_filter = NULL;
    nids_register_chksum_ctl(&all, 1);
    if (!nids_init()) { fprintf(stderr, "floor: %s: %s\n", file, nids_errbuf); return -1; }
    nids_register_ip(floor_ip_cb);
    nids_register_tcp(floor_tcp_cb);
    nids_run();
    nids_exit();
    return 0;
}

static int floor_ports_parse(const char *s)
{
    nports = 0;
    while (*s) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || v == 0 || v > 65535 || nports == sizeof ports / sizeof ports[0]) return -1;
        ports[nports++] = (uint16_t)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return nports ? 0 : -1;
}

int main(int argc, char **argv)
{
    int read_only = 0;
    const char *file = NULL;
    floor_ports_parse("25,587");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--read")) read_only = 1;
        else if (!strcmp(argv[i], "--buffer") && i + 1 < argc) {
            char *end;
            bufsize = strtoul(argv[++i], &end, 10);
            if (*end == 'k' || *end == 'K') bufsize <<= 10, end++;
            else if (*end == 'm' || *end == 'M') bufsize <<= 20, end++;
            if (*end || !bufsize) { fprintf(stderr, "floor: bad --buffer\n"); return 2; }
        }
        else if (!strcmp(argv[i], "--streams") && i + 1 < argc) {
            nstreams = atoi(argv[++i]);
            if (nstreams < 16) { fprintf(stderr, "floor: bad --streams\n"); return 2; }
        }
        else if (!strcmp(argv[i], "--ports") && i + 1 < argc) {
            if (floor_ports_parse(argv[++i])) { fprintf(stderr, "floor: bad --ports\n"); return 2; }
        }
        else if (!file && argv[i][0] != '-') file = argv[i];
        else { fprintf(stderr, "usage: floor [--read] [--buffer SIZE] [--ports P,P...] [--streams N] FILE\n"); return 2; }
    }
    if (!file) { fprintf(stderr, "usage: floor [--read] [--buffer SIZE] [--ports P,P...] [--streams N] FILE\n"); return 2; }
    struct stat sb;
    if (stat(file, &sb) < 0) { perror(file); return 2; }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((read_only ? floor_read(file) : floor_nids(file)) < 0) return 2;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("mode=%s packets=%llu bytes=%llu streams=%llu closed=%llu reset=%llu "
           "stream_bytes=%llu seconds=%.3f MB/s=%.1f\n",
           read_only ? "read" : "nids", (unsigned long long)packets,
           (unsigned long long)sb.st_size, (unsigned long long)streams,
           (unsigned long long)closed, (unsigned long long)reset,
           (unsigned long long)stream_bytes, secs, (double)sb.st_size / 1e6 / secs);
    return 0;
}
