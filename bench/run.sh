#!/usr/bin/env bash
# bench/run.sh - the smtpscope benchmark (make bench).
#
#   bench/run.sh [--sizes 1G[,2G,...]] [--tools LIST] [--no-tshark]
#                [--runs N] [--sessions N] [--seed S]
#
# Builds the generator and the floor program (build/bench/), smtpscope
# (make), generates bench/out/bench-<size>.pcap when missing, then runs on
# the same file, one after another (the machine's cores are not shared):
#
#   smtpscope       build/smtpscope -q -r F > /dev/null
#   smtpscope-json  build/smtpscope -q --json -r F > /dev/null
#   floor           build/bench/floor F       libpcap + libnids, empty callback
#   floor-buf       build/bench/floor --buffer 1M F   the same, the file read
#                   through a 1 MB stdio buffer instead of libpcap's 4 KB
#   read            build/bench/floor --read F  libpcap alone
#   read-buf        build/bench/floor --read --buffer 1M F
#   tcpdump         tcpdump -r F -w /dev/null
#   tshark          tshark -r F -Y smtp -T fields -e frame.number
#                   -e smtp.req.command -e smtp.response.code > /dev/null
#
# and prints a markdown table (wall time, CPU time, MB/s, packets/s, peak
# RSS, exit status) and the ratios smtpscope/floor and tshark/smtpscope.
# Rates and ratios are per CPU second (user+sys), so that other work on the
# machine does not distort them; the load average is printed with them.
# The file is read once before the runs, so every tool reads from the page
# cache: the figures are CPU cost, not disk speed. Fast tools run --runs
# times (default 3) and the run with the least CPU time is kept; tshark
# runs once.
# With several sizes (--sizes 1G,2G,4G) a memory-vs-size table follows:
# smtpscope's peak RSS must not grow with the size of the capture.
#
# Environment: BENCH_SIZE (default 1G), BENCH_RUNS, BENCH_SEED,
# BENCH_SESSIONS, BENCH_OUT (default bench/out), SMTPSCOPE (the binary),
# BENCH_TSHARK_TIMEOUT (seconds, default 3600).
# Results are also written to $BENCH_OUT/results-<size>.md.
set -u
cd "$(dirname "$0")/.."

sizes=${BENCH_SIZE:-1G}
tools="smtpscope,smtpscope-json,floor,floor-buf,read,read-buf,tcpdump,tshark"
runs=${BENCH_RUNS:-3}
seed=${BENCH_SEED:-1}
sessions=${BENCH_SESSIONS:-300}
out=${BENCH_OUT:-bench/out}
smtpscope=${SMTPSCOPE:-build/smtpscope}
tshark_timeout=${BENCH_TSHARK_TIMEOUT:-3600}

usage() { sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --no-tshark) tools=$(echo "$tools" | tr ',' '\n' | grep -vx tshark | paste -sd,); shift ;;
    --runs) runs=$2; shift 2 ;;
    --sessions) sessions=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
done
want() { case ",$tools," in *",$1,"*) return 0 ;; esac; return 1; }

# --- build --------------------------------------------------------------
CC=${CC:-cc}
BFLAGS="-O2 -g -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -D_GNU_SOURCE"
mkdir -p build/bench "$out"
if [ ! -x build/bench/gen ] || [ bench/gen.c -nt build/bench/gen ]; then
    $CC $BFLAGS -o build/bench/gen bench/gen.c -lm || exit 2
fi
if [ ! -x build/bench/floor ] || [ bench/floor.c -nt build/bench/floor ]; then
    $CC $BFLAGS -o build/bench/floor bench/floor.c -lnids -lpcap || exit 2
fi
have_smtpscope=1
if [ -z "${SMTPSCOPE:-}" ]; then
    make -s build/smtpscope >/dev/null 2>"$out/make.log" || true
fi
if [ ! -x "$smtpscope" ]; then
    echo "run.sh: $smtpscope does not build yet (see $out/make.log); its rows are skipped" >&2
    have_smtpscope=0
