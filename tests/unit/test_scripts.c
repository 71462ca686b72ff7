/*
 * test_scripts.c - runs every byte script under tests/scripts/ (recursing
 * into sub-folders, in path order) through sc_smtp and compares the
 * findings with the script's `expect` lines (format: tests/scripts/README.md).
 *
 * One PASS/FAIL line per script, naming the file; a failure shows the
 * expected and the actual findings. A last check says whether every rule
 * of the catalogue is fired by at least one script.
 *
 * The scripts directory is $SCRIPTS_DIR, or tests/scripts (run from the
 * repository root, as tests/run.sh does).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/config.h"
#include "common/record.h"
#include "session/session.h"
#include "tap.h"

/* ---- script model ---- */

typedef enum { EV_DATA, EV_FIN, EV_RST, EV_GAP, EV_REPEAT, EV_END, EV_WAIT } ev_kind;

typedef struct ev {
    ev_kind  kind;
    sc_dir   dir;
    uint8_t *bytes;
    size_t   len;
    uint64_t n;            /* GAP size, REPEAT count */
} ev;

typedef struct expect {
    char     rule[64];
    uint64_t frame;        /* 0 = any */
    uint64_t more;         /* expect-more: the count past --max-findings */
    uint64_t first;        /* expect-more: its frame range (0 = any) */
    bool     used;
} expect;

typedef struct expect_line {
    uint64_t frame;
    uint8_t *text;
    size_t   len;
} expect_line;

typedef struct script {
    ev          *ev;
    size_t       nev, cap;
    expect      *ex;
    size_t       nex, excap;
    expect_line *el;
    size_t       nel, elcap;
    bool         rfc821, midstream, show_content;
    uint16_t     port;
    long long    max_findings;     /* -1: the default */
    char         disabled[8][64];
    int          ndisabled;
    int          min_sev;
    char         err[256];
} script;

static void *grow(void *p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return p;
    *cap = *cap ? *cap * 2 : 16;
    p = realloc(p, *cap * sz);
    if (!p) {
        perror("realloc");
        exit(2);
    }
    return p;
}

/* Reads a C-escaped quoted string at *pp; returns a malloc'd buffer. */
static uint8_t *parse_string(const char **pp, size_t *len, char *err, size_t errlen)
{
    const char *p = *pp;
    size_t cap = strlen(p) + 1, n = 0;
    uint8_t *out = malloc(cap);

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '"') {
        snprintf(err, errlen, "expected a quoted string");
        free(out);
        return NULL;
    }
    p++;
    while (*p && *p != '"') {
        uint8_t c = (uint8_t)*p++;
        if (c == '\\') {
            char e = *p++;
            switch (e) {
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '0': c = 0; break;
            case '\\': c = '\\'; break;
            case '"': c = '"'; break;
            case 'x': {
                unsigned v = 0;
                for (int i = 0; i < 2; i++) {
                    char h = *p++;
                    v <<= 4;
                    if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
                    else {
                        snprintf(err, errlen, "bad \\x escape");
                        free(out);
                        return NULL;
                    }
                }
                c = (uint8_t)v;
                break;
            }
            default:
                snprintf(err, errlen, "unknown escape \\%c", e ? e : '0');
                free(out);
                return NULL;
            }
        }
        out[n++] = c;
    }
    if (*p != '"') {
        snprintf(err, errlen, "unterminated string");
        free(out);
        return NULL;
    }
    *pp = p + 1;
    *len = n;
    return out;
}

