/*
 * syslog.c - --syslog[=DEST]: the transport of JSON objects to a syslog
 * collector (interface: src/output/syslog.h).
 *
 * Formats. To a collector (tcp://, udp://) each message is RFC 5424:
 *   <PRI>1 TIMESTAMP HOSTNAME smtpscope PID MSGID - MSG
 * with the facility daemon, the severity of the finding (err, warning,
 * info; info for the other objects), the time in UTC with microseconds,
 * the sensor as HOSTNAME, the object's "type" as MSGID, no structured
 * data and the JSON object as MSG (no BOM: the collector stores pure
 * JSON). Over TCP each message is framed by RFC 6587 octet counting
 * ("LEN SP MESSAGE"), so a newline inside never splits one. To the local
 * socket (unix:PATH, /dev/log by default) the message is in the form
 * syslog(3) writes, "<PRI>Mmm dd hh:mm:ss smtpscope[PID]: MSG", because
 * that is the form the local daemons parse by default (rsyslog's
 * imuxsock reads RFC 5424 only with its special parser turned off,
 * systemd-journald not at all); the object is the same.
 *
 * Never stalling the capture: messages wait in a queue bounded in bytes
 * (--syslog-queue); every socket is non-blocking; a message the queue
 * cannot take is dropped and counted. A connection that fails or is
 * refused is retried after a backoff that doubles from 200 ms to 30 s. A
 * TCP connection the collector closed is seen before the next write (a
 * write into a closed connection would be lost without a word); a
 * message cut by a broken connection is sent again whole on the next
 * one. A UDP datagram refused by the collector's host (port unreachable)
 * is told by the next send: counted as lost. What a collector accepted
 * into its kernel buffers and then lost by dying cannot be seen by
 * syslog over TCP (RFC 6587 has no acknowledgement).
 *
 * Diagnostics: sc_syslog_open fails on a DEST it does not understand or
 * a host that does not resolve; nothing is printed while running; the
 * counters (sc_syslog_counts) say what became of every message.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "syslog.h"

#define SL_FACILITY_DAEMON 3
#define SL_BACKOFF_MIN_MS  200
#define SL_BACKOFF_MAX_MS  30000
#define SL_DRAIN_RETRY_MS  250
#define SL_UDP_MAX         65507   /* the largest IPv4 UDP payload */
#define SL_HEADER_MAX      400     /* PRI, time, host (255), app, pid, msgid */

typedef enum { SL_UNIX, SL_TCP, SL_UDP } sl_kind;
typedef enum { SL_DOWN, SL_CONNECTING, SL_UP } sl_state;

typedef struct sl_msg {
    struct sl_msg *next;
    size_t         len;
    char           data[];
} sl_msg;

struct sc_syslog {
    sl_kind                 kind;
    struct sockaddr_storage addr;
    socklen_t               alen;
    char                    dest[300];
    char                    host[256];   /* HOSTNAME: the sensor, printable */
    int                     pid;
    int                     fd;
    sl_state                state;
    int64_t                 next_try_ms; /* monotonic */
    unsigned                backoff_ms;
    sl_msg                 *head, *tail;
    size_t                  off;         /* TCP: bytes of the head's frame sent */
    sc_delivery             d;
};

static int64_t sl_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- DEST ---------------------------------------------------------------- */

static int sl_parse_unix(sc_syslog *s, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&s->addr;

    if (path[0] == '\0' || strlen(path) >= sizeof un->sun_path) {
        snprintf(err, errlen, "--syslog: unix:PATH needs a socket path of 1 to %zu bytes",
                 sizeof un->sun_path - 1);
        return -1;
    }
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, strlen(path) + 1);
    s->alen = (socklen_t)sizeof *un;
    s->kind = SL_UNIX;
    return 0;
}

