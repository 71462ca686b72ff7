/*
 * smtp_auth.c - AUTH (RFC 4954): the mechanism read from the command, the
 * credentials masked in the transcript and in --redact ranges, whatever
 * the rest of the analysis does with them.
 *
 * Rule: auth-plaintext (PLAIN or LOGIN credentials on a session with no
 * TLS), once per session, whether the credentials come as the initial
 * response or as a later line of the exchange.
 *
 * While an AUTH exchange may be running, a client line is a credential:
 * after AUTH until a reply that ends it (smtp_auth_ended()), and, since
 * a lost 334 or a lost AUTH leaves no trace, from a gap or a mid-stream
 * start (smtp_auth_uncertain()) until the client sends a line that is
 * clearly a command (a known verb, then a space or the end of the line:
 * base64 has no space, and the client sends commands only once it holds
 * the exchange over). Every credential goes through smtp_auth_mask(), so
 * the transcript, the JSON, the evidence and --redact see one masked line.
 *
 * Interface: smtp_auth_command() masks an AUTH command line and says
 * whether it may end a pipelined group early; smtp_auth_line() is the
 * client machine's callback for the lines of the exchange (after a 334);
 * smtp_auth_unknown_line() takes a command-mode line that may be a
 * credential; smtp_auth_partial() the same for a line cut by the client's
 * close; smtp_auth_encrypted() when the session's TLS is decrypted.
 *
 * Diagnostics: the transcript shows "[redacted, N bytes]" in place of
 * every credential, other protocols' login lines (FTP and POP3 PASS, an
 * IMAP LOGIN) included.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtp_int.h"
#include "smtp/args.h"

/* Inside TLS that is read, credentials are not plaintext: the rule is
 * taken as said for the rest of the session. */
void smtp_auth_encrypted(sc_smtp *s)
{
    (void)smtp_once(s, R_AUTH_PLAINTEXT, SC_SIDE_CLIENT);
}

/* auth-plaintext, the one place it fires. mech NULL: a line of the
 * exchange, whose mechanism is PLAIN or LOGIN. */
static void smtp_auth_plaintext(sc_smtp *s, uint64_t frame, const uint8_t *shown, size_t sn,
                                const uint8_t *mech, size_t mlen)
{
    sc_evidence e;

    if (!s->auth.cred || s->info.tls || !smtp_once(s, R_AUTH_PLAINTEXT, SC_SIDE_CLIENT))
        return;
    if (mech)
        smtp_find(s, R_AUTH_PLAINTEXT, SC_SIDE_CLIENT, frame,
                  smtp_ev(&e, frame, SC_DIR_C2S, shown, sn),
                  "AUTH %.*s credentials sent on an unencrypted session",
                  (int)mlen, (const char *)mech);
    else
        smtp_find(s, R_AUTH_PLAINTEXT, SC_SIDE_CLIENT, frame,
                  smtp_ev(&e, frame, SC_DIR_C2S, shown, sn),
                  "AUTH PLAIN/LOGIN credentials sent on an unencrypted session");
}

/* Masks the initial response of an AUTH line into `masked`. Returns true
 * when the AUTH carries an initial response for a mechanism known to
 * complete in one round trip with no security layer: RFC 4954 §4 lets such
 * an AUTH be followed by more commands in a pipelined group. */
bool smtp_auth_command(sc_smtp *s, const sc_cline *l, uint8_t *masked, size_t *mn)
{
    const uint8_t *mech;
    size_t mlen, keep;
    unsigned bits = sc_arg_auth(l->text, l->kept, &mech, &mlen, &keep);

    s->auth.cred = bits & SC_AUTH_CREDENTIALS;
    s->auth.running = true;
    if (keep == l->kept) {
        *mn = keep;
        memcpy(masked, l->text, keep);
        return false;
    }
    /* An initial response: never shown. */
    uint64_t cred = l->len - keep - 1;
    *mn = (size_t)snprintf((char *)masked, SC_LINE_KEEP, "%.*s [redacted, %llu bytes]",
                           (int)keep, (const char *)l->text, (unsigned long long)cred);
    smtp_redact(s, SC_DIR_C2S, l->off + keep + 1, l->off + l->len);
    smtp_auth_plaintext(s, l->frame, masked, *mn, mech, mlen);
    return bits & SC_AUTH_ONE_ROUND;
}

/* A line that is clearly a command: a known verb followed by a space or
 * the end of the line. No base64 credential has a space; one that spells
 * a bare verb ("QUIT") is taken as the command it reads as. */
static bool smtp_auth_is_command(const uint8_t *text, size_t kept, sc_verb v)
{
    if (v == SC_V_UNKNOWN)
        return false;
    size_t n = strlen(sc_cmd_get(v)->name);

    return kept == n || (kept > n && text[n] == ' ');
}

/* The one place a credential line is shown: "[redacted, N bytes]", its
 * octets a --redact range, auth-plaintext when the mechanism sends
 * credentials in the clear. */
