/*
 * test_link.c - link-layer decoding (sc_link_decode) on hand-built frames
 * of every supported link type, truncated frames, and the capture reader
 * (src/capture/capture.h): plain and gzip files, an unsupported link type, and
 * frame numbers under a BPF filter.
 */
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "capture/capture.h"
#include "tap.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

static uint8_t ip4[20] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };
static uint8_t ip6[40] = { 0x60, 0, 0, 0, 0, 0, 6, 64 };

/* Frame = link header + IP header; returns the decoded packet. */
static sc_packet decode(int dlt, const uint8_t *hdr, size_t hlen, const uint8_t *ip, size_t iplen,
                        size_t cut)
{
    static uint8_t frame[256];
    sc_packet p;

    memcpy(frame, hdr, hlen);
    memcpy(frame + hlen, ip, iplen);
    memset(&p, 0, sizeof p);
    p.data = frame;
    p.caplen = (uint32_t)(hlen + iplen - cut);
    sc_link_decode(dlt, &p);
    return p;
}

static void check(int dlt, const char *name, const uint8_t *hdr, size_t hlen, int ver)
{
    const uint8_t *ip = ver == 4 ? ip4 : ip6;
    size_t iplen = ver == 4 ? sizeof ip4 : sizeof ip6;
    sc_packet p = decode(dlt, hdr, hlen, ip, iplen, 0);

    T_CHECK(p.ipver == ver && p.l3 == p.data + hlen && p.l3_len == iplen,
            "%s: IPv%d found at offset %zu", name, ver, hlen);
    /* Every truncation point: never IP, never a read past caplen (ASan). */
    bool ok = true;
    for (size_t cut = 1; cut <= hlen + iplen; cut++) {
        p = decode(dlt, hdr, hlen, ip, iplen, cut);
        if (p.ipver != 0 || p.l3 != NULL)
            ok = false;
    }
    T_CHECK(ok, "%s: every truncated IPv%d frame is refused", name, ver);
}

static void test_link_types(void)
{
    uint8_t eth4[14] = { [12] = 0x08, [13] = 0x00 };
    uint8_t eth6[14] = { [12] = 0x86, [13] = 0xdd };
    uint8_t vlan[18] = { [12] = 0x81, [13] = 0x00, [14] = 0, [15] = 5, [16] = 0x08, [17] = 0x00 };
    uint8_t qinq[22] = { [12] = 0x88, [13] = 0xa8, [16] = 0x81, [17] = 0x00, [20] = 0x86, [21] = 0xdd };
    uint8_t q9100[22] = { [12] = 0x91, [13] = 0x00, [16] = 0x81, [17] = 0x00, [20] = 0x08, [21] = 0x00 };
    uint8_t sll[16] = { [14] = 0x08, [15] = 0x00 };
    uint8_t sll2[20] = { [0] = 0x86, [1] = 0xdd };
    uint8_t null_le4[4] = { 2, 0, 0, 0 };
    uint8_t null_be4[4] = { 0, 0, 0, 2 };
    uint8_t null_le6[4] = { 30, 0, 0, 0 };     /* Darwin */
    uint8_t loop6[4] = { 0, 0, 0, 24 };        /* OpenBSD, network order */
    uint8_t none[1] = { 0 };

    check(DLT_EN10MB, "Ethernet", eth4, sizeof eth4, 4);
    check(DLT_EN10MB, "Ethernet", eth6, sizeof eth6, 6);
    check(DLT_EN10MB, "802.1Q", vlan, sizeof vlan, 4);
    check(DLT_EN10MB, "802.1ad QinQ", qinq, sizeof qinq, 6);
    check(DLT_EN10MB, "0x9100 QinQ", q9100, sizeof q9100, 4);
    check(DLT_LINUX_SLL, "Linux cooked", sll, sizeof sll, 4);
    check(DLT_LINUX_SLL2, "Linux cooked v2", sll2, sizeof sll2, 6);
    check(DLT_NULL, "BSD NULL little-endian", null_le4, 4, 4);
    check(DLT_NULL, "BSD NULL big-endian", null_be4, 4, 4);
    check(DLT_NULL, "BSD NULL IPv6 (Darwin)", null_le6, 4, 6);
    check(DLT_LOOP, "OpenBSD LOOP", loop6, 4, 6);
    check(DLT_RAW, "DLT_RAW", none, 0, 4);
    check(DLT_RAW, "DLT_RAW", none, 0, 6);
    check(101, "LINKTYPE_RAW 101", none, 0, 6);
    check(228, "DLT_IPV4", none, 0, 4);
    check(229, "DLT_IPV6", none, 0, 6);

    sc_packet p = decode(229, none, 0, ip4, sizeof ip4, 0);
    T_CHECK(p.ipver == 0, "DLT_IPV6 refuses an IPv4 packet");
    p = decode(DLT_EN10MB, eth6, sizeof eth6, ip4, sizeof ip4, 0);
    T_CHECK(p.ipver == 0, "EtherType and IP version must agree");
    uint8_t arp[14] = { [12] = 0x08, [13] = 0x06 };
    p = decode(DLT_EN10MB, arp, sizeof arp, ip4, sizeof ip4, 0);
    T_CHECK(p.ipver == 0 && !p.l3, "ARP carries no IP");
    p = decode(105, none, 0, ip4, sizeof ip4, 0);
    T_CHECK(p.ipver == 0, "unknown link type decodes nothing");

    /* A frame of nothing but VLAN tags ends without IP. */
    static uint8_t tags[200];
    memset(tags, 0, sizeof tags);
    for (size_t i = 12; i + 1 < sizeof tags; i += 4) { tags[i] = 0x81; tags[i + 1] = 0x00; }
    memset(&p, 0, sizeof p);
    p.data = tags;
    p.caplen = sizeof tags;
    sc_link_decode(DLT_EN10MB, &p);
    T_CHECK(p.ipver == 0, "a frame of stacked tags only is refused");
}

