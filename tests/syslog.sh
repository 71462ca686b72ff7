#!/usr/bin/env bash
# tests/syslog.sh - --syslog into a real collector: Debian's rsyslogd,
# started by this test with a private configuration (imtcp and imudp on
# 127.0.0.1 at free ports, imuxsock on a private socket, omfile with a
# template that writes the message alone), never the system's rsyslog.
#
# Checks:
#  - TCP (octet counting), UDP and the local socket: the events rsyslog
#    writes equal the --json output line for line (a generated capture of
#    many sessions, read with -r); without --json the report names the
#    syslog counters and rsyslog receives the same kinds of objects;
#  - the collector stopped and started again in the middle of a live run
#    (-i lo, three captures replayed with tcpreplay, the middle one while
#    rsyslog is down, larger than --syslog-queue): the capture never
#    blocks (every session in --json, no packet dropped by the kernel),
#    what rsyslog wrote is the --json
#    output with lines missing, and exactly as many missing as the
#    counters say were dropped and lost; the queue's peak stays under its
#    cap; TCP, UDP and the local socket;
#  - a collector that accepts and never reads: the run ends in bounded
#    time, drops what the queue cannot hold, and its peak memory (release
#    build) stays within the queue's size of a run without --syslog;
#  - a bad DEST is refused (exit 2); every object received is valid
#    against docs/smtpscope.schema.json;
#  - --output FILE: appended, mode 0600, never through a symbolic link;
#    live, SIGHUP after the file was moved: the capture goes on into a new
#    file, and the syslog connection is made anew;
#  - live (-i lo): a capture replayed with tcpreplay onto lo, rewritten
#    into 127.64.0.0/10 with a MAC lo does not own (as tests/live.sh):
#    what rsyslog writes equals the --json output.
#
# Skips when rsyslogd or python3 is missing (scripts/setup.sh installs
# them), the live parts when not root or tcpreplay, tcprewrite or tcpdump
# are missing.
set -u
cd "$(dirname "$0")/.."
BIN=${SMTPSCOPE:-$PWD/build/san/smtpscope}
REL=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
pass() { echo "PASS: syslog: $*"; }
fail() { echo "FAIL: syslog: $*"; }
skip() { echo "SKIP: syslog: $*"; }

RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[ -x "$RSYSLOGD" ] || { skip "rsyslogd not installed (scripts/setup.sh)"; exit 0; }
command -v python3 >/dev/null || { skip "python3 not installed"; exit 0; }
[ -x "$BIN" ] || { skip "no program at $BIN"; exit 0; }
[ -x "$REL" ] || REL=$BIN

