/*
 * client.c - the passive client machine (see client.h).
 *
 * In line modes, the text of a line is taken in runs up to its CR or LF
 * and the octets that can end a line or change the mode are read one at
 * a time (so that a mode change made by a callback applies to the very
 * next octet); BDAT and TLS octets are counted in bulk. End of data is
 * <CRLF>.<CRLF> exactly (RFC 5321 §4.1.1.4); the content start counts as
 * preceded by CRLF (the DATA line's). The sequences a lenient server may
 * take for end of data (SMTP smuggling) are reported where they start.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "plainrun.h"

/* What a line's text points to before any octet was kept. */
static const uint8_t client_empty[1];

void sc_client_init(sc_client *c, const sc_client_ops *ops, void *ctx)
{
    memset(c, 0, sizeof *c);
    c->ops = ops;
    c->ctx = ctx;
    c->mode = SC_CM_COMMAND;
    c->resync_off = UINT64_MAX;
}

void sc_client_free(sc_client *c)
{
    free(c->buf);
    c->buf = NULL;
}

/* The line buffer, allocated on first use. Without memory the line keeps
 * no prefix (only its length counts), as a line beyond SC_LINE_KEEP does. */
static size_t client_room(sc_client *c)
{
    if (!c->buf && !(c->buf = malloc(SC_LINE_KEEP)))
        return 0;
    return SC_LINE_KEEP - c->kept;
}

static void client_line_reset(sc_client *c)
{
    c->kept = 0;
    c->len = 0;
    c->cr = false;
    c->stuffed = false;
    c->in_line = false;
    c->bare_cr = 0;
}

void sc_client_set_mode(sc_client *c, sc_client_mode m)
{
    if (m == SC_CM_CONTENT && c->mode != SC_CM_CONTENT) {
        /* The DATA line's CRLF precedes the content. */
        memcpy(c->hist, "\0\0\r\n", 4);
        c->content_started = false;
    }
    c->mode = m;
}

void sc_client_chunk(sc_client *c, uint64_t n)
{
    c->mode = SC_CM_BDAT;
    c->chunk_size = n;
    c->chunk_left = n;
    c->chunk_off = c->off;
}

bool sc_client_partial(const sc_client *c)
{
    return c->in_line || (c->mode == SC_CM_BDAT && c->chunk_left > 0) ||
           (c->mode == SC_CM_CONTENT && c->content_started);
}

static void client_line_add(sc_client *c, uint8_t b)
{
    if (c->kept < SC_LINE_KEEP && client_room(c))
        c->buf[c->kept++] = b;
    c->len++;
}

static void client_line_deliver(sc_client *c, bool bare_lf)
{
    if (c->mode == SC_CM_COMMAND && c->ops->rewrite && c->buf)
        c->ops->rewrite(c->ctx, c->buf, c->kept, c->len, c->start);
    sc_cline l = {
        .text = c->buf ? c->buf : client_empty, .kept = c->kept, .len = c->len,
        .wire_len = c->len + (bare_lf ? 1 : 2) + (c->stuffed ? 1 : 0),
        .off = c->start, .frame = c->frame, .bare_lf = bare_lf,
        .bare_cr = c->bare_cr, .stuffed = c->stuffed,
    };
    sc_client_mode m = c->mode;

    client_line_reset(c);
    if (m == SC_CM_COMMAND && c->ops->command)
        c->ops->command(c->ctx, &l);
    else if (m == SC_CM_AUTH && c->ops->auth)
        c->ops->auth(c->ctx, &l);
    else if (m == SC_CM_CONTENT && c->ops->content)
        c->ops->content(c->ctx, &l);
}

/* A command or AUTH line of n octets at p (n > 0) whose CRLF follows in
 * the same segment, read from the start of a line: handed over from the
 * segment's bytes (in_place), as client_line_run and client_line_deliver
 * would hand it over after copying it. */
static void client_line_whole(sc_client *c, const uint8_t *p, size_t n)
{
    sc_cline l = {
        .text = p, .kept = n < SC_LINE_KEEP ? n : SC_LINE_KEEP, .len = n,
        .wire_len = n + 2, .off = c->off, .frame = c->frame,
    };

    c->off += n + 2;
    if (c->mode == SC_CM_COMMAND && c->ops->command)
        c->ops->command(c->ctx, &l);
    else if (c->mode == SC_CM_AUTH && c->ops->auth)
        c->ops->auth(c->ctx, &l);
}

/* Content: end of data and the ambiguous sequences, judged on the octet b
 * and the four before it. Returns true when b completed <CRLF>.<CRLF>. */
