#!/usr/bin/env bash
# tests/max_findings.sh - --max-findings: findings past the cap are counted,
# never lost.
#
# On captures written by tests/limits/genpcap.py (floods: six interleaved
# sessions, some rules under the cap and some past it, per session;
# pipelined 30: thirty pipelined NOOPs in one segment), with the program
# under test ($SMTPSCOPE, the sanitizer build under tests/run.sh):
#   - JSON: every line parses; the summary's schema is 2.x; per session and
#     rule at most N findings one by one, and a record with "suppressed"
#     exactly when there were more; the summary's counts per rule and
#     severity and each session's "findings" equal the findings one by one
#     plus the counts (and equal those of --max-findings 0)
#   - text: the count line as documented; the totals are those of
#     --max-findings 0
#   - the exit status does not depend on the cap (--fail-on warning, info)
#   - evidence bundles: each header's count is the session's, the counts
#     past the cap are listed
#   - bad values are refused (exit 2)
set -u
cd "$(dirname "$0")/.."
bin=${SMTPSCOPE:-$PWD/build/san/smtpscope}
gen=tests/limits/genpcap.py

if ! command -v python3 >/dev/null; then
    echo "SKIP: max_findings: python3 is not installed"
    exit 0
fi
if [ ! -x "$bin" ]; then
    echo "FAIL: max_findings: no binary at $bin (make tests-build)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME COMMAND...: PASS when the command succeeds
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then
        echo "PASS: max_findings/$name"
    else
        echo "FAIL: max_findings/$name: $(printf '%s' "$out" | head -c 400)"
    fi
}

python3 "$gen" floods "$tmp/floods.pcap" 6 2>/dev/null &&
    python3 "$gen" pipelined "$tmp/pipe30.pcap" 30 2>/dev/null || {
    echo "FAIL: max_findings: the generator failed"
    exit 1
}

# The JSON of the floods at caps 10 (default), 3, 1 and 0 (no cap).
"$bin" -q --json -r "$tmp/floods.pcap" >"$tmp/j10"
"$bin" -q --json --max-findings 3 -r "$tmp/floods.pcap" >"$tmp/j3"
"$bin" -q --json --max-findings 1 -r "$tmp/floods.pcap" >"$tmp/j1"
"$bin" -q --json --max-findings 0 -r "$tmp/floods.pcap" >"$tmp/j0"

cat >"$tmp/check.py" <<'EOF'
import json, sys
from collections import Counter, defaultdict

def load(path):
    return [json.loads(l) for l in open(path, encoding='utf-8')]

def check(path, cap, ref):
    objs = load(path)
    summ = objs[-1]
    assert summ['type'] == 'summary' and summ['schema'].startswith('2.'), summ
    one = defaultdict(Counter)          # session -> rule -> findings one by one
    more = defaultdict(Counter)         # session -> rule -> counted past the cap
    sev = Counter()
    for o in objs:
        if o['type'] != 'finding':
            continue
        s = o.get('suppressed')
        if s:
            assert set(s) == {'count', 'first_frame', 'last_frame'}, s
            assert s['count'] > 0 and s['first_frame'] <= s['last_frame'] == o['frame'], o
            assert o['evidence'] == [] and o['message'].startswith('and %d more' % s['count']), o
            assert more[o['session']][o['rule']] == 0, 'two counts for one rule: %r' % o
            more[o['session']][o['rule']] += s['count']
            sev[o['severity']] += s['count']
        else:
            assert not more[o['session']][o['rule']], 'a finding after its count: %r' % o
            one[o['session']][o['rule']] += 1
            sev[o['severity']] += 1
    total = Counter()
    for sid in set(one) | set(more):
        for rule in set(one[sid]) | set(more[sid]):
            n1, nm = one[sid][rule], more[sid][rule]
            if cap:
                assert n1 <= cap, (sid, rule, n1)
                assert (nm > 0) == (n1 + nm > cap), (sid, rule, n1, nm)
                assert nm == 0 or n1 == cap, (sid, rule, n1, nm)
            else:
                assert nm == 0, (sid, rule, nm)
            total[rule] += n1 + nm
    assert dict(total) == summ['findings'], (dict(total), summ['findings'])
    assert dict(sev) == {k: v for k, v in summ['findings_by_severity'].items() if v}, sev
    for o in objs:
        if o['type'] == 'session':
            n = sum(one[o['id']].values()) + sum(more[o['id']].values())
            assert o['findings'] == n, (o['id'], o['findings'], n)
    if ref:
        r = load(ref)
        assert r[-1]['findings'] == summ['findings'], 'totals differ from --max-findings 0'
        assert r[-1]['findings_by_severity'] == summ['findings_by_severity']
        rs = {o['id']: o['findings_by_severity'] for o in r if o['type'] == 'session'}
        ss = {o['id']: o['findings_by_severity'] for o in objs if o['type'] == 'session'}
        assert rs == ss, 'session counts differ from --max-findings 0'
    return sum(sum(c.values()) for c in more.values())

