/*
 * gen.c - writes a large synthetic SMTP capture for the benchmark.
 *
 *   gen -o FILE [--bytes SIZE] [--sessions N] [--seed S] [--mix MIX]
 *       [--violations FRACTION] [--max-message SIZE] [--summary]
 *
 * --mix chooses what kind of traffic: "bulk" (the default: every session
 * delivers, messages of 1 KB to 8 MB, 80 % of the bytes message content)
 * or "gateway" (an internet-facing MX: probes that connect and leave,
 * sessions that end without a message, all recipients rejected at RCPT,
 * messages of 1-256 KB from a log-normal distribution), optionally
 * followed by overrides: gateway,probe=0.3,reject=0.2,nomail=0.1,
 * median=8K,sigma=1.2 (shares of sessions, the message size's median and
 * the log-normal's sigma). bench/README.md says what the mix rests on.
 *
 * Output: classic pcap (microsecond timestamps, Ethernet), IPv4/TCP with
 * correct IP and TCP checksums, TCP timestamps and window scaling, MSS 1448.
 * N sessions (default 300) run at once, interleaved packet by packet in time
 * order; a finished session is replaced by a new one until the planned size
 * of all sessions started reaches SIZE (K, M, G are powers of 1024), so the
 * file ends with every session closed and is about SIZE long.
 *
 * Each session: handshake, greeting, EHLO with a multi-line reply (SIZE,
 * PIPELINING, 8BITMIME always or nearly; STARTTLS, CHUNKING, AUTH some of
 * the time), optional AUTH PLAIN on port 587, one to three transactions
 * (pipelined MAIL/RCPT.../DATA where advertised, lock-step otherwise, BDAT
 * chunks sometimes where CHUNKING is advertised, RSET between transactions
 * sometimes), messages of 1 KB to --max-message (a mix: mostly small, a
 * tail of large ones with base64 attachments), content in 1448-byte
 * segments acknowledged every other segment, QUIT/221, FIN both ways.
 * Some sessions use HELO, some go to TLS after STARTTLS (opaque records).
 * A fraction of sessions (--violations, default 0.02) break the protocol:
 *   reply-lost      pipelined MAIL, RCPT, RSET, QUIT answered by 250 and
 *                   221 only (the FrontBridge trace of seed 000)
 *   no-quit         the client closes without QUIT after its transactions
 *   reply-in-data   the server sends 552 while content is still coming,
 *                   then FIN, then RST to further data (seed 004)
 *   abort-in-data   the client closes in the middle of the content
 *
 * Deterministic: the same options give the same bytes. The text of the
 * messages comes from pools made once from the seed (text lines, base64
 * lines, random bytes for TLS); a message is a slice of them, so the cost
 * per byte is one copy and one checksum.
 *
 * --summary prints to standard error what was written: packets, bytes,
 * sessions of each kind, transactions, messages, violations of each kind,
 * and the time it took. Exit status 0, or 2 with a message on bad usage or
 * a write error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <math.h>

#define MSS          1448u
#define MAXPIECES    8
#define START_SEC    1710144000ull      /* 2024-03-11 08:00:00 UTC */
#define OUTBUF       (8u << 20)

/* ------------------------------------------------------------------ */
/* Random numbers: xoshiro256** seeded through splitmix64.             */

static uint64_t rng_s[4];

static uint64_t gen_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rnd(void)
{
    uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0]; rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2]; rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t; rng_s[3] = rotl(rng_s[3], 45);
    return r;
}

static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }
static uint64_t rnd_range(uint64_t lo, uint64_t hi) { return lo + rnd_below(hi - lo + 1); }
static double rnd_unit(void) { return (double)(rnd() >> 11) * 0x1.0p-53; }
static int chance(double p) { return rnd_unit() < p; }

/* log-uniform in [lo, hi] */
static uint64_t rnd_log(double lo, double hi)
{
    double l = log(lo), h = log(hi);
    return (uint64_t)exp(l + (h - l) * rnd_unit());
}

/* ------------------------------------------------------------------ */
/* Pools of content. Sources of a piece: the session's arena or a pool.  */

enum { SRC_ARENA, SRC_TEXT, SRC_B64, SRC_RAND, SRC_COUNT };

static uint8_t *pool[SRC_COUNT];
static size_t   pool_len[SRC_COUNT];
static uint32_t *text_lines;     /* line start offsets in the text pool */
static size_t    text_nlines;

static const char *const words[] = {
    "the", "of", "and", "to", "in", "is", "you", "that", "it", "he", "was",
    "for", "on", "are", "as", "with", "his", "they", "at", "be", "this",
    "have", "from", "or", "one", "had", "by", "word", "but", "not", "what",
    "all", "were", "we", "when", "your", "can", "said", "there", "use", "an",
    "each", "which", "she", "do", "how", "their", "if", "will", "up", "other",
    "about", "out", "many", "then", "them", "these", "so", "some", "her",
    "would", "make", "like", "him", "into", "time", "has", "look", "two",
    "more", "write", "go", "see", "number", "no", "way", "could", "people",
    "my", "than", "first", "water", "been", "call", "who", "oil", "its",
    "now", "find", "long", "down", "day", "did", "get", "come", "made",
    "may", "part", "invoice", "meeting", "quarterly", "report", "attached",
    "please", "review", "regards", "thanks", "schedule", "project", "budget",
    "delivery", "shipment", "order", "customer", "account", "server",
    "update", "release", "Monday", "Tuesday", "Friday", "tomorrow", "team",
    "office", "contract", "agreement", "signature", "draft", "final",
    "question", "answer", "issue", "ticket", "support", "backup", "mailbox",
    "network", "deadline", "proposal", "minutes", "agenda", "lunch", "call",
};
#define NWORDS (sizeof words / sizeof words[0])

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) { fprintf(stderr, "gen: out of memory\n"); exit(2); }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) { fprintf(stderr, "gen: out of memory\n"); exit(2); }
    return p;
}

/* Text: lines of 20-78 characters, blank lines between paragraphs, no line
 * starts with '.', so no slice of it can end the DATA early. */
