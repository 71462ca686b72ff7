/*
 * fuzz_session.c - fuzz target for the SMTP layer: the client and server
 * machines (sc_smtp, one per connection), the rules, and every output (text
 * report or ladder, JSON Lines, and with a flag the evidence bundle), all
 * fed through a fan-out sink that also keeps the run's totals.
 *
 * The input is a byte script of flow events, the form the reassembler
 * would deliver (src/reasm/reasm.h), for up to four interleaved connections:
 *
 *   byte 0   flags: bit0 --profile rfc821, bit1 --show-content,
 *            bit2 --ladder, bit3 --redact, bit4 capture starts mid-stream
 *            (no handshake), bit5 --evidence (under /dev/shm), bits6-7 the
 *            server port (25, 465, 587, 2525)
 *   then one operation after another until the input ends:
 *     op byte: bits0-2 kind, bit3 direction (0 client, 1 server),
 *              bits4-5 connection 0..3, bits6-7 clock step before it
 *              (10 ms, 1 s, 10 min, or 1 s backwards: timestamps in
 *              captures are not always monotonic)
 *     kind 0 DATA   len:1, then len bytes (fewer when the input ends)
 *     kind 1 DATA   len:2 (big endian), then len bytes
 *     kind 2 FIN
 *     kind 3 RST    (the connection closes, as libnids does)
 *     kind 4 GAP    len:4 (big endian) bytes missing
 *     kind 5 REPEAT count:3, plen:1, then plen pattern bytes: the pattern
 *                   count times (2 KiB of REPEAT bytes per input at most:
 *                   the fuzzer looks for wrong states, not slow ones, and
 *                   every byte costs it executions; sizes are the work of
 *                   tests/limits.sh)
 *     kind 6 END    the capture ends here
 *     kind 7 CLOSE  why:1 (sc_flow_end, modulo 5): the reassembler gives up
 *                   on the connection (timeout, eviction, ...)
 *
 * The harness keeps the reassembler's promises (nothing from a side after
 * its FIN, nothing after CLOSE, CLOSE last) so that what it finds is the
 * SMTP layer's fault. An event for a closed connection slot opens a new
 * connection. Every DATA event is preceded by a packet callback with a
 * real IPv4/TCP frame around the bytes. After the run, the text output must
 * carry no terminal control byte and every JSON line must parse
 * (oracle.h); a violation aborts.
 *
 * FUZZ_SESSION_DUMP=1 in the environment writes both outputs to stderr
 * (triage). tests/fuzz/script2fuzz.py turns tests/scripts/ *.smtp into this form.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "output/output.h"
#include "common/record.h"
#include "session/session.h"
#include "oracle.h"

#define FZ_CONNS        4
#define FZ_REPEAT_MAX   (2u << 10)     /* REPEAT bytes per input, all ops */
#define FZ_EVENT_MAX    (64u << 10)
#define FZ_FRAME_HDR    40            /* IPv4 + TCP without options */

static const uint16_t fz_ports[4] = { 25, 465, 587, 2525 };

typedef struct fz_input {
    const uint8_t *p;
    size_t n, i;
} fz_input;

typedef struct fz_conn {
    sc_conn  conn;
    sc_smtp *smtp;
    bool     open;
    bool     fin[2];
    uint32_t seq[2];
} fz_conn;

/* The fan-out sink: every record to every output, totals kept. */
typedef struct fz_tee {
    sc_sink   sink;
    sc_sink  *out[3];
    size_t    nout;
    sc_totals totals;
} fz_tee;

typedef struct fz_run {
    const sc_config *cfg;
    fz_tee    tee;
    fz_conn   conns[FZ_CONNS];
    uint64_t  next_id;
    uint64_t  frame;
    struct timeval now;
    uint16_t  port;
    bool      handshake;
    uint64_t  repeat_left;
    uint8_t   frame_buf[FZ_FRAME_HDR + FZ_EVENT_MAX];
} fz_run;

static int fz_get(fz_input *in, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (in->n - in->i < len)
        return -1;
    for (size_t k = 0; k < len; k++)
        v = v << 8 | in->p[in->i++];
    *out = v;
    return 0;
}

static void fz_clock_step(fz_run *r, unsigned step)
{
    static const long usec[4] = { 10000, 1000000, 600000000L, -1000000 };
    long long t = (long long)r->now.tv_sec * 1000000 + r->now.tv_usec + usec[step];

    if (t < 0)
        t = 0;
    r->now.tv_sec = (time_t)(t / 1000000);
    r->now.tv_usec = (suseconds_t)(t % 1000000);
}

