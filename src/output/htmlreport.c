/*
 * htmlreport.c - --html FILE: the run's HTML report in one self-contained
 * file, without the rest of the evidence bundle (sc_html_report_new,
 * output.h).
 *
 * The index of the sessions with findings (and per server address), then
 * each reported session's section (html.h: facts, findings and what they
 * rest on, the ladder), in order of session end. Sections wait in a
 * temporary file until the index is known, at finish. There is no packet
 * file: frames are named by their number in the capture alone.
 *
 * Diagnostics: FILE that cannot be created is refused when the sink is
 * made (the caller exits 2); write errors are said (sc_write_lost) and the
 * file is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/wcheck.h"
#include "html.h"
#include "output.h"

typedef struct html_report {
    sc_sink          sink;
    const sc_config *cfg;
    sc_html         *html;
    sc_idmap        *live;            /* session id -> sc_html_sess */
    FILE            *out, *sections;
    char            *path;
} html_report;

typedef struct hr_sess {
    sc_html_sess *hs;
    uint64_t      findings;
} hr_sess;

static void hr_begin(sc_sink *s, const sc_session_info *info)
{
    html_report *r = s->priv;
    hr_sess *x;

    if (r->cfg->only_session && info->id != r->cfg->only_session)
        return;
    if (!(x = calloc(1, sizeof *x)))
        return;
    if (!(x->hs = sc_html_sess_new(r->html)) || sc_idmap_put(r->live, info->id, x) < 0) {
        sc_html_sess_free(r->html, x->hs);
        free(x);
    }
}

static void hr_line(sc_sink *s, const sc_session_info *info, const sc_line *l)
{
    html_report *r = s->priv;
    hr_sess *x = sc_idmap_get(r->live, info->id);

    if (x)
        sc_html_sess_line(r->html, x->hs, l, r->cfg->redact);
}

static void hr_finding(sc_sink *s, const sc_session_info *info, const sc_finding *f)
{
    html_report *r = s->priv;
    hr_sess *x = sc_idmap_get(r->live, info->id);

    if (x) {
        sc_html_sess_finding(r->html, x->hs, f);
        x->findings += sc_finding_count(f);
    }
}

static void hr_end(sc_sink *s, const sc_session_info *info)
{
    html_report *r = s->priv;
    hr_sess *x = sc_idmap_del(r->live, info->id);
    char anchor[48];

    if (!x)
        return;
    if (!(r->cfg->only_findings && x->findings == 0)) {
        sc_html_sess_write(r->html, x->hs, info, r->cfg->redact, NULL, NULL, false,
                           r->sections);
        if (x->findings) {
            snprintf(anchor, sizeof anchor, "#session-%" PRIu64, info->id);
            sc_html_index_add(r->html, info, anchor);
        }
    }
    sc_html_sess_free(r->html, x->hs);
    free(x);
}

static void hr_finish(sc_sink *s, const sc_totals *tot)
{
    html_report *r = s->priv;
    char buf[8192];
    size_t n;
    bool bad;

    (void)tot;
    bad = sc_html_index_write(r->html, false, r->out) < 0 || fflush(r->sections) != 0 ||
          ferror(r->sections);
    rewind(r->sections);
    while ((n = fread(buf, 1, sizeof buf, r->sections)) > 0)
        fwrite(buf, 1, n, r->out);
    fputs("</body></html>\n", r->out);
    errno = 0;
    bad |= ferror(r->out) || ferror(r->sections);
    if (fclose(r->out) != 0 || bad) {
        unlink(r->path);
        sc_write_lost(r->path, errno, "the HTML report is removed");
    }
    r->out = NULL;
}

static void hr_destroy(sc_sink *s)
{
    html_report *r = s->priv;

    if (r->out)
        fclose(r->out);
    if (r->sections)
        fclose(r->sections);
    sc_idmap_free(r->live);
    sc_html_free(r->html);
    free(r->path);
    free(r);
}

sc_sink *sc_html_report_new(const sc_config *cfg, const char *path, char *err, size_t errlen)
{
    html_report *r = calloc(1, sizeof *r);
    int fd;

    if (!r || !(r->html = sc_html_new()) || !(r->live = sc_idmap_new()) ||
        !(r->path = strdup(path)) || !(r->sections = sc_tmpfile())) {
        snprintf(err, errlen, "--html %s: %s", path, strerror(errno ? errno : ENOMEM));
        goto fail;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || !(r->out = fdopen(fd, "w"))) {
        snprintf(err, errlen, "--html %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto fail;
    }
    r->cfg = cfg;
    r->sink = (sc_sink){ hr_begin, hr_line, hr_finding, hr_end, hr_finish, hr_destroy, r };
    return &r->sink;
fail:
    if (r) {
        r->sink.priv = r;
        hr_destroy(&r->sink);
    }
    return NULL;
}
