/*
 * json.c - JSON Lines (sc_json_sink_new, src/output/output.h).
 *
 * One object per line, each with "type" (docs/json-schema.md):
 *   finding  written when it fires (a live reader sees it at once); past
 *            --max-findings, one per rule and side at the session's end,
 *            with "suppressed": the count and frame range of the rest,
 *   session  written when the session ends,
 *   peer     per server and client address (peers.h), before the summary,
 *            and on demand (sc_json_write_peers),
 *   summary  written last, with the schema version.
 * Each session and finding object stands alone (schema 2): it names its
 * flow (addresses and ports, Community ID), where it was seen (sensor,
 * capture file or interface) and carries a uid unique across runs: the
 * run's 64 random bits from the kernel, the capture file's place on the
 * command line and the session id (docs/json-schema.md).
 * Each object is made in a buffer of its own (jsonbuf.h) and then written
 * whole, to the output and, with --syslog, to the tee (one message per
 * object, the same bytes without the newline).
 * Strings go through the one JSON escaper (sc_json_escape), so every line
 * is valid JSON whatever bytes the wire carried; only the program's own
 * names (rules, severities, ...: test_json checks them), addresses, the
 * Community ID and times are copied as they are. Numbers are unsigned
 * integers; times RFC 3339 UTC with microseconds. When the output is not a regular file, each line is
 * flushed as it is written.
 *
 * Diagnostics: sc_json_sink_new returns NULL when the kernel gives no
 * random bytes for the run id; a write error is said once at the end
 * (src/common/wcheck.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "communityid.h"
#include "jsonbuf.h"
#include "peers.h"
#include "common/frame.h"
#include "outfmt.h"
#include "output.h"
#include "common/wcheck.h"
#include "common/safeprint.h"

#define SC_JSON_SCHEMA "2.1"

#ifndef SC_VERSION
#define SC_VERSION "0.0.0"
#endif

/* A session's flow as each of its lines names it (json_origin): the two
 * addresses as text and the Community ID. A session's findings and its
 * session line all carry them, so they are made once per session and
 * kept here, in the sink, rather than in sc_session_info: the -j replay
 * builds its infos from wire records, and no other output needs them. A
 * slot is chosen by session id but matched by the endpoints, from which
 * everything in it follows, so a slot another session took is only made
 * again, never wrong. Findings come while their session is open, between
 * the lines of the other open sessions: JSON_FLOWS slots hold a gateway's
 * concurrent sessions (a few hundred), in a fixed 45 KB. */
#define JSON_FLOWS 256

typedef struct json_flow {
    sc_endpoint client, server;
    bool        made;
    uint8_t     src_len, dest_len;          /* 0: no address (null) */
    char        src[INET6_ADDRSTRLEN], dest[INET6_ADDRSTRLEN];
    char        cid[SC_COMMUNITY_ID_LEN];   /* "" when there is none: null */
} json_flow;

typedef struct json_sink {
    sc_sink          sink;
    const sc_config *cfg;
    sc_jbuf          out;      /* the line being made */
    FILE            *dest;     /* where lines go (NULL: only to the tee) */
    sc_json_tee      tee;      /* --syslog */
    void            *tee_ctx;
    bool             flush;
    sc_peers        *peers;    /* per-peer summaries, or NULL */
    char             sensor[SC_SENSOR_MAX + 1];  /* --sensor, or the host name */
    char             run[17];  /* 64 random bits, hex: this run in every uid */
    sc_cid          *cid;      /* the Community ID's hasher (NULL: ids are null) */
    sc_jbuf          where;    /* ,"uid":"<run>-<file>- | ","sensor":..,"interface":.. */
    size_t           where_mid;    /* where the session id goes in it */
    const char      *where_file;   /* the capture file it was made for */
    bool             where_made;
    json_flow        flows[JSON_FLOWS];
} json_sink;

/* A finding's severity as syslog's (RFC 5424: err, warning, info). */
static const int json_syslog_severity[3] = {
    [SC_SEV_INFO] = SC_SYSLOG_INFO, [SC_SEV_WARNING] = 4, [SC_SEV_ERROR] = 3
};

/* A frame, after its key: its number while the capture is one file,
 * else its name ("c2.pcap#17", interface.md) as a string. */
static void json_frame(sc_jbuf *o, uint64_t frame)
{
    if (sc_frame_named())
        sc_jb_cstr(o, sc_frame_name(frame));
    else
        sc_jb_u64(o, frame);
}

