/*
 * smtp_pseudo.c - under --redact=addresses, the names and addresses in
 * each SMTP line replaced by their pseudonyms (common/pseudo.h) before
 * anything reads the line.
 *
 * The machines hand every complete command line and every reply line
 * here first (sc_client_ops.rewrite, sc_server_ops.rewrite); the line is
 * rewritten in place, at its length, so the transcript, the rules, the
 * findings' messages and evidence, the transactions and the peer names
 * all read the pseudonymised line, and the evidence pcap gets the same
 * bytes at the same stream offsets (sc_session_info.subst). What is
 * replaced:
 *   - the argument of EHLO/HELO, the host of the 220 greeting and of the
 *     first line of the EHLO reply (remembered, SMTP_PSEUDO_NAMES of
 *     them, so that a reply naming them again is covered too);
 *   - every path in angle brackets, either direction (local part and
 *     domain: MAIL FROM, RCPT TO, a reply that echoes them);
 *   - every word with an '@' (a mailbox), every word with a letter and an
 *     inner dot (a host name), every dotted quad (an IPv4 address) and
 *     every "[IPv6:...]" literal, either direction;
 *   - the words of a VRFY or EXPN argument.
 * Not replaced: a host name without a dot that was not given as EHLO
 * argument or greeting host (a reply's "Hello client01"), an IPv6 address
 * that is not an "IPv6:" literal, bytes of a line beyond what the
 * analysis keeps (SC_LINE_KEEP): those are masked in the pcap.
 * Once the session is TLS, its bytes from there on are masked in the pcap
 * (a ClientHello names the server, a certificate names hosts).
 *
 * Memory: nothing without the option; with it, the state (names, about
 * 300 bytes) is allocated at the session's first line, and the replaced
 * bytes are kept for the evidence pcap, at most
 * SMTP_PSEUDO_SUBST lines and SMTP_PSEUDO_BYTES bytes a session; past
 * that a line's replaced bytes are masked in the pcap instead (X) and
 * counted (sc_session_info.subst_masked).
 *
 * Bytes the machines drop unread (the tail of a line lost in a gap) are
 * masked in the pcap.
 *
 * A command a lenient server would read in message content (smuggling,
 * smtp_smuggle.c) is shown rewritten too (smtp_pseudo_text); its bytes
 * are content, masked in the pcap.
 *
 * Interface (smtp_int.h): smtp_pseudo_client, smtp_pseudo_server,
 * smtp_pseudo_text,
 * smtp_pseudo_skipped_c, smtp_pseudo_skipped_s, smtp_pseudo_tls,
 * smtp_pseudo_free. State: s->pseudo.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/pseudo.h"
#include "smtp_int.h"

static bool ps_alpha(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ps_alnum(uint8_t c)
{
    return ps_alpha(c) || (c >= '0' && c <= '9');
}

/* A byte of a word: what a mailbox or a host name is made of. */
static bool ps_word(uint8_t c)
{
    return ps_alnum(c) || (c && strchr(".-_+@%!#$&'*^`{|}~", c));
}

static void ps_remember(smtp_pname *seen, unsigned *n, const uint8_t *p, size_t len)
{
    if (len == 0 || len > sizeof seen->b || *n >= SMTP_PSEUDO_NAMES)
        return;
    for (unsigned i = 0; i < *n; i++)
        if (seen[i].len == len && strncasecmp((const char *)seen[i].b, (const char *)p, len) == 0)
            return;
    memcpy(seen[*n].b, p, len);
    seen[*n].len = (uint8_t)len;
    (*n)++;
}

static bool ps_seen(const smtp_pseudo_state *ps, const uint8_t *p, size_t len)
{
    for (unsigned i = 0; i < ps->nseen; i++)
        if (ps->seen[i].len == len && strncasecmp((const char *)ps->seen[i].b, (const char *)p,
                                                  len) == 0)
            return true;
    return false;
}

/* "[...]": an address literal; true when it was one. */
static bool ps_literal(uint8_t *p, size_t n)
{
    if (n >= 5 && strncasecmp((const char *)p, "IPv6:", 5) == 0)
        return sc_pseudo_ipv6_text(p + 5, n - 5);
    return sc_pseudo_ipv4_text(p, n);
}

