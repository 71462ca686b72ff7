/*
 * test_evidence.c - evidence bundles: SHA-256 test vectors (FIPS 180-4
 * examples), TCP/IP checksum recomputation, sequence unwrapping, and the
 * sink on a small pcap built here (two interleaved sessions): the .pcap
 * holds exactly the session's frames, byte for byte; under --redact the
 * content bytes are gone, lengths and CR/LF kept, checksums valid; the .txt
 * names the file, its SHA-256, the frames, the version and full citations,
 * with every wire byte escaped; an existing bundle is never overwritten.
 */
#include <dirent.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfix.h"
#include "common/safeprint.h"
#include "tap.h"
#include "output/pcapcut.h"
#include "output/sha256.h"

#ifndef SC_VERSION
#define SC_VERSION "0.0.0"
#endif

static const char *sha_hex(const void *p, size_t n, char hex[65])
{
    sc_sha256 c;
    uint8_t d[32];
    if (sc_sha256_init(&c) < 0)
        return "init failed";
    sc_sha256_update(&c, p, n);
    if (sc_sha256_final(&c, d) < 0)
        return "final failed";
    sc_sha256_hex(d, hex);
    return hex;
}

/* Ones' complement sum check: a valid header sums to 0xFFFF. */
static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) s += (uint32_t)p[n - 1] << 8;
    return s;
}
static int csum_ok(uint32_t s)
{
    while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
    return s == 0xFFFF;
}
static int ip4_tcp_ok(const uint8_t *ip, size_t len)
{
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = (size_t)(ip[2] << 8 | ip[3]);
    uint8_t ph[12];
    if (tot > len || !csum_ok(csum_add(0, ip, ihl))) return 0;
    memcpy(ph, ip + 12, 8); ph[8] = 0; ph[9] = 6;
    ph[10] = (uint8_t)((tot - ihl) >> 8); ph[11] = (uint8_t)(tot - ihl);
    return csum_ok(csum_add(csum_add(0, ph, 12), ip + ihl, tot - ihl));
}

/* ---- a tiny Ethernet/IPv4 pcap ---- */
typedef struct pk { uint8_t b[256]; size_t len; long usec; } pk;
static pk pkts[32];
static size_t npk;

