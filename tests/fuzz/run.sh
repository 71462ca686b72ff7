#!/usr/bin/env bash
# tests/fuzz/run.sh - runs each fuzz target for FUZZ_SECONDS, one after the
# other (the machine is small), on its corpus under DIR/corpus/TARGET.
# Logs go to DIR/logs/TARGET.log, crash inputs to DIR/artifacts/TARGET/.
# Prints one line per target: executions, seconds, and whether it crashed;
# exits 1 when any target crashed. ASan's quarantine is cut to 16 MB: the
# outputs allocate and free large blocks per input, and the default 256 MB
# quarantine made every input pay page faults (use-after-free is still
# caught for the 16 MB most recently freed).
# Usage: FUZZ_SECONDS=30 tests/fuzz/run.sh build/fuzz TARGET...
set -u
dir=${1:?usage: run.sh DIR TARGET...}; shift
secs=${FUZZ_SECONDS:-30}
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16}
status=0
for t in "$@"; do
    case $t in
        fuzz_safeprint) maxlen=4096 ;;
        fuzz_session)   maxlen=8192 ;;
        fuzz_pcap)      maxlen=262144 ;;
        *) echo "run.sh: unknown target $t" >&2; exit 2 ;;
    esac
    mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t" "$dir/logs"
    dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    log=$dir/logs/$t.log
    "$dir/$t" -max_total_time="$secs" -max_len="$maxlen" -timeout=20 \
        -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$dir/artifacts/$t/" "$dir/corpus/$t" >"$log" 2>&1 &
    pid=$!
    wait $pid
    rc=$?
    # the targets' scratch files, named after their process
    rm -rf "/dev/shm/smtpscope-fuzz.$pid.pcap" "/dev/shm/smtpscope-fuzz-ev.$pid"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    ttime=$(grep -o 'DONE .* in [0-9]* second' "$log" | grep -o '[0-9]* second' | tail -n 1)
    if [ $rc -ne 0 ]; then
        status=1
        echo "$t: CRASH after ${execs:-?} executions (exit $rc); see $log"
        grep -E 'ERROR: |SUMMARY: |runtime error|fuzz_[a-z]*: ' "$log" | head -n 5 | sed 's/^/    /'
        ls "$dir/artifacts/$t" | tail -n 3 | sed "s|^|    $dir/artifacts/$t/|"
    else
        echo "$t: ${execs:-?} executions in ${ttime:-$secs seconds}, no crash, corpus $(ls "$dir/corpus/$t" | wc -l) inputs"
    fi
done
exit $status