/* Writes n frames (Ethernet + IPv4, TCP port 25 on odd frames, 80 on even). */
static void write_capture(const char *path, int dlt, int n)
{
    pcap_t *p = pcap_open_dead(dlt, 65535);
    pcap_dumper_t *d = pcap_dump_open(p, path);
    uint8_t f[14 + 40] = { [12] = 0x08, [13] = 0x00 };

    memcpy(f + 14, ip4, 20);
    f[14 + 3] = 40;
    f[14 + 32] = 0x50;
    for (int i = 1; i <= n; i++) {
        struct pcap_pkthdr h = { .ts = { 1000 + i, 0 }, .caplen = sizeof f, .len = sizeof f };
        f[14 + 20 + 2] = 0;
        f[14 + 20 + 3] = (i & 1) ? 25 : 80;   /* destination port */
        pcap_dump((u_char *)d, &h, f);
    }
    pcap_dump_close(d);
    pcap_close(p);
}

/* -j's workers read a plain file again by name, and check it is the same
 * file; gzip and standard input are read once. */
static void test_rereadable(const char *plain, const char *gz, const char *other)
{
    char err[512];
    sc_capture *a = sc_capture_open_file(plain, NULL, err, sizeof err);
    sc_capture *b = sc_capture_open_file(plain, NULL, err, sizeof err);
    sc_capture *z = sc_capture_open_file(gz, NULL, err, sizeof err);
    sc_capture *in = NULL, *c = NULL;
    int fd = open(plain, O_RDONLY), saved = dup(STDIN_FILENO);

    if (fd >= 0 && saved >= 0 && dup2(fd, STDIN_FILENO) >= 0) {
        in = sc_capture_open_file("-", NULL, err, sizeof err);
        dup2(saved, STDIN_FILENO);
    }
    if (fd >= 0)
        close(fd);
    if (saved >= 0)
        close(saved);
    write_capture(other, DLT_EN10MB, 2);
    c = sc_capture_open_file(other, NULL, err, sizeof err);
    T_CHECK(a && b && z && in && c, "five captures open (%s)", err);
    if (a && b && z && in && c) {
        T_CHECK(sc_capture_rereadable(a) && sc_capture_same_file(a, b),
                "a plain file is rereadable, and the same file by name");
        T_CHECK(!sc_capture_rereadable(z) && !sc_capture_same_file(a, z),
                "a gzip file is not rereadable");
        T_CHECK(!sc_capture_rereadable(in) && !sc_capture_same_file(a, in),
                "standard input is not rereadable, even a regular file on it");
        T_CHECK(sc_capture_rereadable(c) && !sc_capture_same_file(a, c),
                "another plain file is not the same file");
    }
    sc_capture_close(a);
    sc_capture_close(b);
    sc_capture_close(z);
    sc_capture_close(in);
    sc_capture_close(c);
}

