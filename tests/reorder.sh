#!/usr/bin/env bash
# tests/reorder.sh - sessions made by tests/smtpcap.py, analysed in wire
# order and as a span port may show them (ACKs ahead of the data they
# acknowledge, neighbours swapped): the same analysis (tests/reorder.py
# says which facts each session guards: a FIN's ACK number, a hole every
# byte of which is in the capture, a first copy beyond the MSS).
#
# Needs python3; SKIP without it.
set -u
cd "$(dirname "$0")/.."
BIN=${SMTPSCOPE:-$PWD/build/san/smtpscope}
[ -x "$BIN" ] || { echo "SKIP: reorder: $BIN not built"; exit 0; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: reorder: python3 not installed"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 tests/reorder.py "$BIN" "$tmp"