/* HOST:PORT or [V6]:PORT, resolved once. */
static int sl_parse_inet(sc_syslog *s, const char *hp, char *err, size_t errlen)
{
    char host[256];
    const char *port;
    struct addrinfo hints, *res = NULL;

    if (hp[0] == '[') {
        const char *close = strchr(hp, ']');
        if (!close || close[1] != ':' || (size_t)(close - hp - 1) >= sizeof host)
            goto bad;
        memcpy(host, hp + 1, (size_t)(close - hp - 1));
        host[close - hp - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(hp, ':');
        if (!colon || (size_t)(colon - hp) >= sizeof host || strchr(hp, ':') != colon)
            goto bad;
        memcpy(host, hp, (size_t)(colon - hp));
        host[colon - hp] = '\0';
        port = colon + 1;
    }
    if (host[0] == '\0' || port[0] == '\0' || strspn(port, "0123456789") != strlen(port) ||
        atoi(port) < 1 || atoi(port) > 65535)
        goto bad;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = s->kind == SL_TCP ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "--syslog %s: %s", s->dest, gai_strerror(rc));
        return -1;
    }
    memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
    s->alen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
bad:
    snprintf(err, errlen, "--syslog %s: not HOST:PORT or [ADDRESS]:PORT", s->dest);
    return -1;
}

static int sl_parse(sc_syslog *s, const char *dest, char *err, size_t errlen)
{
    static const struct { const char *prefix; sl_kind kind; } schemes[] = {
        { "unix:", SL_UNIX }, { "tcp://", SL_TCP }, { "udp://", SL_UDP },
    };

    if (!dest || !*dest)
        dest = "unix:/dev/log";
    snprintf(s->dest, sizeof s->dest, "%s", dest);
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncmp(dest, schemes[i].prefix, n) != 0)
            continue;
        s->kind = schemes[i].kind;
        return s->kind == SL_UNIX ? sl_parse_unix(s, dest + n, err, errlen)
                                  : sl_parse_inet(s, dest + n, err, errlen);
    }
    snprintf(err, errlen, "--syslog: '%s' is not unix:PATH, tcp://HOST:PORT or "
             "udp://HOST:PORT", dest);
    return -1;
}

/* ---- the connection ---------------------------------------------------- */

static void sl_down(sc_syslog *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->off = 0;            /* a message cut here goes again whole */
    s->state = SL_DOWN;
    s->next_try_ms = sl_now_ms() + s->backoff_ms;
    s->backoff_ms = s->backoff_ms * 2 > SL_BACKOFF_MAX_MS ? SL_BACKOFF_MAX_MS
                                                          : s->backoff_ms * 2;
}

static void sl_up(sc_syslog *s)
{
    s->state = SL_UP;
    s->backoff_ms = SL_BACKOFF_MIN_MS;
    s->d.connects++;
}

static void sl_connect(sc_syslog *s)
{
    int type = s->kind == SL_TCP ? SOCK_STREAM : SOCK_DGRAM;

    s->fd = socket(s->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        sl_down(s);
        return;
    }
    if (connect(s->fd, (struct sockaddr *)&s->addr, s->alen) == 0)
        sl_up(s);
    else if (errno == EINPROGRESS)
        s->state = SL_CONNECTING;
    else
        sl_down(s);
}

/* A TCP connect under way: done, failed, or not yet. */
static void sl_connect_check(sc_syslog *s)
{
    struct pollfd p = { .fd = s->fd, .events = POLLOUT };
    int soerr = 0;
    socklen_t len = sizeof soerr;

    if (poll(&p, 1, 0) <= 0)
        return;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
        sl_up(s);
    else
        sl_down(s);
}

/* A collector never writes to us: anything readable on a TCP connection
 * is its close (or an error), seen now rather than by losing the next
 * message into a dead connection. */
static void sl_tcp_check_closed(sc_syslog *s)
{
    struct pollfd p = { .fd = s->fd, .events = POLLIN | POLLRDHUP };
    char buf[512];

    if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)))
        return;
    ssize_t n = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
        (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
        sl_down(s);
}

