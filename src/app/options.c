/*
 * options.c - the command line of smtpscope (docs/interface.md), parsed
 * into an sc_config.
 *
 * Interface: sc_options_parse() fills cfg; on a usage error it writes one
 * line to errbuf and returns -1 (the caller exits 2). --help, --version and
 * --rules set the matching action.
 *
 * Trailing arguments: after `-r FILE`, further arguments that name
 * existing files are more capture files (`-r a.pcap b.pcap`); the first one
 * that does not starts the BPF expression, which takes the rest (as tcpdump
 * joins its trailing words). A first word that names no file and does not
 * compile as BPF either is said to be a missing file and a bad expression,
 * naming that word, never the first file.
 *
 * tcpdump's habits: -n is accepted and changes nothing (smtpscope never
 * resolves names), -h is --help, -D lists the interfaces, -c COUNT stops
 * after COUNT frames, -F FILE reads the BPF expression from FILE, -v shows
 * every session in full, -w FILE with -r writes the frames of the
 * reported sessions.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "options.h"
#include "capture/capture.h"

enum {
    OPT_JSON = 256, OPT_TUI, OPT_SESSION, OPT_ONLY_FINDINGS, OPT_MIN_SEV,
    OPT_DISABLE, OPT_ENABLE, OPT_EVIDENCE, OPT_REDACT, OPT_REDACT_KEY, OPT_PROFILE,
    OPT_VERSION, OPT_HELP, OPT_RULES, OPT_MARKDOWN, OPT_FAIL_ON,
    OPT_SHOW_CONTENT, OPT_LADDER, OPT_WRITE_STREAMS, OPT_ANY_PORT, OPT_SEPARATE,
    OPT_COLOR, OPT_IDLE, OPT_MAX_SESSIONS, OPT_MAX_FINDINGS, OPT_TLS_KEYLOG, OPT_SENSOR,
    /* fleets: the report's file, syslog, periodic summaries */
    OPT_OUTPUT, OPT_SYSLOG, OPT_SYSLOG_QUEUE, OPT_SUMMARY_INTERVAL,
    OPT_EXPLAIN, OPT_EVIDENCE_FORMAT, OPT_HTML
};

static const struct option long_options[] = {
    { "json",          no_argument,       NULL, OPT_JSON },
    { "tui",           no_argument,       NULL, OPT_TUI },
    { "session",       required_argument, NULL, OPT_SESSION },
    { "only-findings", no_argument,       NULL, OPT_ONLY_FINDINGS },
    { "min-severity",  required_argument, NULL, OPT_MIN_SEV },
    { "fail-on",       required_argument, NULL, OPT_FAIL_ON },
    { "max-findings",  required_argument, NULL, OPT_MAX_FINDINGS },
    { "disable",       required_argument, NULL, OPT_DISABLE },
    { "enable",        required_argument, NULL, OPT_ENABLE },
    { "evidence",      required_argument, NULL, OPT_EVIDENCE },
    { "evidence-format", required_argument, NULL, OPT_EVIDENCE_FORMAT },
    { "html",          required_argument, NULL, OPT_HTML },
    { "sensor",        required_argument, NULL, OPT_SENSOR },
    { "output",        required_argument, NULL, OPT_OUTPUT },
    { "syslog",        optional_argument, NULL, OPT_SYSLOG },
    { "syslog-queue",  required_argument, NULL, OPT_SYSLOG_QUEUE },
    { "summary-interval", required_argument, NULL, OPT_SUMMARY_INTERVAL },
    { "redact",        optional_argument, NULL, OPT_REDACT },
    { "redact-key",    required_argument, NULL, OPT_REDACT_KEY },
    { "profile",       required_argument, NULL, OPT_PROFILE },
    { "show-content",  no_argument,       NULL, OPT_SHOW_CONTENT },
    { "ladder",        no_argument,       NULL, OPT_LADDER },
    { "write-streams", required_argument, NULL, OPT_WRITE_STREAMS },
    { "any-port",      no_argument,       NULL, OPT_ANY_PORT },
    { "tls-keylog",    required_argument, NULL, OPT_TLS_KEYLOG },
    { "separate",      no_argument,       NULL, OPT_SEPARATE },
    { "color",         required_argument, NULL, OPT_COLOR },
    { "colour",        required_argument, NULL, OPT_COLOR },
    { "idle-timeout",  required_argument, NULL, OPT_IDLE },
    { "max-sessions",  required_argument, NULL, OPT_MAX_SESSIONS },
    { "rules",         no_argument,       NULL, OPT_RULES },
    { "explain",       required_argument, NULL, OPT_EXPLAIN },
    { "markdown",      no_argument,       NULL, OPT_MARKDOWN },
    { "version",       no_argument,       NULL, OPT_VERSION },
    { "help",          no_argument,       NULL, OPT_HELP },
    { NULL, 0, NULL, 0 }
};

