/*
 * smtp_int.h - the state of one SMTP session, shared by the files that
 * implement sc_smtp (include/session.h):
 *
 *   smtp.c       events in, the client and server machines driven, the
 *                matcher consulted, closing and capture facts
 *   smtp_emit.c  transcript lines and findings out (severity, profile,
 *                --disable, --min-severity applied here, and only here)
 *   smtp_txn.c   transactions, EHLO keywords, redaction ranges (bounded)
 *
 * Everything here is bounded: a session costs at most a few kilobytes
 * whatever the traffic, and the larger parts (line buffers, pending
 * queue, keyword and transaction bytes, shadow commands) are allocated on
 * first use, so a connection that carries no payload costs about one.
 */
#ifndef SC_SESSION_SMTP_INT_H
#define SC_SESSION_SMTP_INT_H

#include <stdarg.h>

#include "frame.h"
#include "session.h"
#include "../smtp/client.h"
#include "../smtp/command.h"
#include "../smtp/matcher.h"
#include "../smtp/server.h"

#define SC_TXN_KEEP     16       /* the -j record relay keeps 16 x 16 */
#define SC_RCPT_KEEP    8
#define SC_ADDR_KEEP    64
#define SC_EXT_KEEP     14
#define SC_EXT_LEN      32
#define SC_REDACT_KEEP  8
#define SC_SHADOW_KEEP  4

/* A command read from message content after an ambiguous end-of-data
 * sequence: what a lenient server saw. */
typedef struct smtp_shadow {
    sc_pending p;
} smtp_shadow;

/* The bytes behind one kept transaction, allocated when its MAIL is read:
 * a session pays for the transactions it has, not for the most it may. */
typedef struct smtp_txn_bytes {
    sc_bytes         rcpt_b[SC_RCPT_KEEP];
    uint8_t          mail_s[SC_ADDR_KEEP];
    uint8_t          rcpt_s[SC_RCPT_KEEP][SC_ADDR_KEEP];
    uint8_t          reply_s[SC_ADDR_KEEP];
} smtp_txn_bytes;

/* The bytes behind the kept keywords and transactions: most of a session's
 * memory, so allocated only once the session has some (smtp_txn.c); a
 * connection that never carries a reply or a MAIL costs none of it. The
 * transaction records themselves (txn, what the outputs read as an array)
 * grow by doubling up to SC_TXN_KEEP. */
typedef struct smtp_store {
    uint8_t          kw[SC_EXT_KEEP][SC_EXT_LEN];    /* reply being read */
    sc_txn          *txn;
    size_t           txn_cap;
    smtp_txn_bytes  *tb[SC_TXN_KEEP];
} smtp_store;

/* Findings of one rule and side past --max-findings: counted, reported as
 * one record at the session's end (smtp_emit.c). */
typedef struct smtp_capped {
    sc_rule_id     rule;
    sc_side        side;
    sc_severity    severity;
    uint64_t       count, first, last;   /* how many, first and last frame */
    struct timeval last_ts;
} smtp_capped;

struct sc_smtp {
    const sc_config *cfg;
    sc_sink         *out;
    sc_session_info  info;
    sc_client        client;
    sc_server        server;
    sc_matcher       m;

    uint64_t         frame;          /* the event being read */
    struct timeval   ts;
    uint64_t         nlines;         /* transcript lines emitted */
    bool             have_packets;   /* sc_smtp_packet was called */
    bool             done;

    /* greeting, mid-stream, gaps */
    bool             greeted;
    bool             midstream, midstream_reported;
    bool             blind;          /* matching unreliable (gap, mid-stream) */
    uint64_t         blind_frame;

    /* extensions (the last EHLO/HELO reply) */
    bool             ext_known;      /* an EHLO/HELO reply was seen */
    bool             helo_session;
    unsigned         ext;
    uint64_t         size_limit;
    /* keywords of the EHLO/HELO reply being read; they become
     * info.extensions when the reply is a 250 */
    unsigned         kw_bits, kw_ext_lines, kw_n;
    uint64_t         kw_size;
    /* kept keywords (info.extensions): the reply being read, in store */
    sc_bytes         ext_list[SC_EXT_KEEP];

    /* sequence, as the client saw it when it sent a command */
    bool             c_helo, c_mail, c_rcpt;
    /* sequence, as the server's replies made it */
    bool             s_helo, s_mail;
    bool             seq_known;      /* false mid-stream and after a gap */
    unsigned         s_rcpt;

    /* DATA / BDAT */
    bool             data_pending;   /* DATA sent, its reply not yet seen */
    bool             data_rejected;  /* DATA refused before any content */
    bool             answered_early; /* reply-during-data in this message */
    bool             residue_mode;   /* content read as commands */
    bool             txn_data, txn_bdat;
    uint64_t         c_lines, c_bytes, c_start, c_bare, c_bare_off, c_bare_frame;
    uint64_t         c_longest;
    bool             c_long_reported, c_ambiguous, c_unfinished;
    uint64_t         c_amb_off, c_amb_frame;
    /* what the transcript has already summarised of the content: a reply,
     * close or gap that crosses the content flushes a partial summary, so
     * that the reader sees where it fell */
    uint64_t         c_shown_lines, c_shown_bytes, c_last_frame;
    struct timeval   c_last_ts;
    bool             c_split;
    const char      *c_amb_what;
    uint64_t         declared_size;  /* MAIL ... SIZE= */
    bool             bdat_last;

