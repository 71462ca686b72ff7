/*
 * command.c - the SMTP command table (see command.h).
 *
 * The reply codes are those of RFC 5321 §4.3.2 "Command-Reply Sequences"
 * for the base verbs, RFC 1985 §5.1 for ETRN, RFC 3207 §4 for STARTTLS,
 * RFC 4954 §4, §6 for AUTH and RFC 3030 §2 for BDAT. Codes allowed for any
 * command are listed once (sc_any_codes). The table is data: adding a verb
 * is one line.
 */
#include <string.h>

#include "command.h"

/* RFC 5321 §4.3.2 does not list these per command, but they may answer
 * any command: 421 (§3.8), 500/501/502 (§4.2.4), 554 (§4.3.2), and 530
 * (RFC 4954 §6, authentication required). */
static const uint16_t sc_any_codes[] = { 421, 500, 501, 502, 530, 554, 0 };

static const sc_cmd sc_cmd_table[SC_V_COUNT] = {
    [SC_V_UNKNOWN]  = { SC_V_UNKNOWN, "?", false, SC_NEED_NONE, 0,
                        { 250, 0 } },
    [SC_V_HELO]     = { SC_V_HELO, "HELO", true, SC_NEED_NONE, 0,
                        { 250, 504, 550, 0 } },
    [SC_V_EHLO]     = { SC_V_EHLO, "EHLO", true, SC_NEED_NONE, 0,
                        { 250, 504, 550, 0 } },
    [SC_V_MAIL]     = { SC_V_MAIL, "MAIL", false, SC_NEED_HELO, 0,
                        { 250, 552, 451, 452, 550, 553, 503, 455, 555, 0 } },
    [SC_V_RCPT]     = { SC_V_RCPT, "RCPT", false, SC_NEED_MAIL, 0,
                        { 250, 251, 550, 551, 552, 553, 450, 451, 452, 503,
                          455, 555, 0 } },
    [SC_V_DATA]     = { SC_V_DATA, "DATA", true, SC_NEED_RCPT, 0,
                        { 354, 552, 451, 452, 450, 550, 503, 0 } },
    [SC_V_BDAT]     = { SC_V_BDAT, "BDAT", false, SC_NEED_RCPT, SC_EXT_CHUNKING,
                        { 250, 552, 451, 452, 450, 550, 503, 0 } },
    [SC_V_RSET]     = { SC_V_RSET, "RSET", false, SC_NEED_NONE, 0,
                        { 250, 0 } },
    [SC_V_VRFY]     = { SC_V_VRFY, "VRFY", true, SC_NEED_NONE, 0,
                        { 250, 251, 252, 550, 551, 553, 504, 0 } },
    [SC_V_EXPN]     = { SC_V_EXPN, "EXPN", true, SC_NEED_NONE, 0,
                        { 250, 252, 550, 504, 0 } },
    [SC_V_HELP]     = { SC_V_HELP, "HELP", false, SC_NEED_NONE, 0,
                        { 211, 214, 504, 0 } },
    [SC_V_NOOP]     = { SC_V_NOOP, "NOOP", true, SC_NEED_NONE, 0,
                        { 250, 0 } },
    [SC_V_QUIT]     = { SC_V_QUIT, "QUIT", true, SC_NEED_NONE, 0,
                        { 221, 0 } },
    [SC_V_TURN]     = { SC_V_TURN, "TURN", true, SC_NEED_NONE, 0,
                        { 250, 0 } },
    [SC_V_ETRN]     = { SC_V_ETRN, "ETRN", false, SC_NEED_NOTXN, SC_EXT_ETRN,
                        { 250, 251, 252, 253, 458, 459, 0 } },
    [SC_V_STARTTLS] = { SC_V_STARTTLS, "STARTTLS", true, SC_NEED_NONE, SC_EXT_STARTTLS,
                        { 220, 454, 0 } },
    [SC_V_AUTH]     = { SC_V_AUTH, "AUTH", true, SC_NEED_NONE, SC_EXT_AUTH,
                        { 235, 334, 432, 454, 504, 534, 535, 538, 503, 0 } },
    [SC_V_SEND]     = { SC_V_SEND, "SEND", false, SC_NEED_HELO, 0,
                        { 250, 552, 451, 452, 550, 553, 503, 0 } },
    [SC_V_SOML]     = { SC_V_SOML, "SOML", false, SC_NEED_HELO, 0,
                        { 250, 552, 451, 452, 550, 553, 503, 0 } },
    [SC_V_SAML]     = { SC_V_SAML, "SAML", false, SC_NEED_HELO, 0,
                        { 250, 552, 451, 452, 550, 553, 503, 0 } },
    /* RFC 5321 §4.3.2 DATA: after the data, S: 250, E: 552, 554, 451, 452,
     * and 450, 550 for policy rejections. */
    [SC_V_EOD]      = { SC_V_EOD, ".", false, SC_NEED_NONE, 0,
                        { 250, 552, 451, 452, 450, 550, 551, 553, 0 } },
    /* A content line a server read as a command: whatever it made of it. */
    [SC_V_RESIDUE]  = { SC_V_RESIDUE, "(content)", false, SC_NEED_NONE, 0,
                        { 250, 503, 504, 550, 0 } },
};