tmp=$(mktemp -d)
RS_PID=
pids=()
cleanup() {
    [ -n "$RS_PID" ] && kill "$RS_PID" 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {   # a port free for TCP and UDP on 127.0.0.1
    python3 -c '
import socket
for _ in range(50):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        t.close(); u.close()'
}
TCP_PORT=$(free_port)
UDP_PORT=$(free_port)
SOCK=$tmp/log.sock
TCP=tcp://127.0.0.1:$TCP_PORT
UDP=udp://127.0.0.1:$UDP_PORT
UNIX=unix:$SOCK

# One file per input; the local socket's message (syslog(3) form) starts
# after "smtpscope[PID]:" with a space, which the template leaves out.
cat >"$tmp/rsyslog.conf" <<EOF
global(workDirectory="$tmp" maxMessageSize="256k")
module(load="imtcp")
module(load="imudp")
module(load="imuxsock" SysSock.Use="off")
template(name="msg" type="string" string="%msg%\n")
template(name="msg1" type="string" string="%msg:2:\$%\n")
input(type="imtcp" address="127.0.0.1" port="$TCP_PORT" ruleset="tcp")
input(type="imudp" address="127.0.0.1" port="$UDP_PORT" ruleset="udp" rcvbufSize="16m")
input(type="imuxsock" socket="$SOCK" ruleset="unix" RateLimit.Interval="0")
ruleset(name="tcp") { action(type="omfile" file="$tmp/tcp.log" template="msg") }
ruleset(name="udp") { action(type="omfile" file="$tmp/udp.log" template="msg") }
ruleset(name="unix") { action(type="omfile" file="$tmp/unix.log" template="msg1") }
EOF

rs_start() {
    # (not holding the test's FIFO open: fd 7 closed for it)
    "$RSYSLOGD" -n -f "$tmp/rsyslog.conf" -i "$tmp/rsyslog.pid" >>"$tmp/rsyslog.err" 2>&1 7>&- &
    RS_PID=$!
    for _ in $(seq 100); do
        if [ -S "$SOCK" ] && python3 -c "import socket; socket.create_connection(('127.0.0.1', $TCP_PORT), 1).close()" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}
rs_stop() {
    kill "$RS_PID" 2>/dev/null
    wait "$RS_PID" 2>/dev/null
    RS_PID=
}
# lines FILE: its line count (0 when missing)
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
# settle FILE: waits until FILE stops growing (1 s quiet, 20 s at most)
settle() {
    local last=-1 n quiet=0
    for _ in $(seq 200); do
        n=$(lines "$1")
        if [ "$n" = "$last" ]; then quiet=$((quiet + 1)); [ $quiet -ge 10 ] && return 0
        else quiet=0; last=$n; fi
        sleep 0.1
    done
}
# counter ERRFILE NAME: a number from the last "syslog DEST:" line
counter() { grep 'syslog .*sent' "$1" | tail -n 1 | grep -o "[0-9]* $2" | grep -o '^[0-9]*'; }

rs_start || { fail "rsyslogd did not start: $(tail -n 3 "$tmp/rsyslog.err")"; exit 0; }

python3 tests/fleet_pcap.py 40 "$tmp/f40.pcap" || { fail "fleet_pcap.py"; exit 0; }
python3 tests/fleet_pcap.py 400 "$tmp/f400.pcap" || { fail "fleet_pcap.py"; exit 0; }

# ---- the events received equal --json, line for line ----------------------
for t in tcp udp unix; do
    case $t in tcp) dest=$TCP ;; udp) dest=$UDP ;; unix) dest=$UNIX ;; esac
    cap=$tmp/f400.pcap
    [ $t = udp ] && cap=$tmp/f40.pcap     # a burst beyond the socket buffer is UDP's loss
    : >"$tmp/$t.log"
    "$BIN" -q -r "$cap" --json --syslog="$dest" >"$tmp/$t.json" 2>"$tmp/$t.err"
    settle "$tmp/$t.log"
    if [ "$(lines "$tmp/$t.json")" -gt 50 ] && cmp -s "$tmp/$t.json" "$tmp/$t.log"; then
        pass "$t: rsyslog received the --json output line for line ($(lines "$tmp/$t.log") objects)"
    else
        fail "$t: received $(lines "$tmp/$t.log") lines, --json wrote $(lines "$tmp/$t.json"); $(cat "$tmp/$t.err")"
        diff "$tmp/$t.json" "$tmp/$t.log" | head -n 4
    fi
    if grep -q "\"syslog\":{\"dest\":\"$dest\"" "$tmp/$t.json" &&
       [ "$(counter "$tmp/$t.err" sent)" = "$(lines "$tmp/$t.json")" ]; then
        pass "$t: the summary and stderr count the messages sent"
    else
        fail "$t: counters: $(cat "$tmp/$t.err")"
    fi
done

# Without --json: the report, and the JSON objects to syslog only.
: >"$tmp/tcp.log"
"$BIN" -q -r "$tmp/f40.pcap" --syslog="$TCP" >"$tmp/text.out" 2>"$tmp/text.err"
settle "$tmp/tcp.log"
"$BIN" -q -r "$tmp/f40.pcap" --json >"$tmp/f40.json"
types() { grep -o '^{"type":"[a-z]*"' "$1" | sort | uniq -c; }
if grep -q "^syslog: $TCP: .* sent" "$tmp/text.out" && grep -q '^totals:' "$tmp/text.out" &&
   ! grep -q '^{' "$tmp/text.out" && [ "$(types "$tmp/tcp.log")" = "$(types "$tmp/f40.json")" ]; then
    pass "text report: the syslog counters in the totals, the JSON objects to rsyslog"
else
    fail "text report with --syslog: $(grep syslog "$tmp/text.out")"
fi