static void smtp_auth_mask(sc_smtp *s, uint64_t frame, uint64_t off, uint64_t len)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "[redacted, %llu bytes]", (unsigned long long)len);

    smtp_line(s, SC_DIR_C2S, SC_LINE_AUTH, frame, (const uint8_t *)buf, (size_t)n);
    smtp_redact(s, SC_DIR_C2S, off, off + len);
    if (len > 0)
        smtp_auth_plaintext(s, frame, (const uint8_t *)buf, (size_t)n, NULL, 0);
}

/* A client line may be a credential: an AUTH is running, or the state is
 * unknown. A clear command ends the uncertainty. */
static bool smtp_auth_maybe(sc_smtp *s, const uint8_t *text, size_t kept, sc_verb v)
{
    if (!s->auth.running && !s->auth.unknown)
        return false;
    if (smtp_auth_is_command(text, kept, v)) {
        s->auth.unknown = false;
        return false;
    }
    /* "*" cancels the exchange (RFC 4954 §4); "." ends data: neither is
     * a credential, both are shown. */
    return !(kept == 1 && (text[0] == '*' || text[0] == '.'));
}

void smtp_auth_line(void *ctx, const sc_cline *l)
{
    sc_smtp *s = ctx;

    sc_client_set_mode(&s->client, SC_CM_COMMAND);
    /* After a gap the 334 that put the client machine here may be stale:
     * the reply that ended the exchange may be lost. */
    if (s->auth.unknown && smtp_auth_is_command(l->text, l->kept, sc_cmd_parse(l->text, l->kept))) {
        s->auth.unknown = s->auth.running = false;
        smtp_command_line(s, l);
        return;
    }
    if (l->kept == 1 && l->text[0] == '*') {
        smtp_line(s, SC_DIR_C2S, SC_LINE_AUTH, l->frame, l->text, 1);
        return;
    }
    smtp_auth_mask(s, l->frame, l->off, l->len);
}

/* The login lines of other protocols a capture on an SMTP port may hold
 * (FTP or POP3 on port 25, a client that took the wrong port): the first
 * word (PASS), or the second after an IMAP tag (LOGIN). */
static const struct { const char *word; bool tagged; } smtp_auth_foreign[] = {
    { "PASS", false }, { "APOP", false }, { "LOGIN", true }, { "AUTHENTICATE", true },
};

static bool smtp_auth_word_is(const uint8_t *p, size_t n, const char *w)
{
    size_t wn = strlen(w);

    return n >= wn && strncasecmp((const char *)p, w, wn) == 0 && (n == wn || p[wn] == ' ');
}

/* A line that carries another protocol's credential. */
static bool smtp_auth_foreign_line(const uint8_t *p, size_t n)
{
    const uint8_t *sp = memchr(p, ' ', n);

    for (size_t i = 0; i < sizeof smtp_auth_foreign / sizeof smtp_auth_foreign[0]; i++) {
        if (!smtp_auth_foreign[i].tagged && smtp_auth_word_is(p, n, smtp_auth_foreign[i].word))
            return true;
        if (smtp_auth_foreign[i].tagged && sp &&
            smtp_auth_word_is(sp + 1, n - (size_t)(sp + 1 - p), smtp_auth_foreign[i].word))
            return true;
    }
    return false;
}

/* A command-mode line while an AUTH exchange may be running: a credential
 * unless it is clearly a command; and a line of another protocol's login
 * (PASS, an IMAP LOGIN) is one, whatever the state. Masked before anything
 * shows it (transcript, JSON, evidence .txt) and its bytes are a --redact
 * range (the evidence pcap). Returns true when it was masked (and shown):
 * the caller reads no more of it. */
bool smtp_auth_unknown_line(sc_smtp *s, const sc_cline *l, sc_verb v)
{
    if (!smtp_auth_maybe(s, l->text, l->kept, v) &&
        !(v == SC_V_UNKNOWN && smtp_auth_foreign_line(l->text, l->kept)))
        return false;
    smtp_auth_mask(s, l->frame, l->off, l->len);
    return true;
}

/* The client closed inside a line: the same test on what was kept. */
bool smtp_auth_partial(sc_smtp *s, uint64_t frame, const uint8_t *text, size_t kept,
                       uint64_t off, uint64_t len)
{
    if (!smtp_auth_maybe(s, text, kept, sc_cmd_parse(text, kept)))
        return false;
    smtp_auth_mask(s, frame, off, len);
    return true;
}

/* A gap or a mid-stream start: an AUTH may be running unseen. */
void smtp_auth_uncertain(sc_smtp *s)
{
    s->auth.unknown = true;
}

/* A reply that ends the exchange (not 334): client lines are commands. */
void smtp_auth_ended(sc_smtp *s)
{
    s->auth.running = s->auth.unknown = false;
    if (s->client.mode == SC_CM_AUTH)
        sc_client_set_mode(&s->client, SC_CM_COMMAND);
}
