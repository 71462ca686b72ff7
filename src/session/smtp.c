/*
 * smtp.c - one SMTP session (sc_smtp, src/session/session.h): flow events in
 * wire order drive the client machine (src/smtp/client.c) and the server
 * machine (src/smtp/server.c); their callbacks go to the file of each
 * concern, and each rule of src/common/rules.def is checked in exactly one:
 *
 *   smtp_command.c   command lines, the client's sequence, pipelining
 *   smtp_ext.c       EHLO keywords and the use of extensions
 *   smtp_starttls.c  STARTTLS and the plaintext injected before its 220
 *   smtp_auth.c      AUTH and the credentials it carries
 *   smtp_tls.c       decrypted TLS (--tls-keylog): what src/tls/ tells the
 *                    session when records open or stop opening
 *   smtp_lines.c     the form of every line (length, line endings)
 *   smtp_content.c   DATA/BDAT message content
 *   smtp_smuggle.c   ambiguous end-of-data and the smuggling shadow
 *   smtp_reply.c     replies, the greeting, matching against the queue
 *   smtp_answer.c    a reply read against the command it answers
 *   smtp_close.c     FIN, RST and the session's end
 *   smtp_capture.c   facts about the capture (mid-stream, gaps, its end)
 *   smtp_emit.c      transcript lines and findings out (the one place),
 *                    report-once
 *   smtp_txn.c       transaction records, keyword bytes, --redact ranges
 *   smtp_pseudo.c    --redact=addresses: names and addresses in each line
 *                    replaced by their pseudonyms before anything reads it
 *
 * The state (smtp_int.h) is one sub-struct per concern, each written by
 * its file only; a file changes another's state through that file's
 * functions.
 *
 * Capture order is evidence (docs/smtpscope.1, DESCRIPTION): a command
 * seen before a reply was sent before the client had that reply. No rule
 * rests on timing.
 *
 * This file holds no rule: it creates and frees the session and routes
 * each event. Diagnostics: none of its own; transcript lines are streamed
 * to the sink, never kept.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/pseudo.h"
#include "smtp_int.h"

static const sc_client_ops smtp_client_ops = {
    .rewrite = smtp_pseudo_client,
    .skipped = smtp_pseudo_skipped_c,
    .command = smtp_command_line,
    .auth = smtp_auth_line,
    .content_begin = smtp_content_begin,
    .content = smtp_content_line,
    .content_lines = smtp_content_lines,
    .eod = smtp_content_eod,
    .ambiguous = smtp_smuggle_ambiguous,
    .chunk = smtp_content_chunk,
};

static const sc_server_ops smtp_server_ops = {
    .rewrite = smtp_pseudo_server,
    .skipped = smtp_pseudo_skipped_s,
    .line = smtp_reply_line,
    .reply = smtp_reply,
};

sc_smtp *sc_smtp_new(const sc_config *cfg, const sc_conn *conn, sc_sink *out,
                     const char *capture_file)
{
    return sc_smtp_new_in(NULL, cfg, conn, out, capture_file);
}

sc_smtp *sc_smtp_new_in(sc_smtp *spare, const sc_config *cfg, const sc_conn *conn,
                        sc_sink *out, const char *capture_file)
{
    sc_smtp *s = spare ? spare : malloc(sizeof *s);

    if (!s)
        return NULL;
    memset(s, 0, offsetof(sc_smtp, names));   /* the names are read up to their length */
    s->cfg = cfg;
    s->out = out;
    sc_smtp_lines_to(s, out);
    s->info.id = conn->id;
    s->info.wire_client = conn->client;
    s->info.wire_server = conn->server;
    sc_pseudo_endpoint(&s->info.client, &conn->client);   /* as is unless on */
    sc_pseudo_endpoint(&s->info.server, &conn->server);
    s->info.start = conn->first_ts;
    s->info.end = conn->first_ts;
    s->info.first_frame = conn->first_frame;
    s->info.last_frame = conn->first_frame;
    s->info.handshake_seen = conn->handshake_seen;
    s->info.seq_untrusted = conn->seq_untrusted;
    s->info.capture_file = capture_file;
    s->info.extensions = s->ext.list;
    s->info.redact = s->txn.redact;
    s->info.stream_base[SC_DIR_C2S] = conn->stream_base[SC_DIR_C2S];
    s->info.stream_base[SC_DIR_S2C] = conn->stream_base[SC_DIR_S2C];
    s->info.close_after = "greeting";
    s->txn.cur = -1;
    s->txn.last = -1;
    s->close.first = -1;
    s->seq.known = conn->handshake_seen;
    s->ts = conn->first_ts;
    sc_client_init(&s->client, &smtp_client_ops, s);
    sc_server_init(&s->server, &smtp_server_ops, s);
    s->client.in_place = s->server.in_place = !cfg->redact_addresses;   /* smtp_pseudo_* rewrite nothing */
    sc_matcher_init(&s->m);
    if (!conn->handshake_seen) {
        s->cap.midstream = true;
        s->cap.blind = true;
        smtp_auth_uncertain(s);
        sc_server_resync(&s->server);
    }
    if (conn->server.port == 465) {
        /* Implicit TLS (RFC 8314): listed, not analysed. */
        s->info.tls = true;
        smtp_pseudo_tls(s);
        sc_client_set_mode(&s->client, SC_CM_TLS);
        sc_server_set_tls(&s->server);
        smtp_capture_not_analysed(s);
    }
    if (out && out->session_begin)
        out->session_begin(out, &s->info);
    return s;
}

