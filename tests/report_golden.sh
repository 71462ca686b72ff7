#!/usr/bin/env bash
# tests/report_golden.sh - the report a person reads, pinned: the text
# report and the ladder of the seed samples must equal
# tests/golden/report/<sample>.txt and <sample>.ladder.txt byte for byte
# (no colour: the output is not a terminal). The re-synchronisation samples
# (resync-*.pcap) too, with --show-content: each command the server read in
# the content is shown once, and the transactions are those it saw.
#
# The findings in these files are checked separately against hand-written
# expectations (tests/golden.sh); these files pin the layout: columns,
# escaping, finding placement under the line that completes it, the
# transaction summary and the totals. After an intended change of the
# report, regenerate them with  tests/report_golden.sh --update  and read
# the diff before committing it.
set -u
cd "$(dirname "$0")/.."
BIN=${SMTPSCOPE:-$PWD/build/san/smtpscope}
dir=tests/golden/report
update=${1:-}
[ -x "$BIN" ] || { echo "FAIL: report-golden: no binary at $BIN"; exit 1; }
mkdir -p "$dir"
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
for f in samples/seed00*.pcap samples/resync-*.pcap; do
    name=$(basename "$f" .pcap)
    for mode in text ladder; do
        out=$dir/$name.txt; args=()
        case $name in resync-*) args=(--show-content) ;; esac
        [ "$mode" = ladder ] && { out=$dir/$name.ladder.txt; args+=(--ladder); }
        NO_COLOR=1 "$BIN" -q "${args[@]}" -r "$f" > "$tmp" 2>/dev/null
        if [ "$update" = --update ]; then
            cp "$tmp" "$out"; echo "PASS: report-golden $name $mode (updated)"; continue
        fi
        if [ ! -f "$out" ]; then
            echo "FAIL: report-golden $name $mode: no golden file $out (run with --update)"
        elif cmp -s "$tmp" "$out"; then
            echo "PASS: report-golden $name $mode"
        else
            echo "FAIL: report-golden $name $mode differs from $out:"
            diff "$out" "$tmp" | head -20
        fi
    done
done
