/*
 * record.h - what the SMTP layer tells the outputs.
 *
 * A session produces, in wire order: transcript lines (sc_line), findings
 * (sc_finding; past --max-findings, one record per rule with the count of
 * the rest), and at its end a summary (sc_session_info). Outputs (text
 * report, JSON Lines, timeline, evidence) implement sc_sink and receive
 * these records; pointers inside a record are valid only during the call,
 * so a sink that keeps anything copies it.
 */
#ifndef SC_RECORD_H
#define SC_RECORD_H

#include <string.h>

#include "sc_types.h"
#include "rules.h"

/* What a transcript line is. */
typedef enum sc_line_kind {
    SC_LINE_COMMAND,     /* C> a command line (without CRLF) */
    SC_LINE_REPLY,       /* S> one reply line (without CRLF) */
    SC_LINE_CONTENT,     /* C> message content: a summary such as
                            "[message content: 48 lines, 2113 bytes]", or,
                            with --show-content, one content line */
    SC_LINE_BDAT,        /* C> "[BDAT chunk: 1000 octets]" */
    SC_LINE_AUTH,        /* C> an AUTH exchange line (already masked) */
    SC_LINE_TLS,         /* either: "[TLS: N bytes not analysed]" */
    SC_LINE_EVENT,       /* either: "[FIN]", "[RST]", "[gap: N bytes]",
                            "[capture ends]" */
    SC_LINE_UNPARSED     /* bytes that could not be read as protocol */
} sc_line_kind;

typedef struct sc_line {
    uint64_t        frame;     /* frame that completed the line (1-based) */
    struct timeval  ts;        /* its timestamp */
    sc_dir          dir;
    sc_line_kind    kind;
    const uint8_t  *text;      /* raw wire bytes (NOT escaped, not NUL-terminated) */
    size_t          len;
    uint64_t        seq;       /* ordinal of the line in its session, from 0 */
} sc_line;

/* A line quoted as evidence of a finding. */
#define SC_EVIDENCE_MAX 8
typedef struct sc_evidence {
    uint64_t        frame;
    sc_dir          dir;
    const uint8_t  *text;      /* raw bytes, printed through safeprint */
    size_t          len;
} sc_evidence;

#define SC_MESSAGE_MAX 512
typedef struct sc_finding {
    const sc_rule  *rule;
    sc_side         side;      /* client, server or capture (never either) */
    sc_severity     severity;  /* effective (after --profile) */
    uint64_t        frame;     /* frame of the line that completes it */
    struct timeval  ts;
    uint64_t        after_line;/* seq of the transcript line it follows */
    char            message[SC_MESSAGE_MAX]; /* may hold wire bytes: escape */
    size_t          nevidence;
    sc_evidence     evidence[SC_EVIDENCE_MAX];
    /* --max-findings: when not 0, this record is not one finding but the
     * count of this rule's findings (on this side) that the session did
     * not report one by one, past the cap; frame and ts are those of the
     * last of them, suppressed_first the frame of the first, message says
     * so in words, and there is no evidence. It comes at the session's
     * end, before session_end. */
    uint64_t        suppressed;
    uint64_t        suppressed_first;
} sc_finding;

/* How many findings a record stands for: totals count with this, so that
 * they stay true whatever --max-findings kept out of the report. */
static inline uint64_t sc_finding_count(const sc_finding *f)
{
    return f->suppressed ? f->suppressed : 1;
}

/* A counted run of raw wire bytes (not NUL-terminated, not escaped). */
typedef struct sc_bytes {
    const uint8_t *p;
    size_t         len;
} sc_bytes;

/* A range of one direction's byte stream: offset 0 is the first byte after
 * the SYN (or, mid-stream, the first byte seen); gaps count. Used to mask
 * message content and AUTH data in evidence pcaps (--redact). */
typedef struct sc_range {
    sc_dir   dir;
    uint64_t start, end;     /* [start, end) */
} sc_range;

/* --redact=addresses: bytes of one direction's stream replaced by their
 * pseudonyms (pseudo.h) in the evidence pcap, as the analysis replaced
 * them in the lines it shows: len bytes at stream offset off, taken from
 * sc_session_info.subst_bytes + at. */
typedef struct sc_subst {
    sc_dir   dir;
    uint64_t off;
    uint32_t len, at;
} sc_subst;

/* The longest peer name kept (a DNS name is at most 253 bytes). */
#define SC_PEER_NAME_MAX 255

/* One mail transaction (MAIL FROM .. end of data or abort). */
typedef enum sc_txn_result {
    SC_TXN_UNKNOWN = 0, SC_TXN_ACCEPTED, SC_TXN_REJECTED, SC_TXN_ABORTED
} sc_txn_result;

