#!/usr/bin/env bash
# tests/ipv6_ext.sh - IPv6 extension header chains: a session whose packets
# carry 9 or 12 extension headers (hop-by-hop, destination options,
# routing) is analysed like any other; beyond the 32 headers followed, the
# packets are not analysed and the totals say how many (text and JSON
# summary, with and without -j), never dropped in silence.
# Captures: tests/ipv6_ext/gen.py, in a temporary directory.
set -u
cd "$(dirname "$0")/.."
bin=${SMTPSCOPE:-$PWD/build/san/smtpscope}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "PASS: ipv6_ext: $1"; }
bad() { echo "FAIL: ipv6_ext: $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
json_ok() { python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$1"; }

for n in 9 12 32; do
    python3 tests/ipv6_ext/gen.py "$tmp/v6.pcap" "$n" >/dev/null
    "$bin" -q -r "$tmp/v6.pcap" >"$tmp/out" 2>"$tmp/err"
    check "$n headers: the session is analysed" grep -q '^totals: .* 1 session (' "$tmp/out"
    check "$n headers: its transcript ends with QUIT" grep -q 'C> QUIT' "$tmp/out"
    check "$n headers: nothing dropped" sh -c "! grep -q 'IPv6 packet' '$tmp/out'"
    "$bin" --json -r "$tmp/v6.pcap" >"$tmp/json" 2>/dev/null
    check "$n headers: no ipv6_chain_dropped in JSON" sh -c "! grep -q ipv6_chain_dropped '$tmp/json'"
done

for n in 33 40; do
    frames=$(python3 tests/ipv6_ext/gen.py "$tmp/v6.pcap" "$n")
    "$bin" -q -r "$tmp/v6.pcap" >"$tmp/out" 2>"$tmp/err"
    check "$n headers: the totals count the $frames packets not analysed" \
        grep -q "^dropped: $frames IPv6 packets with more than 32 extension headers (not analysed)" "$tmp/out"
    "$bin" --json -r "$tmp/v6.pcap" >"$tmp/json" 2>/dev/null
    check "$n headers: JSON valid" json_ok "$tmp/json"
    check "$n headers: JSON summary ipv6_chain_dropped" \
        grep -q '"type":"summary",.*"ipv6_chain_dropped":'"$frames"'[,}]' "$tmp/json"
    "$bin" -j 2 --json -r "$tmp/v6.pcap" >"$tmp/json" 2>/dev/null
    check "$n headers, -j 2: counted once" \
        grep -q '"type":"summary",.*"ipv6_chain_dropped":'"$frames"'[,}]' "$tmp/json"
done
