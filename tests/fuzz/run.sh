#!/usr/bin/env bash
# tests/fuzz/run.sh - runs each fuzz target for FUZZ_SECONDS, one after the
# other (the machine is small), on its corpus under DIR/corpus/TARGET.
# Logs go to DIR/logs/TARGET.log, crash inputs to DIR/artifacts/TARGET/.
# Prints one line per target: executions, seconds, and whether it crashed;
# exits 1 when any target crashed. ASan's quarantine is cut to 16 MB: the
# outputs allocate and free large blocks per input, and the default 256 MB
# quarantine made every input pay page faults (use-after-free is still
# caught for the 16 MB most recently freed).
#
# FUZZ_MODE=campaign runs the fast build (build/fuzz-fast/TARGET: UBSan, no
# ASan) instead, with shorter inputs, then replays every input of the corpus
# through the ASan build; a replay failure counts as a crash. Each run adds
# a line to DIR/logs/tally (date, target, mode, executions, seconds), so
# the executions of several runs on one corpus can be added up.
# Usage: FUZZ_SECONDS=30 [FUZZ_MODE=campaign] tests/fuzz/run.sh DIR TARGET...
set -u
dir=${1:?usage: run.sh DIR TARGET...}; shift
secs=${FUZZ_SECONDS:-30}
mode=${FUZZ_MODE:-asan}
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0

# Longest input per target and mode. In a campaign the pcap target keeps
# to 8 KiB (a few dozen packets: whole short sessions) and the session
# target to 4 KiB: the cost of an execution grows with its bytes.
maxlen() {
    case $1:$mode in
        fuzz_safeprint:*)       echo 4096 ;;
        fuzz_session:campaign)  echo 4096 ;;
        fuzz_session:*)         echo 8192 ;;
        fuzz_pcap:campaign)     echo 8192 ;;
        fuzz_pcap:*)            echo 262144 ;;
        fuzz_tls:*)             echo 8192 ;;
        *) return 1 ;;
    esac
}

# Runs a libFuzzer binary on TARGET's corpus, output to LOG; returns its
# exit status. Usage: libfuzzer BIN TARGET LOG FLAG...
libfuzzer() {
    local bin=$1 t=$2 log=$3
    shift 3
    "$bin" -max_len="$(maxlen "$t")" -timeout=20 -rss_limit_mb=2048 "$@" \
        -artifact_prefix="$dir/artifacts/$t/" "$dir/corpus/$t" >"$log" 2>&1 &
    local pid=$! rc
    wait $pid
    rc=$?
    # the targets' scratch files, named after their process
    rm -rf "/dev/shm/smtpscope-fuzz.$pid.pcap" "/dev/shm/smtpscope-fuzz-ev.$pid"
    return $rc
}

# Fuzzes for FUZZ_SECONDS.
fuzz_once() {
    local dict=()
    [ -f "tests/fuzz/$2.dict" ] && dict=(-dict="tests/fuzz/$2.dict")
    libfuzzer "$1" "$2" "$3" -max_total_time="$secs" -print_final_stats=1 "${dict[@]}"
}

# Replays the whole corpus once through the ASan build.
replay_corpus() {
    libfuzzer "$dir/$1" "$1" "$2" -runs=0
}

for t in "$@"; do
    maxlen "$t" >/dev/null || { echo "run.sh: unknown target $t" >&2; exit 2; }
    mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t" "$dir/logs"
    log=$dir/logs/$t.log
    bin=$dir/$t
    [ "$mode" = campaign ] && bin=$dir/../fuzz-fast/$t
    start=$SECONDS
    fuzz_once "$bin" "$t" "$log"
    rc=$?
    ttime=$((SECONDS - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    printf '%s %s %s %s %s\n' "$(date -u +%FT%TZ)" "$t" "$mode" "${execs:-0}" "${ttime:-$secs}" \
        >>"$dir/logs/tally"
    if [ $rc -eq 72 ]; then           # libFuzzer stopped by SIGINT: no finding
        echo "$t: ${execs:-?} executions in $ttime seconds ($mode), interrupted, no crash"
    elif [ $rc -ne 0 ]; then
        status=1
        echo "$t: CRASH after ${execs:-?} executions (exit $rc); see $log"
        grep -E 'ERROR: |SUMMARY: |runtime error|fuzz_[a-z]*: ' "$log" | head -n 5 | sed 's/^/    /'
        ls "$dir/artifacts/$t" | tail -n 3 | sed "s|^|    $dir/artifacts/$t/|"
        continue
    else
        echo "$t: ${execs:-?} executions in $ttime seconds ($mode), no crash, corpus $(ls "$dir/corpus/$t" | wc -l) inputs"
    fi
    if [ "$mode" = campaign ]; then
        if replay_corpus "$t" "$log.replay"; then
            echo "$t: corpus replayed under ASan+UBSan: $(ls "$dir/corpus/$t" | wc -l) inputs, clean"
        else
            status=1
            echo "$t: corpus replay under ASan+UBSan FAILED; see $log.replay"
            grep -E 'ERROR: |SUMMARY: |runtime error|fuzz_[a-z]*: ' "$log.replay" | head -n 5 | sed 's/^/    /'
        fi
    fi
done
exit $status
