/*
 * smtp_lines.c - the form of every line, whoever sent it: its length
 * (RFC 5321 §4.5.3.1: 512 octets for a command or reply line, 1000 for a
 * line of message content, CRLF included) and its ending (§2.3.8: CR and
 * LF only as CRLF).
 *
 * Rules: line-too-long (the first command line and the first reply line
 * of a session; the first content line of each message), bare-lf (the
 * first command line of a session; in message content, one finding per
 * message with the count, at the message's end).
 *
 * Interface: smtp_lines_command(), smtp_lines_reply(), smtp_lines_content()
 * for each line; smtp_lines_content_end() when a message's content is
 * over (end of data, rejection, close); smtp_lines_content_reset() when a
 * new one starts.
 *
 * Diagnostics: none besides the findings.
 */
#include "smtp_int.h"

void smtp_lines_command(sc_smtp *s, const sc_cline *l, const uint8_t *txt, size_t tn)
{
    sc_evidence e;

    if ((l->bare_lf || l->bare_cr) && smtp_once(s, R_BARE_LF, SC_SIDE_CLIENT)) {
        smtp_find(s, R_BARE_LF, SC_SIDE_CLIENT, l->frame,
                  smtp_ev(&e, l->frame, SC_DIR_C2S, txt, tn),
                  "command line ended by a bare %s", l->bare_lf ? "LF" : "CR");
    }
    if (l->wire_len > 512 && smtp_once(s, R_LINE_TOO_LONG, SC_SIDE_CLIENT)) {
        smtp_find(s, R_LINE_TOO_LONG, SC_SIDE_CLIENT, l->frame,
                  smtp_ev(&e, l->frame, SC_DIR_C2S, txt, tn < 80 ? tn : 80),
                  "command line of %llu octets (limit 512, CRLF included)",
                  (unsigned long long)l->wire_len);
    }
}

void smtp_lines_reply(sc_smtp *s, const sc_rline *l)
{
    sc_evidence e;

    if (l->wire_len > 512 && smtp_once(s, R_LINE_TOO_LONG, SC_SIDE_SERVER)) {
        smtp_find(s, R_LINE_TOO_LONG, SC_SIDE_SERVER, l->frame,
                  smtp_ev(&e, l->frame, SC_DIR_S2C, l->text, l->kept < 80 ? l->kept : 80),
                  "reply line of %llu octets (limit 512, CRLF included)",
                  (unsigned long long)l->wire_len);
    }
}

void smtp_lines_content(sc_smtp *s, const sc_cline *l)
{
    /* The dot that transparency doubled (§4.5.2) is not counted. */
    uint64_t octets = l->wire_len - (l->stuffed ? 1 : 0);
    sc_evidence e;

    if (l->bare_lf || l->bare_cr) {
        if (s->lines.bare == 0) {
            s->lines.bare_off = l->off;
            s->lines.bare_frame = l->frame;
        }
        s->lines.bare += (l->bare_lf ? 1 : 0) + l->bare_cr;
    }
    if (octets > 1000 && smtp_once(s, R_LINE_TOO_LONG, SMTP_ONCE_MSG)) {
        smtp_find(s, R_LINE_TOO_LONG, SC_SIDE_CLIENT, l->frame,
                  smtp_ev(&e, l->frame, SC_DIR_C2S, l->text, l->kept < 80 ? l->kept : 80),
                  "message content line of %llu octets at stream offset %llu (limit 1000, CRLF included)",
                  (unsigned long long)octets, (unsigned long long)l->off);
    }
}

void smtp_lines_content_end(sc_smtp *s)
{
    if (!s->lines.bare)
        return;
    smtp_find(s, R_BARE_LF, SC_SIDE_CLIENT, s->lines.bare_frame, NULL,
              "message content holds %llu bare CR/LF line ending%s; the first at "
              "stream offset %llu (frame %s)",
              (unsigned long long)s->lines.bare, s->lines.bare == 1 ? "" : "s",
              (unsigned long long)s->lines.bare_off, sc_frame_bare(s->lines.bare_frame));
    s->lines.bare = 0;
}

void smtp_lines_content_reset(sc_smtp *s)
{
    s->lines.bare = 0;
    smtp_once_clear(s, R_LINE_TOO_LONG, SMTP_ONCE_MSG);
}