static bool client_content_scan(sc_client *c, uint8_t b)
{
    const uint8_t *h = c->hist;   /* h[3] is the octet just before b */

    if (b == '\n' && h[3] == '\r' && h[2] == '.' && h[1] == '\n' && h[0] == '\r')
        return true;
    if (!c->ops->ambiguous)
        return false;
    if (b == '\n' && h[3] == '.' && h[2] == '\n')
        c->ops->ambiguous(c->ctx, h[1] == '\r' ? "<CR><LF>.<LF>" : "<LF>.<LF>",
                          c->off - (h[1] == '\r' ? 3 : 2), c->frame);
    else if (b == '\n' && h[3] == '\r' && h[2] == '.' && h[1] == '\n' && h[0] != '\r')
        c->ops->ambiguous(c->ctx, "<LF>.<CR><LF>", c->off - 3, c->frame);
    else if (b == '\r' && h[3] == '.' && h[2] == '\r')
        c->ops->ambiguous(c->ctx, "<CR>.<CR>", c->off - 2, c->frame);
    return false;
}

/* Written out rather than memmove: it runs for every content octet. */
static void client_hist_push(sc_client *c, uint8_t b)
{
    c->hist[0] = c->hist[1];
    c->hist[1] = c->hist[2];
    c->hist[2] = c->hist[3];
    c->hist[3] = b;
}

/* The history after the n octets at p. */
static void client_hist_take(sc_client *c, const uint8_t *p, size_t n)
{
    if (n >= 4)
        memcpy(c->hist, p + n - 4, 4);
    else
        for (size_t k = 0; k < n; k++)
            client_hist_push(c, p[k]);
}

/* Octets of a line with no CR and no LF: what client_line_octet would do
 * to each, done to the run at once (see client_run_ok). None can end the
 * line, the data or start an ambiguous sequence, as those need a CR or a
 * LF. */
static void client_line_run(sc_client *c, const uint8_t *p, size_t n)
{
    size_t room = c->kept < SC_LINE_KEEP ? client_room(c) : 0;

    if (!c->in_line) {
        c->in_line = true;
        c->start = c->off;
    }
    sc_plain_keep(c->buf, &c->kept, room, p, n);
    c->len += n;
    c->off += n;
    if (c->mode == SC_CM_CONTENT)
        client_hist_take(c, p, n);
}

/* Whether the octets from b up to the next CR or LF may be read as one run
 * (client_line_run) rather than one at a time: not while dropping octets
 * up to a LF after a gap, not after a CR (which the next octet makes bare
 * or not), not at the first octet of content (content_begin may change
 * the mode) and not at a dot that starts a content line (transparency). */
static bool client_run_ok(const sc_client *c, uint8_t b)
{
    if (c->resync || c->cr)
        return false;
    return c->mode != SC_CM_CONTENT ||
           (c->content_started && (c->len > 0 || c->stuffed || b != '.'));
}

/* From the start of a content line: how many octets of p are complete
 * plain lines (see content_lines in client.h), *lines how many. Each line
 * is searched once, and the first line that is not plain is left to the
 * octet path, so a segment costs one pass whatever it holds. */
static size_t client_plain_lines(const uint8_t *p, size_t n, uint64_t *lines)
{
    size_t k = 0;

    *lines = 0;
    while (k < n && p[k] != '.') {
        size_t w = n - k < SC_PLAIN_LINE_MAX ? n - k : SC_PLAIN_LINE_MAX;
        size_t cr = sc_plain_run(p + k, w);   /* the first CR or LF */

        if (cr + 1 >= w || p[k + cr] != '\r' || p[k + cr + 1] != '\n')
            break;                       /* incomplete, too long, bare LF or CR */
        k += cr + 2;
        ++*lines;
    }
    return k;
}

/* Plain content lines from a line start, counted in bulk. They hold no
 * dot after a line break and no bare CR or LF, so they can neither end the
 * data nor start an ambiguous sequence. */
static size_t client_content_lines(sc_client *c, const uint8_t *p, size_t n)
{
    uint64_t lines;
    size_t k = client_plain_lines(p, n, &lines);

    if (!k)
        return 0;
    c->off += k;
    client_hist_take(c, p, k);
    c->ops->content_lines(c->ctx, lines, k, c->frame);
    return k;
}

