#!/usr/bin/env bash
# tests/jobs.sh - -j N writes what a single process writes.
#
# For every capture in samples/ and for a generated capture of about 50 MB
# (bench/gen, 300 concurrent sessions), the text report and JSON Lines of
# -j 2 and -j 3 must be byte-identical to -j 1, with the same exit status.
# On six interleaved sessions whose findings go past --max-findings, text
# and JSON (the counts past the cap are relayed). On the generated capture
# also: --session (ids agree across workers),
# --ladder, --evidence bundles, and idle expiry (the capture cut in two, the second half
# shifted 100 s later, --idle-timeout 5: sessions of the first half expire
# while the second half is read). Then the merged ids: every id from 1 to
# the session count exactly once.
#
# Uses the release binary ($SMTPSCOPE_REL); the generated capture is
# skipped (SKIP) when bench/gen.c cannot be built, the expiry case when
# editcap/mergecap are missing.
set -u
cd "$(dirname "$0")/.."
bin=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
if [ ! -x "$bin" ]; then
    echo "FAIL: jobs: no release binary at $bin (make)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# jobs_same NAME CAPTURE ARGS...: -j 2 and -j 3 against -j 1.
jobs_same() {
    local name=$1 cap=$2; shift 2
    local rc1 rcn j
    "$bin" "$@" -j 1 -r "$cap" >"$tmp/j1" 2>"$tmp/e1"
    rc1=$?
    for j in 2 3; do
        "$bin" "$@" -j "$j" -r "$cap" >"$tmp/jn" 2>"$tmp/en"
        rcn=$?
        if [ "$rc1" -ne "$rcn" ]; then
            echo "FAIL: jobs/$name -j $j: exit $rcn, -j 1 exits $rc1"
        elif ! cmp -s "$tmp/j1" "$tmp/jn"; then
            echo "FAIL: jobs/$name -j $j: output differs from -j 1: $(diff "$tmp/j1" "$tmp/jn" | head -3 | tr '\n' ' ' | cut -c1-200)"
        elif ! cmp -s "$tmp/e1" "$tmp/en"; then
            echo "FAIL: jobs/$name -j $j: standard error differs from -j 1: $(head -c 200 "$tmp/en")"
        else
            echo "PASS: jobs/$name -j $j ($(wc -c <"$tmp/j1") bytes, exit $rc1)"
        fi
    done
}

n=0
for f in samples/*.pcap samples/*.pcapng samples/*.gz; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    jobs_same "$(basename "$f")/text" "$f"
    jobs_same "$(basename "$f")/json" "$f" --json
done
[ "$n" -gt 0 ] || echo "FAIL: jobs: no capture in samples/"

# Two files in one run: ids restart per file, totals add up.
jobs_same "two-files" samples/seed000-frontbridge-pipelining.pcap -r samples/clean.pcapng

# --max-findings: the counts past the cap travel with the other records
# (interleaved sessions, some past the cap; tests/limits/genpcap.py).
if python3 tests/limits/genpcap.py floods "$tmp/floods.pcap" 6 2>/dev/null; then
    jobs_same "floods/text" "$tmp/floods.pcap"
    jobs_same "floods/json" "$tmp/floods.pcap" --json
    jobs_same "floods/cap-1" "$tmp/floods.pcap" --json --max-findings 1
else
    echo "SKIP: jobs/floods: tests/limits/genpcap.py failed (python3?)"
fi

mkdir -p build/bench
if [ ! -x build/bench/gen ] || [ bench/gen.c -nt build/bench/gen ]; then
    ${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -o build/bench/gen bench/gen.c -lm 2>"$tmp/cc.err" ||
        { echo "SKIP: jobs/generated: bench/gen.c does not build: $(head -c 200 "$tmp/cc.err")"; exit 0; }
fi
big=$tmp/gen50m.pcap
if ! build/bench/gen -o "$big" --bytes 50M --seed 7 2>"$tmp/gen.err"; then
    echo "FAIL: jobs/generated: bench/gen failed: $(head -c 200 "$tmp/gen.err")"
    exit 0
fi
jobs_same "gen50m/text" "$big"
jobs_same "gen50m/json" "$big" --json
jobs_same "gen50m/session" "$big" --session 42
jobs_same "gen50m/ladder" "$big" -q --ladder

# Evidence bundles: the same files, the same bytes.
"$bin" -q --evidence "$tmp/ev1" -j 1 -r "$big" >/dev/null 2>&1
"$bin" -q --evidence "$tmp/ev2" -j 2 -r "$big" >/dev/null 2>&1
nev=$(ls "$tmp/ev1" 2>/dev/null | wc -l)
if [ "$nev" -gt 0 ] && diff -r "$tmp/ev1" "$tmp/ev2" >/dev/null; then
    echo "PASS: jobs/gen50m evidence -j 2: $nev files identical"
else
    echo "FAIL: jobs/gen50m evidence -j 2: $nev files with -j 1, bundles differ"
fi

# Every id once, in order, in the merged JSON.
"$bin" --json -j 2 -r "$big" >"$tmp/ids.json" 2>/dev/null
sessions=$(grep -c '"type":"session"' "$tmp/ids.json")
ids=$(grep '"type":"session"' "$tmp/ids.json" | sed 's/.*"id":\([0-9]*\).*/\1/' | sort -n | uniq | wc -l)
last=$(grep '"type":"session"' "$tmp/ids.json" | sed 's/.*"id":\([0-9]*\).*/\1/' | sort -n | tail -1)
if [ "$sessions" -gt 100 ] && [ "$ids" -eq "$sessions" ] && [ "$last" -eq "$sessions" ]; then
    echo "PASS: jobs/gen50m ids: $sessions sessions, ids 1..$last each once"
else
    echo "FAIL: jobs/gen50m ids: $sessions sessions, $ids distinct ids, highest $last"
fi

if command -v editcap >/dev/null && command -v mergecap >/dev/null; then
    editcap -r "$big" "$tmp/p1.pcap" 1-20000 2>/dev/null &&
    editcap -r "$big" "$tmp/p2.pcap" 20001-10000000 2>/dev/null &&
    editcap -t 100 "$tmp/p2.pcap" "$tmp/p2s.pcap" 2>/dev/null &&
    mergecap -a -w "$tmp/gapped.pcap" "$tmp/p1.pcap" "$tmp/p2s.pcap" 2>/dev/null
    if [ -s "$tmp/gapped.pcap" ]; then
        jobs_same "expiry/json" "$tmp/gapped.pcap" --json --idle-timeout 5
        if grep -q '"how":"timeout"' "$tmp/j1"; then
            echo "PASS: jobs/expiry: sessions closed by idle expiry are in the comparison"
        else
            echo "FAIL: jobs/expiry: no session was expired (the case tests nothing)"
        fi
        jobs_same "expiry/text" "$tmp/gapped.pcap" -q --idle-timeout 5
    else
        echo "FAIL: jobs/expiry: editcap/mergecap could not build the capture"
    fi
else
    echo "SKIP: jobs/expiry: editcap or mergecap not installed"
fi