/* A domain: an address literal, or a name. */
static void ps_domain(uint8_t *p, size_t n)
{
    if (n >= 2 && p[0] == '[' && p[n - 1] == ']' && ps_literal(p + 1, n - 2))
        return;
    if (!sc_pseudo_ipv4_text(p, n))
        sc_pseudo_domain(p, n);
}

/* A mailbox (or a bare local part): the local part and the domain apart,
 * so that the domain is the same as elsewhere. "postmaster" is left. */
static void ps_mailbox(uint8_t *p, size_t n)
{
    size_t at = n;

    for (size_t i = n; i-- > 0;)
        if (p[i] == '@') {
            at = i;
            break;
        }
    if (at == n && n == 10 && strncasecmp((const char *)p, "postmaster", 10) == 0)
        return;
    sc_pseudo_local(p, at);
    if (at + 1 < n)
        ps_domain(p + at + 1, n - at - 1);
}

/* The inside of "<...>": a source route ("@a,@b:") then a mailbox. */
static void ps_path(uint8_t *p, size_t n)
{
    size_t ms = 0;

    if (n && p[0] == '@')
        for (size_t i = 0; i < n; i++)
            if (p[i] == ':') {
                ms = i + 1;
                break;
            }
    for (size_t i = 0; i < ms;) {             /* the route's domains */
        size_t j = i;
        while (j < ms && p[j] != ',' && p[j] != ':')
            j++;
        if (j > i + 1)
            ps_domain(p + i + 1, j - i - 1);
        i = j + 1;
    }
    if (ms < n)
        ps_mailbox(p + ms, n - ms);
}

/* A word: a mailbox, an address, a host name, or a name seen before. */
static void ps_token(const smtp_pseudo_state *st, uint8_t *p, size_t n)
{
    bool letter = false, inner_dot = false;

    while (n && p[n - 1] == '.')        /* the end of a sentence */
        n--;
    if (n == 0)
        return;
    if (memchr(p, '@', n)) {
        ps_mailbox(p, n);
        return;
    }
    if (sc_pseudo_ipv4_text(p, n))
        return;
    for (size_t i = 0; i < n; i++) {
        letter |= ps_alpha(p[i]);
        if (p[i] == '.' && i > 0 && i + 1 < n && ps_alnum(p[i - 1]) && ps_alnum(p[i + 1]))
            inner_dot = true;
    }
    if ((letter && inner_dot) || ps_seen(st, p, n))
        sc_pseudo_domain(p, n);
}

/* Every path, literal and word of t[a, b). A "<...>" is a path when it
 * holds an '@' or, paths: the line is a command whose argument is one
 * (MAIL, RCPT, VRFY, EXPN: "<postmaster>"); "<CR><LF>" in a reply is not. */
static void ps_scan(const smtp_pseudo_state *st, uint8_t *t, size_t a, size_t b, bool paths)
{
    size_t i = a;

    while (i < b) {
        uint8_t c = t[i];
        if (c == '<' || c == '[') {
            uint8_t *e = memchr(t + i + 1, c == '<' ? '>' : ']', b - i - 1);
            if (e) {
                size_t j = (size_t)(e - t);
                if (c == '<' && (paths || memchr(t + i + 1, '@', j - i - 1)))
                    ps_path(t + i + 1, j - i - 1);
                else if (c == '<' || !ps_literal(t + i + 1, j - i - 1))
                    ps_scan(st, t, i + 1, j, paths);
                i = j + 1;
                continue;
            }
        }
        if (ps_word(c)) {
            size_t j = i;
            while (j < b && ps_word(t[j]))
                j++;
            ps_token(st, t + i, j - i);
            i = j;
            continue;
        }
        i++;
    }
}

/* The word at t[a..]: its end. */
static size_t ps_word_end(const uint8_t *t, size_t a, size_t n)
{
    while (a < n && t[a] != ' ')
        a++;
    return a;
}

/* A name given as such (EHLO argument, greeting host): replaced whatever
 * it looks like, and remembered. */
static void ps_name(smtp_pseudo_state *st, uint8_t *t, size_t a, size_t e)
{
    if (e <= a)
        return;
    ps_remember(st->seen, &st->nseen, t + a, e - a);
    ps_domain(t + a, e - a);
}