fi
if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y time >/dev/null 2>&1
    fi
    [ -x /usr/bin/time ] || { echo "run.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
fi

# --- measuring ----------------------------------------------------------
# measure N CMD...: runs CMD (output to /dev/null) N times; keeps the run
# with the least CPU time (user+sys): r_wall and r_cpu (seconds) of that
# run, r_rss (largest peak RSS of all runs, KB), r_exit (exit status of
# the last run). CPU time, not wall time, decides and is the basis of the
# rates: it stays meaningful when other work shares the machine.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
measure() {
    local n=$1; shift
    r_wall= r_rss=0 r_cpu= r_exit=
    local i t0 t1 wall rss us sy x cpu
    for ((i = 0; i < n; i++)); do
        t0=$(date +%s%N)
        /usr/bin/time -f '%M %U %S %x' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err"
        t1=$(date +%s%N)
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
        read -r rss us sy x < <(grep -E '^[0-9]+ ' "$tmp/time" | tail -1)
        if [ -z "${x:-}" ]; then x=$(sed -n 's/.*exit status \([0-9]*\).*/\1/p' "$tmp/time"); fi
        r_exit=${x:-?}
        [ "${rss:-0}" -gt "$r_rss" ] && r_rss=$rss
        cpu=$(awk -v a="${us:-0}" -v b="${sy:-0}" 'BEGIN { printf "%.2f", a + b }')
        if [ -z "$r_cpu" ] || awk -v a="$cpu" -v b="$r_cpu" 'BEGIN { exit !(a < b) }'; then
            r_cpu=$cpu r_wall=$wall
        fi
    done
}

# row TOOL COMMAND-TEXT: one line of the table from the last measure
row() {
    awk -v t="$1" -v c="$2" -v w="$r_wall" -v rss="$r_rss" -v cpu="$r_cpu" \
        -v x="$r_exit" -v b="$bytes" -v p="$packets" 'BEGIN {
        d = cpu > 0 ? cpu : w
        printf "| %s | `%s` | %.2f | %.2f | %.0f | %.0f | %.0f | %s |\n",
               t, c, w, cpu, b / 1e6 / d, p / d, rss / 1024, x }'
}

declare -A cpu_of rss_of
summary_rows=()