static void fz_conn_open(fz_run *r, fz_conn *c, unsigned idx)
{
    memset(c, 0, sizeof *c);
    c->conn.id = ++r->next_id;
    c->conn.client.family = AF_INET;
    c->conn.server.family = AF_INET;
    memcpy(c->conn.client.addr, (uint8_t[]){ 192, 0, 2, (uint8_t)(10 + idx) }, 4);
    memcpy(c->conn.server.addr, (uint8_t[]){ 192, 0, 2, 1 }, 4);
    c->conn.client.port = (uint16_t)(40000 + r->next_id % 20000);
    c->conn.server.port = r->port;
    c->conn.handshake_seen = r->handshake;
    c->conn.first_frame = r->frame;
    c->conn.first_ts = r->now;
    c->seq[0] = 1000;
    c->seq[1] = 5000;
    c->open = true;
    c->smtp = sc_smtp_new(r->cfg, &c->conn, &r->tee.sink, "/nonexistent/fuzz-session.pcap");
    if (!c->smtp)
        abort();
}

/* The frame that carried an event: IPv4 + TCP around the payload. */
static void fz_packet(fz_run *r, fz_conn *c, sc_dir dir, const uint8_t *data,
                      size_t len, uint8_t tcp_flags)
{
    uint8_t *f = r->frame_buf;
    const sc_endpoint *src = dir == SC_DIR_C2S ? &c->conn.client : &c->conn.server;
    const sc_endpoint *dst = dir == SC_DIR_C2S ? &c->conn.server : &c->conn.client;
    size_t tot = FZ_FRAME_HDR + len;

    memset(f, 0, FZ_FRAME_HDR);
    f[0] = 0x45;
    f[2] = (uint8_t)(tot >> 8);
    f[3] = (uint8_t)tot;
    f[8] = 64;
    f[9] = 6;
    memcpy(f + 12, src->addr, 4);
    memcpy(f + 16, dst->addr, 4);
    f[20] = (uint8_t)(src->port >> 8);
    f[21] = (uint8_t)src->port;
    f[22] = (uint8_t)(dst->port >> 8);
    f[23] = (uint8_t)dst->port;
    uint32_t seq = htonl(c->seq[dir]), ack = htonl(c->seq[!dir]);
    memcpy(f + 24, &seq, 4);
    memcpy(f + 28, &ack, 4);
    f[32] = 0x50;
    f[33] = tcp_flags;
    f[34] = 0xff;
    if (len)
        memcpy(f + FZ_FRAME_HDR, data, len);
    c->seq[dir] += (uint32_t)len;

    sc_packet pkt = { .frame = ++r->frame, .ts = r->now, .caplen = (uint32_t)tot,
                      .wirelen = (uint32_t)tot, .linktype = DLT_RAW, .data = f,
                      .l3 = f, .l3_len = (uint32_t)tot, .ipver = 4 };
    r->tee.totals.packets++;
    r->tee.totals.bytes += tot;
    sc_smtp_packet(c->smtp, &pkt);
}

static void fz_event(fz_run *r, fz_conn *c, sc_flow_kind kind, sc_dir dir,
                     const uint8_t *data, size_t len, uint64_t gap, sc_flow_end end)
{
    sc_flow_event ev = { .kind = kind, .dir = dir, .data = data, .len = len,
                         .gap = gap, .end = end, .frame = r->frame, .ts = r->now };

    sc_smtp_event(c->smtp, &ev);
}

static void fz_close(fz_run *r, fz_conn *c, sc_flow_end end)
{
    fz_event(r, c, SC_FLOW_CLOSE, SC_DIR_C2S, NULL, 0, 0, end);
    if (!sc_smtp_done(c->smtp)) {
        fprintf(stderr, "fuzz_session: no session_end after SC_FLOW_CLOSE\n");
        abort();
    }
    sc_smtp_free(c->smtp);
    c->smtp = NULL;
    c->open = false;
}

static void fz_data(fz_run *r, fz_conn *c, sc_dir dir, const uint8_t *p, size_t len)
{
    if (len == 0)
        return;
    fz_packet(r, c, dir, p, len, 0x18);
    fz_event(r, c, SC_FLOW_DATA, dir, p, len, 0, SC_END_CLOSED);
}