/* One of the program's own names (rules, severities, sides, close,
 * result and peer role names): tests/unit/test_json.c checks that the
 * escaper leaves every one as it is. */
static void json_name(sc_jbuf *o, const char *s)
{
    sc_jb_plain(o, s, strlen(s));
}

static void json_bytes(sc_jbuf *o, sc_bytes b)
{
    if (!b.p)
        sc_jb_raw(o, "null", 4);
    else
        sc_jb_str(o, b.p, b.len);
}

/* The time as a string, formatted in place. */
static void json_time(sc_jbuf *o, const struct timeval *tv)
{
    char *t = sc_jb_room(o, 40);

    if (!t)
        return;
    size_t n = strlen(sc_fmt_rfc3339(tv, t + 1, 38));
    t[0] = '"';
    t[n + 1] = '"';
    o->len += n + 2;
}

/* "ip:port" ("[v6]:port"), as sc_endpoint_str writes it, from the
 * address the flow made ("?" when there is none). */
static void json_endpoint(sc_jbuf *o, const sc_endpoint *ep, const char *addr, size_t len)
{
    char *t = sc_jb_room(o, 2 + 1 + INET6_ADDRSTRLEN + 2 + SC_U64_DIGITS), *p = t;
    bool v6 = ep->family == AF_INET6;

    if (!t)
        return;
    *p++ = '"';
    if (v6)
        *p++ = '[';
    if (len) {
        memcpy(p, addr, len);
        p += len;
    } else {
        *p++ = '?';
    }
    if (v6)
        *p++ = ']';
    *p++ = ':';
    p = sc_u64_put(p, ep->port);
    *p++ = '"';
    o->len += (size_t)(p - t);
}

/* The address of an endpoint without its port. */
static void json_addr(sc_jbuf *o, const sc_endpoint *ep)
{
    char a[INET6_ADDRSTRLEN];

    if (sc_addr_str(ep, a, sizeof a))
        sc_jb_plain(o, a, strlen(a));
    else
        SC_JB_LIT(o, "null");
}

/* Where the capture file is on the command line, from 1; 0 live. Files
 * are told apart by place, not name: `-r a.pcap a.pcap` reads two. */
static unsigned json_file_number(const json_sink *j, const char *file)
{
    for (size_t i = 0; file && i < j->cfg->nfiles; i++)
        if (j->cfg->files[i] == file)
            return (unsigned)i + 1;
    for (size_t i = 0; file && i < j->cfg->nfiles; i++)
        if (strcmp(j->cfg->files[i], file) == 0)
            return (unsigned)i + 1;
    return 0;
}

static bool json_endpoint_same(const sc_endpoint *a, const sc_endpoint *b)
{
    return a->family == b->family && a->port == b->port &&
           memcmp(a->addr, b->addr, sizeof a->addr) == 0;
}

static const json_flow *json_flow_of(json_sink *j, const sc_session_info *info)
{
    json_flow *f = &j->flows[info->id % JSON_FLOWS];

    if (f->made && json_endpoint_same(&f->client, &info->client) &&
        json_endpoint_same(&f->server, &info->server))
        return f;
    f->client = info->client;
    f->server = info->server;
    f->src_len = sc_addr_str(&info->client, f->src, sizeof f->src) ? (uint8_t)strlen(f->src) : 0;
    f->dest_len = sc_addr_str(&info->server, f->dest, sizeof f->dest) ? (uint8_t)strlen(f->dest) : 0;
    sc_cid_format(j->cid, &info->client, &info->server, f->cid);
    f->made = true;
    return f;
}

/* The parts of every line that are the same for a capture file: the
 * uid up to the session id (the run and the file's place) and, after it,
 * where the line was seen, escaped once per file. The file names are the
 * configuration's strings, which live through the run, so the pointer
 * tells them apart (two files of the same name too). */
static void json_where(json_sink *j, const char *file)
{
    sc_jbuf *w = &j->where;

    sc_jb_reset(w);
    SC_JB_LIT(w, ",\"uid\":\"");
    sc_jb_raw(w, j->run, sizeof j->run - 1);
    sc_jb_char(w, '-');
    sc_jb_u64(w, json_file_number(j, file));
    sc_jb_char(w, '-');
    j->where_mid = w->len;
    SC_JB_LIT(w, "\",\"sensor\":");
    sc_jb_cstr(w, j->sensor);
    SC_JB_LIT(w, ",\"file\":");
    sc_jb_cstr(w, file);
    SC_JB_LIT(w, ",\"interface\":");
    sc_jb_cstr(w, j->cfg->iface);
    j->where_file = file;
    j->where_made = !w->lost;
}

