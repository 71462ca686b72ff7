/*
 * analyzer.c - all the sessions of a run (sc_analyzer, src/session/session.h).
 *
 * Implements sc_flow_handler for the reassembler: one sc_smtp per
 * connection, whose records go to every sink through the fan-out
 * (fanout.c), which counts the totals as they pass.
 *
 * - --session ID: other connections are followed by the reassembler but
 *   not analysed, reported or counted.
 * - Port 465 (implicit TLS): the session is listed as tls, not analysed
 *   (sc_smtp does this from the server port), unless --tls-keylog has its
 *   key; the same when the client's first bytes are a TLS ClientHello.
 * - --any-port: a connection to a port that is not an SMTP port becomes a
 *   session only when both sides speak SMTP (anyport.c: a greeting, and
 *   a client line with an SMTP verb); its events until then are held and
 *   replayed into the session, so that a client talking first
 *   (pregreeting) is seen on any port. One that is not SMTP is dropped
 *   with what was held, never printed, and counted in the totals
 *   (not_smtp) when it carried bytes.
 * - TLS: with a key log every event goes through the connection's TLS
 *   bridge (src/session/tls_bridge.c) before the session: the records
 *   after STARTTLS (or of implicit TLS) become plaintext events. Without
 *   one only the first bytes are looked at (a ClientHello: implicit TLS)
 *   and no bridge is made. The key
 *   log is read once here; --write-streams DIR also receives the
 *   plaintext (session-ID.c2s.tls, .s2c.tls). A pcapng capture file that
 *   carries TLS key log lines in Decryption Secrets Blocks adds them to
 *   the key log (one is made when --tls-keylog is not given): each file
 *   is looked at as the run names it (sc_analyzer_set_file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "common/frame.h"
#include "anyport.h"
#include "common/safeprint.h"
#include "session.h"
#include "tls_bridge.h"

typedef enum an_state { AN_ANALYSE, AN_WAIT_VERDICT, AN_SKIP } an_state;

/* Per connection. The session itself is created at the first stream
 * bytes (data or a gap), so that a connection that never carries data (a
 * flood of SYNs, a connection refused with RST, a port scan) costs this
 * record only and is not an SMTP session at all: nothing of SMTP happened
 * on it, so no SMTP rule can apply. The packets and the FIN/RST events
 * seen before the first bytes are replayed into the session when it
 * starts. */
#define AN_EARLY_MAX 4

typedef struct an_conn {
    an_state  state;
    sc_smtp  *s;
    uint64_t  npkt;            /* packets before the session existed */
    sc_packet first, last;     /* (frame and time only) */
    unsigned  nearly;          /* FIN/RST events before the first bytes */
    sc_flow_event *early;      /* AN_EARLY_MAX, allocated at the first such
                                * event and freed when the session starts:
                                * 350 bytes most connections never use */
    sc_anyport    *ap;         /* --any-port, until the verdict */
    sc_tls_bridge *tls;        /* with a key log, at the first event of the session */
    bool           spoke;      /* without: bytes were seen (sc_tls_bridge_first) */
    char           name[48];   /* --write-streams name, for the plaintext */
} an_conn;

struct sc_analyzer {
    const sc_config *cfg;
    sc_fanout        fan;       /* the outputs and the totals */
    const char      *file;
    sc_flow_handler  h;
    sc_keylog       *keylog;       /* --tls-keylog */
    sc_smtp         *spare;        /* the memory of the last session ended, for the next */
};

/* ---- the flow handler ---- */

static void an_session_start(sc_analyzer *a, sc_conn *conn, an_conn *ac)
{
    /* several files as one capture: the file of the session's first frame */
    const char *file = sc_frame_path(conn->first_frame);

    ac->s = sc_smtp_new_in(a->spare, a->cfg, conn, &a->fan.sink, file ? file : a->file);
    a->spare = NULL;
    ac->state = ac->s ? AN_ANALYSE : AN_SKIP;
    if (!ac->s)
        return;
    sc_smtp_lines_to(ac->s, sc_fanout_lines(&a->fan));
    for (uint64_t i = 0; i < ac->npkt; i++)
        sc_smtp_packet(ac->s, i == 0 ? &ac->first : &ac->last);
}