static void gen_pool_text(size_t want)
{
    uint8_t *p = xmalloc(want + 128);
    size_t n = 0, cap_lines = want / 16, nl = 0;
    text_lines = xmalloc(cap_lines * sizeof *text_lines);
    while (n < want && nl < cap_lines) {
        text_lines[nl++] = (uint32_t)n;
        if (chance(0.12)) { p[n++] = '\r'; p[n++] = '\n'; continue; }
        size_t target = rnd_range(20, 76), len = 0;
        int cap = 1;
        while (len < target) {
            const char *w = words[rnd_below(NWORDS)];
            size_t wl = strlen(w);
            if (len && len + 1 + wl > 78) break;
            if (len) p[n + len++] = ' ';
            memcpy(p + n + len, w, wl);
            if (cap) { p[n + len] = (uint8_t)(p[n + len] & ~0x20); cap = 0; }
            len += wl;
            if (chance(0.08)) { p[n + len++] = '.'; cap = 1; }
        }
        n += len;
        p[n++] = '\r'; p[n++] = '\n';
    }
    pool[SRC_TEXT] = p; pool_len[SRC_TEXT] = n; text_nlines = nl;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64: lines of exactly 76 characters plus CRLF (78 bytes). */
static void gen_pool_b64(size_t nlines)
{
    uint8_t *p = xmalloc(nlines * 78);
    for (size_t i = 0; i < nlines; i++) {
        uint8_t *l = p + i * 78;
        for (int j = 0; j < 76; j += 8) {
            uint64_t r = rnd();
            for (int k = 0; k < 8 && j + k < 76; k++, r >>= 6)
                l[j + k] = (uint8_t)b64chars[r & 63];
        }
        l[76] = '\r'; l[77] = '\n';
    }
    pool[SRC_B64] = p; pool_len[SRC_B64] = nlines * 78;
}

/* TLS: application data records of the largest size (RFC 8446 §5.1),
 * random payload, so any slice from a record start is a record sequence. */
#define TLSREC (5u + 16384u)
static void gen_pool_tls(size_t nrec)
{
    uint8_t *p = xmalloc(nrec * TLSREC);
    for (size_t i = 0; i < nrec; i++) {
        uint8_t *r = p + i * TLSREC;
        r[0] = 0x17; r[1] = 3; r[2] = 3; r[3] = 0x40; r[4] = 0;
        for (size_t j = 5; j < TLSREC; j += 8) {
            uint64_t x = rnd();
            memcpy(r + j, &x, TLSREC - j < 8 ? TLSREC - j : 8);
        }
    }
    pool[SRC_RAND] = p; pool_len[SRC_RAND] = nrec * TLSREC;
}

/* ------------------------------------------------------------------ */
/* Sessions: a script of units, played one packet at a time.           */

typedef struct piece { uint8_t src; uint64_t start, len; } piece;

enum ukind { U_SYN, U_SYNACK, U_ACK, U_DATA, U_FIN, U_RST };
enum { C2S = 0, S2C = 1 };

typedef struct unit {
    uint8_t  kind, dir, npieces;
    uint32_t delay;               /* microseconds before its first packet */
    uint64_t len;
    piece    p[MAXPIECES];
} unit;

enum vkind { V_NONE, V_REPLY_LOST, V_NO_QUIT, V_REPLY_IN_DATA, V_ABORT_IN_DATA, V_COUNT };
static const char *const vnames[V_COUNT] = {
    "none", "reply-lost", "no-quit", "reply-in-data", "abort-in-data" };

typedef struct sess {
    uint64_t id;
    uint32_t ip[2];               /* [C2S] client, [S2C] server, host order */
    uint16_t port[2];
    uint32_t seq[2];              /* next sequence number each side sends */
    uint32_t tsval[2];            /* last TCP timestamp each side sent */
    uint32_t tsbase[2];
    uint16_t ipid[2];
    uint8_t  ttl[2];
    uint8_t *arena; size_t alen, acap;
    unit    *u; size_t nu, ucap;
    size_t   ui;                  /* current unit */
    uint64_t off;                 /* bytes of it already sent */
    int      segs;                /* data segments since the peer's last ACK */
    int      pending_ack;         /* the peer owes an ACK now */
    uint64_t next_us;             /* time of the next packet */
    uint32_t seg_gap, rtt;
    uint64_t planned;             /* estimated bytes in the file */
    /* names */
    char     cname[64], sname[64], sdomain[48], cdomain[48];
} sess;

/* Counters for --summary. */
static struct {
    uint64_t packets, bytes, sessions, tx, msgs, msg_bytes, rcpts, rejected;
    uint64_t tls, helo, bdat, auth, nopipe, port587;
    uint64_t viol[V_COUNT];
    uint64_t kind[4];             /* sessions of each enum skind (--mix) */
} st;

static double vfrac = 0.02;
static uint64_t max_msg = 8ull << 20;

/* The traffic mix (--mix). Shares of sessions of each kind; the rest
 * deliver one to three messages. median == 0: the bulk size table of
 * msg_size_pick, else a log-normal of that median and sigma, cut to
 * [1 KB, max_msg] by drawing again. The bulk mix draws nothing more than
 * before it existed, so its files keep their bytes. */
enum skind { K_DELIVER, K_PROBE, K_NOMAIL, K_REJECT };
typedef struct mixdef {
    const char *name;
    double probe, nomail, reject;
    double median, sigma;
    uint64_t max_msg;
} mixdef;
static const mixdef mixes[] = {
    { "bulk",    0,    0,    0,    0,        0,   8ull << 20 },
    { "gateway", 0.22, 0.13, 0.30, 6 * 1024, 1.1, 256ull << 10 },
};
static mixdef mix = { "bulk", 0, 0, 0, 0, 0, 8ull << 20 };

static piece arena_printf(sess *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static piece arena_printf(sess *s, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = s->acap - s->alen;
        va_start(ap, fmt);
        int n = vsnprintf((char *)s->arena + s->alen, room, fmt, ap);
        va_end(ap);
        if (n < 0) { fprintf(stderr, "gen: format error\n"); exit(2); }
        if ((size_t)n < room) {
            piece p = { SRC_ARENA, s->alen, (uint64_t)n };
            s->alen += (size_t)n;
            return p;
        }
        s->acap = s->acap * 2 + (size_t)n;
        s->arena = xrealloc(s->arena, s->acap);
    }
}

static unit *unit_add(sess *s, int kind, int dir, uint32_t delay)
{
    if (s->nu == s->ucap) {
        s->ucap = s->ucap ? s->ucap * 2 : 32;
        s->u = xrealloc(s->u, s->ucap * sizeof *s->u);
    }
    unit *u = &s->u[s->nu++];
    memset(u, 0, sizeof *u);
    u->kind = (uint8_t)kind; u->dir = (uint8_t)dir; u->delay = delay;
    return u;
}

static void unit_piece(unit *u, piece p)
{
    if (!p.len) return;
    if (u->npieces == MAXPIECES) { fprintf(stderr, "gen: too many pieces\n"); exit(2); }
    u->p[u->npieces++] = p;
    u->len += p.len;
}

/* Appends bytes [a, b) of the concatenation of src[0..n) to u. */
static void unit_range(unit *u, const piece *src, int n, uint64_t a, uint64_t b)
{
    uint64_t pos = 0;
    for (int i = 0; i < n && pos < b; i++) {
        uint64_t ps = pos, pe = pos + src[i].len;
        pos = pe;
        if (pe <= a) continue;
        uint64_t lo = a > ps ? a : ps, hi = b < pe ? b : pe;
        piece q = { src[i].src, src[i].start + (lo - ps), hi - lo };
        unit_piece(u, q);
    }
}

static unit *say(sess *s, int dir, uint32_t delay, const char *text)
{
    unit *u = unit_add(s, U_DATA, dir, delay);
    unit_piece(u, arena_printf(s, "%s", text));
    return u;
}

/* A small string builder for pipelined groups and multi-line replies. */
typedef struct sbuf { char b[4096]; size_t n; } sbuf;

static void sb_add(sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sb->b + sb->n, sizeof sb->b - sb->n, fmt, ap);
    va_end(ap);
    if (n > 0) sb->n += (size_t)n;
    if (sb->n >= sizeof sb->b) sb->n = sizeof sb->b - 1;
}