/* Room for one more entry and len more bytes: 0, or -1 out of memory. */
static int ps_room(smtp_pseudo_state *st, size_t len)
{
    if (st->nsubst == st->capsubst) {
        size_t cap = st->capsubst ? st->capsubst * 2 : 16;
        sc_subst *ns = realloc(st->subst, cap * sizeof *ns);
        if (!ns)
            return -1;
        st->subst = ns;
        st->capsubst = cap;
    }
    if (st->nbytes + len > st->capbytes) {
        size_t cap = st->capbytes ? st->capbytes : 512;
        while (cap < st->nbytes + len)
            cap *= 2;
        uint8_t *nb = realloc(st->bytes, cap);
        if (!nb)
            return -1;
        st->bytes = nb;
        st->capbytes = cap;
    }
    return 0;
}

/* Keeps the replaced bytes of a line for the evidence pcap. */
static void ps_keep(sc_smtp *s, sc_dir dir, const uint8_t *was, const uint8_t *t, size_t n,
                    uint64_t off)
{
    smtp_pseudo_state *st = s->pseudo;
    size_t a = 0, b = n;

    while (a < n && was[a] == t[a])
        a++;
    if (a == n)
        return;
    while (b > a && was[b - 1] == t[b - 1])
        b--;
    size_t len = b - a;
    if (st->nsubst == SMTP_PSEUDO_SUBST || st->nbytes + len > SMTP_PSEUDO_BYTES ||
        ps_room(st, len) < 0) {
        s->info.subst = st->subst;                 /* (one may have moved) */
        s->info.subst_bytes = st->bytes;
        smtp_redact(s, dir, off + a, off + b);     /* masked rather than shown */
        s->info.subst_masked++;
        return;
    }
    memcpy(st->bytes + st->nbytes, t + a, len);
    st->subst[st->nsubst++] = (sc_subst){ dir, off + a, (uint32_t)len, (uint32_t)st->nbytes };
    st->nbytes += len;
    s->info.subst = st->subst;
    s->info.nsubst = st->nsubst;
    s->info.subst_bytes = st->bytes;
}

/* What every line gets: the change kept, the bytes the analysis does not
 * keep masked in the pcap. */
static void ps_finish(sc_smtp *s, sc_dir dir, const uint8_t *was, uint8_t *t, size_t kept,
                      uint64_t len, uint64_t off)
{
    ps_keep(s, dir, was, t, kept, off);
    if (len > kept)
        smtp_redact(s, dir, off + kept, off + len);
}

/* The session's state, allocated at its first line under the option:
 * a session without it pays a pointer. NULL: out of memory. */
static smtp_pseudo_state *ps_state(sc_smtp *s)
{
    if (!s->pseudo)
        s->pseudo = calloc(1, sizeof *s->pseudo);
    return s->pseudo;
}

/* Out of memory (or a line longer than the machines keep): no pseudonym
 * can be kept, so nothing of the line is
 * shown (its letters and digits X) and its bytes are masked in the pcap. */
static void ps_blank(sc_smtp *s, sc_dir dir, uint8_t *t, size_t kept, uint64_t len, uint64_t off)
{
    for (size_t i = 0; i < kept; i++)
        if (ps_alnum(t[i]))
            t[i] = 'X';
    smtp_redact(s, dir, off, off + len);
}

/* A command line rewritten in place. */
static void ps_command(smtp_pseudo_state *st, uint8_t *t, size_t kept)
{
    size_t from = 0;
    sc_verb v = sc_cmd_parse(t, kept);
    size_t a = ps_word_end(t, 0, kept);

    while (a < kept && t[a] == ' ')
        a++;
    if (v == SC_V_HELO || v == SC_V_EHLO) {
        from = ps_word_end(t, a, kept);
        ps_name(st, t, a, from);
    } else if (v == SC_V_VRFY || v == SC_V_EXPN) {
        /* a user's name, a list's: every word of it */
        for (size_t i = a; i < kept;) {
            size_t e = ps_word_end(t, i, kept);
            if (memchr(t + i, '<', e - i))
                ps_scan(st, t, i, e, true);
            else
                ps_mailbox(t + i, e - i);
            i = e + 1;
        }
        from = kept;
    }
    ps_scan(st, t, from, kept, v == SC_V_MAIL || v == SC_V_RCPT);
}

