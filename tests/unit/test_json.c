/*
 * test_json.c - JSON Lines: a session, a finding and the summary, with
 * every byte value in the wire-derived strings; each line is parsed by
 * python3's json module (when present) and checked field by field against
 * docs/json-schema.md, and by a small structural check in C otherwise.
 * The fields that make a line stand alone (schema 2): uid, --sensor,
 * file, addresses and ports, and the Community ID, which python computes
 * again from the specification's text with its own SHA-1 and base64.
 * The names the writer copies unescaped need no escaping.
 */
#include <unistd.h>

#include "outfix.h"
#include "common/rules.h"
#include "common/safeprint.h"
#include "output/communityid.h"
#include "output/outfmt.h"
#include "output/peers.h"
#include "tap.h"

static const char checker[] =
    "import json, sys\n"
    "objs = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]\n"
    "def ok(c, name): print(('PASS: ' if c else 'FAIL: ') + 'py: ' + name)\n"
    "ok([o['type'] for o in objs] == ['finding', 'session', 'summary'], 'types in order')\n"
    "f, s, m = objs\n"
    "ok(f['session'] == 7 and f['rule'] == 'reply-lost' and f['side'] == 'server' and f['severity'] == 'error', 'finding ids')\n"
    "ok(f['frame'] == 722 and f['time'] == '2024-01-02T03:04:12.250000Z', 'finding frame and time')\n"
    "ok(f['rfc'] == 'RFC 2920 \\u00a73.2 (1)', 'finding rfc')\n"
    "ok(f['message'] == 'msg \"q\" \\\\ \\x1b[31m', 'finding message')\n"
    "ev = f['evidence']\n"
    "raw = bytes(range(256))\n"
    "dec = ev[1]['line']\n"
    "ok(len(ev) == 2 and ev[0] == {'frame': 720, 'dir': 'C', 'line': 'RCPT TO:<a@b>'}, 'evidence line')\n"
    "ok(ev[1]['dir'] == 'S' and len(dec) == 256 and all(ord(dec[i]) == i for i in range(256)), 'all 256 bytes round-trip as U+00HH')\n"
    "ok(s['id'] == 7 and s['client'] == '192.0.2.7:40007' and s['server'] == '198.51.100.25:25', 'session peers')\n"
    "ok(s['start'] == '2024-01-02T03:04:12.000000Z' and s['end'] == '2024-01-02T03:04:13.500000Z', 'session times')\n"
    "ok(s['first_frame'] == 700 and s['last_frame'] == 720 and s['tls'] is False, 'session frames, tls')\n"
    "ok(s['extensions'] == ['PIPELINING', 'SIZE 10240000', '8BITMIME'], 'extensions')\n"
    "ok(s['close'] == {'by': 'client', 'how': 'fin', 'after': 'quit'}, 'close')\n"
    "t = s['transactions'][0]\n"
    "ok(t['mail_from'] == '<sender@example.org> SIZE=1000' and t['rcpt_to'] == ['<rcpt1@example.com>', '<rcpt2@example.com>'] and t['rcpt_total'] == 3, 'transaction paths')\n"
    "ok(t['result'] == 'accepted' and t['reply'] == '250 2.0.0 Ok: queued as 4Tq' and t['content_bytes'] == 2113, 'transaction result')\n"
    "ok(s['findings'] == 1 and s['findings_by_severity'] == {'error': 1, 'warning': 0, 'info': 0}, 'session findings')\n"
    "ok(m['schema'] == '2.1' and m['files'] == 1 and m['packets'] == 60 and m['sessions'] == 1, 'summary counts')\n"
    "ok(m['findings'] == {'reply-lost': 1} and m['dropped'] == 2, 'summary per rule')\n"
    "import re, hashlib, base64, ipaddress\n"
    "def cid(a, ap, b, bp):\n"
    "    x, y = (ipaddress.ip_address(a).packed, ap), (ipaddress.ip_address(b).packed, bp)\n"
    "    (x0, xp), (y0, yp) = sorted([x, y])\n"
    "    h = hashlib.sha1(b'\\0\\0' + x0 + y0 + bytes([6, 0]) + xp.to_bytes(2, 'big') + yp.to_bytes(2, 'big'))\n"
    "    return '1:' + base64.b64encode(h.digest()).decode()\n"
    "ok(re.fullmatch('[0-9a-f]{16}-2-7', s['uid']) is not None and f['uid'] == s['uid'], 'uid: run, file number, id')\n"
    "ok(m['run'] == s['uid'][:16] and m['sensor'] == 'gw1.example.net', 'summary: run and sensor')\n"
    "flow = ('src_ip', 'src_port', 'dest_ip', 'dest_port', 'community_id', 'sensor', 'file', 'interface')\n"
    "ok(all(f[k] == s[k] for k in flow), 'finding names the same flow as its session')\n"
    "ok((s['src_ip'], s['src_port'], s['dest_ip'], s['dest_port']) == ('192.0.2.7', 40007, '198.51.100.25', 25), 'flow fields')\n"
    "ok(s['sensor'] == 'gw1.example.net' and s['file'] == 'b.pcap' and s['interface'] is None, 'sensor and source')\n"
    "ok(s['community_id'] == cid('192.0.2.7', 40007, '198.51.100.25', 25), 'community id as python computes it')\n";