static void mk_pkt(int cport, int from_client, uint32_t seq, uint8_t flags, const char *data)
{
    pk *p = &pkts[npk++];
    size_t dl = data ? strlen(data) : 0;
    uint8_t *e = p->b, *ip = e + 14, *tcp = ip + 20;
    memset(p->b, 0, sizeof p->b);
    memcpy(e, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
    ip[0] = 0x45; ip[2] = (uint8_t)((40 + dl) >> 8); ip[3] = (uint8_t)(40 + dl);
    ip[8] = 64; ip[9] = 6;
    uint8_t c[4] = { 192, 0, 2, 1 }, s[4] = { 198, 51, 100, 25 };
    memcpy(ip + 12, from_client ? c : s, 4);
    memcpy(ip + 16, from_client ? s : c, 4);
    uint16_t sp = from_client ? (uint16_t)cport : 25, dp = from_client ? 25 : (uint16_t)cport;
    tcp[0] = (uint8_t)(sp >> 8); tcp[1] = (uint8_t)sp; tcp[2] = (uint8_t)(dp >> 8); tcp[3] = (uint8_t)dp;
    tcp[4] = (uint8_t)(seq >> 24); tcp[5] = (uint8_t)(seq >> 16); tcp[6] = (uint8_t)(seq >> 8); tcp[7] = (uint8_t)seq;
    tcp[12] = 0x50; tcp[13] = flags; tcp[14] = 0xff;
    memcpy(tcp + 20, data ? data : "", dl);
    sc_pcapcut_fix_checksums(ip, 40 + dl);
    p->len = 54 + dl;
    p->usec = (long)npk * 1000;
}

static void write_pcap(const char *path)
{
    FILE *fp = fopen(path, "wb");
    uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
    fwrite(gh, 4, 6, fp);
    for (size_t i = 0; i < npk; i++) {
        uint32_t rh[4] = { 1704164645, (uint32_t)pkts[i].usec, (uint32_t)pkts[i].len, (uint32_t)pkts[i].len };
        fwrite(rh, 4, 4, fp);
        fwrite(pkts[i].b, 1, pkts[i].len, fp);
    }
    fclose(fp);
}

static char *slurp_path(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *s;
    if (!fp) return NULL;
    s = fx_slurp(fp, len);
    fclose(fp);
    return s;
}

/* The streams of session 1 as the analysis read them (sequence numbers of
 * offset 0, bytes read): the cut places its ranges from these. */
static const uint64_t sess_base[2] = { 1001, 5001 }, sess_end[2] = { 38, 30 };

/* Runs session 1 (client port 40001) through an evidence sink. */
static void run_sink(sc_sink *k, const char *capfile, const sc_range *ranges, size_t nr)
{
    fx_session s;
    static uint8_t all[256];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    fx_session_init(&s, 1);
    s.info.capture_file = capfile;
    s.info.first_frame = 1;
    s.info.last_frame = 11;
    s.info.frames = 9;
    s.info.redact = ranges;
    s.info.nredact = nr;
    for (int d = 0; d < 2; d++) {
        s.info.stream_base[d] = sess_base[d];
        s.info.stream_end[d] = sess_end[d];
    }
    k->session_begin(k, &s.info);
    fx_send_line(k, &s, 4, 1000, SC_DIR_S2C, SC_LINE_REPLY, "220 mx ESMTP");
    sc_line l = fx_line(&s, 5, 2000, SC_DIR_C2S, SC_LINE_UNPARSED, all, sizeof all);
    k->line(k, &s.info, &l);
    fx_send_finding(k, &s, "reply-lost", SC_SEV_ERROR, 5, "lost \x1b[2J");
    k->session_end(k, &s.info);
    sc_totals tot = { .files = 1 };
    k->finish(k, &tot);
    k->destroy(k);
}

int main(void)
{
    char hex[65], dir[] = "/tmp/test_evidence_XXXXXX", path[512], cap[512], err[256];
    static char million[1000000];

    /* SHA-256 vectors. */
    T_CHECK(strcmp(sha_hex("", 0, hex), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0, "sha256 empty");
    T_CHECK(strcmp(sha_hex("abc", 3, hex), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0, "sha256 abc");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    T_CHECK(strcmp(sha_hex(m448, strlen(m448), hex), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0, "sha256 448 bits");
    memset(million, 'a', sizeof million);
    T_CHECK(strcmp(sha_hex(million, sizeof million, hex), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "sha256 one million a");
    sc_sha256 c;
    uint8_t d[32];
    sc_sha256_init(&c);
    for (size_t i = 0, step = 1; i < sizeof million; i += step, step = step % 97 + 1)
        sc_sha256_update(&c, million + i, i + step <= sizeof million ? step : sizeof million - i);
    sc_sha256_final(&c, d);
    sc_sha256_hex(d, hex);
    T_CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "sha256 in odd pieces");

    /* Sequence unwrap. */
    T_CHECK(sc_pcapcut_unwrap(100, 0) == 100, "unwrap small");
    T_CHECK(sc_pcapcut_unwrap(0x10, 0xFFFFFF00ULL) == 0x100000010ULL, "unwrap past 4 GiB");
    T_CHECK(sc_pcapcut_unwrap(0xFFFFFFF0u, 0x100000010ULL) == 0xFFFFFFF0ULL, "unwrap retransmission before 4 GiB");

    /* The capture: session 1 (port 40001) interleaved with session 2 (40002). */
    const uint32_t cis = 1000, sis = 5000;
    mk_pkt(40001, 1, cis, 0x02, NULL);                            /* 1 SYN */
    mk_pkt(40001, 0, sis, 0x12, NULL);                            /* 2 SYN-ACK */
    mk_pkt(40002, 1, 7, 0x02, NULL);                              /* 3 other */
    mk_pkt(40001, 0, sis + 1, 0x18, "220 mx ESMTP\r\n");          /* 4 */
    mk_pkt(40001, 1, cis + 1, 0x18, "DATA\r\n");                  /* 5 */
    mk_pkt(40001, 0, sis + 15, 0x18, "354 go\r\n");               /* 6 */
    mk_pkt(40002, 1, 8, 0x18, "secret other\r\n");                /* 7 other */
    mk_pkt(40001, 1, cis + 7, 0x18, "Subject: secret\r\n");       /* 8 content */
    mk_pkt(40001, 1, cis + 24, 0x18, "more secret\n.\r\n");       /* 9 content + dot */
    mk_pkt(40001, 0, sis + 23, 0x18, "250 ok\r\n");               /* 10 */
    mk_pkt(40001, 1, cis + 39, 0x11, NULL);                       /* 11 FIN */
    mk_pkt(40001, 0, sis + 31, 0x11, NULL);                       /* 12 after last_frame */
    T_CHECK(mkdtemp(dir) != NULL, "temporary directory");
    snprintf(cap, sizeof cap, "%s/in.pcap", dir);
    write_pcap(cap);

    sc_config cfg;
    sc_config_defaults(&cfg);
    cfg.quiet = true;
    snprintf(path, sizeof path, "%s/plain/sub", dir);
    sc_sink *k = sc_evidence_sink_new(&cfg, path, err, sizeof err);
    T_CHECK(k != NULL, "sink created, directories made (%s)", k ? "" : err);
    if (!k)
        T_DONE();
    run_sink(k, cap, NULL, 0);

    /* The .pcap: frames 1,2,4,5,6,8,9,10,11, byte for byte. */
    static const int want[] = { 1, 2, 4, 5, 6, 8, 9, 10, 11 };
    snprintf(path, sizeof path, "%s/plain/sub/session-1.pcapng", dir);
    pcap_t *pc = pcap_open_offline(path, err);
    int n = 0, same = 1;
    if (pc) {
        struct pcap_pkthdr *h;
        const u_char *data;
        T_CHECK(pcap_datalink(pc) == DLT_EN10MB, "link type kept");
        while (pcap_next_ex(pc, &h, &data) == 1) {
            const pk *o = n < 9 ? &pkts[want[n] - 1] : NULL;
            if (!o || h->caplen != o->len || memcmp(data, o->b, o->len) != 0 ||
                h->ts.tv_usec != o->usec || h->ts.tv_sec != 1704164645)
                same = 0;
            n++;
        }
        pcap_close(pc);
    }
    T_CHECK(pc && n == 9 && same, "pcap holds exactly the session's 9 frames, unchanged (%d)", n);

    size_t tl;
    snprintf(path, sizeof path, "%s/plain/sub/session-1.txt", dir);
    char *txt = slurp_path(path, &tl);
    char fh[65];
    sc_sha256_file(cap, fh);
    char line[200];
    snprintf(line, sizeof line, "SHA-256:       %s\n", fh);
    T_CHECK(txt && strstr(txt, line), "txt states the capture's SHA-256");
    T_CHECK(txt && strstr(txt, "smtpscope " SC_VERSION " evidence: session 1\n") &&
            strstr(txt, "frames:        #1-#11 of the capture file") && strstr(txt, "in.pcap\n"),
            "txt header: version, file, frames");
    T_CHECK(txt && strstr(txt, sc_rule_by_name("reply-lost")->rests_on) &&
            strstr(txt, "  #5 (4)        error   reply-lost (server)\n"), "txt: finding with full citation");
    /* frames 3 and 7 are another session's: the pcapng's numbers differ */
    T_CHECK(txt && strstr(txt, "\n#4 (3)        +") && strstr(txt, "\n#5 (4)        +"),
            "txt: each line's frame in the capture and in the pcapng");
    int ctl = 0;
    for (size_t i = 0; txt && i < tl; i++)
        if (((unsigned char)txt[i] < 0x20 && txt[i] != '\n') || txt[i] == 0x7f)
            ctl++;
    T_CHECK(txt && ctl == 0 && strstr(txt, "C> \\x00\\x01\\x02") && strstr(txt, "lost \\x1b[2J") &&
            !strstr(txt, "\033["), "txt: every wire byte escaped, no colour");
    free(txt);

    /* Never overwrite. */
    snprintf(path, sizeof path, "%s/plain/sub", dir);
    k = sc_evidence_sink_new(&cfg, path, err, sizeof err);
    T_CHECK(k == NULL && strstr(err, "refusing"), "existing bundle refused: %s", err);

    /* Redacted: content ranges of the client stream. Offsets: DATA\r\n is
     * 0-5, content 6..(6+17+15) = [6, 38). */
    cfg.redact = true;
    sc_range rg[1] = { { SC_DIR_C2S, 6, 38 } };
    snprintf(path, sizeof path, "%s/red", dir);
    k = sc_evidence_sink_new(&cfg, path, err, sizeof err);
    T_CHECK(k != NULL, "redacting sink");
    if (k)
        run_sink(k, cap, rg, 1);
    snprintf(path, sizeof path, "%s/red/session-1.pcapng", dir);
    size_t pl;
    char *pbytes = slurp_path(path, &pl);
    T_CHECK(pbytes && !memmem(pbytes, pl, "secret", 6) && memmem(pbytes, pl, "XXXXXXXXXXXXXXX\r\n", 17) &&
            memmem(pbytes, pl, "XXXXXXXXXXX\nX\r\n", 15) && memmem(pbytes, pl, "DATA\r\n", 6),
            "redacted pcap: content masked, CR/LF and commands kept");
    free(pbytes);
    pc = pcap_open_offline(path, err);
    int okcs = 1;
    n = 0;
    if (pc) {
        struct pcap_pkthdr *h;
        const u_char *data;
        while (pcap_next_ex(pc, &h, &data) == 1) {
            if (!ip4_tcp_ok(data + 14, h->caplen - 14) || h->caplen != pkts[want[n] - 1].len)
                okcs = 0;
            n++;
        }
        pcap_close(pc);
    }
    T_CHECK(pc && n == 9 && okcs, "redacted pcap: same frames and lengths, checksums valid");
    snprintf(path, sizeof path, "%s/red/session-1.txt", dir);
    txt = slurp_path(path, NULL);
    T_CHECK(txt && strstr(txt, "redacted:      yes"), "redacted txt says so");
    free(txt);

    /* Standard input cannot be read again: said, no pcap. */
    cfg.redact = false;
    snprintf(path, sizeof path, "%s/stdin", dir);
    k = sc_evidence_sink_new(&cfg, path, err, sizeof err);
    if (k)
        run_sink(k, "-", NULL, 0);
    snprintf(path, sizeof path, "%s/stdin/session-1.txt", dir);
    txt = slurp_path(path, NULL);
    snprintf(path, sizeof path, "%s/stdin/session-1.pcapng", dir);
    T_CHECK(txt && strstr(txt, "standard input cannot be read again") && access(path, F_OK) != 0,
            "stdin: explained, no pcap");
    free(txt);

    /* A file in place of the directory. */
    T_CHECK(sc_evidence_sink_new(&cfg, cap, err, sizeof err) == NULL && strstr(err, "in.pcap"),
            "not a directory refused: %s", err);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    T_CHECK(system(cmd) == 0, "clean up");
    T_DONE();
}
