#!/usr/bin/env bash
# tests/hygiene.sh - no wire byte reaches a reader raw.
#
# Captures with every byte value 0..255 and with terminal escape sequences
# (ESC [ 2J, OSC 52 clipboard, OSC 0 title BEL, CSI as U+009B, DCS) and
# hidden code points (U+202E, U+2066, U+200B) in commands, replies,
# addresses and content, plus overlapping fragments and segments
# (tests/limits/genpcap.py), go through the sanitizer build ($SMTPSCOPE)
# in every output: text report, --show-content, --ladder, --json, and the
# evidence .txt files. tests/limits/outcheck.py checks each output: no raw
# control byte or hidden code point in text, every JSON line parses, and
# the escaped form of the hostile bytes is present (not silently dropped).
set -u
cd "$(dirname "$0")/.."
bin=${SMTPSCOPE:-$PWD/build/san/smtpscope}
gen=tests/limits/genpcap.py
check=tests/limits/outcheck.py
if ! command -v python3 >/dev/null; then
    echo "SKIP: hygiene: python3 is not installed"
    exit 0
fi
if [ ! -x "$bin" ]; then
    echo "FAIL: hygiene: no sanitizer binary at $bin (make tests-build)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# hygiene_run CASE NAME KIND MUST... -- ARGS: runs, then checks stdout.
hygiene_run() {
    local case=$1 name=$2 kind=$3; shift 3
    local must=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do must+=("$1"); shift; done
    shift
    "$bin" "$@" -r "$tmp/$case.pcap" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        echo "FAIL: hygiene/$case/$name: exit $rc: $(head -c 400 "$tmp/err")"
        return
    fi
    if [ -s "$tmp/err" ] && grep -qE 'runtime error|Sanitizer' "$tmp/err"; then
        echo "FAIL: hygiene/$case/$name: sanitizer report: $(grep -m1 -E 'runtime error|ERROR' "$tmp/err")"
        return
    fi
    if msg=$(python3 "$check" "$kind" "$tmp/out" "${must[@]}"); then
        echo "PASS: hygiene/$case/$name"
    else
        echo "FAIL: hygiene/$case/$name: $msg"
    fi
}

for case in allbytes escapes overlap; do
    python3 "$gen" "$case" "$tmp/$case.pcap" 2>/dev/null ||
        { echo "FAIL: hygiene/$case: generator failed"; continue; }
    must=()
    case $case in
        allbytes) must=('\\x1b' '\\x7f' '\\x00') ;;
        escapes)  must=('\\x1b[2J' '\\x1b]52;c;' '\\xe2\\x80\\xae') ;;
    esac
    hygiene_run "$case" text text "${must[@]}" --
    hygiene_run "$case" show-content text "${must[@]}" -- --show-content
    hygiene_run "$case" ladder text "${must[@]}" -- --ladder --show-content
    hygiene_run "$case" json jsonl -- --json --show-content
    rm -rf "$tmp/ev"; mkdir "$tmp/ev"
    "$bin" -q --evidence "$tmp/ev" -r "$tmp/$case.pcap" >/dev/null 2>"$tmp/err"
    rc=$?
    n=0
    for f in "$tmp"/ev/*.txt; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        if msg=$(python3 "$check" text "$f"); then
            echo "PASS: hygiene/$case/evidence/$(basename "$f")"
        else
            echo "FAIL: hygiene/$case/evidence/$(basename "$f"): $msg"
        fi
    done
    if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        echo "FAIL: hygiene/$case/evidence: exit $rc: $(head -c 300 "$tmp/err")"
    elif [ $n -eq 0 ]; then
        echo "FAIL: hygiene/$case/evidence: no session-*.txt written"
    fi
done

# A capture file name is the operator's text, not the wire's, but may hold
# any byte too (a file someone else named): on standard error it is escaped.
bad="$tmp/bad$(printf '\033')[2J$(printf '\342\200\256')name.pcap"
printf 'not a capture' >"$bad"
"$bin" -r "$bad" >/dev/null 2>"$tmp/name.err"
if grep -q "$(printf '\033')" "$tmp/name.err" || grep -q "$(printf '\342\200\256')" "$tmp/name.err"; then
    echo "FAIL: hygiene/file-name: raw escape or bidi control on standard error"
elif ! grep -qF 'bad\x1b[2J\xe2\x80\xaename.pcap' "$tmp/name.err"; then
    echo "FAIL: hygiene/file-name: the escaped name is missing: $(head -c 200 "$tmp/name.err")"
else
    echo "PASS: hygiene/file-name: escaped on standard error"
fi

# Every other message naming a file the operator gave: a capture, a key
# log and an evidence directory named with OSC 0 (title) ended by BEL and
# CSI 2J; the evidence run is cut by a file-size limit, so its files fail
# one by one (each said, naming the file). No raw ESC or BEL on standard
# error, and the names appear escaped.
osc="$(printf '\033')]0;x$(printf '\a')$(printf '\033')[2J"
cp samples/auth-plain-plaintext.pcap "$tmp/cap${osc}.pcap"
printf '# no keys\n' >"$tmp/keys${osc}.log"
for cut in none size; do
    mkdir -p "$tmp/ev-$cut"
    sh -c 'trap "" XFSZ; [ "$4" = size ] && ulimit -f 1; "$0" --fail-on info --tls-keylog "$2" --evidence "$3" -r "$1" >/dev/null' \
        "$bin" "$tmp/cap${osc}.pcap" "$tmp/keys${osc}.log" "$tmp/ev-$cut/dir${osc}" "$cut" \
        2>"$tmp/names.err"
    if grep -q "$(printf '\033')\|$(printf '\a')" "$tmp/names.err"; then
        echo "FAIL: hygiene/file-names/$cut: raw ESC or BEL on standard error: $(head -c 300 "$tmp/names.err" | cat -v)"
    elif ! grep -qF 'dir\x1b]0;x\x07\x1b[2J' "$tmp/names.err"; then
        echo "FAIL: hygiene/file-names/$cut: the evidence directory's escaped name is missing: $(head -c 300 "$tmp/names.err")"
    else
        echo "PASS: hygiene/file-names/$cut: capture, key log and evidence names escaped on standard error"
    fi
done