/* What both directions do first: nothing without --redact=addresses; a
 * line too long to keep a copy of, or a session without pseudonym state,
 * blanked whole (true: done); else the line as it was kept in was, for
 * ps_finish to compare with. */
static bool ps_begin(sc_smtp *s, sc_dir d, uint8_t was[SC_LINE_KEEP], uint8_t *t,
                     size_t kept, uint64_t len, uint64_t off)
{
    if (!s->cfg->redact_addresses)
        return false;
    if (kept > SC_LINE_KEEP || !ps_state(s)) {
        ps_blank(s, d, t, kept, len, off);
        return false;
    }
    memcpy(was, t, kept);
    return true;
}

static void ps_client_line(sc_smtp *s, uint8_t *t, size_t kept, uint64_t len, uint64_t off)
{
    uint8_t was[SC_LINE_KEEP];

    if (!ps_begin(s, SC_DIR_C2S, was, t, kept, len, off))
        return;
    ps_command(s->pseudo, t, kept);
    ps_finish(s, SC_DIR_C2S, was, t, kept, len, off);
}

/* Every line comes here: without the option it costs a test, not the
 * frame of the copy (ps_client_line, ps_server_line). */
void smtp_pseudo_client(void *ctx, uint8_t *t, size_t kept, uint64_t len, uint64_t off)
{
    sc_smtp *s = ctx;

    if (s->cfg->redact_addresses)
        ps_client_line(s, t, kept, len, off);
}

void smtp_pseudo_text(sc_smtp *s, uint8_t *t, size_t n)
{
    if (!s->cfg->redact_addresses)
        return;
    if (ps_state(s))
        ps_command(s->pseudo, t, n);
    else
        for (size_t i = 0; i < n; i++)
            t[i] = ps_alnum(t[i]) ? 'X' : t[i];
}

static void ps_server_line(sc_smtp *s, uint8_t *t, size_t kept, uint64_t len, uint64_t off,
                           bool first)
{
    uint8_t was[SC_LINE_KEEP];
    size_t from = kept >= 4 ? 4 : kept;      /* the code is no name */

    if (!ps_begin(s, SC_DIR_S2C, was, t, kept, len, off))
        return;
    if (first && kept > 4) {
        /* the greeting's host, the EHLO reply's: the word after the code */
        const sc_pending *p = sc_matcher_firm(&s->m) ? sc_matcher_at(&s->m, 0) : NULL;
        bool greeting = !s->reply.greeted && t[0] == '2' && t[1] == '2' && t[2] == '0';
        bool ehlo = p && (p->verb == SC_V_EHLO || p->verb == SC_V_HELO) && t[0] == '2';
        if (greeting || ehlo) {
            from = ps_word_end(t, 4, kept);
            ps_name(s->pseudo, t, 4, from);
        }
    }
    ps_scan(s->pseudo, t, from, kept, false);
    ps_finish(s, SC_DIR_S2C, was, t, kept, len, off);
}

void smtp_pseudo_server(void *ctx, uint8_t *t, size_t kept, uint64_t len, uint64_t off,
                        bool first)
{
    sc_smtp *s = ctx;

    if (s->cfg->redact_addresses)
        ps_server_line(s, t, kept, len, off, first);
}

/* Bytes the machines dropped unread: nothing shows them, but the pcap
 * would carry their names. */
void smtp_pseudo_skipped_c(void *ctx, uint64_t off, uint64_t end)
{
    sc_smtp *s = ctx;

    if (s->cfg->redact_addresses)
        smtp_redact(s, SC_DIR_C2S, off, end);
}

void smtp_pseudo_skipped_s(void *ctx, uint64_t off, uint64_t end)
{
    sc_smtp *s = ctx;

    if (s->cfg->redact_addresses)
        smtp_redact(s, SC_DIR_S2C, off, end);
}

void smtp_pseudo_tls(sc_smtp *s)
{
    if (!s->cfg->redact_addresses)
        return;
    smtp_redact(s, SC_DIR_C2S, s->client.off, UINT64_MAX);
    smtp_redact(s, SC_DIR_S2C, s->server.off, UINT64_MAX);
}

void smtp_pseudo_free(sc_smtp *s)
{
    if (s->pseudo) {
        free(s->pseudo->subst);
        free(s->pseudo->bytes);
        free(s->pseudo);
        s->pseudo = NULL;
    }
}