    /* SMTP smuggling: commands a lenient server would read in content */
    smtp_shadow     *shadow;         /* SC_SHADOW_KEEP, allocated at the first */
    unsigned         nshadow;
    bool             shadow_on, shadow_in_data, shadow_has_data;
    bool             smuggle_armed, smuggle_live;
    bool             shadow_data_answered, shadow_early_reported;
    uint64_t         shadow_data_frame;

    /* AUTH / STARTTLS / QUIT */
    bool             auth_cred;      /* mechanism sends credentials (PLAIN, LOGIN) */
    bool             starttls_pending, injection, tls_probe;
    bool             quit_sent, quit_answered;
    uint64_t         quit_frame;

    /* closing */
    bool             fin[2], rst[2];
    uint64_t         close_frame[2];
    bool             got_421;
    bool             client_sending_at_sfin;
    uint64_t         after_sfin;
    bool             half_close_reported;
    /* transaction-aborted: reported at the FIN/RST that ended the open
     * transaction; a client FIN after the end of data waits for the
     * server's answer (the message may still be accepted) */
    bool             abort_done, abort_wait;
    uint64_t         abort_wait_frame;
    int              first_close;    /* -1, or the sc_dir that closed first */
    bool             first_close_rst;

    bool             srv_spoke;      /* server bytes were lost (a gap) */
    bool             srv_gap_last;   /* the server's latest bytes are missing */
    bool             rep_cwq;        /* close-without-quit reported */

    /* once-per-session reports */
    bool             rep_pregreet, rep_pipe, rep_long_cmd, rep_long_reply,
                     rep_bare_cmd, rep_after_quit, rep_malformed, rep_mixed,
                     rep_auth, rep_untracked, rep_bdat_unadv;

    sc_verb          last_verb;

    /* --max-findings: findings reported per rule; past the cap, the rest
     * per rule and side (allocated at the first one, grown as needed) */
    uint32_t         nfound[SC_RULE_COUNT];
    smtp_capped     *capped;
    size_t           ncapped, capcapped;

    /* transactions */
    smtp_store      *store;          /* allocated at the first keyword or MAIL */
    int              cur;            /* index in store->txn[] of the open one, or -1 */
    bool             txn_open;       /* a transaction is open (kept or not) */
    sc_txn_result    last_result;    /* of the last one that ended (kept or not) */
    sc_range         redact[SC_REDACT_KEEP];
};

/* smtp_emit.c */
void smtp_line(sc_smtp *s, sc_dir dir, sc_line_kind kind, uint64_t frame,
               const uint8_t *text, size_t len);
void smtp_line_str(sc_smtp *s, sc_dir dir, sc_line_kind kind, uint64_t frame,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

typedef struct smtp_report {
    sc_finding f;
    bool       on;
} smtp_report;
/* Starts a finding; returns false (and the finding is dropped) when the
 * rule is disabled or below --min-severity, or (counted, not reported
 * one by one) when the rule is past --max-findings in this session. */
bool smtp_report_begin(sc_smtp *s, smtp_report *r, sc_rule_id id, sc_side side,
                       uint64_t frame, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void smtp_report_evidence(smtp_report *r, uint64_t frame, sc_dir dir,
                          const uint8_t *text, size_t len);
void smtp_report_end(sc_smtp *s, smtp_report *r);
/* A finding with at most one evidence line. */
void smtp_find(sc_smtp *s, sc_rule_id id, sc_side side, uint64_t frame,
               const sc_evidence *ev, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* At the session's end: one record per rule and side with the count of
 * the findings past --max-findings. */
void smtp_report_capped(sc_smtp *s);
/* "%.*s" arguments for a pending command's text. */
#define SC_PTXT(p) (int)(p)->tlen, (const char *)(p)->text

/* smtp_txn.c */
void smtp_txn_begin(sc_smtp *s, const uint8_t *arg, size_t len);
void smtp_txn_rcpt(sc_smtp *s, const uint8_t *arg, size_t len);
void smtp_txn_end(sc_smtp *s, sc_txn_result res, const uint8_t *reply, size_t len);
void smtp_txn_content(sc_smtp *s, uint64_t octets);
void smtp_txn_free(sc_smtp *s);
void smtp_kw_reset(sc_smtp *s);
void smtp_kw_line(sc_smtp *s, const uint8_t *kw, size_t len);
void smtp_kw_commit(sc_smtp *s, bool helo);
void smtp_redact(sc_smtp *s, sc_dir dir, uint64_t start, uint64_t end);

#endif