/* ------------------------------------------------------------------ */
/* The dialogue.                                                       */

static const char *const first_names[] = {
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter",
    "billing", "noreply", "support", "newsletter", "hr", "sales", "info" };
static const char *const domains[] = {
    "example.com", "example.org", "example.net", "mail.example.com",
    "corp.example", "shop.example", "lists.example.org", "partner.example" };

static const char *pick(const char *const *a, size_t n) { return a[rnd_below(n)]; }
#define PICK(a) pick(a, sizeof a / sizeof a[0])

static uint32_t ms(double x) { return (uint32_t)(x * 1000.0); }

static void fmt_date(char *buf, size_t n, uint64_t us)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

static void queue_id(char *buf)
{
    static const char al[] = "BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789";
    for (int i = 0; i < 12; i++) buf[i] = al[rnd_below(sizeof al - 1)];
    buf[12] = 0;
}

/* log-normal of the mix's median and sigma (Box-Muller), in [1 KB, max_msg] */
static uint64_t msg_size_lognormal(void)
{
    double x = 0;
    for (int tries = 0; tries < 16; tries++) {
        double u1 = rnd_unit(), u2 = rnd_unit();
        if (u1 <= 0) continue;
        double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
        x = mix.median * exp(mix.sigma * z);
        if (x >= 1024 && x <= (double)max_msg) break;
    }
    if (x < 1024) x = 1024;
    if (x > (double)max_msg) x = (double)max_msg;
    return (uint64_t)x;
}

static uint64_t msg_size_pick(void)
{
    if (mix.median > 0)
        return msg_size_lognormal();
    double r = rnd_unit();
    uint64_t sz;
    if (r < 0.70)      sz = rnd_log(1024, 64 * 1024);
    else if (r < 0.95) sz = rnd_log(64 * 1024, 1024 * 1024);
    else               sz = rnd_log(1024 * 1024, (double)max_msg);
    if (sz > max_msg) sz = max_msg;
    if (sz < 1024) sz = 1024;
    return sz;
}

/* The message: headers, then text/plain, or multipart with a base64
 * attachment when large. Always ends with CRLF. Returns its piece count. */
static int msg_build(sess *s, piece *m, uint64_t want, const char *from,
                     const char *to, uint64_t now_us)
{
    int n = 0;
    char date[64], qid[13];
    fmt_date(date, sizeof date, now_us);
    queue_id(qid);
    int multipart = want > 48 * 1024 || chance(0.15);
    char boundary[40];
    snprintf(boundary, sizeof boundary, "=_%016llx", (unsigned long long)rnd());
    m[n++] = arena_printf(s,
        "Received: from %s (%s [%u.%u.%u.%u])\r\n"
        "\tby %s (Postfix) with ESMTP id %s\r\n"
        "\tfor <%s>; %s (UTC)\r\n"
        "From: \"%s\" <%s>\r\n"
        "To: <%s>\r\n"
        "Subject: %s %s %s\r\n"
        "Date: %s\r\n"
        "Message-ID: <%016llx.%s@%s>\r\n"
        "MIME-Version: 1.0\r\n"
        "%s%s%s\r\n",
        s->cname, s->cname, s->ip[C2S] >> 24, (s->ip[C2S] >> 16) & 255,
        (s->ip[C2S] >> 8) & 255, s->ip[C2S] & 255, s->sname, qid, to, date,
        PICK(first_names), from, to, words[rnd_below(NWORDS)],
        words[rnd_below(NWORDS)], words[rnd_below(NWORDS)], date,
        (unsigned long long)rnd(), qid, s->cname,
        multipart ? "Content-Type: multipart/mixed; boundary=\"" : "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
        multipart ? boundary : "", multipart ? "\"" : "");
    uint64_t used = m[0].len;
    uint64_t text = multipart ? rnd_range(512, 6 * 1024)
                              : (want > used + 64 ? want - used : 64);
    if (multipart)
        m[n++] = arena_printf(s, "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", boundary);
    /* a slice of the text pool, from a line start, not cut inside CRLF */
    uint64_t start = text_lines[rnd_below(text_nlines)];
    uint64_t end = (start + text - 1) % pool_len[SRC_TEXT];
    if (pool[SRC_TEXT][end] == '\r') text++;
    m[n++] = (piece){ SRC_TEXT, start, text };
    end = (start + text - 1) % pool_len[SRC_TEXT];
    if (pool[SRC_TEXT][end] != '\n')
        m[n++] = arena_printf(s, "\r\n");
    if (multipart) {
        uint64_t have = 0;
        for (int i = 0; i < n; i++) have += m[i].len;
        uint64_t b64 = want > have + 400 ? (want - have - 300) / 78 * 78 : 78;
        m[n++] = arena_printf(s,
            "\r\n--%s\r\nContent-Type: application/pdf; name=\"%s-%s.pdf\"\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"%s-%s.pdf\"\r\n\r\n",
            boundary, words[rnd_below(NWORDS)], qid, words[rnd_below(NWORDS)], qid);
        m[n++] = (piece){ SRC_B64, rnd_below(pool_len[SRC_B64] / 78) * 78, b64 };
        m[n++] = arena_printf(s, "\r\n--%s--\r\n", boundary);
    }
    return n;
}

static uint64_t pieces_len(const piece *p, int n)
{
    uint64_t t = 0;
    for (int i = 0; i < n; i++) t += p[i].len;
    return t;
}

static void close_normal(sess *s)
{
    if (chance(0.7)) {               /* server closes after 221 */
        unit_add(s, U_FIN, S2C, ms(0.05));
        unit_add(s, U_FIN, C2S, s->rtt / 2);
        unit_add(s, U_ACK, S2C, s->rtt / 2);
    } else {                         /* client closes on reading 221 */
        unit_add(s, U_FIN, C2S, s->rtt / 2);
        unit_add(s, U_FIN, S2C, s->rtt / 2);
        unit_add(s, U_ACK, C2S, s->rtt / 2);
    }
}

