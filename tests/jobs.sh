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
# Also: every capture of the shared corpus (-j 3, JSON; SKIP when absent),
# --max-sessions shared out (evictions within 2 % of one process's),
# a BPF expression, several files in one run (pcap, gzip, pcapng), standard input
# ('-r -', plain and gzip: analysed by one process, no worker forked,
# where a plain file is read by every worker itself), a capture cut short (sessions still open at
# the end, the read error's warning on stderr), a capture stretched in
# time so that sessions expire all along (--idle-timeout 1: each worker
# must see the clock of packets it is not given), the sanitizer build
# ($SMTPSCOPE) with -j against the release build, and a worker killed
# while it reads the file: exit 2 and one line, no hang.
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

# same A B: two outputs are byte-identical but for the run id, random in
# every run (JSON: "run" of the summary, first part of each "uid").
same() {
    local mask='s/"(run|uid)":"[0-9a-f]{16}/"\1":"RUN/g'
    cmp -s <(sed -E "$mask" "$1") <(sed -E "$mask" "$2")
}

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
        elif ! same "$tmp/j1" "$tmp/jn"; then
            echo "FAIL: jobs/$name -j $j: output differs from -j 1: $(diff "$tmp/j1" "$tmp/jn" | head -3 | tr '\n' ' ' | cut -c1-200)"
        elif ! cmp -s "$tmp/e1" "$tmp/en"; then
            echo "FAIL: jobs/$name -j $j: standard error differs from -j 1: $(head -c 200 "$tmp/en")"
        else
            echo "PASS: jobs/$name -j $j ($(wc -c <"$tmp/j1") bytes, exit $rc1)"
        fi
    done
}

# jobs_stdin NAME CAPTURE ARGS...: the same, the capture on standard input.
jobs_stdin() {
    local name=$1 cap=$2; shift 2
    local rc1 rcn
    "$bin" "$@" -j 1 -r - <"$cap" >"$tmp/j1" 2>"$tmp/e1"
    rc1=$?
    "$bin" "$@" -j 2 -r - <"$cap" >"$tmp/jn" 2>"$tmp/en"
    rcn=$?
    if [ "$rc1" -eq "$rcn" ] && same "$tmp/j1" "$tmp/jn" && cmp -s "$tmp/e1" "$tmp/en"; then
        echo "PASS: jobs/$name stdin -j 2 ($(wc -c <"$tmp/j1") bytes, exit $rc1)"
    else
        echo "FAIL: jobs/$name stdin -j 2: exit $rcn (-j 1: $rc1), output or stderr differ"
    fi
}

