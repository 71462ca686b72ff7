/*
 * server.c - the passive server machine (see server.h).
 *
 * Reply-line ABNF (RFC 5321 §4.2):
 *   Reply-code = %x32-35 %x30-35 %x30-39
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                Reply-code [ SP textstring ] CRLF
 * A line whose first three octets are digits but break the first/second
 * digit ranges, or which is followed by something other than SP, "-" or
 * the end, is malformed but its code is kept: clients read the digits.
 */
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "plainrun.h"

/* What a line's text points to before any octet was kept. */
static const uint8_t server_empty[1];

void sc_server_init(sc_server *s, const sc_server_ops *ops, void *ctx)
{
    memset(s, 0, sizeof *s);
    s->ops = ops;
    s->ctx = ctx;
}

void sc_server_free(sc_server *s)
{
    free(s->mem);
    s->mem = s->buf = NULL;
    s->cur.first = s->cur.last = NULL;
    s->cap = 0;
}

/* The buffers, when a line or a reply outlives its segment's bytes (or a
 * line is read where the rewrite callback needs its own copy). Without
 * memory nothing is kept (lengths still count), as for a line beyond
 * SC_RLINE_KEEP. */
static void server_mem_get(sc_server *s)
{
    if (s->mem || !(s->mem = malloc(SC_RLINE_KEEP + SC_REPLY_KEEP)))
        return;
    s->buf = s->mem;
    s->cap = SC_RLINE_KEEP;
}

/* The reply's first line into the machine's memory (it was a view of the
 * line: of the segment, or of the line buffer the next line reuses). */
static void server_first_hold(sc_server *s)
{
    sc_reply *r = &s->cur;

    server_mem_get(s);
    if (!s->mem)
        r->first_len = 0;
    else if (r->first_len)
        memmove(s->mem + SC_RLINE_KEEP, r->first, r->first_len);
    r->first = s->mem ? s->mem + SC_RLINE_KEEP : server_empty;
    s->first_held = true;
}

void sc_server_set_tls(sc_server *s)
{
    s->tls = true;
}

void sc_server_clear_tls(sc_server *s)
{
    s->tls = false;
    s->tls_octets = 0;
}

bool sc_server_partial(const sc_server *s)
{
    return s->in_line || s->in_reply;
}

static bool server_digit(uint8_t c, char lo, char hi)
{
    return c >= (uint8_t)lo && c <= (uint8_t)hi;
}