typedef struct feats {
    int esmtp, pipelining, chunking, starttls, size, auth, eightbit;
    int rejall;                   /* every recipient refused (K_REJECT) */
} feats;

/* One transaction. Returns 0 when the session is over (a violation ended it). */
static int sess_transaction(sess *s, const feats *f, int viol, int last, uint64_t now)
{
    char from[96], rcpt[6][96];
    int nrcpt = chance(0.3) ? (int)rnd_range(2, 5) : 1, ok = 0;
    int rej[6];
    snprintf(from, sizeof from, "%s@%s", PICK(first_names), s->cdomain);
    for (int i = 0; i < nrcpt; i++) {
        snprintf(rcpt[i], sizeof rcpt[i], "%s%d@%s", PICK(first_names), (int)rnd_below(100), s->sdomain);
        rej[i] = f->rejall || chance(0.05);
        ok += !rej[i];
        st.rcpts++; st.rejected += (uint64_t)rej[i];
    }
    st.tx++;
    uint64_t want = msg_size_pick();
    if (viol == V_REPLY_IN_DATA || viol == V_ABORT_IN_DATA) {
        if (want < 96 * 1024) want = rnd_range(96 * 1024, 512 * 1024);
        for (int i = 0; i < nrcpt; i++) rej[i] = 0;
        ok = nrcpt;
    }
    piece m[MAXPIECES];
    int nm = msg_build(s, m, want, from, rcpt[0], now);
    uint64_t mlen = pieces_len(m, nm);
    int bdat = f->chunking && chance(0.5) && viol == V_NONE;

    char mail[256], sizeparam[32] = "";
    if (f->size)
        snprintf(sizeparam, sizeof sizeparam, " SIZE=%llu", (unsigned long long)mlen);
    snprintf(mail, sizeof mail, "MAIL FROM:<%s>%s%s\r\n", from, sizeparam,
             bdat ? " BODY=BINARYMIME" : f->eightbit ? " BODY=8BITMIME" : "");

    if (viol == V_REPLY_LOST) {
        /* seed 000: the FrontBridge answer to a pipelined abort. */
        sbuf c = {0};
        sb_add(&c, "%sRCPT TO:<%s>\r\nRSET\r\nQUIT\r\n", mail, rcpt[0]);
        say(s, C2S, s->rtt / 2 + ms(1), c.b);
        say(s, S2C, s->rtt / 2 + ms(2), "250 2.1.0 Ok\r\n221 2.0.0 Bye\r\n");
        unit_add(s, U_FIN, S2C, ms(0.05));
        unit_add(s, U_FIN, C2S, s->rtt / 2);
        unit_add(s, U_ACK, S2C, s->rtt / 2);
        return 0;
    }

    char rej_reply[768];
    sbuf c = {0}, r = {0};
    const char *datacmd = bdat ? NULL : "DATA\r\n";
    /* envelope */
    if (f->pipelining) {
        sb_add(&c, "%s", mail);
        sb_add(&r, "250 2.1.0 Ok\r\n");
        for (int i = 0; i < nrcpt; i++) {
            sb_add(&c, "RCPT TO:<%s>\r\n", rcpt[i]);
            if (rej[i]) {
                snprintf(rej_reply, sizeof rej_reply, "550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table\r\n", rcpt[i]);
                sb_add(&r, "%s", rej_reply);
            } else
                sb_add(&r, "250 2.1.5 Ok\r\n");
        }
        if (datacmd) {
            sb_add(&c, "%s", datacmd);
            sb_add(&r, ok ? "354 End data with <CR><LF>.<CR><LF>\r\n"
                          : "554 5.5.1 Error: no valid recipients\r\n");
        }
        say(s, C2S, s->rtt / 2 + ms(rnd_unit() * 2), c.b);
        say(s, S2C, s->rtt / 2 + ms(1 + rnd_unit() * 30), r.b);
    } else {
        say(s, C2S, s->rtt / 2 + ms(1), mail);
        say(s, S2C, s->rtt / 2 + ms(1 + rnd_unit() * 20), "250 2.1.0 Ok\r\n");
        for (int i = 0; i < nrcpt; i++) {
            char line[768];
            snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", rcpt[i]);
            say(s, C2S, s->rtt / 2 + ms(0.5), line);
            if (rej[i]) {
                snprintf(rej_reply, sizeof rej_reply, "550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table\r\n", rcpt[i]);
                say(s, S2C, s->rtt / 2 + ms(1 + rnd_unit() * 20), rej_reply);
            } else
                say(s, S2C, s->rtt / 2 + ms(1 + rnd_unit() * 20), "250 2.1.5 Ok\r\n");
        }
        if (!ok) {
            say(s, C2S, s->rtt / 2 + ms(0.5), "RSET\r\n");
            say(s, S2C, s->rtt / 2 + ms(0.5), "250 2.0.0 Ok\r\n");
            return 1;
        }
        if (datacmd) {
            say(s, C2S, s->rtt / 2 + ms(0.5), datacmd);
            say(s, S2C, s->rtt / 2 + ms(0.5), "354 End data with <CR><LF>.<CR><LF>\r\n");
        }
    }
    if (!ok) {
        /* no recipient: the client abandons the transaction with RSET
         * before another one (QUIT ends it anyway) */
        if (!last) {
            say(s, C2S, s->rtt / 2 + ms(0.5), "RSET\r\n");
            say(s, S2C, s->rtt / 2 + ms(0.5), "250 2.0.0 Ok\r\n");
        }
        return 1;
    }
    st.msgs++; st.msg_bytes += mlen;
    char qid[13], qreply[96];
    queue_id(qid);
    snprintf(qreply, sizeof qreply, "250 2.0.0 Ok: queued as %s\r\n", qid);

    if (bdat) {
        st.bdat++;
        uint64_t chunk = rnd_log(32 * 1024, 1024 * 1024), a = 0;
        while (a < mlen) {
            uint64_t b = mlen - a <= chunk ? mlen : a + chunk;
            unit *u = unit_add(s, U_DATA, C2S, s->rtt / 2 + ms(0.3));
            unit_piece(u, arena_printf(s, "BDAT %llu%s\r\n", (unsigned long long)(b - a),
                                       b == mlen ? " LAST" : ""));
            unit_range(u, m, nm, a, b);
            if (b == mlen)
                say(s, S2C, s->rtt / 2 + ms(5 + rnd_unit() * 200), qreply);
            else {
                char ok_chunk[80];
                snprintf(ok_chunk, sizeof ok_chunk, "250 2.0.0 Ok: %llu octets received\r\n",
                         (unsigned long long)(b - a));
                say(s, S2C, s->rtt / 2 + ms(0.5), ok_chunk);
            }
            a = b;
        }
        return 1;
    }

    if (viol == V_REPLY_IN_DATA) {
        /* seed 004: 552 while content is coming, FIN, RST to more data. */
        uint64_t cut = rnd_range(4, 20) * MSS, more = 3 * MSS;
        unit *u = unit_add(s, U_DATA, C2S, s->rtt / 2 + ms(0.2));
        unit_range(u, m, nm, 0, cut);
        say(s, S2C, ms(0.3), "552 5.3.4 Message size exceeds fixed limit\r\n");
        u = unit_add(s, U_DATA, C2S, s->seg_gap);
        unit_range(u, m, nm, cut, cut + more);
        unit_add(s, U_FIN, S2C, ms(0.2));
        u = unit_add(s, U_DATA, C2S, s->seg_gap);
        unit_range(u, m, nm, cut + more, cut + more + MSS);
        unit_add(s, U_RST, S2C, s->rtt / 2);
        return 0;
    }
    if (viol == V_ABORT_IN_DATA) {
        /* seed 001: closing before the end of data; nothing is delivered. */
        uint64_t cut = mlen / 2 - rnd_below(mlen / 4);
        unit *u = unit_add(s, U_DATA, C2S, s->rtt / 2 + ms(0.2));
        unit_range(u, m, nm, 0, cut);
        unit_add(s, U_FIN, C2S, s->seg_gap);
        unit_add(s, U_FIN, S2C, s->rtt / 2 + ms(1));
        unit_add(s, U_ACK, C2S, s->rtt / 2);
        return 0;
    }
    unit *u = unit_add(s, U_DATA, C2S, s->rtt / 2 + ms(0.2));
    unit_range(u, m, nm, 0, mlen);
    unit_piece(u, arena_printf(s, ".\r\n"));
    say(s, S2C, s->rtt / 2 + ms(5 + rnd_unit() * 300), qreply);
    return 1;
}

