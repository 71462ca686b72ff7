#!/usr/bin/env bash
# tests/sanitize_corpus.sh - the sanitizer build ($SMTPSCOPE, ASan+UBSan,
# leak detection on) over every capture in samples/ and in the shared
# corpus ($CORPUS, skipped when absent), in text and JSON mode. A file
# passes when smtpscope exits 0 or 1 and the sanitizers report nothing.
set -u
cd "$(dirname "$0")/.."
bin=${SMTPSCOPE:-$PWD/build/san/smtpscope}
corpus=${CORPUS:-$PWD/../shared/corpus}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ ! -x "$bin" ]; then
    echo "FAIL: sanitize_corpus: no sanitizer binary at $bin (make tests-build)"
    exit 1
fi
err=$(mktemp)
trap 'rm -f "$err"' EXIT

san_run() {
    local name=$1; shift
    "$bin" "$@" >/dev/null 2>"$err"
    local rc=$?
    if grep -qE 'runtime error|Sanitizer|LeakSanitizer' "$err"; then
        echo "FAIL: sanitize/$name: $(grep -m1 -E 'runtime error|SUMMARY' "$err")"
    elif [[ "$name" == *unsupported-linktype* ]]; then
        # Made to be refused: exit 2 with one line naming the link type.
        if [ $rc -eq 2 ] && [ "$(wc -l < "$err")" -eq 1 ] && grep -q 'link type' "$err"; then
            echo "PASS: sanitize/$name (refused: $(cat "$err"))"
        else
            echo "FAIL: sanitize/$name: want exit 2 and one line, got $rc: $(head -c 300 "$err")"
        fi
    elif [ $rc -eq 4 ] && [ "$(wc -l < "$err")" -eq 1 ] && grep -q 'analysed up to frame' "$err"; then
        # a damaged capture: analysed up to the damage, one line saying so
        echo "PASS: sanitize/$name (damaged: $(head -c 200 "$err"))"
    elif [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        echo "FAIL: sanitize/$name: exit $rc: $(head -c 300 "$err")"
    else
        echo "PASS: sanitize/$name"
    fi
}

n=0
for f in samples/*.pcap samples/*.pcapng; do
    [ -f "$f" ] || continue
    san_run "$f/text" -q -r "$f"
    san_run "$f/json" -q --json -r "$f"
    n=$((n + 1))
done
if [ -d "$corpus" ]; then
    while IFS= read -r -d '' f; do
        rel=corpus/${f#"$corpus"/}
        san_run "$rel/text" -q --any-port -r "$f"
        san_run "$rel/json" -q --json -r "$f"
        n=$((n + 1))
    done < <(find "$corpus" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' \) -print0 | sort -z)
else
    echo "SKIP: sanitize_corpus: no shared corpus at $corpus"
fi
[ $n -gt 0 ] || echo "SKIP: sanitize_corpus: no capture to analyse"