# ---- the collector stopped and started again mid-run ----------------------
# Live on lo: three captures replayed one after the other, the second while
# rsyslog is down. Only loopback traffic: the captures are rewritten into
# 127.64.0.0/10 with a MAC lo does not own, as in tests/live.sh.
LIVE=1
if [ "$(id -u)" != 0 ] || ! command -v tcpreplay >/dev/null || ! command -v tcprewrite >/dev/null ||
   ! command -v tcpdump >/dev/null; then
    LIVE=
    skip "restart and live: need root, tcpreplay, tcprewrite and tcpdump"
fi
# lo_pcap IN OUT NET16: IN rewritten into 127.NET16.0.0/16
lo_pcap() {
    tcprewrite --pnat=0.0.0.0/0:127.$3.0.0/16 --enet-dmac=02:00:00:00:00:01 \
        --enet-smac=00:00:00:00:00:00 --fixcsum -i "$1" -o "$2" 2>/dev/null || return 1
    # Nothing but loopback may ever be addressed.
    ! tcpdump -nr "$2" "not (src net 127.0.0.0/8 and dst net 127.0.0.0/8)" 2>/dev/null | grep -q .
}
replay() { tcpreplay -i lo --multiplier=100 "$1" >>"$tmp/tcpreplay.log" 2>&1; }
if [ -n "$LIVE" ]; then
    python3 tests/fleet_pcap.py 200 "$tmp/f200.pcap"
    for k in 1 2 3; do
        lo_pcap "$tmp/f200.pcap" "$tmp/part$k.pcap" $((90 + k)) ||
            { fail "cannot make a loopback capture"; LIVE=; break; }
    done
fi
restart_test() {
    local t=$1 dest=$2
    : >"$tmp/$t.log"
    "$BIN" -q -i lo --json --syslog="$dest" --syslog-queue 64 net 127.88.0.0/13 \
        >"$tmp/r$t.json" 2>"$tmp/r$t.err" &
    local spid=$!
    pids+=("$spid")
    sleep 1.5
    replay "$tmp/part1.pcap"
    settle "$tmp/$t.log"
    local before; before=$(lines "$tmp/$t.log")
    rs_stop
    replay "$tmp/part2.pcap"     # while the collector is down
    sleep 1
    rs_start || fail "$t: rsyslogd did not restart"
    sleep 1
    replay "$tmp/part3.pcap"
    sleep 1.5
    kill -TERM "$spid"
    local rc=1
    for _ in $(seq 300); do
        kill -0 "$spid" 2>/dev/null || { rc=0; break; }
        sleep 0.1
    done
    [ $rc = 0 ] || kill -KILL "$spid"
    wait "$spid" 2>/dev/null
    settle "$tmp/$t.log"
    local j r s d l peak
    j=$(lines "$tmp/r$t.json"); r=$(lines "$tmp/$t.log")
    s=$(counter "$tmp/r$t.err" sent); d=$(counter "$tmp/r$t.err" dropped)
    l=$(counter "$tmp/r$t.err" lost)
    peak=$(grep -o 'queue peak [0-9]* of [0-9]*' "$tmp/r$t.err" | tail -n 1)
    # Never blocked: every session of the three captures is in --json, the
    # kernel dropped nothing.
    if [ "$(grep -c '"type":"session"' "$tmp/r$t.json")" = 600 ] &&
       grep -q ' 0 dropped by kernel' "$tmp/r$t.err"; then
        pass "$t: collector down: the capture went on (600 sessions, no packet dropped)"
    else
        fail "$t: collector down: $(grep -c '"type":"session"' "$tmp/r$t.json") sessions; $(grep packets "$tmp/r$t.err")"
    fi
    if [ $rc = 0 ] && [ -n "$s" ] && [ "$before" -gt 0 ] && [ "$d" -gt 0 ] &&
       [ "$r" = "$s" ] && [ $((s + d + l)) = "$j" ]; then
        pass "$t: restart: $j objects, $r received = $s sent, $d dropped, $l lost"
    else
        fail "$t: restart: rc $rc, $j objects, $before before the stop, $r received; $(grep syslog "$tmp/r$t.err")"
    fi
    if python3 - "$tmp/r$t.json" "$tmp/$t.log" <<'PYEOF'
import sys
want = open(sys.argv[1]).read().splitlines()
got = open(sys.argv[2]).read().splitlines()
i = 0
for line in got:            # got must be want with lines left out
    while i < len(want) and want[i] != line:
        i += 1
    if i == len(want):
        sys.exit(1)
    i += 1
PYEOF
    then
        pass "$t: restart: what rsyslog wrote is the --json output with lines left out, in order"
    else
        fail "$t: restart: rsyslog wrote a line --json did not, or out of order"
    fi
    set -- $peak
    if [ -n "$peak" ] && [ "$3" -le "$5" ] && [ "$5" = $((64 * 1024)) ]; then
        pass "$t: restart: the queue peaked at $3 of $5 bytes"
    else
        fail "$t: restart: queue: '$peak'"
    fi
}
if [ -n "$LIVE" ]; then
    restart_test tcp "$TCP"
    restart_test unix "$UNIX"
    restart_test udp "$UDP"
