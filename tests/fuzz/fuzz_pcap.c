/*
 * fuzz_pcap.c - fuzz target for the whole pipeline: the input is a capture
 * file (pcap, pcapng, gzip: whatever libpcap and the capture layer accept),
 * written to /dev/shm and analysed by sc_pipeline_file through the
 * analyser, with the text report and JSON Lines outputs attached.
 *
 * Byte 0 of the input chooses options (bit0 --any-port, bit1 --ladder,
 * bit2 --show-content, bit3 --redact, bits4-7 --max-sessions 4..64 in
 * steps of 4); the rest is the file. A small session cap exercises
 * eviction, and keeps libnids' per-run tables (sized from the cap) small
 * enough for thousands of runs a second. The seed
 * corpus is samples/ *.pcap and ../shared/corpus with a 0 byte in front.
 *
 * After the run, the text output must carry no terminal control byte and
 * every JSON line must parse (oracle.h); a violation aborts. A file the
 * pipeline refuses (-1 with a reason) is a normal outcome.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "output/output.h"
#include "pipeline/pipeline.h"
#include "session/session.h"
#include "oracle.h"

static char fz_path[64];

static void fz_fail(const char *what, size_t bad)
{
    fprintf(stderr, "fuzz_pcap: %s at offset %zu\n", what, bad);
    abort();
}

/* Writes the capture file; returns 0 or -1. */
static int fz_write(const uint8_t *p, size_t n)
{
    if (!fz_path[0])
        snprintf(fz_path, sizeof fz_path, "/dev/shm/smtpscope-fuzz.%ld.pcap", (long)getpid());
    int fd = open(fz_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_config cfg;
    char *text = NULL, *json = NULL;
    size_t tlen = 0, jlen = 0, bad;
    char err[512];

    if (size < 1 || fz_write(data + 1, size - 1) < 0)
        return 0;
    sc_config_defaults(&cfg);
    cfg.color = 0;
    cfg.quiet = true;
    cfg.any_port = data[0] & 1;
    cfg.ladder = data[0] & 2;
    cfg.show_content = data[0] & 4;
    cfg.redact = data[0] & 8;
    cfg.max_sessions = 4 + (uint64_t)(data[0] >> 4) * 4;
    const char *files[2] = { fz_path, NULL };
    cfg.files = files;
    cfg.nfiles = 1;

    FILE *tfp = open_memstream(&text, &tlen);
    FILE *jfp = open_memstream(&json, &jlen);
    if (!tfp || !jfp)
        abort();
    sc_sink *sinks[2] = { sc_text_sink_new(&cfg, tfp), sc_json_sink_new(&cfg, jfp, NULL, NULL) };
    if (!sinks[0] || !sinks[1])
        abort();
    sc_analyzer *an = sc_analyzer_new(&cfg, sinks, 2);
    if (!an)
        abort();
    sc_analyzer_set_file(an, fz_path);
    sc_pipeline_hooks hooks = { .ctx = an };
    sc_pipeline_stats stats;
    memset(&stats, 0, sizeof stats);
    (void)sc_pipeline_file(&cfg, fz_path, sc_analyzer_handler(an), &hooks,
                           &stats, err, sizeof err);
    sc_pipeline_stats_add(&sc_analyzer_fanout(an)->totals, &stats);   /* as main.c does */
    unlink(fz_path);
    sc_totals totals;
    sc_analyzer_finish(an, &totals);
    sc_analyzer_free(an);
    for (int k = 0; k < 2; k++)
        if (sinks[k]->destroy)
            sinks[k]->destroy(sinks[k]);
    fclose(tfp);
    fclose(jfp);

    if ((bad = fz_text_ok((const uint8_t *)text, tlen, 1)))
        fz_fail("text report carries a terminal control byte", bad - 1);
    if ((bad = fz_jsonl_ok((const uint8_t *)json, jlen)))
        fz_fail("JSON Lines output is not valid JSON", bad - 1);
    free(text);
    free(json);
    return 0;
}
