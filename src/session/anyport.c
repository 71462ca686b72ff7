/*
 * anyport.c - --any-port: the verdict SMTP or not on a connection to a
 * port that is not an SMTP port (src/session/anyport.h).
 *
 * A 220 greeting alone is not SMTP: FTP greets with 220 too, and then
 * its client sends USER and PASS. So both sides must speak SMTP:
 *
 * - the server's first bytes read as a greeting ("220", or "554"/"421"
 *   refusing, then SP, "-" or CR/LF); anything else: not SMTP at once;
 * - a client line starts with a verb only SMTP has (ap_smtp_verbs: HELP,
 *   NOOP, QUIT and AUTH are FTP's or POP3's too, so they prove nothing).
 *   The verdict comes at the greeting when such a line came before it (a
 *   client talking first: pregreeting), else at the client's first
 *   complete line that started after the greeting: SMTP or not by its
 *   verb.
 *
 * The hold: client bytes before the greeting, at most AP_BEFORE bytes in
 * at most AP_BEFORE_CHUNKS deliveries (what lies beyond reaches the
 * session as one gap, as a capture that lost them would), then the
 * greeting and what follows it until the verdict, AP_HOLD bytes and
 * AP_ENTRIES events in all. A connection that fills the hold after the
 * greeting without a verdict is not SMTP (a greeting and an SMTP command
 * line take a few hundred bytes). A gap, FIN or RST before the verdict:
 * not SMTP either (nothing shows it was). Memory: one hold per undecided
 * connection, freed with the verdict.
 *
 * Diagnostics: none; the analyser counts the connections that were not
 * SMTP for the totals.
 */
#include <stdlib.h>
#include <string.h>

#include "anyport.h"
#include "smtp/command.h"

#define AP_BEFORE        2048     /* client bytes kept before the greeting */
#define AP_BEFORE_CHUNKS 8
#define AP_HOLD          4096
#define AP_ENTRIES       (AP_BEFORE_CHUNKS + 1 + 8)
#define AP_VERB_MAX      8        /* "STARTTLS" */

/* The verbs that make a client an SMTP client. */
static const sc_verb ap_smtp_verbs[] = {
    SC_V_HELO, SC_V_EHLO, SC_V_MAIL, SC_V_RCPT, SC_V_DATA, SC_V_BDAT, SC_V_RSET,
    SC_V_VRFY, SC_V_EXPN, SC_V_ETRN, SC_V_STARTTLS, SC_V_TURN,
    SC_V_SEND, SC_V_SOML, SC_V_SAML,
};

typedef struct ap_entry {
    sc_flow_kind   kind;          /* DATA or GAP */
    sc_dir         dir;
    size_t         off, len;      /* DATA: in buf */
    uint64_t       gap;           /* GAP */
    uint64_t       frame;
    struct timeval ts;
} ap_entry;

struct sc_anyport {
    uint8_t   buf[AP_HOLD];
    size_t    len, before;        /* bytes held; client bytes before the greeting */
    ap_entry  e[AP_ENTRIES];
    unsigned  n;
    bool      greeted;            /* the server's first bytes were a greeting */
    bool      lost;               /* client bytes beyond the bound before it */
    /* the client's lines, read as they pass */
    bool      mid_line;           /* inside a line */
    bool      line_after;         /* the line started after the greeting */
    uint8_t   verb[AP_VERB_MAX];
    unsigned  vlen;
    bool      in_verb, verb_long;
    bool      smtp_line;          /* a line with an SMTP verb came */
    bool      other_after;        /* a line without one came after the greeting */
};

static bool ap_is_greeting(const uint8_t *p, size_t n)
{
    if (n < 4)
        return false;
    if (memcmp(p, "220", 3) != 0 && memcmp(p, "554", 3) != 0 && memcmp(p, "421", 3) != 0)
        return false;
    return p[3] == ' ' || p[3] == '-' || p[3] == '\r' || p[3] == '\n';
}

static bool ap_is_smtp_verb(const uint8_t *v, size_t n)
{
    sc_verb verb = sc_cmd_parse(v, n);

    for (size_t i = 0; i < sizeof ap_smtp_verbs / sizeof ap_smtp_verbs[0]; i++)
        if (ap_smtp_verbs[i] == verb)
            return true;
    return false;
}