fi

# ---- a collector that accepts and never reads -----------------------------
python3 tests/fleet_pcap.py 3000 "$tmp/f3000.pcap"
python3 - "$tmp/bh.port" <<'EOF' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
end = time.time() + 120
while time.time() < end:
    s.settimeout(1)
    try:
        c, _ = s.accept(); c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096); conns.append(c)
    except socket.timeout:
        pass
EOF
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/bh.port" ] && break; sleep 0.1; done
BH=tcp://127.0.0.1:$(cat "$tmp/bh.port")
t0=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$tmp/bh.rss" "$REL" -q -r "$tmp/f3000.pcap" --json \
    --syslog="$BH" --syslog-queue 256 >"$tmp/bh.json" 2>"$tmp/bh.err"
t1=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$tmp/plain.rss" "$REL" -q -r "$tmp/f3000.pcap" --json >/dev/null
# Peak RSS varies by up to one huge page (2 MB) from run to run: libnids'
# table is given transparent huge pages where the kernel has them
# (src/reasm/reasm.c). The least of three runs of each is compared.
for _ in 1 2; do
    /usr/bin/time -f '%M' -a -o "$tmp/bh.rss" "$REL" -q -r "$tmp/f3000.pcap" --json \
        --syslog="$BH" --syslog-queue 256 >/dev/null 2>&1
    /usr/bin/time -f '%M' -a -o "$tmp/plain.rss" "$REL" -q -r "$tmp/f3000.pcap" --json >/dev/null
done
secs=$(python3 -c "print(round($t1 - $t0, 1))")
j=$(lines "$tmp/bh.json"); s=$(counter "$tmp/bh.err" sent); d=$(counter "$tmp/bh.err" dropped)
l=$(counter "$tmp/bh.err" lost)
rss=$(grep -E '^[0-9]+$' "$tmp/bh.rss" | sort -n | head -n 1)
prss=$(grep -E '^[0-9]+$' "$tmp/plain.rss" | sort -n | head -n 1)
if [ -n "$s" ] && [ "$d" -gt 0 ] && [ $((s + d + l)) = "$j" ] &&
   python3 -c "import sys; sys.exit(0 if $secs < 15 else 1)"; then
    pass "blackhole collector: run ends in $secs s, $j objects: $s sent, $d dropped"
else
    fail "blackhole collector: $secs s, $j objects; $(cat "$tmp/bh.err")"
fi
if [ $((rss - prss)) -le $((256 + 1024)) ]; then
    pass "blackhole collector: peak RSS $rss KiB, $prss KiB without --syslog (queue 256 KiB)"
else
    fail "blackhole collector: peak RSS $rss KiB against $prss KiB without --syslog"
fi

# ---- --output FILE ---------------------------------------------------------
out=$tmp/report.json
(umask 022; "$BIN" -q -r "$tmp/f40.pcap" --json --output "$out" >"$tmp/stdout.txt")
"$BIN" -q -r "$tmp/f40.pcap" --json --output "$out" >>"$tmp/stdout.txt"
ln -s "$out" "$tmp/link.json"
"$BIN" -q -r "$tmp/f40.pcap" --json --output "$tmp/link.json" >/dev/null 2>"$tmp/link.err"
lrc=$?
if [ ! -s "$tmp/stdout.txt" ] && [ "$(grep -c '"type":"summary"' "$out")" = 2 ] &&
   [ "$(stat -c %a "$out")" = 600 ] && [ $lrc = 2 ] && grep -q -- '--output' "$tmp/link.err"; then
    pass "--output: appended, mode 0600, nothing on standard output, a symbolic link refused"
else
    fail "--output: $(wc -l <"$out") lines, mode $(stat -c %a "$out"), link exit $lrc"
