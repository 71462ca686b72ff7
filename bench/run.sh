#!/usr/bin/env bash
# bench/run.sh - the smtpscope benchmark (make bench).
#
#   bench/run.sh [--mixes bulk,gateway] [--sizes 1G[,2G,...]] [--tools LIST]
#                [--no-tshark] [--runs N] [--sessions N] [--seed S]
#
# Builds the generator and the floor program (build/bench/), smtpscope
# (make), generates the capture of each mix when missing (bulk:
# bench/out/bench-<size>.pcap, 300 concurrent sessions, BENCH_SIZE, default
# 1G; gateway: bench/out/gateway-<size>.pcap, `gen --mix gateway`, 200
# concurrent sessions, BENCH_GATEWAY_SIZE, default 300M; --sizes sets both),
# then runs on the same file, one after another:
#
#   smtpscope       build/smtpscope -q -r F > /dev/null   (full text report)
#   smtpscope-findings  build/smtpscope -q --only-findings -r F > /dev/null
#   smtpscope-json  build/smtpscope -q --json -r F > /dev/null
#   smtpscope-j2    build/smtpscope -q -j 2 --json -r F > /dev/null
#                   (CPU of the parent and its workers; wall time shown)
#   floor           build/bench/floor F       libpcap + libnids, empty callback
#   floor-table     build/bench/floor --streams 133397 F   the same with the
#                   libnids table smtpscope sets up for --max-sessions 100000
#   floor-buf       build/bench/floor --buffer 1M F   the same, the file read
#                   through a 1 MB stdio buffer instead of libpcap's 4 KB
#   read            build/bench/floor --read F  libpcap alone
#   read-buf        build/bench/floor --read --buffer 1M F
#   tcpdump         tcpdump -r F -w /dev/null
#   tshark          tshark -r S -Y smtp -T fields -e frame.number
#                   -e smtp.req.command -e smtp.response.code > /dev/null
#                   where S is the first BENCH_TSHARK_SLICE (default 100M)
#                   of F, whole packets: tshark runs for minutes per GB; its
#                   ratio to smtpscope is per byte (CPU seconds per MB)
#
# and prints a markdown table (wall time, CPU time, MB/s, packets/s, peak
# RSS, exit status) and the ratios to the floor and tshark/smtpscope.
# Rates and ratios are per CPU second (user+sys), so that other work on the
# machine does not distort them; the load average is printed with them.
# The file is read once before the runs, so every tool reads from the page
# cache: the figures are CPU cost, not disk speed. Fast tools run --runs
# times (default 3) and the run with the least CPU time is kept; tshark
# runs once.
# With several sizes (--sizes 1G,2G,4G) a memory-vs-size table follows:
# smtpscope's peak RSS must not grow with the size of the capture.
#
# Environment: BENCH_SIZE (default 1G), BENCH_GATEWAY_SIZE (300M),
# BENCH_MIXES (bulk,gateway), BENCH_RUNS, BENCH_SEED, BENCH_SESSIONS
# (bulk; gateway 200), BENCH_OUT (default bench/out), SMTPSCOPE (the
# binary), BENCH_TSHARK_TIMEOUT (seconds, default 3600), BENCH_TSHARK_SLICE.
# Results are also written to $BENCH_OUT/results-<mix>-<size>.md.
set -u
cd "$(dirname "$0")/.."

sizes=${BENCH_SIZE:-1G}
gw_sizes=${BENCH_GATEWAY_SIZE:-300M}
mixes=${BENCH_MIXES:-bulk,gateway}
tools="smtpscope,smtpscope-findings,smtpscope-json,smtpscope-j2,floor,floor-table,floor-buf,read,read-buf,tcpdump,tshark"
tshark_slice=${BENCH_TSHARK_SLICE:-100M}
runs=${BENCH_RUNS:-3}
seed=${BENCH_SEED:-1}
sessions=${BENCH_SESSIONS:-300}
out=${BENCH_OUT:-bench/out}
smtpscope=${SMTPSCOPE:-build/smtpscope}
tshark_timeout=${BENCH_TSHARK_TIMEOUT:-3600}

usage() { sed -n '2,50p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --sizes) sizes=$2; gw_sizes=$2; shift 2 ;;
    --mixes) mixes=$2; shift 2 ;;
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

declare -A cpu_of rss_of wall_of