cap, path, ref = int(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None
n = check(path, cap, ref)
if cap and n == 0:
    sys.exit('the cap never fired: the capture does not test it')
EOF
check "json: no cap, totals" python3 "$tmp/check.py" 0 "$tmp/j0"
check "json: default cap 10" python3 "$tmp/check.py" 10 "$tmp/j10" "$tmp/j0"
check "json: cap 3" python3 "$tmp/check.py" 3 "$tmp/j3" "$tmp/j0"
check "json: cap 1" python3 "$tmp/check.py" 1 "$tmp/j1" "$tmp/j0"

# Text: the count line, and totals that do not depend on the cap.
"$bin" -q -r "$tmp/pipe30.pcap" >"$tmp/t30"
check "text: the count line" grep -qxF \
    '       !! warning pipelining-not-last (client): and 19 more in this session (frame #7), not shown' \
    "$tmp/t30"
check "text: ten findings one by one" test "$(grep -c '!! warning pipelining-not-last' "$tmp/t30")" -eq 11
check "text: totals count all 29" grep -qE '^  pipelining-not-last +client +29 ' "$tmp/t30"
"$bin" -q -r "$tmp/floods.pcap" >"$tmp/t10"
"$bin" -q --max-findings 0 -r "$tmp/floods.pcap" >"$tmp/t0"
check "text: totals as with no cap" cmp <(sed -n '/^totals:/,$p' "$tmp/t10") <(sed -n '/^totals:/,$p' "$tmp/t0")
check "text: session headers as with no cap" cmp <(grep '^session ' "$tmp/t10") <(grep '^session ' "$tmp/t0")

# The exit status does not depend on the cap.
for f in info warning error; do
    st=""
    for n in 0 1 10; do
        "$bin" -q --fail-on "$f" --max-findings "$n" -r "$tmp/floods.pcap" >/dev/null 2>&1
        st="$st $?"
    done
    check "exit status, --fail-on $f:$st" test "$(echo $st | tr ' ' '\n' | sort -u | wc -l)" -eq 1
done

# Evidence bundles.
"$bin" -q --evidence "$tmp/ev" -r "$tmp/floods.pcap" >/dev/null 2>&1
check "evidence: header counts are the sessions'" python3 - "$tmp/ev" "$tmp/j0" <<'EOF'
import json, re, sys
ref = {o['id']: o['findings'] for o in map(json.loads, open(sys.argv[2])) if o['type'] == 'session'}
counted = 0
for sid, n in ref.items():
    txt = open('%s/session-%d.txt' % (sys.argv[1], sid), encoding='utf-8').read()
    m = re.search(r'^findings: (\d+)$', txt, re.M)
    assert m and int(m.group(1)) == n, (sid, m and m.group(1), n)
    # each frame as in the capture, then (N) as numbered in the bundle's pcap
    counted += len(re.findall(r'^  #\d+(?: \(\d+\))?-#\d+(?: \(\d+\))? \w+ [a-z-]+ \(\w+\): \d+ more, counted but not '
                              r'shown one by one \(--max-findings 10\)$', txt, re.M))
assert counted == 6, counted
EOF

# Bad values.
for v in -1 x 1000000001 ""; do
    "$bin" --max-findings "$v" -r "$tmp/floods.pcap" >/dev/null 2>"$tmp/err"
    rc=$?
    check "--max-findings '$v' refused" test "$rc" -eq 2 -a -s "$tmp/err"
done