static int parse_script(const char *path, script *sc)
{
    FILE *fp = fopen(path, "r");
    char line[65536];
    int lineno = 0;

    memset(sc, 0, sizeof *sc);
    sc->port = 25;
    sc->min_sev = -1;
    sc->max_findings = -1;
    if (!fp) {
        snprintf(sc->err, sizeof sc->err, "cannot open: %s", strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, fp)) {
        char *p = line, word[64];
        int wn = 0;
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == 0 || *p == '#')
            continue;
        if (sscanf(p, "%63s%n", word, &wn) != 1)
            continue;
        const char *rest = p + wn;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        char err[128] = "";
        if (strcmp(word, "C") == 0 || strcmp(word, "S") == 0) {
            ev e = { .dir = word[0] == 'C' ? SC_DIR_C2S : SC_DIR_S2C };
            unsigned long long n;
            if (strncmp(rest, "FIN", 3) == 0) {
                e.kind = EV_FIN;
            } else if (strncmp(rest, "RST", 3) == 0) {
                e.kind = EV_RST;
            } else if (sscanf(rest, "GAP %llu", &n) == 1) {
                e.kind = EV_GAP;
                e.n = n;
            } else if (sscanf(rest, "REPEAT %llu%n", &n, &wn) == 1) {
                const char *q = rest + wn;
                e.kind = EV_REPEAT;
                e.n = n;
                e.bytes = parse_string(&q, &e.len, err, sizeof err);
            } else {
                const char *q = rest;
                e.kind = EV_DATA;
                e.bytes = parse_string(&q, &e.len, err, sizeof err);
            }
            if ((e.kind == EV_DATA || e.kind == EV_REPEAT) && !e.bytes)
                goto bad;
            sc->ev = grow(sc->ev, &sc->cap, sc->nev, sizeof *sc->ev);
            sc->ev[sc->nev++] = e;
        } else if (strcmp(word, "WAIT") == 0) {
            /* WAIT N: N seconds pass before the next packet */
            unsigned long long n;
            if (sscanf(rest, "%llu", &n) != 1) {
                snprintf(err, sizeof err, "WAIT without seconds");
                goto bad;
            }
            sc->ev = grow(sc->ev, &sc->cap, sc->nev, sizeof *sc->ev);
            sc->ev[sc->nev++] = (ev){ .kind = EV_WAIT, .n = n };
        } else if (strcmp(word, "END") == 0) {
            sc->ev = grow(sc->ev, &sc->cap, sc->nev, sizeof *sc->ev);
            /* END, or END timeout: the session closed by the idle timeout */
            sc->ev[sc->nev++] = (ev){ .kind = EV_END, .n = strncmp(rest, "timeout", 7) == 0 };
        } else if (strcmp(word, "option") == 0) {
            char k[64] = "", v[64] = "";
            sscanf(rest, "%63s %63s", k, v);
            if (strcmp(k, "profile") == 0 && strcmp(v, "rfc821") == 0)
                sc->rfc821 = true;
            else if (strcmp(k, "profile") == 0 && strcmp(v, "rfc5321") == 0)
                sc->rfc821 = false;
            else if (strcmp(k, "handshake") == 0)
                sc->midstream = strcmp(v, "no") == 0;
            else if (strcmp(k, "port") == 0)
                sc->port = (uint16_t)atoi(v);
            else if (strcmp(k, "show-content") == 0)
                sc->show_content = true;
            else if (strcmp(k, "max-findings") == 0)
                sc->max_findings = atoll(v);
            else if (strcmp(k, "disable") == 0 && sc->ndisabled < 8)
                snprintf(sc->disabled[sc->ndisabled++], 64, "%s", v);
            else if (strcmp(k, "min-severity") == 0) {
                sc_severity sv;
                if (sc_severity_parse(v, &sv) != 0) {
                    snprintf(err, sizeof err, "bad severity %s", v);
                    goto bad;
                }
                sc->min_sev = (int)sv;
            } else {
                snprintf(err, sizeof err, "unknown option %s", k);
                goto bad;
            }
        } else if (strcmp(word, "expect") == 0 || strcmp(word, "expect-more") == 0) {
            expect x = { 0 };
            unsigned long long f = 0, l = 0, times = 1;
            char r[64];
            int used = 0;
            bool more = strcmp(word, "expect-more") == 0;
            if (sscanf(rest, "%63s%n", r, &used) != 1) {
                snprintf(err, sizeof err, "%s without a rule", word);
                goto bad;
            }
            snprintf(x.rule, sizeof x.rule, "%s", r);
            const char *tail = rest + used;
            if (more && sscanf(tail, "%llu", &times) != 1) {
                snprintf(err, sizeof err, "expect-more without a count");
                goto bad;
            }
            if (more) {               /* the count, then @FIRST-LAST */
                x.more = times;
                times = 1;
            }
            const char *at = strchr(tail, '@');
            if (at && sscanf(at + 1, "%llu-%llu", &f, &l) == 2 && more) {
                x.first = f;
                x.frame = l;
            } else if (at && sscanf(at + 1, "%llu", &f) == 1) {
                x.frame = f;
            }
            const char *xn = strstr(tail, " x");
            if (!more && xn && sscanf(xn + 2, "%llu", &times) != 1) {
                snprintf(err, sizeof err, "expect: bad repeat count");
                goto bad;
            }
            if (!sc_rule_by_name(x.rule)) {
                snprintf(err, sizeof err, "unknown rule %s", x.rule);
                goto bad;
            }
            for (unsigned long long k = 0; k < times; k++) {
                sc->ex = grow(sc->ex, &sc->excap, sc->nex, sizeof *sc->ex);
                sc->ex[sc->nex++] = x;
            }
        } else if (strcmp(word, "expect-line") == 0) {
            expect_line x = { 0 };
            unsigned long long f;
            int used = 0;
            if (sscanf(rest, "%llu%n", &f, &used) != 1) {
                snprintf(err, sizeof err, "expect-line without a frame");
                goto bad;
            }
            const char *q = rest + used;
            x.frame = f;
            x.text = parse_string(&q, &x.len, err, sizeof err);
            if (!x.text)
                goto bad;
            sc->el = grow(sc->el, &sc->elcap, sc->nel, sizeof *sc->el);
            sc->el[sc->nel++] = x;
        } else {
            snprintf(err, sizeof err, "unknown directive %s", word);
            goto bad;
        }
        continue;
bad:
        snprintf(sc->err, sizeof sc->err, "line %d: %s", lineno, err);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    return 0;
}

