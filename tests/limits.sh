#!/usr/bin/env bash
# tests/limits.sh - resource limits on hostile captures.
#
# Each case is a capture written by tests/limits/genpcap.py into a temporary
# directory (never kept), analysed by the release binary ($SMTPSCOPE_REL)
# under /usr/bin/time -v, in text and in JSON mode. A case passes when:
#   - smtpscope exits 0 or 1 (findings are expected; never 2, never a signal)
#   - its peak RSS stays under 64 MB + a budget per concurrent connection:
#     8 KB per half-open connection (SYN only), 8 KB per established
#     session (memory grows with concurrent sessions, never with stream
#     size; docs/hardening.md has the measured figures)
# and the cost of one more established session is measured on its own:
# the peak RSS with SLOPE_HI concurrent sessions minus that with SLOPE_LO,
# divided by the difference, must stay under SLOPE_KB (per_session below).
#   - it finishes within 30 s + 1 s per 5 MB of capture (bounded time)
# The measured figures are printed on each PASS/FAIL line.
#
# Sizes: the default run takes about a minute; LIMITS_FULL=1 runs the full
# sizes (the 1 GB line). LIMITS_LINE_MB overrides the line length.
#   case        default               LIMITS_FULL=1
#   halfopen    100 000 SYNs          100 000
#   concurrent  10 000 sessions       100 000
#   longline    64 MB, no CRLF        1024 MB
#   pipelined   1 000 000 NOOP        1 000 000
#   rcpts       100 000 recipients    100 000
#   bdat, overlap, allbytes, escapes  (fixed)
set -u
cd "$(dirname "$0")/.."
bin=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
gen=tests/limits/genpcap.py
full=${LIMITS_FULL:-0}
line_mb=${LIMITS_LINE_MB:-$([ "$full" = 1 ] && echo 1024 || echo 64)}
conc=${LIMITS_CONCURRENT:-$([ "$full" = 1 ] && echo 100000 || echo 10000)}
slope_lo=2000 slope_hi=12000 slope_kb=6

if [ ! -x /usr/bin/time ]; then
    echo "SKIP: limits: /usr/bin/time is not installed (Debian package time)"
    exit 0
fi
if ! command -v python3 >/dev/null; then
    echo "SKIP: limits: python3 is not installed"
    exit 0
fi
if [ ! -x "$bin" ]; then
    echo "FAIL: limits: no release binary at $bin (make)"
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# limits_run NAME CONCURRENT KB-EACH MODE: analyses $tmp/NAME.pcap, checks,
# prints.
limits_run() {
    local name=$1 conc=$2 each_kb=$3 mode=$4
    local pcap=$tmp/$name.pcap
    local size_kb=$(( $(stat -c %s "$pcap") / 1024 ))
    local limit_s=$(( 30 + size_kb / 5120 ))
    local cap_kb=$(( 65536 + each_kb * conc ))
    local args=(-q -r "$pcap")
    [ "$mode" = json ] && args=(--json "${args[@]}")

    timeout -s KILL "$limit_s" /usr/bin/time -v -o "$tmp/time" \
        "$bin" "${args[@]}" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    local rss_kb wall out_kb
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time" 2>/dev/null)
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time" 2>/dev/null)
    out_kb=$(( $(stat -c %s "$tmp/out") / 1024 ))
    rm -f "$tmp/out"
    local what="$name/$mode: exit $rc, peak RSS $(( ${rss_kb:-0} / 1024 )) MB (cap $(( cap_kb / 1024 )) MB), ${wall:-?} wall (limit ${limit_s} s), capture ${size_kb} KB, output ${out_kb} KB"

    if [ $rc -eq 137 ] && [ ! -s "$tmp/time" ]; then
        echo "FAIL: limits/$what: killed after $limit_s s"
    elif grep -q 'Command terminated by signal' "$tmp/time"; then
        echo "FAIL: limits/$what: $(grep 'terminated by signal' "$tmp/time")"
    elif [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        echo "FAIL: limits/$what: $(head -c 300 "$tmp/err")"
    elif [ "${rss_kb:-0}" -gt "$cap_kb" ]; then
        echo "FAIL: limits/$what: over the memory cap"
    else
        echo "PASS: limits/$what"
    fi
}

# limits_case NAME CONCURRENT KB-EACH GENERATOR-ARGS...
limits_case() {
    local name=$1 conc=$2 each_kb=$3; shift 3
    if ! python3 "$gen" "$name" "$tmp/$name.pcap" "$@" 2>"$tmp/gen.err"; then
        echo "FAIL: limits/$name: generator failed: $(cat "$tmp/gen.err")"
        return
    fi
    limits_run "$name" "$conc" "$each_kb" text
    limits_run "$name" "$conc" "$each_kb" json
    rm -f "$tmp/$name.pcap"
}

# per_session MODE: peak RSS per established session, from two captures
# (the fixed costs, libnids' table and the 4 MB of receive buffers it may
# keep, are the same in both and cancel out).
per_session() {
    local mode=$1 n rss args
    local -A peak
    for n in $slope_lo $slope_hi; do
        args=(-q -r "$tmp/conc-$n.pcap")
        [ "$mode" = json ] && args=(--json "${args[@]}")
        # the least of three runs: peak RSS varies by up to one huge page
        # (2 MB), as the kernel gives libnids' table huge pages or not
        rm -f "$tmp/time"
        for _ in 1 2 3; do
            /usr/bin/time -f '%M' -a -o "$tmp/time" "$bin" "${args[@]}" >/dev/null 2>&1
        done
        rss=$(grep -E '^[0-9]+$' "$tmp/time" | sort -n | head -n 1)
        peak[$n]=${rss:-0}
    done
    awk -v a="${peak[$slope_lo]}" -v b="${peak[$slope_hi]}" -v lo="$slope_lo" -v hi="$slope_hi" \
        -v cap="$slope_kb" -v m="$mode" 'BEGIN {
        per = (b - a) / (hi - lo)
        w = sprintf("limits/per-session/%s: %.2f KB per established session (peak RSS %d MB at %d, %d MB at %d; cap %d KB)",
                    m, per, a / 1024, lo, b / 1024, hi, cap)
        print (b > 0 && per <= cap ? "PASS: " : "FAIL: ") w }'
}

limits_case halfopen   100000  8 100000
limits_case concurrent "$conc" 8 "$conc"
for n in $slope_lo $slope_hi; do
    python3 "$gen" concurrent "$tmp/conc-$n.pcap" "$n" 2>/dev/null ||
        echo "FAIL: limits/per-session: generator failed"
done
per_session text
per_session json
rm -f "$tmp"/conc-*.pcap
limits_case longline   1      32 "$line_mb"
limits_case pipelined  1      32 1000000
limits_case rcpts      1      32 100000
limits_case bdat       4      32
limits_case overlap    1      32
limits_case allbytes   1      32
limits_case escapes    9      32
