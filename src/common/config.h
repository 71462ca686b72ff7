/*
 * config.h - the options of one run (docs/interface.md), parsed by
 * src/app/options.c.
 *
 * Every layer reads its settings from here; nothing reads argv elsewhere.
 */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H

#include "sc_types.h"
#include "rules.h"

typedef enum sc_output_mode { SC_OUT_TEXT, SC_OUT_JSON, SC_OUT_TUI } sc_output_mode;
typedef enum sc_profile { SC_PROFILE_RFC5321, SC_PROFILE_RFC821 } sc_profile;

#define SC_PORTS_MAX 64
#define SC_TLS_KEYLOGS_MAX 16
/* --max-findings default: enough to show how a rule fires and whether it
 * is one mistake or a pattern; the rest of a flood is counted. */
#define SC_MAX_FINDINGS_DEFAULT 10
#define SC_MAX_FINDINGS_LIMIT   1000000000u
/* --sensor: as long as a DNS name may be */
#define SC_SENSOR_MAX 253
/* --syslog-queue default: minutes of a busy gateway's findings while the
 * collector restarts, and little beside a capture buffer */
#define SC_SYSLOG_QUEUE_KIB_DEFAULT 4096

typedef struct sc_config {
    /* input */
    const char   **files;          /* -r FILE... (NULL-terminated), "-" = stdin */
    size_t         nfiles;
    bool           separate;       /* --separate: each file its own capture,
                                      else the files are one (in time order) */
    bool           merged;         /* several files read as one capture */
    const char    *iface;          /* -i IFACE */
    char          *bpf;            /* trailing BPF expression, or NULL */
    uint16_t       ports[SC_PORTS_MAX];  /* -p, default 25,465,587,2525 */
    size_t         nports;
    bool           any_port;       /* --any-port */
    const char    *drop_user;      /* -Z USER */
    unsigned       buffer_kib;     /* -B SIZE: kernel capture buffer, KiB; 0 default */
    const char    *write_file;     /* -w FILE: live, or the frames of the
                                      reported sessions of -r */
    uint64_t       max_packets;    /* -c COUNT: stop after COUNT frames, 0 all */
    uint64_t       write_max_bytes;/* -C SIZE: rotate -w past SIZE million bytes, 0 never */
    unsigned       write_rotate;   /* -G SECONDS: rotate -w every SECONDS, 0 never */
    const char    *write_streams;  /* --write-streams DIR */

    /* analysis */
    sc_profile     profile;
    bool           rule_enabled[SC_RULE_COUNT];
    sc_severity    min_severity;
    sc_severity    fail_on;        /* --fail-on, default error */
    uint32_t       max_findings;   /* --max-findings: per rule and session,
                                      reported one by one; 0 = no cap */
    const char   **tls_keylogs;    /* --tls-keylog FILE (repeatable) */
    size_t         ntls_keylogs;

    /* output */
    sc_output_mode mode;
    uint64_t       only_session;   /* --session ID, 0 = all */
    unsigned       only_file;      /* --session N:ID: the Nth -r file, 0 = any */
    bool           verbose;        /* -v: every session in full */
    const struct sc_rule *explain; /* --explain RULE */
    bool           only_findings;
    bool           show_content;   /* --show-content */
    bool           ladder;         /* --ladder */
    bool           redact;         /* --redact */
    bool           redact_addresses; /* --redact=addresses (redact is set too) */
    const char    *redact_key;     /* --redact-key FILE (NULL: a random key) */
    const char    *evidence_dir;   /* --evidence DIR */
    bool           evidence_pcap;  /* --evidence-format pcap (else pcapng) */
    const char    *html_file;      /* --html FILE */
    bool           quiet;          /* -q */
    int            color;          /* -1 auto, 0 never, 1 always */
    int            jobs;           /* -j N */
    const char    *sensor;         /* --sensor NAME: names this machine in the
                                      JSON (NULL: the host name) */
    const char    *output_file;    /* --output FILE: the report or JSON there,
                                      appended, reopened on SIGHUP live */
    bool           syslog;         /* --syslog[=DEST] */
    const char    *syslog_dest;    /* its DEST (NULL: the local socket) */
    unsigned       syslog_queue_kib;  /* --syslog-queue KIB */
    unsigned       summary_interval;  /* --summary-interval S (live), 0 never */

    /* limits (live mode and hostile input) */
    unsigned       idle_timeout;   /* seconds, --idle-timeout */
    uint64_t       max_sessions;   /* --max-sessions */
} sc_config;

/* Fills cfg with defaults. */
void sc_config_defaults(sc_config *cfg);

/* True when port is one of cfg->ports. */
bool sc_config_is_smtp_port(const sc_config *cfg, uint16_t port);

#endif
