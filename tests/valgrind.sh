#!/usr/bin/env bash
# tests/valgrind.sh - valgrind memcheck on the release build ($SMTPSCOPE_REL)
# over a few samples and two hostile captures (tests/limits/genpcap.py), in
# text, JSON and evidence mode. A run fails on any memcheck error or leak
# (valgrind exits 99 then; smtpscope itself exits 0 or 1, 1 = findings).
# SKIPs when valgrind is not installed.
set -u
cd "$(dirname "$0")/.."
bin=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
if ! command -v valgrind >/dev/null; then
    echo "SKIP: valgrind: valgrind is not installed"
    exit 0
fi
if [ ! -x "$bin" ]; then
    echo "FAIL: valgrind: no release binary at $bin (make)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

inputs=()
for f in $(ls samples/*.pcap 2>/dev/null | head -n 4); do inputs+=("$f"); done
for c in escapes overlap; do
    python3 tests/limits/genpcap.py "$c" "$tmp/$c.pcap" 2>/dev/null && inputs+=("$tmp/$c.pcap")
done
[ ${#inputs[@]} -gt 0 ] || { echo "SKIP: valgrind: no input"; exit 0; }

vg() {
    local name=$1; shift
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible \
        "$bin" "$@" >/dev/null 2>"$tmp/vg"
    local rc=$?
    if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then
        echo "PASS: valgrind/$name"
    else
        echo "FAIL: valgrind/$name: exit $rc"
        grep -E '^==[0-9]+== ' "$tmp/vg" | head -n 25
    fi
}

for f in "${inputs[@]}"; do
    vg "$(basename "$f")/text" -q -r "$f"
done
vg "$(basename "${inputs[0]}")/json" -q --json --show-content -r "${inputs[0]}"
mkdir -p "$tmp/ev"
vg "$(basename "${inputs[-1]}")/evidence" -q --evidence "$tmp/ev" --redact -r "${inputs[-1]}"