#define PCAP_WHY_MAX 256

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* Parses a decimal number in [min, max]. */
static int options_number_parse(const char *s, unsigned long long min,
                                unsigned long long max, unsigned long long *out)
{
    char *end;

    if (*s == '\0' || *s == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* -p 25,465,587: replaces the default list. */
static int options_ports_parse(sc_config *cfg, const char *arg, char *err, size_t errlen)
{
    char buf[512];
    unsigned long long v;

    if (strlen(arg) >= sizeof buf)
        FAIL("-p: list too long");
    strcpy(buf, arg);
    cfg->nports = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (options_number_parse(tok, 1, 65535, &v) < 0)
            FAIL("-p: '%s' is not a port number (1-65535)", tok);
        if (cfg->nports == SC_PORTS_MAX)
            FAIL("-p: at most %d ports", SC_PORTS_MAX);
        cfg->ports[cfg->nports++] = (uint16_t)v;
    }
    if (cfg->nports == 0)
        FAIL("-p: no port given");
    return 0;
}

/* --disable/--enable RULE[,RULE...]; "all" names every rule. */
static int options_rules_set(sc_config *cfg, const char *arg, bool on,
                             char *err, size_t errlen)
{
    char buf[2048];

    if (strlen(arg) >= sizeof buf)
        FAIL("--%s: list too long", on ? "enable" : "disable");
    strcpy(buf, arg);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "all") == 0) {
            for (unsigned i = 0; i < SC_RULE_COUNT; i++)
                cfg->rule_enabled[i] = on;
            continue;
        }
        const sc_rule *r = sc_rule_by_name(tok);
        if (!r)
            FAIL("--%s: unknown rule '%s' (see smtpscope --rules)",
                 on ? "enable" : "disable", tok);
        cfg->rule_enabled[r->id] = on;
    }
    return 0;
}

static bool options_is_file(const char *path)
{
    struct stat st;
    return strcmp(path, "-") == 0 || (stat(path, &st) == 0 && !S_ISDIR(st.st_mode));
}

/* True for a word no BPF expression holds but a capture's name does: a
 * path (a slash, other than in a network), or a capture file's
 * extension, rotated too (.pcap, .pcap3, .pcapng, .cap, .gz, ...). BPF
 * words with dots are addresses and host names ("host mx.example.net",
 * "net 10.0.0.0/8"): none ends in these. */
static bool options_looks_like_file(const char *w)
{
    static const char *const ext[] = { ".pcap", ".pcapng", ".cap", ".ntar", ".dmp",
                                       ".gz", ".erf", ".snoop" };
    const char *dot = strrchr(w, '.');

    if (strchr(w, ' '))
        return false;              /* a whole expression in one word */
    /* a slash: a path, unless a network ("net 10.0.0.0/8", "fe80::/10") */
    if (strchr(w, '/') && !strchr(w, ':') && !isdigit((unsigned char)w[0]))
        return true;
    if (!dot)
        return false;
    for (size_t k = 0; k < sizeof ext / sizeof ext[0]; k++) {
        size_t n = strlen(ext[k]);
        if (strncasecmp(dot, ext[k], n) == 0 && strspn(dot + n, "0123456789") == strlen(dot + n))
            return true;
    }
    return false;
}

