/*
 * tls_bridge.c - TLS between the reassembler and an SMTP session
 * (sc_tls_bridge_event, tls_bridge.h).
 *
 * The analyser hands every event of a connection here first. Before TLS
 * the events go on to the session untouched. Once the session is in TLS
 * (the 220 to STARTTLS, port 465, or a ClientHello as the client's first
 * bytes) and a key log was given, the stream bytes feed the connection's
 * record layer (sc_tls); until the keys are found they also reach the
 * session, which counts them as not analysed. From the first plaintext
 * record on (not from the keys: a handshake may still fail), only
 * plaintext reaches the session, as DATA events in the frame of the record that
 * carried it, so every rule of the client and server machines applies
 * inside TLS. A record lost to a failed tag reaches the session as a gap
 * (it resynchronises at the next line); the TLS layer's notes become
 * transcript lines. When the session reads plaintext it gets its key log
 * lines (sc_smtp_tls_secrets) for the evidence.
 *
 * dump_dir: the plaintext streams written for inspection (the tests
 * compare them with tshark's), opened and closed at each write like
 * --write-streams; a failure is reported once on standard error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/safeprint.h"
#include "tls_bridge.h"

struct sc_tls_bridge {
    sc_tls     *t;
    sc_keylog  *kl;
    sc_smtp    *s;
    bool        spoke;      /* either side has sent bytes */
    bool        live;       /* the session reads the plaintext */
    const char *dump_dir, *dump_name;
    bool        dump_failed;
};

static void br_dump(sc_tls_bridge *b, sc_dir dir, const uint8_t *p, size_t n)
{
    char path[4096];
    FILE *f;

    if (!b->dump_dir || b->dump_failed)
        return;
    snprintf(path, sizeof path, "%s/%s.%s.tls", b->dump_dir, b->dump_name,
             dir == SC_DIR_C2S ? "c2s" : "s2c");
    errno = 0;
    f = fopen(path, "ab");
    bool bad = !f || fwrite(p, 1, n, f) != n;
    if (f && fclose(f) != 0)
        bad = true;
    if (bad) {
        int e = errno ? errno : EIO;
        fputs("smtpscope: ", stderr);
        sc_safe_fputstr(stderr, path);
        fprintf(stderr, ": %s\n", strerror(e));
        b->dump_failed = true;
    }
}

/* The first plaintext: the session reads from here on. Not at the keys:
 * a handshake that fails after the ServerHello leaves the session as
 * encrypted and unread, not as a plaintext session that went silent. */
static void br_live(sc_tls_bridge *b, uint64_t frame)
{
    char lines[SC_KL_LINES_MAX];
    const uint8_t *cr;

    if (b->live)
        return;
    b->live = true;
    sc_smtp_tls_state(b->s, sc_tls_state_name(SC_TLS_DECRYPTED), sc_tls_version(b->t),
                      sc_tls_cipher(b->t), true, frame);
    if (b->kl && (cr = sc_tls_client_random(b->t)) &&
        sc_keylog_lines(b->kl, cr, lines, sizeof lines))
        sc_smtp_tls_secrets(b->s, lines);
}

static void br_data(void *ctx, sc_dir dir, const uint8_t *p, size_t n,
                    uint64_t frame, struct timeval ts)
{
    sc_tls_bridge *b = ctx;
    sc_flow_event ev = { .kind = SC_FLOW_DATA, .dir = dir, .data = p, .len = n,
                         .frame = frame, .ts = ts };

    br_live(b, frame);
    br_dump(b, dir, p, n);
    sc_smtp_event(b->s, &ev);
}

static void br_gap(void *ctx, sc_dir dir, uint64_t n, uint64_t frame, struct timeval ts)
{
    sc_tls_bridge *b = ctx;
    sc_flow_event ev = { .kind = SC_FLOW_GAP, .dir = dir, .gap = n, .frame = frame, .ts = ts };

    br_live(b, frame);
    sc_smtp_event(b->s, &ev);
}

static void br_state(void *ctx, sc_tls_state st, uint64_t frame, struct timeval ts)
{
    sc_tls_bridge *b = ctx;

    (void)ts;
    if (st == SC_TLS_DECRYPTED)
        st = SC_TLS_PENDING;          /* keys found: "decrypted" at br_live */
    else
        b->live = false;
    sc_smtp_tls_state(b->s, sc_tls_state_name(st), sc_tls_version(b->t), sc_tls_cipher(b->t),
                      false, frame);
    if (st == SC_TLS_NO_KEY)
        sc_smtp_tls_note(b->s, SC_DIR_S2C, frame,
                         "TLS: the key log has no key for this session's client random; "
                         "the rest of the session is not analysed");
}

static void br_note(void *ctx, sc_dir dir, uint64_t frame, struct timeval ts, const char *msg)
{
    sc_tls_bridge *b = ctx;

    (void)ts;
    sc_smtp_tls_note(b->s, dir, frame, msg);
}

static const sc_tls_ops br_ops = { br_data, br_gap, br_state, br_note };

bool sc_tls_bridge_first(sc_smtp *s, const sc_flow_event *ev)
{
    if (ev->kind != SC_FLOW_DATA || !ev->len)
        return false;
    if (ev->dir == SC_DIR_C2S && !sc_smtp_tls_started(s) &&
        sc_tls_is_client_hello(ev->data, ev->len))
        sc_smtp_tls_implicit(s, ev->frame);
    return true;
}

bool sc_tls_bridge_event(sc_tls_bridge **bp, sc_keylog *kl, sc_smtp *s,
                         const sc_flow_event *ev, const char *dump_dir,
                         const char *dump_name)
{
    sc_tls_bridge *b = *bp;

    if (!b) {
        if (!(b = *bp = calloc(1, sizeof *b)))
            return false;
        b->s = s;
        b->dump_dir = dump_dir;
        b->dump_name = dump_name;
    }
    if (!b->spoke)
        b->spoke = sc_tls_bridge_first(s, ev);
    if (!kl || !sc_smtp_tls_started(s))
        return false;
    if (!b->t) {
        if (!(b->t = sc_tls_new(kl, &br_ops, b)))
            return false;
        b->kl = kl;
        sc_smtp_tls_state(s, sc_tls_state_name(SC_TLS_PENDING), NULL, NULL, false, ev->frame);
    }
    switch (ev->kind) {
    case SC_FLOW_DATA:
        if (!b->live)
            sc_smtp_event(s, ev);          /* counted as not analysed */
        sc_tls_feed(b->t, ev->dir, ev->data, ev->len, ev->frame, ev->ts);
        return true;
    case SC_FLOW_GAP:
        sc_tls_gap(b->t, ev->dir, ev->gap, ev->frame, ev->ts);
        return false;
    default:
        return false;
    }
}

void sc_tls_bridge_free(sc_tls_bridge *b)
{
    if (b)
        sc_tls_free(b->t);
    free(b);
}