/* REPEAT: the pattern count times, in events of at most FZ_EVENT_MAX. */
static void fz_repeat(fz_run *r, fz_conn *c, sc_dir dir, const uint8_t *pat,
                      size_t plen, uint64_t count)
{
    static uint8_t chunk[FZ_EVENT_MAX];
    uint64_t total = plen * count, done = 0;

    if (plen == 0)
        return;
    if (total > r->repeat_left)
        total = r->repeat_left;
    r->repeat_left -= total;
    while (done < total) {
        size_t n = total - done > FZ_EVENT_MAX ? FZ_EVENT_MAX : (size_t)(total - done);
        for (size_t k = 0; k < n; k++)
            chunk[k] = pat[(done + k) % plen];
        fz_data(r, c, dir, chunk, n);
        done += n;
    }
}

static void fz_run_ops(fz_run *r, fz_input *in)
{
    uint64_t v, len;

    while (in->i < in->n) {
        uint8_t op = in->p[in->i++];
        unsigned kind = op & 7, idx = (op >> 4) & 3;
        sc_dir dir = (op & 8) ? SC_DIR_S2C : SC_DIR_C2S;
        fz_conn *c = &r->conns[idx];

        fz_clock_step(r, op >> 6);
        if (kind == 6)
            return;
        if (!c->open)
            fz_conn_open(r, c, idx);
        switch (kind) {
        case 0:
        case 1:
            if (fz_get(in, kind == 0 ? 1 : 2, &len) < 0)
                return;
            if (len > in->n - in->i)
                len = in->n - in->i;
            if (!c->fin[dir])
                fz_data(r, c, dir, in->p + in->i, (size_t)len);
            in->i += (size_t)len;
            break;
        case 2:
            if (c->fin[dir])
                break;
            c->fin[dir] = true;
            fz_packet(r, c, dir, NULL, 0, 0x11);
            fz_event(r, c, SC_FLOW_FIN, dir, NULL, 0, 0, SC_END_CLOSED);
            if (c->fin[!dir])
                fz_close(r, c, SC_END_CLOSED);
            break;
        case 3:
            fz_packet(r, c, dir, NULL, 0, 0x04);
            fz_event(r, c, SC_FLOW_RST, dir, NULL, 0, 0, SC_END_RESET);
            fz_close(r, c, SC_END_RESET);
            break;
        case 4:
            if (fz_get(in, 4, &v) < 0)
                return;
            if (!c->fin[dir] && v) {
                c->seq[dir] += (uint32_t)v;
                fz_event(r, c, SC_FLOW_GAP, dir, NULL, 0, v, SC_END_CLOSED);
            }
            break;
        case 5: {
            uint64_t count;
            if (fz_get(in, 3, &count) < 0 || fz_get(in, 1, &len) < 0)
                return;
            if (len > in->n - in->i)
                len = in->n - in->i;
            if (!c->fin[dir])
                fz_repeat(r, c, dir, in->p + in->i, (size_t)len, count);
            in->i += (size_t)len;
            break;
        }
        case 7:
            if (fz_get(in, 1, &v) < 0)
                return;
            fz_close(r, c, (sc_flow_end)(v % 5));
            break;
        }
    }
}

static void fz_fail(const char *what, const char *out, size_t len, size_t bad)
{
    size_t from = bad > 40 ? bad - 40 : 0;

    fprintf(stderr, "fuzz_session: %s at offset %zu:\n", what, bad);
    for (size_t k = from; k < len && k < bad + 40; k++)
        fprintf(stderr, "%02x%s", (uint8_t)out[k], k + 1 == bad ? "<" : " ");
    fputc('\n', stderr);
    abort();
}

static void fz_tee_begin(sc_sink *s, const sc_session_info *si)
{
    fz_tee *t = s->priv;

    t->totals.sessions++;
    for (size_t k = 0; k < t->nout; k++)
        if (t->out[k]->session_begin)
            t->out[k]->session_begin(t->out[k], si);
}

static void fz_tee_line(sc_sink *s, const sc_session_info *si, const sc_line *l)
{
    fz_tee *t = s->priv;

    for (size_t k = 0; k < t->nout; k++)
        if (t->out[k]->line)
            t->out[k]->line(t->out[k], si, l);
}

static void fz_tee_finding(sc_sink *s, const sc_session_info *si, const sc_finding *f)
{
    fz_tee *t = s->priv;

    if (!f->rule || f->rule->id >= SC_RULE_COUNT || f->severity > SC_SEV_ERROR ||
        f->side == SC_SIDE_EITHER || f->nevidence > SC_EVIDENCE_MAX ||
        (f->suppressed && (f->nevidence || f->suppressed_first > f->frame))) {
        fprintf(stderr, "fuzz_session: malformed finding\n");
        abort();
    }
    t->totals.by_rule[f->rule->id] += sc_finding_count(f);
    t->totals.by_severity[f->severity] += sc_finding_count(f);
    for (size_t k = 0; k < t->nout; k++)
        if (t->out[k]->finding)
            t->out[k]->finding(t->out[k], si, f);
}

