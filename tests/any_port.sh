#!/usr/bin/env bash
# tests/any_port.sh - --any-port takes a connection on another port for
# SMTP only when both sides speak it (src/session/anyport.c):
#  - samples/any-port-ftp.pcap (FTP on port 21: a 220 greeting, USER,
#    PASS): no session, no finding, the totals count one flow that was not
#    SMTP (text and the JSON summary's not_smtp, -j 2 too), and its planted
#    password appears in no output: text (-v --show-content), JSON,
#    --evidence (.txt, .html), --ladder;
#  - five other protocols carrying a planted secret (tests/any_port.py:
#    FTP with AUTH TLS, FTP on 2121, POP3, an IMAP login after a 220
#    banner, a banner grab): none is a session, none prints the secret,
#    five counted;
#  - the same five on port 25 stay sessions, but their login lines (FTP and
#    POP3 PASS, IMAP LOGIN) are masked in text, JSON and evidence;
#  - SMTP on port 2526 is still analysed: the report equals that of the
#    same sessions on port 25 (pipelining-unadvertised, and pregreeting
#    from a client that talks before the greeting), with -j 2 too;
#  - a mid-stream capture on port 25 (samples/midstream-greeting.pcap) is
#    still a session with --any-port: the SMTP ports keep their rules.
cd "$(dirname "$0")/.." && . tests/lib.sh any_port python3

ftp=samples/any-port-ftp.pcap
pw=s3cr3t-ftp-PASSWORD
check "the FTP sample carries the password (the test would see it)" grep -qa -- "$pw" "$ftp"

"$bin" --color never -v --show-content --any-port -r "$ftp" >"$tmp/ftp.txt" 2>&1; rc=$?
check "FTP, text: exit 0, no session" test "$rc" = 0 -a -z "$(grep '^session ' "$tmp/ftp.txt")"
check "FTP, text: counted as a flow that was not SMTP" \
    grep -q '^not SMTP: 1 flow on other ports' "$tmp/ftp.txt"
check "FTP, text: no finding" grep -q '^findings: none' "$tmp/ftp.txt"
"$bin" --json --any-port -r "$ftp" >"$tmp/ftp.json" 2>&1
check "FTP, JSON: only the summary, not_smtp 1, no finding" python3 - "$tmp/ftp.json" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
types = [o["type"] for o in objs]
s = objs[-1]
sys.exit(0 if types == ["summary"] and s["not_smtp"] == 1 and s["sessions"] == 0
         and s["findings"] == {} else 1)
PY
"$bin" -j 2 --color never --any-port -r "$ftp" >"$tmp/ftp-j.txt" 2>&1
"$bin" -j 2 --json --any-port -r "$ftp" >"$tmp/ftp-j.json" 2>&1
check "FTP, -j 2: the same count, text and JSON" \
    grep -q '^not SMTP: 1 flow on other ports' "$tmp/ftp-j.txt"
check "FTP, -j 2 JSON: not_smtp 1" grep -q '"not_smtp":1' "$tmp/ftp-j.json"
"$bin" -q --any-port --ladder -r "$ftp" >"$tmp/ftp.ladder" 2>&1
"$bin" -q --any-port --evidence "$tmp/ev" -r "$ftp" >/dev/null 2>&1
check "FTP, --evidence: no session bundle" test -z "$(ls "$tmp/ev" 2>/dev/null | grep '^session-')"
check "FTP: the password is in no output (text, JSON, -j, ladder, evidence)" \
    nowhere "$pw" "$tmp/ftp.txt" "$tmp/ftp.json" "$tmp/ftp-j.txt" "$tmp/ftp-j.json" \
    "$tmp/ftp.ladder" "$tmp/ev"
"$bin" --color never -r "$ftp" >"$tmp/ftp-25.txt" 2>&1
check "FTP without --any-port: port 21 not followed, no count" \
    test -z "$(grep '^session \|^not SMTP' "$tmp/ftp-25.txt")"

