#!/usr/bin/env bash
# tests/auth_gaps.sh - AUTH credentials across capture gaps and mid-stream
# starts: a marker password planted in every position a gap can leave it
# (tests/auth_gaps.py) appears in no output: text, ladder, --show-content,
# JSON, evidence .txt, and the evidence pcap under --redact.
# Needs python3; SKIP without it.
set -u
cd "$(dirname "$0")/.."
SMTPSCOPE=${SMTPSCOPE:-$PWD/build/san/smtpscope}
[ -x "$SMTPSCOPE" ] || { echo "SKIP: auth-gaps: $SMTPSCOPE not built"; exit 0; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: auth-gaps: python3 not installed"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 tests/auth_gaps.py "$SMTPSCOPE" "$tmp"
