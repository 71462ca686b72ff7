/*
 * analyzer.c - all the sessions of a run (sc_analyzer, include/session.h).
 *
 * Implements sc_flow_handler for the reassembler: one sc_smtp per
 * connection, records fanned out to every sink, totals per rule and per
 * severity counted as findings pass (so they match what was reported; a
 * record of findings past --max-findings counts as many as it stands for).
 *
 * - --session ID: other connections are followed by the reassembler but
 *   not analysed, reported or counted.
 * - Port 465 (implicit TLS): the session is listed as tls, not analysed
 *   (sc_smtp does this from the server port).
 * - --any-port: a connection to a port that is not an SMTP port becomes a
 *   session only when the server's first bytes read as a greeting
 *   ("220", or "554"/"421" refusing, then SP, "-" or CRLF); until then its
 *   events are dropped, so such a session starts at the greeting.
 */
#include <stdlib.h>
#include <string.h>

#include "session.h"

typedef enum an_state { AN_ANALYSE, AN_WAIT_GREETING, AN_SKIP } an_state;

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
    sc_flow_event early[AN_EARLY_MAX];
} an_conn;

struct sc_analyzer {
    const sc_config *cfg;
    sc_sink        **sinks;
    size_t           nsinks;
    sc_sink          fan;
    sc_totals        totals;
    const char      *file;
    sc_flow_handler  h;
};

/* ---- the fan-out sink handed to each session ---- */

static void an_fan_begin(sc_sink *k, const sc_session_info *si)
{
    sc_analyzer *a = k->priv;

    a->totals.sessions++;
    for (size_t i = 0; i < a->nsinks; i++)
        if (a->sinks[i]->session_begin)
            a->sinks[i]->session_begin(a->sinks[i], si);
}

static void an_fan_line(sc_sink *k, const sc_session_info *si, const sc_line *l)
{
    sc_analyzer *a = k->priv;

    for (size_t i = 0; i < a->nsinks; i++)
        if (a->sinks[i]->line)
            a->sinks[i]->line(a->sinks[i], si, l);
}

static void an_fan_finding(sc_sink *k, const sc_session_info *si, const sc_finding *f)
{
    sc_analyzer *a = k->priv;

    a->totals.by_rule[f->rule->id] += sc_finding_count(f);
    a->totals.by_severity[f->severity] += sc_finding_count(f);
    for (size_t i = 0; i < a->nsinks; i++)
        if (a->sinks[i]->finding)
            a->sinks[i]->finding(a->sinks[i], si, f);
}

static void an_fan_end(sc_sink *k, const sc_session_info *si)
{
    sc_analyzer *a = k->priv;

    for (size_t i = 0; i < a->nsinks; i++)
        if (a->sinks[i]->session_end)
            a->sinks[i]->session_end(a->sinks[i], si);
}

/* ---- the flow handler ---- */

static void an_session_start(sc_analyzer *a, sc_conn *conn, an_conn *ac)
{
    ac->s = sc_smtp_new(a->cfg, conn, &a->fan, a->file);
    ac->state = ac->s ? AN_ANALYSE : AN_SKIP;
    if (!ac->s)
        return;
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
        ac->state = AN_WAIT_GREETING;
        return;
    }
    ac->state = AN_ANALYSE;
}

/* A server greeting: "220", "554" or "421", then SP, "-" or CR/LF. */
static bool an_is_greeting(const uint8_t *p, size_t n)
{
    if (n < 4)
        return false;
    if (memcmp(p, "220", 3) != 0 && memcmp(p, "554", 3) != 0 && memcmp(p, "421", 3) != 0)
        return false;
    return p[3] == ' ' || p[3] == '-' || p[3] == '\r' || p[3] == '\n';
}

static void an_event(void *ctx, sc_conn *conn, const sc_flow_event *ev)
{
    sc_analyzer *a = ctx;
    an_conn *ac = conn->user;

    if (!ac)
        return;
    if (ac->state == AN_WAIT_GREETING && ev->kind == SC_FLOW_DATA && ev->dir == SC_DIR_S2C)
        ac->state = an_is_greeting(ev->data, ev->len) ? AN_ANALYSE : AN_SKIP;
    if (ac->state == AN_ANALYSE && !ac->s) {
        if (ev->kind == SC_FLOW_FIN || ev->kind == SC_FLOW_RST) {
            if (ac->nearly < AN_EARLY_MAX)
                ac->early[ac->nearly++] = *ev;    /* no data pointer in these */
            return;
        }
        if (ev->kind == SC_FLOW_DATA || ev->kind == SC_FLOW_GAP) {
            an_session_start(a, conn, ac);
            for (unsigned i = 0; ac->s && i < ac->nearly; i++)
                sc_smtp_event(ac->s, &ac->early[i]);
        }
    }
    if (ac->state == AN_WAIT_GREETING && ev->kind != SC_FLOW_CLOSE &&
        ev->kind != SC_FLOW_DATA)
        ac->state = AN_SKIP;     /* closed or broken before any greeting */
    if (ac->s)
        sc_smtp_event(ac->s, ev);
    if (ev->kind == SC_FLOW_CLOSE) {
        if (ac->s)
            sc_smtp_free(ac->s);
        free(ac);
        conn->user = NULL;
    }
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
    a->sinks = sinks;
    a->nsinks = nsinks;
    a->fan = (sc_sink){ .session_begin = an_fan_begin, .line = an_fan_line,
                        .finding = an_fan_finding, .session_end = an_fan_end,
                        .priv = a };
    a->h = (sc_flow_handler){ .open = an_open, .event = an_event,
                              .packet = an_packet, .ctx = a };
    return a;
}

const sc_flow_handler *sc_analyzer_handler(sc_analyzer *a)
{
    return &a->h;
}

void sc_analyzer_set_file(sc_analyzer *a, const char *capture_file)
{
    a->file = capture_file;
    a->totals.files++;
}

void sc_analyzer_count_packet(sc_analyzer *a, const sc_packet *pkt)
{
    a->totals.packets++;
    a->totals.bytes += pkt->caplen;
}

void sc_analyzer_add_dropped(sc_analyzer *a, uint64_t n)
{
    a->totals.dropped += n;
}

void sc_analyzer_finish(sc_analyzer *a, sc_totals *out)
{
    for (size_t i = 0; i < a->nsinks; i++)
        if (a->sinks[i]->finish)
            a->sinks[i]->finish(a->sinks[i], &a->totals);
    if (out)
        *out = a->totals;
}

void sc_analyzer_free(sc_analyzer *a)
{
    free(a);
}
