/*
 * command.h - the SMTP command table (OpenSMTPD style): for each verb, the
 * reply codes RFC 5321 §4.3.2 (and the extension RFCs) allow, whether it
 * may only end a pipelining group (RFC 2920 §3.1), the session state it
 * needs, and the EHLO keyword it needs.
 *
 * Interface: sc_cmd_lookup() turns a command line into a table entry;
 * sc_cmd_allows() says whether a reply code may answer it; sc_code_known()
 * says whether a code appears anywhere in the tables (unknown codes with a
 * valid first digit are tolerated, RFC 5321 §4.2); sc_code_resyncs() names
 * the codes that can only belong to one verb (used by the matcher to
 * re-synchronise on an out-of-order reply).
 */
#ifndef SC_SMTP_COMMAND_H
#define SC_SMTP_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Verbs the analyser knows, plus the pseudo-commands that expect a reply
 * without being a command: the end-of-data dot and a run of message
 * content lines a server read as commands ("residue"). */
typedef enum sc_verb {
    SC_V_UNKNOWN = 0,
    SC_V_HELO, SC_V_EHLO, SC_V_MAIL, SC_V_RCPT, SC_V_DATA, SC_V_BDAT,
    SC_V_RSET, SC_V_VRFY, SC_V_EXPN, SC_V_HELP, SC_V_NOOP, SC_V_QUIT,
    SC_V_TURN, SC_V_ETRN, SC_V_STARTTLS, SC_V_AUTH,
    SC_V_SEND, SC_V_SOML, SC_V_SAML,
    SC_V_EOD,        /* pseudo: the end-of-data dot (DATA's final reply) */
    SC_V_RESIDUE,    /* pseudo: content lines read as commands */
    SC_V_COUNT
} sc_verb;

/* What a verb needs before it may be used. */
typedef enum sc_cmd_need {
    SC_NEED_NONE = 0,
    SC_NEED_HELO,    /* MAIL: after EHLO/HELO */
    SC_NEED_MAIL,    /* RCPT: inside a transaction */
    SC_NEED_RCPT,    /* DATA/BDAT: after an accepted RCPT */
    SC_NEED_NOTXN    /* MAIL, ETRN: outside a transaction */
} sc_cmd_need;

/* Extension bits (EHLO keywords the analyser reasons about). */
enum {
    SC_EXT_PIPELINING   = 1u << 0,
    SC_EXT_SIZE         = 1u << 1,
    SC_EXT_CHUNKING     = 1u << 2,
    SC_EXT_BINARYMIME   = 1u << 3,
    SC_EXT_STARTTLS     = 1u << 4,
    SC_EXT_AUTH         = 1u << 5,
    SC_EXT_ETRN         = 1u << 6,
    SC_EXT_8BITMIME     = 1u << 7,
    SC_EXT_SMTPUTF8     = 1u << 8,
    SC_EXT_DSN          = 1u << 9,
    SC_EXT_ENHANCED     = 1u << 10,
    SC_EXT_EXPN         = 1u << 11,
    SC_EXT_HELP         = 1u << 12,
    SC_EXT_VRFY         = 1u << 13
};

#define SC_CMD_MAXCODES 16

typedef struct sc_cmd {
    sc_verb      verb;
    const char  *name;            /* "RCPT" */
    bool         ends_group;      /* RFC 2920 §3.1, RFC 3207 §4, RFC 4954 §4 */
    sc_cmd_need  needs;
    unsigned     ext;             /* SC_EXT_* the verb itself needs, 0 = none */
    uint16_t     codes[SC_CMD_MAXCODES];   /* allowed replies, 0-terminated */
} sc_cmd;

/* The length of the table word w when the n octets at t start with it,
 * else 0. The tables spell their words (verbs, keywords, parameter
 * names) in upper case; the wire may use any case (RFC 5321 §2.4), and
 * only ASCII letters fold, whatever the locale. Cheaper than strlen and
 * strncasecmp: most compares stop at the first octet. */
static inline size_t sc_word_prefix(const uint8_t *t, size_t n, const char *w)
{
    size_t k;

    for (k = 0; w[k]; k++) {
        uint8_t c;

        if (k == n)
            return 0;
        c = t[k];
        if (c >= 'a' && c <= 'z')
            c = (uint8_t)(c - ('a' - 'A'));
        if (c != (uint8_t)w[k])
            return 0;
    }
    return k;
}

/* Whether an octet c may start the table word w, case aside: one test
 * that spares comparing the rest of a word with the table words that
 * start otherwise (folding 0x20 in lets a few non-letters pass, which the
 * full compare then refuses). */
static inline bool sc_word_first_may(uint8_t c, const char *w)
{
    return (c | 0x20) == ((uint8_t)w[0] | 0x20);
}

/* True when the n octets at t are the table word w, case aside. */
static inline bool sc_word_is(const uint8_t *t, size_t n, const char *w)
{
    return n > 0 && sc_word_prefix(t, n, w) == n;
}

/* The table entry of a verb. */
const sc_cmd *sc_cmd_get(sc_verb v);

/* Reads the verb at the start of a command line (case-insensitive, ends at
 * SP or the end of the line). Unknown verbs give SC_V_UNKNOWN. */
sc_verb sc_cmd_parse(const uint8_t *line, size_t len);

/* True when `code` may answer `v`: its own codes, or a code allowed for
 * any command (421, 500, 501, 502, 530, 554). */
bool sc_cmd_allows(sc_verb v, int code);

/* True when `code` is one of v's own codes (not one allowed for any
 * command): a reply with it can belong to v. */
bool sc_cmd_owns(sc_verb v, int code);

/* True when the code is in some table (otherwise it is tolerated). */
bool sc_code_known(int code);

/* True when a reply with this code can only belong to `v` among the
 * verbs (221 QUIT, 354 DATA, 334/235 AUTH, 220 STARTTLS). */
bool sc_code_resyncs(int code, sc_verb v);

/* Maps an EHLO keyword (case-insensitive, up to SP) to an SC_EXT_* bit,
 * 0 when the analyser does not reason about it. */
unsigned sc_ext_keyword(const uint8_t *kw, size_t len);

#endif
