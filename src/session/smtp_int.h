/*
 * smtp_int.h - the state of one SMTP session and the functions the files
 * that implement sc_smtp (src/session/session.h) offer each other. Which file
 * holds which concern and rule: the map at the top of smtp.c. The state
 * is one sub-struct per concern, written only by its file.
 *
 * Everything here is bounded: a session costs at most a few kilobytes
 * whatever the traffic, and the larger parts (line buffers, pending
 * queue, keyword and transaction bytes, shadow commands) are allocated on
 * first use, so a connection that carries no payload costs about one.
 */
#ifndef SC_SESSION_SMTP_INT_H
#define SC_SESSION_SMTP_INT_H

#include <stdarg.h>

#include "common/frame.h"
#include "session.h"
#include "smtp/client.h"
#include "smtp/command.h"
#include "smtp/matcher.h"
#include "smtp/server.h"

#define SC_TXN_KEEP     16       /* the -j record relay keeps 16 x 16 */
#define SC_RCPT_KEEP    8
#define SC_ADDR_KEEP    64
#define SC_EXT_KEEP     14
#define SC_EXT_LEN      32
#define SC_REDACT_KEEP  8
#define SC_SHADOW_KEEP  8

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
    /* recipients' bytes: the first here (most transactions have one), the
     * others in rcpt_s, grown 1, 2, 4, 8 addresses as they come (448 bytes
     * a session less than a fixed array) */
    uint8_t          rcpt0_s[SC_ADDR_KEEP];
    uint8_t        (*rcpt_s)[SC_ADDR_KEEP];
    unsigned         rcpt_cap;
    uint8_t          reply_s[SC_ADDR_KEEP];
} smtp_txn_bytes;

/* The bytes behind the kept keywords and transactions: most of a session's
 * memory, so allocated only once the session has some (smtp_txn.c); a
 * connection that never carries a reply or a MAIL costs none of it. The
 * transaction records themselves (txn, what the outputs read as an array)
 * grow by doubling up to SC_TXN_KEEP. The first transaction (most
 * sessions have one at most) has its record and bytes here: no more
 * allocations than the store's. */