/* After STARTTLS the rest is opaque to the analyser: flights of TLS
 * application data records (random payload) both ways, then the close. */
static void sess_tls(sess *s)
{
    st.tls++;
    say(s, C2S, s->rtt / 2 + ms(0.5), "STARTTLS\r\n");
    say(s, S2C, s->rtt / 2 + ms(0.5), "220 2.0.0 Ready to start TLS\r\n");
    static const struct { int dir; uint64_t lo, hi; } flight[] = {
        { C2S, 250, 600 }, { S2C, 2500, 6000 }, { C2S, 60, 130 }, { S2C, 200, 300 },
        { C2S, 0, 0 }, { S2C, 30, 200 }, { C2S, 24, 60 }, { S2C, 24, 60 } };
    uint64_t nrec = pool_len[SRC_RAND] / TLSREC;
    for (size_t i = 0; i < sizeof flight / sizeof flight[0]; i++) {
        uint64_t n = flight[i].hi ? rnd_range(flight[i].lo, flight[i].hi) : msg_size_pick();
        unit *u = unit_add(s, U_DATA, flight[i].dir, s->rtt / 2 + ms(0.5 + rnd_unit() * 5));
        uint64_t full = n / 16384, rem = n % 16384;
        if (full)
            unit_piece(u, (piece){ SRC_RAND, rnd_below(nrec) * TLSREC, full * TLSREC });
        if (rem) {
            piece h = arena_printf(s, "hhhhh");
            uint8_t *r = s->arena + h.start;
            r[0] = 0x17; r[1] = 3; r[2] = 3; r[3] = (uint8_t)(rem >> 8); r[4] = (uint8_t)rem;
            unit_piece(u, h);
            unit_piece(u, (piece){ SRC_RAND, rnd_below(nrec) * TLSREC + 5, rem });
        }
    }
    close_normal(s);
}

