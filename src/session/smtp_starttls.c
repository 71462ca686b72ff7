/*
 * smtp_starttls.c - STARTTLS (RFC 3207): the plaintext commands a client
 * sends after STARTTLS before the server's 220, and the switch to TLS
 * (nothing after it is analysed; the byte counts are shown at the end).
 *
 * Rule: starttls-injection (once per session). A server that answers an
 * injected command in plaintext after its 220 is reported by
 * smtp_reply_unsolicited() (smtp_reply.c): that is a reply no command
 * asked for on the plaintext channel.
 *
 * Interface: smtp_starttls_sent() at the command; smtp_starttls_injection()
 * for each command line; smtp_starttls_answer() when STARTTLS gets its
 * reply; smtp_starttls_probe() on the server's next bytes after a 220
 * with injected commands still pending (a digit starts a plaintext reply,
 * anything else is the TLS handshake).
 *
 * Diagnostics: a transcript event "[TLS: the rest of the session is
 * encrypted]".
 */
#include "smtp_int.h"

void smtp_starttls_sent(sc_smtp *s)
{
    s->tls.pending = true;
}

void smtp_starttls_injection(sc_smtp *s, uint64_t frame, const uint8_t *txt, size_t tn)
{
    sc_evidence e;

    if (!s->tls.pending || !smtp_once(s, R_STARTTLS_INJECTION, SC_SIDE_CLIENT))
        return;
    smtp_find(s, R_STARTTLS_INJECTION, SC_SIDE_CLIENT, frame,
              smtp_ev(&e, frame, SC_DIR_C2S, txt, tn),
              "plaintext command \"%.*s\" sent after STARTTLS before the server's 220",
              (int)(tn < 60 ? tn : 60), (const char *)txt);
}

void smtp_starttls_answer(sc_smtp *s, const sc_reply *r)
{
    s->tls.pending = false;
    if (r->code != 220)
        return;
    s->info.tls = true;
    smtp_pseudo_tls(s);
    smtp_line_str(s, SC_DIR_S2C, SC_LINE_EVENT, r->frame,
                  "[TLS: the rest of the session is encrypted]");
    sc_client_set_mode(&s->client, SC_CM_TLS);
    /* Injected commands are answered, if at all, inside TLS, or in
     * plaintext right now (tls_probe decides on the next bytes). */
    if (sc_matcher_firm(&s->m) > 0)
        s->tls.probe = true;
    else {
        sc_matcher_clear(&s->m);
        sc_server_set_tls(&s->server);
    }
}

void smtp_starttls_probe(sc_smtp *s, const sc_flow_event *ev)
{
    if (ev->len > 0 && ev->data[0] >= '2' && ev->data[0] <= '5' &&
        !sc_server_partial(&s->server))
        return;
    s->tls.probe = false;
    sc_matcher_clear(&s->m);
    sc_server_set_tls(&s->server);
}
