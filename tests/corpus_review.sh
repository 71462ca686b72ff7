#!/usr/bin/env bash
# tests/corpus_review.sh - every warning and error on the corpus is reviewed.
#
# docs/corpus-review.md judges each warning- and error-level finding that
# smtpscope gives on the shared corpus of real captures ($CORPUS, default
# ../shared/corpus; SKIP when absent) as right, disputable or wrong. Its
# machine-readable table is the fenced block that starts with the line
# "```review" : one row per capture and rule, tab-separated
#     capture  rule  severity  count  verdict
# (capture relative to the corpus; verdict right, disputable or wrong).
#
# This test runs $SMTPSCOPE --json -r FILE once per capture, counts the
# warning and error findings per (capture, rule, severity) and checks that
# the table lists exactly those, with the same counts: a new, changed or
# vanished finding fails here until the review is updated. It also checks
# that the table is well formed and that the document's totals line
# ("Totals: N findings") agrees with the table. A "wrong" row passes (the
# document lists it under "Wrong: to fix"), but is counted in the output.
set -u
cd "$(dirname "$0")/.."
SMTPSCOPE=${SMTPSCOPE:-$PWD/build/san/smtpscope}
CORPUS=${CORPUS:-$PWD/../shared/corpus}
DOC=docs/corpus-review.md
if [ ! -d "$CORPUS" ]; then echo "SKIP: corpus_review: $CORPUS absent"; exit 0; fi
if [ ! -x "$SMTPSCOPE" ]; then echo "SKIP: corpus_review: $SMTPSCOPE not built"; exit 0; fi
if ! command -v python3 >/dev/null 2>&1; then echo "SKIP: corpus_review: python3 not installed"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/list"
fail=0
i=0
while IFS= read -r -d '' f; do
    i=$((i + 1))
    rel=${f#"$CORPUS"/}
    "$SMTPSCOPE" --json -q -r "$f" >"$tmp/$i.json" 2>"$tmp/err"
    rc=$?
    # 0 clean, 1 findings, 4 a damaged capture analysed up to the damage
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ] && [ "$rc" -ne 4 ]; then
        echo "FAIL: corpus_review $rel: exit status $rc: $(head -c 300 "$tmp/err")"
        fail=1
        continue
    fi
    printf '%s\t%s\n' "$tmp/$i.json" "$rel" >>"$tmp/list"
done < <(find "$CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.gz' \) -print0 | sort -z)

python3 - "$tmp/list" "$DOC" <<'EOF' || fail=1
import collections, json, re, sys
found = collections.Counter()
for entry in open(sys.argv[1], encoding="utf-8"):
    out, rel = entry.rstrip("\n").split("\t", 1)
    for line in open(out, encoding="utf-8"):
        o = json.loads(line)
        if o.get("type") == "finding" and o.get("severity") in ("warning", "error"):
            # a finding past --max-findings stands for that many
            found[(rel, o["rule"], o["severity"])] += (o.get("suppressed") or {}).get("count", 1)
text = open(sys.argv[2], encoding="utf-8").read()
m = re.search(r"^```review\n(.*?)^```$", text, re.M | re.S)
bad = 0
def fail(msg):
    global bad
    bad += 1
    print("FAIL: corpus_review: " + msg)
if not m:
    fail("%s has no ```review block" % sys.argv[2])
    sys.exit(1)
table = {}
verdicts = collections.Counter()
for ln, row in enumerate(m.group(1).splitlines(), 1):
    if not row.strip() or row.startswith("#"):
        continue
    cols = row.split("\t")
    if len(cols) != 5 or not cols[3].isdigit() or cols[4] not in ("right", "disputable", "wrong") \
            or cols[2] not in ("warning", "error"):
        fail("review row %d is not capture<TAB>rule<TAB>warning|error<TAB>count<TAB>right|disputable|wrong: %r" % (ln, row))
        continue
    key = (cols[0], cols[1], cols[2])
    if key in table:
        fail("review row %d repeats %s %s" % (ln, cols[0], cols[1]))
    table[key] = (int(cols[3]), cols[4])
for key in sorted(set(found) | set(table)):
    got = found.get(key, 0)
    want = table.get(key, (0, None))[0]
    if got != want:
        fail("%s: %s (%s): %d findings, the review lists %d" % (key[0], key[1], key[2], got, want))
    else:
        verdicts[table[key][1]] += got
total = sum(n for n, _ in table.values())
t = re.search(r"^Totals: \*{0,2}(\d+) findings", text, re.M)
if not t or int(t.group(1)) != total:
    fail("the document's \"Totals: N findings\" line does not say %d" % total)
if bad:
    sys.exit(1)
print("PASS: corpus_review: %d warning/error findings in %d (capture, rule) rows, all reviewed: %s"
      % (total, len(table), ", ".join("%d %s" % (verdicts[v], v) for v in ("right", "disputable", "wrong"))))
EOF
exit $fail