/* --session ID or N:ID (the Nth -r file's session ID: how the timeline
 * and evidence names number sessions of several files). */
static int options_session_parse(sc_config *cfg, const char *arg, char *err, size_t errlen)
{
    unsigned long long v, n = 0;
    const char *whole = arg, *colon = strchr(arg, ':');
    char head[24];

    if (colon) {
        if ((size_t)(colon - arg) >= sizeof head)
            FAIL("--session: '%s' is not a session (ID or FILE:ID)", whole);
        memcpy(head, arg, (size_t)(colon - arg));
        head[colon - arg] = '\0';
        if (options_number_parse(head, 1, 1024, &n) < 0)
            FAIL("--session: '%s' is not a session (ID or FILE:ID)", whole);
        arg = colon + 1;
    }
    if (options_number_parse(arg, 1, UINT64_MAX, &v) < 0)
        FAIL("--session: '%s' is not a session (ID or FILE:ID)", whole);
    cfg->only_session = v;
    cfg->only_file = (unsigned)n;
    return 0;
}

/* -F FILE: the BPF expression in a file, newlines as spaces (as tcpdump
 * reads it). At most 64 KiB. */
static int options_bpf_file(sc_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char *s;
    size_t n;

    if (!fp)
        FAIL("-F %s: %s", path, strerror(errno));
    s = calloc(1, 65537);
    if (!s) {
        fclose(fp);
        FAIL("out of memory");
    }
    n = fread(s, 1, 65536, fp);
    bool more = fgetc(fp) != EOF, bad = ferror(fp);
    fclose(fp);
    if (bad || more || memchr(s, '\0', n)) {
        free(s);
        FAIL("-F %s: %s", path, bad ? "read error" : more ? "longer than 64 KiB"
                                                         : "not a text file");
    }
    for (size_t i = 0; i < n; i++)          /* comments are not BPF: none */
        if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
            s[i] = ' ';
    free(cfg->bpf);
    cfg->bpf = s;
    return 0;
}