/* One octet in a line mode (command, AUTH, content). */
static void client_line_octet(sc_client *c, uint8_t b)
{
    bool content = c->mode == SC_CM_CONTENT;

    if (content && !c->content_started) {
        c->content_started = true;
        if (c->ops->content_begin)
            c->ops->content_begin(c->ctx, c->off, c->frame);
        if (c->mode != SC_CM_CONTENT) {      /* the callback changed it */
            client_line_octet(c, b);
            return;
        }
    }
    if (c->resync) {
        if (c->resync_off == UINT64_MAX)
            c->resync_off = c->off;
        if (b == '\n') {
            c->resync = false;
            if (c->ops->skipped)
                c->ops->skipped(c->ctx, c->resync_off, c->off + 1);
            c->resync_off = UINT64_MAX;
        }
        if (content)
            client_hist_push(c, b);
        c->off++;
        return;
    }
    if (!c->in_line) {
        c->in_line = true;
        c->start = c->off;
    }
    if (content) {
        bool eod = client_content_scan(c, b);
        client_hist_push(c, b);
        if (eod) {
            sc_cline dot = { .text = (const uint8_t *)".", .kept = 1, .len = 1,
                             .wire_len = 3, .off = c->start, .frame = c->frame };
            client_line_reset(c);
            c->off++;
            c->mode = SC_CM_COMMAND;
            memset(c->hist, 0, sizeof c->hist);
            if (c->ops->eod)
                c->ops->eod(c->ctx, &dot);
            return;
        }
    }
    c->off++;
    if (b == '\n') {
        client_line_deliver(c, !c->cr);
        return;
    }
    if (c->cr) {                     /* the CR before b was bare */
        c->bare_cr++;
        client_line_add(c, '\r');
        c->cr = false;
    }
    if (b == '\r') {
        c->cr = true;
        return;
    }
    if (content && b == '.' && c->len == 0 && !c->stuffed) {
        c->stuffed = true;           /* RFC 5321 §4.5.2 transparency */
        return;
    }
    client_line_add(c, b);
}

void sc_client_feed(sc_client *c, const uint8_t *p, size_t n, uint64_t frame)
{
    size_t i = 0;

    c->frame = frame;
    while (i < n) {
        if (c->mode == SC_CM_TLS) {
            c->tls_octets += n - i;
            c->off += n - i;
            break;
        }
        if (c->mode == SC_CM_BDAT) {
            uint64_t take = c->chunk_left < n - i ? c->chunk_left : n - i;
            c->chunk_left -= take;
            c->off += take;
            i += take;
            if (c->chunk_left == 0) {
                c->mode = SC_CM_COMMAND;
                if (c->ops->chunk)
                    c->ops->chunk(c->ctx, c->chunk_size, c->chunk_off, frame);
            }
            continue;
        }
        if (c->mode == SC_CM_CONTENT && c->count_only && c->content_started &&
            !c->in_line && !c->resync && c->ops->content_lines) {
            size_t k = client_content_lines(c, p + i, n - i);
            if (k > 0) {
                i += k;
                continue;
            }
        }
        if (client_run_ok(c, p[i])) {
            /* Line text in bulk up to the next CR or LF: message bodies are
             * most of the bytes, command lines most of the lines, and an
             * octet at a time costs 20 times more. A line longer than its
             * kept prefix costs a scan, not a call per octet. */
            size_t run = sc_plain_run(p + i, n - i);
            if (run > 0 && c->in_place && !c->in_line && c->mode != SC_CM_CONTENT &&
                n - i - run >= 2 && p[i + run] == '\r' && p[i + run + 1] == '\n') {
                /* Most command lines come whole in one segment. */
                client_line_whole(c, p + i, run);
                i += run + 2;
                continue;
            }
            if (run > 0) {
                client_line_run(c, p + i, run);
                i += run;
                continue;
            }
        }
        client_line_octet(c, p[i++]);
    }
    /* No line left open: the buffer goes back until the next one that
     * spans two segments (idle sessions hold none). */
    if (!c->in_line)
        sc_client_free(c);
}

void sc_client_gap(sc_client *c, uint64_t n)
{
    c->off += n;
    if (c->mode == SC_CM_TLS)
        return;
    if (c->mode == SC_CM_BDAT) {
        if (n < c->chunk_left) {
            c->chunk_left -= n;
            return;
        }
        c->chunk_left = 0;
        c->mode = SC_CM_COMMAND;
    }
    client_line_reset(c);
    memset(c->hist, 0, sizeof c->hist);
    /* Content: the next line boundary is the first trustworthy point.
     * Commands: the next line is delivered; a fragment of a lost line is
     * no known verb and the session, blind after a gap, ignores it. */
    c->resync = c->mode == SC_CM_CONTENT;
    c->resync_off = UINT64_MAX;
}

void sc_client_resync(sc_client *c)
{
    c->resync = true;
    c->resync_off = UINT64_MAX;
}
