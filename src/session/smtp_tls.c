/*
 * smtp_tls.c - a session's side of TLS decryption (src/session/session.h,
 * sc_smtp_tls_*): what the bridge in src/session/tls_bridge.c tells the session.
 *
 * Until the keys are found the session is as without --tls-keylog: after
 * the 220 to STARTTLS (or from the start, implicit TLS) both machines
 * only count octets. When the records open, the machines read the
 * plaintext from where they are, with what RFC 3207 §4.2 makes both peers
 * forget: the extensions (the EHLO inside TLS sets those that count from
 * then on; until it comes none is assumed) and the EHLO/HELO, MAIL and
 * RCPT already done. When decryption stops halfway (a wrong key
 * discovered late, bytes missing from the capture) the session goes back
 * to counting: nothing pending is judged on bytes it cannot read.
 *
 * Once decrypted, the session keeps its key log lines for the evidence
 * (info.tls_secrets), never under --redact.
 *
 * Diagnostics: transcript event lines "[TLS: ...]" with their frame.
 */
#include <stdlib.h>
#include <string.h>

#include "smtp_int.h"

bool sc_smtp_tls_started(const sc_smtp *s)
{
    return s->info.tls || s->info.tls_state;
}

void sc_smtp_tls_implicit(sc_smtp *s, uint64_t frame)
{
    if (s->info.tls)
        return;
    s->info.tls = true;
    smtp_pseudo_tls(s);
    sc_client_set_mode(&s->client, SC_CM_TLS);
    sc_server_set_tls(&s->server);
    smtp_capture_not_analysed(s);
    smtp_line_str(s, SC_DIR_C2S, SC_LINE_EVENT, frame,
                  "[TLS: the client's first bytes are a TLS ClientHello (implicit TLS)]");
}

/* Both machines back to counting octets; nothing pending is judged. */
static void smtp_tls_opaque(sc_smtp *s)
{
    s->info.tls = true;
    smtp_pseudo_tls(s);
    sc_client_set_mode(&s->client, SC_CM_TLS);
    sc_server_set_tls(&s->server);
    sc_matcher_clear(&s->m);
    s->cap.blind = true;
}

/* RFC 3207 §4.2: what neither side may rely on after the handshake. */
static void smtp_tls_plaintext(sc_smtp *s)
{
    s->info.tls = false;
    s->tls.probe = false;
    sc_client_set_mode(&s->client, SC_CM_COMMAND);
    s->client.tls_octets = 0;
    sc_server_clear_tls(&s->server);
    sc_matcher_clear(&s->m);
    s->ext.known = false;
    s->ext.bits = 0;
    s->ext.size_limit = 0;
    s->ext.helo_session = false;
    s->cmd.helo = s->cmd.mail = s->cmd.rcpt = false;
    s->seq.helo = s->seq.mail = false;
    s->seq.rcpt = 0;
    smtp_auth_encrypted(s);
}

void sc_smtp_tls_state(sc_smtp *s, const char *state, const char *version,
                       const char *cipher, bool decrypted, uint64_t frame)
{
    bool was = s->info.tls_state && !s->info.tls;

    s->info.tls_state = state;
    s->info.tls_version = version;
    s->info.tls_cipher = cipher;
    if (decrypted && !was) {
        /* From here events carry plaintext: their offsets are no longer
         * the wire's, so the evidence cutter may not bound the wire
         * stream by them (smtp_redact masks nothing of it either). */
        s->info.stream_end[SC_DIR_C2S] = s->info.stream_end[SC_DIR_S2C] = UINT64_MAX;
        smtp_tls_plaintext(s);
        smtp_line_str(s, SC_DIR_S2C, SC_LINE_EVENT, frame,
                      "[TLS: decrypted with the key log (%s, %s)]",
                      version ? version : "?", cipher ? cipher : "?");
    } else if (!decrypted && was) {
        smtp_tls_opaque(s);
    }
}

void sc_smtp_tls_secrets(sc_smtp *s, const char *lines)
{
    /* --redact: the keys would open every masked byte of the evidence */
    if (s->cfg->redact || !lines || !*lines)
        return;
    free(s->tls.secrets);
    s->info.tls_secrets = s->tls.secrets = strdup(lines);
}

void sc_smtp_tls_note(sc_smtp *s, sc_dir dir, uint64_t frame, const char *msg)
{
    s->info.tls_notes++;
    smtp_line_str(s, dir, SC_LINE_EVENT, frame, "[%s]", msg);
}