/* Codes no table lists but that the RFCs define; they are "known" so
 * that they are not tolerated as unknown when they answer the wrong verb. */
static const uint16_t sc_other_known[] = { 211, 214, 220, 221, 235, 334, 354, 0 };

const sc_cmd *sc_cmd_get(sc_verb v)
{
    return &sc_cmd_table[(unsigned)v < SC_V_COUNT ? v : SC_V_UNKNOWN];
}

/* The verbs by their first letter (A to Z), at most four, 0-terminated
 * when fewer: a command line is compared with those only. */
static const uint8_t sc_verbs_by_first[26][4] = {
    ['A' - 'A'] = { SC_V_AUTH },
    ['B' - 'A'] = { SC_V_BDAT },
    ['D' - 'A'] = { SC_V_DATA },
    ['E' - 'A'] = { SC_V_EHLO, SC_V_EXPN, SC_V_ETRN },
    ['H' - 'A'] = { SC_V_HELO, SC_V_HELP },
    ['M' - 'A'] = { SC_V_MAIL },
    ['N' - 'A'] = { SC_V_NOOP },
    ['Q' - 'A'] = { SC_V_QUIT },
    ['R' - 'A'] = { SC_V_RCPT, SC_V_RSET },
    ['S' - 'A'] = { SC_V_STARTTLS, SC_V_SEND, SC_V_SOML, SC_V_SAML },
    ['T' - 'A'] = { SC_V_TURN },
    ['V' - 'A'] = { SC_V_VRFY },
};

/* The verb ends at SP, at HT or at the end of the line: each candidate is
 * compared up to its length and then must be followed by one of them, so
 * the line is not measured first. */
sc_verb sc_cmd_parse(const uint8_t *line, size_t len)
{
    if (len == 0)
        return SC_V_UNKNOWN;
    unsigned c = line[0] >= 'a' && line[0] <= 'z' ? line[0] - ('a' - 'A') : line[0];

    if (c < 'A' || c > 'Z')
        return SC_V_UNKNOWN;
    for (unsigned i = 0; i < 4 && sc_verbs_by_first[c - 'A'][i]; i++) {
        sc_verb v = (sc_verb)sc_verbs_by_first[c - 'A'][i];
        size_t k = sc_word_prefix(line, len, sc_cmd_table[v].name);

        if (k && (k == len || line[k] == ' ' || line[k] == '\t'))
            return v;
    }
    return SC_V_UNKNOWN;
}

static bool sc_code_in(const uint16_t *list, int code)
{
    for (; *list; list++)
        if (*list == code)
            return true;
    return false;
}

bool sc_cmd_allows(sc_verb v, int code)
{
    return sc_code_in(sc_any_codes, code) || sc_code_in(sc_cmd_get(v)->codes, code);
}

