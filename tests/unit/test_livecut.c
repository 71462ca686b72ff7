/*
 * test_livecut.c - the per-connection packet spool of live --evidence
 * (src/output/livecut.h): more connections than descriptors kept open
 * (reopened for appending), frames small enough to wait in memory and
 * large ones, every spool read back by libpcap frame for frame, the
 * spool directory private and gone at the end.
 */
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/livecut.h"
#include "tap.h"

#define CONNS  (SC_LIVECUT_FDS * 2 + 7)
#define ROUNDS 5

/* Frame r of connection id: its size and bytes follow from both. */
static size_t frame_len(uint64_t id, unsigned r)
{
    return r == 0 ? 60 : (id % 3 == 0 ? 70 : 200 + (size_t)(id * 37 + r * 101) % 1800);
}

static void frame_fill(uint8_t *buf, uint64_t id, unsigned r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(id * 7 + r * 13 + i);
}

/* Reads the spool back: ROUNDS frames (or only the first for the
 * handshake-only connections), each as written. */
static int spool_check(const char *path, uint64_t id, unsigned rounds)
{
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, perr);
    struct pcap_pkthdr *h;
    const u_char *data;
    uint8_t want[4096];
    unsigned r = 0;

    if (!p || pcap_datalink(p) != DLT_EN10MB)
        return -1;
    while (pcap_next_ex(p, &h, &data) == 1) {
        size_t n = frame_len(id, r);
        frame_fill(want, id, r, n);
        if (r >= rounds || h->caplen != n || h->len != n + 4 ||
            h->ts.tv_sec != (time_t)(1000 + r) || memcmp(data, want, n) != 0) {
            pcap_close(p);
            return -1;
        }
        r++;
    }
    pcap_close(p);
    return r == rounds ? 0 : -1;
}

int main(void)
{
    char dir[] = "/tmp/test_livecut_XXXXXX", err[256];
    uint8_t buf[4096];
    sc_livecut *lc;

    if (!mkdtemp(dir)) {
        T_SKIP("livecut: no temporary directory");
        T_DONE();
    }
    lc = sc_livecut_new(dir, DLT_EN10MB, 65535, err, sizeof err);
    T_CHECK(lc != NULL, "livecut: spool directory made (%s)", lc ? "" : err);
    if (!lc)
        T_DONE();

    /* The spool directory: one, private. */
    DIR *d = opendir(dir);
    struct dirent *de;
    char spooldir[512] = "";
    while (d && (de = readdir(d)))
        if (strncmp(de->d_name, ".smtpscope-spool-", 17) == 0)
            snprintf(spooldir, sizeof spooldir, "%s/%s", dir, de->d_name);
    if (d)
        closedir(d);
    struct stat st;
    T_CHECK(spooldir[0] && stat(spooldir, &st) == 0 && (st.st_mode & 0777) == 0700,
            "livecut: the spool directory is mode 0700");

    /* Interleaved: every connection gets frame r before any gets r + 1,
     * so descriptors are closed and reopened all along. Connections
     * 1..10 carry only a handshake-sized frame. */
    for (unsigned r = 0; r < ROUNDS; r++)
        for (uint64_t id = 1; id <= CONNS; id++) {
            if (id <= 10 && r > 0)
                continue;
            size_t n = frame_len(id, r);
            frame_fill(buf, id, r, n);
            sc_packet pkt = { .frame = r * CONNS + id, .ts = { 1000 + r, 0 },
                              .caplen = (uint32_t)n, .wirelen = (uint32_t)n + 4,
                              .linktype = DLT_EN10MB, .data = buf };
            sc_livecut_packet(lc, id, &pkt);
        }

    /* Handshake-only connections never made a file. */
    char path[600];
    snprintf(path, sizeof path, "%s/3.pcap", spooldir);
    T_CHECK(access(path, F_OK) != 0, "livecut: a connection of small frames has no file yet");

    unsigned good = 0;
    for (uint64_t id = 1; id <= CONNS; id++) {
        uint64_t frames;
        sc_livecut_lack lack;
        const char *p = sc_livecut_take(lc, id, &frames, &lack);
        unsigned rounds = id <= 10 ? 1 : ROUNDS;
        if (p && lack == SC_LIVECUT_KEPT && frames == rounds && spool_check(p, id, rounds) == 0)
            good++;
        if (id % 2)
            sc_livecut_drop(lc, id);
    }
    T_CHECK(good == CONNS, "livecut: %u of %u spools read back frame for frame, "
            "%d descriptors for %d connections", good, CONNS, SC_LIVECUT_FDS, CONNS);
    snprintf(path, sizeof path, "%s/1.pcap", spooldir);
    T_CHECK(access(path, F_OK) != 0, "livecut: a dropped connection's spool is removed");

    uint64_t frames;
    sc_livecut_lack lack;
    T_CHECK(sc_livecut_take(lc, 999999, &frames, &lack) == NULL && frames == 0 &&
            lack == SC_LIVECUT_NOTHING, "livecut: an unknown connection has nothing");

    /* Stopped: the file goes at once, later frames are not kept. */
    uint64_t id = 2;       /* even: still known after the loop above */
    size_t n = frame_len(id, 1);
    frame_fill(buf, id, 1, n);
    sc_packet more = { .ts = { 1000, 0 }, .caplen = (uint32_t)n, .wirelen = (uint32_t)n,
                       .linktype = DLT_EN10MB, .data = buf };
    uint64_t before = sc_livecut_bytes(lc, id);
    sc_livecut_stop(lc, id);
    sc_livecut_packet(lc, id, &more);
    snprintf(path, sizeof path, "%s/2.pcap", spooldir);
    T_CHECK(before > 0 && access(path, F_OK) != 0 && sc_livecut_bytes(lc, id) == before &&
            sc_livecut_take(lc, id, &frames, &lack) == NULL && lack == SC_LIVECUT_STOPPED,
            "livecut: a stopped connection's spool is removed and keeps nothing more");

    sc_livecut_free(lc);
    T_CHECK(access(spooldir, F_OK) != 0, "livecut: the spool directory is gone at the end");
    T_CHECK(rmdir(dir) == 0, "livecut: nothing else was left in the directory");
    T_DONE();
}