/* The names the writer copies without escaping (json_name): every rule's
 * name and citation, severities, sides, close and result names in range
 * and out, peer roles, are what the escaper would write. */
static bool plain(const char *s)
{
    char out[6 * 256];
    size_t used, n = strlen(s), w;

    if (n > 256)
        return false;
    w = sc_json_escape(out, sizeof out, (const uint8_t *)s, n, &used);
    return used == n && w == n && memcmp(out, s, n) == 0;
}

static void check_names_plain(void)
{
    int bad = 0, n = 0;

    for (unsigned i = 0; i < SC_RULE_COUNT; i++, n += 2)
        bad += !plain(sc_rules[i].name) + !plain(sc_rules[i].cite);
    for (int v = 0; v <= 5; v++, n += 5)
        bad += !plain(sc_severity_name((sc_severity)v)) + !plain(sc_side_name((sc_side)v)) +
               !plain(sc_fmt_close_by((sc_close_by)v)) + !plain(sc_fmt_close_how((sc_close_how)v)) +
               !plain(sc_fmt_txn_result((sc_txn_result)v));
    bad += !plain("unknown") + !plain(sc_peer_role_name(SC_PEER_SERVER)) +
           !plain(sc_peer_role_name(SC_PEER_CLIENT));
    T_CHECK(bad == 0, "the writer's own names need no escaping (%d of %d do)", bad, n + 3);
}

/* The sink makes a session's addresses and Community ID once and keeps
 * them in a slot chosen by id: lines of sessions that share a slot (ids
 * 256 apart, interleaved), and an id that comes again with other
 * endpoints, still each name their own flow; and the capture file, kept
 * escaped while it is the same, changes as the lines' files change. */
