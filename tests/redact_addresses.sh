#!/usr/bin/env bash
# tests/redact_addresses.sh - --redact=addresses on a capture whose names
# all hold the marker "mrkr" and whose addresses are 203.0.113.77 (two
# sessions), 192.0.2.44 and 198.51.100.9 (tests/redact/addrgen.py):
#   - no marker and no real address (TLS bytes too) (text, or the 4 raw bytes in a packet
#     file) in the text report, ladder, JSON, --html, the evidence .txt,
#     .html, index.html, .pcapng (raw bytes, tshark's dissection with the
#     packet comments, capinfos' section header) and .pcap;
#   - the same real address, the same mailbox, the same host name get the
#     same pseudonym in every output and in both sessions; two addresses
#     get two; an address literal in EHLO is the address's pseudonym;
#   - the packet files: valid IPv4 and TCP checksums (tshark checks them),
#     each session's TCP payload as long as in the capture, the same
#     pseudonymised bytes as the report shows;
#   - the findings (rule, frame) those of the run without it;
#   - the JSON's Community ID is that of the pseudonymised flow;
#   - --redact-key gives the same pseudonyms in two runs, a random key
#     others; a short key file is refused; --redact-key alone is refused,
#     and so is --write-streams.
cd "$(dirname "$0")/.." && . tests/lib.sh redact_addresses python3
cap=$tmp/a.pcap
python3 tests/redact/addrgen.py "$cap" || { bad "generator"; exit 0; }
head -c 32 /dev/urandom >"$tmp/key"
key=(--redact=addresses --redact-key "$tmp/key")

# What must never appear: the names' marker and the addresses' texts.
real_re='mrkr|203\.0\.113\.77|192\.0\.2\.44|198\.51\.100\.9'
clean() { ! grep -aqiE "$real_re" "$@"; }
check "the capture holds the markers (the test can see them)" grep -aqE "$real_re" "$cap"

"$bin" -q -v "${key[@]}" -r "$cap" >"$tmp/r.txt" 2>"$tmp/r.err"
check "text report: exit 1 (the findings' status)" test $? -eq 1
"$bin" -q -v --ladder "${key[@]}" -r "$cap" >"$tmp/r.ladder" 2>>"$tmp/r.err"
"$bin" -q --json "${key[@]}" -r "$cap" >"$tmp/r.json" 2>>"$tmp/r.err"
"$bin" -q --json "${key[@]}" -j 2 -r "$cap" >"$tmp/r2.json" 2>>"$tmp/r.err"
"$bin" -q "${key[@]}" --html "$tmp/r.html" -r "$cap" >/dev/null 2>>"$tmp/r.err"
"$bin" -q "${key[@]}" --evidence "$tmp/ev" -r "$cap" >/dev/null 2>>"$tmp/r.err"
"$bin" -q "${key[@]}" --evidence "$tmp/evp" --evidence-format pcap -r "$cap" >/dev/null 2>>"$tmp/r.err"
"$bin" -q --json -r "$cap" >"$tmp/plain.json" 2>>"$tmp/r.err"
"$bin" -q -v -r "$cap" >"$tmp/plain.txt" 2>>"$tmp/r.err"