/* Builds the whole script of a new session starting at now. */
static void sess_build(sess *s, uint64_t now)
{
    static uint64_t counter;
    s->id = ++counter;
    st.sessions++;
    s->alen = 0; s->nu = 0; s->ui = 0; s->off = 0; s->segs = 0; s->pending_ack = 0;
    s->rtt = (uint32_t)rnd_log(200, 60000);
    s->seg_gap = (uint32_t)rnd_log(20, 400);
    s->next_us = now + rnd_below(2000);
    int server = (int)rnd_below(4);
    s->ip[S2C] = (192u << 24) | (0u << 16) | (2u << 8) | (uint32_t)(10 + server);
    s->ip[C2S] = chance(0.5) ? (198u << 24) | (51u << 16) | (100u << 8) | (uint32_t)rnd_range(1, 254)
                             : (203u << 24) | (0u << 16) | (113u << 8) | (uint32_t)rnd_range(1, 254);
    int sub = chance(0.15);
    st.port587 += (uint64_t)sub;
    s->port[S2C] = sub ? 587 : 25;
    s->port[C2S] = (uint16_t)(32768 + (s->id * 7919) % 28000);
    for (int d = 0; d < 2; d++) {
        s->seq[d] = (uint32_t)rnd();
        s->tsbase[d] = (uint32_t)rnd();
        s->tsval[d] = 0;
        s->ipid[d] = (uint16_t)rnd();
        s->ttl[d] = d == S2C ? 64 : (chance(0.5) ? 64 : 117);
    }
    snprintf(s->sname, sizeof s->sname, "mx%d.example.net", server + 1);
    snprintf(s->sdomain, sizeof s->sdomain, "%s", domains[rnd_below(sizeof domains / sizeof domains[0])]);
    snprintf(s->cdomain, sizeof s->cdomain, "%s", domains[rnd_below(sizeof domains / sizeof domains[0])]);
    snprintf(s->cname, sizeof s->cname, "mail-%u.%s", s->ip[C2S] & 255, s->cdomain);

    feats f = {0};
    f.esmtp = !chance(0.03);
    f.pipelining = f.esmtp && !chance(0.08);
    f.chunking = f.esmtp && chance(0.3);
    f.starttls = f.esmtp && chance(0.6);
    f.size = f.esmtp && !chance(0.05);
    f.eightbit = f.esmtp;
    f.auth = f.esmtp && sub;
    int kind = K_DELIVER;
    if (mix.probe + mix.nomail + mix.reject > 0) {
        double k = rnd_unit();
        kind = k < mix.probe ? K_PROBE : k < mix.probe + mix.nomail ? K_NOMAIL
             : k < mix.probe + mix.nomail + mix.reject ? K_REJECT : K_DELIVER;
        st.kind[kind]++;
        if (kind == K_REJECT) f.rejall = 1;
    }
    int viol = kind == K_DELIVER && chance(vfrac) ? (int)rnd_range(1, V_COUNT - 1) : V_NONE;
    if (viol == V_REPLY_LOST && !f.pipelining) f.esmtp = f.pipelining = f.eightbit = 1;
    if (viol) f.starttls = 0;
    st.viol[viol]++;
    st.helo += (uint64_t)!f.esmtp;
    st.nopipe += (uint64_t)(f.esmtp && !f.pipelining);

    unit_add(s, U_SYN, C2S, 0);
    unit_add(s, U_SYNACK, S2C, s->rtt / 2);
    unit_add(s, U_ACK, C2S, s->rtt / 2);
    char line[512];
    snprintf(line, sizeof line, "220 %s ESMTP Postfix (Debian/GNU)\r\n", s->sname);
    say(s, S2C, ms(1 + rnd_unit() * 40), line);
    if (kind == K_PROBE) {
        /* a scanner or a monitor: reads the greeting, then either says
         * QUIT or just closes */
        if (chance(0.5)) {
            say(s, C2S, s->rtt / 2 + ms(0.3), "QUIT\r\n");
            say(s, S2C, s->rtt / 2 + ms(0.3), "221 2.0.0 Bye\r\n");
            close_normal(s);
        } else {
            unit_add(s, U_FIN, C2S, s->rtt / 2 + ms(1));
            unit_add(s, U_FIN, S2C, s->rtt / 2 + ms(1));
            unit_add(s, U_ACK, C2S, s->rtt / 2);
        }
        goto planned;
    }
    snprintf(line, sizeof line, "%s %s\r\n", f.esmtp ? "EHLO" : "HELO", s->cname);
    say(s, C2S, s->rtt / 2 + ms(0.3), line);
    if (f.esmtp) {
        sbuf r = {0};
        sb_add(&r, "250-%s\r\n", s->sname);
        if (f.pipelining) sb_add(&r, "250-PIPELINING\r\n");
        if (f.size) sb_add(&r, "250-SIZE %llu\r\n", (unsigned long long)max_msg * 4);
        sb_add(&r, "250-VRFY\r\n250-ETRN\r\n");
        if (f.starttls) sb_add(&r, "250-STARTTLS\r\n");
        if (f.auth) sb_add(&r, "250-AUTH PLAIN LOGIN\r\n");
        sb_add(&r, "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n");
        if (f.chunking) sb_add(&r, "250-CHUNKING\r\n250-BINARYMIME\r\n");
        sb_add(&r, "250 SMTPUTF8\r\n");
        say(s, S2C, s->rtt / 2 + ms(0.5 + rnd_unit() * 5), r.b);
    } else {
        snprintf(line, sizeof line, "250 %s\r\n", s->sname);
        say(s, S2C, s->rtt / 2 + ms(0.5), line);
    }
    if (f.starttls && chance(0.25)) { sess_tls(s); goto planned; }
    if (f.auth) {
        st.auth++;
        say(s, C2S, s->rtt / 2 + ms(0.3), "AUTH PLAIN AHVzZXJAZXhhbXBsZS5jb20Ac2VjcmV0cGFzc3dvcmQ=\r\n");
        say(s, S2C, s->rtt / 2 + ms(2 + rnd_unit() * 50), "235 2.7.0 Authentication successful\r\n");
    }
    if (kind == K_NOMAIL) {
        /* no message: half are sender-verification callouts (MAIL
         * FROM:<>, one RCPT, then QUIT), half say EHLO and leave */
        if (chance(0.5)) {
            char c[256];
            snprintf(c, sizeof c, "RCPT TO:<%s%d@%s>\r\n", PICK(first_names),
                     (int)rnd_below(100), s->sdomain);
            if (f.pipelining) {
                sbuf cb = {0};
                sb_add(&cb, "MAIL FROM:<>\r\n%s", c);
                say(s, C2S, s->rtt / 2 + ms(0.3), cb.b);
                say(s, S2C, s->rtt / 2 + ms(1 + rnd_unit() * 20), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
            } else {
                say(s, C2S, s->rtt / 2 + ms(0.3), "MAIL FROM:<>\r\n");
                say(s, S2C, s->rtt / 2 + ms(0.5), "250 2.1.0 Ok\r\n");
                say(s, C2S, s->rtt / 2 + ms(0.3), c);
                say(s, S2C, s->rtt / 2 + ms(1 + rnd_unit() * 20), "250 2.1.5 Ok\r\n");
            }
        }
        goto quit;
    }
    int ntx = kind == K_REJECT ? 1 : chance(0.2) ? (chance(0.3) ? 3 : 2) : 1;
    for (int t = 0; t < ntx; t++) {
        if (t && chance(0.5)) {
            say(s, C2S, s->rtt / 2 + ms(0.3), "RSET\r\n");
            say(s, S2C, s->rtt / 2 + ms(0.3), "250 2.0.0 Ok\r\n");
        }
        if (!sess_transaction(s, &f, viol, t == ntx - 1, s->next_us))
            goto planned;
    }
    if (viol == V_NO_QUIT) {
        /* seed 001: the mail is delivered, the session ends without QUIT */
        unit_add(s, U_FIN, C2S, s->rtt / 2 + ms(1));
        unit_add(s, U_FIN, S2C, s->rtt / 2 + ms(1));
        unit_add(s, U_ACK, C2S, s->rtt / 2);
        goto planned;
    }
quit:
    say(s, C2S, s->rtt / 2 + ms(0.3), "QUIT\r\n");
    say(s, S2C, s->rtt / 2 + ms(0.3), "221 2.0.0 Bye\r\n");
    close_normal(s);
planned:
    s->planned = 0;
    for (size_t i = 0; i < s->nu; i++) {
        uint64_t segs = s->u[i].kind == U_DATA ? (s->u[i].len + MSS - 1) / MSS : 1;
        s->planned += s->u[i].len + segs * (16 + 14 + 20 + 32) + (segs / 2) * (16 + 66);
    }
}

/* ------------------------------------------------------------------ */
/* Packets.                                                            */

static uint8_t *out;
static size_t outn;
static int outfd;

static void out_flush(void)
{
    size_t done = 0;
    while (done < outn) {
        ssize_t w = write(outfd, out + done, outn - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "gen: write: %s\n", strerror(errno));
            exit(2);
        }
        done += (size_t)w;
    }
    outn = 0;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static void le32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }   /* pcap is host order */