/* ---- the queue ----------------------------------------------------------- */

static void sl_pop(sc_syslog *s)
{
    sl_msg *m = s->head;

    s->head = m->next;
    if (!s->head)
        s->tail = NULL;
    s->d.queued--;
    s->d.queue_bytes -= sizeof *m + m->len;
    s->off = 0;
    free(m);
}

static bool sl_again(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ENOBUFS;
}

/* One TCP frame, from where the last write stopped. 1 sent whole, 0 not
 * yet (the socket is full), -1 the connection broke. */
static int sl_send_tcp(sc_syslog *s, sl_msg *m)
{
    char pre[24];
    size_t pl = (size_t)snprintf(pre, sizeof pre, "%zu ", m->len);
    struct iovec iov[2];
    struct msghdr mh = { .msg_iov = iov };
    size_t off = s->off;

    if (off < pl) {
        iov[mh.msg_iovlen++] = (struct iovec){ pre + off, pl - off };
        off = 0;
    } else {
        off -= pl;
    }
    iov[mh.msg_iovlen++] = (struct iovec){ m->data + off, m->len - off };
    ssize_t n = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0)
        return sl_again(errno) ? 0 : -1;
    s->off += (size_t)n;
    return s->off == pl + m->len ? 1 : 0;
}

/* One datagram. 1 sent, 0 not yet, -1 the connection is gone, -2 the
 * message can never go (too large). */