typedef struct sc_txn {
    sc_bytes       mail_from;      /* the MAIL command's argument */
    size_t         nrcpt;          /* RCPT commands seen */
    size_t         nrcpt_kept;     /* entries in rcpt_to (bounded) */
    const sc_bytes *rcpt_to;
    sc_txn_result  result;
    sc_bytes       reply;          /* final reply line (end of data, or the refusal) */
    uint64_t       content_bytes;
} sc_txn;

typedef enum sc_close_by  { SC_CLOSE_NONE, SC_CLOSE_CLIENT, SC_CLOSE_SERVER } sc_close_by;
typedef enum sc_close_how { SC_HOW_CAPTURE_END, SC_HOW_FIN, SC_HOW_RST,
                            SC_HOW_TIMEOUT, SC_HOW_EVICTED } sc_close_how;

/* Everything the outputs know of a session. Memory behind the pointers is
 * the session's, bounded (a few recipients and transactions are kept, the
 * counts say how many there were), and valid during the sink call. */
typedef struct sc_session_info {
    uint64_t        id;            /* 1-based, order of first packet */
    sc_endpoint     client, server;/* as every output shows them: under
                                      --redact=addresses, pseudonyms */
    sc_endpoint     wire_client, wire_server; /* the packets' own (the
                                      evidence cutter finds them by these) */
    struct timeval  start, end;
    uint64_t        first_frame, last_frame, frames;
    uint64_t        bytes_c2s, bytes_s2c;
    uint64_t        c2s_after_server_fin; /* client bytes after the server's FIN
                                             (half-close-while-sending) */
    bool            handshake_seen;
    bool            tls;           /* the rest of the session is encrypted and
                                      not analysed (STARTTLS, implicit TLS),
                                      unless --tls-keylog decrypts it */
    /* --tls-keylog: NULL without TLS or without the option; else the
     * state (src/tls/tls.h, sc_tls_state_name: "decrypted", "no-key",
     * "failed", ...), the version and suite when the ServerHello was read,
     * and the notes (records that failed their tag, ...) */
    const char     *tls_state, *tls_version, *tls_cipher;
    uint64_t        tls_notes;
    /* The key log lines of this session once decrypted (NSS format, for
     * the evidence pcapng's Decryption Secrets Block); NULL otherwise and
     * always under --redact */
    const char     *tls_secrets;
    bool            seq_untrusted; /* TCP sequence numbers rewritten: bytes
                                      followed in capture order */
    uint64_t        reasm_dropped; /* bytes dropped by a reassembly limit
                                      (not missing from the capture) */
    uint64_t        reasm_untaken; /* bytes of a first copy the receiver did
                                      not take (a later copy replaced them) */
    size_t          next;          /* EHLO keywords kept */
    const sc_bytes *extensions;    /* each as the server sent it: "SIZE 10240000" */
    sc_close_by     close_by;
    sc_close_how    close_how;
    const char     *close_after;   /* last state: "quit", "data", "mail", ... */
    size_t          ntxn;          /* transactions seen */
    size_t          ntxn_kept;
    const sc_txn   *txn;
    /* The streams as the analysis read them (client, server), so that the
     * evidence cutter places sc_range offsets as the analysis did: the
     * sequence number of offset 0 (sc_conn.stream_base) and the end of
     * what was read, data and gaps (UINT64_MAX once TLS is decrypted:
     * the offsets are then the plaintext's). */
    uint64_t        stream_base[2];
    uint64_t        stream_end[2];
    size_t          nredact;       /* stream ranges to mask under --redact */
    const sc_range *redact;        /* (message content, AUTH exchanges) */
    size_t          nsubst;        /* --redact=addresses: pseudonyms to */
    const sc_subst *subst;         /* write into the evidence pcap's bytes */
    const uint8_t  *subst_bytes;
    uint64_t        subst_masked;  /* lines whose pseudonyms were masked
                                      instead (past the session's bound) */
    uint64_t        findings[3];   /* findings by severity, those past
                                      --max-findings included */
    const char     *capture_file;  /* file the session came from */
    /* the names the peers gave (raw wire bytes, at most SC_PEER_NAME_MAX,
     * len 0 when none): the client's first EHLO/HELO domain, the host
     * in the server's 220 greeting */
    sc_bytes        helo_name, greeting_name;
} sc_session_info;

/* --syslog: what became of the messages (src/output/syslog.h). Every
 * message is sent, queued, dropped or lost: sent + queued + dropped +
 * lost is the number of messages made. */
typedef struct sc_delivery {
    const char *dest;         /* "unix:/dev/log", "tcp://HOST:PORT", ... */
    uint64_t sent;            /* handed whole to the kernel */
    uint64_t queued;          /* waiting in the queue now */
    uint64_t dropped;         /* never sent: the queue was full, a datagram
                                 too large, or still queued at the end */
    uint64_t lost;            /* sent, and refused by the collector's host
                                 (UDP: port unreachable) */
    uint64_t queue_bytes, queue_peak, queue_cap;  /* bytes queued: now,
                                 the most ever, the cap */
    uint64_t connects;        /* connections made */
} sc_delivery;