fi
JSONSCHEMA=$(python3 -c 'import jsonschema' 2>/dev/null && echo 1)
if [ -n "$JSONSCHEMA" ]; then
    if python3 - docs/smtpscope.schema.json "$tmp/tcp.log" "$tmp/udp.log" "$tmp/unix.log" <<'PYEOF'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator(schema)
n = 0
for f in sys.argv[2:]:
    for line in open(f):
        v.validate(json.loads(line)); n += 1
sys.exit(0 if n else 1)
PYEOF
    then pass "every object rsyslog received is valid against docs/smtpscope.schema.json"
    else fail "an object rsyslog received is not valid against the schema"; fi
fi

# ---- bad destinations -----------------------------------------------------
bad=0
for d in "tcp://" "tcp://127.0.0.1" "udp://host:99999" "ftp://x:1" "unix:" "tcp://[::1:514"; do
    "$BIN" -q -r "$tmp/f40.pcap" --syslog="$d" >/dev/null 2>"$tmp/bad.err"
    rc=$?
    { [ $rc = 2 ] && grep -q -- "--syslog" "$tmp/bad.err"; } || { bad=1; fail "--syslog=$d: exit $rc"; }
done
[ $bad = 0 ] && pass "bad destinations refused with exit 2 and a reason"

# ---- live: SIGHUP reopens --output and the syslog connection -----------------
[ -n "$LIVE" ] || exit 0
lo_pcap "$tmp/f40.pcap" "$tmp/lo.pcap" 90 || { fail "live: cannot make a loopback capture"; exit 0; }
lo_pcap "$tmp/f40.pcap" "$tmp/lo2.pcap" 89 || { fail "live: cannot make a loopback capture"; exit 0; }
"$BIN" -q -i lo --json --output "$tmp/live-out.json" --syslog="$TCP" net 127.88.0.0/13 \
    >"$tmp/hup.stdout" 2>"$tmp/hup.err" &
HPID=$!
pids+=("$HPID")
sleep 1.5
replay "$tmp/lo.pcap"
sleep 1
mv "$tmp/live-out.json" "$tmp/live-out.json.1"
kill -HUP "$HPID"
sleep 0.5
replay "$tmp/lo2.pcap"
sleep 1
alive=$(kill -0 "$HPID" 2>/dev/null && echo yes)
kill -TERM "$HPID"
wait "$HPID" 2>/dev/null
if [ "$alive" = yes ] && [ "$(grep -c '"type":"session"' "$tmp/live-out.json.1")" = 40 ] &&
   [ "$(grep -c '"type":"session"' "$tmp/live-out.json")" = 40 ] &&
   tail -n 1 "$tmp/live-out.json" | grep -q '"type":"summary".*"connects":2' &&
   [ "$(stat -c %a "$tmp/live-out.json")" = 600 ] && [ ! -s "$tmp/hup.stdout" ]; then
    pass "live SIGHUP: the capture goes on, --output opened anew after the move, syslog reconnected"
else
    fail "live SIGHUP: alive '$alive', $(grep -c '"type":"session"' "$tmp/live-out.json.1") + $(grep -c '"type":"session"' "$tmp/live-out.json" 2>/dev/null) sessions; $(tail -n 2 "$tmp/hup.err")"
fi

# ---- live: -i lo, tcpreplay ------------------------------------------------
: >"$tmp/tcp.log"
"$BIN" -q -i lo --json --syslog="$TCP" net 127.90.0.0/16 >"$tmp/live.json" 2>"$tmp/live.err" &
LPID=$!
pids+=("$LPID")
sleep 1.5
replay "$tmp/lo.pcap" || fail "live: tcpreplay: $(tail -n 2 "$tmp/tcpreplay.log")"
sleep 1.5
kill -TERM "$LPID"
wait "$LPID" 2>/dev/null
settle "$tmp/tcp.log"
if [ "$(grep -c '"type":"session"' "$tmp/live.json")" = 40 ] && cmp -s "$tmp/live.json" "$tmp/tcp.log"; then
    pass "live -i lo: rsyslog received the --json output line for line ($(lines "$tmp/tcp.log") objects)"
else
    fail "live -i lo: $(lines "$tmp/tcp.log") received, $(lines "$tmp/live.json") written; $(tail -n 3 "$tmp/live.err")"
fi