/* Internet checksum, summed in host order (RFC 1071 §2(B)). */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
    while (n >= 4) { uint32_t w; memcpy(&w, p, 4); sum += w; p += 4; n -= 4; }
    if (n >= 2) { uint16_t w; memcpy(&w, p, 2); sum += w; p += 2; n -= 2; }
    if (n) { uint16_t w = 0; memcpy(&w, p, 1); sum += w; }
    return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void copy_pieces(const sess *s, const unit *u, uint64_t off, uint8_t *dst, size_t n)
{
    for (int i = 0; i < u->npieces && n; i++) {
        const piece *p = &u->p[i];
        if (off >= p->len) { off -= p->len; continue; }
        uint64_t take = p->len - off < n ? p->len - off : n;
        const uint8_t *base = p->src == SRC_ARENA ? s->arena : pool[p->src];
        size_t blen = p->src == SRC_ARENA ? s->alen : pool_len[p->src];
        uint64_t pos = (p->start + off) % blen;
        for (uint64_t left = take; left; ) {
            uint64_t k = blen - pos < left ? blen - pos : left;
            memcpy(dst, base + pos, k);
            dst += k; left -= k; pos = 0;
        }
        n -= take; off = 0;
    }
}

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16 };

static const uint8_t mac_server[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x10 };
static const uint8_t mac_router[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0xfe };

static void emit(sess *s, int dir, int flags, const unit *u, uint64_t off, uint32_t plen)
{
    if (OUTBUF - outn < 2048) out_flush();
    uint8_t *rec = out + outn, *eth = rec + 16, *ip = eth + 14, *tcp = ip + 20;
    int syn = flags & F_SYN;
    uint32_t thl = syn ? 40 : 32;
    uint8_t *pay = tcp + thl;
    uint32_t iplen = 20 + thl + plen, caplen = 14 + iplen;
    uint64_t us = s->next_us;

    le32(rec, (uint32_t)(START_SEC + us / 1000000));
    le32(rec + 4, (uint32_t)(us % 1000000));
    le32(rec + 8, caplen);
    le32(rec + 12, caplen);

    memcpy(eth, dir == C2S ? mac_server : mac_router, 6);
    memcpy(eth + 6, dir == C2S ? mac_router : mac_server, 6);
    eth[12] = 0x08; eth[13] = 0x00;

    ip[0] = 0x45; ip[1] = 0;
    put16(ip + 2, (uint16_t)iplen);
    put16(ip + 4, s->ipid[dir]++);
    put16(ip + 6, 0x4000);                      /* DF */
    ip[8] = s->ttl[dir]; ip[9] = 6;
    ip[10] = ip[11] = 0;
    put32(ip + 12, s->ip[dir]);
    put32(ip + 16, s->ip[!dir]);
    uint16_t ic = csum_fold(csum_add(0, ip, 20));
    memcpy(ip + 10, &ic, 2);

    put16(tcp, s->port[dir]);
    put16(tcp + 2, s->port[!dir]);
    put32(tcp + 4, s->seq[dir]);
    put32(tcp + 8, (flags & F_ACK) ? s->seq[!dir] : 0);
    tcp[12] = (uint8_t)((thl / 4) << 4);
    tcp[13] = (uint8_t)(((flags & F_FIN) ? 0x01 : 0) | (syn ? 0x02 : 0) |
                        ((flags & F_RST) ? 0x04 : 0) | ((flags & F_PSH) ? 0x08 : 0) |
                        ((flags & F_ACK) ? 0x10 : 0));
    put16(tcp + 14, syn ? 64240 : 502);        /* 502 << 7 = 64256 */
    tcp[16] = tcp[17] = 0; tcp[18] = tcp[19] = 0;
    uint32_t tsv = s->tsbase[dir] + (uint32_t)(us / 1000);
    s->tsval[dir] = tsv;
    uint8_t *o = tcp + 20;
    if (syn) {
        o[0] = 2; o[1] = 4; put16(o + 2, 1460);          /* MSS */
        o[4] = 4; o[5] = 2;                               /* SACK permitted */
        o[6] = 8; o[7] = 10; put32(o + 8, tsv);           /* timestamps */
        put32(o + 12, (flags & F_ACK) ? s->tsval[!dir] : 0);
        o[16] = 1; o[17] = 3; o[18] = 3; o[19] = 7;       /* NOP, wscale 7 */
    } else {
        o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10;
        put32(o + 4, tsv);
        put32(o + 8, s->tsval[!dir]);
    }
    if (plen) copy_pieces(s, u, off, pay, plen);

    uint8_t ph[12];
    put32(ph, s->ip[dir]); put32(ph + 4, s->ip[!dir]);
    ph[8] = 0; ph[9] = 6; put16(ph + 10, (uint16_t)(thl + plen));
    uint16_t tc = csum_fold(csum_add(csum_add(0, ph, 12), tcp, thl + plen));
    memcpy(tcp + 16, &tc, 2);

    s->seq[dir] += plen + (syn ? 1 : 0) + ((flags & F_FIN) ? 1 : 0);
    outn += 16 + caplen;
    st.packets++;
    st.bytes += 16 + caplen;
}

/* Sends the session's next packet and schedules the one after.
 * Returns 1 when the session is over. */
static int sess_step(sess *s)
{
    if (s->pending_ack) {
        emit(s, !s->u[s->ui].dir, F_ACK, NULL, 0, 0);
        s->pending_ack = 0;
        s->next_us += s->seg_gap;
        return 0;
    }
    unit *u = &s->u[s->ui];
    int done_unit = 1;
    switch (u->kind) {
    case U_SYN:    emit(s, u->dir, F_SYN, NULL, 0, 0); break;
    case U_SYNACK: emit(s, u->dir, F_SYN | F_ACK, NULL, 0, 0); break;
    case U_ACK:    emit(s, u->dir, F_ACK, NULL, 0, 0); break;
    case U_FIN:    emit(s, u->dir, F_FIN | F_ACK, NULL, 0, 0); break;
    case U_RST:    emit(s, u->dir, F_RST | F_ACK, NULL, 0, 0); break;
    case U_DATA: {
        uint64_t left = u->len - s->off;
        uint32_t n = left < MSS ? (uint32_t)left : MSS;
        emit(s, u->dir, F_ACK | (n == left ? F_PSH : 0), u, s->off, n);
        s->off += n;
        if (s->off < u->len) {
            done_unit = 0;
            if (++s->segs == 2) { s->segs = 0; s->pending_ack = 1; }
        }
        break;
    }
    }
    if (!done_unit) {
        s->next_us += s->pending_ack ? rnd_range(10, 120) : s->seg_gap;
        return 0;
    }
    s->ui++; s->off = 0; s->segs = 0;
    if (s->ui == s->nu) return 1;
    s->next_us += s->u[s->ui].delay;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The schedule: a min-heap of sessions by time of their next packet.  */

static sess **heap;
static size_t nheap;

static int heap_less(const sess *a, const sess *b)
{
    return a->next_us < b->next_us || (a->next_us == b->next_us && a->id < b->id);
}

static void heap_down(size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < nheap && heap_less(heap[l], heap[m])) m = l;
        if (r < nheap && heap_less(heap[r], heap[m])) m = r;
        if (m == i) return;
        sess *t = heap[i]; heap[i] = heap[m]; heap[m] = t;
        i = m;
    }
}

