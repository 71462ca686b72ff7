#!/usr/bin/env bash
# tests/evidence_pipe.sh - --evidence with a capture that cannot be read
# again (-r FIFO, -r <(cmd)): the analysis reads the whole capture, no
# hash or pcap is attempted (that would reopen the pipe, eat the rest of
# the capture, then wait forever), and each .txt says why.
set -u
cd "$(dirname "$0")/.."
bin=${SMTPSCOPE:-$PWD/build/san/smtpscope}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok()  { echo "PASS: evidence_pipe: $1"; }
bad() { echo "FAIL: evidence_pipe: $1"; }
sample=samples/clean-multi-transaction.pcap
want=$("$bin" -q --json -r "$sample" 2>/dev/null | grep -c '"type":"session"')

# The capture three times in a row through a FIFO: a reopen would eat
# what follows the first copy.
mkfifo "$tmp/fifo"
(cat "$sample"; tail -c +25 "$sample"; tail -c +25 "$sample") >"$tmp/fifo" &
mkdir "$tmp/ev"
timeout 60 "$bin" -q --json --fail-on info --evidence "$tmp/ev" -r "$tmp/fifo" >"$tmp/out" 2>"$tmp/err"
rc=$?
got=$(grep -c '"type":"session"' "$tmp/out")
if [ "$rc" -eq 124 ]; then
    bad "FIFO: the run did not end (the cut waits on the pipe)"
elif [ "$got" -ne $((3 * want)) ]; then
    bad "FIFO: $got sessions reported, expected $((3 * want)); $(head -c 200 "$tmp/err")"
else
    ok "FIFO: every session analysed, the run ends"
fi
if ls "$tmp"/ev/*.txt >/dev/null 2>&1 && ! ls "$tmp"/ev/*.pcap >/dev/null 2>&1 &&
   grep -q "not a regular file" "$tmp"/ev/*.txt; then
    ok "FIFO: reports say why no pcap, none attempted"
else
    bad "FIFO: evidence: $(ls "$tmp/ev" | head -5 | tr '\n' ' ')"
fi
mkdir "$tmp/ev2"
timeout 60 "$bin" -q --fail-on info --evidence "$tmp/ev2" -r <(cat "$sample") >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 124 ] && [ "$rc" -le 1 ] && grep -q "not a regular file" "$tmp"/ev2/*.txt 2>/dev/null; then
    ok "-r <(cmd): ends, reports say why no pcap"
else
    bad "-r <(cmd): exit $rc; $(head -c 200 "$tmp/err")"
fi
exit 0
