#!/usr/bin/env bash
# tests/run.sh - runs every test of smtpscope and counts them.
#
# Test programs (build/san/tests/*, from tests/unit/*.c) and test scripts
# (tests/*.sh, except this one and tests/lib.sh, the preamble they
# source) print one line per check:
#   PASS: name | FAIL: name: reason | SKIP: name: reason
# A program or script that exits non-zero without printing FAIL counts as
# one failure. The last line is "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
export SMTPSCOPE=${SMTPSCOPE:-$PWD/build/san/smtpscope}
export SMTPSCOPE_REL=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CORPUS=${CORPUS:-$PWD/../shared/corpus}
pass=0 fail=0 skip=0
log=$(mktemp)
run_one() {
    local name=$1; shift
    "$@" >"$log" 2>&1
    local rc=$?
    local p f s
    p=$(grep -c '^PASS: ' "$log"); f=$(grep -c '^FAIL: ' "$log"); s=$(grep -c '^SKIP: ' "$log")
    grep -E '^(FAIL|SKIP): ' "$log" | sed "s|^|  [$name] |"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1; echo "  [$name] FAIL: exited $rc"; tail -n 20 "$log" | sed 's/^/    /'
    elif [ "$f" -gt 0 ]; then
        grep -v -E '^(PASS|SKIP): ' "$log" | head -n 40 | sed 's/^/    /'
    fi
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    printf '%-40s %4d passed %3d failed %3d skipped\n' "$name" "$p" "$f" "$s"
}
only=${1:-}
for t in build/san/tests/*; do
    [ -x "$t" ] || continue
    [ -n "$only" ] && [[ "$t" != *"$only"* ]] && continue
    run_one "$(basename "$t")" "$t"
done
for t in tests/*.sh; do
    [ "$t" = tests/run.sh ] || [ "$t" = tests/lib.sh ] && continue
    [ -n "$only" ] && [[ "$t" != *"$only"* ]] && continue
    run_one "$(basename "$t")" bash "$t"
done
rm -f "$log"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