static void heap_up(size_t i)
{
    while (i) {
        size_t p = (i - 1) / 2;
        if (!heap_less(heap[i], heap[p])) return;
        sess *t = heap[i]; heap[i] = heap[p]; heap[p] = t;
        i = p;
    }
}

static int parse_size(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || d < 0) return -1;
    switch (*end) {
    case 'k': case 'K': d *= 1024; end++; break;
    case 'm': case 'M': d *= 1024 * 1024; end++; break;
    case 'g': case 'G': d *= 1024.0 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return -1;
    *v = (uint64_t)d;
    return 0;
}

/* --mix NAME[,KEY=VALUE...]: a preset of mixes[], then overrides. */
static int mix_parse(const char *arg)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", arg);
    char *name = strtok_r(buf, ",", &save);
    size_t i;
    for (i = 0; name && i < sizeof mixes / sizeof mixes[0]; i++)
        if (!strcmp(name, mixes[i].name)) break;
    if (!name || i == sizeof mixes / sizeof mixes[0]) return -1;
    mix = mixes[i];
    for (char *kv; (kv = strtok_r(NULL, ",", &save)); ) {
        char *eq = strchr(kv, '=');
        if (!eq) return -1;
        *eq++ = 0;
        uint64_t sz;
        double d = strtod(eq, NULL);
        if (!strcmp(kv, "probe")) mix.probe = d;
        else if (!strcmp(kv, "nomail")) mix.nomail = d;
        else if (!strcmp(kv, "reject")) mix.reject = d;
        else if (!strcmp(kv, "sigma")) mix.sigma = d;
        else if (!strcmp(kv, "median") && !parse_size(eq, &sz)) mix.median = (double)sz;
        else return -1;
    }
    if (mix.probe < 0 || mix.nomail < 0 || mix.reject < 0 ||
        mix.probe + mix.nomail + mix.reject > 1 || mix.sigma < 0)
        return -1;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: gen -o FILE [--bytes SIZE] [--sessions N] [--seed S]\n"
                    "           [--mix bulk|gateway[,KEY=VALUE...]]\n"
                    "           [--violations FRACTION] [--max-message SIZE] [--summary]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t budget = 100ull << 20, seed = 1, conc = 300;
    const char *file = NULL;
    int summary = 0, max_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--summary")) { summary = 1; continue; }
        if (!v) usage();
        i++;
        if (!strcmp(a, "-o")) file = v;
        else if (!strcmp(a, "--bytes")) { if (parse_size(v, &budget)) usage(); }
        else if (!strcmp(a, "--max-message")) {
            if (parse_size(v, &max_msg) || max_msg < 2048) usage();
            max_given = 1;
        }
        else if (!strcmp(a, "--mix")) { if (mix_parse(v)) usage(); }
        else if (!strcmp(a, "--sessions")) { conc = strtoull(v, NULL, 10); if (!conc || conc > 100000) usage(); }
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 0);
        else if (!strcmp(a, "--violations")) {
            vfrac = strtod(v, NULL);
            if (vfrac < 0 || vfrac > 1) usage();
        }
        else usage();
    }
    if (!file) usage();
    if (!max_given) max_msg = mix.max_msg;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    uint64_t x = seed;
    for (int i = 0; i < 4; i++) rng_s[i] = gen_splitmix(&x);
    gen_pool_text(1u << 20);
    gen_pool_b64((2u << 20) / 78);
    gen_pool_tls(64);

    outfd = strcmp(file, "-") ? open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644) : 1;
    if (outfd < 0) { fprintf(stderr, "gen: %s: %s\n", file, strerror(errno)); return 2; }
    out = xmalloc(OUTBUF);
    le32(out, 0xa1b2c3d4);                             /* host order */
    memset(out + 8, 0, 8);
    le32(out + 16, 65535);
    le32(out + 20, 1);                                 /* LINKTYPE_ETHERNET */
    memcpy(out + 4, (uint16_t[]){ 2, 4 }, 4);
    outn = 24;
    st.bytes = 24;

    heap = xmalloc(conc * sizeof *heap);
    uint64_t planned = 24, now = 0;
    for (uint64_t i = 0; i < conc && planned < budget; i++) {
        sess *s = calloc(1, sizeof *s);
        if (!s) { fprintf(stderr, "gen: out of memory\n"); return 2; }
        s->acap = 8192; s->arena = xmalloc(s->acap);
        sess_build(s, rnd_below(200000));
        planned += s->planned;
        heap[nheap++] = s;
        heap_up(nheap - 1);
    }
    while (nheap) {
        sess *s = heap[0];
        now = s->next_us;
        if (sess_step(s)) {
            if (planned < budget) {
                sess_build(s, now);
                planned += s->planned;
            } else {
                free(s->arena); free(s->u); free(s);
                heap[0] = heap[--nheap];
            }
        }
        heap_down(0);
    }
    out_flush();
    if (outfd != 1 && close(outfd) < 0) {
        fprintf(stderr, "gen: %s: %s\n", file, strerror(errno));
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (summary) {
        fprintf(stderr,
            "file %s: %llu bytes, %llu packets, %.1f s of traffic\n"
            "sessions %llu (port 587: %llu, HELO: %llu, no PIPELINING: %llu, TLS: %llu, AUTH: %llu)\n"
            "transactions %llu, recipients %llu (rejected %llu), messages %llu (%llu bytes, BDAT %llu)\n"
            "mix %s: probes %llu, without a message %llu, rejected at RCPT %llu, delivering %llu\n"
            "violations:",
            file, (unsigned long long)st.bytes, (unsigned long long)st.packets, (double)now / 1e6,
            (unsigned long long)st.sessions, (unsigned long long)st.port587,
            (unsigned long long)st.helo, (unsigned long long)st.nopipe,
            (unsigned long long)st.tls, (unsigned long long)st.auth,
            (unsigned long long)st.tx, (unsigned long long)st.rcpts,
            (unsigned long long)st.rejected, (unsigned long long)st.msgs,
            (unsigned long long)st.msg_bytes, (unsigned long long)st.bdat,
            mix.name, (unsigned long long)st.kind[K_PROBE], (unsigned long long)st.kind[K_NOMAIL],
            (unsigned long long)st.kind[K_REJECT],
            (unsigned long long)(st.sessions - st.kind[K_PROBE] - st.kind[K_NOMAIL] - st.kind[K_REJECT]));
        for (int v = 1; v < V_COUNT; v++)
            fprintf(stderr, " %s %llu", vnames[v], (unsigned long long)st.viol[v]);
        fprintf(stderr, "\ngenerated in %.2f s (%.0f MB/s)\n", secs, (double)st.bytes / 1e6 / secs);
    }
    return 0;
}