/* An address of the flow, or null. */
static void json_flow_addr(sc_jbuf *o, const char *addr, size_t len)
{
    if (len)
        sc_jb_plain(o, addr, len);
    else
        SC_JB_LIT(o, "null");
}

/* What makes a session's or finding's line stand alone: its uid, the
 * sensor and capture source, and the flow under the names Suricata's
 * eve.json gives them (client = src, server = dest). The flow, which
 * the line may want again (session: client, server). */
static const json_flow *json_origin(json_sink *j, const sc_session_info *info)
{
    sc_jbuf *o = &j->out;
    const json_flow *f = json_flow_of(j, info);

    if (!j->where_made || j->where_file != info->capture_file)
        json_where(j, info->capture_file);
    if (!j->where_made) {
        sc_jb_lose(o);          /* said when the line ends */
        return f;
    }
    sc_jb_raw(o, j->where.p, j->where_mid);
    sc_jb_u64(o, info->id);
    sc_jb_raw(o, j->where.p + j->where_mid, j->where.len - j->where_mid);
    SC_JB_LIT(o, ",\"src_ip\":");
    json_flow_addr(o, f->src, f->src_len);
    SC_JB_LIT(o, ",\"src_port\":");
    sc_jb_u64(o, info->client.port);
    SC_JB_LIT(o, ",\"dest_ip\":");
    json_flow_addr(o, f->dest, f->dest_len);
    SC_JB_LIT(o, ",\"dest_port\":");
    sc_jb_u64(o, info->server.port);
    SC_JB_LIT(o, ",\"community_id\":");
    if (f->cid[0])
        sc_jb_plain(o, f->cid, SC_COMMUNITY_ID_LEN - 1);
    else
        SC_JB_LIT(o, "null");
    return f;
}

/* The object is complete: out to the destination with its newline and
 * to the tee without, each as one whole line; the buffer is emptied for
 * the next. type and severity (syslog's 0-7) are for the tee. */
static void json_line_end(json_sink *j, const char *type, int severity)
{
    sc_jbuf *o = &j->out;

    sc_jb_raw(o, "}\n", 2);
    if (o->lost) {
        sc_write_lost("JSON", ENOMEM, "an object is missing");
    } else {
        if (j->dest) {
            fwrite(o->p, 1, o->len, j->dest);   /* checked: ferror, below and at the end */
            if (j->flush)
                sc_write_check(j->dest, "standard output", "the report is incomplete");
        }
        if (j->tee)
            j->tee(j->tee_ctx, type, severity, o->p, o->len - 1);
    }
    sc_jb_reset(o);
}

static bool json_session_wanted(const json_sink *j, const sc_session_info *info)
{
    return !j->cfg->only_session || info->id == j->cfg->only_session;
}

