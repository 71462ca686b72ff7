/*
 * test_ondemand.c - the timeline's `e` (src/app/ondemand.c): the bundle
 * written on demand is byte for byte the one --evidence DIR writes (.txt
 * and .pcap), a second request gets a copy number and leaves the first
 * alone, an unknown session or standard input is refused with a message,
 * the default directory is ./smtpscope-evidence; with several capture
 * files the names carry the file's position in -r (1-session-1.txt,
 * 2-session-1.txt) in both modes. Uses samples/ (skips without them).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "output/output.h"
#include "pipeline/pipeline.h"
#include "session/session.h"
#include "tap.h"
#include "app/ondemand.h"

#define S000 "samples/seed000-frontbridge-pipelining.pcap"
#define SFRAG "samples/ip-fragments.pcap"
#define SCHAIN "samples/rotated-chain.pcap"

/* The whole file, or NULL; *n its size. */
static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    long len;

    *n = 0;
    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)len + 1)) != NULL) {
        *n = fread(buf, 1, (size_t)len, fp);
        buf[*n] = 0;
    }
    fclose(fp);
    return buf;
}

/* Both files exist, are not empty and hold the same bytes. */
static bool same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *pa = slurp(a, &na), *pb = slurp(b, &nb);
    bool same = pa && pb && na > 0 && na == nb && memcmp(pa, pb, na) == 0;

    free(pa);
    free(pb);
    return same;
}

static bool exists(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 && st.st_size > 0;
}

/* --evidence DIR over every file of cfg, as main() runs it. */
static int bulk(const sc_config *cfg, const char *dir)
{
    char err[512];
    sc_pipeline_stats stats;
    sc_sink *ev = sc_evidence_sink_new(cfg, dir, err, sizeof err);
    sc_analyzer *an;
    int rc = 0;

    if (!ev)
        return -1;
    if (!(an = sc_analyzer_new(cfg, &ev, 1))) {
        ev->destroy(ev);
        return -1;
    }
    for (size_t i = 0; i < (cfg->merged ? 1 : cfg->nfiles); i++) {
        for (size_t k = 0; k < (cfg->merged ? cfg->nfiles : 1); k++)
            sc_analyzer_set_file(an, cfg->files[i + k]);
        if (sc_pipeline_files(cfg, cfg->files + i, cfg->merged ? cfg->nfiles : 1,
                              sc_analyzer_handler(an), NULL, &stats, err, sizeof err) < 0)
            rc = -1;
    }
    sc_analyzer_finish(an, NULL);
    sc_analyzer_free(an);
    ev->destroy(ev);
    return rc;
}

static void pair_same(const char *d1, const char *n1, const char *d2, const char *n2,
                      const char *what)
{
    char a[PATH_MAX], b[PATH_MAX];

    for (int k = 0; k < 2; k++) {
        const char *ext = k ? "pcapng" : "txt";
        snprintf(a, sizeof a, "%s/%s.%s", d1, n1, ext);
        snprintf(b, sizeof b, "%s/%s.%s", d2, n2, ext);
        T_CHECK(same_file(a, b), "%s: %s.%s on demand = %s.%s of --evidence", what, n2, ext,
                n1, ext);
    }
}

