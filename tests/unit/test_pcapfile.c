/*
 * test_pcapfile.c - the plain pcap reader (src/capture/pcapfile.c) against
 * libpcap reading the same file: every record (return value, time,
 * lengths, bytes) and the error text must be the same, in both byte
 * orders, micro- and nanosecond files, with records libpcap must read
 * itself (beyond the snapshot length, odd times, a file cut inside a
 * record or a record header), with more of those than the reader hands
 * over before giving the rest to libpcap, and with records spread over
 * several of the reader's blocks.
 */
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/pcapfile.h"
#include "tap.h"

typedef struct rec {
    uint32_t sec, frac, caplen, len;
} rec;

static void put32(FILE *f, uint32_t v, bool big)
{
    uint8_t b[4];

    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(big ? v >> (24 - 8 * i) : v >> (8 * i));
    fwrite(b, 1, 4, f);
}

static void put16(FILE *f, uint16_t v, bool big)
{
    uint8_t b[2] = { (uint8_t)(big ? v >> 8 : v), (uint8_t)(big ? v : v >> 8) };

    fwrite(b, 1, 2, f);
}

/* n records, record i as r(i), then cut bytes taken off the end. */
static void make(const char *path, bool big, bool nano, uint32_t snaplen,
                 rec (*r)(size_t), size_t n, long cut)
{
    FILE *f = fopen(path, "wb");

    put32(f, nano ? 0xa1b23c4du : 0xa1b2c3d4u, big);
    put16(f, 2, big);
    put16(f, 4, big);
    put32(f, 0, big);
    put32(f, 0, big);
    put32(f, snaplen, big);
    put32(f, 1, big);                          /* Ethernet */
    for (size_t i = 0; i < n; i++) {
        rec x = r(i);
        put32(f, x.sec, big);
        put32(f, x.frac, big);
        put32(f, x.caplen, big);
        put32(f, x.len, big);
        for (uint32_t k = 0; k < x.caplen; k++)
            fputc((int)((i * 31 + k) & 0xff), f);
    }
    fclose(f);
    if (cut) {
        FILE *g = fopen(path, "rb");
        long sz;

        fseek(g, 0, SEEK_END);
        sz = ftell(g);
        fclose(g);
        if (truncate(path, sz - cut) != 0)
            perror("truncate");
    }
}

static rec r_plain(size_t i) { return (rec){ 1700000000u + (uint32_t)i, (uint32_t)(i * 7919 % 1000000), 60 + (uint32_t)(i % 1400), 1514 }; }
static rec r_nano(size_t i)  { return (rec){ 1700000000u + (uint32_t)i, (uint32_t)(i * 7919 % 1000000000), 60 + (uint32_t)(i % 90), 200 }; }
static rec r_odd(size_t i)
{
    rec x = r_plain(i);

    if (i == 3) x.frac = 1500000;              /* beyond a second */
    if (i == 5) x.sec = 0x90000000u;           /* negative as libpcap reads it */
    if (i == 7) x.caplen = 300;                /* beyond a snapshot of 200 */
    return x;
}
static rec r_big(size_t i)   { return (rec){ 1, 2, 70000 + (uint32_t)(i % 3) * 50000, 200000 }; }
static rec r_over(size_t i)  { return (rec){ 5, 6, 100 + (uint32_t)(i % 5), 1500 }; }

/* Reads path with libpcap alone and through the reader; true when both
 * give the same records, the same end and the same error. */
static bool same(const char *path, size_t *count, bool *used)
{
    char e1[PCAP_ERRBUF_SIZE], e2[PCAP_ERRBUF_SIZE];
    FILE *f1 = fopen(path, "rb"), *f2 = fopen(path, "rb");
    pcap_t *p1 = pcap_fopen_offline_with_tstamp_precision(f1, PCAP_TSTAMP_PRECISION_NANO, e1);
    pcap_t *p2 = pcap_fopen_offline_with_tstamp_precision(f2, PCAP_TSTAMP_PRECISION_NANO, e2);
    sc_pcapfile *pf = p2 ? sc_pcapfile_new(p2, f2) : NULL;
    bool ok = p1 && p2;

    *count = 0;
    *used = pf != NULL;
    while (ok) {
        struct pcap_pkthdr *h1, *h2;
        const u_char *d1, *d2;
        int rc1 = pcap_next_ex(p1, &h1, &d1);
        int rc2 = pf ? sc_pcapfile_next(pf, &h2, &d2) : pcap_next_ex(p2, &h2, &d2);

        if (rc1 != rc2) {
            ok = false;
            break;
        }
        if (rc1 != 1) {
            ok = rc1 == PCAP_ERROR_BREAK || strcmp(pcap_geterr(p1), pcap_geterr(p2)) == 0;
            break;
        }
        ok = h1->ts.tv_sec == h2->ts.tv_sec && h1->ts.tv_usec == h2->ts.tv_usec &&
             h1->caplen == h2->caplen && h1->len == h2->len && memcmp(d1, d2, h1->caplen) == 0;
        ++*count;
    }
    sc_pcapfile_free(pf);
    if (p1) pcap_close(p1); else if (f1) fclose(f1);
    if (p2) pcap_close(p2); else if (f2) fclose(f2);
    return ok;
}

int main(void)
{
    static const struct {
        const char *name;
        bool big, nano;
        uint32_t snaplen;
        rec (*r)(size_t);
        size_t n;
        long cut;
        bool reader;                           /* the reader takes the file */
    } cases[] = {
        { "little-endian microseconds", false, false, 262144, r_plain, 3000, 0, true },
        { "big-endian microseconds", true, false, 262144, r_plain, 3000, 0, true },
        { "little-endian nanoseconds", false, true, 262144, r_nano, 500, 0, true },
        { "big-endian nanoseconds", true, true, 262144, r_nano, 500, 0, true },
        { "odd times and an oversized record", false, false, 200, r_odd, 40, 0, true },
        { "cut inside a record", false, false, 262144, r_plain, 50, 7, true },
        { "cut inside a record header", false, false, 262144, r_plain, 50, 60 + 49 % 1400 + 16 - 5, true },
        { "records over several blocks", false, false, 262144, r_big, 60, 0, true },
        { "every record oversized", true, false, 64, r_over, 500, 0, true },
        { "no record", false, false, 262144, r_plain, 0, 0, true },
    };
    char path[] = "/tmp/test_pcapfile_XXXXXX";
    int fd = mkstemp(path);

    if (fd < 0) {
        T_SKIP("no temporary file");
        T_DONE();
    }
    close(fd);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t count;
        bool used;

        make(path, cases[i].big, cases[i].nano, cases[i].snaplen, cases[i].r, cases[i].n, cases[i].cut);
        T_CHECK(same(path, &count, &used) && used == cases[i].reader,
                "%s: as libpcap reads it (%zu records)", cases[i].name, count);
    }
    unlink(path);
    T_DONE();
}