static void json_finding(sc_sink *s, const sc_session_info *info, const sc_finding *f)
{
    json_sink *j = s->priv;
    sc_jbuf *o = &j->out;

    if (!json_session_wanted(j, info))
        return;
    SC_JB_LIT(o, "{\"type\":\"finding\",\"session\":");
    sc_jb_u64(o, info->id);
    json_origin(j, info);
    SC_JB_LIT(o, ",\"rule\":");
    json_name(o, f->rule ? f->rule->name : "unknown");
    SC_JB_LIT(o, ",\"side\":");
    json_name(o, sc_side_name(f->side));
    SC_JB_LIT(o, ",\"severity\":");
    json_name(o, sc_severity_name(f->severity));
    SC_JB_LIT(o, ",\"frame\":");
    json_frame(o, f->frame);
    SC_JB_LIT(o, ",\"time\":");
    json_time(o, &f->ts);
    SC_JB_LIT(o, ",\"rfc\":");
    if (f->rule)
        json_name(o, f->rule->cite);
    else
        SC_JB_LIT(o, "null");
    SC_JB_LIT(o, ",\"message\":");
    sc_jb_str(o, (const uint8_t *)f->message, strnlen(f->message, sizeof f->message));
    SC_JB_LIT(o, ",\"evidence\":[");
    for (size_t i = 0; i < f->nevidence && i < SC_EVIDENCE_MAX; i++) {
        const sc_evidence *ev = &f->evidence[i];
        if (i)
            sc_jb_char(o, ',');
        SC_JB_LIT(o, "{\"frame\":");
        json_frame(o, ev->frame);
        if (ev->dir == SC_DIR_S2C)
            SC_JB_LIT(o, ",\"dir\":\"S\",\"line\":");
        else
            SC_JB_LIT(o, ",\"dir\":\"C\",\"line\":");
        json_bytes(o, (sc_bytes){ ev->text, ev->len });
        sc_jb_char(o, '}');
    }
    sc_jb_char(o, ']');
    if (f->suppressed) {
        SC_JB_LIT(o, ",\"suppressed\":{\"count\":");
        sc_jb_u64(o, f->suppressed);
        SC_JB_LIT(o, ",\"first_frame\":");
        json_frame(o, f->suppressed_first);
        SC_JB_LIT(o, ",\"last_frame\":");
        json_frame(o, f->frame);
        sc_jb_char(o, '}');
    }
    json_line_end(j, "finding", json_syslog_severity[f->severity % 3]);
}

static void json_transactions(sc_jbuf *o, const sc_session_info *info)
{
    SC_JB_LIT(o, ",\"transactions\":[");
    for (size_t i = 0; info->txn && i < info->ntxn_kept; i++) {
        const sc_txn *x = &info->txn[i];
        if (i)
            sc_jb_char(o, ',');
        SC_JB_LIT(o, "{\"mail_from\":");
        json_bytes(o, sc_fmt_path_arg(x->mail_from));
        SC_JB_LIT(o, ",\"rcpt_to\":[");
        for (size_t r = 0; x->rcpt_to && r < x->nrcpt_kept; r++) {
            if (r)
                sc_jb_char(o, ',');
            json_bytes(o, sc_fmt_path_arg(x->rcpt_to[r]));
        }
        SC_JB_LIT(o, "],\"rcpt_total\":");
        sc_jb_u64(o, x->nrcpt);
        SC_JB_LIT(o, ",\"result\":");
        json_name(o, sc_fmt_txn_result(x->result));
        SC_JB_LIT(o, ",\"reply\":");
        json_bytes(o, x->reply);
        SC_JB_LIT(o, ",\"content_bytes\":");
        sc_jb_u64(o, x->content_bytes);
        sc_jb_char(o, '}');
    }
    SC_JB_LIT(o, "],\"transactions_total\":");
    sc_jb_u64(o, info->ntxn);
}