python3 tests/any_port.py "$tmp" || bad "tests/any_port.py failed"
secret=Pl4nted-s3cret-9931
"$bin" --color never -v --show-content --any-port -r "$tmp/other.pcap" >"$tmp/o.txt" 2>&1
"$bin" --json --any-port -r "$tmp/other.pcap" >"$tmp/o.json" 2>&1
"$bin" -q --any-port --evidence "$tmp/ev2" -r "$tmp/other.pcap" >/dev/null 2>&1
check "FTP (AUTH TLS), FTP, POP3, IMAP, banner: no session, 5 flows not SMTP" \
    grep -q '^not SMTP: 5 flows on other ports' "$tmp/o.txt"
check "the five: no session, no finding in JSON" python3 - "$tmp/o.json" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if [o["type"] for o in objs] == ["summary"] and objs[-1]["not_smtp"] == 5 else 1)
PY
check "the five: the secret is in no output" nowhere "$secret" "$tmp/o.txt" "$tmp/o.json" "$tmp/ev2"
# on port 25 they stay sessions (the SMTP ports keep their rules), but a
# login line of another protocol is a credential: masked in every output
"$bin" --color never -v --show-content --any-port -r "$tmp/other-25.pcap" >"$tmp/o25.txt" 2>&1
"$bin" --json --any-port -r "$tmp/other-25.pcap" >"$tmp/o25.json" 2>&1
"$bin" -q --evidence "$tmp/ev3" -r "$tmp/other-25.pcap" >/dev/null 2>&1
check "the five on port 25: sessions, FTP/POP3 PASS and IMAP LOGIN lines masked" \
    test "$(grep -c '^session ' "$tmp/o25.txt")" = 5 -a "$(grep -c 'C> \[redacted, ' "$tmp/o25.txt")" = 4
check "the five on port 25: the secret only in the banner's server line" \
    test "$(grep -c "$secret" "$tmp/o25.txt")" = 1 -a -n "$(grep "S> 220 banner $secret" "$tmp/o25.txt")"
grep -v '"src_port":41304' "$tmp/o25.json" >"$tmp/o25-logins.json"   # all but the banner
check "the five on port 25: no login secret in JSON or evidence .txt/.html" \
    nowhere "$secret" "$tmp/o25-logins.json" $(ls "$tmp"/ev3/session-[1-4].txt "$tmp"/ev3/session-[1-4].html)

"$bin" --color never -r "$tmp/smtp-25.pcap" | sed 's/:25$/:2526/' >"$tmp/s25.txt"
"$bin" --color never --any-port -r "$tmp/smtp-2526.pcap" >"$tmp/s2526.txt"
"$bin" --color never -j 2 --any-port -r "$tmp/smtp-2526.pcap" >"$tmp/s2526-j.txt"
check "SMTP on port 2526: 3 sessions, the same report as on port 25" \
    test "$(grep -c '^session ' "$tmp/s2526.txt")" = 3 -a -z "$(diff "$tmp/s25.txt" "$tmp/s2526.txt")"
check "SMTP on port 2526: pipelining-unadvertised and pregreeting found" \
    test "$(grep -c 'warning pregreeting (client): the client sent "EHLO early\|warning pipelining-unadvertised (client)' "$tmp/s2526.txt")" = 2
check "SMTP on port 2526, -j 2: the same report" diff -q "$tmp/s2526.txt" "$tmp/s2526-j.txt"
check "SMTP on port 2526: no flow counted as not SMTP" test -z "$(grep '^not SMTP' "$tmp/s2526.txt")"
"$bin" --json --any-port -r "$tmp/smtp-2526.pcap" >"$tmp/s2526.json"
check "SMTP on port 2526, JSON: not_smtp 0 with --any-port" grep -q '"not_smtp":0' "$tmp/s2526.json"
"$bin" --json -r "$tmp/smtp-25.pcap" >"$tmp/s25.json"
check "JSON without --any-port: no not_smtp field" nowhere '"not_smtp"' "$tmp/s25.json"

"$bin" --color never --any-port -r samples/midstream-greeting.pcap >"$tmp/mid.txt" 2>&1
"$bin" --color never -r samples/midstream-greeting.pcap >"$tmp/mid-plain.txt" 2>&1
check "mid-stream on port 25: still a session with --any-port, the same report" \
    test "$(grep -c '^session ' "$tmp/mid.txt")" = 1 -a -z "$(diff "$tmp/mid.txt" "$tmp/mid-plain.txt")"
