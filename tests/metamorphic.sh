#!/usr/bin/env bash
# tests/metamorphic.sh - transformed captures, the same analysis.
#
# Every sample (samples/*.pcap*) and every capture of the corpus
# ($CORPUS, skipped when absent) is rewritten by tests/metamorphic.py in
# ways that must not change what a correct analyser concludes: cut into 2,
# 3 and 9 files (and given in shuffled order), pcapng, VLAN, Linux SLL and
# SLL2, raw IP, zero TCP checksums, IPv4 mapped to IPv6, ACKs moved ahead of
# the data they acknowledge (one segment, cumulative), exact
# retransmissions, adjacent data segments swapped, an unrelated HTTP flow
# and an SMTP flow from 240.0.0.0/4 interleaved. Each transform is checked
# against tshark first (on a deterministic sample of the captures, see
# metamorphic.py; META_TSHARK_EVERY=1 checks all), then per session the
# findings, transactions, close facts and byte counts must be the
# original's. Ends with the table transform x same/different.
# META_CAPTURES=REGEX keeps only the captures whose path matches (grep -E),
# META_TRANSFORMS=a,b only those transforms: to look at one family.
#
# Needs python3, editcap, mergecap and tshark; SKIP without them.
set -u
cd "$(dirname "$0")/.."
BIN=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
CORPUS=${CORPUS:-$PWD/../shared/corpus}
[ -x "$BIN" ] || { echo "SKIP: metamorphic: $BIN not built"; exit 0; }
for t in python3 editcap mergecap tshark; do
    command -v $t >/dev/null 2>&1 || { echo "SKIP: metamorphic: $t not installed"; exit 0; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
    find samples -maxdepth 1 -type f \( -name '*.pcap' -o -name '*.pcap.gz' -o -name '*.pcapng' \)
    if [ -d "$CORPUS" ]; then
        find "$CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \)
    else
        echo "SKIP: metamorphic: no corpus at $CORPUS" >&2
    fi
} 2>&1 >"$tmp/list" | cat
# The rotated chain's pieces are one capture; the pieces alone are not.
grep -v 'rotated-chain.pcap[0-9]' "$tmp/list" | grep -E -- "${META_CAPTURES:-.}" |
    LC_ALL=C sort >"$tmp/captures"
xargs -d '\n' python3 tests/metamorphic.py "$BIN" "$tmp" <"$tmp/captures"