static void json_session_end(sc_sink *s, const sc_session_info *info)
{
    json_sink *j = s->priv;
    sc_jbuf *o = &j->out;
    uint64_t nf = sc_fmt_findings_total(info);
    const json_flow *f;

    if (!json_session_wanted(j, info) || (j->cfg->only_findings && nf == 0))
        return;
    SC_JB_LIT(o, "{\"type\":\"session\",\"id\":");
    sc_jb_u64(o, info->id);
    f = json_origin(j, info);
    SC_JB_LIT(o, ",\"client\":");
    json_endpoint(o, &info->client, f->src, f->src_len);
    SC_JB_LIT(o, ",\"server\":");
    json_endpoint(o, &info->server, f->dest, f->dest_len);
    SC_JB_LIT(o, ",\"start\":");
    json_time(o, &info->start);
    SC_JB_LIT(o, ",\"end\":");
    json_time(o, &info->end);
    SC_JB_LIT(o, ",\"first_frame\":");
    json_frame(o, info->first_frame);
    SC_JB_LIT(o, ",\"last_frame\":");
    json_frame(o, info->last_frame);
    SC_JB_LIT(o, ",\"frames\":");
    sc_jb_u64(o, info->frames);
    SC_JB_LIT(o, ",\"bytes\":{\"c2s\":");
    sc_jb_u64(o, info->bytes_c2s);
    SC_JB_LIT(o, ",\"s2c\":");
    sc_jb_u64(o, info->bytes_s2c);
    SC_JB_LIT(o, "},\"handshake\":");
    sc_jb_bool(o, info->handshake_seen);
    SC_JB_LIT(o, ",\"tls\":");
    sc_jb_bool(o, info->tls || info->tls_state);
    if (info->tls_state) {      /* --tls-keylog */
        SC_JB_LIT(o, ",\"tls_decryption\":{\"state\":");
        sc_jb_cstr(o, info->tls_state);
        if (info->tls_version) {
            SC_JB_LIT(o, ",\"version\":");
            sc_jb_cstr(o, info->tls_version);
        }
        if (info->tls_cipher) {
            SC_JB_LIT(o, ",\"cipher\":");
            sc_jb_cstr(o, info->tls_cipher);
        }
        SC_JB_LIT(o, ",\"notes\":");
        sc_jb_u64(o, info->tls_notes);
        sc_jb_char(o, '}');
    }
    SC_JB_LIT(o, ",\"seq_untrusted\":");
    sc_jb_bool(o, info->seq_untrusted);
    SC_JB_LIT(o, ",\"reasm_dropped\":");
    sc_jb_u64(o, info->reasm_dropped);
    if (info->reasm_untaken) {     /* rare: only when there is one */
        SC_JB_LIT(o, ",\"reasm_untaken\":");
        sc_jb_u64(o, info->reasm_untaken);
    }
    SC_JB_LIT(o, ",\"extensions\":[");
    for (size_t i = 0; info->extensions && i < info->next; i++) {
        if (i)
            sc_jb_char(o, ',');
        json_bytes(o, info->extensions[i]);
    }
    SC_JB_LIT(o, "],\"close\":{\"by\":");
    json_name(o, sc_fmt_close_by(info->close_by));
    SC_JB_LIT(o, ",\"how\":");
    json_name(o, sc_fmt_close_how(info->close_how));
    SC_JB_LIT(o, ",\"after\":");
    sc_jb_cstr(o, info->close_after);
    if (info->c2s_after_server_fin) {  /* half-close-while-sending */
        SC_JB_LIT(o, ",\"client_bytes_after_fin\":");
        sc_jb_u64(o, info->c2s_after_server_fin);
    }
    sc_jb_char(o, '}');
    json_transactions(o, info);
    SC_JB_LIT(o, ",\"findings\":");
    sc_jb_u64(o, nf);
    SC_JB_LIT(o, ",\"findings_by_severity\":{\"error\":");
    sc_jb_u64(o, info->findings[SC_SEV_ERROR]);
    SC_JB_LIT(o, ",\"warning\":");
    sc_jb_u64(o, info->findings[SC_SEV_WARNING]);
    SC_JB_LIT(o, ",\"info\":");
    sc_jb_u64(o, info->findings[SC_SEV_INFO]);
    sc_jb_char(o, '}');
    json_line_end(j, "session", SC_SYSLOG_INFO);
}

/* One "peer" object: a server or client address, the name it gave, its
 * sessions and, per rule, the sessions that had it, their share and the
 * findings. */
static void json_peer(json_sink *j, const sc_peer *p, bool final)
{
    sc_jbuf *o = &j->out;
    bool first = true;

    SC_JB_LIT(o, "{\"type\":\"peer\",\"role\":");
    json_name(o, sc_peer_role_name(p->role));
    SC_JB_LIT(o, ",\"ip\":");
    json_addr(o, &p->addr);
    SC_JB_LIT(o, ",\"name\":");
    json_bytes(o, (sc_bytes){ p->name_len ? p->name : NULL, p->name_len });
    SC_JB_LIT(o, ",\"other_names\":");
    sc_jb_u64(o, p->other_names);
    SC_JB_LIT(o, ",\"sensor\":");
    sc_jb_cstr(o, j->sensor);
    SC_JB_LIT(o, ",\"run\":");
    sc_jb_plain(o, j->run, sizeof j->run - 1);
    if (final)
        SC_JB_LIT(o, ",\"final\":true,\"sessions\":");
    else
        SC_JB_LIT(o, ",\"final\":false,\"sessions\":");
    sc_jb_u64(o, p->sessions);
    SC_JB_LIT(o, ",\"rules\":[");
    for (unsigned i = 0; i < SC_RULE_COUNT; i++) {
        char share[32];
        int n;
        if (!p->findings[i] && !p->with_rule[i])
            continue;
        if (!first)
            sc_jb_char(o, ',');
        SC_JB_LIT(o, "{\"rule\":");
        json_name(o, sc_rules[i].name);
        SC_JB_LIT(o, ",\"sessions\":");
        sc_jb_u64(o, p->with_rule[i]);
        SC_JB_LIT(o, ",\"share\":");
        /* printf's rounding of the double, to the digit */
        n = snprintf(share, sizeof share, "%.4f",
                     p->sessions ? (double)p->with_rule[i] / (double)p->sessions : 0.0);
        if (n > 0 && (size_t)n < sizeof share)
            sc_jb_raw(o, share, (size_t)n);
        else
            sc_jb_lose(o);
        SC_JB_LIT(o, ",\"findings\":");
        sc_jb_u64(o, p->findings[i]);
        sc_jb_char(o, '}');
        first = false;
    }
    sc_jb_char(o, ']');
    json_line_end(j, "peer", SC_SYSLOG_INFO);
}

