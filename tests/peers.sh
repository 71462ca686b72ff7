#!/usr/bin/env bash
# tests/peers.sh - per-peer summaries (docs/interface.md, "Fleets"): a
# generated capture of several clients and servers (tests/fleet_pcap.py).
#
# Checks:
#  - the "peer" objects of --json equal what python counts from the same
#    run's session and finding objects: per server and client address, the
#    name it gave (greeting host, EHLO domain), sessions, sessions with each
#    rule, their share, findings per rule; servers and clients all there;
#  - the names: each client's EHLO domain, each server's greeting host;
#  - the text report ends with the same numbers in its table;
#  - -j 2 writes the same peer objects as one process (the names cross
#    the workers' pipe);
#  - more client addresses than the cap: 4096 kept, the sessions of the
#    rest counted in the summary's peers.beyond and in the text;
#  - live (-i lo, root and tcpreplay): --summary-interval 1 writes
#    "final":false peer objects while the capture runs; SIGUSR1 too.
set -u
cd "$(dirname "$0")/.."
BIN=${SMTPSCOPE:-$PWD/build/san/smtpscope}
REL=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
pass() { echo "PASS: peers: $*"; }
fail() { echo "FAIL: peers: $*"; }
skip() { echo "SKIP: peers: $*"; }
command -v python3 >/dev/null || { skip "python3 not installed"; exit 0; }
[ -x "$BIN" ] || { skip "no program at $BIN"; exit 0; }
[ -x "$REL" ] || REL=$BIN
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

python3 tests/fleet_pcap.py 120 "$tmp/f.pcap" || { fail "fleet_pcap.py"; exit 0; }
"$BIN" -q -r "$tmp/f.pcap" --json >"$tmp/f.json"
"$BIN" -q -r "$tmp/f.pcap" >"$tmp/f.txt"
"$BIN" -q -j 2 -r "$tmp/f.pcap" --json >"$tmp/j2.json"

python3 - "$tmp/f.json" "$tmp/f.txt" <<'PY'
import json, re, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
def ok(c, what):
    print(("PASS: peers: " if c else "FAIL: peers: ") + what)
sessions = {o["uid"]: o for o in lines if o["type"] == "session"}
want = {}
def peer(role, ip):
    return want.setdefault((role, ip), {"sessions": 0, "rules": {}, "findings": {}})
for s in sessions.values():
    for role, ip in (("server", s["dest_ip"]), ("client", s["src_ip"])):
        peer(role, ip)["sessions"] += 1
seen = {}
for f in (o for o in lines if o["type"] == "finding"):
    n = f["suppressed"]["count"] if "suppressed" in f else 1
    s = sessions[f["uid"]]
    for role, ip in (("server", s["dest_ip"]), ("client", s["src_ip"])):
        p = peer(role, ip)
        p["findings"][f["rule"]] = p["findings"].get(f["rule"], 0) + n
        seen.setdefault((role, ip, f["rule"]), set()).add(f["uid"])
for (role, ip, rule), uids in seen.items():
    want[(role, ip)]["rules"][rule] = len(uids)
got = {}
for o in lines:
    if o["type"] == "peer":
        got[(o["role"], o["ip"])] = o
ok(set(got) == set(want) and len([k for k in got if k[0] == "server"]) == 3
   and len([k for k in got if k[0] == "client"]) == 4, "a peer object per server and client address (%d)" % len(got))
bad = []
for k, w in want.items():
    g = got.get(k)
    if not g or g["sessions"] != w["sessions"] or not g["final"]:
        bad.append(k); continue
    rules = {r["rule"]: r for r in g["rules"]}
    if set(rules) != set(w["findings"]):
        bad.append(k); continue
    for rule, r in rules.items():
        if (r["sessions"] != w["rules"][rule] or r["findings"] != w["findings"][rule]
                or abs(r["share"] - w["rules"][rule] / w["sessions"]) > 0.0001):
            bad.append((k, rule))
ok(not bad, "sessions, sessions per rule, share and findings as counted from the sessions %s" % bad[:3])
names = {k: o["name"] for k, o in got.items()}
ok(names[("client", "192.0.2.22")] == "pipe.example.org" and names[("server", "198.51.100.12")] == "mx2.example.net"
   and all(o["other_names"] == 0 for o in got.values()), "names: the EHLO domain, the greeting host")
