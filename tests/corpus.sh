#!/usr/bin/env bash
# tests/corpus.sh - smtpscope over the shared corpus of real captures.
#
# For every capture in $CORPUS (*.pcap, *.pcapng, *.cap, *.gz; default
# ../shared/corpus, SKIP when absent): runs $SMTPSCOPE --json -q -r FILE and
# checks that it exits 0 or 1 (a readable capture never gives 2, never a
# crash or a signal), that every output line is valid JSON with a "type",
# and that the last one is the summary. Then writes a per-rule tally of the
# findings (count, files, severity) to build/corpus-findings.txt, for a
# human to review: on real traffic a finding is either a real breach or a
# false positive, and this list is where the latter show up.
set -u
cd "$(dirname "$0")/.."
SMTPSCOPE=${SMTPSCOPE:-$PWD/build/san/smtpscope}
CORPUS=${CORPUS:-$PWD/../shared/corpus}
if [ ! -d "$CORPUS" ]; then echo "SKIP: corpus: $CORPUS absent"; exit 0; fi
if [ ! -x "$SMTPSCOPE" ]; then echo "SKIP: corpus: $SMTPSCOPE not built"; exit 0; fi
if ! command -v python3 >/dev/null 2>&1; then echo "SKIP: corpus: python3 not installed"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p build
fail=0
n=0
: >"$tmp/tally.jsonl"
while IFS= read -r -d '' f; do
    n=$((n + 1))
    rel=${f#"$CORPUS"/}
    "$SMTPSCOPE" --json -q -r "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    # 4: a damaged capture, analysed up to the damage; right only when the
    # summary says "incomplete" and Wireshark's capinfos finds it damaged too
    if [ "$rc" -eq 4 ] && grep -q '"incomplete":{' "$tmp/out" &&
       command -v capinfos >/dev/null 2>&1 && ! capinfos "$f" >/dev/null 2>&1; then
        echo "PASS: corpus $rel: damaged (capinfos agrees), analysed up to the damage, exit 4"
    elif [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        echo "FAIL: corpus $rel: exit status $rc: $(head -c 300 "$tmp/err")"
        fail=1
        continue
    fi
    if python3 - "$rel" "$tmp/out" >>"$tmp/tally.jsonl" <<'EOF'
import json, sys
rel, out = sys.argv[1], sys.argv[2]
objs = []
for n, line in enumerate(open(out, "rb").read().split(b"\n"), 1):
    if not line:
        continue
    try:
        o = json.loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        sys.stderr.write("line %d is not JSON: %s\n" % (n, e))
        sys.exit(1)
    if not isinstance(o, dict) or "type" not in o:
        sys.stderr.write("line %d has no \"type\"\n" % n)
        sys.exit(1)
    objs.append(o)
if not objs or objs[-1]["type"] != "summary":
    sys.stderr.write("the last object is not the summary\n")
    sys.exit(1)
for o in objs:
    if o["type"] == "finding":
        # a count past --max-findings stands for that many findings
        n = (o.get("suppressed") or {}).get("count", 1)
        print(json.dumps({"file": rel, "rule": o.get("rule"), "severity": o.get("severity"),
                          "frame": o.get("frame"), "n": n}))
EOF
    then
        echo "PASS: corpus $rel: exit $rc, valid JSON Lines"
    else
        echo "FAIL: corpus $rel: output is not valid JSON Lines"
        fail=1
    fi
done < <(find "$CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.gz' \) -print0 | sort -z)

python3 - "$tmp/tally.jsonl" "$n" >build/corpus-findings.txt <<'EOF'
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
count = collections.Counter()
for r in rows:
    count[r["rule"]] += r["n"]
files = collections.defaultdict(set)
sev = {}
for r in rows:
    files[r["rule"]].add(r["file"])
    sev[r["rule"]] = r["severity"]
print("# smtpscope findings over the corpus: %s captures, %d findings" % (sys.argv[2],
                                                                     sum(count.values())))
print("# rule  severity  findings  files  (first files)")
for rule, c in sorted(count.items(), key=lambda kv: (-kv[1], kv[0])):
    fs = sorted(files[rule])
    print("%-26s %-8s %6d %5d  %s" % (rule, sev[rule], c, len(fs), ", ".join(fs[:3])))
EOF
echo "PASS: corpus: $n captures, tally in build/corpus-findings.txt"
exit $fail