void sc_smtp_lines_to(sc_smtp *s, sc_sink *lines)
{
    s->line_out = lines && lines->line ? lines : NULL;
}

void sc_smtp_packet(sc_smtp *s, const sc_packet *pkt)
{
    if (!s->have_packets) {
        s->have_packets = true;
        s->info.frames = 0;
        if (!s->info.first_frame || pkt->frame < s->info.first_frame)
            s->info.first_frame = pkt->frame;
    }
    s->info.frames++;
    if (pkt->frame > s->info.last_frame)
        s->info.last_frame = pkt->frame;
    s->info.end = pkt->ts;
}

static void smtp_data(sc_smtp *s, const sc_flow_event *ev)
{
    smtp_capture_encrypted(s, ev);
    if (ev->dir == SC_DIR_C2S) {
        s->info.bytes_c2s += ev->len;
        smtp_capture_client_data(s, ev->len);
        sc_client_feed(&s->client, ev->data, ev->len, ev->frame);
        smtp_close_client_data(s, ev->frame, ev->len);
        if (sc_client_partial(&s->client))
            smtp_command_pregreet(s, ev->frame, NULL, 0);
    } else {
        s->info.bytes_s2c += ev->len;
        smtp_capture_server_data(s, ev->len);
        if (s->tls.probe)
            smtp_starttls_probe(s, ev);
        sc_server_feed(&s->server, ev->data, ev->len, ev->frame);
    }
}

void sc_smtp_event(sc_smtp *s, const sc_flow_event *ev)
{
    if (s->done)
        return;
    s->ts = ev->ts;
    if (!s->have_packets) {
        if (ev->frame > s->info.last_frame)
            s->info.last_frame = ev->frame;
        s->info.end = ev->ts;
    }
    if ((ev->kind == SC_FLOW_DATA || ev->kind == SC_FLOW_GAP) && (unsigned)ev->dir < 2 &&
        s->info.stream_end[ev->dir] != UINT64_MAX)
        s->info.stream_end[ev->dir] += ev->kind == SC_FLOW_DATA ? ev->len : ev->gap;
    if (ev->untaken)
        smtp_capture_untaken(s, ev);
    switch (ev->kind) {
    case SC_FLOW_DATA:
        smtp_data(s, ev);
        break;
    case SC_FLOW_GAP:
        smtp_capture_gap(s, ev);
        break;
    case SC_FLOW_FIN:
    case SC_FLOW_RST:
        smtp_close_event(s, ev);
        break;
    case SC_FLOW_CLOSE:
        smtp_close_session(s, ev);
        break;
    }
}

bool sc_smtp_done(const sc_smtp *s)
{
    return s->done;
}

void sc_smtp_free(sc_smtp *s)
{
    if (s)
        free(sc_smtp_end(s));
}

sc_smtp *sc_smtp_end(sc_smtp *s)
{
    sc_client_free(&s->client);
    smtp_pseudo_free(s);
    sc_server_free(&s->server);
    sc_matcher_free(&s->m);
    free(s->smug.shadow);
    free(s->tls.secrets);
    smtp_txn_free(s);
    free(s->emit.capped);
    return s;
}
