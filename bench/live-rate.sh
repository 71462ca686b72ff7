#!/usr/bin/env bash
# bench/live-rate.sh - how fast can SMTP traffic arrive before smtpscope -i
# starts losing packets?
#
#   bench/live-rate.sh                       100 MB capture, default rates
#   BENCH_SIZE=300M bench/live-rate.sh --rates 200,400,800,topspeed --runs 3
#
# Generates a capture with bench/gen (see bench/README.md), rewrites its
# addresses into 127.90.0.0/16 (tcprewrite --pnat: servers 192.0.2.0/24 ->
# 127.90.2.0/24, clients 198.51.100.0/24 -> 127.90.100.0/24 and
# 203.0.113.0/24 -> 127.90.113.0/24) with a destination MAC that is not
# lo's, so only packet sockets see the frames, never the host's TCP stack.
# Then, for each rate, starts `smtpscope -i lo -q --json 'net 127.90.0.0/16'`,
# replays the capture onto lo with tcpreplay (--mbps=RATE, or --topspeed),
# stops smtpscope with SIGINT and reads its statistics: packets captured,
# dropped by the kernel, dropped by the interface. A rate passes when
# nothing was dropped, every frame of the file was captured and as many
# sessions were reported as smtpscope -r finds in the file; each rate is
# run --runs times (default 2), one row each, and counts as kept up only
# when every run did. The load average is printed with each row: on a
# shared machine, drops follow the scheduler more than the rate. The table
# gives the rate asked, the rate tcpreplay achieved, smtpscope's CPU time,
# and whether it kept up; the last line names the highest rate with zero
# drops.
#
# Needs root, tcpreplay, tcprewrite and a C compiler. Not a test: it
# prints numbers (docs/performance.md, "Live capture").
set -u
cd "$(dirname "$0")/.."
size=${BENCH_SIZE:-100M}
rates=50,100,200,400,800,1600,topspeed
sessions=300
runs=2
while [ $# -gt 0 ]; do
    case $1 in
        --rates) rates=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --sessions) sessions=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "usage: bench/live-rate.sh [--size SIZE] [--rates R1,R2,...|topspeed] [--sessions N] [--runs N]" >&2
           exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "live-rate: needs root (capture on lo)" >&2; exit 2; }
for t in tcpreplay tcprewrite; do
    command -v $t >/dev/null || { echo "live-rate: $t not installed" >&2; exit 2; }
done

BIN=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
out=bench/out
mkdir -p build/bench "$out"
make -s build/smtpscope || exit 2
CC=${CC:-cc}
if [ ! -x build/bench/gen ] || [ bench/gen.c -nt build/bench/gen ]; then
    $CC -O2 -std=c11 -D_GNU_SOURCE -o build/bench/gen bench/gen.c -lm || exit 2
fi

raw="$out/live-$size.pcap"
lo="$out/live-$size-lo.pcap"
if [ ! -f "$lo" ]; then
    build/bench/gen -o "$raw" --bytes "$size" --sessions "$sessions" || exit 2
    tcprewrite --pnat=192.0.2.0/24:127.90.2.0/24,198.51.100.0/24:127.90.100.0/24,203.0.113.0/24:127.90.113.0/24 \
        --enet-dmac=02:00:00:00:00:01 --enet-smac=00:00:00:00:00:00 --fixcsum \
        -i "$raw" -o "$lo" || exit 2
    rm -f "$raw"
fi
# Nothing but loopback may ever be addressed.
if tcpdump -nr "$lo" "not (src net 127.90.0.0/16 and dst net 127.90.0.0/16)" 2>/dev/null | grep -q .; then
    echo "live-rate: $lo addresses something outside 127.90.0.0/16" >&2
    exit 2
fi
frames=$(tcpdump -nr "$lo" 2>/dev/null | wc -l)
offline_sessions=$("$BIN" -q --json -r "$lo" 2>/dev/null | grep -c '"type":"session"')
bytes=$(stat -c %s "$lo")
echo "capture: $lo, $frames frames, $bytes bytes, $offline_sessions sessions (-r), up to $sessions at once"
echo "machine: $(nproc) CPUs, $(uname -r), $("$BIN" --version)"
echo
printf '%-10s %12s %12s %10s %10s %8s %8s %8s %6s  %s\n' rate "achieved" "pps" captured "kernel" "ifdrop" "cpu s" sessions load result
best=none
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in ${rates//,/ }; do
  if [ "$r" = topspeed ]; then opt=--topspeed; else opt=--mbps=$r; fi
  all_ok=1
  for _ in $(seq "$runs"); do
    "$BIN" -i lo -q --json "net 127.90.0.0/16" >"$tmp/out.json" 2>"$tmp/err" &
    pid=$!
    sleep 1.5
    tcpreplay -i lo --preload-pcap $opt "$lo" >"$tmp/replay" 2>&1
    sleep 1
    read -r -a st </proc/$pid/stat
    cpu=$(awk -v u="${st[13]}" -v s="${st[14]}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (u + s) / hz }')
    kill -INT $pid
    wait $pid
    line=$(grep "packets captured" "$tmp/err" | tail -n 1)
    cap=$(echo "$line" | sed -E 's/.*: ([0-9]+) packets captured.*/\1/')
    kdrop=$(echo "$line" | sed -E 's/.* ([0-9]+) dropped by kernel.*/\1/')
    idrop=$(echo "$line" | sed -E 's/.* ([0-9]+) dropped by interface.*/\1/')
    nsess=$(grep -c '"type":"session"' "$tmp/out.json")
    mbps=$(grep -oE '[0-9.]+ Mbps' "$tmp/replay" | head -n 1)
    pps=$(grep -oE '[0-9.]+ pps' "$tmp/replay" | head -n 1)
    if [ "$cap" = "$frames" ] && [ "$kdrop" = 0 ] && [ "$idrop" = 0 ] &&
       [ "$nsess" = "$offline_sessions" ]; then
        result=ok
    else
        result=LOST
        all_ok=0
    fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    printf '%-10s %12s %12s %10s %10s %8s %8s %8s %6s  %s\n' "$r" "${mbps:-?}" "${pps:-?}" "$cap" "$kdrop" "$idrop" "$cpu" "$nsess" "$load" "$result"
  done
  [ $all_ok = 1 ] && best="$r (last run ${mbps:-?})"
done
echo
echo "highest rate with zero drops: $best"
