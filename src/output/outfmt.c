/*
 * outfmt.c - names and time formats shared by the outputs (outfmt.h).
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/pseudo.h"
#include "outfmt.h"

/* Writes v as exactly n decimal digits (zero padded) at p. */
static char *fmt_digits(char *p, unsigned long v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

/* Writes v (below 100) as two digits at p. */
static char *fmt_pair(char *p, unsigned long v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* The date and minute of the last time formatted: times come about in
 * capture order, so most fall in the same minute as the one before, and
 * the calendar arithmetic was most of what a time cost. */
static long fmt_minute = -1;
static char fmt_head[17];          /* "YYYY-MM-DDTHH:MM:" */

/* The time of day and the civil date from days since 1970-01-01 (the
 * proleptic Gregorian calendar, as gmtime), without gmtime_r and snprintf:
 * JSON writes three times a session, the text report one. Years 1970-9999;
 * anything else takes the general path below, which prints the same. */
static bool fmt_rfc3339_fast(const struct timeval *tv, char *buf, size_t len)
{
    if (tv->tv_sec < 0 || tv->tv_sec > 253402300799 || len < 28)
        return false;
    long minute = (long)(tv->tv_sec / 60);
    char *p = buf;

    if (minute != fmt_minute) {
        long days = minute / 1440, mod = minute % 1440;
        long z = days + 719468, era = z / 146097, doe = z - era * 146097;
        long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
        long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
        long y = yoe + era * 400 + (m <= 2);
        char *q = fmt_head;

        q = fmt_digits(q, (unsigned long)y, 4);
        *q++ = '-';
        q = fmt_digits(q, (unsigned long)m, 2);
        *q++ = '-';
        q = fmt_digits(q, (unsigned long)d, 2);
        *q++ = 'T';
        q = fmt_digits(q, (unsigned long)(mod / 60), 2);
        *q++ = ':';
        q = fmt_digits(q, (unsigned long)(mod % 60), 2);
        *q = ':';
        fmt_minute = minute;
    }
    unsigned long us = tv->tv_usec >= 0 && tv->tv_usec < 1000000 ? (unsigned long)tv->tv_usec : 0;

    memcpy(p, fmt_head, sizeof fmt_head);
    p += sizeof fmt_head;
    p = fmt_pair(p, (unsigned long)(tv->tv_sec % 60));
    *p++ = '.';
    p = fmt_pair(p, us / 10000);     /* in pairs: no loop of six divisions */
    p = fmt_pair(p, us / 100 % 100);
    p = fmt_pair(p, us % 100);
    *p++ = 'Z';
    *p = '\0';
    return true;
}

const char *sc_fmt_rfc3339(const struct timeval *tv, char *buf, size_t len)
{
    struct tm tm;
    time_t t = tv->tv_sec;

    if (fmt_rfc3339_fast(tv, buf, len))
        return buf;

    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, len, "1970-01-01T00:00:00.000000Z");
        return buf;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(tv->tv_usec >= 0 && tv->tv_usec < 1000000 ? tv->tv_usec : 0));
    return buf;
}

double sc_fmt_elapsed(const struct timeval *a, const struct timeval *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_usec - a->tv_usec) / 1e6;
}

static const char *const fmt_close_by[] = {
    [SC_CLOSE_NONE] = "none", [SC_CLOSE_CLIENT] = "client", [SC_CLOSE_SERVER] = "server",
};
static const char *const fmt_close_how[] = {
    [SC_HOW_CAPTURE_END] = "capture-end", [SC_HOW_FIN] = "fin", [SC_HOW_RST] = "rst",
    [SC_HOW_TIMEOUT] = "timeout", [SC_HOW_EVICTED] = "evicted",
};
static const char *const fmt_txn_result[] = {
    [SC_TXN_UNKNOWN] = "unknown", [SC_TXN_ACCEPTED] = "accepted",
    [SC_TXN_REJECTED] = "rejected", [SC_TXN_ABORTED] = "aborted",
};

#define FMT_NAME(table, v) \
    ((unsigned)(v) < sizeof table / sizeof table[0] && table[v] ? table[v] : "unknown")

const char *sc_fmt_close_by(sc_close_by by)    { return FMT_NAME(fmt_close_by, by); }
const char *sc_fmt_close_how(sc_close_how how) { return FMT_NAME(fmt_close_how, how); }
const char *sc_fmt_txn_result(sc_txn_result r) { return FMT_NAME(fmt_txn_result, r); }

sc_bytes sc_fmt_path_arg(sc_bytes arg)
{
    static const char *const prefixes[] = { "FROM:", "TO:" };

    if (!arg.p)
        return arg;
    while (arg.len > 0 && arg.p[0] == ' ') {
        arg.p++; arg.len--;
    }
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t k = 0;
        while (prefixes[i][k])
            k++;
        /* the first letter first: strncasecmp is a call through the locale */
        if (arg.len >= k && (arg.p[0] | 0x20) == (prefixes[i][0] | 0x20) &&
            strncasecmp((const char *)arg.p, prefixes[i], k) == 0) {
            arg.p += k; arg.len -= k;
            while (arg.len > 0 && arg.p[0] == ' ') {
                arg.p++; arg.len--;
            }
            break;
        }
    }
    return arg;
}

uint64_t sc_fmt_findings_total(const sc_session_info *info)
{
    return info->findings[0] + info->findings[1] + info->findings[2];
}

void sc_fmt_sensor(const sc_config *cfg, char *buf, size_t len)
{
    if (cfg->sensor)
        snprintf(buf, len, "%s", cfg->sensor);
    else if (gethostname(buf, len) < 0)
        snprintf(buf, len, "unknown");
    buf[len - 1] = '\0';   /* a truncated host name */
    if (!cfg->sensor && cfg->redact_addresses)   /* the machine's name is the network's */
        sc_pseudo_domain((uint8_t *)buf, strlen(buf));
}

const char *sc_fmt_redacted(bool addresses)
{
    return addresses ?
        "message content and AUTH exchanges replaced by X; IP addresses, host names and "
        "mailboxes replaced by pseudonyms of the same length, the same throughout the run "
        "(IPv4 in 240.0.0.0/4 and 0.0.0.0/8, IPv6 in 2001:db8::/96, names of 7 characters "
        "or more ending in .test), TLS bytes replaced by X" :
        "message content and AUTH exchanges replaced by X";
}

char *sc_fmt_fixed(char *w, double d, unsigned decimals, bool plus)
{
    static const double scale[] = { 1, 10, 100, 1000, 10000 };
    unsigned k = decimals < 4 ? decimals : 4;
    double a = d < 0 ? -d : d, x = a * scale[k];
    double fl = x < 1e15 ? (double)(uint64_t)x : 0, frac = x - fl;

    if (!(x < 1e15) || (frac > 0.499 && frac < 0.501)) {
        int n = snprintf(w, SC_FMT_FIXED_MAX, plus ? "%+.*f" : "%.*f", (int)k, d);
        return w + (n < 0 ? 0 : n < SC_FMT_FIXED_MAX ? n : SC_FMT_FIXED_MAX - 1);
    }
    uint64_t q = (uint64_t)fl + (frac > 0.5), unit = (uint64_t)scale[k], fp = q % unit;
    if (signbit(d))
        *w++ = '-';
    else if (plus)
        *w++ = '+';
    w = sc_u64_put(w, q / unit);
    if (k) {
        *w++ = '.';
        for (unsigned i = k; i-- > 0; fp /= 10)     /* the last digit first */
            w[i] = (char)('0' + fp % 10);
        w += k;
    }
    return w;
}