typedef struct smtp_store {
    uint8_t          kw[SC_EXT_KEEP][SC_EXT_LEN];    /* reply being read */
    sc_txn          *txn;                /* txn0, or allocated once there are two */
    size_t           txn_cap;
    smtp_txn_bytes  *tb[SC_TXN_KEEP];    /* tb[0] is tb0 */
    sc_txn           txn0;
    smtp_txn_bytes   tb0;
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

/* The state of a session, one sub-struct per concern. Each is written by
 * the file named beside it (and set up by sc_smtp_new in smtp.c); the
 * others read it, or ask that file's functions to change it. */

typedef struct smtp_emit_state {         /* smtp_emit.c */
    uint64_t      nlines;                /* transcript lines emitted */
    /* report once (per session or per message): a bit per rule and key */
    uint8_t       once[SC_RULE_COUNT];
    /* --max-findings: findings reported per rule; past the cap, the rest
     * per rule and side (allocated at the first one, grown as needed) */
    uint32_t      nfound[SC_RULE_COUNT];
    smtp_capped  *capped;
    size_t        ncapped, capcapped;
} smtp_emit_state;

typedef struct smtp_cmd_state {          /* smtp_command.c */
    /* the sequence as the client saw it when it sent a command */
    bool          helo, mail, rcpt;
    bool          quit_sent;
    uint64_t      quit_frame;
    sc_verb       last_verb;
    bool          queue_full_shown;      /* the matcher's queue overflowed */
} smtp_cmd_state;

typedef struct smtp_seq_state {          /* smtp_answer.c */
    /* the sequence as the server's replies made it */
    bool          helo, mail;
    unsigned      rcpt;
    bool          known;                 /* false mid-stream, after a gap, after a refused DATA */
    bool          quit_answered;
} smtp_seq_state;

typedef struct smtp_ext_state {          /* smtp_ext.c */
    /* the last EHLO/HELO reply */
    bool          known;                 /* an EHLO/HELO reply was seen */
    bool          helo_session;
    unsigned      bits;                  /* SC_EXT_* */
    uint64_t      size_limit;
    /* keywords of the EHLO/HELO reply being read; they become
     * info.extensions when the reply is a 250 */
    unsigned      kw_bits, kw_ext_lines, kw_n;
    uint64_t      kw_size;
    sc_bytes      list[SC_EXT_KEEP];     /* info.extensions; bytes in the store */
} smtp_ext_state;

typedef struct smtp_tls_state {          /* smtp_starttls.c */
    bool          pending;               /* STARTTLS sent, its reply not yet seen */
    bool          probe;                 /* 220 seen with injected commands pending */
    char         *secrets;               /* smtp_tls.c: info.tls_secrets */
} smtp_tls_state;

typedef struct smtp_auth_state {         /* smtp_auth.c */
    bool          cred;                  /* the mechanism sends credentials (PLAIN, LOGIN) */
    bool          running;               /* AUTH sent, no reply that ends it seen yet */
    bool          unknown;               /* after a gap or a mid-stream start, until a
                                          * command or the end of an AUTH is seen */
} smtp_auth_state;

typedef struct smtp_lines_state {        /* smtp_lines.c, per message */
    uint64_t      bare, bare_off, bare_frame;
} smtp_lines_state;

typedef struct smtp_content_state {      /* smtp_content.c */
    bool          data_pending;          /* DATA sent, its reply not yet seen */
    bool          data_rejected;         /* DATA refused before any content */
    bool          answered_early;        /* reply-during-data in this message */
    bool          residue_mode;          /* content read as commands */
    bool          txn_data, txn_bdat;
    bool          bdat_last;
    uint64_t      declared_size;         /* MAIL ... SIZE= */
    uint64_t      lines, bytes, start;
    bool          unfinished;
    /* what the transcript has already summarised of the content: a reply,
     * close or gap that crosses the content flushes a partial summary, so
     * that the reader sees where it fell */
    uint64_t      shown_lines, shown_bytes, last_frame;
    struct timeval last_ts;
    bool          split;
} smtp_content_state;

typedef struct smtp_smuggle_state {      /* smtp_smuggle.c, per message */
    bool          ambiguous;
    uint64_t      amb_off, amb_frame;
    const char   *amb_what;
    uint64_t      amb_bytes;             /* content bytes before the sequence */
    uint64_t      data_bytes;            /* content of the smuggled message */
    /* commands a lenient server would read in content */
    smtp_shadow  *shadow;                /* SC_SHADOW_KEEP, allocated at the first */
    unsigned      nshadow;
    bool          on, in_data, has_data;
    bool          data_ended;            /* the smuggled message ended in content */
    bool          armed, live;
    bool          data_answered;
    uint64_t      data_frame;
} smtp_smuggle_state;

typedef struct smtp_reply_state {        /* smtp_reply.c */
    bool          greeted;
    bool          got_421;
    struct timeval last_ts;              /* the server's last complete reply */
} smtp_reply_state;

typedef struct smtp_close_state {        /* smtp_close.c */
    bool          fin[2], rst[2];
    uint64_t      frame[2];              /* the first FIN/RST of each direction */
    int           first;                 /* -1, or the sc_dir that closed first */
    bool          first_rst;
    bool          client_sending;        /* mid-line when the server sent FIN */
    uint64_t      after_sfin;            /* client bytes after the server's FIN */
    /* transaction-aborted: reported at the FIN/RST that ended the open
     * transaction; a client FIN after the end of data waits for the
     * server's answer (the message may still be accepted) */
    bool          abort_wait;
    uint64_t      abort_wait_frame;
    struct timeval c_last;               /* the client's last byte */
} smtp_close_state;

typedef struct smtp_capture_state {      /* smtp_capture.c */
    bool          midstream;
    bool          blind;                 /* matching unreliable (gap, mid-stream) */
    bool          srv_spoke;             /* server bytes were lost (a gap) */
    bool          srv_gap_last;          /* the server's latest bytes are missing */
    bool          cli_gap, cli_gap_last; /* the same for the client's */
    bool          at_greeting;           /* mid-stream, but from the server's greeting */
    bool          cli_other;             /* a client line other than EHLO/HELO */
    uint32_t      srv_segs;              /* server segments with bytes (counted to 2) */
} smtp_capture_state;

typedef struct smtp_mask_state {         /* smtp_mask.c */
    bool          unsure;                /* --redact: client lines may be content */
} smtp_mask_state;

#define SMTP_PSEUDO_NAMES 4      /* names given as such, remembered */
#define SMTP_PSEUDO_SUBST 512    /* lines with pseudonyms kept for the pcap */
#define SMTP_PSEUDO_BYTES 32768  /* ... and their bytes */

typedef struct smtp_pname {
    uint8_t       b[64];
    uint8_t       len;
} smtp_pname;

typedef struct smtp_pseudo_state {       /* smtp_pseudo.c */
    smtp_pname    seen[SMTP_PSEUDO_NAMES];
    unsigned      nseen;
    sc_subst     *subst;                 /* grown by doubling, bounded */
    size_t        nsubst, capsubst;
    uint8_t      *bytes;
    size_t        nbytes, capbytes;
} smtp_pseudo_state;

typedef struct smtp_txn_state {          /* smtp_txn.c */
    smtp_store   *store;                 /* allocated at the first keyword or MAIL */
    int           cur;                   /* index in store->txn[] of the open one, or -1 */
    int           last;                  /* the kept one that ended last, or -1 */
    bool          open;                  /* a transaction is open (kept or not) */
    sc_txn_result last_result;           /* of the last one that ended (kept or not) */
    sc_range      redact[SC_REDACT_KEEP];
} smtp_txn_state;

/* The bytes behind info.helo_name (written by smtp_command.c) and
 * info.greeting_name (smtp_reply.c). They are read only up to the lengths
 * info holds, so they come last in sc_smtp and a new session leaves them
 * unzeroed: a fifth of its size, and most sessions are short. */
typedef struct smtp_names {
    uint8_t       helo[SC_PEER_NAME_MAX];
    uint8_t       greeting[SC_PEER_NAME_MAX];
} smtp_names;

struct sc_smtp {
    const sc_config *cfg;
    sc_sink         *out;
    sc_sink         *line_out;       /* transcript lines: out, or NULL */
    sc_session_info  info;
    sc_client        client;
    sc_server        server;
    sc_matcher       m;
    struct timeval   ts;             /* of the event being read */
    bool             have_packets;   /* sc_smtp_packet was called */
    bool             done;

    smtp_emit_state    emit;
    smtp_cmd_state     cmd;
    smtp_seq_state     seq;
    smtp_ext_state     ext;
    smtp_tls_state     tls;
    smtp_auth_state    auth;
    smtp_lines_state   lines;
    smtp_content_state content;
    smtp_smuggle_state smug;
    smtp_reply_state   reply;
    smtp_close_state   close;
    smtp_mask_state    mask;
    smtp_capture_state cap;
    smtp_txn_state     txn;
    smtp_pseudo_state *pseudo;           /* allocated under --redact=addresses */
    smtp_names         names;            /* last: not zeroed (sc_smtp_new) */
};

/* smtp_emit.c */
void smtp_line(sc_smtp *s, sc_dir dir, sc_line_kind kind, uint64_t frame,
               const uint8_t *text, size_t len);
void smtp_line_str(sc_smtp *s, sc_dir dir, sc_line_kind kind, uint64_t frame,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A line of fixed text ("[FIN]"): no formatting to pay for, once or twice
 * a session. */
void smtp_line_lit(sc_smtp *s, sc_dir dir, sc_line_kind kind, uint64_t frame,
                   const char *text);

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
/* Report once: true the first time it is asked for a rule and key, false
 * until the key is cleared. The key is the side at fault (SC_SIDE_*) for a
 * once-per-session report; SMTP_ONCE_ALT for a second once-per-session
 * report of the same rule (reply-malformed: a malformed line, then mixed
 * codes); SMTP_ONCE_MSG for a once-per-message report, cleared when a new
 * message starts (line-too-long in content, the smuggled message's
 * data-before-go-ahead). */
#define SMTP_ONCE_ALT 4u
#define SMTP_ONCE_MSG 5u
bool smtp_once(sc_smtp *s, sc_rule_id id, unsigned key);
/* Whether smtp_once() was already asked for that rule and key. */
bool smtp_once_done(const sc_smtp *s, sc_rule_id id, unsigned key);
void smtp_once_clear(sc_smtp *s, sc_rule_id id, unsigned key);
/* "%.*s" arguments for a pending command's text. */
#define SC_PTXT(p) (int)(p)->tlen, (const char *)(p)->text

/* One evidence line, for smtp_find(). */
static inline const sc_evidence *smtp_ev(sc_evidence *e, uint64_t frame, sc_dir dir,
                                         const uint8_t *t, size_t n)
{
    *e = (sc_evidence){ frame, dir, t, n };
    return e;
}

static inline const char *smtp_dir_who(sc_dir d)
{
    return d == SC_DIR_C2S ? "client" : "server";
}

/* smtp_txn.c */
void smtp_txn_begin(sc_smtp *s, const uint8_t *arg, size_t len);
void smtp_txn_rcpt(sc_smtp *s, const uint8_t *arg, size_t len);
void smtp_txn_end(sc_smtp *s, sc_txn_result res, const uint8_t *reply, size_t len);
void smtp_txn_content(sc_smtp *s, uint64_t octets);
void smtp_txn_last_bytes(sc_smtp *s, uint64_t octets);
void smtp_txn_free(sc_smtp *s);
uint8_t *smtp_txn_kw_slot(sc_smtp *s, size_t i);
void smtp_redact(sc_smtp *s, sc_dir dir, uint64_t start, uint64_t end);

/* smtp_pseudo.c */
void smtp_pseudo_client(void *ctx, uint8_t *t, size_t kept, uint64_t len, uint64_t off);
void smtp_pseudo_server(void *ctx, uint8_t *t, size_t kept, uint64_t len, uint64_t off,
                        bool first);
void smtp_pseudo_skipped_c(void *ctx, uint64_t off, uint64_t end);
void smtp_pseudo_skipped_s(void *ctx, uint64_t off, uint64_t end);
void smtp_pseudo_text(sc_smtp *s, uint8_t *t, size_t n);
void smtp_pseudo_tls(sc_smtp *s);
void smtp_pseudo_free(sc_smtp *s);

/* smtp_command.c */
void smtp_command_line(void *ctx, const sc_cline *l);
void smtp_command_pregreet(sc_smtp *s, uint64_t frame, const uint8_t *txt, size_t tn);
void smtp_command_after_quit(sc_smtp *s, uint64_t frame, const uint8_t *txt, size_t tn);
void smtp_command_partial(sc_smtp *s, uint64_t frame);
void smtp_command_txn_over(sc_smtp *s);
void smtp_command_helo_refused(sc_smtp *s);
void smtp_command_quit(sc_smtp *s, uint64_t frame);
void smtp_pending_fill(sc_pending *p, sc_verb v, uint64_t frame, const uint8_t *t, size_t n);
void smtp_push(sc_smtp *s, const sc_pending *p);

/* smtp_ext.c */
void smtp_ext_reply_line(sc_smtp *s, const sc_rline *l, const sc_reply *r);
void smtp_ext_answer(sc_smtp *s, const sc_pending *p, const sc_reply *r);
void smtp_ext_command(sc_smtp *s, sc_verb v, const sc_cline *l, const uint8_t *txt, size_t tn);

/* smtp_starttls.c */
void smtp_starttls_sent(sc_smtp *s);
void smtp_starttls_injection(sc_smtp *s, uint64_t frame, const uint8_t *txt, size_t tn);
void smtp_starttls_answer(sc_smtp *s, const sc_reply *r);
void smtp_starttls_probe(sc_smtp *s, const sc_flow_event *ev);

/* smtp_auth.c */
bool smtp_auth_command(sc_smtp *s, const sc_cline *l, uint8_t *masked, size_t *mn);
void smtp_auth_line(void *ctx, const sc_cline *l);
/* The session went into TLS that is read: credentials from now on are not
 * plaintext (auth-plaintext, once per session, is taken as said). */
void smtp_auth_encrypted(sc_smtp *s);
void smtp_auth_uncertain(sc_smtp *s);
void smtp_auth_ended(sc_smtp *s);
bool smtp_auth_unknown_line(sc_smtp *s, const sc_cline *l, sc_verb v);
bool smtp_auth_partial(sc_smtp *s, uint64_t frame, const uint8_t *text, size_t kept,
                       uint64_t off, uint64_t len);

/* smtp_mask.c */
bool smtp_mask_line(sc_smtp *s, const sc_cline *l, sc_verb v, uint8_t *masked, size_t *mn);

/* smtp_lines.c */
void smtp_lines_command(sc_smtp *s, const sc_cline *l, const uint8_t *txt, size_t tn);
void smtp_lines_reply(sc_smtp *s, const sc_rline *l);
void smtp_lines_content(sc_smtp *s, const sc_cline *l);
void smtp_lines_content_end(sc_smtp *s);
void smtp_lines_content_reset(sc_smtp *s);

/* smtp_content.c */
/* Where a reply goes after smtp_content_reply(). */
typedef enum smtp_route {
    SMTP_ROUTE_DONE,     /* taken: nothing more to do */
    SMTP_ROUTE_MATCH,    /* straight to the queue (the smuggled commands') */
    SMTP_ROUTE_ON        /* the smuggling check after the dot, then the queue */
} smtp_route;
void smtp_content_count_only(sc_smtp *s);
void smtp_content_partial(sc_smtp *s);
/* Which content came before its 354 (data-before-go-ahead). */
typedef enum smtp_early {
    SMTP_EARLY_DATA,             /* the message's, before the 354 to DATA */
    SMTP_EARLY_SMUGGLED,         /* the smuggled message's, seen from the replies */
    SMTP_EARLY_SMUGGLED_LINE     /* the same, read line by line: once per message */
} smtp_early;
void smtp_content_too_early(sc_smtp *s, uint64_t frame, smtp_early kind, uint64_t data_frame,
                            bool still_pending);
void smtp_content_mail(sc_smtp *s, const sc_cline *l);
void smtp_content_data(sc_smtp *s, const sc_cline *l, const uint8_t *txt, size_t tn,
                       const sc_pending *p);
void smtp_content_bdat(sc_smtp *s, const sc_cline *l, sc_pending *p);
void smtp_content_bdat_over(sc_smtp *s);
void smtp_content_residue(sc_smtp *s, sc_verb v, uint64_t frame, const uint8_t *txt,
                          size_t tn);
void smtp_content_begin(void *ctx, uint64_t off, uint64_t frame);
void smtp_content_line(void *ctx, const sc_cline *l);
void smtp_content_lines(void *ctx, uint64_t lines, uint64_t octets, uint64_t frame);
void smtp_content_eod(void *ctx, const sc_cline *dot);
void smtp_content_chunk(void *ctx, uint64_t octets, uint64_t off, uint64_t frame);
void smtp_content_data_answer(sc_smtp *s, const sc_pending *p, const sc_reply *r);
smtp_route smtp_content_reply(sc_smtp *s, const sc_reply *r);
void smtp_content_bdat_truncated(sc_smtp *s, uint64_t frame);
void smtp_content_unfinished(sc_smtp *s, uint64_t frame);

/* smtp_smuggle.c */
void smtp_smuggle_reset(sc_smtp *s);
void smtp_smuggle_ambiguous(void *ctx, const char *what, uint64_t off, uint64_t frame);
void smtp_smuggle_line(sc_smtp *s, const sc_cline *l);
void smtp_smuggle_eod_answered(sc_smtp *s);
void smtp_smuggle_answer(sc_smtp *s, const sc_pending *p, const sc_reply *r);
bool smtp_smuggle_check(sc_smtp *s, const sc_reply *r, bool during);

/* smtp_reply.c */
void smtp_reply_line(void *ctx, const sc_rline *l, const sc_reply *r);
void smtp_reply(void *ctx, const sc_reply *r);
void smtp_reply_lost_at_close(sc_smtp *s, uint64_t frame, bool rst);

/* smtp_answer.c */
/* What the server's sequence is known to be after a reset. */
typedef enum smtp_seq_view {
    SMTP_SEQ_KEEP,       /* as it was */
    SMTP_SEQ_KNOWN,      /* the reply shows it: no transaction */
    SMTP_SEQ_UNKNOWN     /* the server may or may not keep the transaction */
} smtp_seq_view;
void smtp_seq_reset(sc_smtp *s, smtp_seq_view view);
void smtp_seq_blind(sc_smtp *s);
void smtp_answer_at(sc_smtp *s, unsigned i, const sc_reply *r);

/* smtp_close.c */
void smtp_close_event(sc_smtp *s, const sc_flow_event *ev);
void smtp_close_client_data(sc_smtp *s, uint64_t frame, size_t seglen);
void smtp_close_session(sc_smtp *s, const sc_flow_event *ev);
bool smtp_close_timeout(sc_smtp *s, uint64_t frame, const char *how);
bool smtp_close_client_gave_up(const sc_smtp *s, int code);

/* smtp_capture.c */
void smtp_capture_midstream(sc_smtp *s, uint64_t frame, const char *where);
void smtp_capture_gap(sc_smtp *s, const sc_flow_event *ev);
void smtp_capture_untaken(sc_smtp *s, const sc_flow_event *ev);
void smtp_capture_not_analysed(sc_smtp *s);
void smtp_capture_server_data(sc_smtp *s, size_t len);
void smtp_capture_client_data(sc_smtp *s, size_t len);
bool smtp_capture_encrypted(sc_smtp *s, const sc_flow_event *ev);
bool smtp_capture_ext_unseen(const sc_smtp *s);
void smtp_capture_client_line(sc_smtp *s, sc_verb v);
bool smtp_capture_greeting(sc_smtp *s, const sc_reply *r);
void smtp_capture_in_step(sc_smtp *s);
void smtp_capture_truncated(sc_smtp *s, const sc_flow_event *ev, const char *after);

#endif