/* Joins argv[from..argc) with spaces into a new string. */
static char *options_join(int argc, char **argv, int from)
{
    size_t len = 1;
    for (int i = from; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = calloc(1, len);
    if (!s)
        return NULL;
    for (int i = from; i < argc; i++) {
        if (i > from)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

int sc_options_parse(int argc, char **argv, sc_config *cfg, sc_action *action,
                     char *err, size_t errlen)
{
    static const char *files[1024];
    size_t nfiles = 0;
    unsigned long long v;
    bool markdown = false;
    const char *bpf_file = NULL;
    int c, i;

    sc_config_defaults(cfg);
    *action = SC_ACTION_RUN;
    opterr = 0;
    optind = 1;
again:
    while ((c = getopt_long(argc, argv, "+:r:i:p:Z:w:C:G:B:qj:c:F:nvDh", long_options, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (nfiles == sizeof files / sizeof files[0] - 1)
                FAIL("-r: too many files");
            files[nfiles++] = optarg;
            break;
        case 'i': cfg->iface = optarg; break;
        case 'Z': cfg->drop_user = optarg; break;
        case 'w': cfg->write_file = optarg; break;
        case 'C':
            if (options_number_parse(optarg, 1, 1000000, &v) < 0)
                FAIL("-C: '%s' is not a size in millions of bytes", optarg);
            cfg->write_max_bytes = v * 1000000ull;
            break;
        case 'G':
            if (options_number_parse(optarg, 1, 86400 * 366, &v) < 0)
                FAIL("-G: '%s' is not a number of seconds", optarg);
            cfg->write_rotate = (unsigned)v;
            break;
        case 'B':
            /* KiB, as tcpdump -B; libpcap takes bytes in an int */
            if (options_number_parse(optarg, 1, INT_MAX / 1024, &v) < 0)
                FAIL("-B: '%s' is not a buffer size in KiB (1-%d)", optarg, INT_MAX / 1024);
            cfg->buffer_kib = (unsigned)v;
            break;
        case 'q': cfg->quiet = true; break;
        case 'n': break;            /* tcpdump's "no names": never any */
        case 'v': cfg->verbose = true; break;
        case 'c':
            if (options_number_parse(optarg, 1, UINT64_MAX, &v) < 0)
                FAIL("-c: '%s' is not a number of packets", optarg);
            cfg->max_packets = v;
            break;
        case 'F':
            bpf_file = optarg;
            break;
        case 'D': *action = SC_ACTION_INTERFACES; return 0;
        case 'h': *action = SC_ACTION_HELP; return 0;
        case 'p':
            if (options_ports_parse(cfg, optarg, err, errlen) < 0)
                return -1;
            break;
        case 'j':
            if (options_number_parse(optarg, 1, 64, &v) < 0)
                FAIL("-j: '%s' is not a number of workers (1-64)", optarg);
            cfg->jobs = (int)v;
            break;
        case OPT_JSON: cfg->mode = SC_OUT_JSON; break;
        case OPT_TUI: cfg->mode = SC_OUT_TUI; break;
        case OPT_SESSION:
            if (options_session_parse(cfg, optarg, err, errlen) < 0)
                return -1;
            break;
        case OPT_ONLY_FINDINGS: cfg->only_findings = true; break;
        case OPT_MIN_SEV:
            if (sc_severity_parse(optarg, &cfg->min_severity) < 0)
                FAIL("--min-severity: '%s' is not info, warning or error", optarg);
            break;
        case OPT_FAIL_ON:
            if (sc_severity_parse(optarg, &cfg->fail_on) < 0)
                FAIL("--fail-on: '%s' is not info, warning or error", optarg);
            break;
        case OPT_MAX_FINDINGS:
            if (options_number_parse(optarg, 0, SC_MAX_FINDINGS_LIMIT, &v) < 0)
                FAIL("--max-findings: '%s' is not a number (0: no cap)", optarg);
            cfg->max_findings = (uint32_t)v;
            break;
        case OPT_DISABLE:
        case OPT_ENABLE:
            if (options_rules_set(cfg, optarg, c == OPT_ENABLE, err, errlen) < 0)
                return -1;
            break;
        case OPT_EVIDENCE: cfg->evidence_dir = optarg; break;
        case OPT_HTML: cfg->html_file = optarg; break;
        case OPT_EVIDENCE_FORMAT:
            if (strcmp(optarg, "pcapng") != 0 && strcmp(optarg, "pcap") != 0)
                FAIL("--evidence-format: pcapng or pcap, not '%s'", optarg);
            cfg->evidence_pcap = strcmp(optarg, "pcap") == 0;
            break;
        case OPT_SENSOR:
            if (optarg[0] == '\0' || strlen(optarg) > SC_SENSOR_MAX)
                FAIL("--sensor: a name of 1 to %d bytes", SC_SENSOR_MAX);
            cfg->sensor = optarg;
            break;
        case OPT_OUTPUT: cfg->output_file = optarg; break;
        case OPT_SYSLOG:
            cfg->syslog = true;
            cfg->syslog_dest = optarg;
            break;
        case OPT_SYSLOG_QUEUE:
            if (options_number_parse(optarg, 16, 1024 * 1024, &v) < 0)
                FAIL("--syslog-queue: '%s' is not a size in KiB (16-1048576)", optarg);
            cfg->syslog_queue_kib = (unsigned)v;
            break;
        case OPT_SUMMARY_INTERVAL:
            if (options_number_parse(optarg, 1, 86400 * 366, &v) < 0)
                FAIL("--summary-interval: '%s' is not a number of seconds", optarg);
            cfg->summary_interval = (unsigned)v;
            break;
        case OPT_REDACT:
            cfg->redact = true;
            if (optarg && strcmp(optarg, "addresses") == 0)
                cfg->redact_addresses = true;
            else if (optarg)
                FAIL("--redact=%s: the only choice is --redact=addresses", optarg);
            break;
        case OPT_REDACT_KEY: cfg->redact_key = optarg; break;
        case OPT_PROFILE:
            if (strcmp(optarg, "rfc5321") == 0)
                cfg->profile = SC_PROFILE_RFC5321;
            else if (strcmp(optarg, "rfc821") == 0)
                cfg->profile = SC_PROFILE_RFC821;
            else
                FAIL("--profile: '%s' is not rfc5321 or rfc821", optarg);
            break;
        case OPT_SHOW_CONTENT: cfg->show_content = true; break;
        case OPT_LADDER: cfg->ladder = true; break;
        case OPT_WRITE_STREAMS: cfg->write_streams = optarg; break;
        case OPT_ANY_PORT: cfg->any_port = true; break;
        case OPT_TLS_KEYLOG: {
            static const char *keylogs[SC_TLS_KEYLOGS_MAX];
            if (cfg->ntls_keylogs == SC_TLS_KEYLOGS_MAX)
                FAIL("--tls-keylog: at most %d files", SC_TLS_KEYLOGS_MAX);
            if (access(optarg, R_OK) < 0)
                FAIL("--tls-keylog %s: %s", optarg, strerror(errno));
            keylogs[cfg->ntls_keylogs++] = optarg;
            cfg->tls_keylogs = keylogs;
            break;
        }
        case OPT_SEPARATE: cfg->separate = true; break;
        case OPT_COLOR:
            if (strcmp(optarg, "auto") == 0) cfg->color = -1;
            else if (strcmp(optarg, "always") == 0) cfg->color = 1;
            else if (strcmp(optarg, "never") == 0) cfg->color = 0;
            else FAIL("--color: '%s' is not auto, always or never", optarg);
            break;
        case OPT_IDLE:
            if (options_number_parse(optarg, 1, 86400 * 7, &v) < 0)
                FAIL("--idle-timeout: '%s' is not a number of seconds", optarg);
            cfg->idle_timeout = (unsigned)v;
            break;
        case OPT_MAX_SESSIONS:
            if (options_number_parse(optarg, 1, 100000000, &v) < 0)
                FAIL("--max-sessions: '%s' is not a number", optarg);
            cfg->max_sessions = v;
            break;
        case OPT_RULES: *action = SC_ACTION_RULES; break;
        case OPT_EXPLAIN:
            if (!(cfg->explain = sc_rule_by_name(optarg)))
                FAIL("--explain: unknown rule '%s' (see smtpscope --rules)", optarg);
            *action = SC_ACTION_EXPLAIN;
            return 0;
        case OPT_MARKDOWN: markdown = true; break;
        case OPT_VERSION: *action = SC_ACTION_VERSION; return 0;
        case OPT_HELP: *action = SC_ACTION_HELP; return 0;
        case ':':
            if (optopt == 'r')
                FAIL("-r needs a capture file (smtpscope -r FILE [FILE...] [BPF expression])");
            if (optopt == 'i')
                FAIL("-i needs an interface (smtpscope -i IFACE [BPF expression])");
            FAIL("option %s needs an argument", argv[optind - 1]);
        default:
            if (optopt)
                FAIL("unknown option -%c (see smtpscope --help)", optopt);
            FAIL("unknown option %s (see smtpscope --help)", argv[optind - 1]);
        }
    }
    /* Trailing words: more files after -r, then the BPF expression. */
    i = optind;
    if (nfiles > 0)
        while (i < argc && options_is_file(argv[i])) {
            if (nfiles == sizeof files / sizeof files[0] - 1)
                FAIL("-r: too many files");
            files[nfiles++] = argv[i++];
        }
    /* Options may follow the files (-r a.pcap b.pcap --json): no BPF
     * expression starts with '-'. */
    if (i > optind && i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
        optind = i;
        goto again;
    }
    if (*action == SC_ACTION_RULES) {
        if (markdown)
            *action = SC_ACTION_RULES_MARKDOWN;
        return 0;
    }
    /* A word that names no file but looks like one is a file that is not
     * there, not a filter: said now, not as a BPF syntax error. */
    if (nfiles > 0 && i < argc && options_looks_like_file(argv[i]))
        FAIL("%s: %s", argv[i], access(argv[i], F_OK) == 0 ? "cannot be read as a capture file"
                                                          : "No such file or directory");
    if (i < argc && bpf_file)
        FAIL("-F %s and a BPF expression on the command line: give one", bpf_file);
    if (bpf_file && options_bpf_file(cfg, bpf_file, err, errlen) < 0)
        return -1;
    if (i < argc) {
        char why[PCAP_WHY_MAX];
        cfg->bpf = options_join(argc, argv, i);
        if (!cfg->bpf)
            FAIL("out of memory");
        /* one word that is neither: most likely a mistyped file name */
        if (nfiles > 0 && i + 1 == argc && !strchr(argv[i], ' ') &&
            !sc_capture_bpf_compiles(cfg->bpf, why, sizeof why))
            FAIL("%s: no such capture file, and not a BPF expression either (%s)",
                 argv[i], why);
    }
    files[nfiles] = NULL;
    cfg->files = files;
    cfg->nfiles = nfiles;
    cfg->merged = nfiles > 1 && !cfg->separate;

    if (cfg->separate && nfiles == 0)
        FAIL("--separate applies to several files given with -r");
    if (nfiles > 0 && cfg->iface)
        FAIL("-r and -i cannot be used together");
    if (nfiles == 0 && !cfg->iface)
        FAIL("nothing to read: give -r FILE or -i IFACE (see smtpscope --help)");
    if (cfg->drop_user && !cfg->iface)
        FAIL("-Z applies to live capture (-i) only");
    if (cfg->buffer_kib && !cfg->iface)
        FAIL("-B applies to live capture (-i) only");
    if (cfg->write_file && cfg->separate && nfiles > 1)
        FAIL("-w writes one file: read the captures as one (without --separate)");
    if (cfg->only_file > 1 && !(cfg->separate && nfiles > 1))
        FAIL("--session %u:%llu: the FILE:ID form names a session of the Nth file "
             "with --separate; here session ids are unique in the run",
             cfg->only_file, (unsigned long long)cfg->only_session);
    if (cfg->only_file > nfiles && nfiles > 0)
        FAIL("--session %u:%llu: there are only %zu capture files", cfg->only_file,
             (unsigned long long)cfg->only_session, nfiles);
    if ((cfg->write_max_bytes || cfg->write_rotate) && !cfg->write_file)
        FAIL("-C and -G rotate the -w file: give -w FILE");
    if (cfg->output_file && cfg->mode == SC_OUT_TUI)
        FAIL("--output writes the report or the JSON: not with --tui");
    if (cfg->summary_interval && !cfg->iface)
        FAIL("--summary-interval applies to live capture (-i) only");
    if (cfg->redact && cfg->show_content)
        FAIL("--redact and --show-content cannot be used together");
    if (cfg->redact && cfg->write_streams)
        FAIL("--write-streams writes the streams as they are: not with --redact");
    if (cfg->redact_key && !cfg->redact_addresses)
        FAIL("--redact-key keys the pseudonyms of --redact=addresses: give that too");
    return 0;
}

void sc_options_usage(FILE *fp)
{
    fputs(
"usage: smtpscope [options] -r FILE [FILE...] [BPF expression]\n"
"       smtpscope [options] -i IFACE [BPF expression]\n"
"       smtpscope --rules [--markdown] | --explain RULE | -D\n"
"\n"
"Reads SMTP sessions from captures (pcap, pcapng, gzip; - for stdin) or a\n"
"live interface and reports every way client and server broke the protocol.\n"
"\n"
"input:\n"
"  -r FILE             read a capture file (several: one capture, in time order)\n"
"  -c COUNT            stop after COUNT packets\n"
"  -F FILE             read the BPF expression from FILE\n"
"  -n                  accepted for tcpdump's sake: smtpscope resolves no names\n"
"  --separate          several -r files: each its own capture\n"
"  -i IFACE            sniff live (needs CAP_NET_RAW)\n"
"  -D                  list the interfaces to sniff on\n"
"  -Z USER             drop privileges to USER once the capture is open\n"
"  -B SIZE             live: kernel capture buffer of SIZE KiB (default 16384)\n"
"  -w FILE             also write the packets of the SMTP sessions (with -r:\n"
"                      those reported)\n"
"  -C SIZE             -w: a new file past SIZE million bytes (FILE1, ...)\n"
"  -G SECONDS          -w: a new file every SECONDS (FILE: strftime pattern)\n"
"  -p PORTS            server ports that are SMTP (default 25,465,587,2525)\n"
"  --any-port          also recognise SMTP on other ports (a greeting and an\n"
"                      SMTP command); count the flows that are not SMTP\n"
"  --idle-timeout S    close sessions silent for S seconds (default 600)\n"
"  --max-sessions N    concurrent sessions kept (default 100000)\n"
"  -j N                analyse with N workers\n"
"analysis:\n"
"  --profile P         rfc5321 (default) or rfc821 (legacy: some rules info)\n"
"  --disable RULES     comma-separated rule ids (or all) not to report\n"
"  --enable RULES      rule ids to report again\n"
"  --tls-keylog FILE   decrypt STARTTLS and implicit TLS with this NSS key\n"
"                      log (SSLKEYLOGFILE); may be repeated\n"
"output:\n"
"  --json              JSON Lines instead of the text report\n"
"  --tui               the interactive ncurses timeline\n"
"  --ladder            text report transcript as a client/server ladder\n"
"  --session ID        only session ID (FILE:ID: of the FILEth file, --separate)\n"
"  -v                  every session in full (see --help's default below)\n"
"  --only-findings     only sessions with findings\n"
"  --min-severity S    info (default), warning or error\n"
"  --fail-on S         exit 1 when a finding is at least S (default error)\n"
"  --max-findings N    findings per rule and session shown one by one, the\n"
"                      rest counted (default 10; 0: all)\n"
"  --show-content      print message content lines instead of a summary\n"
"  --redact            mask message content and AUTH data everywhere\n"
"  --redact=addresses  that, and addresses and names pseudonymised everywhere\n"
"  --redact-key FILE   the key of those pseudonyms (default: random per run)\n"
"  --evidence DIR      write session-ID.pcapng and session-ID.txt per session\n"
"  --evidence-format F pcapng (default: findings as packet comments) or pcap\n"
"  --html FILE         the run's HTML report (index and ladders) in one file\n"
"  --write-streams DIR write each session's reassembled byte streams\n"
"  --sensor NAME       JSON: the name of this machine (default: host name)\n"
"  --output FILE       the report (or JSON) appended to FILE, not standard\n"
"                      output; live, reopened on SIGHUP (logrotate)\n"
"  --syslog[=DEST]     also each JSON object as a syslog message, to DEST:\n"
"                      unix:PATH (default unix:/dev/log), tcp://HOST:PORT,\n"
"                      udp://HOST:PORT (RFC 5424; TCP octet counting)\n"
"  --syslog-queue KIB  messages waiting for the collector (default 4096 KiB);\n"
"                      past it they are dropped and counted\n"
"  --summary-interval S  live: the per-peer summary every S seconds\n"

"  --color WHEN        auto (default), always, never (NO_COLOR honoured)\n"
"  -q                  no progress line\n"
"  --rules             list the rule catalogue (--markdown: as Markdown)\n"
"  --explain RULE      what a rule's finding means and what to tell the vendor\n"
"  --version, --help (-h)\n"
"\n"
"exit status: 0 no finding at or above --fail-on, 1 findings, 2 usage or\n"
"input error, 3 an output not written in full, 4 the analysis ended early\n"
"(a damaged capture), 5 no such --session. See smtpscope(1).\n", fp);
}
