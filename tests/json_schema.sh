#!/usr/bin/env bash
# tests/json_schema.sh - every JSON line stands alone (docs/json-schema.md,
# schema 2) and matches docs/smtpscope.schema.json.
#
# Runs smtpscope --json on every capture in samples/ (and with
# --max-findings 1, for the "suppressed" findings), then checks:
#   - every line validates against docs/smtpscope.schema.json (python3's
#     jsonschema, Debian's python3-jsonschema: SKIP when it is missing);
#   - each finding names the same flow, sensor, file and uid as its session;
#   - the Community ID equals the one python computes from the
#     specification's text (its own SHA-1 and base64), and the one of the
#     reference package `communityid` when it is installed (else SKIP);
#     IPv4 and IPv6 samples, the client's and the server's view alike;
#   - uids are unique within a run that reads several files whose session
#     ids restart, and differ between two runs of the same file;
#   - --sensor names the sensor, the host name by default; an empty or
#     overlong --sensor is a usage error (exit 2).
set -u
cd "$(dirname "$0")/.."
SMTPSCOPE=${SMTPSCOPE:-$PWD/build/san/smtpscope}
if [ ! -x "$SMTPSCOPE" ]; then echo "SKIP: json_schema: $SMTPSCOPE not built"; exit 0; fi
if ! command -v python3 >/dev/null 2>&1; then echo "SKIP: json_schema: python3 not installed"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
for cap in samples/*.pcap samples/*.pcap.gz samples/*.pcapng; do
    [ -f "$cap" ] || continue
    n=$((n + 1))
    "$SMTPSCOPE" --json -q --sensor gw1.example.net -r "$cap" >>"$tmp/all.json" 2>/dev/null
    "$SMTPSCOPE" --json -q --max-findings 1 -r "$cap" >>"$tmp/all.json" 2>/dev/null
done
echo "$n" >"$tmp/count"

python3 - "$tmp/all.json" "$(hostname)" <<'PY'
import base64, hashlib, ipaddress, json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
host = sys.argv[2]
def check(cond, what):
    print(("PASS: json_schema: %s" if cond else "FAIL: json_schema: %s") % what)

try:
    import jsonschema
except ImportError:
    jsonschema = None
if jsonschema is None:
    print("SKIP: json_schema: python3 jsonschema not installed (python3-jsonschema)")
else:
    schema = json.load(open("docs/smtpscope.schema.json"))
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    bad = [(i, e.message) for i, o in enumerate(lines) for e in v.iter_errors(o)]
    check(not bad, "%d lines valid against docs/smtpscope.schema.json %s" % (len(lines), bad[:2]))
    # the schema is no rubber stamp: a line without its flow fails
    f = next(o for o in lines if o["type"] == "finding")
    check(not v.is_valid({k: x for k, x in f.items() if k != "community_id"}),
          "schema refuses a finding without community_id")

# Community ID v1 from the specification's text: seed 0 (2 bytes), the
# smaller address:port first, proto 6, a pad byte, the two ports.
def cid(a, ap, b, bp):
    x = (ipaddress.ip_address(a).packed, ap)
    y = (ipaddress.ip_address(b).packed, bp)
    (xa, xp), (ya, yp) = sorted([x, y])
    h = hashlib.sha1(b"\0\0" + xa + ya + bytes([6, 0]) + xp.to_bytes(2, "big") + yp.to_bytes(2, "big"))
    return "1:" + base64.b64encode(h.digest()).decode()

flows = [o for o in lines if o["type"] in ("session", "finding")]
wrong = [o["uid"] for o in flows
         if o["community_id"] != cid(o["src_ip"], o["src_port"], o["dest_ip"], o["dest_port"])
         or o["community_id"] != cid(o["dest_ip"], o["dest_port"], o["src_ip"], o["src_port"])]
v6 = sum(1 for o in flows if ":" in o["src_ip"])
check(flows and not wrong and v6 > 0,
      "community id of %d objects (%d IPv6) as computed from the spec, both directions %s"
      % (len(flows), v6, wrong[:2]))
try:
    import communityid
except ImportError:
    communityid = None
if communityid is None:
    print("SKIP: json_schema: reference package communityid not installed")
else:
    cc = communityid.CommunityID()
    def ref(o):
        t = communityid.FlowTuple.make_tcp(o["src_ip"], o["dest_ip"], o["src_port"], o["dest_port"])
        return cc.calc(t)
    wrong = [o["uid"] for o in flows if o["community_id"] != ref(o)]
    check(not wrong, "community id as the reference package computes it %s" % wrong[:2])

sessions = {o["uid"]: o for o in lines if o["type"] == "session"}
keys = ("sensor", "file", "interface", "src_ip", "src_port", "dest_ip", "dest_port", "community_id")
orphans = [o["uid"] for o in lines if o["type"] == "finding"
           and (o["uid"] not in sessions or o["session"] != sessions[o["uid"]]["id"]
                or any(o[k] != sessions[o["uid"]][k] for k in keys))]
check(not orphans, "each finding names its session's uid, flow and source %s" % orphans[:2])
client = [o for o in sessions.values() if o["client"] != ("[%s]:%d" if ":" in o["src_ip"] else "%s:%d") % (o["src_ip"], o["src_port"])]
check(not client, "src is the client, dest the server")
sensors = {o["sensor"] for o in lines}
check(sensors == {"gw1.example.net", host}, "--sensor, host name by default: %s" % sorted(sensors))
PY

# Several files analysed each on its own (--separate: ids restart per
# file): uids stay unique; two
# runs of one file share no uid.
"$SMTPSCOPE" --json -q --separate -r samples/ipv6.pcap samples/clean.pcapng samples/ipv6.pcap >"$tmp/multi.json" 2>/dev/null
"$SMTPSCOPE" --json -q -r samples/ipv6.pcap >"$tmp/run2.json" 2>/dev/null
python3 - "$tmp/multi.json" "$tmp/run2.json" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
sa = [o for o in a if o["type"] == "session"]
sb = [o for o in b if o["type"] == "session"]
ok = len(sa) == 3 and {o["id"] for o in sa} == {1} and len({o["uid"] for o in sa}) == 3
print(("PASS" if ok else "FAIL") + ": json_schema: 3 files, ids restart, 3 distinct uids %s" % [o["uid"] for o in sa])
ok = sb and not ({o["uid"] for o in sb} & {o["uid"] for o in sa}) and a[-1]["run"] != b[-1]["run"]
print(("PASS" if ok else "FAIL") + ": json_schema: two runs of one file share no uid")
PY

long=$(printf 'x%.0s' $(seq 254))
for bad in "" "$long"; do
    "$SMTPSCOPE" --json -q --sensor "$bad" -r samples/ipv6.pcap >/dev/null 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq 2 ] && grep -q -- "--sensor" "$tmp/err"; then
        echo "PASS: json_schema: --sensor of ${#bad} bytes refused"
    else
        echo "FAIL: json_schema: --sensor of ${#bad} bytes: exit $rc"
    fi
done

# The example in docs/json-schema.md is of this schema too.
sed -n '/^## Example/,$p' docs/json-schema.md | sed -n 's/^    {/{/p' >"$tmp/doc.json"
python3 - "$tmp/doc.json" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
try:
    import jsonschema
except ImportError:
    print("SKIP: json_schema: docs example (python3 jsonschema not installed)")
    sys.exit(0)
v = jsonschema.Draft202012Validator(json.load(open("docs/smtpscope.schema.json")))
bad = [e.message for o in lines for e in v.iter_errors(o)]
ok = [o["type"] for o in lines] == ["finding", "session", "summary"] and not bad
print(("PASS" if ok else "FAIL") + ": json_schema: docs/json-schema.md example valid %s" % bad[:2])
PY