summary = lines[-1]
ok(summary["type"] == "summary" and summary["peers"] == {"server": 3, "client": 4, "beyond": {"server": 0, "client": 0}},
   "summary names the peers written")
pos = [i for i, o in enumerate(lines) if o["type"] == "peer"]
ok(pos and pos[-1] == len(lines) - 2 and all(lines[i]["role"] == "server" for i in pos[:3]),
   "peer objects just before the summary, servers first")
# the text table: each peer line and its rule lines
text = open(sys.argv[2]).read()
tbad = []
for (role, ip), g in got.items():
    m = re.search(r"^  %s (\S+): (\d+) sessions?\n((?:    .*\n)*)" % re.escape(ip), text, re.M)
    if not m or m.group(1) != g["name"] or int(m.group(2)) != g["sessions"]:
        tbad.append(ip); continue
    for r in g["rules"]:
        if not re.search(r"^    %s +%d sessions? +%.1f%%  %d findings?$" % (re.escape(r["rule"]), r["sessions"],
                         100 * r["share"], r["findings"]), m.group(3), re.M):
            tbad.append((ip, r["rule"]))
ok(not tbad and "servers: 3 (" in text and "clients: 4 (" in text, "text report: the per-peer table %s" % tbad[:3])
PY

strip() { grep '"type":"peer"' "$1" | sed 's/"run":"[0-9a-f]*",//'; }
if [ -s "$tmp/j2.json" ] && cmp -s <(strip "$tmp/f.json") <(strip "$tmp/j2.json"); then
    pass "-j 2: the same peer objects as one process"
else
    fail "-j 2: peer objects differ"; diff <(strip "$tmp/f.json") <(strip "$tmp/j2.json") | head -n 4
fi

# the cap: 4200 client addresses
python3 tests/fleet_pcap.py 4200 "$tmp/many.pcap" --many-clients
"$REL" -q -r "$tmp/many.pcap" --json >"$tmp/many.json"
"$REL" -q -r "$tmp/many.pcap" >"$tmp/many.txt"
nc=$(grep -c '"type":"peer","role":"client"' "$tmp/many.json")
if [ "$nc" = 4096 ] && tail -n 1 "$tmp/many.json" | grep -q '"peers":{"server":3,"client":4096,"beyond":{"server":0,"client":104}}' &&
   grep -q '^  104 sessions of clients beyond the first 4096 not counted by client$' "$tmp/many.txt"; then
    pass "cap: 4096 clients kept, the 104 sessions beyond counted (JSON and text)"
else
    fail "cap: $nc client objects; $(tail -n 1 "$tmp/many.json" | grep -o '"peers":{[^}]*}[^}]*}')"
fi

# live: --summary-interval and SIGUSR1
if [ "$(id -u)" != 0 ] || ! command -v tcpreplay >/dev/null || ! command -v tcprewrite >/dev/null; then
    skip "live: needs root, tcpreplay and tcprewrite"
    exit 0
fi
tcprewrite --pnat=0.0.0.0/0:127.87.0.0/16 --enet-dmac=02:00:00:00:00:01 \
    --enet-smac=00:00:00:00:00:00 --fixcsum -i "$tmp/f.pcap" -o "$tmp/lo.pcap" 2>/dev/null
"$BIN" -q -i lo --json --summary-interval 1 net 127.87.0.0/16 >"$tmp/live.json" 2>"$tmp/live.err" &
LPID=$!
pids+=("$LPID")
sleep 1.5
tcpreplay -i lo --multiplier=20 "$tmp/lo.pcap" >/dev/null 2>&1
sleep 2.5
n1=$(grep -c '"type":"peer".*"final":false' "$tmp/live.json")
kill -USR1 "$LPID"; sleep 0.5
n2=$(grep -c '"type":"peer".*"final":false' "$tmp/live.json")
kill -TERM "$LPID"; wait "$LPID" 2>/dev/null
nf=$(grep -c '"type":"peer".*"final":true' "$tmp/live.json")
if [ "$n1" -ge 7 ] && [ "$n2" -gt "$n1" ] && [ "$nf" = 7 ]; then
    pass "live: --summary-interval and SIGUSR1 write the peers so far ($n1, then $n2), 7 final"
else
    fail "live: $n1 interval peer objects, $n2 after SIGUSR1, $nf final"
fi