check "without the option the report shows the markers" grep -qE "$real_re" "$tmp/plain.txt"
check "no marker or address in the text report" clean "$tmp/r.txt" "$tmp/r.err"
check "no marker or address in the ladder" clean "$tmp/r.ladder"
check "no marker or address in the JSON" clean "$tmp/r.json"
check "no marker or address in --html" clean "$tmp/r.html"
check "no marker or address in the evidence .txt, .html, index.html" \
    clean "$tmp/ev"/*.txt "$tmp/ev"/*.html "$tmp/evp"/*.txt
check "no marker or address in the evidence .pcapng and .pcap bytes" \
    clean "$tmp/ev"/*.pcapng "$tmp/evp"/*.pcap
# The JSON but the run's own id (uid, run), which differs from run to run.
norun() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l); o.pop("uid", None); o.pop("run", None); print(json.dumps(o))' "$1"; }
same_json() { cmp -s <(norun "$1") <(norun "$2"); }
check "-j 2 writes what one process writes" same_json "$tmp/r.json" "$tmp/r2.json"
check "the sensor is not the host name" \
    python3 -c 'import json,socket,sys; sys.exit(any(json.loads(l).get("sensor") == socket.gethostname() for l in open(sys.argv[1])))' "$tmp/r.json"

# The raw address bytes in the packet files, and the whole files as
# tshark dissects them (the packet comments included).
python3 - "$tmp"/ev/*.pcapng "$tmp"/evp/*.pcap <<'EOF' && ok "no real address bytes in the packet files" || bad "real address bytes in a packet file"
import socket, sys
bad = [socket.inet_aton(a) for a in ('203.0.113.77', '192.0.2.44', '198.51.100.9')]
sys.exit(any(b in open(f, 'rb').read() for f in sys.argv[1:] for b in bad))
EOF

if command -v tshark >/dev/null; then
    for f in "$tmp"/ev/session-*.pcapng "$tmp"/evp/session-*.pcap; do
        n=$(basename "$f")
        tshark -r "$f" -V >"$tmp/$n.dis" 2>/dev/null
        check "$n: no marker or address in tshark's dissection (comments too)" clean "$tmp/$n.dis"
        st=$(tshark -r "$f" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
                 -T fields -e ip.checksum.status -e tcp.checksum.status 2>/dev/null | sort -u | tr '\n' ' ')
        check "$n: every IPv4 and TCP checksum valid ($st)" test "$st" = "1	1 "
    done
    capinfos "$tmp"/ev/session-1.pcapng >"$tmp/capinfos" 2>&1
    check "section header: says the addresses are pseudonymised" grep -q 'pseudonym' "$tmp/capinfos"
    check "section header: no marker or address" clean "$tmp/capinfos"
    check "the finding's packet comment quotes the pseudonymised line" \
        sh -c "tshark -r '$tmp/ev/session-1.pcapng' -Y frame.comment -T fields -e frame.comment 2>/dev/null | grep -q 'reply-lost'"
    # each session's payload bytes, each direction: as many as in the capture
    for i in 1 2 3 4; do
        port=$((40000 + i))
        want=$(tshark -r "$cap" -Y "tcp.port==$port" -T fields -e tcp.srcport -e tcp.len 2>/dev/null |
               awk '{b[$1]+=$2} END {print b[25] "/" b['$port']}')
        got=$(tshark -r "$tmp/ev/session-$i.pcapng" -T fields -e tcp.srcport -e tcp.len 2>/dev/null |
              awk '{b[$1]+=$2} END {print b[25] "/" b['$port']}')
        check "session $i: TCP payload bytes unchanged ($want, got $got)" test "$want" = "$got"
    done
    # the bytes of the packet file are the report's pseudonyms
    tshark -r "$tmp/ev/session-1.pcapng" -q -z follow,tcp,ascii,0 >"$tmp/follow1" 2>/dev/null
    mail=$(grep -o 'MAIL FROM:<[^>]*>' "$tmp/r.txt" | head -1)
    ehlo=$(grep -o 'C> EHLO [^ ]*' "$tmp/r.txt" | head -1 | cut -c4-)
    check "the packet file carries the report's MAIL FROM ($mail)" grep -qF "$mail" "$tmp/follow1"
    check "the packet file carries the report's EHLO ($ehlo)" grep -qF "$ehlo" "$tmp/follow1"
    src=$(python3 -c 'import json,sys; print([o for o in map(json.loads, open(sys.argv[1])) if o["type"] == "session"][0]["src_ip"])' "$tmp/r.json")
    got=$(tshark -r "$tmp/ev/session-1.pcapng" -T fields -e ip.src -c 1 2>/dev/null)
    check "the packet file's client address is the JSON's ($src, $got)" test "$src" = "$got"
    # IPv6 (tests/ipv6_ext/gen.py without extension headers)
    python3 tests/ipv6_ext/gen.py "$tmp/v6.pcap" 0 >/dev/null
    "$bin" -q "${key[@]}" --json --evidence "$tmp/ev6" -r "$tmp/v6.pcap" >"$tmp/v6.json" 2>/dev/null
    v6=$(tshark -r "$tmp/ev6/session-1.pcapng" -o tcp.check_checksum:TRUE -T fields \
             -e ipv6.src -e ipv6.dst -e tcp.checksum.status -c 1 2>/dev/null)
    st6=$(tshark -r "$tmp/ev6/session-1.pcapng" -o tcp.check_checksum:TRUE -T fields \
             -e tcp.checksum.status 2>/dev/null | sort -u | tr '\n' ' ')
    check "IPv6: every TCP checksum valid ($st6)" test "$st6" = "1 "
    jsrc=$(python3 -c 'import json,sys; print([o for o in map(json.loads, open(sys.argv[1])) if o["type"] == "session"][0]["src_ip"])' "$tmp/v6.json")
    check "IPv6: the packet file's addresses are the pseudonyms in 2001:db8::/96 ($v6)" \
        sh -c "echo '$v6' | grep -qE '^2001:db8::[0-9a-f:]+	2001:db8::[0-9a-f:]+	1\$' && ! echo '$v6' | grep -qE '2001:db8::(1|25)	'"
    check "IPv6: the JSON's client address is the packet file's ($jsrc)" \
        test "$jsrc" = "$(echo "$v6" | cut -f1)"
    check "IPv6: no real name in the packet file" \
        sh -c "! grep -aq 'example\.\(org\|com\)' '$tmp/ev6/session-1.pcapng'"
else
    echo "SKIP: redact_addresses: the packet files through tshark (tshark missing)"
fi

# Consistency, the findings, the Community ID (from the JSON).
python3 - "$tmp/r.json" "$tmp/plain.json" "$tmp/r.txt" <<'EOF'
import base64, hashlib, json, socket, struct, sys
red = [json.loads(l) for l in open(sys.argv[1])]
plain = [json.loads(l) for l in open(sys.argv[2])]
text = open(sys.argv[3]).read()
def say(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what)
rs = [o for o in red if o["type"] == "session"]
ps = [o for o in plain if o["type"] == "session"]
say(len(rs) == 4, "four sessions")
say("Hello othermrkr" not in text and text.count("Hello ") >= 2, "a dotless HELO name echoed in a reply is replaced")
say(rs[3]["tls"], "the fourth session went TLS")
say(rs[0]["src_ip"] == rs[1]["src_ip"], "one client address, one pseudonym in both sessions (%s)" % rs[0]["src_ip"])
say(rs[0]["src_ip"] != rs[2]["src_ip"], "two client addresses, two pseudonyms")
say(len({o["dest_ip"] for o in rs}) == 1, "one server, one pseudonym")
say(all(len(r["src_ip"]) == len(p["src_ip"]) and len(r["dest_ip"]) == len(p["dest_ip"])
        for r, p in zip(rs, ps)), "pseudonyms as long as the addresses")
say(all(r["src_ip"].split(".")[0] in [str(n) for n in range(240, 255)] + ["0"] for r in rs),
    "pseudonyms in 240.0.0.0/4 or 0.0.0.0/8")
say(rs[0]["transactions"][0]["mail_from"] == rs[1]["transactions"][0]["mail_from"] and
    len(rs[0]["transactions"][0]["mail_from"]) == len(ps[0]["transactions"][0]["mail_from"]),
    "one mailbox, one pseudonym in both sessions, its length kept")
say(rs[0]["transactions"][0]["mail_from"] != rs[2]["transactions"][0]["mail_from"],
    "two mailboxes, two pseudonyms")
say("EHLO [%s]" % rs[1]["src_ip"] in text, "the address literal in EHLO is the address's pseudonym")
say("[%s]" % rs[0]["src_ip"] in text.split("Hello", 1)[-1].split("\n", 1)[0],
    "the address in the EHLO reply is the address's pseudonym")
rcpt = rs[0]["transactions"][0]["rcpt_to"][0]
say(("250 2.1.5 %s recipient ok" % rcpt) in text, "a reply echoing a recipient shows its pseudonym")
f = lambda objs: sorted((o["rule"], o["frame"]) for o in objs if o["type"] == "finding")
say(f(red) == f(plain) and f(red), "the findings (rule, frame) are those of the run without it")
lost = [o for o in red if o["type"] == "finding" and o["rule"] == "reply-lost"]
say(bool(lost) and lost[0]["message"].startswith("RCPT TO:" + rs[0]["transactions"][0]["rcpt_to"][1]),
    "the finding's message quotes the pseudonymised line")
def cid(a, ap, b, bp):
    a, b = socket.inet_aton(a), socket.inet_aton(b)
    if (a, ap) > (b, bp):
        a, ap, b, bp = b, bp, a, ap
    h = hashlib.sha1(struct.pack("!H", 0) + a + b + struct.pack("!BBHH", 6, 0, ap, bp)).digest()
    return "1:" + base64.b64encode(h).decode()
say(all(o["community_id"] == cid(o["src_ip"], o["src_port"], o["dest_ip"], o["dest_port"]) for o in rs),
    "community_id is the pseudonymised flow's")
say(all(r["community_id"] != p["community_id"] for r, p in zip(rs, ps)),
    "community_id is not the real flow's")
EOF

# The key: the same key, the same pseudonyms; a random key, others.
"$bin" -q --json "${key[@]}" -r "$cap" >"$tmp/k2.json" 2>/dev/null
check "--redact-key: two runs, the same pseudonyms" same_json "$tmp/r.json" "$tmp/k2.json"
"$bin" -q --json --redact=addresses -r "$cap" >"$tmp/k3.json" 2>/dev/null
"$bin" -q --json --redact=addresses -r "$cap" >"$tmp/k4.json" 2>/dev/null
ips() { python3 -c 'import json,sys; print([o["src_ip"] for o in map(json.loads, open(sys.argv[1])) if o["type"] == "session"])' "$1"; }
check "random keys: two runs, other pseudonyms" test "$(ips "$tmp/k3.json")" != "$(ips "$tmp/k4.json")"
check "random key: no marker or address" clean "$tmp/k3.json"
head -c 8 /dev/urandom >"$tmp/short"
"$bin" -q --redact=addresses --redact-key "$tmp/short" -r "$cap" >/dev/null 2>"$tmp/short.err"
rc=$?
check "a key file of 8 bytes: refused, exit 2 (got $rc)" test "$rc" -eq 2
check "a key file of 8 bytes: said" grep -q 'redact-key' "$tmp/short.err"
"$bin" -q --redact-key "$tmp/key" -r "$cap" >/dev/null 2>"$tmp/alone.err"
check "--redact-key without --redact=addresses: exit 2" test $? -eq 2
"$bin" -q --redact=names -r "$cap" >/dev/null 2>&1
check "--redact=names: exit 2" test $? -eq 2
mkdir "$tmp/ws"
"$bin" -q --redact=addresses --write-streams "$tmp/ws" -r "$cap" >/dev/null 2>&1
check "--write-streams (the bytes as they are) with --redact=addresses: exit 2" test $? -eq 2
check "... and no stream written" test -z "$(ls "$tmp/ws")"