void sc_rline_parse(sc_rline *l)
{
    const uint8_t *t = l->text;

    l->code = -1;
    l->more = false;
    l->malformed = true;
    l->textstring = NULL;
    l->textlen = 0;
    if (l->kept < 3 || !server_digit(t[0], '0', '9') || !server_digit(t[1], '0', '9') ||
        !server_digit(t[2], '0', '9'))
        return;
    l->code = (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
    l->malformed = !server_digit(t[0], '2', '5') || !server_digit(t[1], '0', '5');
    if (l->len == 3)
        return;
    if (t[3] == '-' || t[3] == ' ') {
        l->more = t[3] == '-';
        l->textstring = t + 4;
        l->textlen = l->kept - 4;
        return;
    }
    l->malformed = true;
    l->textstring = t + 3;
    l->textlen = l->kept - 3;
}

/* A complete line: its kept text (the line buffer, or the segment's
 * bytes when it came whole in one segment), its full length. */
static void server_line_done(sc_server *s, const uint8_t *text, size_t kept, uint64_t len,
                             bool bare_lf)
{
    sc_rline l = {
        .text = text, .kept = kept, .len = len,
        .wire_len = len + (bare_lf ? 1 : 2), .off = s->start,
        .frame = s->frame, .bare_lf = bare_lf,
    };
    sc_reply *r = &s->cur;

    s->kept = 0;
    s->len = 0;
    s->cr = false;
    s->in_line = false;
    sc_rline_parse(&l);
    if (s->resync) {
        /* The first line after a gap (or mid-stream) may be the tail of a
         * lost one: kept only when it reads as a well-formed reply line. */
        s->resync = false;
        if (l.malformed) {
            if (s->ops->skipped)
                s->ops->skipped(s->ctx, l.off, l.off + l.wire_len);
            return;
        }
    }
    if (s->ops->rewrite && s->buf && text == s->buf)
        s->ops->rewrite(s->ctx, s->buf, l.kept, l.len, l.off, !s->in_reply && l.code >= 0);
    if (l.code < 0 && !s->in_reply) {
        /* Not a reply line and not inside one: reported, not a reply. */
        if (s->ops->line)
            s->ops->line(s->ctx, &l, NULL);
        return;
    }
    if (!s->in_reply) {
        memset(r, 0, sizeof *r);
        s->in_reply = true;
        r->code = l.code;
        r->first_frame = l.frame;
        /* A view of the line; held in memory only when it would not last
         * as long as the reply (server_first_hold). */
        r->first = l.text;
        r->first_len = l.kept < SC_REPLY_KEEP ? l.kept : SC_REPLY_KEEP;
        s->first_held = text == server_empty;
        if (text == s->buf)
            server_first_hold(s);
    } else if (l.code != r->code) {
        r->mixed = true;
    }
    r->nlines++;
    r->frame = l.frame;
    r->malformed |= l.malformed;
    /* Only the reply callback reads the last line: it is kept once, from
     * the line that ends the reply, not copied over at every line. */
    bool ends = !l.more && l.code >= 0;    /* a non-reply line does not end it */
    if (ends) {
        r->last = l.text;
        r->last_len = l.kept < SC_REPLY_KEEP ? l.kept : SC_REPLY_KEEP;
    }
    if (s->ops->line)
        s->ops->line(s->ctx, &l, r);
    if (!ends)
        return;
    s->in_reply = false;
    if (s->ops->reply)
        s->ops->reply(s->ctx, r);
}

/* n octets of a line that hold no CR and no LF: the prefix that fits is
 * kept, all are counted. */
static void server_line_add(sc_server *s, const uint8_t *p, size_t n)
{
    if (!s->mem)
        server_mem_get(s);
    sc_plain_keep(s->buf, &s->kept, s->cap - s->kept, p, n);
    s->len += n;
}

void sc_server_feed(sc_server *s, const uint8_t *p, size_t n, uint64_t frame)
{
    size_t i = 0;

    s->frame = frame;
    while (i < n) {
        uint8_t b;

        if (s->tls) {               /* a callback may have set it mid-segment */
            s->tls_octets += n - i;
            s->off += n - i;
            break;
        }
        if (!s->in_line) {
            s->in_line = true;
            s->start = s->off;
        }
        if (!s->cr) {
            /* The text of a line in bulk, up to its CR or LF: a reply
             * line costs one scan, not a pass of tests per octet. */
            size_t run = sc_plain_run(p + i, n - i);
            if (run > 0 && s->in_place && s->len == 0 && n - i - run >= 2 &&
                p[i + run] == '\r' && p[i + run + 1] == '\n') {
                /* Most reply lines come whole in one segment: read from
                 * its bytes, not copied. */
                s->off += run + 2;
                i += run + 2;
                server_line_done(s, p + i - run - 2, run < SC_RLINE_KEEP ? run : SC_RLINE_KEEP, run, false);
                continue;
            }
            if (run > 0) {
                server_line_add(s, p + i, run);
                s->off += run;
                i += run;
                continue;
            }
        }
        b = p[i++];
        s->off++;
        if (b == '\n') {
            server_line_done(s, s->buf ? s->buf : server_empty, s->kept, s->len, !s->cr);
            continue;
        }
        if (s->cr) {                /* the CR before b was bare */
            server_line_add(s, (const uint8_t *)"\r", 1);
            s->cr = false;
        }
        if (b == '\r')
            s->cr = true;
        else
            server_line_add(s, &b, 1);
    }
    /* A reply goes on in the next segment: its first line is held. */
    if (s->in_reply && !s->first_held)
        server_first_hold(s);
    /* Neither a line nor a reply open: the buffers go back until the next
     * segment (idle sessions hold none). */
    if (!s->in_line && !s->in_reply)
        sc_server_free(s);
}

void sc_server_gap(sc_server *s, uint64_t n)
{
    s->off += n;
    if (s->tls)
        return;
    s->kept = 0;
    s->len = 0;
    s->cr = false;
    s->in_line = false;
    s->in_reply = false;
    s->resync = true;
}

void sc_server_resync(sc_server *s)
{
    s->resync = true;
}

int sc_rline_enhanced_class(const uint8_t *t, size_t n)
{
    size_t i = 1, dots = 0, digits;

    if (n < 5 || (t[0] != '2' && t[0] != '4' && t[0] != '5') || t[1] != '.')
        return 0;
    while (dots < 2) {
        if (i >= n || t[i] != '.')
            return 0;
        i++, dots++;
        for (digits = 0; i < n && t[i] >= '0' && t[i] <= '9' && digits < 3; i++)
            digits++;
        if (digits == 0)
            return 0;
    }
    return i == n || t[i] == ' ' ? t[0] - '0' : 0;
}