static void script_free(script *sc)
{
    for (size_t i = 0; i < sc->nev; i++)
        free(sc->ev[i].bytes);
    for (size_t i = 0; i < sc->nel; i++)
        free(sc->el[i].text);
    free(sc->ev);
    free(sc->ex);
    free(sc->el);
}

/* ---- the sink that records what the session reports ---- */

#define MAX_LINES 4096

typedef struct got {
    struct { char rule[64]; uint64_t frame, more, first; bool used; } *f;
    size_t nf, fcap;
    uint64_t counted;            /* findings the records stand for */
    uint64_t session_findings;   /* what session_end says there were */
    struct { uint64_t frame; uint8_t text[256]; size_t len; } *l;
    size_t nl, lcap;
    bool keep_lines;
    int begins, ends;
} got;

static void got_finding(sc_sink *k, const sc_session_info *si, const sc_finding *f)
{
    got *g = k->priv;
    (void)si;
    g->f = grow(g->f, &g->fcap, g->nf, sizeof *g->f);
    snprintf(g->f[g->nf].rule, sizeof g->f[g->nf].rule, "%s", f->rule->name);
    g->f[g->nf].frame = f->frame;
    g->f[g->nf].more = f->suppressed;
    g->f[g->nf].first = f->suppressed_first;
    g->f[g->nf].used = false;
    g->nf++;
    g->counted += sc_finding_count(f);
    /* In the line stream too, where the sink got it: "!! rule-id", so that
     * expect-line can pin a finding below the line that completes it. */
    if (!g->keep_lines || g->nl >= MAX_LINES)
        return;
    g->l = grow(g->l, &g->lcap, g->nl, sizeof *g->l);
    int n = f->suppressed
            ? snprintf((char *)g->l[g->nl].text, sizeof g->l[g->nl].text, "!! %s and %llu more",
                       f->rule->name, (unsigned long long)f->suppressed)
            : snprintf((char *)g->l[g->nl].text, sizeof g->l[g->nl].text, "!! %s", f->rule->name);
    g->l[g->nl].len = n > 0 ? (size_t)n : 0;
    g->l[g->nl].frame = f->frame;
    g->nl++;
}

static void got_line(sc_sink *k, const sc_session_info *si, const sc_line *l)
{
    got *g = k->priv;
    (void)si;
    if (!g->keep_lines || g->nl >= MAX_LINES)
        return;
    g->l = grow(g->l, &g->lcap, g->nl, sizeof *g->l);
    int n = snprintf((char *)g->l[g->nl].text, sizeof g->l[g->nl].text, "%s",
                     l->dir == SC_DIR_C2S ? "C> " : "S> ");
    size_t m = l->len < sizeof g->l[g->nl].text - (size_t)n ? l->len
               : sizeof g->l[g->nl].text - (size_t)n;
    memcpy(g->l[g->nl].text + n, l->text, m);
    g->l[g->nl].len = (size_t)n + m;
    g->l[g->nl].frame = l->frame;
    g->nl++;
}

static void got_begin(sc_sink *k, const sc_session_info *si) { (void)si; ((got *)k->priv)->begins++; }
static void got_end(sc_sink *k, const sc_session_info *si)
{
    got *g = k->priv;
    g->ends++;
    g->session_findings = si->findings[0] + si->findings[1] + si->findings[2];
}

/* ---- running one script ---- */

static bool fired[SC_RULE_COUNT];

static void run_feed(sc_smtp *s, sc_flow_event *e, uint64_t frame, struct timeval ts)
{
    sc_packet pkt = { .frame = frame, .ts = ts };
    e->frame = frame;
    e->ts = ts;
    sc_smtp_packet(s, &pkt);
    sc_smtp_event(s, e);
}