static int sl_send_dgram(sc_syslog *s, sl_msg *m)
{
    if (send(s->fd, m->data, m->len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
        return 1;
    if (sl_again(errno))
        return 0;
    if (errno == EMSGSIZE)
        return -2;
    /* UDP: the error is that of an earlier datagram, which the
     * collector's host refused; this one was not sent. */
    if (s->kind == SL_UDP && errno == ECONNREFUSED && s->d.sent) {
        s->d.sent--;
        s->d.lost++;
    }
    return -1;
}

static void sl_flush(sc_syslog *s)
{
    if (s->kind == SL_TCP && s->head)
        sl_tcp_check_closed(s);
    while (s->head && s->state == SL_UP) {
        int rc = s->kind == SL_TCP ? sl_send_tcp(s, s->head) : sl_send_dgram(s, s->head);
        if (rc == 0)
            return;
        if (rc == -1) {
            sl_down(s);
            return;
        }
        if (rc == 1)
            s->d.sent++;
        else
            s->d.dropped++;
        sl_pop(s);
    }
}

void sc_syslog_pump(sc_syslog *s)
{
    if (s->state == SL_DOWN && sl_now_ms() >= s->next_try_ms)
        sl_connect(s);
    if (s->state == SL_CONNECTING)
        sl_connect_check(s);
    if (s->state == SL_UP)
        sl_flush(s);
}

/* ---- the messages -------------------------------------------------------- */

/* The header of one message, as the transport wants it. */
static int sl_header(const sc_syslog *s, int severity, const char *msgid, char *h, size_t hlen)
{
    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    int pri = SL_FACILITY_DAEMON * 8 + (severity & 7);
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (s->kind == SL_UNIX) {
        if (!localtime_r(&ts.tv_sec, &tm))
            return -1;
        return snprintf(h, hlen, "<%d>%s %2d %02d:%02d:%02d smtpscope[%d]: ", pri,
                        mon[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        s->pid);
    }
    if (!gmtime_r(&ts.tv_sec, &tm))
        return -1;
    return snprintf(h, hlen, "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s smtpscope %d "
                    "%.32s - ", pri, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000, s->host, s->pid,
                    msgid);
}

void sc_syslog_send(void *ctx, const char *msgid, int severity, const char *msg, size_t len)
{
    sc_syslog *s = ctx;
    char h[SL_HEADER_MAX];
    int hl = sl_header(s, severity, msgid, h, sizeof h);
    size_t total = hl > 0 ? (size_t)hl + len : 0;
    sl_msg *m;

    if (hl <= 0 || (size_t)hl >= sizeof h || (s->kind == SL_UDP && total > SL_UDP_MAX) ||
        s->d.queue_bytes + sizeof *m + total > s->d.queue_cap ||
        !(m = malloc(sizeof *m + total))) {
        s->d.dropped++;
        sc_syslog_pump(s);
        return;
    }
    m->next = NULL;
    m->len = total;
    memcpy(m->data, h, (size_t)hl);
    memcpy(m->data + hl, msg, len);
    if (s->tail)
        s->tail->next = m;
    else
        s->head = m;
    s->tail = m;
    s->d.queued++;
    s->d.queue_bytes += sizeof *m + total;
    if (s->d.queue_bytes > s->d.queue_peak)
        s->d.queue_peak = s->d.queue_bytes;
    sc_syslog_pump(s);
}

/* ---- the run ------------------------------------------------------------- */

sc_syslog *sc_syslog_open(const char *dest, const char *host, size_t queue_bytes,
                          char *err, size_t errlen)
{
    sc_syslog *s = calloc(1, sizeof *s);

    if (!s) {
        snprintf(err, errlen, "--syslog: out of memory");
        return NULL;
    }
    if (sl_parse(s, dest, err, errlen) < 0) {
        free(s);
        return NULL;
    }
    /* RFC 5424 HOSTNAME: printable US-ASCII without space, 1-255 */
    size_t n = 0;
    for (; host && host[n] && n < sizeof s->host - 1; n++)
        s->host[n] = host[n] > 32 && host[n] < 127 ? host[n] : '_';
    if (n == 0)
        s->host[n++] = '-';
    s->host[n] = '\0';
    s->pid = (int)getpid();
    s->fd = -1;
    s->state = SL_DOWN;
    s->backoff_ms = SL_BACKOFF_MIN_MS;
    s->next_try_ms = sl_now_ms();
    s->d.dest = s->dest;
    s->d.queue_cap = queue_bytes;
    return s;
}

void sc_syslog_reopen(sc_syslog *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->off = 0;
    s->state = SL_DOWN;
    s->backoff_ms = SL_BACKOFF_MIN_MS;
    s->next_try_ms = sl_now_ms();
    sc_syslog_pump(s);
}

void sc_syslog_drain(sc_syslog *s, unsigned ms)
{
    int64_t deadline = sl_now_ms() + ms;

    for (;;) {
        int64_t now = sl_now_ms();
        /* at the end, retry often whatever the backoff had reached */
        if (s->state == SL_DOWN && s->next_try_ms > now + SL_DRAIN_RETRY_MS)
            s->next_try_ms = now + SL_DRAIN_RETRY_MS;
        sc_syslog_pump(s);
        if (!s->head || now >= deadline)
            break;
        struct pollfd p = { .fd = s->fd, .events = POLLOUT };
        poll(&p, s->state == SL_DOWN ? 0 : 1, 10);   /* none: a 10 ms sleep */
    }
    while (s->head) {
        s->d.dropped++;
        sl_pop(s);
    }
}

const sc_delivery *sc_syslog_counts(const sc_syslog *s)
{
    return &s->d;
}

void sc_syslog_describe(const sc_syslog *s, char *buf, size_t len)
{
    const sc_delivery *d = &s->d;

    snprintf(buf, len, "syslog %s: %llu sent, %llu queued, %llu dropped, %llu lost "
             "(queue peak %llu of %llu bytes, %llu connection%s)", d->dest,
             (unsigned long long)d->sent, (unsigned long long)d->queued,
             (unsigned long long)d->dropped, (unsigned long long)d->lost,
             (unsigned long long)d->queue_peak, (unsigned long long)d->queue_cap,
             (unsigned long long)d->connects, d->connects == 1 ? "" : "s");
}

void sc_syslog_close(sc_syslog *s)
{
    if (!s)
        return;
    while (s->head)
        sl_pop(s);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}
