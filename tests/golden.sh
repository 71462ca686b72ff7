#!/usr/bin/env bash
# tests/golden.sh - the findings smtpscope reports on the sample captures,
# compared with the hand-written expectations in tests/golden/.
#
# For each tests/golden/<sample>.expected: runs
#   $SMTPSCOPE --json -q -r samples/<sample>
# checks that every output line is a JSON object with a "type", that the
# summary comes last and counts the findings, that the findings ("rule",
# "frame") equal the expected lines as a multiset ("7|8" = either frame,
# "c.pcap1#7" a frame of a rotated chain samples/<sample>, <sample>1, ...,
# "*" = any frame; "~ rule text": that finding's message contains text; see
# tests/golden/README.md), and that the exit status is
# 1 when an error-severity finding is expected, else 0 (interface.md).
# Then the exit status 2 cases: an unsupported link type, a missing file, a
# file that is not a capture: status 2 and one line on standard error that
# names the file.
#
# One PASS/FAIL line per check; SKIP when the program is not built.
set -u
cd "$(dirname "$0")/.."
SMTPSCOPE=${SMTPSCOPE:-$PWD/build/san/smtpscope}
if [ ! -x "$SMTPSCOPE" ]; then echo "SKIP: golden: $SMTPSCOPE not built"; exit 0; fi
if ! command -v python3 >/dev/null 2>&1; then echo "SKIP: golden: python3 not installed"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

for exp in tests/golden/*.expected; do
    name=$(basename "$exp" .expected)
    cap=samples/$name
    if [ ! -f "$cap" ]; then echo "FAIL: golden $name: samples/$name missing"; fail=1; continue; fi
    # a rotated chain (NAME, NAME1, NAME2, ...) is read as one capture
    caps=("$cap")
    for part in "$cap"[0-9]*; do [ -f "$part" ] && caps+=("$part"); done
    "$SMTPSCOPE" --json -q -r "${caps[@]}" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    python3 - "$name" "$exp" "$tmp/out" "$tmp/err" "$rc" <<'EOF' || fail=1
import json, sys
name, exp, out, err, rc = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])

# error-severity rules of docs/rules.md (written out here, not read from the
# program, so that a changed severity shows): they decide the exit status
ERRORS = {"reply-lost", "reply-out-of-order", "reply-unsolicited", "data-before-go-ahead",
          "reply-during-data", "eod-ambiguous", "eod-accepted-ambiguous", "bdat-mixed",
          "bdat-truncated", "rset-refused", "helo-extended-reply", "etrn-in-transaction",
          "reply-malformed", "server-close-unannounced", "starttls-injection"}
ok = True
def check(cond, what):
    global ok
    print(("PASS: golden %s: %s" if cond else "FAIL: golden %s: %s") % (name, what))
    ok = ok and cond

objs, bad = [], 0
for i, line in enumerate(open(out, "rb").read().split(b"\n")):
    if not line:
        continue
    try:
        o = json.loads(line.decode("utf-8"))
        if not isinstance(o, dict) or "type" not in o:
            bad += 1
        else:
            objs.append(o)
    except (ValueError, UnicodeDecodeError):
        bad += 1
check(bad == 0 and objs, "output is JSON Lines (%d objects, %d bad lines)" % (len(objs), bad))
if objs:
    check(objs[-1].get("type") == "summary", "summary object last")
findings = [o for o in objs if o.get("type") == "finding"]
if objs and objs[-1].get("type") == "summary":
    counts = objs[-1].get("findings", {})
    total = sum(counts.values()) if isinstance(counts, dict) else -1
    check(total == len(findings), "summary counts %d findings, %d reported" % (total, len(findings)))

want, texts = [], []
for line in open(exp):
    line = line.strip()
    if line.startswith("~ "):          # "~ rule-id text": its message says text
        _, rule, text = line.split(None, 2)
        texts.append((rule, text))
    elif line and not line.startswith("#"):
        rule, frames = line.split()
        # frames of a chain are named "file#number" (interface.md)
        want.append((rule, None if frames == "*" else
                     set(int(x) if x.isdigit() else x for x in frames.split("|"))))
got = [(f.get("rule"), f.get("frame")) for f in findings]

# match exact frames first, then alternatives, then wildcards
unmatched = list(got)
missing = []
for rule, frames in sorted(want, key=lambda w: (w[1] is None, len(w[1] or ()))):
    hit = next((g for g in unmatched if g[0] == rule and (frames is None or g[1] in frames)), None)
    if hit is None:
        missing.append("%s %s" % (rule, "*" if frames is None else "|".join(map(str, sorted(frames)))))
    else:
        unmatched.remove(hit)
extra = ["%s %s" % g for g in sorted(unmatched, key=str)]
check(not missing and not extra,
      "findings as expected (%d)%s%s" % (len(want),
        "; missing: " + ", ".join(missing) if missing else "",
        "; unexpected: " + ", ".join(extra) if extra else ""))
for rule, text in texts:
    msgs = [f.get("message", "") for f in findings if f.get("rule") == rule]
    check(any(text in m for m in msgs), "%s message says %r (%s)" % (rule, text, " / ".join(msgs)[:200]))
want_rc = 1 if any(r in ERRORS for r, _ in want) else 0
errtxt = open(err, errors="replace").read().strip()
check(rc == want_rc, "exit status %d (expected %d)%s" % (rc, want_rc,
      ": " + errtxt.splitlines()[-1][:200] if rc not in (0, 1) and errtxt else ""))
sys.exit(0 if ok else 1)
EOF
done

# exit status 2: unreadable input, with a one-line reason naming the file,
# and nothing on standard output (no all-zero summary)
exit2() {  # label, file
    "$SMTPSCOPE" --json -q -r "$2" >"$tmp/out" 2>"$tmp/err"
    local rc=$? lines
    lines=$(grep -c . "$tmp/err")
    if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF "$(basename "$2")" "$tmp/err" &&
       [ ! -s "$tmp/out" ]; then
        echo "PASS: golden exit 2: $1: $(head -c 160 "$tmp/err")"
    else
        echo "FAIL: golden exit 2: $1: status $rc, $lines stderr lines: $(head -n 3 "$tmp/err" | head -c 300), $(wc -c <"$tmp/out") bytes on stdout"
        fail=1
    fi
}
exit2 "unsupported link type (802.11)" samples/unsupported-linktype-80211.pcap
exit2 "missing file" "$tmp/no-such-capture.pcap"
exit2 "not a capture" samples/README.md
printf '\xd4\xc3\xb2\xa1\x02\x00' >"$tmp/short-header.pcap"
exit2 "truncated pcap header" "$tmp/short-header.pcap"
exit $fail