static void ap_line_end(sc_anyport *ap)
{
    if (!ap->verb_long && ap->vlen && ap_is_smtp_verb(ap->verb, ap->vlen))
        ap->smtp_line = true;
    else if (ap->line_after)
        ap->other_after = true;
    ap->mid_line = false;
}

/* Reads the verbs of the client's lines (every byte, kept or not). */
static void ap_scan(sc_anyport *ap, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];

        if (!ap->mid_line) {
            ap->mid_line = ap->in_verb = true;
            ap->line_after = ap->greeted;
            ap->vlen = 0;
            ap->verb_long = false;
        }
        if (c == '\n') {
            ap_line_end(ap);
            continue;
        }
        if (!ap->in_verb)
            continue;
        if (c == ' ' || c == '\r')
            ap->in_verb = false;
        else if (ap->vlen < AP_VERB_MAX)
            ap->verb[ap->vlen++] = c;
        else
            ap->verb_long = true;
    }
}

/* Holds DATA bytes: false when they do not fit. */
static bool ap_hold(sc_anyport *ap, const sc_flow_event *ev, size_t n)
{
    if (ap->n == AP_ENTRIES || n > AP_HOLD - ap->len)
        return false;
    ap->e[ap->n++] = (ap_entry){ .kind = SC_FLOW_DATA, .dir = ev->dir, .off = ap->len,
                                 .len = n, .frame = ev->frame, .ts = ev->ts };
    memcpy(ap->buf + ap->len, ev->data, n);
    ap->len += n;
    return true;
}

/* Client bytes before the greeting: as many as the bound keeps, the rest
 * (and all after a loss) one gap. */
static void ap_hold_before(sc_anyport *ap, const sc_flow_event *ev)
{
    size_t n = AP_BEFORE - ap->before;
    ap_entry *g;

    if (ap->lost || ap->n >= AP_BEFORE_CHUNKS)
        n = 0;
    if (n > ev->len)
        n = ev->len;
    if (n && ap_hold(ap, ev, n))
        ap->before += n;
    else
        n = 0;
    if (n == ev->len)
        return;
    g = &ap->e[ap->lost ? ap->n - 1 : ap->n++];    /* the last entry when lost */
    if (!ap->lost)
        *g = (ap_entry){ .kind = SC_FLOW_GAP, .dir = SC_DIR_C2S };
    g->gap += ev->len - n;
    g->frame = ev->frame;
    g->ts = ev->ts;
    ap->lost = true;
}

sc_anyport_verdict sc_anyport_event(sc_anyport **app, const sc_flow_event *ev, bool *held)
{
    sc_anyport *ap = *app;

    *held = false;
    if (ev->kind != SC_FLOW_DATA)
        return SC_ANYPORT_NOT;      /* broken, ended or closed undecided */
    if (!ap && !(ap = *app = calloc(1, sizeof *ap)))
        return SC_ANYPORT_NOT;
    if (ev->dir == SC_DIR_S2C && !ap->greeted) {
        if (!ap_is_greeting(ev->data, ev->len))
            return SC_ANYPORT_NOT;
        ap->greeted = true;
    }
    if (ev->dir == SC_DIR_C2S)
        ap_scan(ap, ev->data, ev->len);
    if (ev->dir == SC_DIR_C2S && !ap->greeted) {
        ap_hold_before(ap, ev);
        *held = true;
    } else {
        *held = ap_hold(ap, ev, ev->len);
    }
    if (ap->greeted && ap->smtp_line)
        return SC_ANYPORT_SMTP;
    if (ap->other_after || !*held)
        return SC_ANYPORT_NOT;
    return SC_ANYPORT_WAIT;
}

void sc_anyport_replay(const sc_anyport *ap, void (*fn)(void *ctx, const sc_flow_event *ev),
                       void *ctx)
{
    for (unsigned i = 0; ap && i < ap->n; i++) {
        const ap_entry *e = &ap->e[i];
        sc_flow_event ev = { .kind = e->kind, .dir = e->dir, .frame = e->frame, .ts = e->ts,
                             .peer_at = SC_PEER_AT_NONE };

        if (e->kind == SC_FLOW_DATA) {
            ev.data = ap->buf + e->off;
            ev.len = e->len;
        } else {
            ev.gap = e->gap;
        }
        fn(ctx, &ev);
    }
}

bool sc_anyport_had_bytes(const sc_anyport *ap)
{
    return ap != NULL;
}

void sc_anyport_free(sc_anyport *ap)
{
    free(ap);
}