bool sc_cmd_owns(sc_verb v, int code)
{
    return sc_code_in(sc_cmd_get(v)->codes, code);
}

bool sc_code_known(int code)
{
    if (sc_code_in(sc_any_codes, code) || sc_code_in(sc_other_known, code))
        return true;
    for (unsigned v = SC_V_HELO; v < SC_V_COUNT; v++)
        if (sc_code_in(sc_cmd_table[v].codes, code))
            return true;
    return false;
}

/* A code that only one verb can draw: seeing it while an earlier command
 * is pending proves that the earlier one was skipped. */
static const struct { uint16_t code; sc_verb verb; } sc_resync_codes[] = {
    { 221, SC_V_QUIT }, { 354, SC_V_DATA }, { 334, SC_V_AUTH },
    { 235, SC_V_AUTH }, { 220, SC_V_STARTTLS },
};

bool sc_code_resyncs(int code, sc_verb v)
{
    for (size_t i = 0; i < sizeof sc_resync_codes / sizeof sc_resync_codes[0]; i++)
        if (sc_resync_codes[i].code == code && sc_resync_codes[i].verb == v)
            return true;
    return false;
}

/* The keywords, those that start with the same octet together: an EHLO
 * reply line's keyword is compared with those only (sc_ext_run). */
static const struct { const char *kw; unsigned bit; } sc_ext_names[] = {
    { "AUTH", SC_EXT_AUTH },                 /* 0 */
    { "BINARYMIME", SC_EXT_BINARYMIME },     /* 1 */
    { "CHUNKING", SC_EXT_CHUNKING },         /* 2 */
    { "DSN", SC_EXT_DSN },                   /* 3 */
    { "ETRN", SC_EXT_ETRN },                 /* 4 */
    { "ENHANCEDSTATUSCODES", SC_EXT_ENHANCED },
    { "EXPN", SC_EXT_EXPN },
    { "HELP", SC_EXT_HELP },                 /* 7 */
    { "PIPELINING", SC_EXT_PIPELINING },     /* 8 */
    { "SIZE", SC_EXT_SIZE },                 /* 9 */
    { "STARTTLS", SC_EXT_STARTTLS },
    { "SMTPUTF8", SC_EXT_SMTPUTF8 },
    { "VRFY", SC_EXT_VRFY },                 /* 12 */
    { "8BITMIME", SC_EXT_8BITMIME },         /* 13 */
};

/* The entries of sc_ext_names[] whose word may start with octet c: [*from,
 * return). A table word is all upper case letters and digits, so a letter
 * folds to its upper case first; anything else starts none. */
static unsigned sc_ext_run(uint8_t c, unsigned *from)
{
    switch (c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c) {
    case 'A': *from = 0;  return 1;
    case 'B': *from = 1;  return 2;
    case 'C': *from = 2;  return 3;
    case 'D': *from = 3;  return 4;
    case 'E': *from = 4;  return 7;
    case 'H': *from = 7;  return 8;
    case 'P': *from = 8;  return 9;
    case 'S': *from = 9;  return 12;
    case 'V': *from = 12; return 13;
    case '8': *from = 13; return 14;
    default:  *from = 0;  return 0;
    }
}

/* The keyword ends at SP, at '=' ("AUTH=LOGIN", the pre-RFC 2554 form some
 * servers still send) or at the end of the line. Each candidate is
 * compared octet by octet, case aside, and most compares stop at the first
 * octet that differs: the keyword is neither measured nor folded first
 * (an EHLO reply has ten lines, each session one reply). */
unsigned sc_ext_keyword(const uint8_t *kw, size_t len)
{
    unsigned i, end;

    if (len == 0)
        return 0;
    for (end = sc_ext_run(kw[0], &i); i < end; i++) {
        size_t k = sc_word_prefix(kw, len, sc_ext_names[i].kw);

        if (k && (k == len || kw[k] == ' ' || kw[k] == '='))
            return sc_ext_names[i].bit;
    }
    return 0;
}
