#!/usr/bin/env bash
# tests/fuzz_regress.sh - replays every input under tests/fuzz/regress/TARGET/
# (crashes the fuzzers found, and hand-made hostile inputs) and the fuzz
# seeds through the fuzz targets built with gcc ASan+UBSan
# (tests/fuzz/replay.c). One PASS/FAIL line per input: an input fails when
# the target aborts (sanitizer report, oracle violation) or exits non-zero.
set -u
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! make -s -f tests/fuzz/Makefile replay >"$tmp/build.log" 2>&1; then
    echo "FAIL: fuzz_regress: replay programs do not build"
    tail -n 30 "$tmp/build.log"
    exit 1
fi

# The seeds, as the fuzzers start from them (no shared corpus needed).
mkdir -p "$tmp/seed"
CORPUS=/nonexistent tests/fuzz/seed.sh "$tmp/seed" >/dev/null 2>&1 ||
    echo "FAIL: fuzz_regress: seed corpora cannot be built"

for t in fuzz_safeprint fuzz_session fuzz_pcap fuzz_tls; do
    prog=build/san/fuzz/replay-$t
    for f in tests/fuzz/regress/$t/* "$tmp/seed/$t"/*; do
        [ -f "$f" ] || continue
        case $f in *.md|*.txt) continue ;; esac
        name=$t/$(basename "$f")
        if "$prog" "$f" >"$tmp/out" 2>&1; then
            echo "PASS: $name"
        else
            echo "FAIL: $name: replay exited $?"
            grep -E 'ERROR: |SUMMARY: |runtime error|fuzz_[a-z]*: |#[0-9] ' "$tmp/out" | head -n 12 | sed 's/^/    /'
        fi
    done
done