static void fz_tee_end(sc_sink *s, const sc_session_info *si)
{
    fz_tee *t = s->priv;

    for (size_t k = 0; k < t->nout; k++)
        if (t->out[k]->session_end)
            t->out[k]->session_end(t->out[k], si);
}

static char fz_evidence_dir[64];

/* At exit: the evidence directory and what the runs left in it. */
static void fz_evidence_clean(void)
{
    DIR *d = opendir(fz_evidence_dir);
    struct dirent *e;
    char path[sizeof fz_evidence_dir + 256];

    if (!d)
        return;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", fz_evidence_dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(fz_evidence_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_run r;
    sc_config cfg;
    char *text = NULL, *json = NULL;
    size_t tlen = 0, jlen = 0, bad;
    char err[256];

    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    fz_input in = { data, size, 1 };

    sc_config_defaults(&cfg);
    cfg.color = 0;
    cfg.quiet = true;
    cfg.profile = (flags & 1) ? SC_PROFILE_RFC821 : SC_PROFILE_RFC5321;
    cfg.show_content = flags & 2;
    cfg.ladder = flags & 4;
    cfg.redact = flags & 8;
    /* --max-findings 1, 4, 7 or 10 (the default): low caps, so that the
     * counts past them are made often */
    cfg.max_findings = 1 + (flags & 3) * 3u;

    memset(&r, 0, sizeof r - sizeof r.frame_buf);
    fz_tee *t = &r.tee;
    t->sink = (sc_sink){ .session_begin = fz_tee_begin, .line = fz_tee_line,
                         .finding = fz_tee_finding, .session_end = fz_tee_end,
                         .priv = t };
    FILE *tfp = open_memstream(&text, &tlen);
    FILE *jfp = open_memstream(&json, &jlen);
    if (!tfp || !jfp)
        abort();
    t->out[t->nout++] = sc_text_sink_new(&cfg, tfp);
    t->out[t->nout++] = sc_json_sink_new(&cfg, jfp, NULL, NULL);
    if (!t->out[0] || !t->out[1])
        abort();
    if (flags & 32) {
        if (!fz_evidence_dir[0]) {
            snprintf(fz_evidence_dir, sizeof fz_evidence_dir,
                     "/dev/shm/smtpscope-fuzz-ev.%ld", (long)getpid());
            mkdir(fz_evidence_dir, 0700);
            atexit(fz_evidence_clean);
        }
        cfg.evidence_dir = fz_evidence_dir;
        t->out[t->nout] = sc_evidence_sink_new(&cfg, fz_evidence_dir, err, sizeof err);
        if (t->out[t->nout])
            t->nout++;
    }

    r.cfg = &cfg;
    r.now = (struct timeval){ 1700000000, 0 };
    r.port = fz_ports[flags >> 6];
    r.handshake = !(flags & 16);
    r.repeat_left = FZ_REPEAT_MAX;
    if (r.handshake)
        r.frame = 3;                     /* the handshake took frames 1-3 */

    fz_run_ops(&r, &in);
    for (unsigned k = 0; k < FZ_CONNS; k++)
        if (r.conns[k].open)
            fz_close(&r, &r.conns[k], SC_END_CAPTURE_END);

    t->totals.files = 1;
    for (size_t k = 0; k < t->nout; k++) {
        if (t->out[k]->finish)
            t->out[k]->finish(t->out[k], &t->totals);
        if (t->out[k]->destroy)
            t->out[k]->destroy(t->out[k]);
    }
    fclose(tfp);
    fclose(jfp);

    if (getenv("FUZZ_SESSION_DUMP")) {         /* triage: show the outputs */
        fwrite(text, 1, tlen, stderr);
        fwrite(json, 1, jlen, stderr);
    }
    if ((bad = fz_text_ok((const uint8_t *)text, tlen, 1)))
        fz_fail("text report carries a terminal control byte", text, tlen, bad);
    if ((bad = fz_jsonl_ok((const uint8_t *)json, jlen)))
        fz_fail("JSON Lines output is not valid JSON", json, jlen, bad);
    free(text);
    free(json);
    return 0;
}