static void json_peers(json_sink *j, bool final)
{
    for (int r = SC_PEER_SERVER; r <= SC_PEER_CLIENT; r++) {
        const sc_peer *const *v;
        size_t n = sc_peers_sorted(j->peers, (sc_peer_role)r, &v);
        for (size_t i = 0; i < n; i++)
            json_peer(j, v[i], final);
    }
}

static size_t json_peer_count(json_sink *j, sc_peer_role role)
{
    const sc_peer *const *v;

    return sc_peers_sorted(j->peers, role, &v);
}

void sc_json_set_peers(sc_sink *s, sc_peers *peers)
{
    ((json_sink *)s->priv)->peers = peers;
}

void sc_json_write_peers(sc_sink *s)
{
    json_sink *j = s->priv;

    if (j->peers)
        json_peers(j, false);
}

static void json_finish(sc_sink *s, const sc_totals *t)
{
    json_sink *j = s->priv;
    sc_jbuf *o = &j->out;
    bool first = true;

    if (j->peers)               /* the per-peer summaries, then the summary */
        json_peers(j, true);
    sc_jb_printf(o, "{\"type\":\"summary\",\"schema\":\"%s\",\"version\":", SC_JSON_SCHEMA);
    sc_jb_cstr(o, SC_VERSION);
    sc_jb_key(o, "sensor");
    sc_jb_cstr(o, j->sensor);
    sc_jb_printf(o, ",\"run\":\"%s\"", j->run);
    sc_jb_printf(o, ",\"files\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
            ",\"sessions\":%" PRIu64 ",\"findings\":{", t->files, t->packets, t->bytes,
            t->sessions);
    for (unsigned i = 0; i < SC_RULE_COUNT; i++)
        if (t->by_rule[i]) {
            sc_jb_printf(o, "%s", first ? "" : ",");
            sc_jb_cstr(o, sc_rules[i].name);
            sc_jb_printf(o, ":%" PRIu64, t->by_rule[i]);
            first = false;
        }
    sc_jb_printf(o, "},\"findings_by_severity\":{\"error\":%" PRIu64 ",\"warning\":%" PRIu64
            ",\"info\":%" PRIu64 "},\"dropped\":%" PRIu64, t->by_severity[SC_SEV_ERROR],
            t->by_severity[SC_SEV_WARNING], t->by_severity[SC_SEV_INFO], t->dropped);
    if (t->keylog)              /* --tls-keylog */
        sc_jb_printf(o, ",\"tls\":{\"encrypted\":%" PRIu64 ",\"decrypted\":%" PRIu64
                ",\"no_key\":%" PRIu64 "}", t->tls_encrypted, t->tls_decrypted, t->tls_no_key);
    sc_jb_printf(o, ",\"reasm_dropped\":%" PRIu64, t->reasm_dropped);
    if (t->frag.fragments) {    /* schema 2.1, optional */
        static const char *const why[SC_FRAG_REASONS] = {
            [SC_FRAG_TIMEOUT] = "timeout", [SC_FRAG_INCOMPLETE] = "incomplete",
            [SC_FRAG_OVERLAP] = "overlap", [SC_FRAG_LIMIT] = "limit",
            [SC_FRAG_TOO_BIG] = "too_big", [SC_FRAG_MALFORMED] = "malformed",
        };
        sc_jb_printf(o, ",\"fragments\":{\"read\":%" PRIu64 ",\"datagrams\":%" PRIu64
                ",\"duplicates\":%" PRIu64 ",\"overlap_v4\":%" PRIu64 ",\"dropped\":{",
                t->frag.fragments, t->frag.datagrams, t->frag.duplicates, t->frag.overlap_v4);
        for (int i = 0; i < SC_FRAG_REASONS; i++)
            sc_jb_printf(o, "%s\"%s\":%" PRIu64, i ? "," : "", why[i], t->frag.dropped[i]);
        sc_jb_puts(o, "}}");
    }
    if (t->chain_dropped)       /* schema 2.1 */
        sc_jb_printf(o, ",\"ipv6_chain_dropped\":%" PRIu64, t->chain_dropped);
    if (t->malformed_dropped)
        sc_jb_printf(o, ",\"malformed_dropped\":%" PRIu64, t->malformed_dropped);
    if (j->cfg->any_port)       /* schema 2.1, optional: flows dropped as not SMTP */
        sc_jb_printf(o, ",\"not_smtp\":%" PRIu64, t->not_smtp);
    if (j->peers)               /* schema 2.1 */
        sc_jb_printf(o, ",\"peers\":{\"server\":%zu,\"client\":%zu,\"beyond\":{\"server\":%"
                PRIu64 ",\"client\":%" PRIu64 "}}", json_peer_count(j, SC_PEER_SERVER),
                json_peer_count(j, SC_PEER_CLIENT), sc_peers_beyond(j->peers, SC_PEER_SERVER),
                sc_peers_beyond(j->peers, SC_PEER_CLIENT));
    if (t->syslog) {            /* --syslog (schema 2.1) */
        const sc_delivery *d = t->syslog;
        sc_jb_key(o, "syslog");
        sc_jb_puts(o, "{\"dest\":");
        sc_jb_cstr(o, d->dest);
        sc_jb_printf(o, ",\"sent\":%" PRIu64 ",\"queued\":%" PRIu64 ",\"dropped\":%" PRIu64
                ",\"lost\":%" PRIu64 ",\"queue_peak\":%" PRIu64 ",\"queue_cap\":%" PRIu64
                ",\"connects\":%" PRIu64 "}", d->sent, d->queued, d->dropped, d->lost,
                d->queue_peak, d->queue_cap, d->connects);
    }
    if (t->damaged) {           /* schema 2.1: the analysis ended early */
        sc_jb_printf(o, ",\"incomplete\":{\"inputs\":%" PRIu64 ",\"reason\":", t->damaged);
        sc_jb_cstr(o, t->damage);
        sc_jb_char(o, '}');
    }
    if (t->iface) {             /* live: where, and pcap_stats (schema 1.1) */
        sc_jb_key(o, "live");
        sc_jb_puts(o, "{\"interface\":");
        sc_jb_cstr(o, t->iface);
        sc_jb_printf(o, ",\"received\":%" PRIu64 ",\"dropped_kernel\":%" PRIu64
                ",\"dropped_interface\":%" PRIu64 "}", t->received, t->dropped_kernel,
                t->dropped_iface);
    }
    json_line_end(j, "summary", SC_SYSLOG_INFO);
    if (j->dest)
        sc_write_check(j->dest, "standard output", "the report is incomplete");
}