static void test_capture_files(void)
{
    char dir[] = "/tmp/test_link.XXXXXX", plain[256], gz[256], odd[256], err[512];
    sc_capture *cap;
    sc_packet pkt;
    int n = 0;
    uint64_t frames = 0;

    if (!mkdtemp(dir)) {
        T_SKIP("capture files: no temporary directory");
        return;
    }
    snprintf(plain, sizeof plain, "%s/a.pcap", dir);
    snprintf(gz, sizeof gz, "%s/a.pcap.gz", dir);
    snprintf(odd, sizeof odd, "%s/wifi.pcap", dir);
    write_capture(plain, DLT_EN10MB, 10);
    {   /* gzip it */
        FILE *in = fopen(plain, "rb");
        gzFile out = gzopen(gz, "wb");
        char buf[4096];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, in)) > 0)
            gzwrite(out, buf, (unsigned)k);
        fclose(in);
        gzclose(out);
    }
    cap = sc_capture_open_file(gz, NULL, err, sizeof err);
    T_CHECK(cap != NULL, "gzip capture opens (%s)", cap ? "ok" : err);
    if (cap) {
        while (sc_capture_next(cap, &pkt) == 1) {
            n++;
            frames = pkt.frame;
            if (pkt.ipver != 4)
                n = -1000;
        }
        T_CHECK(n == 10 && frames == 10, "gzip capture: 10 IPv4 frames read");
        sc_capture_close(cap);
    }
    cap = sc_capture_open_file(plain, "tcp dst port 80", err, sizeof err);
    T_CHECK(cap != NULL, "BPF filter compiles");
    if (cap) {
        bool even = true;
        n = 0;
        while (sc_capture_next(cap, &pkt) == 1) {
            n++;
            if (pkt.frame % 2)
                even = false;
        }
        T_CHECK(n == 5 && even, "BPF filter keeps the unfiltered frame numbers (2, 4, ...)");
        sc_capture_close(cap);
    }
    write_capture(odd, 105, 1);   /* IEEE 802.11 */
    cap = sc_capture_open_file(odd, NULL, err, sizeof err);
    T_CHECK(!cap && strstr(err, odd) && strstr(err, "IEEE802_11") && !strchr(err, '\n'),
            "unsupported link type: one line naming file and type (%s)", err);
    sc_capture_close(cap);
    cap = sc_capture_open_file("/nonexistent/x.pcap", NULL, err, sizeof err);
    T_CHECK(!cap && strstr(err, "/nonexistent/x.pcap"), "missing file named in the error");
    cap = sc_capture_open_file(plain, "tcp port", err, sizeof err);
    T_CHECK(!cap && strstr(err, "BPF expression"), "bad filter expression refused (%s)", err);
    {   /* not a capture */
        FILE *fp = fopen(odd, "wb");
        fputs("hello, this is not a pcap\n", fp);
        fclose(fp);
        cap = sc_capture_open_file(odd, NULL, err, sizeof err);
        T_CHECK(!cap && strstr(err, odd), "garbage file refused with its name");
    }
    test_rereadable(plain, gz, odd);
    unlink(plain);
    unlink(gz);
    unlink(odd);
    rmdir(dir);
}

/* Loopback captures with segmentation offload hold frames larger than any
 * Ethernet MTU: 65549 bytes (an IPv4 packet of 65535) and beyond (IPv4
 * total length 0). The reader and the decoder must pass them whole. */
static void test_big_frames(void)
{
    static const uint32_t sizes[] = { 65549, 100054, 60 };
    static uint8_t f[100054];
    char dir[] = "/tmp/test_link.XXXXXX", path[256], err[512];
    pcap_t *p;
    pcap_dumper_t *d;
    sc_capture *cap;
    sc_packet pkt;
    unsigned i = 0;
    bool ok = true;

    if (!mkdtemp(dir)) {
        T_SKIP("big frames: no temporary directory");
        return;
    }
    snprintf(path, sizeof path, "%s/lo.pcap", dir);
    p = pcap_open_dead(DLT_EN10MB, 262144);
    d = pcap_dump_open(p, path);
    f[12] = 0x08;
    memcpy(f + 14, ip4, 20);
    for (unsigned k = 0; k < 3; k++) {
        struct pcap_pkthdr h = { .ts = { 1000 + k, 0 }, .caplen = sizes[k], .len = sizes[k] };
        uint32_t tot = sizes[k] - 14 > 65535 ? 0 : sizes[k] - 14;
        f[14 + 2] = (uint8_t)(tot >> 8);
        f[14 + 3] = (uint8_t)tot;
        pcap_dump((u_char *)d, &h, f);
    }
    pcap_dump_close(d);
    pcap_close(p);
    cap = sc_capture_open_file(path, NULL, err, sizeof err);
    T_CHECK(cap != NULL, "capture with 64 KiB frames opens (%s)", cap ? "ok" : err);
    if (cap) {
        while (sc_capture_next(cap, &pkt) == 1) {
            if (i >= 3 || pkt.caplen != sizes[i] || pkt.ipver != 4 || pkt.l3 != pkt.data + 14 ||
                pkt.l3_len != sizes[i] - 14)
                ok = false;
            i++;
        }
        T_CHECK(ok && i == 3, "frames of 65549 and 100054 bytes read and decoded whole (%u frames)", i);
        sc_capture_close(cap);
    }
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_link_types();
    test_capture_files();
    test_big_frames();
    T_DONE();
}
