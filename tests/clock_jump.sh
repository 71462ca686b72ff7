#!/usr/bin/env bash
# tests/clock_jump.sh - idle expiry goes by a clock that one stray
# timestamp does not move (src/reasm/clock.c): a packet of another flow
# stamped a year ahead (or behind) in the middle of 3 concurrent sessions
# closes none of them; a capture whose clock really jumps still closes
# the session left open before the jump as idle, and analyses the
# sessions after it whole. -j 2 writes what one process writes.
# Captures: tests/clock_jump/gen.py, in a temporary directory.
cd "$(dirname "$0")/.." && . tests/lib.sh clock_jump
none() { ! grep -q "$@"; }

python3 tests/clock_jump/gen.py "$tmp/stray.pcap" stray >/dev/null
"$bin" -v -r "$tmp/stray.pcap" >"$tmp/out" 2>"$tmp/err"
check "stray: 3 sessions" grep -q '^totals: .* 3 sessions (' "$tmp/out"
check "stray: each whole, to its QUIT" test "$(grep -c 'C> QUIT' "$tmp/out")" = 3
check "stray: none closed as idle" none 'went silent past --idle-timeout' "$tmp/out"
check "stray: no capture finding" none -E 'capture-(gap|truncated|midstream)' "$tmp/out"
"$bin" --json -r "$tmp/stray.pcap" >"$tmp/json" 2>/dev/null
check "stray, JSON: every session closed by FIN after QUIT" \
    test "$(grep -c '"close":{"by":"[a-z]*","how":"fin","after":"quit"}' "$tmp/json")" = 3
"$bin" -j 2 --json -r "$tmp/stray.pcap" 2>/dev/null | sed 's/"run":"[^"]*"//; s/"uid":"[^"]*"//' >"$tmp/j2"
sed 's/"run":"[^"]*"//; s/"uid":"[^"]*"//' "$tmp/json" >"$tmp/j1"
check "stray, -j 2: the same as one process" cmp -s "$tmp/j1" "$tmp/j2"

python3 tests/clock_jump/gen.py "$tmp/jump.pcap" jump >/dev/null
"$bin" -v -r "$tmp/jump.pcap" >"$tmp/out" 2>"$tmp/err"
check "jump: 7 sessions" grep -q '^totals: .* 7 sessions (' "$tmp/out"
check "jump: 6 whole, to their QUIT" test "$(grep -c 'C> QUIT' "$tmp/out")" = 6
check "jump: the one left open closed as idle" \
    test "$(grep -c 'went silent past --idle-timeout' "$tmp/out")" = 1
check "jump: no mid-stream session" none 'capture-midstream' "$tmp/out"
"$bin" --json -r "$tmp/jump.pcap" 2>/dev/null | sed 's/"run":"[^"]*"//; s/"uid":"[^"]*"//' >"$tmp/j1"
"$bin" -j 2 --json -r "$tmp/jump.pcap" 2>/dev/null | sed 's/"run":"[^"]*"//; s/"uid":"[^"]*"//' >"$tmp/j2"
check "jump, -j 2: the same as one process" cmp -s "$tmp/j1" "$tmp/j2"