static void json_destroy(sc_sink *s)
{
    json_sink *j = s->priv;

    sc_jb_free(&j->out);
    sc_jb_free(&j->where);
    sc_cid_free(j->cid);
    free(j);
}

/* The run's id: 64 bits from the kernel's random source, so that two
 * runs (on one sensor or many, at the same second, with the same pid
 * after a reboot) never share a uid; nothing about the machine leaks. */
static int json_run_id(char run[17])
{
    uint8_t r[8];

    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(run + 2 * i, 3, "%02x", r[i]);
    return 0;
}

sc_sink *sc_json_sink_new(const sc_config *cfg, FILE *out, sc_json_tee tee, void *tee_ctx)
{
    json_sink *j = calloc(1, sizeof *j);

    if (!j)
        return NULL;
    if (json_run_id(j->run) < 0) {
        free(j);
        return NULL;
    }
    j->cid = sc_cid_new();     /* NULL: every community_id null, as before */
    sc_fmt_sensor(cfg, j->sensor, sizeof j->sensor);
    j->cfg = cfg;
    j->dest = out;
    j->tee = tee;
    j->tee_ctx = tee_ctx;
    j->flush = out && sc_output_is_stream(out);
    j->sink = (sc_sink){ NULL, NULL, json_finding, json_session_end, json_finish,
                         json_destroy, j };
    return &j->sink;
}
