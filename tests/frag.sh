#!/usr/bin/env bash
# tests/frag.sh - IP fragments of TCP (src/reasm/defrag.c): IPv4 and IPv6
# fragments in order, reversed, duplicated, overlapping, with URG, one
# missing, one late, -j 2, the evidence pcapng, and a flood of 200 000
# first fragments (memory bounded, every one counted, the live session
# intact). Captures: made by tests/frag.py in a temporary directory;
# tshark confirms the SMTP stream bytes when installed.
set -u
cd "$(dirname "$0")/.."
bin=${SMTPSCOPE:-$PWD/build/san/smtpscope}
rel=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
[ -x "$bin" ] || { echo "SKIP: frag: $bin not built"; exit 0; }
[ -x "$rel" ] || { echo "SKIP: frag: $rel not built"; exit 0; }
command -v python3 >/dev/null || { echo "SKIP: frag: python3 missing"; exit 0; }
command -v tshark >/dev/null || echo "SKIP: frag: tshark missing, stream bytes not compared"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} python3 tests/frag.py "$bin" "$rel" "$tmp"