n=0
for f in samples/*.pcap samples/*.pcapng samples/*.gz; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    jobs_same "$(basename "$f")/text" "$f"
    jobs_same "$(basename "$f")/json" "$f" --json
done
[ "$n" -gt 0 ] || echo "FAIL: jobs: no capture in samples/"

# The shared corpus of real captures (when present): -j 3 against -j 1,
# JSON, each file (odd captures: fragments, IPv6, mid-stream, gaps).
corpus=${CORPUS:-$PWD/../shared/corpus}
if [ -d "$corpus" ]; then
    nc=0 bad=0
    while IFS= read -r -d '' f; do
        nc=$((nc + 1))
        "$bin" --json -j 1 -r "$f" >"$tmp/c1" 2>&1
        r1=$?
        "$bin" --json -j 3 -r "$f" >"$tmp/c3" 2>&1
        r3=$?
        if [ "$r1" -ne "$r3" ] || ! same "$tmp/c1" "$tmp/c3"; then
            bad=$((bad + 1))
            echo "FAIL: jobs/corpus ${f#"$corpus"/}: -j 3 differs from -j 1 (exit $r3, $r1)"
        fi
    done < <(find "$corpus" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \
                                      -o -name '*.gz' \) -print0 | sort -z)
    [ "$bad" -eq 0 ] && [ "$nc" -gt 0 ] && echo "PASS: jobs/corpus: $nc captures, -j 3 identical to -j 1"
    [ "$nc" -eq 0 ] && echo "SKIP: jobs/corpus: no capture in $corpus"
else
    echo "SKIP: jobs/corpus: $corpus absent"
fi

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

# --max-sessions is shared out among the workers: 3 000 concurrent
# sessions under a cap of 1 000 are evicted about as often as in one
# process (the hash shares connections out evenly, not exactly).
if python3 tests/limits/genpcap.py concurrent "$tmp/conc.pcap" 3000 2>/dev/null; then
    "$bin" --json -j 1 --max-sessions 1000 -r "$tmp/conc.pcap" >"$tmp/m1" 2>&1
    e1=$(grep -c '"how":"evicted"' "$tmp/m1")
    for j in 2 3; do
        "$bin" --json -j "$j" --max-sessions 1000 -r "$tmp/conc.pcap" >"$tmp/mj" 2>&1
        rc=$?
        ej=$(grep -c '"how":"evicted"' "$tmp/mj")
        if [ "$rc" -eq 0 ] && [ "$e1" -gt 1000 ] && [ $((ej * 100)) -ge $((e1 * 98)) ] &&
           [ $((ej * 100)) -le $((e1 * 102)) ]; then
            echo "PASS: jobs/max-sessions -j $j: $ej evictions, $e1 in one process"
        else
            echo "FAIL: jobs/max-sessions -j $j: exit $rc, $ej evictions, $e1 in one process"
        fi
    done
else
    echo "SKIP: jobs/max-sessions: tests/limits/genpcap.py failed (python3?)"
fi

# Several files, each format; ids restart per file, totals add up.
jobs_same "three-files" samples/clean.pcap.gz -r samples/clean.pcapng -r samples/ip-fragments.pcap \
    -r samples/seed004-reply-mid-data.pcap
jobs_stdin "seed000" samples/seed000-frontbridge-pipelining.pcap
jobs_stdin "clean.pcap.gz" samples/clean.pcap.gz --json

# The sanitizer build splits the same way (parent and workers checked).
san=${SMTPSCOPE:-$PWD/build/san/smtpscope}
if [ -x "$san" ]; then
    for f in samples/ip-fragments.pcap samples/large-segments.pcap.gz samples/ipv6.pcap \
             samples/seed000-frontbridge-pipelining.pcap; do
        "$bin" --json -j 1 -r "$f" >"$tmp/r1" 2>&1
        "$san" --json -j 3 -r "$f" >"$tmp/s3" 2>&1
        if same "$tmp/r1" "$tmp/s3"; then
            echo "PASS: jobs/sanitizer -j 3 $(basename "$f")"
        else
            echo "FAIL: jobs/sanitizer -j 3 $(basename "$f"): $(diff "$tmp/r1" "$tmp/s3" | head -3 | tr '\n' ' ' | cut -c1-300)"
        fi
    done
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
# A BPF expression: every worker filters alike (frame numbers still count
# every frame).
"$bin" --json -j 1 -r "$big" tcp port 587 >"$tmp/b1" 2>&1
"$bin" --json -j 2 -r "$big" tcp port 587 >"$tmp/b2" 2>&1
nb=$(grep -c '"type":"session"' "$tmp/b1")
if [ "$nb" -gt 0 ] && same "$tmp/b1" "$tmp/b2"; then
    echo "PASS: jobs/gen50m/bpf -j 2: $nb sessions on port 587, identical"
else
    echo "FAIL: jobs/gen50m/bpf -j 2: $nb sessions with -j 1, outputs differ: $(head -c 200 "$tmp/b2")"
fi
# A plain file is read by each worker itself, standard input by one
# process. Same output.
jobs_stdin "gen50m" "$big" --json
jobs_stdin "gen50m/text" "$big" -q

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

# Sessions still open at the end, and the read error's warning: the
# capture cut in the middle of a packet.
head -c 20000017 "$big" >"$tmp/cut.pcap"
jobs_same "cut/text" "$tmp/cut.pcap"
jobs_same "cut/json" "$tmp/cut.pcap" --json
if grep -q 'analysed up to frame' "$tmp/e1" && grep -q '"how":"capture-end"' "$tmp/j1"; then
    echo "PASS: jobs/cut: the warning and sessions open at the end are in the comparison"
else
    echo "FAIL: jobs/cut: no warning or no session open at the end (the case tests nothing)"
fi

# gzip on standard input.
gzip -1 -c "$big" >"$tmp/big.pcap.gz"
jobs_stdin "gen50m.gz" "$tmp/big.pcap.gz" --json

# Time stretched 40 times (about 25 s of traffic): with --idle-timeout 1
# sessions expire all along, at packets of other workers' connections.
python3 - "$big" "$tmp/slow.pcap" <<'PY' 2>"$tmp/py.err"
import struct, sys
src = open(sys.argv[1], 'rb').read()
out = bytearray(src[:24])
i = 24
t0 = None
while i + 16 <= len(src):
    sec, usec, incl, orig = struct.unpack_from('<IIII', src, i)
    t = sec * 1000000 + usec
    if t0 is None:
        t0 = t
    t = t0 + (t - t0) * 40
    out += struct.pack('<IIII', t // 1000000, t % 1000000, incl, orig)
    out += src[i + 16:i + 16 + incl]
    i += 16 + incl
open(sys.argv[2], 'wb').write(out)
PY
if [ -s "$tmp/slow.pcap" ]; then
    jobs_same "slow/json" "$tmp/slow.pcap" --json --idle-timeout 1
    nto=$(grep -c '"how":"timeout"' "$tmp/j1")
    if [ "$nto" -gt 10 ]; then
        echo "PASS: jobs/slow: $nto sessions closed by idle expiry are in the comparison"
    else
        echo "FAIL: jobs/slow: $nto sessions expired (the case tests little)"
    fi
    jobs_same "slow/text" "$tmp/slow.pcap" -q --idle-timeout 1 --ladder
else
    echo "SKIP: jobs/slow: could not stretch the capture: $(head -c 200 "$tmp/py.err")"
fi

# jobs_kill NAME PID ERRFILE [FD]: kills a worker of the run PID (timeout's
# child is the parent), drains the report from FD when given, and checks
# the run ends with one line and exit 4 (incomplete: what the workers
# sent before stands, docs/interface.md) or 2 (nothing could be merged).
jobs_kill() {
    local name=$1 pid=$2 err=$3 fd=${4:-} parent victim rc
    sleep 1
    parent=$(pgrep -P "$pid" | head -1)
    victim=$([ -n "$parent" ] && pgrep -P "$parent" | head -1)
    [ -n "$victim" ] && kill -KILL "$victim"
    [ -n "$fd" ] && cat <&"$fd" >/dev/null
    wait "$pid"
    rc=$?
    if [ -n "$victim" ] && { [ "$rc" -eq 4 ] || [ "$rc" -eq 2 ]; } && grep -q -- '-j: a worker failed' "$err"; then
        echo "PASS: jobs/$name: exit $rc, \"$(head -1 "$err")\""
    else
        echo "FAIL: jobs/$name: victim '${victim}', exit $rc, stderr: $(head -c 200 "$err")"
    fi
}

# A worker killed while it reads the file itself: the report goes to a
# pipe nobody reads yet, so parent and workers stall with the workers
# alive; one is killed, then the pipe is drained.
mkfifo "$tmp/out.fifo"
timeout 60 "$bin" -q -j 2 --show-content -r "$big" >"$tmp/out.fifo" 2>"$tmp/kill2.err" &
pid=$!
exec 3<"$tmp/out.fifo"
jobs_kill "killed worker reading the file" "$pid" "$tmp/kill2.err" 3
exec 3<&-

# Standard input and gzip files are analysed by one process under -j:
# while the run reads a pipe that stays open, it has no child.
for kind in plain gzip; do
    if [ "$kind" = gzip ]; then src="$tmp/big.pcap.gz"; else src="$big"; fi
    { cat "$src"; sleep 2; } | timeout 60 "$bin" -q -j 2 -r - >/dev/null 2>"$tmp/one.err" &
    pid=$!
    sleep 1
    run=$(pgrep -P "$pid" | head -1)
    kids=$([ -n "$run" ] && pgrep -P "$run" | wc -l)
    wait "$pid"
    rc=$?
    if [ -n "$run" ] && [ "$kids" -eq 0 ] && [ "$rc" -le 1 ]; then
        echo "PASS: jobs/stdin $kind: one process, exit $rc"
    else
        echo "FAIL: jobs/stdin $kind: process '${run}' had ${kids:-?} children, exit $rc: $(head -c 200 "$tmp/one.err")"
    fi
done