for size in ${sizes//,/ }; do
    lc=$(echo "$size" | tr 'A-Z' 'a-z')
    f=$out/bench-$lc.pcap
    if [ ! -s "$f" ]; then
        echo "generating $f ($size, $sessions concurrent sessions, seed $seed)" >&2
        build/bench/gen -o "$f.tmp" --bytes "$size" --sessions "$sessions" \
            --seed "$seed" --summary 2> "$out/bench-$lc.summary" || exit 2
        mv "$f.tmp" "$f"
        sed -i "s#$f.tmp#$f#" "$out/bench-$lc.summary"
        cat "$out/bench-$lc.summary" >&2
    fi
    cat "$f" > /dev/null                              # into the page cache
    bytes=$(stat -c %s "$f")
    packets=$(build/bench/floor --read "$f" | sed 's/.*packets=\([0-9]*\).*/\1/')
    res=$out/results-$lc.md
    {
        echo "### $f: $(awk -v b="$bytes" 'BEGIN { printf "%.0f MB", b / 1e6 }'), $packets packets"
        echo
        echo "Load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)."
        echo "MB/s and packets/s are per CPU second (user+sys); MB = 10^6 bytes."
        echo
        echo "| tool | command | wall (s) | CPU (s) | MB/s | packets/s | peak RSS (MB) | exit |"
        echo "|---|---|---:|---:|---:|---:|---:|---:|"
    } | tee "$res"
    if want smtpscope && [ "$have_smtpscope" = 1 ]; then
        measure "$runs" "$smtpscope" -q -r "$f"
        row smtpscope "smtpscope -q -r F" | tee -a "$res"
        cpu_of[smtpscope,$size]=$r_cpu rss_of[smtpscope,$size]=$r_rss
    fi
    if want smtpscope-json && [ "$have_smtpscope" = 1 ]; then
        measure "$runs" "$smtpscope" -q --json -r "$f"
        row "smtpscope --json" "smtpscope -q --json -r F" | tee -a "$res"
        cpu_of[json,$size]=$r_cpu rss_of[json,$size]=$r_rss
    fi
    if want floor; then
        measure "$runs" build/bench/floor "$f"
        row "floor (libpcap+libnids)" "bench/floor F" | tee -a "$res"
        cpu_of[floor,$size]=$r_cpu rss_of[floor,$size]=$r_rss
    fi
    if want floor-buf; then
        measure "$runs" build/bench/floor --buffer 1M "$f"
        row "floor, 1 MB buffer" "bench/floor --buffer 1M F" | tee -a "$res"
        cpu_of[floorbuf,$size]=$r_cpu rss_of[floorbuf,$size]=$r_rss
    fi
    if want read; then
        measure "$runs" build/bench/floor --read "$f"
        row "libpcap read" "bench/floor --read F" | tee -a "$res"
        cpu_of[read,$size]=$r_cpu rss_of[read,$size]=$r_rss
    fi
    if want read-buf; then
        measure "$runs" build/bench/floor --read --buffer 1M "$f"
        row "libpcap read, 1 MB buffer" "bench/floor --read --buffer 1M F" | tee -a "$res"
        cpu_of[readbuf,$size]=$r_cpu rss_of[readbuf,$size]=$r_rss
    fi
    if want tcpdump && command -v tcpdump >/dev/null; then
        measure "$runs" tcpdump -r "$f" -w /dev/null
        row tcpdump "tcpdump -r F -w /dev/null" | tee -a "$res"
        cpu_of[tcpdump,$size]=$r_cpu rss_of[tcpdump,$size]=$r_rss
    fi
    if want tshark && command -v tshark >/dev/null; then
        if [ "$bytes" -gt 100000000 ]; then
            echo "note: tshark on $size takes minutes and several GB of RAM (timeout ${tshark_timeout}s)" >&2
        fi
        measure 1 timeout "$tshark_timeout" tshark -r "$f" -Y smtp -T fields -e frame.number \
            -e smtp.req.command -e smtp.response.code
        row tshark "tshark -r F -Y smtp -T fields ..." | tee -a "$res"
        cpu_of[tshark,$size]=$r_cpu rss_of[tshark,$size]=$r_rss
    fi
    {
        echo
        ratio() {   # ratio LABEL A B: A/B when both measured
            [ -n "${cpu_of[$2,$size]:-}" ] && [ -n "${cpu_of[$3,$size]:-}" ] &&
                awk -v l="$1" -v a="${cpu_of[$2,$size]}" -v b="${cpu_of[$3,$size]}" \
                    'BEGIN { printf "- %s: %.2f\n", l, a / b }'
        }
        ratio "smtpscope / floor (CPU time; 1.00 = no cost above reassembly)" smtpscope floor
        ratio "smtpscope / floor with a 1 MB buffer" smtpscope floorbuf
        ratio "smtpscope --json / floor" json floor
        ratio "floor / libpcap read" floor read
        ratio "floor / floor with a 1 MB buffer (what libpcap's 4 KB reads cost)" floor floorbuf
        ratio "tshark / smtpscope (how many times faster smtpscope is)" tshark smtpscope
        ratio "tshark / floor" tshark floor
        echo
    } | tee -a "$res"
done

set -- ${sizes//,/ }
if [ $# -gt 1 ]; then
    echo "### Peak RSS against capture size (MB)"
    echo
    echo "| size | smtpscope | smtpscope --json | floor | smtpscope CPU (s) |"
    echo "|---|---:|---:|---:|---:|"
    for size in "$@"; do
        awk -v s="$size" -v a="${rss_of[smtpscope,$size]:--}" -v b="${rss_of[json,$size]:--}" \
            -v c="${rss_of[floor,$size]:--}" -v w="${cpu_of[smtpscope,$size]:--}" '
            function mb(k) { return k == "-" ? "-" : sprintf("%.0f", k / 1024) }
            BEGIN { printf "| %s | %s | %s | %s | %s |\n", s, mb(a), mb(b), mb(c), w }'
    done
fi
