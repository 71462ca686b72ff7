#!/usr/bin/env bash
# tests/fuzz_short.sh - the fuzz targets, built with clang's libFuzzer
# (tests/fuzz/Makefile), each run for a short bounded time on a fresh seed
# corpus, on every `make check`. One PASS/FAIL line per target: a target
# fails when it crashes, a sanitizer reports, or the output oracle aborts;
# the crash input is kept under build/fuzz/artifacts/TARGET/ and the log
# is shown. Long runs are `make fuzz` and the campaign (docs/hardening.md).
# SKIPs when clang or its fuzzer runtime is not installed
# (scripts/setup.sh installs both).
# FUZZ_SHORT_SECONDS (default 15) bounds each target.
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SHORT_SECONDS:-15}
if ! command -v clang >/dev/null; then
    echo "SKIP: fuzz_short: clang is not installed"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { (void)d; (void)n; return 0; }' |
        clang -x c -fsanitize=fuzzer -o "$tmp/probe" - >/dev/null 2>&1; then
    echo "SKIP: fuzz_short: clang has no libFuzzer runtime (libclang-rt-14-dev)"
    exit 0
fi
if ! make -s -j"$(nproc)" -f tests/fuzz/Makefile all >"$tmp/build.log" 2>&1; then
    echo "FAIL: fuzz_short: the fuzz targets do not build"
    tail -n 30 "$tmp/build.log"
    exit 1
fi
mkdir -p "$tmp/fuzz"
CORPUS=${CORPUS:-../shared/corpus} tests/fuzz/seed.sh "$tmp/fuzz/corpus" >/dev/null 2>&1 ||
    echo "FAIL: fuzz_short: seed corpora cannot be built"
for t in fuzz_safeprint fuzz_session fuzz_pcap fuzz_tls; do
    ln -s "$PWD/build/fuzz/$t" "$tmp/fuzz/$t"
    if FUZZ_SECONDS=$secs tests/fuzz/run.sh "$tmp/fuzz" "$t" >"$tmp/$t.out" 2>&1; then
        echo "PASS: fuzz_short: $(cat "$tmp/$t.out")"
    else
        echo "FAIL: fuzz_short: $t"
        sed 's/^/    /' "$tmp/$t.out"
        mkdir -p "build/fuzz/artifacts/$t"
        cp "$tmp/fuzz/artifacts/$t"/* "build/fuzz/artifacts/$t/" 2>/dev/null
        tail -n 40 "$tmp/fuzz/logs/$t.log" | sed 's/^/    /'
    fi
done