int main(void)
{
    char root[PATH_MAX], tmpl[] = "/tmp/sc-ondemand-XXXXXX", msg[512];
    char s000[PATH_MAX + 64], sfrag[PATH_MAX + 64], d[8][PATH_MAX + 64];
    sc_config cfg;
    int rc;

    if (access(S000, R_OK) != 0 || access(SFRAG, R_OK) != 0) {
        T_SKIP("ondemand: samples not found");
        T_DONE();
    }
    if (!getcwd(root, sizeof root) || !mkdtemp(tmpl)) {
        T_CHECK(0, "ondemand: temporary directory: %s", strerror(errno));
        T_DONE();
    }
    snprintf(s000, sizeof s000, "%s/%s", root, S000);
    snprintf(sfrag, sizeof sfrag, "%s/%s", root, SFRAG);
    for (int i = 0; i < 8; i++)
        snprintf(d[i], sizeof d[i], "%s/d%d", tmpl, i);

    /* One file: on demand = --evidence, byte for byte. */
    const char *one[] = { s000, NULL };
    sc_config_defaults(&cfg);
    cfg.files = one;
    cfg.nfiles = 1;
    cfg.quiet = true;
    T_CHECK(bulk(&cfg, d[0]) == 0 && exists(d[0], "session-1.txt"), "ondemand: --evidence ran");
    char *copy = strdup(s000);     /* the timeline hands over its own copy */
    cfg.evidence_dir = d[1];
    rc = sc_ondemand_evidence(&cfg, copy, 1, msg, sizeof msg);
    T_CHECK(rc == 0 && strncmp(msg, "wrote ", 6) == 0 && strstr(msg, "session-1.txt") &&
            strstr(msg, "session-1.pcapng") && strstr(msg, "(14 packets)"),
            "ondemand: e writes session 1 and says so (rc %d, '%s')", rc, msg);
    pair_same(d[0], "session-1", d[1], "session-1", "one file");

    /* Again: a copy number, the first bundle untouched. */
    rc = sc_ondemand_evidence(&cfg, copy, 1, msg, sizeof msg);
    T_CHECK(rc == 0 && strstr(msg, "session-1.2.txt") && strstr(msg, "session-1.2.pcapng"),
            "ondemand: e again writes session-1.2.* ('%s')", msg);
    char a[2 * PATH_MAX], b[2 * PATH_MAX];
    snprintf(a, sizeof a, "%s/session-1.pcapng", d[0]);
    snprintf(b, sizeof b, "%s/session-1.2.pcapng", d[1]);
    T_CHECK(same_file(a, b), "ondemand: session-1.2.pcapng = session-1.pcapng of --evidence");
    size_t n;
    snprintf(b, sizeof b, "%s/session-1.2.txt", d[1]);
    char *t2 = slurp(b, &n);
    T_CHECK(t2 && strstr(t2, "\npackets:       session-1.2.pcapng ("),
            "ondemand: session-1.2.txt names its own pcap");
    free(t2);
    pair_same(d[0], "session-1", d[1], "session-1", "first copy kept");

    /* A session that is not there, standard input. */
    rc = sc_ondemand_evidence(&cfg, copy, 99, msg, sizeof msg);
    T_CHECK(rc < 0 && strstr(msg, "session 99 not found") && !exists(d[1], "session-99.txt"),
            "ondemand: unknown session refused ('%s')", msg);
    const char *in[] = { "-", NULL };
    sc_config cin = cfg;
    cin.files = in;
    rc = sc_ondemand_evidence(&cin, "-", 1, msg, sizeof msg);
    T_CHECK(rc < 0 && strstr(msg, "standard input"), "ondemand: standard input refused ('%s')",
            msg);

    /* Default directory: ./smtpscope-evidence, created. */
    if (mkdir(d[2], 0755) == 0 && chdir(d[2]) == 0) {
        cfg.evidence_dir = NULL;
        rc = sc_ondemand_evidence(&cfg, copy, 1, msg, sizeof msg);
        T_CHECK(rc == 0 && exists(SC_ONDEMAND_DIR, "session-1.txt") &&
                exists(SC_ONDEMAND_DIR, "session-1.pcapng"),
                "ondemand: default directory ./%s ('%s')", SC_ONDEMAND_DIR, msg);
        if (chdir(root) != 0)
            T_CHECK(0, "ondemand: chdir back");
    }

    /* Two files: each numbers its sessions from 1; names carry the file. */
    const char *two[] = { s000, sfrag, NULL };
    cfg.files = two;
    cfg.nfiles = 2;
    T_CHECK(bulk(&cfg, d[3]) == 0, "ondemand: --evidence over two files ran");
    T_CHECK(exists(d[3], "1-session-1.txt") && exists(d[3], "1-session-1.pcapng") &&
            exists(d[3], "2-session-1.txt") && exists(d[3], "2-session-1.pcapng") &&
            !exists(d[3], "session-1.txt"),
            "ondemand: two files: 1-session-1.* and 2-session-1.*");
    cfg.evidence_dir = d[4];
    char *copy2 = strdup(sfrag);
    rc = sc_ondemand_evidence(&cfg, copy2, 1, msg, sizeof msg);
    T_CHECK(rc == 0 && strstr(msg, "2-session-1.txt"), "ondemand: e on file 2 ('%s')", msg);
    pair_same(d[3], "2-session-1", d[4], "2-session-1", "file 2");
    /* The same file twice is still two files. */
    char *again = strdup(s000);    /* argv strings are distinct */
    const char *twice[] = { s000, again, NULL };
    cfg.files = twice;
    T_CHECK(bulk(&cfg, d[5]) == 0 && exists(d[5], "1-session-1.txt") &&
            exists(d[5], "2-session-1.txt"), "ondemand: the same file twice: 1- and 2-");
    /* A directory holding such names is refused by --evidence. */
    T_CHECK(bulk(&cfg, d[3]) < 0, "ondemand: --evidence refuses a directory with N-session-*");

    /* A rotated chain read as one capture: session 1 crosses the first cut;
     * on demand it is read again whole, its pcap holds both files' part. */
    char c0[PATH_MAX + 64], c1[PATH_MAX + 64], c2[PATH_MAX + 64];
    snprintf(c0, sizeof c0, "%s/%s", root, SCHAIN);
    snprintf(c1, sizeof c1, "%s/%s1", root, SCHAIN);
    snprintf(c2, sizeof c2, "%s/%s2", root, SCHAIN);
    const char *chain[] = { c2, c0, c1, NULL };
    cfg.files = chain;
    cfg.nfiles = 3;
    cfg.merged = true;
    cfg.evidence_dir = NULL;
    T_CHECK(bulk(&cfg, d[6]) == 0 && exists(d[6], "session-1.pcapng") &&
            exists(d[6], "session-2.pcapng") && !exists(d[6], "1-session-1.txt"),
            "ondemand: a chain as one capture: session-1.* and session-2.*");
    cfg.evidence_dir = d[7];
    char *copy3 = strdup(c1);
    rc = sc_ondemand_evidence(&cfg, copy3, 1, msg, sizeof msg);
    T_CHECK(rc == 0 && strstr(msg, "session-1.txt") && strstr(msg, "(17 packets)"),
            "ondemand: e on a session across two files of a chain ('%s')", msg);
    pair_same(d[6], "session-1", d[7], "session-1", "chain");
    free(copy3);

    free(copy);
    free(copy2);
    free(again);
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    if (system(cmd) != 0)
        T_CHECK(0, "ondemand: cleanup");
    T_DONE();
}