/* IP fragments of TCP (src/reasm/defrag.h): every fragment read is part
 * of a datagram reassembled (datagrams counts those), an exact duplicate
 * of a fragment kept, or dropped with its datagram for one reason. */
#define SC_FRAG_TIMEOUT_SECS 60   /* RFC 8200 §4.5; IPv4 receivers use 30 to 60 */
#define SC_FRAG_TIMEOUT_TEXT "60 s"

typedef enum sc_frag_reason {
    SC_FRAG_TIMEOUT,          /* incomplete after SC_FRAG_TIMEOUT_SECS */
    SC_FRAG_INCOMPLETE,       /* incomplete at the end of the input */
    SC_FRAG_OVERLAP,          /* IPv6 fragments that overlap (RFC 5722) */
    SC_FRAG_LIMIT,            /* beyond the reassembler's bounds */
    SC_FRAG_TOO_BIG,          /* a datagram beyond 65535 bytes */
    SC_FRAG_MALFORMED,        /* lengths and offsets that contradict */
    SC_FRAG_REASONS
} sc_frag_reason;

typedef struct sc_frag_counts {
    uint64_t fragments;       /* fragments read */
    uint64_t datagrams;       /* datagrams reassembled */
    uint64_t duplicates;      /* fragments that repeated one kept */
    uint64_t overlap_v4;      /* IPv4 fragments over bytes another brought
                                 first (the first copy is kept) */
    uint64_t dropped[SC_FRAG_REASONS];   /* fragments, by reason */
} sc_frag_counts;

/* Totals handed to sink->finish. */
typedef struct sc_totals {
    uint64_t files, packets, bytes, sessions, dropped;
    uint64_t reasm_dropped;   /* stream bytes dropped by reassembly limits */
    uint64_t chain_dropped;   /* IPv6 packets not analysed: extension header
                                 chain longer than followed (reasm.h) */
    uint64_t malformed_dropped; /* IP packets whose header lengths do not fit */
    sc_frag_counts frag;      /* IP fragments of TCP */
    /* Live capture: the interface (NULL when reading files) and what
     * pcap_stats said: received by the filter, dropped by the kernel and
     * by the interface (dropped is the sum of the two). */
    const char *iface;
    uint64_t received, dropped_kernel, dropped_iface;
    uint64_t by_rule[SC_RULE_COUNT];
    uint64_t by_severity[3];
    /* --tls-keylog: sessions that went into TLS, those decrypted, those
     * the key log had no key for (keylog: the option was given) */
    bool     keylog;
    uint64_t tls_encrypted, tls_decrypted, tls_no_key;
    /* --syslog: the delivery so far (NULL without the option); the
     * summary is itself one more message, not yet counted in it */
    const sc_delivery *syslog;
    /* Inputs whose analysis ended early: a damaged capture (cut in the
     * middle of a record, a corrupt record length), a -j worker that
     * failed. The count, and the first one's reason (file and frame). */
    uint64_t damaged;
    char     damage[320];
    /* --any-port: connections on other ports that carried bytes but were
     * not SMTP (src/session/anyport.c), not analysed */
    uint64_t not_smtp;
} sc_totals;

/* A run's fragments into the totals. */
static inline void sc_totals_add_frag(sc_totals *t, const sc_frag_counts *f)
{
    t->frag.fragments += f->fragments;
    t->frag.datagrams += f->datagrams;
    t->frag.duplicates += f->duplicates;
    t->frag.overlap_v4 += f->overlap_v4;
    for (int i = 0; i < SC_FRAG_REASONS; i++)
        t->frag.dropped[i] += f->dropped[i];
}

/* A session's part of the TLS totals, at its end. */
static inline void sc_totals_count_tls(sc_totals *t, const sc_session_info *si)
{
    if (!si->tls && !si->tls_state)
        return;
    t->tls_encrypted++;
    if (si->tls_state && !si->tls)
        t->tls_decrypted++;
    else if (si->tls_state && strcmp(si->tls_state, "no-key") == 0)
        t->tls_no_key++;
}

/* An output. Any callback may be NULL. A line callback may read only the
 * id and capture_file of the session info (a transcript line belongs to
 * the session of that id): -j relays a line with those alone, since a
 * whole session info with each line doubled the workers' CPU under
 * --show-content (src/jobs/wire.c, docs/performance.md). */
typedef struct sc_sink sc_sink;
struct sc_sink {
    void (*session_begin)(sc_sink *, const sc_session_info *);
    void (*line)(sc_sink *, const sc_session_info *, const sc_line *);
    void (*finding)(sc_sink *, const sc_session_info *, const sc_finding *);
    void (*session_end)(sc_sink *, const sc_session_info *);
    void (*finish)(sc_sink *, const sc_totals *);
    void (*destroy)(sc_sink *);
    void *priv;
};

#endif