static void check_flow_slots(const sc_config *cfg)
{
    static const struct { uint64_t id; const char *client; } seq[] = {
        { 5, "192.0.2.50" }, { 261, "192.0.2.51" }, { 5, "192.0.2.50" },
        { 261, "192.0.2.51" }, { 5, "2001:db8::5" }, { 517, "192.0.2.50" },
        { 5, "192.0.2.52" }, { 5, "192.0.2.50" }, { 9, "2001:db8::9" }, { 9, "2001:db8::9" },
    };
    FILE *out = tmpfile();
    sc_sink *k = sc_json_sink_new(cfg, out, NULL, NULL);
    char want[sizeof seq / sizeof seq[0]][512];
    sc_finding f;
    fx_session s;
    int good = 0;

    memset(&f, 0, sizeof f);
    f.rule = sc_rule_by_name("reply-lost");
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        char a[64], b[64], cid[SC_COMMUNITY_ID_LEN];
        fx_session_init(&s, seq[i].id);
        s.info.client.family = strchr(seq[i].client, ':') ? AF_INET6 : AF_INET;
        inet_pton(s.info.client.family, seq[i].client, s.info.client.addr);
        s.info.capture_file = i % 3 == 2 ? NULL : cfg->files[i % 3];
        bool has_cid = sc_community_id(&s.info.client, &s.info.server, cid) == 0;
        snprintf(want[i], sizeof want[i], "\"file\":%s%s%s,\"interface\":null,\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%s\","
                 "\"dest_port\":25,\"community_id\":%s%s%s", s.info.capture_file ? "\"" : "",
                 s.info.capture_file ? s.info.capture_file : "null", s.info.capture_file ? "\"" : "",
                 sc_addr_str(&s.info.client, a, sizeof a),
                 s.info.client.port, sc_addr_str(&s.info.server, b, sizeof b), has_cid ? "\"" : "",
                 has_cid ? cid : "null", has_cid ? "\"" : "");
        if (i % 2) {            /* a session line: its endpoints follow */
            size_t w = strlen(want[i]);
            snprintf(want[i] + w, sizeof want[i] - w, ",\"client\":\"%s\",\"server\":\"%s\"",
                     sc_endpoint_str(&s.info.client, a, sizeof a),
                     sc_endpoint_str(&s.info.server, b, sizeof b));
        }
        if (i % 2)
            k->session_end(k, &s.info);
        else
            k->finding(k, &s.info, &f);
    }
    k->destroy(k);
    char *txt = fx_slurp(out, NULL), *line = txt;
    for (size_t i = 0; line && i < sizeof seq / sizeof seq[0]; i++) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        good += strstr(line, want[i]) != NULL;
        line = nl ? nl + 1 : NULL;
    }
    T_CHECK(good == (int)(sizeof seq / sizeof seq[0]),
            "flows kept per session: sessions sharing a slot name their own (%d of %zu)", good,
            sizeof seq / sizeof seq[0]);
    free(txt);
    fclose(out);
}

