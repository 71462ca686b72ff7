/*
 * test_reasm.c - the reassembler (src/reasm/reasm.h) fed with IPv4 and IPv6
 * TCP packets built here; the flow events are written to a log string and
 * compared with what must come out.
 *
 * Log tokens: O<id><h|m> open (handshake seen / mid-stream), D<dir>:<bytes>
 * data (consecutive data of one direction merged), G<dir>:<n> gap,
 * L<dir>:<n> bytes dropped by reassembly,
 * F<dir>@<frame> FIN, R<dir>@<frame> RST, C<end> close (0 closed, 1 reset,
 * 2 timeout, 3 capture end, 4 evicted). dir 0 is client to server.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "reasm/reasm.h"
#include "tap.h"

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10
#define URG 0x20

typedef struct tb {
    sc_config   cfg;
    sc_reasm   *r;
    uint64_t    frame;
    long        usec;
    char        log[1 << 16];
    int         last_kind;
    int         last_dir;
    sc_endpoint client, server;
    uint64_t    data_frame;       /* frame of the last data event */
    uint64_t    bytes[2], gaps[2], limit_gaps[2];
    uint64_t    peer_at[2];       /* of the last gap */
    uint32_t    hash[2];          /* FNV-1a of every data byte, by direction */
    bool        quiet;            /* count only, do not log data */
    bool        seq_untrusted;    /* a data event's connection said so */
    uint64_t    untaken[2];       /* the connection's count at its close */
} tb;

/* What the IPv4 total length field says (offloaded captures lie). */
typedef enum totlen { TOT_TRUE, TOT_ZERO, TOT_WRAPPED } totlen;

/* The options every packet can carry. */
typedef struct popt {
    bool bad_ipsum, bad_tcpsum, hopbyhop, truncate, fragment;
    uint8_t extra_flags;
    totlen tot;
    unsigned pad;                 /* link-layer padding captured after the packet */
    unsigned mss;                 /* an MSS option with this value (SYNs) */
} popt;

#define BIG_MAX 140000            /* largest payload tb_tcp builds */