static void run_script(const char *path, const char *name)
{
    script sc;
    got g = { 0 };
    sc_config cfg;
    sc_sink sink = { .session_begin = got_begin, .line = got_line,
                     .finding = got_finding, .session_end = got_end, .priv = &g };

    if (parse_script(path, &sc) != 0) {
        T_CHECK(0, "script %s: %s", name, sc.err);
        script_free(&sc);
        return;
    }
    sc_config_defaults(&cfg);
    cfg.profile = sc.rfc821 ? SC_PROFILE_RFC821 : SC_PROFILE_RFC5321;
    cfg.show_content = sc.show_content;
    if (sc.min_sev >= 0)
        cfg.min_severity = (sc_severity)sc.min_sev;
    if (sc.max_findings >= 0)
        cfg.max_findings = (uint32_t)sc.max_findings;
    for (int i = 0; i < sc.ndisabled; i++) {
        const sc_rule *r = sc_rule_by_name(sc.disabled[i]);
        if (r)
            cfg.rule_enabled[r->id] = false;
    }
    g.keep_lines = sc.nel > 0;

    uint64_t frame = sc.midstream ? 1 : 4;
    struct timeval t0 = { 1700000000, 0 };
    sc_conn conn = { .id = 1, .handshake_seen = !sc.midstream, .first_frame = sc.midstream ? 1 : 1,
                     .first_ts = t0 };
    conn.client.family = conn.server.family = 2;   /* AF_INET */
    memcpy(conn.client.addr, "\xc0\x00\x02\x01", 4);
    memcpy(conn.server.addr, "\xc0\x00\x02\x02", 4);
    conn.client.port = 40000;
    conn.server.port = sc.port;

    sc_smtp *s = sc_smtp_new(&cfg, &conn, &sink, name);
    sc_flow_end end = SC_END_CAPTURE_END;
    uint64_t last = frame;
    struct timeval ts = t0;
    uint64_t npkt = 0, waited = 0;

    for (size_t i = 0; i < sc.nev; i++) {
        ev *e = &sc.ev[i];
        sc_flow_event fe = { .dir = e->dir };
        if (e->kind == EV_END) {
            end = e->n ? SC_END_TIMEOUT : SC_END_CAPTURE_END;
            break;
        }
        if (e->kind == EV_WAIT) {
            waited += e->n;
            continue;
        }
        npkt++;
        ts.tv_sec = t0.tv_sec + (time_t)waited + (time_t)((npkt * 10000) / 1000000);
        ts.tv_usec = (suseconds_t)((npkt * 10000) % 1000000);
        switch (e->kind) {
        case EV_DATA:
            fe.kind = SC_FLOW_DATA;
            fe.data = e->bytes;
            fe.len = e->len;
            run_feed(s, &fe, frame, ts);
            end = SC_END_CAPTURE_END;
            break;
        case EV_REPEAT: {
            /* One segment, delivered in pieces of at most 64 KiB. */
            size_t chunk = 65536 / (e->len ? e->len : 1);
            uint8_t *buf;
            if (chunk == 0)
                chunk = 1;
            buf = malloc(chunk * (e->len ? e->len : 1));
            for (size_t k = 0; k < chunk; k++)
                memcpy(buf + k * e->len, e->bytes, e->len);
            sc_packet pkt = { .frame = frame, .ts = ts };
            sc_smtp_packet(s, &pkt);
            for (uint64_t left = e->n; left > 0;) {
                uint64_t take = left < chunk ? left : chunk;
                fe.kind = SC_FLOW_DATA;
                fe.data = buf;
                fe.len = (size_t)take * e->len;
                fe.frame = frame;
                fe.ts = ts;
                sc_smtp_event(s, &fe);
                left -= take;
            }
            free(buf);
            end = SC_END_CAPTURE_END;
            break;
        }
        case EV_FIN:
            fe.kind = SC_FLOW_FIN;
            run_feed(s, &fe, frame, ts);
            end = SC_END_CLOSED;
            break;
        case EV_RST:
            fe.kind = SC_FLOW_RST;
            run_feed(s, &fe, frame, ts);
            end = SC_END_RESET;
            break;
        case EV_GAP:
            fe.kind = SC_FLOW_GAP;
            fe.gap = e->n;
            run_feed(s, &fe, frame, ts);
            end = SC_END_CAPTURE_END;
            break;
        case EV_END:
        case EV_WAIT:
            break;
        }
        last = frame;
        frame++;
    }
    sc_flow_event ce = { .kind = SC_FLOW_CLOSE, .end = end, .frame = last, .ts = ts };
    sc_smtp_event(s, &ce);
    bool done = sc_smtp_done(s);
    sc_smtp_free(s);

    /* Compare: frame-bound expectations first, then the others. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < sc.nex; i++) {
            expect *x = &sc.ex[i];
            if (x->used || (pass == 0) != (x->frame != 0))
                continue;
            for (size_t j = 0; j < g.nf; j++)
                if (!g.f[j].used && strcmp(g.f[j].rule, x->rule) == 0 &&
                    (!x->frame || x->frame == g.f[j].frame) && x->more == g.f[j].more &&
                    (!x->first || x->first == g.f[j].first)) {
                    g.f[j].used = x->used = true;
                    break;
                }
        }
    /* Whatever the cap, the session's count is every finding: those
     * reported one by one plus the counts of the rest. */
    bool ok = g.begins == 1 && g.ends == 1 && done && g.counted == g.session_findings;
    for (size_t i = 0; i < sc.nex; i++)
        ok = ok && sc.ex[i].used;
    for (size_t j = 0; j < g.nf; j++)
        ok = ok && g.f[j].used;
    for (size_t j = 0; j < g.nf; j++) {
        const sc_rule *r = sc_rule_by_name(g.f[j].rule);
        if (r && g.f[j].used)
            fired[r->id] = true;
    }
    char lines_err[512] = "";
    /* expect-line lines appear in the order of the script (each after the
     * one before it; other lines may come between). */
    size_t from = 0;
    for (size_t i = 0; i < sc.nel; i++) {
        bool found = false;
        size_t j;
        for (j = from; j < g.nl && !found; j++)
            found = g.l[j].frame == sc.el[i].frame && g.l[j].len == sc.el[i].len &&
                    memcmp(g.l[j].text, sc.el[i].text, sc.el[i].len) == 0;
        if (found)
            from = j;
        if (!found) {
            ok = false;
            snprintf(lines_err, sizeof lines_err, "; no line %llu \"%.*s\" (in this order)",
                     (unsigned long long)sc.el[i].frame, (int)sc.el[i].len,
                     (const char *)sc.el[i].text);
        }
    }
    if (ok) {
        T_CHECK(1, "script %s", name);
    } else {
        char exp[2048] = "", act[2048] = "";
        size_t el = 0, al = 0;
        for (size_t i = 0; i < sc.nex && el < sizeof exp; i++)
            el += (size_t)snprintf(exp + el, sizeof exp - el, "%s%s%s%s", i ? " " : "",
                                   sc.ex[i].rule, sc.ex[i].more ? "(and more)" : "",
                                   sc.ex[i].used ? "" : "(missing)");
        for (size_t j = 0; j < g.nf && al < sizeof act; j++)
            al += (size_t)snprintf(act + al, sizeof act - al, "%s%s@%llu%s%s", j ? " " : "",
                                   g.f[j].rule, (unsigned long long)g.f[j].frame,
                                   g.f[j].more ? "(and more)" : "",
                                   g.f[j].used ? "" : "(unexpected)");
        T_CHECK(0, "script %s: expected [%s] got [%s]%s%s", name, exp, act, lines_err,
                g.counted == g.session_findings ? "" : "; the session's count differs");
    }
    free(g.f);
    free(g.l);
    script_free(&sc);
}

