#!/usr/bin/env bash
# tests/reorder.sh - sessions made by tests/smtpcap.py, analysed in wire
# order and as a span port may show them (ACKs ahead of the data they
# acknowledge, neighbours swapped): the same analysis (tests/reorder.py
# says which facts each session guards: a FIN's ACK number, a hole every
# byte of which is in the capture, a first copy beyond the MSS).
#
# Needs python3; SKIP without it.
cd "$(dirname "$0")/.." && . tests/lib.sh reorder python3
python3 tests/reorder.py "$bin" "$tmp"