static uint32_t fnv(uint32_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void tb_log(tb *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_log(tb *t, const char *fmt, ...)
{
    size_t n = strlen(t->log);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->log + n, sizeof t->log - n, fmt, ap);
    va_end(ap);
}

static void h_open(void *ctx, sc_conn *c)
{
    tb *t = ctx;

    tb_log(t, "%sO%llu%c", *t->log ? " " : "", (unsigned long long)c->id, c->handshake_seen ? 'h' : 'm');
    t->client = c->client;
    t->server = c->server;
    t->last_kind = -1;
    t->hash[0] = t->hash[1] = 2166136261u;
}

static void h_event(void *ctx, sc_conn *c, const sc_flow_event *ev)
{
    tb *t = ctx;

    switch (ev->kind) {
    case SC_FLOW_DATA:
        t->bytes[ev->dir] += ev->len;
        t->hash[ev->dir] = fnv(t->hash[ev->dir], ev->data, ev->len);
        t->data_frame = ev->frame;
        t->seq_untrusted |= c->seq_untrusted;
        if (t->quiet)
            break;
        if (t->last_kind == SC_FLOW_DATA && t->last_dir == (int)ev->dir)
            tb_log(t, "%.*s", (int)ev->len, (const char *)ev->data);
        else
            tb_log(t, " D%d:%.*s", ev->dir, (int)ev->len, (const char *)ev->data);
        break;
    case SC_FLOW_GAP:
        t->gaps[ev->dir] += ev->gap;
        if (ev->limit)
            t->limit_gaps[ev->dir] += ev->gap;
        t->peer_at[ev->dir] = ev->peer_at;
        if (!t->quiet)
            tb_log(t, " %s%d:%llu", ev->limit ? "L" : "G", ev->dir, (unsigned long long)ev->gap);
        break;
    case SC_FLOW_FIN: tb_log(t, " F%d@%llu", ev->dir, (unsigned long long)ev->frame); break;
    case SC_FLOW_RST: tb_log(t, " R%d@%llu", ev->dir, (unsigned long long)ev->frame); break;
    case SC_FLOW_CLOSE:
        tb_log(t, " C%d", ev->end);
        t->untaken[0] = c->untaken[0];
        t->untaken[1] = c->untaken[1];
        break;
    }
    t->last_kind = ev->kind;
    t->last_dir = ev->dir;
}

static const sc_flow_handler handler_template = { h_open, h_event, NULL, NULL };

static void tb_start(tb *t)
{
    char err[256];
    sc_flow_handler h = handler_template;

    h.ctx = t;
    t->r = sc_reasm_new(&t->cfg, &h, err, sizeof err);
    if (!t->r) {
        printf("FAIL: sc_reasm_new: %s\n", err);
        exit(1);
    }
    t->frame = 0;
    t->log[0] = 0;
    t->last_kind = -1;
}

static tb *tb_new(void)
{
    tb *t = calloc(1, sizeof *t);

    sc_config_defaults(&t->cfg);
    tb_start(t);
    return t;
}

static void tb_end(tb *t)
{
    struct timeval ts = { 1000, t->usec };

    sc_reasm_finish(t->r, t->frame, ts);
    sc_reasm_free(t->r);
    t->r = NULL;
}

static uint16_t cksum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

/* Feeds one TCP packet; src/dst are IPv4 or IPv6 text addresses. */
static void tb_tcp(tb *t, const char *src, unsigned sport, const char *dst, unsigned dport,
                   uint32_t seq, uint32_t ack, uint8_t flags, const void *data, size_t len,
                   const popt *o)
{
    static uint8_t buf[BIG_MAX + 200];
    popt none = { 0 };
    bool v6 = strchr(src, ':') != NULL;
    size_t ipl = v6 ? 40 : 20, ext = 0, tcpoff, thl;
    uint8_t *tcp;
    sc_packet pkt;

    if (!o)
        o = &none;
    memset(buf, 0, 80);
    if (v6 && o->hopbyhop)
        ext = 8;
    tcpoff = ipl + ext;
    tcp = buf + tcpoff;
    thl = o->mss ? 24 : 20;
    if (o->mss) {
        tcp[20] = 2;
        tcp[21] = 4;
        put16(tcp + 22, o->mss);
    }
    put16(tcp, sport);
    put16(tcp + 2, dport);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = (uint8_t)(thl / 4) << 4;
    tcp[13] = flags | o->extra_flags;
    put16(tcp + 14, 8192);
    if (o->extra_flags & URG)
        put16(tcp + 18, 1);
    memcpy(tcp + thl, data, len);
    if (v6) {
        buf[0] = 0x60;
        put16(buf + 4, (unsigned)(ext + thl + len));
        buf[6] = ext ? 0 : 6;
        buf[7] = 64;
        inet_pton(AF_INET6, src, buf + 8);
        inet_pton(AF_INET6, dst, buf + 24);
        if (ext) {
            buf[40] = 6;      /* hop-by-hop: next header TCP, 8 bytes of padding */
            buf[41] = 0;
        }
        {
            uint32_t sum = 0;
            uint8_t ph[40];
            memcpy(ph, buf + 8, 32);
            put32(ph + 32, (uint32_t)(thl + len));
            put32(ph + 36, 6);
            for (int i = 0; i < 40; i += 2) sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
            put16(tcp + 16, cksum(tcp, thl + len, sum));
        }
    } else {
        buf[0] = 0x45;
        put16(buf + 2, (unsigned)(20 + thl + len));
        buf[8] = 64;
        buf[9] = 6;
        inet_pton(AF_INET, src, buf + 12);
        inet_pton(AF_INET, dst, buf + 16);
        put16(buf + 10, cksum(buf, 20, 0));
        {
            uint32_t sum = 0;
            for (int i = 12; i < 20; i += 2) sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
            sum += 6 + (uint32_t)(thl + len);
            put16(tcp + 16, cksum(tcp, thl + len, sum));
        }
        if (o->tot != TOT_TRUE) {
            /* The length field as segmentation offload leaves it; the IP
             * checksum is left as computed (offload leaves it wrong too). */
            put16(buf + 2, o->tot == TOT_ZERO ? 0 : (unsigned)((20 + thl + len) & 0xffff));
        }
        if (o->bad_ipsum)
            buf[10] ^= 0x55;
    }
    if (o->bad_tcpsum)
        tcp[16] ^= 0xaa;
    memset(&pkt, 0, sizeof pkt);
    pkt.frame = ++t->frame;
    t->usec += 1000;
    pkt.ts.tv_sec = 1000 + t->usec / 1000000;
    pkt.ts.tv_usec = t->usec % 1000000;
    pkt.data = buf;
    pkt.l3 = buf;
    pkt.l3_len = (uint32_t)(tcpoff + thl + len);
    if (o->pad) {
        memset(buf + pkt.l3_len, 'P', o->pad);
        pkt.l3_len += o->pad;
    }
    if (o->truncate)
        pkt.l3_len -= (uint32_t)len / 2;     /* snap length cut the payload */
    pkt.caplen = pkt.wirelen = pkt.l3_len;
    pkt.ipver = v6 ? 6 : 4;
    if (o->fragment && !v6) {
        /* Two IPv4 fragments: 24 bytes of the TCP segment, then the rest. */
        static uint8_t f2[BIG_MAX + 200];
        size_t rest = thl + len - 24;
        memcpy(f2, buf, 20);
        memcpy(f2 + 20, buf + 20 + 24, rest);
        put16(f2 + 2, (unsigned)(20 + rest));
        put16(f2 + 6, 24 / 8);
        f2[10] = f2[11] = 0;
        put16(f2 + 10, cksum(f2, 20, 0));
        put16(buf + 2, 20 + 24);
        put16(buf + 6, 0x2000);                  /* more fragments */
        buf[10] = buf[11] = 0;
        put16(buf + 10, cksum(buf, 20, 0));
        pkt.l3_len = pkt.caplen = pkt.wirelen = 44;
        sc_reasm_packet(t->r, &pkt);
        pkt.frame = ++t->frame;
        pkt.data = pkt.l3 = f2;
        pkt.l3_len = pkt.caplen = pkt.wirelen = (uint32_t)(20 + rest);
    }
    sc_reasm_packet(t->r, &pkt);
}

/* The usual peers: client 10.0.0.1:40000, server 10.0.0.2:25; ISNs 1000 and 5000. */
#define CA "10.0.0.1"
#define SA "10.0.0.2"
#define CP 40000
#define SP 25
static void c2s(tb *t, uint32_t seq, uint32_t ack, uint8_t fl, const char *s, const popt *o)
{
    tb_tcp(t, CA, CP, SA, SP, seq, ack, fl, s, strlen(s), o);
}
static void s2c(tb *t, uint32_t seq, uint32_t ack, uint8_t fl, const char *s, const popt *o)
{
    tb_tcp(t, SA, SP, CA, CP, seq, ack, fl, s, strlen(s), o);
}
static void handshake(tb *t)
{
    c2s(t, 1000, 0, SYN, "", NULL);
    s2c(t, 5000, 1001, SYN | ACK, "", NULL);
    c2s(t, 1001, 5001, ACK, "", NULL);
}

/* The log with CR and LF made visible, for one-line test messages. */
static const char *shown(const char *s)
{
    static char buf[1 << 17];
    size_t n = 0;

    for (; *s && n + 3 < sizeof buf; s++) {
        if (*s == '\r' || *s == '\n') {
            buf[n++] = '\\';
            buf[n++] = *s == '\r' ? 'r' : 'n';
        } else
            buf[n++] = *s;
    }
    buf[n] = 0;
    return buf;
}

static void expect_log(tb *t, const char *want, const char *name)
{
    T_CHECK(strcmp(t->log, want) == 0, "%s (got \"%s\")", name, shown(t->log));
}

static void test_in_order(void)
{
    tb *t = tb_new();

    handshake(t);
    s2c(t, 5001, 1001, ACK | PSH, "220 hi\r\n", NULL);
    c2s(t, 1001, 5009, ACK | PSH, "EHLO x\r\n", NULL);
    s2c(t, 5009, 1009, ACK | PSH, "250 ok\r\n", NULL);
    c2s(t, 1009, 5017, ACK | FIN, "", NULL);
    s2c(t, 5017, 1010, ACK | FIN, "", NULL);
    c2s(t, 1010, 5018, ACK, "", NULL);
    expect_log(t, "O1h D1:220 hi\r\n D0:EHLO x\r\n D1:250 ok\r\n F0@7 F1@8 C0", "in order, FINs by side, closed");
    T_CHECK(t->client.port == CP && t->server.port == SP && t->client.family == AF_INET,
            "client is the SYN sender");
    tb_end(t);
    free(t);
}

static void test_split_retrans_overlap_ooo(void)
{
    tb *t = tb_new();

    handshake(t);
    c2s(t, 1001, 5001, ACK, "EH", NULL);
    c2s(t, 1003, 5001, ACK, "LO x\r\n", NULL);                 /* split command */
    c2s(t, 1001, 5001, ACK, "EHLO x\r\n", NULL);               /* retransmission */
    c2s(t, 1014, 5001, ACK, "FROM:<a>\r\n", NULL);             /* out of order */
    c2s(t, 1009, 5001, ACK, "MAIL F", NULL);                   /* overlaps the next one */
    c2s(t, 1024, 5001, ACK, "RCPT", NULL);
    c2s(t, 1021, 5001, ACK, ">\r\nRCPT TO:<b>\r\n", NULL);     /* overlap both sides */
    tb_end(t);
    expect_log(t, "O1h D0:EHLO x\r\nMAIL FROM:<a>\r\nRCPT TO:<b>\r\n C3",
               "split, retransmitted, out-of-order and overlapping segments");
    free(t);
}

static void test_ooo_frame(void)
{
    tb *t = tb_new();

    handshake(t);
    c2s(t, 1005, 5001, ACK, " x\r\n", NULL);      /* frame 4 */
    c2s(t, 1001, 5001, ACK, "EHLO", NULL);        /* frame 5 delivers both */
    T_CHECK(t->data_frame == 5, "out-of-order bytes carry the frame that delivered them (%llu)",
            (unsigned long long)t->data_frame);
    tb_end(t);
    free(t);
}

static void test_bad_checksums(void)
{
    tb *t = tb_new();
    popt bad_ip = { .bad_ipsum = true }, bad_tcp = { .bad_tcpsum = true };

    handshake(t);
    s2c(t, 5001, 1001, ACK, "220 hi\r\n", &bad_tcp);
    c2s(t, 1001, 5009, ACK, "QUIT\r\n", &bad_ip);
    tb_end(t);
    expect_log(t, "O1h D1:220 hi\r\n D0:QUIT\r\n C3", "bad IP and TCP checksums (offload) are accepted");
    free(t);
}

static void test_mid_stream(void)
{
    tb *t = tb_new();

    s2c(t, 5001, 1001, ACK | PSH, "250 ok\r\n", NULL);
    c2s(t, 1001, 5009, ACK | PSH, "QUIT\r\n", NULL);
    s2c(t, 5009, 1007, ACK | PSH, "221 bye\r\n", NULL);
    tb_end(t);
    expect_log(t, "O1m D1:250 ok\r\n D0:QUIT\r\n D1:221 bye\r\n C3", "mid-stream capture is followed");
    T_CHECK(t->client.port == CP, "mid-stream: the client is the non-SMTP port");
    free(t);

    /* A bare ACK of an unknown connection opens nothing. */
    t = tb_new();
    c2s(t, 1001, 5009, ACK, "", NULL);
    tb_end(t);
    expect_log(t, "", "a bare ACK opens no session");
    free(t);
}

static void test_ipv6(void)
{
    tb *t = tb_new();
    const char *c6 = "2001:db8::1", *s6 = "2001:db8::25";
    popt hbh = { .hopbyhop = true };
    uint8_t want[16];

    tb_tcp(t, c6, CP, s6, SP, 1000, 0, SYN, "", 0, NULL);
    tb_tcp(t, s6, SP, c6, CP, 5000, 1001, SYN | ACK, "", 0, NULL);
    tb_tcp(t, c6, CP, s6, SP, 1001, 5001, ACK, "", 0, NULL);
    tb_tcp(t, s6, SP, c6, CP, 5001, 1001, ACK, "220 v6\r\n", 8, &hbh);
    tb_tcp(t, c6, CP, s6, SP, 1001, 5009, ACK | FIN, "QUIT\r\n", 6, NULL);
    tb_end(t);
    expect_log(t, "O1h D1:220 v6\r\n D0:QUIT\r\n F0@5 C3", "IPv6 with a hop-by-hop header");
    inet_pton(AF_INET6, c6, want);
    T_CHECK(t->client.family == AF_INET6 && memcmp(t->client.addr, want, 16) == 0,
            "IPv6 connection reported with its real addresses");
    free(t);
}

/* An IPv6 connection is given to libnids under synthetic addresses from
 * 240.0.0.0/4; a real IPv4 flow with those very addresses and ports must
 * not take its place. */
static void test_v6_beside_240(void)
{
    tb *t = tb_new();
    const char *c6 = "2001:db8::1", *s6 = "2001:db8::25";
    const char *c4 = "240.0.0.0", *s4 = "240.0.0.1";

    tb_tcp(t, c6, CP, s6, SP, 1000, 0, SYN, "", 0, NULL);
    tb_tcp(t, s6, SP, c6, CP, 5000, 1001, SYN | ACK, "", 0, NULL);
    tb_tcp(t, c6, CP, s6, SP, 1001, 5001, ACK, "", 0, NULL);
    tb_tcp(t, c4, CP, s4, SP, 7000, 0, SYN, "", 0, NULL);
    tb_tcp(t, s4, SP, c4, CP, 9000, 7001, SYN | ACK, "", 0, NULL);
    tb_tcp(t, c4, CP, s4, SP, 7001, 9001, ACK, "", 0, NULL);
    tb_tcp(t, s6, SP, c6, CP, 5001, 1001, ACK, "220 six\r\n", 9, NULL);
    tb_tcp(t, s4, SP, c4, CP, 9001, 7001, ACK, "220 four\r\n", 10, NULL);
    tb_tcp(t, c6, CP, s6, SP, 1001, 5010, ACK, "QUIT six\r\n", 10, NULL);
    tb_tcp(t, c4, CP, s4, SP, 7001, 9011, ACK, "QUIT four\r\n", 11, NULL);
    tb_end(t);
    expect_log(t, "O1h O2h D1:220 six\r\n220 four\r\n D0:QUIT six\r\nQUIT four\r\n C3 C3",
               "a real IPv4 flow in 240.0.0.0/4 beside an IPv6 connection: both whole");
    free(t);
}

/* A retransmission captured after the connection ended (a span port's
 * late copy) repeats bytes already delivered: not a new session. New
 * bytes on the same ports are one. */
static void test_late_retransmission(void)
{
    tb *t = tb_new();

    handshake(t);
    s2c(t, 5001, 1001, ACK, "221 bye\r\n", NULL);
    c2s(t, 1001, 5010, RST | ACK, "", NULL);
    s2c(t, 5001, 1001, ACK, "221 bye\r\n", NULL);
    expect_log(t, "O1h D1:221 bye\r\n R0@5 C1", "a retransmission after the RST opens no session");
    s2c(t, 5010, 1001, ACK, "more\r\n", NULL);
    tb_end(t);
    expect_log(t, "O1h D1:221 bye\r\n R0@5 C1 O2m D1:more\r\n C3", "new bytes after the RST: a new session");
    free(t);
}

/* Both FINs ready at once (the client's FIN captured ahead of the reply it
 * acknowledges): the one that acknowledges the other's came second. */
static void test_fin_order_by_ack(void)
{
    tb *t = tb_new();

    handshake(t);
    c2s(t, 1001, 5001, ACK, "QUIT\r\n", NULL);
    c2s(t, 1007, 5011, FIN | ACK, "", NULL);      /* acknowledges 221 and the server's FIN */
    s2c(t, 5001, 1007, ACK, "221 bye\r\n", NULL);
    s2c(t, 5010, 1007, FIN | ACK, "", NULL);
    tb_end(t);
    expect_log(t, "O1h D0:QUIT\r\n D1:221 bye\r\n F1@7 F0@5 C0", "the server's FIN first: the client's acknowledges it");
    free(t);
}

static void test_rst(void)
{
    tb *t = tb_new();

    handshake(t);
    s2c(t, 5001, 1001, ACK, "220 hi\r\n", NULL);
    s2c(t, 5009, 1001, RST | ACK, "", NULL);
    expect_log(t, "O1h D1:220 hi\r\n R1@5 C1", "RST reported with the server as sender");
    tb_end(t);
    free(t);

    t = tb_new();
    c2s(t, 1000, 0, SYN, "", NULL);
    s2c(t, 0, 1001, RST | ACK, "", NULL);
    expect_log(t, "O1h R1@2 C1", "refused connection: RST before the handshake");
    tb_end(t);
    free(t);
}

static void test_gap(void)
{
    tb *t = tb_new();

    handshake(t);
    s2c(t, 5001, 1001, ACK, "220 hi\r\n", NULL);
    /* "MAIL FROM:<a>\r\n" (15 bytes, seq 1001) never captured */
    s2c(t, 5009, 1016, ACK, "250 ok\r\n", NULL);
    expect_log(t, "O1h D1:220 hi\r\n", "lost segment: the reply that acknowledges it waits");
    c2s(t, 1016, 5017, ACK, "QUIT\r\n", NULL);
    expect_log(t, "O1h D1:220 hi\r\n", "lost segment: the client sends from beyond it, "
               "the next packet may still bring it (a capture swaps neighbours)");
    s2c(t, 5017, 1022, ACK, "221 bye\r\n", NULL);
    expect_log(t, "O1h D1:220 hi\r\n G0:15 D1:250 ok\r\n D0:QUIT\r\n D1:221 bye\r\n",
               "lost segment: gap reported before the reply that acknowledged it, "
               "once the client sent from beyond it and one more packet did not bring it");
    T_CHECK(t->peer_at[0] == 8, "the gap is placed before byte 8 of the server stream (%llu)",
            (unsigned long long)t->peer_at[0]);
    tb_end(t);
    free(t);

    /* The same with the lost segment in the next packet: two neighbours
     * swapped by the capture, on top of an ACK captured ahead of its data
     * (the reply comes first, then the client's next command, then the
     * command the reply answers). Every byte is there: no gap. */
    t = tb_new();
    handshake(t);
    s2c(t, 5001, 1001, ACK, "220 hi\r\n", NULL);
    s2c(t, 5009, 1016, ACK, "250 ok\r\n", NULL);
    c2s(t, 1016, 5017, ACK, "QUIT\r\n", NULL);
    c2s(t, 1001, 5009, ACK, "MAIL FROM:<a>\r\n", NULL);
    tb_end(t);
    expect_log(t, "O1h D1:220 hi\r\n D0:MAIL FROM:<a>\r\n D1:250 ok\r\n D0:QUIT\r\n C3",
               "two client segments swapped after an ACK captured ahead: no gap");
    free(t);

    /* The same without anything from beyond the hole: the capture may be
     * reordering, for REASM_ACK_SLACK (8) packets, the ACK's own included. */
    t = tb_new();
    handshake(t);
    s2c(t, 5001, 1001, ACK, "220 hi\r\n", NULL);
    s2c(t, 5009, 1016, ACK, "250 ok\r\n", NULL);
    for (int i = 0; i < 7; i++)
        c2s(t, 1001, 5017, ACK, "", NULL);
    expect_log(t, "O1h D1:220 hi\r\n", "lost segment: 8 packets of slack");
    c2s(t, 1001, 5017, ACK, "", NULL);
    expect_log(t, "O1h D1:220 hi\r\n G0:15 D1:250 ok\r\n",
               "lost segment: gap after 8 packets of slack, before the reply");
    tb_end(t);
    free(t);

    /* A hole of 500 MB (an ACK that far ahead): one gap, skipped rather
     * than filled, and the data after it still arrives. */
    t = tb_new();
    handshake(t);
    s2c(t, 5001, 1001, ACK, "220 hi\r\n", NULL);
    s2c(t, 5009, 1001 + 500000000u, ACK, "250 ok\r\n", NULL);
    c2s(t, 1001 + 500000000u, 5017, ACK, "QUIT\r\n", NULL);
    tb_end(t);
    expect_log(t, "O1h D1:220 hi\r\n G0:500000000 D1:250 ok\r\n D0:QUIT\r\n C3",
               "500 MB hole: one gap event, then the data after it");
    free(t);

    /* Lost segment then later data queued, then the capture ends. */
    t = tb_new();
    handshake(t);
    c2s(t, 1011, 5001, ACK, "world\r\n", NULL);
    tb_end(t);
    expect_log(t, "O1h G0:10 D0:world\r\n C3", "gap at capture end delivers the queued bytes");
    free(t);

    /* A pure ACK ahead of data the capture shows just after (reordered). */
    t = tb_new();
    handshake(t);
    s2c(t, 5001, 1006, ACK, "", NULL);
    c2s(t, 1001, 5001, ACK, "HELO\n", NULL);
    tb_end(t);
    expect_log(t, "O1h D0:HELO\n C3", "ACK seen before its data: no false gap");
    free(t);

    /* The snap length cut a segment: the rest is a gap once acknowledged. */
    t = tb_new();
    popt cut = { .truncate = true };
    handshake(t);
    c2s(t, 1001, 5001, ACK, "ABCDEFGH", &cut);
    s2c(t, 5001, 1009, ACK, "250 ok\r\n", NULL);
    tb_end(t);
    expect_log(t, "O1h D0:ABCD G0:4 D1:250 ok\r\n C3", "truncated packet: captured part, then gap");
    free(t);
}

static void test_v4_fragments(void)
{
    tb *t = tb_new();
    popt frag = { .fragment = true };

    handshake(t);
    c2s(t, 1001, 5001, ACK, "MAIL FROM:<someone@example.org>\r\n", &frag);
    s2c(t, 5001, 1034, ACK, "250 ok\r\n", NULL);
    tb_end(t);
    expect_log(t, "O1h D0:MAIL FROM:<someone@example.org>\r\n D1:250 ok\r\n C3",
               "IPv4 fragments reassembled by libnids");
    free(t);
}

static void test_urgent(void)
{
    tb *t = tb_new();
    popt urg = { .extra_flags = URG };

    handshake(t);
    c2s(t, 1001, 5001, ACK, "DATA\r\n", &urg);
    tb_end(t);
    expect_log(t, "O1h D0:DATA\r\n C3", "URG flag: no byte pulled out of the stream");
    free(t);
}

static void test_two_runs(void)
{
    tb *t = tb_new();

    for (int run = 0; run < 3; run++) {
        if (run)
            tb_start(t);
        handshake(t);
        c2s(t, 1001, 5001, ACK, "NOOP\r\n", NULL);
        tb_end(t);
        T_CHECK(strcmp(t->log, "O1h D0:NOOP\r\n C3") == 0,
                "libnids re-initialised: run %d (got \"%s\")", run + 1, shown(t->log));
    }
    free(t);
}

static void test_eviction_and_expiry(void)
{
    tb *t = calloc(1, sizeof *t);
    struct timeval later = { 1000 + 700, 0 };

    sc_config_defaults(&t->cfg);
    t->cfg.max_sessions = 2;
    tb_start(t);
    for (unsigned i = 0; i < 3; i++)
        tb_tcp(t, CA, CP + i, SA, SP, 1000, 0, SYN, "", 0, NULL);
    expect_log(t, "O1h O2h C4 O3h", "session cap: the oldest connection is evicted");
    T_CHECK(sc_reasm_open_count(t->r) == 2, "open count stays at the cap");
    t->log[0] = 0;
    sc_reasm_expire(t->r, later);
    expect_log(t, " C2 C2", "idle connections expire");
    T_CHECK(sc_reasm_open_count(t->r) == 0, "nothing open after expiry");
    tb_end(t);
    free(t);
}

static void test_ports(void)
{
    tb *t = tb_new();

    tb_tcp(t, CA, CP, SA, 80, 1000, 0, SYN, "", 0, NULL);
    tb_tcp(t, SA, 80, CA, CP, 5000, 1001, SYN | ACK, "", 0, NULL);
    tb_tcp(t, CA, CP, SA, 80, 1001, 5001, ACK, "GET /\r\n", 7, NULL);
    tb_end(t);
    expect_log(t, "", "connections to other ports are ignored");
    t->cfg.any_port = true;
    tb_start(t);
    tb_tcp(t, CA, CP, SA, 80, 1001, 5001, ACK, "GET /\r\n", 7, NULL);
    tb_end(t);
    expect_log(t, "O1m D0:GET /\r\n C3", "--any-port follows every connection");
    free(t);
}

/* Out-of-order data is held here, not in libnids (which drops its whole
 * queue beyond 64 KiB): a hole followed by 2 MB comes out as the hole
 * alone, and the byte count adds up. */
static void test_ooo_flood(void)
{
    tb *t = tb_new();
    static char chunk[1001];
    uint32_t total = 0;

    memset(chunk, 'x', 1000);
    t->quiet = true;
    handshake(t);
    for (unsigned i = 1; i <= 2000; i++) {          /* 2 MB after a 1000-byte hole */
        c2s(t, 1001 + i * 1000, 5001, ACK, chunk, NULL);
        total += 1000;
    }
    s2c(t, 5001, 1001 + 2001 * 1000, ACK, "", NULL);
    s2c(t, 5001, 1001 + 2001 * 1000, ACK, "250 ok\r\n", NULL);
    tb_end(t);
    T_CHECK(t->bytes[0] == total && t->gaps[0] == 1000 && t->limit_gaps[0] == 0,
            "out-of-order flood: %llu data + %llu gap bytes (%llu dropped by reassembly), "
            "want %u + 1000", (unsigned long long)t->bytes[0], (unsigned long long)t->gaps[0],
            (unsigned long long)t->limit_gaps[0], total);
    free(t);
}

/* A peer's ACK captured before the data it acknowledges (span ports,
 * multi-queue NICs): the bytes are delivered, before the reply that
 * acknowledged them, and no gap is reported. */
static void test_ack_ahead(void)
{
    tb *t = tb_new();

    handshake(t);
    s2c(t, 5001, 1001, ACK, "220 hi\r\n", NULL);
    s2c(t, 5009, 1009, ACK, "250 ok\r\n", NULL);          /* acknowledges EHLO, not seen yet */
    c2s(t, 1001, 5009, ACK, "EHLO x\r\n", NULL);
    tb_end(t);
    expect_log(t, "O1h D1:220 hi\r\n D0:EHLO x\r\n D1:250 ok\r\n C3",
               "one segment behind its ACK: delivered, before the reply");
    free(t);

    /* A cumulative ACK of three segments, and the reply, ahead of all three;
     * the server's FIN too. */
    t = tb_new();
    handshake(t);
    s2c(t, 5001, 1001, ACK, "354 go\r\n", NULL);
    s2c(t, 5009, 1019, ACK, "", NULL);
    s2c(t, 5009, 1022, ACK | FIN, "250 queued\r\n", NULL);
    c2s(t, 1001, 5009, ACK, "Subject: x\r\n", NULL);
    c2s(t, 1013, 5009, ACK, "\r\nhi\r\n", NULL);
    c2s(t, 1019, 5009, ACK, ".\r\n", NULL);
    c2s(t, 1022, 5022, ACK | FIN, "", NULL);
    tb_end(t);
    expect_log(t, "O1h D1:354 go\r\n D0:Subject: x\r\n\r\nhi\r\n.\r\n D1:250 queued\r\n F1@6 F0@10 C0",
               "cumulative ACK and reply ahead of three segments: every byte, in order");
    T_CHECK(t->gaps[0] == 0 && t->gaps[1] == 0, "no gap");
    free(t);

    /* The server refuses a command and closes; the client's next
     * command, which acknowledges that FIN, was captured ahead of the
     * reply and the FIN. The FIN did not acknowledge it: the server
     * closed before it read it, so it comes after the FIN (as in
     * capture order without the reordering). */
    t = tb_new();
    handshake(t);
    c2s(t, 1001, 5001, ACK, "BDAT 1 X\r\n", NULL);
    c2s(t, 1011, 5024, ACK, "MAIL FROM:<a>\r\n", NULL);
    c2s(t, 1026, 5024, ACK | FIN, "", NULL);
    s2c(t, 5001, 1011, ACK, "521 bad\r\n", NULL);
    s2c(t, 5010, 1011, ACK, "421 closing\r\n", NULL);
    s2c(t, 5023, 1011, ACK | FIN, "", NULL);
    tb_end(t);
    expect_log(t, "O1h D0:BDAT 1 X\r\n D1:521 bad\r\n421 closing\r\n F1@9 "
               "D0:MAIL FROM:<a>\r\n F0@6 C0",
               "bytes captured before a FIN that does not acknowledge them: after the FIN");
    free(t);
}

/* Sequence numbers all rewritten to 0 (an anonymiser): followed in capture
 * order, the server's first byte and the client's FIN kept. */
static void test_zero_seq(void)
{
    tb *t = tb_new();

    c2s(t, 0, 0, SYN, "", NULL);
    s2c(t, 0, 0, SYN | ACK, "", NULL);
    c2s(t, 0, 0, ACK, "", NULL);
    s2c(t, 0, 0, ACK | PSH, "220 hi\r\n", NULL);
    c2s(t, 0, 0, ACK | PSH, "QUIT\r\n", NULL);
    s2c(t, 0, 0, ACK | PSH, "221 bye\r\n", NULL);
    c2s(t, 0, 0, ACK | FIN, "", NULL);
    s2c(t, 0, 0, ACK | FIN, "", NULL);
    c2s(t, 0, 0, ACK, "", NULL);
    expect_log(t, "O1h D1:220 hi\r\n D0:QUIT\r\n D1:221 bye\r\n F0@7 F1@8 C0",
               "sequence numbers all 0: capture order, every byte and both FINs");
    T_CHECK(t->seq_untrusted, "sequence numbers all 0: the connection says so");
    tb_end(t);
    free(t);
}

/* One segment lost and retransmitted after 56 KB of later data: libnids
 * alone drops its whole out-of-order queue beyond 64 KiB (58 KB lost). */
static void test_retrans_after_56k(void)
{
    tb *t = tb_new();
    static char seg[1449];
    uint32_t seq = 1001 + 1448;

    t->quiet = true;
    handshake(t);
    memset(seg, 'a', 1448);
    for (int i = 0; i < 40; i++, seq += 1448)          /* 57 920 bytes after the hole */
        c2s(t, seq, 5001, ACK, seg, NULL);
    c2s(t, 1001, 5001, ACK, seg, NULL);                 /* the retransmission */
    T_CHECK(t->bytes[0] == 41u * 1448 && t->gaps[0] == 0,
            "retransmission after 56 KB: %llu bytes of %u, %llu gap bytes",
            (unsigned long long)t->bytes[0], 41u * 1448, (unsigned long long)t->gaps[0]);
    tb_end(t);
    free(t);
}

/* Beyond what is held for one connection, the oldest hole is given up on:
 * its bytes are dropped by reassembly (not missing from the capture), and
 * everything after it comes out. */
static void test_hold_limit(void)
{
    tb *t = tb_new();
    static char seg[1001];
    uint32_t seq = 1001 + 1000;
    unsigned n = (5u << 20) / 1000;

    memset(seg, 'b', 1000);
    t->quiet = true;
    handshake(t);
    for (unsigned i = 0; i < n; i++, seq += 1000)
        c2s(t, seq, 5001, ACK, seg, NULL);
    T_CHECK(t->limit_gaps[0] == 1000 && t->gaps[0] == 1000 && t->bytes[0] > 0,
            "hold limit: %llu bytes dropped by reassembly, %llu gap bytes, %llu bytes out",
            (unsigned long long)t->limit_gaps[0], (unsigned long long)t->gaps[0],
            (unsigned long long)t->bytes[0]);
    tb_end(t);
    T_CHECK(t->bytes[0] == (uint64_t)n * 1000, "hold limit: every later byte out (%llu of %llu)",
            (unsigned long long)t->bytes[0], (unsigned long long)n * 1000);
    free(t);
}

/* Segmentation offload (tcpdump -i lo on Linux): segments of up to 64 KiB
 * and beyond, with an IPv4 total length that is right, 0, or wrapped at
 * 16 bits. Every byte must come out, in order, as data of the segment's
 * frame, and the peer's ACK of them must not make a gap. */
static void big_fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

static void big_case(const char *name, totlen tot, const size_t *lens, size_t nseg, bool fin)
{
    static uint8_t data[BIG_MAX];
    tb *t = tb_new();
    popt o = { .tot = tot };
    uint32_t seq = 1001, want = 2166136261u;
    uint64_t total = 0, last_frame = 0;

    t->quiet = true;
    handshake(t);
    s2c(t, 5001, 1001, ACK, "354 go ahead\r\n", NULL);
    for (size_t i = 0; i < nseg; i++) {
        uint8_t fl = ACK | PSH | (fin && i + 1 == nseg ? FIN : 0);

        big_fill(data, lens[i], (uint32_t)i + 7);
        want = fnv(want, data, lens[i]);
        tb_tcp(t, CA, CP, SA, SP, seq, 5015, fl, data, lens[i], &o);
        last_frame = t->frame;
        T_CHECK(t->bytes[0] == total + lens[i] && t->data_frame == last_frame,
                "%s: segment %zu (%zu bytes) delivered whole by its own frame "
                "(%llu of %llu bytes, frame %llu)", name, i + 1, lens[i],
                (unsigned long long)t->bytes[0], (unsigned long long)(total + lens[i]),
                (unsigned long long)t->data_frame);
        seq += (uint32_t)lens[i];
        total += lens[i];
        /* the receiver acknowledges each segment at once, as on loopback */
        tb_tcp(t, SA, SP, CA, CP, 5015, seq, ACK, "", 0, NULL);
    }
    if (fin) {
        char w[32];
        size_t n = strlen(t->log), m;

        snprintf(w, sizeof w, " F0@%llu", (unsigned long long)last_frame);
        m = strlen(w);
        T_CHECK(n >= m && strcmp(t->log + n - m, w) == 0,
                "%s: FIN reported after all the bytes, with its frame (got \"%s\")", name, shown(t->log));
    }
    t->quiet = false;
    t->log[0] = 0;
    t->last_kind = -1;
    s2c(t, 5015, seq + (fin ? 1 : 0), ACK | PSH, "250 ok\r\n", NULL);
    T_CHECK(t->bytes[0] == total && t->gaps[0] == 0 && t->gaps[1] == 0 && t->hash[0] == want,
            "%s: %llu bytes out of %llu, %llu gap bytes, content %s", name,
            (unsigned long long)t->bytes[0], (unsigned long long)total,
            (unsigned long long)(t->gaps[0] + t->gaps[1]), t->hash[0] == want ? "equal" : "differs");
    expect_log(t, " D1:250 ok\r\n", name);
    tb_end(t);
    free(t);
}

static void test_large_segments(void)
{
    /* samples/large-segments.pcap.gz: 65483-byte segments, length right */
    static const size_t lo[] = { 65483, 65483, 65483, 3775 };
    /* the largest an IPv4 header can describe */
    static const size_t full[] = { 65495, 65495 };
    /* beyond: length 0 (what Linux writes for >64 KiB) or wrapped */
    static const size_t huge[] = { 100000, 131072, 65483, 17 };

    big_case("65483-byte segments", TOT_TRUE, lo, 4, false);
    big_case("65495-byte segments, FIN on the last", TOT_TRUE, full, 2, true);
    big_case("total length 0, 65483-byte segments", TOT_ZERO, lo, 4, false);
    big_case("total length 0, segments beyond 64 KiB", TOT_ZERO, huge, 4, true);
    big_case("total length wrapped, smaller than captured", TOT_WRAPPED, huge, 4, false);
}

/* Bytes captured after the IPv4 total length (Ethernet padding) are not
 * payload: the offload rules above must not take them. */
static void test_padding(void)
{
    tb *t = tb_new();
    popt pad = { .pad = 6 };

    handshake(t);
    c2s(t, 1001, 5001, ACK | PSH, "QUIT\r\n", &pad);
    s2c(t, 5001, 1007, ACK, "", &pad);
    s2c(t, 5001, 1007, ACK | PSH, "221 bye\r\n", NULL);
    tb_end(t);
    expect_log(t, "O1h D0:QUIT\r\n D1:221 bye\r\n C3", "link-layer padding is not payload");
    free(t);
}

/* Both SYNs with an MSS of 10 bytes. */
static void handshake_mss(tb *t)
{
    popt m = { .mss = 10 };

    c2s(t, 1000, 0, SYN, "", &m);
    s2c(t, 5000, 1001, SYN | ACK, "", &m);
    c2s(t, 1001, 5001, ACK, "", NULL);
}

/* A greeting segment of 24 bytes (beyond an MSS of 10) whose receiver
 * acknowledges 8, then the real reply over the rest. */
static void crafted_greeting(tb *t)
{
    s2c(t, 5001, 1001, ACK | PSH, "220 hi\r\nAAAAAAAAAAAAAAAA", NULL);
    c2s(t, 1001, 5009, ACK | PSH, "EHLO x\r\n", NULL);
    s2c(t, 5009, 1009, ACK | PSH, "250 ok\r\n", NULL);
}

/* The later copies come before the ACK (a content segment 3 times the
 * MSS, then the real segments): what the ACK covers of the first copy is
 * taken up to where a later copy begins. swapped: a later copy captured
 * before the oversize segment, and the oversize segment captured twice
 * (the same packet again says nothing about what the receiver took). */
static void later_copies(bool swapped)
{
    static const char big[] = "0123456789XXXXXXXXXXXXXXXXXXXX";
    tb *t = tb_new();

    handshake_mss(t);
    if (swapped)
        c2s(t, 1011, 5001, ACK, "abcdefghij", NULL);
    c2s(t, 1001, 5001, ACK, big, NULL);
    c2s(t, swapped ? 1001 : 1011, 5001, ACK, swapped ? big : "abcdefghij", NULL);
    c2s(t, 1021, 5001, ACK, "klmnopqrst", NULL);
    s2c(t, 5001, 1011, ACK, "", NULL);
    s2c(t, 5001, 1031, ACK, "", NULL);
    tb_end(t);
    T_CHECK(strcmp(t->log, "O1h D0:0123456789abcdefghijklmnopqrst C3") == 0,
            "later copies%s: taken (got \"%s\")", swapped ? ", one captured first" : "",
            shown(t->log));
    T_CHECK(t->untaken[0] == 20, "later copies%s: the first copy's 20 bytes counted once (got %llu)",
            swapped ? ", one captured first" : "", (unsigned long long)t->untaken[0]);
    free(t);
}

/* The same decision whatever the capture's order: the receiver's ACK
 * (into the first copy and the later one) captured ahead of the later
 * copy, or ahead of the oversize segment itself; and the oversize segment
 * captured before the segment ahead of it (held out of order, then
 * tentative once in order). */
static void later_copies_reordered(int how)
{
    static const char *const name[] = {
        "ACK ahead of the later copy", "ACK ahead of the oversize segment",
        "oversize segment captured before the one ahead of it"
    };
    static const char big[] = "0123456789XXXXXXXXXXXXXXXXXXXX";
    uint32_t at = how == 2 ? 1011 : 1001;
    tb *t = tb_new();

    handshake_mss(t);
    if (how == 1)
        s2c(t, 5001, 1021, ACK, "", NULL);
    c2s(t, at, 5001, ACK, big, NULL);
    if (how == 0)
        s2c(t, 5001, 1021, ACK, "", NULL);
    if (how == 2)
        c2s(t, 1001, 5001, ACK, "ABCDEFGHIJ", NULL);
    c2s(t, at + 10, 5001, ACK, "abcdefghij", NULL);
    c2s(t, at + 20, 5001, ACK, "klmnopqrst", NULL);
    s2c(t, 5001, at + 30, ACK, "", NULL);
    tb_end(t);
    T_CHECK(strcmp(t->log, how == 2 ? "O1h D0:ABCDEFGHIJ0123456789abcdefghijklmnopqrst C3"
                                    : "O1h D0:0123456789abcdefghijklmnopqrst C3") == 0,
            "%s: the first copy cut where the later copy begins (got \"%s\")", name[how],
            shown(t->log));
    T_CHECK(t->untaken[0] == 20, "%s: the first copy's 20 bytes not taken (got %llu)", name[how],
            (unsigned long long)t->untaken[0]);
    free(t);
}

/* A segment beyond the receiver's MSS, acknowledged only in part, whose
 * unacknowledged part later segments cover with other bytes: the later
 * copy is what the receiver took (the shape of a crafted greeting). */
static void test_overlap_later_copy(void)
{
    tb *t = tb_new();

    handshake_mss(t);
    crafted_greeting(t);
    c2s(t, 1009, 5017, ACK | PSH, "QUIT\r\n", NULL);
    s2c(t, 5017, 1015, ACK | PSH, "221 by\r\n", NULL);
    tb_end(t);
    expect_log(t, "O1h D1:220 hi\r\n D0:EHLO x\r\n D1:250 ok\r\n D0:QUIT\r\n D1:221 by\r\n C3",
               "the later copy of bytes acknowledged only in part is taken");
    T_CHECK(t->untaken[1] == 16 && t->untaken[0] == 0,
            "the 16 bytes of the first copy not taken are counted (got %llu)",
            (unsigned long long)t->untaken[1]);
    free(t);

    later_copies(false);
    later_copies(true);
    for (int how = 0; how < 3; how++)
        later_copies_reordered(how);
}

/* What the rule leaves alone: a segment beyond the MSS acknowledged whole,
 * one whose later copy brings the same bytes (an ordinary retransmission),
 * one nobody acknowledges or contradicts (first copy, as libnids), and a
 * large segment without MSS options (offload captures). */
static void test_overlap_unchanged(void)
{
    static const char *const want =
        "O1h D1:220 hi\r\n250 ok\r\n D0:EHLO x\r\n D1:221 by\r\n and more C3";
    tb *t = tb_new();

    handshake_mss(t);
    s2c(t, 5001, 1001, ACK | PSH, "220 hi\r\n250 ok\r\n", NULL);
    s2c(t, 5009, 1001, ACK | PSH, "250 ok\r\n", NULL);                  /* same bytes */
    c2s(t, 1001, 5017, ACK | PSH, "EHLO x\r\n", NULL);
    s2c(t, 5017, 1009, ACK | PSH, "221 by\r\n and more", NULL);        /* never acknowledged */
    tb_end(t);
    expect_log(t, want, "segments beyond the MSS without a different later copy");
    T_CHECK(t->untaken[0] == 0 && t->untaken[1] == 0, "nothing counted");
    free(t);

    t = tb_new();
    handshake(t);
    crafted_greeting(t);
    tb_end(t);
    expect_log(t, "O1h D1:220 hi\r\nAAAAAAAAAAAAAAAA D0:EHLO x\r\n C3",
               "no MSS known: the first copy is kept");
    T_CHECK(t->untaken[1] == 0, "nothing counted without MSS");
    free(t);
}

int main(void)
{
    test_in_order();
    test_split_retrans_overlap_ooo();
    test_ooo_frame();
    test_bad_checksums();
    test_mid_stream();
    test_ipv6();
    test_v6_beside_240();
    test_late_retransmission();
    test_fin_order_by_ack();
    test_rst();
    test_gap();
    test_urgent();
    test_v4_fragments();
    test_two_runs();
    test_eviction_and_expiry();
    test_ports();
    test_ooo_flood();
    test_ack_ahead();
    test_zero_seq();
    test_retrans_after_56k();
    test_hold_limit();
    test_large_segments();
    test_padding();
    test_overlap_later_copy();
    test_overlap_unchanged();
    T_DONE();
}
