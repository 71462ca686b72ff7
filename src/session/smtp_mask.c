/*
 * smtp_mask.c - under --redact, client lines the analysis cannot tell
 * from message content are masked before anything shows them.
 *
 * --redact promises that no message content leaves in any output. The
 * client machine knows content when it is in DATA or BDAT; but content
 * also arrives where commands are expected: after a refused DATA (the
 * client sends the message anyway), beyond a BDAT chunk's size, after a
 * gap or in a capture that starts mid-stream (a session evicted by
 * --max-sessions in the middle of DATA comes back as one), where a line
 * such as "MAIL from our office" looks like a command. So, redacting:
 *   - a line whose verb is no command is masked whole, and the session is
 *     "unsure" from there;
 *   - while unsure, blind (mid-stream, after a gap) or after a refused
 *     DATA, every line is masked but its verb (a BDAT line whose
 *     arguments are only a size and LAST excepted: the chunk is counted,
 *     not shown), until a lone "." ends what looked like content.
 * A masked line's stream bytes become a --redact range too, so the
 * evidence pcap masks them (smtp_redact, smtp_txn.c). The line handed to
 * the rules is the masked one: what a rule quotes is masked too.
 *
 * Interface (smtp_int.h): smtp_mask_line. State: s->mask.
 * Diagnostics: the transcript shows "VERB [redacted, N bytes]" or
 * "[redacted, N bytes]".
 */
#include <stdio.h>
#include <strings.h>

#include "smtp_int.h"

/* "BDAT 1000" or "BDAT 1000 LAST": nothing in it but the chunk's size. */
static bool mask_bdat_plain(const sc_cline *l)
{
    size_t i = 4, n = l->kept;
    const uint8_t *t = l->text;

    if (l->len != n)
        return false;
    while (i < n && (t[i] == ' ' || (t[i] >= '0' && t[i] <= '9')))
        i++;
    if (i < n && n - i == 4 && strncasecmp((const char *)t + i, "LAST", 4) == 0)
        i = n;
    return i == n;
}

bool smtp_mask_line(sc_smtp *s, const sc_cline *l, sc_verb v, uint8_t *masked, size_t *mn)
{
    size_t verb = 0;

    if (!s->cfg->redact)
        return false;
    if (l->kept == 1 && l->text[0] == '.' && l->len == 1) {
        s->mask.unsure = false;          /* the end of what looked like content */
        return false;
    }
    if (v == SC_V_UNKNOWN) {
        s->mask.unsure = true;
        if (l->len == 0)
            return false;                /* an empty line hides nothing */
    } else {
        if (!s->mask.unsure && !s->cap.blind && !s->content.data_rejected &&
            !s->content.residue_mode)
            return false;
        if (v == SC_V_BDAT && mask_bdat_plain(l))
            return false;
        while (verb < l->kept && verb < 16 && l->text[verb] != ' ')
            verb++;
        if (verb == l->len)
            return false;                /* the verb alone: nothing to hide */
    }
    *mn = (size_t)snprintf((char *)masked, SC_LINE_KEEP, "%.*s%s[redacted, %llu bytes]",
                           (int)verb, (const char *)l->text, verb ? " " : "",
                           (unsigned long long)(l->len - verb));
    smtp_redact(s, SC_DIR_C2S, l->off, l->off + l->len);
    return true;
}