static void an_open(void *ctx, sc_conn *conn)
{
    sc_analyzer *a = ctx;
    an_conn *ac = calloc(1, sizeof *ac);

    conn->user = ac;
    if (!ac)
        return;
    if (a->cfg->only_session && conn->id != a->cfg->only_session) {
        ac->state = AN_SKIP;
        return;
    }
    if (a->cfg->any_port && !sc_config_is_smtp_port(a->cfg, conn->server.port)) {
        ac->state = AN_WAIT_VERDICT;
        return;
    }
    ac->state = AN_ANALYSE;
}

/* The TLS layer between the stream and the session: true when it took
 * the event (see src/tls/tls.h). */
static bool an_tls(sc_analyzer *a, const sc_conn *conn, an_conn *ac, const sc_flow_event *ev)
{
    if (!a->keylog) {           /* only a ClientHello as the first bytes matters */
        if (!ac->spoke)
            ac->spoke = sc_tls_bridge_first(ac->s, ev);
        return false;
    }
    if (!ac->tls && a->cfg->write_streams) {
        if (a->cfg->nfiles > 1)
            snprintf(ac->name, sizeof ac->name, "%llu-session-%llu",
                     (unsigned long long)a->fan.totals.files, (unsigned long long)conn->id);
        else
            snprintf(ac->name, sizeof ac->name, "session-%llu", (unsigned long long)conn->id);
    }
    return sc_tls_bridge_event(&ac->tls, a->keylog, ac->s, ev, a->cfg->write_streams,
                               ac->name);
}

typedef struct an_replay {
    sc_analyzer *a;
    sc_conn     *conn;
    an_conn     *ac;
} an_replay;

/* A held event, into the session as if it came now. */
static void an_feed(void *ctx, const sc_flow_event *ev)
{
    an_replay *r = ctx;

    if (r->ac->s && !an_tls(r->a, r->conn, r->ac, ev))
        sc_smtp_event(r->ac->s, ev);
}

/* --any-port, an undecided connection: the event goes to the verdict;
 * true when it is to go on to the session (the verdict SMTP with the
 * event not held). */
static bool an_any_port(sc_analyzer *a, sc_conn *conn, an_conn *ac, const sc_flow_event *ev)
{
    bool held;
    sc_anyport_verdict v = sc_anyport_event(&ac->ap, ev, &held);

    if (v == SC_ANYPORT_WAIT)
        return false;
    if (v == SC_ANYPORT_NOT) {
        if (sc_anyport_had_bytes(ac->ap))
            a->fan.totals.not_smtp++;
        ac->state = AN_SKIP;
    } else {
        ac->state = AN_ANALYSE;
        an_replay r = { a, conn, ac };
        an_session_start(a, conn, ac);
        sc_anyport_replay(ac->ap, an_feed, &r);
    }
    sc_anyport_free(ac->ap);
    ac->ap = NULL;
    return v == SC_ANYPORT_SMTP && !held && ac->s;
}

static void an_conn_free(sc_analyzer *a, sc_conn *conn, an_conn *ac)
{
    sc_tls_bridge_free(ac->tls);
    if (ac->s && !a->spare)
        a->spare = sc_smtp_end(ac->s);
    else if (ac->s)
        sc_smtp_free(ac->s);
    sc_anyport_free(ac->ap);
    free(ac->early);
    free(ac);
    conn->user = NULL;
}