# slice F BYTES OUT: the first BYTES of capture F, whole packets (classic
# pcap), into OUT
slice() {
    python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
src, limit, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(src, 'rb') as f, open(dst, 'wb') as o:
    hdr = f.read(24)
    end = '<' if hdr[:4] == b'\xd4\xc3\xb2\xa1' else '>'
    o.write(hdr); n = 24
    while n < limit:
        rec = f.read(16)
        if len(rec) < 16: break
        cap = struct.unpack(end + 'IIII', rec)[2]
        o.write(rec + f.read(cap)); n += 16 + cap
PY
}
size_bytes() {
    awk -v s="$1" 'BEGIN { n = s + 0; u = toupper(substr(s, length(s)));
        if (u == "K") n *= 1024; else if (u == "M") n *= 1048576; else if (u == "G") n *= 1073741824;
        printf "%.0f", n }'
}

for mix in ${mixes//,/ }; do
  case $mix in
  bulk) msizes=$sizes prefix=bench mixarg=bulk conc=$sessions ;;
  gateway) msizes=$gw_sizes prefix=gateway mixarg=gateway conc=${BENCH_SESSIONS:-200} ;;
  *) echo "run.sh: unknown mix $mix (bulk, gateway)" >&2; exit 2 ;;
  esac
  for size in ${msizes//,/ }; do
    lc=$(echo "$size" | tr 'A-Z' 'a-z')
    key=$mix-$size
    f=$out/$prefix-$lc.pcap
    if [ ! -s "$f" ]; then
        echo "generating $f ($mix mix, $size, $conc concurrent sessions, seed $seed)" >&2
        build/bench/gen -o "$f.tmp" --bytes "$size" --sessions "$conc" --mix "$mixarg" \
            --seed "$seed" --summary 2> "$out/$prefix-$lc.summary" || exit 2
        mv "$f.tmp" "$f"
        sed -i "s#$f.tmp#$f#" "$out/$prefix-$lc.summary"
        cat "$out/$prefix-$lc.summary" >&2
    fi
    cat "$f" > /dev/null                              # into the page cache
    bytes=$(stat -c %s "$f")
    packets=$(build/bench/floor --read "$f" | sed 's/.*packets=\([0-9]*\).*/\1/')
    streams=$(build/bench/floor "$f" | sed 's/.*streams=\([0-9]*\).*/\1/')
    res=$out/results-$mix-$lc.md
    {
        echo "### $mix mix, $f: $(awk -v b="$bytes" 'BEGIN { printf "%.0f MB", b / 1e6 }'), $packets packets, $streams sessions ($(awk -v n="$streams" -v b="$bytes" 'BEGIN { printf "%.0f", n / b * 1e9 }') per GB)"
        echo
        echo "Load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)."
        echo "MB/s and packets/s are per CPU second (user+sys); MB = 10^6 bytes."
        echo
        echo "| tool | command | wall (s) | CPU (s) | MB/s | packets/s | peak RSS (MB) | exit |"
        echo "|---|---|---:|---:|---:|---:|---:|---:|"
    } | tee "$res"
    # one() NAME LABEL COMMAND-TEXT CMD...: measure, print the row, keep the figures
    one() {
        local name=$1 label=$2 text=$3; shift 3
        measure "$runs" "$@"
        row "$label" "$text" | tee -a "$res"
        cpu_of[$name,$key]=$r_cpu rss_of[$name,$key]=$r_rss wall_of[$name,$key]=$r_wall
    }
    if [ "$have_smtpscope" = 1 ]; then
        want smtpscope && one smtpscope "smtpscope (text report)" "smtpscope -q -r F" "$smtpscope" -q -r "$f"
        want smtpscope-findings && one findings "smtpscope --only-findings" \
            "smtpscope -q --only-findings -r F" "$smtpscope" -q --only-findings -r "$f"
        want smtpscope-json && one json "smtpscope --json" "smtpscope -q --json -r F" \
            "$smtpscope" -q --json -r "$f"
        want smtpscope-j2 && one j2 "smtpscope -j 2 --json" "smtpscope -q -j 2 --json -r F" \
            "$smtpscope" -q -j 2 --json -r "$f"
    fi
    want floor && one floor "floor (libpcap+libnids)" "bench/floor F" build/bench/floor "$f"
    want floor-table && one floortable "floor, smtpscope's libnids table" \
        "bench/floor --streams 133397 F" build/bench/floor --streams 133397 "$f"
    want floor-buf && one floorbuf "floor, 1 MB buffer" "bench/floor --buffer 1M F" \
        build/bench/floor --buffer 1M "$f"
    want read && one read "libpcap read" "bench/floor --read F" build/bench/floor --read "$f"
    want read-buf && one readbuf "libpcap read, 1 MB buffer" "bench/floor --read --buffer 1M F" \
        build/bench/floor --read --buffer 1M "$f"
    if want tcpdump && command -v tcpdump >/dev/null; then
        one tcpdump tcpdump "tcpdump -r F -w /dev/null" tcpdump -r "$f" -w /dev/null
    fi
    tshark_bytes=
    if want tshark && command -v tshark >/dev/null; then
        tf=$f lim=$(size_bytes "$tshark_slice")
        if [ "$bytes" -gt "$lim" ]; then
            tf=$out/$prefix-$lc.slice.pcap
            [ -s "$tf" ] || slice "$f" "$lim" "$tf"
        fi
        tshark_bytes=$(stat -c %s "$tf")
        cat "$tf" > /dev/null
        measure 1 timeout "$tshark_timeout" tshark -r "$tf" -Y smtp -T fields -e frame.number \
            -e smtp.req.command -e smtp.response.code
        sbytes=$bytes spackets=$packets
        bytes=$tshark_bytes packets=$(build/bench/floor --read "$tf" | sed 's/.*packets=\([0-9]*\).*/\1/')
        row tshark "tshark -r S -Y smtp -T fields ... (S: the first $(awk -v b="$tshark_bytes" 'BEGIN { printf "%.0f MB", b / 1e6 }') of F)" | tee -a "$res"
        bytes=$sbytes packets=$spackets
        # per byte of F, so that the ratios below compare like with like
        cpu_of[tshark,$key]=$(awk -v c="$r_cpu" -v a="$bytes" -v b="$tshark_bytes" 'BEGIN { printf "%.4f", c * a / b }')
        rss_of[tshark,$key]=$r_rss
    fi
    {
        echo
        ratio() {   # ratio LABEL A B: A/B when both measured
            [ -n "${cpu_of[$2,$key]:-}" ] && [ -n "${cpu_of[$3,$key]:-}" ] &&
                awk -v l="$1" -v a="${cpu_of[$2,$key]}" -v b="${cpu_of[$3,$key]}" \
                    'BEGIN { printf "- %s: %.2f\n", l, a / b }'
        }
        ratio "smtpscope --json / floor (CPU time; 1.00 = no cost above reassembly)" json floor
        ratio "smtpscope --only-findings / floor" findings floor
        ratio "smtpscope, full text report / floor" smtpscope floor
        ratio "smtpscope -j 2 --json, CPU of all processes / floor" j2 floor
        [ -n "${wall_of[j2,$key]:-}" ] && [ -n "${wall_of[json,$key]:-}" ] &&
            awk -v a="${wall_of[json,$key]}" -v b="${wall_of[j2,$key]}" \
                'BEGIN { printf "- -j 2 speed-up in wall time (--json): %.2f (wall times depend on the load)\n", a / b }'
        ratio "smtpscope --json / floor with smtpscope's libnids table" json floortable
        ratio "smtpscope --only-findings / floor with smtpscope's libnids table" findings floortable
        ratio "smtpscope, full text report / floor with smtpscope's libnids table" smtpscope floortable
        ratio "smtpscope --json / floor with a 1 MB buffer" json floorbuf
        ratio "floor / libpcap read" floor read
        if [ -n "$tshark_bytes" ] && [ "$tshark_bytes" != "$bytes" ]; then
            echo "- tshark ran on a slice; its CPU is scaled to F's size (per byte) for the ratios:"
        fi
        ratio "tshark / smtpscope --json (how many times faster smtpscope is)" tshark json
        ratio "tshark / smtpscope (full text report)" tshark smtpscope
        echo
    } | tee -a "$res"
  done
done

set -- ${sizes//,/ }
if [ $# -gt 1 ]; then
    echo "### Peak RSS against capture size (MB), bulk mix"
    echo
    echo "| size | smtpscope | smtpscope --json | floor | smtpscope CPU (s) |"
    echo "|---|---:|---:|---:|---:|"
    for size in "$@"; do
        awk -v s="$size" -v a="${rss_of[smtpscope,bulk-$size]:--}" -v b="${rss_of[json,bulk-$size]:--}" \
            -v c="${rss_of[floor,bulk-$size]:--}" -v w="${cpu_of[smtpscope,bulk-$size]:--}" '
            function mb(k) { return k == "-" ? "-" : sprintf("%.0f", k / 1024) }
            BEGIN { printf "| %s | %s | %s | %s | %s |\n", s, mb(a), mb(b), mb(c), w }'
    done
fi