int main(void)
{
    sc_config cfg;
    fx_session s;
    uint8_t all[256];
    char path[] = "/tmp/test_json_XXXXXX";
    int fd = mkstemp(path);
    FILE *out = fdopen(fd, "w+");

    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    sc_config_defaults(&cfg);
    static const char *files[] = { "a.pcap", "b.pcap", NULL };
    cfg.files = files;
    cfg.nfiles = 2;
    cfg.sensor = "gw1.example.net";
    sc_sink *k = sc_json_sink_new(&cfg, out, NULL, NULL);
    fx_session_init(&s, 7);
    s.info.capture_file = files[1];
    if (k->session_begin)
        k->session_begin(k, &s.info);
    fx_send_line(k, &s, 720, 250000, SC_DIR_C2S, SC_LINE_COMMAND, "RCPT TO:<a@b>");

    sc_finding f;
    memset(&f, 0, sizeof f);
    f.rule = sc_rule_by_name("reply-lost");
    f.side = SC_SIDE_SERVER;
    f.severity = SC_SEV_ERROR;
    f.frame = 722;
    f.ts = fx_tv(1704164652, 250000);
    snprintf(f.message, sizeof f.message, "msg \"q\" \\ \x1b[31m");
    f.nevidence = 2;
    f.evidence[0] = (sc_evidence){ 720, SC_DIR_C2S, (const uint8_t *)"RCPT TO:<a@b>", 13 };
    f.evidence[1] = (sc_evidence){ 721, SC_DIR_S2C, all, sizeof all };
    s.info.findings[SC_SEV_ERROR]++;
    k->finding(k, &s.info, &f);
    char *txt = fx_slurp(out, NULL);
    T_CHECK(strncmp(txt, "{\"type\":\"finding\",\"session\":7,\"uid\":", 36) == 0 &&
            strstr(txt, "\"rule\":\"reply-lost\""), "finding streamed when it fires");
    free(txt);
    k->session_end(k, &s.info);
    sc_totals tot = { .files = 1, .packets = 60, .bytes = 6000, .sessions = 1, .dropped = 2 };
    tot.by_rule[sc_rule_by_name("reply-lost")->id] = 1;
    tot.by_severity[SC_SEV_ERROR] = 1;
    k->finish(k, &tot);
    k->destroy(k);

    size_t len;
    txt = fx_slurp(out, &len);
    int lines = 0, ctl = 0;
    for (size_t i = 0; i < len; i++) {
        if (txt[i] == '\n') lines++;
        else if ((unsigned char)txt[i] < 0x20) ctl++;
    }
    T_CHECK(lines == 3 && ctl == 0, "three lines, no raw control byte (%d lines)", lines);
    T_CHECK(strstr(txt, "\"line\":\"\\u0000\\u0001") && strstr(txt, "\\u007f\\u0080") &&
            strstr(txt, "\\u00fe\\u00ff\"}"), "invalid bytes as \\u00HH");
    T_CHECK(strstr(txt, "\"close\":{\"by\":\"client\",\"how\":\"fin\",\"after\":\"quit\"}") != NULL,
            "close object");
    T_CHECK(strstr(txt, "{\"type\":\"summary\",\"schema\":\"2.1\"") != NULL, "summary with schema");
    free(txt);
    fclose(out);

    /* Field by field with a real JSON parser. */
    if (system("python3 -c 'import json' >/dev/null 2>&1") != 0) {
        T_SKIP("python3 not available for the JSON parse");
    } else {
        char script[] = "/tmp/test_json_py_XXXXXX";
        int sfd = mkstemp(script);
        FILE *sp = fdopen(sfd, "w");
        fputs(checker, sp);
        fclose(sp);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "python3 %s %s 2>&1", script, path);
        FILE *py = popen(cmd, "r");
        char line[512];
        int npass = 0;
        while (fgets(line, sizeof line, py)) {
            fputs(line, stdout);
            if (strncmp(line, "PASS: ", 6) == 0)
                npass++;
            else if (strncmp(line, "FAIL: ", 6) == 0)
                tap_failed = 1;
        }
        int rc = pclose(py);
        T_CHECK(rc == 0 && npass == 23, "python parsed every line (%d checks passed)", npass);
        unlink(script);
    }

    /* Findings past --max-findings: one finding record with "suppressed". */
    out = tmpfile();
    k = sc_json_sink_new(&cfg, out, NULL, NULL);
    fx_session_init(&s, 4);
    fx_send_more(k, &s, "pipelining-not-last", SC_SEV_WARNING, 7, 4156, 999989);
    k->destroy(k);
    txt = fx_slurp(out, NULL);
    T_CHECK(strstr(txt, "{\"type\":\"finding\",\"session\":4,") &&
            strstr(txt, ",\"rule\":\"pipelining-not-last\"") &&
            strstr(txt, "\"frame\":4156,") && strstr(txt, ",\"evidence\":[],\"suppressed\":"
            "{\"count\":999989,\"first_frame\":7,\"last_frame\":4156}}\n"),
            "suppressed count: a finding record with \"suppressed\"");
    free(txt);
    fclose(out);

    /* --only-findings and --session drop sessions, not the summary. */
    cfg.only_findings = true;
    out = tmpfile();
    k = sc_json_sink_new(&cfg, out, NULL, NULL);
    fx_session_init(&s, 3);
    k->session_end(k, &s.info);
    k->finish(k, &tot);
    k->destroy(k);
    txt = fx_slurp(out, NULL);
    T_CHECK(!strstr(txt, "\"type\":\"session\"") && strstr(txt, "\"type\":\"summary\""),
            "--only-findings drops a clean session");
    free(txt);
    fclose(out);
    unlink(path);
    cfg.only_findings = false;
    check_flow_slots(&cfg);
    check_names_plain();
    T_DONE();
}