/* ---- walking the tree ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(const char *dir, char ***list, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        char path[4096];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            collect(path, list, n, cap);
        } else {
            size_t l = strlen(de->d_name);
            if (l > 5 && strcmp(de->d_name + l - 5, ".smtp") == 0) {
                *list = grow(*list, cap, *n, sizeof **list);
                (*list)[(*n)++] = strdup(path);
            }
        }
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    const char *dir = getenv("SCRIPTS_DIR");
    char **list = NULL;
    size_t n = 0, cap = 0;

    if (!dir)
        dir = "tests/scripts";
    if (argc > 1) {              /* run the scripts named on the command line */
        for (int i = 1; i < argc; i++)
            run_script(argv[i], argv[i]);
        T_DONE();
    }
    collect(dir, &list, &n, &cap);
    qsort(list, n, sizeof *list, cmp_str);
    T_CHECK(n > 0, "scripts found under %s (%zu)", dir, n);
    for (size_t i = 0; i < n; i++) {
        run_script(list[i], list[i] + strlen(dir) + 1);
        free(list[i]);
    }
    free(list);
    for (unsigned r = 0; r < SC_RULE_COUNT; r++)
        T_CHECK(fired[r], "rule %s fires in some script", sc_rules[r].name);
    T_DONE();
}
