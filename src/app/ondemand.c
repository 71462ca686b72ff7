/*
 * ondemand.c - the timeline's `e` key: the evidence bundle of the selected
 * session, written while the screen stays open.
 *
 * Interface: src/app/ondemand.h (sc_ondemand_evidence, an
 * sc_tui_evidence_fn).
 *
 * The timeline keeps only a compact index and a spill file of transcript
 * lines; the bundle's .txt needs what only the analysis knows (extensions,
 * transactions, how the session closed, redaction ranges). So the session's
 * capture file is analysed again with --session ID and one on-demand
 * evidence sink (sc_evidence_one_new): the .txt and .pcap come out exactly
 * as --evidence DIR writes them, and memory stays that of one analysis.
 * Session ids are stable (order of first packet under the same options),
 * which is what makes the second pass find the same session.
 *
 * Files go to --evidence DIR, else ./smtpscope-evidence (created on the
 * first `e`). Names in use get a copy number: nothing is overwritten.
 *
 * Diagnostics: the outcome is one line in msg, for the status line. The
 * screen is open, so nothing may reach the terminal: standard error is
 * sent to a temporary file during the analysis, and its first line, if
 * any, becomes the message when nothing better is known.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/wcheck.h"
#include "ondemand.h"
#include "output/output.h"
#include "pipeline/pipeline.h"
#include "session/session.h"

/* Standard error diverted to a temporary file (restored by _end). */
typedef struct ondemand_quiet {
    FILE *tmp;
    int   saved;
} ondemand_quiet;

static void ondemand_quiet_begin(ondemand_quiet *q)
{
    fflush(stderr);
    q->saved = -1;
    if (!(q->tmp = sc_tmpfile()))
        return;
    q->saved = dup(STDERR_FILENO);
    if (q->saved < 0 || dup2(fileno(q->tmp), STDERR_FILENO) < 0) {
        if (q->saved >= 0)
            close(q->saved);
        q->saved = -1;
    }
}

/* Restores standard error; the first diverted line goes to line (may be
 * ""). */
static void ondemand_quiet_end(ondemand_quiet *q, char *line, size_t len)
{
    line[0] = 0;
    fflush(stderr);
    if (q->saved >= 0) {
        dup2(q->saved, STDERR_FILENO);
        close(q->saved);
    }
    if (!q->tmp)
        return;
    rewind(q->tmp);
    if (fgets(line, (int)len, q->tmp))
        line[strcspn(line, "\n")] = 0;
    fclose(q->tmp);
}

/* The -r string the first analysis used for this file: the evidence sink
 * numbers the files of -r by it. The timeline hands over that string when
 * it knows it (a file given twice is then told apart), else a copy. */
static const char *ondemand_file(const sc_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nfiles; i++)
        if (cfg->files[i] == name)
            return name;
    for (size_t i = 0; i < cfg->nfiles; i++)
        if (cfg->files[i] && strcmp(cfg->files[i], name) == 0)
            return cfg->files[i];
    return NULL;
}

int sc_ondemand_evidence(void *ctx, const char *capture_file, uint64_t session_id,
                         char *msg, size_t len)
{
    const sc_config *cfg = ctx;
    /* several files read as one capture: all of them again, in time order */
    const char *file = cfg->merged ? cfg->files[0]
                     : capture_file ? ondemand_file(cfg, capture_file) : NULL;
    const char *dir = cfg->evidence_dir ? cfg->evidence_dir : SC_ONDEMAND_DIR;
    char err[512], diverted[256];
    ondemand_quiet q;

    if (cfg->iface || !file) {
        snprintf(msg, len, "a live capture cannot be read again (save it with -w FILE, "
                 "then run smtpscope -r FILE)");
        return -1;
    }
    if (strcmp(file, "-") == 0) {
        snprintf(msg, len, "the capture came from standard input and cannot be read "
                 "again (save it to a file)");
        return -1;
    }

    sc_config one = *cfg;
    one.only_session = session_id;
    one.only_findings = false;
    one.write_streams = NULL;
    one.evidence_dir = dir;
    one.quiet = true;
    one.mode = SC_OUT_TEXT;

    sc_sink *ev = sc_evidence_one_new(&one, dir, msg, len);
    if (!ev)
        return -1;
    sc_analyzer *an = sc_analyzer_new(&one, &ev, 1);
    if (!an) {
        ev->destroy(ev);
        snprintf(msg, len, "out of memory");
        return -1;
    }
    sc_pipeline_stats stats;
    int rc;

    ondemand_quiet_begin(&q);
    sc_analyzer_set_file(an, file);
    for (size_t i = 0; cfg->merged && i < cfg->nfiles; i++)
        if (cfg->files[i] != file)      /* their secrets too */
            sc_analyzer_set_file(an, cfg->files[i]);
    rc = sc_pipeline_files(&one, cfg->merged ? cfg->files : &file, cfg->merged ? cfg->nfiles : 1,
                           sc_analyzer_handler(an), NULL, &stats, err, sizeof err);
    sc_analyzer_finish(an, NULL);
    sc_analyzer_free(an);
    ev->destroy(ev);
    ondemand_quiet_end(&q, diverted, sizeof diverted);

    if (rc < 0) {
        snprintf(msg, len, "%s", err);
        return -1;
    }
    if (!msg[0]) {
        if (diverted[0])
            snprintf(msg, len, "%s", diverted);
        else
            snprintf(msg, len, "session %llu not found on reading %s again",
                     (unsigned long long)session_id, file);
        return -1;
    }
    return strncmp(msg, "wrote ", 6) == 0 ? 0 : -1;
}