static void an_event(void *ctx, sc_conn *conn, const sc_flow_event *ev)
{
    sc_analyzer *a = ctx;
    an_conn *ac = conn->user;

    if (!ac)
        return;
    if (ac->state == AN_WAIT_VERDICT && !an_any_port(a, conn, ac, ev)) {
        if (ev->kind == SC_FLOW_CLOSE)
            an_conn_free(a, conn, ac);
        return;
    }
    if (ac->state == AN_ANALYSE && !ac->s) {
        if (ev->kind == SC_FLOW_FIN || ev->kind == SC_FLOW_RST) {
            if (!ac->early)
                ac->early = calloc(AN_EARLY_MAX, sizeof *ac->early);
            if (ac->early && ac->nearly < AN_EARLY_MAX)
                ac->early[ac->nearly++] = *ev;    /* no data pointer in these */
            return;
        }
        if (ev->kind == SC_FLOW_DATA || ev->kind == SC_FLOW_GAP) {
            an_session_start(a, conn, ac);
            for (unsigned i = 0; ac->s && ac->early && i < ac->nearly; i++)
                sc_smtp_event(ac->s, &ac->early[i]);
            free(ac->early);
            ac->early = NULL;
        }
    }
    /* Without a key log, once the first bytes were looked at, TLS takes
     * nothing: most events go straight to the session. */
    if (ac->s && ((!a->keylog && ac->spoke) || !an_tls(a, conn, ac, ev)))
        sc_smtp_event(ac->s, ev);
    if (ev->kind == SC_FLOW_CLOSE)
        an_conn_free(a, conn, ac);
}

static void an_packet(void *ctx, sc_conn *conn, const sc_packet *pkt)
{
    an_conn *ac = conn->user;

    (void)ctx;
    if (!ac)
        return;
    if (ac->s) {
        sc_smtp_packet(ac->s, pkt);
        return;
    }
    sc_packet *keep = ac->npkt++ == 0 ? &ac->first : &ac->last;
    keep->frame = pkt->frame;
    keep->ts = pkt->ts;
    keep->caplen = pkt->caplen;
    keep->wirelen = pkt->wirelen;
}

sc_analyzer *sc_analyzer_new(const sc_config *cfg, sc_sink **sinks, size_t nsinks)
{
    sc_analyzer *a = calloc(1, sizeof *a);

    if (!a)
        return NULL;
    a->cfg = cfg;
    sc_fanout_init(&a->fan, sinks, nsinks);
    a->h = (sc_flow_handler){ .open = an_open, .event = an_event,
                              .packet = an_packet, .ctx = a };
    if (cfg->ntls_keylogs) {
        char err[512];
        a->fan.totals.keylog = true;
        a->keylog = sc_keylog_open(cfg->tls_keylogs, cfg->ntls_keylogs, err, sizeof err);
        if (!a->keylog) {
            fputs("smtpscope: ", stderr);
            sc_safe_fputstr(stderr, err);   /* names the key log file */
            fputs(": TLS is not decrypted\n", stderr);
        }
    }
    return a;
}

const sc_flow_handler *sc_analyzer_handler(sc_analyzer *a)
{
    return &a->h;
}

static void an_secrets(void *ctx, const uint8_t *p, size_t n)
{
    sc_analyzer *a = ctx;
    char err[64];

    if (!a->keylog && !(a->keylog = sc_keylog_open(NULL, 0, err, sizeof err)))
        return;
    a->fan.totals.keylog = true;
    (void)sc_keylog_add_text(a->keylog, p, n);
}

void sc_analyzer_set_file(sc_analyzer *a, const char *capture_file)
{
    a->file = capture_file;
    a->fan.totals.files++;
    (void)sc_capture_pcapng_secrets(capture_file, SC_SECRETS_TLS_KEYLOG, an_secrets, a);
}

void sc_analyzer_set_live(sc_analyzer *a, const char *iface, uint64_t received,
                          uint64_t dropped_kernel, uint64_t dropped_iface)
{
    a->fan.totals.iface = iface;
    a->fan.totals.received = received;
    a->fan.totals.dropped_kernel = dropped_kernel;
    a->fan.totals.dropped_iface = dropped_iface;
    a->fan.totals.dropped = dropped_kernel + dropped_iface;
}

void sc_analyzer_set_damaged(sc_analyzer *a, const char *reason)
{
    sc_totals *t = &a->fan.totals;

    if (t->damaged++ == 0)
        snprintf(t->damage, sizeof t->damage, "%s", reason);
}

sc_fanout *sc_analyzer_fanout(sc_analyzer *a)
{
    return &a->fan;
}

void sc_analyzer_finish(sc_analyzer *a, sc_totals *out)
{
    sc_fanout_finish(&a->fan);
    if (out)
        *out = a->fan.totals;
}

void sc_analyzer_free(sc_analyzer *a)
{
    if (a) {
        sc_keylog_free(a->keylog);
        free(a->spare);
    }
    free(a);
}
