/*
 * outfix.h - synthetic record streams for the output tests: sessions,
 * transcript lines and findings built by hand, fed to a sink.
 */
#ifndef SC_OUTFIX_H
#define SC_OUTFIX_H

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/config.h"
#include "output/output.h"
#include "common/record.h"

typedef struct fx_session {
    sc_session_info info;
    sc_bytes ext[3];
    sc_bytes rcpt[2];
    sc_txn   txn[1];
    uint64_t seq;
} fx_session;

static inline struct timeval fx_tv(long sec, long usec)
{
    struct timeval tv = { sec, usec };
    return tv;
}

static inline sc_bytes fx_b(const char *s)
{
    sc_bytes b = { (const uint8_t *)s, strlen(s) };
    return b;
}

/* Session id, client 192.0.2.<id>:40000+id -> 198.51.100.25:25, start
 * 2024-01-02T03:04:05.000000Z + id seconds. */
static inline void fx_session_init(fx_session *s, uint64_t id)
{
    memset(s, 0, sizeof *s);
    s->info.id = id;
    s->info.client.family = AF_INET;
    inet_pton(AF_INET, "192.0.2.0", s->info.client.addr);
    s->info.client.addr[3] = (uint8_t)id;
    s->info.client.port = (uint16_t)(40000 + id);
    s->info.server.family = AF_INET;
    inet_pton(AF_INET, "198.51.100.25", s->info.server.addr);
    s->info.server.port = 25;
    s->info.wire_client = s->info.client;   /* no pseudonyms: the packets' own */
    s->info.wire_server = s->info.server;
    s->info.start = fx_tv(1704164645 + (long)id, 0);
    s->info.end = fx_tv(1704164645 + (long)id + 1, 500000);
    s->info.first_frame = id * 100;
    s->info.last_frame = id * 100 + 20;
    s->info.frames = 21;
    s->info.handshake_seen = true;
    s->ext[0] = fx_b("PIPELINING");
    s->ext[1] = fx_b("SIZE 10240000");
    s->ext[2] = fx_b("8BITMIME");
    s->info.extensions = s->ext;
    s->info.next = 3;
    s->info.close_by = SC_CLOSE_CLIENT;
    s->info.close_how = SC_HOW_FIN;
    s->info.close_after = "quit";
    s->rcpt[0] = fx_b("TO:<rcpt1@example.com>");
    s->rcpt[1] = fx_b("TO:<rcpt2@example.com>");
    s->txn[0].mail_from = fx_b("FROM:<sender@example.org> SIZE=1000");
    s->txn[0].nrcpt = 3;
    s->txn[0].nrcpt_kept = 2;
    s->txn[0].rcpt_to = s->rcpt;
    s->txn[0].result = SC_TXN_ACCEPTED;
    s->txn[0].reply = fx_b("250 2.0.0 Ok: queued as 4Tq");
    s->txn[0].content_bytes = 2113;
    s->info.txn = s->txn;
    s->info.ntxn = 1;
    s->info.ntxn_kept = 1;
    s->info.capture_file = "test.pcap";
}

static inline sc_line fx_line(fx_session *s, uint64_t frame, long usec_after, sc_dir dir,
                       sc_line_kind kind, const void *text, size_t len)
{
    sc_line l;
    memset(&l, 0, sizeof l);
    l.frame = frame;
    l.ts = s->info.start;
    l.ts.tv_sec += usec_after / 1000000;
    l.ts.tv_usec += usec_after % 1000000;
    l.dir = dir;
    l.kind = kind;
    l.text = text;
    l.len = len;
    l.seq = s->seq++;
    return l;
}

static inline void fx_send_line(sc_sink *k, fx_session *s, uint64_t frame, long usec, sc_dir dir,
                         sc_line_kind kind, const char *text)
{
    sc_line l = fx_line(s, frame, usec, dir, kind, text, strlen(text));
    if (k->line)
        k->line(k, &s->info, &l);
}

/* A finding of rule in session s, following its latest line. */
static inline sc_finding fx_finding(fx_session *s, const char *rule, sc_severity sev,
                                    uint64_t frame)
{
    sc_finding f;
    memset(&f, 0, sizeof f);
    f.rule = sc_rule_by_name(rule);
    f.side = f.rule->side == SC_SIDE_EITHER ? SC_SIDE_CLIENT : f.rule->side;
    f.severity = sev;
    f.frame = frame;
    f.ts = s->info.start;
    f.after_line = s->seq ? s->seq - 1 : 0;
    return f;
}

static inline void fx_send_finding(sc_sink *k, fx_session *s, const char *rule, sc_severity sev,
                            uint64_t frame, const char *msg)
{
    sc_finding f = fx_finding(s, rule, sev, frame);
    snprintf(f.message, sizeof f.message, "%s", msg);
    s->info.findings[sev]++;
    if (k->finding)
        k->finding(k, &s->info, &f);
}

/* The count of findings past --max-findings, as a session sends it at its
 * end (src/session/smtp_emit.c). */
static inline void fx_send_more(sc_sink *k, fx_session *s, const char *rule, sc_severity sev,
                                uint64_t first, uint64_t last, uint64_t count)
{
    sc_finding f = fx_finding(s, rule, sev, last);
    f.suppressed = count;
    f.suppressed_first = first;
    snprintf(f.message, sizeof f.message, "and %llu more in this session (frames #%llu-#%llu), "
             "not shown", (unsigned long long)count, (unsigned long long)first,
             (unsigned long long)last);
    s->info.findings[sev] += count;
    if (k->finding)
        k->finding(k, &s->info, &f);
}

/* Reads a whole (small) temporary file into a NUL-terminated buffer. */
static inline char *fx_slurp(FILE *fp, size_t *lenp)
{
    long n;
    char *buf;

    fflush(fp);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    n = (long)fread(buf, 1, (size_t)n, fp);
    buf[n] = '\0';
    if (lenp)
        *lenp = (size_t)n;
    fseek(fp, 0, SEEK_END);
    return buf;
}

#endif
