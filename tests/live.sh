#!/usr/bin/env bash
# tests/live.sh - live sniffing (-i) on the loopback interface.
#
# Only loopback carries test traffic: the samples are rewritten into
# 127.64.0.0/10 (tcprewrite --pnat, one /16 per sample so their 4-tuples
# never meet) before tcpreplay sends them onto lo, and real connections
# use 127.77.0.0/16. Every capture (smtpscope's and tcpdump's) is narrowed
# to those addresses, so other loopback traffic on the machine does not
# count. The destination MAC of replayed frames is a locally administered
# one that is not lo's, so the kernel's own TCP stack ignores them (no RST
# from the host, nothing delivered to a local mail server).
#
# Checks:
#  - replay: the findings (rule, side, count) smtpscope -i lo --json reports
#    live equal those of smtpscope -r on tcpdump's capture of the same
#    traffic; and equal those of the samples themselves;
#  - -w writes the SMTP connections' frames only, and the file re-opens
#    offline with the same findings;
#  - -Z nobody: /proc/PID/status shows the uid and gid of nobody and no
#    supplementary group of root while capturing, and capture goes on;
#  - SIGUSR1 prints the statistics and the capture goes on; SIGTERM ends it
#    with the statistics, the summary line last, exit status per findings;
#  - --idle-timeout closes a silent session by the clock, --max-sessions
#    evicts the oldest, both reported while the capture runs;
#  - the text report writes a session's block when it ends, not held back
#    by an older session still open;
#  - real sessions (python smtplib against a local SMTP server, or swaks
#    and aiosmtpd when installed): live equals offline;
#  - --tui during the capture (in tmux): the session appears, q ends it;
#  - --evidence live: a pcap per session equal to tcpdump's frames of that
#    session, a header naming lo, the filter and the pcap's SHA-256, no
#    spool left; --redact: no secret in the pcaps, masked packets with valid
#    checksums; a 40 MB message leaves the peak RSS small;
#  - the totals (text and JSON) name the interface and pcap_stats counts;
#  - -B SIZE: the kernel ring mapped is SIZE KiB (strace);
#  - -Z nobody with --evidence: bundles written as nobody, no call refused
#    after the drop, no file written outside --evidence and -w (strace,
#    empty working directory and TMPDIR), evidence names from numbers only
#    whatever the wire says, an unwritable DIR refused before capturing;
#  - --any-port: a client talking before the greeting on port 2626 gets
#    pregreeting, offline and live.
#
# Skips when not root, or tcpreplay, tcprewrite, tcpdump or python3 are
# missing (and the parts that need tmux, swaks/aiosmtpd).
set -u
cd "$(dirname "$0")/.."
BIN=${SMTPSCOPE:-$PWD/build/san/smtpscope}
REL=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
pass() { echo "PASS: live: $*"; }
fail() { echo "FAIL: live: $*"; }
skip() { echo "SKIP: live: $*"; }

[ "$(id -u)" = 0 ] || { skip "needs root (capture on lo)"; exit 0; }
for t in tcpreplay tcprewrite tcpdump python3; do
    command -v $t >/dev/null || { skip "$t not installed"; exit 0; }
done
[ -x "$BIN" ] || { skip "no program at $BIN"; exit 0; }
[ -x "$REL" ] || REL=$BIN
ip link show lo >/dev/null 2>&1 || { skip "no loopback interface"; exit 0; }

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${TMUXSOCK:-}" ] && tmux -L "$TMUXSOCK" kill-server 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=0

REPLAY_NET=127.64.0.0/10
FAKE_MAC=02:00:00:00:00:01

# findings FILE.json: "count rule side" lines, sorted.
findings() {
    grep '"type":"finding"' "$1" | grep -o '"rule":"[^"]*","side":"[^"]*"' |
        sed 's/"rule":"\([^"]*\)","side":"\([^"]*\)"/\1 \2/' | sort | uniq -c
}
# records FILE.json: the finding and session lines without where they were
# read ("file", "interface", and "uid", which holds the run and the file's
# place) and the times (two packet sockets stamp the same frame a
# microsecond apart), for a byte-for-byte comparison: frame numbers match,
# as both captures read the same frames.
records() {
    grep -E '"type":"(finding|session)"' "$1" |
        sed -E 's/,"(file|interface|uid)":("[^"]*"|null)//g; s/,"(time|start|end)":"[^"]*"//g'
}
# wait_for FILE REGEX SECONDS
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# start_live NAME ARGS...: smtpscope in the background; sets LPID.
start_live() {
    local name=$1; shift
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    LPID=$!
    pids+=("$LPID")
    sleep 1.5            # the interface is open well before this
}
# stop_live SIG: signals LPID, waits; sets LRC.
stop_live() {
    kill -"$1" "$LPID" 2>/dev/null
    wait "$LPID"
    LRC=$?
}
start_tcpdump() {
    tcpdump -i lo -U -s 0 -w "$tmp/$1" "$2" 2>"$tmp/$1.err" &
    TPID=$!
    pids+=("$TPID")
    wait_for "$tmp/$1.err" "listening on" 5
}

# ---- the samples, rewritten into loopback addresses ---------------------

samples=()
i=0
for f in samples/seed0*.pcap; do
    [ -f "$f" ] || continue
    # Ethernet and IPv4 only: lo carries Ethernet frames; IPv6 samples are
    # left out rather than mapped onto ::1 for both ends.
    tcpdump -r "$f" 2>&1 >/dev/null | grep -q 'EN10MB' || continue
    [ "$(tcpdump -nr "$f" ip6 2>/dev/null | wc -l)" = 0 ] || continue
    out="$tmp/replay-$i.pcap"
    tcprewrite --pnat=0.0.0.0/0:127.$((64 + i)).0.0/16 --enet-dmac=$FAKE_MAC \
        --enet-smac=00:00:00:00:00:00 --fixcsum -i "$f" -o "$out" 2>/dev/null || continue
    # Nothing but loopback may ever be addressed.
    if tcpdump -nr "$out" "not (src net 127.0.0.0/8 and dst net 127.0.0.0/8)" 2>/dev/null |
       grep -q .; then
        fail "rewritten $f still addresses something outside 127.0.0.0/8"
        exit 0
    fi
    samples+=("$out")
    orig+=("$f")
    i=$((i + 1))
done
[ ${#samples[@]} -gt 0 ] || { skip "no Ethernet IPv4 seed samples in samples/"; exit 0; }

# The reference: the samples analysed offline, each on its own.
for f in "${orig[@]}"; do "$REL" -q --json -r "$f"; done >"$tmp/orig.json" 2>/dev/null

# ---- replay: live == offline ---------------------------------------------

start_tcpdump replay.pcap "net $REPLAY_NET"
start_live replay "$BIN" -i lo --json -w "$tmp/w.pcap" "net $REPLAY_NET"
tcpreplay -i lo --multiplier=4 "${samples[@]}" >"$tmp/tcpreplay.log" 2>&1 ||
    { fail "tcpreplay failed: $(tail -n 3 "$tmp/tcpreplay.log")"; exit 0; }
sleep 1
kill -USR1 "$LPID"
if wait_for "$tmp/replay.err" "packets captured" 3 && kill -0 "$LPID" 2>/dev/null; then
    pass "SIGUSR1 prints the statistics and the capture goes on"
else
    fail "SIGUSR1: no statistics on stderr, or the program ended"
fi
stop_live INT
kill -INT "$TPID"; wait "$TPID" 2>/dev/null
"$REL" -q --json -r "$tmp/replay.pcap" >"$tmp/offline.json" 2>/dev/null
findings "$tmp/replay.out" >"$tmp/live.f"
findings "$tmp/offline.json" >"$tmp/offline.f"
findings "$tmp/orig.json" >"$tmp/orig.f"
nlive=$(grep -c '"type":"finding"' "$tmp/replay.out")
nsess=$(grep -c '"type":"session"' "$tmp/replay.out")
if [ "$nlive" -gt 0 ] && cmp -s "$tmp/live.f" "$tmp/offline.f"; then
    pass "replay of ${#samples[@]} seed samples: $nlive findings in $nsess sessions, live == offline (tcpdump capture)"
else
    fail "replay: live findings differ from offline analysis of tcpdump's capture"
    diff "$tmp/live.f" "$tmp/offline.f" | head -20
fi
if records "$tmp/replay.out" | cmp -s - <(records "$tmp/offline.json"); then
    pass "replay: every finding and session record identical live and offline (but times)"
else
    fail "replay: records differ between live and offline"
    diff <(records "$tmp/replay.out") <(records "$tmp/offline.json") | head -6 | cut -c1-400
fi
notlo=$(grep -E '"type":"(finding|session)"' "$tmp/replay.out" |
        grep -cv '"uid":"[0-9a-f]\{16\}-0-[0-9]*","sensor":"[^"]*","file":null,"interface":"lo"')
if [ "$nsess" -gt 0 ] && [ "$notlo" -eq 0 ]; then
    pass "replay: every live record names interface lo, no file, uid RUN-0-ID"
else
    fail "replay: $notlo live records do not name interface lo"
fi
if cmp -s "$tmp/live.f" "$tmp/orig.f"; then
    pass "replay: live findings == the samples' own offline findings"
else
    fail "replay: live findings differ from the samples' own"
    diff "$tmp/live.f" "$tmp/orig.f" | head -20
fi
if [ "$LRC" = 1 ] && tail -n 1 "$tmp/replay.out" | grep -q '"type":"summary"' &&
   grep -q "dropped by kernel" "$tmp/replay.err"; then
    pass "SIGINT: statistics on stderr, summary last, exit status 1 (error findings)"
else
    fail "SIGINT: exit $LRC, last line: $(tail -n 1 "$tmp/replay.out" | cut -c1-80)"
fi
if grep -q "ERROR: AddressSanitizer\|runtime error" "$tmp/replay.err"; then
    fail "sanitizer report: $(grep -m1 "ERROR\|runtime error" "$tmp/replay.err")"
fi
# -w: re-opens offline with the same findings.
"$REL" -q --json -r "$tmp/w.pcap" >"$tmp/w.json" 2>/dev/null
findings "$tmp/w.json" >"$tmp/w.f"
if cmp -s "$tmp/w.f" "$tmp/live.f"; then
    pass "-w file re-opens offline with the live findings"
else
    fail "-w file analysed offline differs from live"
    diff "$tmp/w.f" "$tmp/live.f" | head
fi

# -w keeps SMTP connections only: the same traffic plus a copy moved to
# port 8080 (not SMTP), captured with a BPF that lets both in.
tcprewrite --portmap=25:8080,587:8080,2525:8080 --fixcsum -i "${samples[0]}" \
    -o "$tmp/other.pcap" 2>/dev/null
start_live wonly "$BIN" -i lo -q --json -w "$tmp/w2.pcap" "net $REPLAY_NET"
tcpreplay -i lo --topspeed "${samples[0]}" "$tmp/other.pcap" >/dev/null 2>&1
sleep 1
stop_live TERM
nsmtp=$(tcpdump -nr "${samples[0]}" 2>/dev/null | wc -l)
nw=$(tcpdump -nr "$tmp/w2.pcap" 2>/dev/null | wc -l)
nother=$(tcpdump -nr "$tmp/w2.pcap" 'tcp port 8080' 2>/dev/null | wc -l)
if [ "$nw" = "$nsmtp" ] && [ "$nother" = 0 ]; then
    pass "-w writes the $nsmtp frames of the SMTP connection, none of port 8080"
else
    fail "-w wrote $nw frames ($nother on port 8080), expected $nsmtp and 0"
fi

# -C 1: the -w file rotates past a million bytes (FILE, FILE1, ...), and
# the pieces together hold every frame.
big="$tmp/replay-big.pcap"
mergecap -w "$big" "${samples[@]}" 2>/dev/null || cp "${samples[0]}" "$big"
reps=$(( 1500000 / $(stat -c %s "$big") + 1 ))
start_live rot "$BIN" -i lo -q --json -w "$tmp/rot.pcap" -C 1 "net $REPLAY_NET"
tcpreplay -i lo --topspeed --loop=$reps "$big" >/dev/null 2>&1
# On a loaded machine the sanitizer build may still be draining the
# kernel's buffer: stop once the files have stopped growing.
last=-1
for _ in $(seq 40); do
    sleep 0.5
    now=$(cat "$tmp"/rot.pcap* 2>/dev/null | wc -c)
    [ "$now" = "$last" ] && break
    last=$now
done
stop_live INT
nfiles=$(ls "$tmp"/rot.pcap* 2>/dev/null | wc -l)
total=0
for f in "$tmp"/rot.pcap*; do total=$((total + $(tcpdump -nr "$f" 2>/dev/null | wc -l))); done
want=$(( $(tcpdump -nr "$big" 2>/dev/null | wc -l) * reps ))
maxsz=$(stat -c %s "$tmp"/rot.pcap* | sort -n | tail -n 1)
# Frames the kernel dropped are not lost in silence: the summary counts them.
kdrop=$(grep -o '"dropped_kernel":[0-9]*' "$tmp/rot.out" | tail -n 1 | cut -d: -f2)
if [ "$nfiles" -ge 2 ] && [ "$total" = "$want" ] && [ -f "$tmp/rot.pcap1" ] &&
   [ "$maxsz" -lt 1100000 ]; then
    pass "-w -C 1: $nfiles files (largest $maxsz bytes) holding all $want frames"
elif [ "$nfiles" -ge 2 ] && [ -n "$kdrop" ] && [ "$kdrop" -gt 0 ] &&
     [ $((total + kdrop)) -ge "$want" ] && [ "$maxsz" -lt 1100000 ]; then
    pass "-w -C 1: $nfiles files (largest $maxsz bytes) holding $total of $want frames, the kernel's $kdrop drops counted in the summary"
else
    fail "-w -C 1: $nfiles files, $total frames of $want (kernel drops counted: ${kdrop:-none}), largest $maxsz bytes"
fi
# What -w -C wrote, read back as one capture: the sessions and findings the
# live run reported (sessions cross the cuts; read file by file they would
# start mid-stream and end truncated).
rules() { grep -o '"rule":"[^"]*"' | sort | uniq -c; }
"$REL" -q --json -r "$tmp"/rot.pcap* "net $REPLAY_NET" >"$tmp/rot.back" 2>&1
live_s=$(grep -c '"type":"session"' "$tmp/rot.out")
back_s=$(grep -c '"type":"session"' "$tmp/rot.back")
if [ "$nfiles" -ge 2 ] && [ "$live_s" -gt 0 ] && [ "$live_s" = "$back_s" ] &&
   [ "$(rules <"$tmp/rot.out")" = "$(rules <"$tmp/rot.back")" ]; then
    pass "-w -C 1: the $nfiles files read as one capture: the live run's $live_s sessions and findings"
else
    fail "-w -C 1: read back: $back_s sessions (live $live_s), rules [$(rules <"$tmp/rot.back" | tr '\n' ' ')] vs [$(rules <"$tmp/rot.out" | tr '\n' ' ')]"
fi

# ---- -Z nobody -------------------------------------------------------------

if id nobody >/dev/null 2>&1; then
    uid=$(id -u nobody); gid=$(id -g nobody)
    start_live dropz "$REL" -i lo --json -Z nobody "net $REPLAY_NET"
    st=$(cat /proc/"$LPID"/status 2>/dev/null)
    u=$(echo "$st" | awk '/^Uid:/ {print $2, $3, $4, $5}')
    g=$(echo "$st" | awk '/^Gid:/ {print $2, $3, $4, $5}')
    groups=$(echo "$st" | awk '/^Groups:/ {$1 = ""; print}')
    tcpreplay -i lo --topspeed "${samples[0]}" >/dev/null 2>&1
    sleep 1
    stop_live TERM
    if [ "$u" = "$uid $uid $uid $uid" ] && [ "$g" = "$gid $gid $gid $gid" ] &&
       ! echo " $groups " | grep -q " 0 "; then
        pass "-Z nobody: Uid $u, Gid $g, Groups [${groups# }] while capturing"
    else
        fail "-Z nobody: Uid '$u' Gid '$g' Groups '$groups' (want $uid, $gid)"
    fi
    if grep -q '"type":"session"' "$tmp/dropz.out"; then
        pass "-Z nobody: sessions still captured after the drop"
    else
        fail "-Z nobody: nothing captured after the drop ($(head -c 200 "$tmp/dropz.err"))"
    fi
    if "$REL" -i lo -Z no-such-user-smtpscope -q >/dev/null 2>"$tmp/nouser.err"; then
        fail "-Z with an unknown user ran"
    elif [ $? = 2 ] && grep -q "no such user" "$tmp/nouser.err"; then
        pass "-Z with an unknown user: exit 2 and a reason"
    else
        fail "-Z unknown user: $(cat "$tmp/nouser.err")"
    fi
else
    skip "-Z: no user nobody"
fi

# ---- SIGTERM on a clean capture: exit 0 -----------------------------------

clean=""
for k in "${!orig[@]}"; do
    case ${orig[$k]} in *exchange-correct*) clean=${samples[$k]} ;; esac
done
if [ -n "$clean" ]; then
    start_live term "$BIN" -i lo --json "net $REPLAY_NET"
    tcpreplay -i lo --topspeed "$clean" >/dev/null 2>&1
    sleep 1
    stop_live TERM
    if [ "$LRC" = 0 ] && grep -q '"type":"session"' "$tmp/term.out" &&
       tail -n 1 "$tmp/term.out" | grep -q '"type":"summary"' &&
       grep -q "dropped by interface" "$tmp/term.err"; then
        pass "SIGTERM after a clean session: exit 0, summary last, statistics"
    else
        fail "SIGTERM clean: exit $LRC, $(tail -n 2 "$tmp/term.err")"
    fi
fi

# ---- real connections: idle timeout, eviction, text order ----------------

# peer.py ADDR PORT CMDFILE: an SMTP-ish server on ADDR:PORT and clients
# driven by lines written to CMDFILE: "open N" (connect, greeting, EHLO),
# "quit N" (QUIT, 221, close both ways), "end".
cat >"$tmp/peer.py" <<'EOF'
import socket, sys, threading, time
addr, port, cmdfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port)); ls.listen(16)
def serve(c):
    f = c.makefile("rb")
    c.sendall(b"220 peer.test ESMTP\r\n")
    for line in f:
        v = line[:4].upper()
        if v == b"QUIT":
            c.sendall(b"221 2.0.0 bye\r\n"); break
        c.sendall(b"250 peer.test\r\n")
    c.close()
def accept():
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
threading.Thread(target=accept, daemon=True).start()
conns = {}
done = 0
while True:
    with open(cmdfile) as f:
        lines = f.read().splitlines()
    for cmd in lines[done:]:
        w = cmd.split()
        if w[0] == "open":
            s = socket.create_connection((addr, port)); s.recv(100)
            s.sendall(b"EHLO client.test\r\n"); s.recv(100)
            conns[w[1]] = s
        elif w[0] == "quit":
            s = conns.pop(w[1]); s.sendall(b"QUIT\r\n"); s.recv(100); s.close()
        elif w[0] == "end":
            print("done end", flush=True)
            sys.exit(0)
        print("done", cmd, flush=True)
    done = len(lines)
    time.sleep(0.05)
EOF
peer() {  # peer NAME ADDR: starts the peer; commands go to $tmp/NAME.cmd
    : >"$tmp/$1.cmd"
    python3 "$tmp/peer.py" "$2" 2525 "$tmp/$1.cmd" >"$tmp/$1.peer" 2>&1 &
    pids+=("$!")
    sleep 0.3
}
cmd() { echo "$2" >>"$tmp/$1.cmd"; wait_for "$tmp/$1.peer" "^done $2\$" 5; }

# Idle timeout: a session silent for 2 s is closed by the clock.
start_live idle "$BIN" -i lo --json --idle-timeout 2 "host 127.77.0.1"
peer idle 127.77.0.1
cmd idle "open 1"
t0=$(date +%s)
if wait_for "$tmp/idle.out" '"type":"session".*"how":"timeout"' 6; then
    pass "--idle-timeout 2: the silent session reported as timeout after $(( $(date +%s) - t0 )) s, capture running"
else
    fail "--idle-timeout 2: no timeout session within 6 s"
fi
cmd idle "quit 1"; cmd idle end
stop_live INT

# Session cap: the third connection evicts the first, reported at once.
start_live cap "$BIN" -i lo --json --max-sessions 2 "host 127.77.0.2"
peer cap 127.77.0.2
cmd cap "open 1"; cmd cap "open 2"; cmd cap "open 3"
if wait_for "$tmp/cap.out" '"type":"session","id":1,.*"how":"evicted"' 3; then
    pass "--max-sessions 2: the oldest session evicted and reported when the third opens"
else
    fail "--max-sessions 2: no evicted session reported"
fi
cmd cap "quit 2"; cmd cap "quit 3"; cmd cap end
stop_live INT
if grep -q "1 evicted" "$tmp/cap.err"; then
    pass "--max-sessions: the eviction counted in the statistics"
else
    fail "--max-sessions: statistics: $(tail -n 1 "$tmp/cap.err")"
fi

# Text report: session 2 printed when it ends, session 1 still open.
start_live order "$BIN" -i lo --color never "host 127.77.0.3"
peer order 127.77.0.3
cmd order "open 1"; cmd order "open 2"; cmd order "quit 2"
if wait_for "$tmp/order.out" '^session 2 ' 3 && ! grep -q '^session 1 ' "$tmp/order.out"; then
    pass "text report: a session's block is written when it ends, before an older open one"
else
    fail "text report: session 2 not written while session 1 is open"
fi
cmd order "quit 1"; cmd order end
sleep 0.5
stop_live INT
if grep -q '^session 1 ' "$tmp/order.out" && grep -q '^totals:' "$tmp/order.out"; then
    pass "text report: session 1 follows when it ends, totals last"
else
    fail "text report: session 1 or totals missing"
fi

# ---- live evidence, hardening, -B, totals, --any-port -------------------

# smtpp.py server ADDR PORT DELAY GREETING: an SMTP sink; each connection
# waits DELAY seconds, greets, answers EHLO/MAIL/RCPT with 250, DATA with
# 354 then 250 at the end of the content, QUIT with 221.
# smtpp.py client ADDR PORT [early=N|early=TEXT] [ehlo=..] [mail=..]
#   [rcpt=..] [size=N] [secret=WORD]: one session; early bytes go before
# the greeting is read; the message is SIZE bytes of lines holding WORD.
cat >"$tmp/smtpp.py" <<'PYEOF'
import socket, sys, threading, time
def server(addr, port, delay, greeting):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port)); ls.listen(16)
    def serve(c):
        f = c.makefile("rb")
        time.sleep(delay)
        c.sendall(greeting.encode() + b"\r\n")
        for line in f:
            v = line[:4].upper()
            if v == b"QUIT":
                c.sendall(b"221 2.0.0 bye\r\n"); break
            if v == b"DATA":
                c.sendall(b"354 go ahead\r\n")
                for l in f:
                    if l == b".\r\n": break
                c.sendall(b"250 2.0.0 queued\r\n"); continue
            c.sendall(b"250 ok\r\n")
        c.close()
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
def client(addr, port, opts):
    o = dict(a.split("=", 1) for a in opts)
    s = socket.create_connection((addr, port)); f = s.makefile("rb")
    early = o.get("early", "")
    if early.isdigit():
        s.sendall(b"E" * (int(early) - 2) + b"\r\n")
    elif early:
        s.sendall(early.encode() + b"\r\n")
    f.readline()
    def cmd(line):
        s.sendall(line.encode("latin-1") + b"\r\n")
        while True:
            r = f.readline()
            if r[3:4] != b"-": return r
    cmd("EHLO " + o.get("ehlo", "client.test"))
    cmd("MAIL FROM:<" + o.get("mail", "a@example.com") + ">")
    cmd("RCPT TO:<" + o.get("rcpt", "b@example.com") + ">")
    cmd("DATA")
    line = ("Subject: t " + o.get("secret", "x") + " " + "y" * 60)[:70].encode() + b"\r\n"
    size = int(o.get("size", "200"))
    body = line * (size // len(line) + 1)
    for i in range(0, size, 65536):
        s.sendall(body[i:min(i + 65536, size)])
    cmd("\r\n.")
    cmd("QUIT")
    s.close()
if sys.argv[1] == "server":
    server(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
else:
    client(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
PYEOF
smtpd() {  # smtpd ADDR PORT DELAY GREETING
    python3 "$tmp/smtpp.py" server "$@" >"$tmp/smtpd-$1.log" 2>&1 &
    pids+=("$!")
    sleep 0.3
}
smtpc() { timeout 60 python3 "$tmp/smtpp.py" client "$@"; }
# drops FILE.err: the kernel and interface drop counts of a run, summed.
drops() {
    sed -n 's/.* \([0-9]*\) dropped by kernel, \([0-9]*\) dropped by interface$/\1 \2/p' "$1" |
        tail -n 1 | awk '{print $1 + $2}'
}

# Evidence live: the replayed samples, one bundle per session, each pcap
# the session's frames exactly as tcpdump saw them.
evd="$tmp/ev-live"
start_tcpdump evl.pcap "net $REPLAY_NET"
start_live evl "$BIN" -i lo --json --evidence "$evd" "net $REPLAY_NET"
tcpreplay -i lo --multiplier=4 "${samples[@]}" >/dev/null 2>&1
sleep 1
stop_live INT
kill -INT "$TPID"; wait "$TPID" 2>/dev/null
ok=1; nchecked=0; why=""
# Frames lost by either capture would make the comparison fail for the
# wrong reason: then only the bundles are checked, not their frames.
evl_drops=$(( $(drops "$tmp/evl.err") + \
    $(sed -n 's/^\([0-9]*\) packets\? dropped by kernel$/\1/p' "$tmp/evl.pcap.err" | head -n 1) + 0 ))
[ "$evl_drops" = 0 ] || skip "--evidence live: $evl_drops frames dropped on lo under load: pcaps not compared with tcpdump's"
while read -r id client server; do
    p="$evd/session-$id.pcapng"; t="$evd/session-$id.txt"
    if [ ! -s "$p" ] || [ ! -s "$t" ]; then ok=0; why="session $id: no pcap or txt"; break; fi
    ca=${client%:*}; cport=${client##*:}; sa=${server%:*}; sport=${server##*:}
    want=$(tcpdump -n -t -r "$tmp/evl.pcap" \
        "host $ca and host $sa and tcp port $cport and tcp port $sport" 2>/dev/null | md5sum)
    got=$(tcpdump -n -t -r "$p" 2>/dev/null | md5sum)
    if [ "$evl_drops" = 0 ] && [ "$want" != "$got" ]; then
        ok=0; why="session $id: pcap differs from tcpdump's frames"; break
    fi
    sha=$(sha256sum "$p" | cut -d' ' -f1)
    if ! grep -q "^SHA-256: *$sha (of session-$id.pcapng" "$t" ||
       ! grep -q '^capture file:  none: captured live on interface lo$' "$t" ||
       ! grep -q "kernel filter \"net $REPLAY_NET\"" "$t" ||
       grep -q "standard input" "$t"; then
        ok=0; why="session $id: header: $(head -n 6 "$t" | tr '\n' '|')"; break
    fi
    capinfos "$p" >/dev/null 2>&1 || { ok=0; why="session $id: capinfos cannot read the pcap"; break; }
    nchecked=$((nchecked + 1))
done < <(grep '"type":"session"' "$tmp/evl.out" |
         sed -E 's/.*"id":([0-9]+),.*"client":"([^"]*)","server":"([^"]*)".*/\1 \2 \3/')
nsess=$(grep -c '"type":"session"' "$tmp/evl.out")
if [ "$ok" = 1 ] && [ "$nchecked" = "$nsess" ] && [ "$nsess" -gt 0 ]; then
    pass "--evidence live: $nsess sessions, each pcap = tcpdump's frames of the session, header names lo, filter, SHA-256 of the pcap"
else
    fail "--evidence live: $why ($nchecked of $nsess checked)"
fi
if grep -q "ERROR: AddressSanitizer\|runtime error\|LeakSanitizer" "$tmp/evl.err"; then
    fail "--evidence live: sanitizer report: $(grep -m1 "ERROR\|runtime error" "$tmp/evl.err")"
fi
if ls -A "$evd" | grep -qv '^\(session-[0-9]*\.\(txt\|pcapng\|html\)\|index\.html\)$'; then
    fail "--evidence live: left behind: $(ls -A "$evd" | grep -v '^session-\|^index\.html$' | head -3)"
else
    pass "--evidence live: only the bundles (session-ID.txt/.pcapng/.html, index.html) left in DIR (the spool is gone)"
fi
if tail -n 1 "$tmp/evl.out" | grep -q '"live":{"interface":"lo","received":[0-9]*,"dropped_kernel":[0-9]*,"dropped_interface":[0-9]*}'; then
    pass "live JSON summary: the interface and pcap_stats counts"
else
    fail "live JSON summary: $(tail -n 1 "$tmp/evl.out" | cut -c1-300)"
fi

# Totals in the text report: the interface, not "0 files".
start_live tot "$BIN" -i lo --color never "net $REPLAY_NET"
tcpreplay -i lo --topspeed "${samples[0]}" >/dev/null 2>&1
sleep 1
stop_live TERM
if grep -Eq '^totals: live capture on lo, [0-9]+ packets \([0-9]+ received by filter, [0-9]+ dropped by kernel, [0-9]+ dropped by interface\)' "$tmp/tot.out" &&
   ! grep -q '^totals: 0 files' "$tmp/tot.out"; then
    pass "text totals live: $(grep '^totals:' "$tmp/tot.out" | cut -c1-110)"
else
    fail "text totals live: $(grep '^totals:' "$tmp/tot.out")"
fi

# --redact live: the secret never reaches the pcap, the masked packets
# carry valid checksums. A 40 MB message: the program's memory does not
# follow it (release build, peak RSS), the pcap holds it all.
smtpd 127.77.0.6 2525 0 "220 sink.test ESMTP"
start_live red "$REL" -i lo --json --redact --max-sessions 1000 --evidence "$tmp/ev-red" \
    "host 127.77.0.6"
smtpc 127.77.0.6 2525 secret=SECRETWORD1234 size=40000000
smtpc 127.77.0.6 2525 secret=SECRETWORD1234 size=2000
sleep 1
hwm=$(awk '/^VmHWM/ {print $2}' /proc/"$LPID"/status)
stop_live INT
p1="$tmp/ev-red/session-1.pcapng"; p2="$tmp/ev-red/session-2.pcapng"
dropped=$(drops "$tmp/red.err")
if [ -s "$p1" ] && [ -s "$p2" ] && ! grep -qa SECRETWORD "$p1" "$p2" &&
   grep -qa "XXXXXXXXXXXXXXXX" "$p2"; then
    pass "--evidence --redact live: no secret in the session pcaps, content masked"
else
    fail "--evidence --redact live: pcaps missing or the secret is in them"
fi
bad=$(tshark -r "$p2" -o tcp.check_checksum:TRUE -Y 'tcp.payload contains "XXXX"' \
      -T fields -e tcp.checksum.status 2>/dev/null | sort | uniq -c)
if [ -n "$bad" ] && ! echo "$bad" | grep -qv ' 1$'; then
    pass "--evidence --redact live: masked packets have valid TCP checksums (tshark)"
else
    fail "--evidence --redact live: checksum status of masked packets: $bad"
fi
sz=$(stat -c %s "$p1" 2>/dev/null || echo 0)
if [ "${hwm:-999999}" -lt 60000 ] && { [ "$sz" -gt 40000000 ] || [ "${dropped:-1}" != 0 ]; }; then
    pass "--evidence live, 40 MB message: peak RSS $((hwm / 1024)) MB, session pcap $((sz / 1000000)) MB (drops: ${dropped:-?})"
else
    fail "--evidence live, 40 MB message: peak RSS ${hwm:-?} kB, pcap $sz bytes, drops ${dropped:-?}"
fi

# -B SIZE: the kernel ring libpcap maps is SIZE KiB; usage errors.
if command -v strace >/dev/null; then
    for b in 8192 0; do
        opt=(); [ $b != 0 ] && opt=(-B $b)
        strace -f -e trace=mmap -o "$tmp/B$b.strace" "$REL" -i lo -q "${opt[@]}" \
            "host 127.77.0.99" >/dev/null 2>&1 &
        bpid=$!; pids+=("$bpid"); sleep 1.5
        kill -TERM "$(ps -o pid= --ppid "$bpid")" 2>/dev/null; wait "$bpid" 2>/dev/null
    done
    if grep -q 'mmap(NULL, 8388608, PROT_READ|PROT_WRITE, MAP_SHARED' "$tmp/B8192.strace" &&
       grep -q 'mmap(NULL, 16777216, PROT_READ|PROT_WRITE, MAP_SHARED' "$tmp/B0.strace"; then
        pass "-B 8192: an 8 MiB kernel ring (16 MiB without -B)"
    else
        fail "-B: no ring of the asked size mapped"
    fi
else
    skip "-B: strace not installed"
fi
"$REL" -B 0 -i lo >/dev/null 2>"$tmp/B.err"; r1=$?
"$REL" -B 64 -r samples/seed000-dot-quit.pcap >/dev/null 2>>"$tmp/B.err"; r2=$?
if [ $r1 = 2 ] && [ $r2 = 2 ] && grep -q "^smtpscope: -B" "$tmp/B.err"; then
    pass "-B 0 and -B without -i: exit 2 with a reason"
else
    fail "-B usage: exit $r1/$r2, $(cat "$tmp/B.err")"
fi

# Hardening: -Z with --evidence, every file the program touches, names
# never from the wire. One run under strace (release build): -Z nobody,
# --evidence into a directory it creates, -w, the text report (its spool
# in TMPDIR), from an empty working directory; sessions whose greeting,
# EHLO, MAIL, RCPT and pre-greeting bytes carry ../ and slashes.
if id nobody >/dev/null 2>&1 && command -v strace >/dev/null; then
    chmod 711 "$tmp"              # nobody must reach its directories
    mkdir -p "$tmp/cwd" "$tmp/tmpdir"
    chown nobody "$tmp/tmpdir"    # a TMPDIR nobody may write (else -Z refuses)
    evz="$tmp/evz/sub"
    smtpd 127.77.0.7 2525 0 "220 ../../../../tmp/evil-smtpscope/greeting ESMTP"
    (cd "$tmp/cwd" && TMPDIR="$tmp/tmpdir" exec strace -f -qq -o "$tmp/z.strace" \
        -e trace=%file,setuid,setgid,setgroups,chown,fchown \
        "$REL" -i lo -Z nobody --color never --evidence "$evz" -w "$tmp/z-w.pcap" \
        "host 127.77.0.7" >"$tmp/z.out" 2>"$tmp/z.err") &
    spid=$!; pids+=("$spid"); sleep 2.5
    smtpc 127.77.0.7 2525 "ehlo=../../../../tmp/evil-smtpscope/ehlo" \
        "mail=../../../etc/passwd/x@y" "rcpt=/tmp/evil-smtpscope/../../rcpt" size=300
    smtpc 127.77.0.7 2525 "early=../../evil-smtpscope/early" size=100
    sleep 1
    kill -INT "$(ps -o pid= --ppid "$spid")" 2>/dev/null
    wait "$spid"
    owner=$(stat -c %U "$evz" "$evz"/session-1.pcapng 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -s "$evz/session-1.pcapng" ] && [ -s "$evz/session-2.txt" ] && [ "$owner" = "nobody " ]; then
        pass "-Z nobody --evidence: DIR made for nobody, bundles written after the drop (owner: $owner)"
    else
        fail "-Z nobody --evidence: owner '$owner', files: $(ls -A "$evz" 2>/dev/null | tr '\n' ' ') $(tail -n 2 "$tmp/z.err")"
    fi
    # After setuid: no call refused for want of privilege (but the
    # setuid(0) that checks there is no way back).
    after=$(awk '/setuid\(/ {on = 1} on' "$tmp/z.strace" | grep -v 'setuid(0) *= -1 EPERM')
    if [ -n "$after" ] && ! echo "$after" | grep -E '= -1 (EACCES|EPERM)' | grep -q .; then
        pass "-Z nobody: no file operation refused after the drop ($(echo "$after" | wc -l) calls)"
    else
        fail "-Z nobody: refused after the drop: $(echo "$after" | grep -E 'EACCES|EPERM' | head -3)"
    fi
    # Every path created, written, renamed or removed is under DIR or -w.
    touched=$(grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TMPFILE|mkdir|rename|unlink|rmdir|link\(|symlink|truncate|chown|chmod' \
        "$tmp/z.strace" | grep -v ' = -1 ' | grep -o '"[^"]*"' | tr -d '"' | sort -u)
    outside=$(echo "$touched" | grep -v -e "^$tmp/evz" -e "^$tmp/z-w.pcap\$" -e '^/dev/null$' \
        -e "^$tmp/tmpdir\$" -e "^$tmp/tmpdir/smtpscope-[A-Za-z0-9]*\$" -e '^/tmp$' -e "^$tmp\$" | grep .)
    if [ -n "$touched" ] && [ -z "$outside" ] && [ -z "$(ls -A "$tmp/cwd")" ] &&
       [ -z "$(ls -A "$tmp/tmpdir")" ]; then
        pass "no file written outside --evidence and -w ($(echo "$touched" | wc -l) paths, working directory and TMPDIR left empty)"
    else
        fail "files written elsewhere: $(echo "$outside" | head -5 | tr '\n' ' ') cwd: $(ls -A "$tmp/cwd") tmp: $(ls -A "$tmp/tmpdir")"
    fi
    names=$(ls -A "$evz" | tr '\n' ' ')
    if ! ls -A "$evz" | grep -qv '^\(session-[0-9]*\.\(txt\|pcapng\|html\)\|index\.html\)$' &&
       [ ! -e /tmp/evil-smtpscope ] && [ ! -e "$tmp/evil-smtpscope" ] &&
       grep -q 'EHLO ../../../../tmp/evil-smtpscope/ehlo' "$evz/session-1.txt"; then
        pass "evidence names from numbers only: $names(the hostile strings are in the report, not in names)"
    else
        fail "evidence names: $names"
    fi
    # refused WHAT PATTERN ENV [OPTION DIR]: -Z nobody with a directory
    # only root may write (an OPTION's DIR, or TMPDIR in ENV, a VAR=VALUE
    # or "") must end with exit 2 and the reason (PATTERN) before capturing.
    refused() {
        local what=$1 pattern=$2 envs=$3; shift 3
        env $envs "$REL" -i lo -q -Z nobody "$@" "host 127.77.0.99" \
            >/dev/null 2>"$tmp/refused.err" &
        local rpid=$! r
        pids+=("$rpid")
        for _ in $(seq 50); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$rpid" 2>/dev/null; then
            kill -TERM "$rpid"; wait "$rpid"
            fail "-Z nobody with a root-only $what: the capture ran"
            return
        fi
        wait "$rpid"; r=$?
        if [ $r = 2 ] && grep -q -- "$pattern" "$tmp/refused.err"; then
            pass "-Z nobody, a $what nobody cannot write: exit 2 before any packet"
        else
            fail "-Z nobody, unwritable $what: exit $r, $(cat "$tmp/refused.err")"
        fi
    }
    mkdir -p "$tmp/evroot"; chmod 755 "$tmp/evroot"
    for o in --evidence --write-streams; do
        refused "$o DIR" "$o .*evroot.*Permission denied.*nobody" "" "$o" "$tmp/evroot"
    done
    # TMPDIR: the temporary files of a long transcript would fail later
    refused TMPDIR "-Z nobody: cannot make a temporary file in .*evroot as nobody" \
        "TMPDIR=$tmp/evroot"
    chmod 700 "$tmp"
else
    skip "-Z --evidence, files written: no user nobody or no strace"
fi

# --any-port: a client that talks before the greeting on port 2626.
# Offline first: the pregreeting sample moved to 2626 reads as on 25.
tcprewrite --portmap=25:2626,587:2626,2525:2626 --fixcsum -i samples/pregreeting.pcap \
    -o "$tmp/pg2626.pcap" 2>/dev/null
if diff <("$REL" --color never -r samples/pregreeting.pcap | sed 's/:25\( \|$\)/:2626\1/') \
        <("$REL" --color never --any-port -r "$tmp/pg2626.pcap") >/dev/null &&
   "$REL" --any-port --json -r "$tmp/pg2626.pcap" | grep -q '"rule":"pregreeting"'; then
    pass "--any-port offline: pregreeting on port 2626, same report as on port 25"
else
    fail "--any-port offline: the report on 2626 differs from that on 25"
fi
smtpd 127.77.0.8 2626 0.7 "220 slow.test ESMTP"
start_live anyp "$BIN" -i lo --json --any-port "host 127.77.0.8"
smtpc 127.77.0.8 2626 "early=EHLO early.test"
smtpc 127.77.0.8 2626 early=3000
smtpc 127.77.0.8 2626
sleep 1
stop_live INT
if grep -q "ERROR: AddressSanitizer\|runtime error\|LeakSanitizer" "$tmp/anyp.err"; then
    fail "--any-port live: sanitizer report: $(grep -m1 "ERROR\|runtime error" "$tmp/anyp.err")"
fi
s1=$(grep '"type":"finding","session":1,' "$tmp/anyp.out" | grep -o '"rule":"[^"]*"' | sort -u | tr '\n' ' ')
s2=$(grep '"type":"finding","session":2,' "$tmp/anyp.out" | grep -o '"rule":"[^"]*"' | sort -u | tr '\n' ' ')
s3=$(grep -c '"type":"finding","session":3,' "$tmp/anyp.out")
if echo "$s1" | grep -q pregreeting && echo "$s2" | grep -q pregreeting &&
   echo "$s2" | grep -q capture-gap && [ "$s3" = 0 ] &&
   [ "$(grep -c '"type":"session"' "$tmp/anyp.out")" = 3 ]; then
    pass "--any-port live: pregreeting on port 2626 (a 3000-byte burst: 2048 kept, the rest a gap); none for a patient client"
else
    fail "--any-port live: session 1: $s1; session 2: $s2; session 3: $s3 findings"
fi

# --any-port with --evidence: a connection that is not SMTP (an HTTP-like
# server sending 2 MB) is not spooled beyond 256 KiB (strace counts the
# bytes written), while an SMTP session on the same port gets its bundle.
if command -v strace >/dev/null; then
    python3 - 127.77.0.9 2727 >"$tmp/http.log" 2>&1 <<'PYEOF' &
import socket, sys, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2]))); ls.listen(4)
while True:
    c, _ = ls.accept()
    c.recv(100)
    c.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"z" * 2000000)
    c.close()
PYEOF
    pids+=("$!")
    smtpd 127.77.0.9 2626 0 "220 any.test ESMTP"
    sleep 0.3
    strace -f -e trace=writev,write -o "$tmp/anyev.strace" "$REL" -i lo -q --json --any-port \
        --evidence "$tmp/ev-any" "host 127.77.0.9" >"$tmp/anyev.out" 2>"$tmp/anyev.err" &
    spid=$!; pids+=("$spid"); sleep 2
    python3 -c 'import socket,sys; s=socket.create_connection(("127.77.0.9",2727)); s.sendall(b"GET / HTTP/1.0\r\n\r\n"); n=0
while True:
    d=s.recv(65536)
    if not d: break
    n+=len(d)
print(n)' >"$tmp/http.got"
    smtpc 127.77.0.9 2626
    sleep 1
    kill -INT "$(ps -o pid= --ppid "$spid")" 2>/dev/null
    wait "$spid"
    spooled=$(grep -E '^[0-9]+ +writev\(' "$tmp/anyev.strace" | grep -o '= [0-9]*$' |
              awk '{s += $2} END {print s + 0}')
    if [ "$(cat "$tmp/http.got")" -ge 2000000 ] && [ "$spooled" -lt 400000 ] &&
       [ -s "$tmp/ev-any/session-2.pcapng" ] && [ ! -e "$tmp/ev-any/session-1.pcapng" ]; then
        pass "--any-port --evidence: 2 MB of a non-SMTP connection, $spooled bytes spooled; the SMTP session's bundle written"
    else
        fail "--any-port --evidence: $spooled bytes spooled for $(cat "$tmp/http.got") received; $(ls "$tmp/ev-any" 2>/dev/null | tr '\n' ' ')"
    fi
else
    skip "--any-port --evidence spool bound: strace not installed"
fi

# ---- real SMTP sessions: swaks against aiosmtpd, live == offline ---------

PY=/usr/bin/python3
if command -v swaks >/dev/null && [ -x $PY ] && $PY -c 'import aiosmtpd' 2>/dev/null; then
    $PY -m aiosmtpd -n -l 127.77.0.5:2525 >"$tmp/aiosmtpd.log" 2>&1 &
    pids+=("$!")
    start_tcpdump real.pcap "host 127.77.0.5"
    start_live real "$BIN" -i lo --json "host 127.77.0.5"
    sw() { swaks --server 127.77.0.5 --port 2525 --from a@example.com "$@" >>"$tmp/swaks.log" 2>&1; }
    sw --to b@example.com
    sw --to b@example.com,c@example.com --body "line 1
line 2"
    sw --to b@example.com --quit-after RCPT
    sw --to b@example.com --helo client.test --protocol SMTP
    # A client that breaks the rules against the real server: pipelining
    # that was not advertised, a bare LF in the content, no QUIT.
    exec 3<>/dev/tcp/127.77.0.5/2525
    read -r -t 5 _ <&3
    printf 'EHLO raw.test\r\n' >&3; sleep 0.2
    # (one write: the printf builtin would send a segment per line)
    printf 'MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n' >"$tmp/group"
    cat "$tmp/group" >&3; sleep 0.2
    printf 'DATA\r\n' >&3; sleep 0.2
    printf 'Subject: x\r\n\r\nbare\nLF\r\n.\r\n' >&3; sleep 0.3
    exec 3>&-
    sleep 1
    stop_live INT
    kill -INT "$TPID"; wait "$TPID" 2>/dev/null
    "$REL" -q --json -r "$tmp/real.pcap" >"$tmp/real-offline.json" 2>/dev/null
    ns=$(grep -c '"type":"session"' "$tmp/real.out")
    nf=$(grep -c '"type":"finding"' "$tmp/real.out")
    if [ "$ns" -ge 5 ] && grep '"session":5,' "$tmp/real.out" | grep -q '"rule":"pipelining-unadvertised"' &&
       records "$tmp/real.out" | cmp -s - <(records "$tmp/real-offline.json"); then
        pass "swaks/aiosmtpd: $ns real sessions, $nf findings ($(findings "$tmp/real.out" | awk '{printf "%s%s", s, $2; s=","}')), live == offline"
    else
        fail "swaks/aiosmtpd: $ns sessions, $nf findings, or live != offline"
        diff <(records "$tmp/real.out") <(records "$tmp/real-offline.json") | head -6 | cut -c1-300
    fi
    if grep '"type":"finding"' "$tmp/real.out" | grep -v '"session":5,' | grep -q .; then
        fail "swaks/aiosmtpd: findings on the well-behaved swaks sessions: $(grep '"type":"finding"' "$tmp/real.out" | grep -v '"session":5,' | head -2 | cut -c1-200)"
    else
        pass "swaks/aiosmtpd: no finding on the 4 well-behaved sessions"
    fi
else
    skip "real sessions: swaks and python3-aiosmtpd not installed"
fi

# ---- real postfix (as tests/realmail.sh sets it up: loopback only) ------
# (No STARTTLS here: the certificate realmail.sh configures lives in its
# own temporary directory, gone once it has run; swaks then closes without
# QUIT after the 454, rightly reported.)

PATH=$PATH:/usr/sbin
if command -v postfix >/dev/null && command -v swaks >/dev/null &&
   [ "$(postconf -h inet_interfaces 2>/dev/null)" = loopback-only ]; then
    started_postfix=
    if ! postfix status >/dev/null 2>&1; then
        postfix start >/dev/null 2>&1 && started_postfix=1
    fi
    for _ in $(seq 50); do
        grep -q "0100007F:0019 .* 0A " /proc/net/tcp 2>/dev/null && break
        sleep 0.1
    done
    filt="host 127.0.0.1 and tcp port 25"
    start_tcpdump postfix.pcap "$filt"
    start_live postfix "$BIN" -i lo --json "$filt"
    S=(swaks --server 127.0.0.1 --port 25 --from a@localhost --to root@localhost)
    "${S[@]}" >>"$tmp/swaks.log" 2>&1
    "${S[@]}" --pipeline >>"$tmp/swaks.log" 2>&1
    "${S[@]}" --quit-after RCPT >>"$tmp/swaks.log" 2>&1
    "${S[@]}" --to nobody@elsewhere.example >>"$tmp/swaks.log" 2>&1
    sleep 1
    stop_live INT
    kill -INT "$TPID"; wait "$TPID" 2>/dev/null
    [ -n "$started_postfix" ] && postfix stop >/dev/null 2>&1
    "$REL" -q --json -r "$tmp/postfix.pcap" >"$tmp/postfix-offline.json" 2>/dev/null
    ns=$(grep -c '"type":"session"' "$tmp/postfix.out")
    if [ "$ns" -ge 4 ] &&
       records "$tmp/postfix.out" | cmp -s - <(records "$tmp/postfix-offline.json"); then
        pass "postfix: $ns real sessions (plain, pipelined, quit after RCPT, relay refused), live == offline"
    else
        fail "postfix: $ns sessions, or live != offline"
        diff <(records "$tmp/postfix.out") <(records "$tmp/postfix-offline.json") | head -6 | cut -c1-300
    fi
    if grep '"type":"finding"' "$tmp/postfix.out" | grep -q '"severity":"\(error\|warning\)"'; then
        fail "postfix: warning/error findings on postfix with swaks: $(grep '"type":"finding"' "$tmp/postfix.out" | head -2 | cut -c1-200)"
    else
        pass "postfix: no warning or error finding live"
    fi
else
    skip "postfix: not installed or not set up loopback-only (tests/realmail.sh does that)"
fi

# ---- --tui during the capture ----------------------------------------------

if command -v tmux >/dev/null; then
    TMUXSOCK="smtpscope-live-$$"
    T() { tmux -L "$TMUXSOCK" "$@"; }
    tui_start() {   # runs the timeline live in a pane; its pid in $tmp/tui.pid
        rm -f "$tmp/tui.pid" "$tmp/tui.done"
        T kill-session -t live 2>/dev/null
        T new-session -d -s live -x 120 -y 30 \
            "sh -c 'echo \$\$ > $tmp/tui.pid; LANG=C.UTF-8 exec $REL -i lo --tui \"net $REPLAY_NET\" 2>$tmp/tui.err'; echo EXIT=\$? > $tmp/tui.done; sleep 30"
        wait_for "$tmp/tui.pid" . 5
        sleep 1.5
    }
    screen() { T capture-pane -t live -p; }
    tui_start
    tcpreplay -i lo --topspeed "${samples[0]}" >/dev/null 2>&1
    ok=0
    for _ in $(seq 30); do screen | grep -q "1 session" && { ok=1; break; }; sleep 0.1; done
    if [ $ok = 1 ] && kill -0 "$(cat "$tmp/tui.pid")" 2>/dev/null; then
        pass "--tui: the session appears on screen while the capture runs"
    else
        fail "--tui: no session on screen: $(screen | head -3)"
    fi
    T send-keys -t live q
    if wait_for "$tmp/tui.done" EXIT= 5 && grep -q "packets captured" "$tmp/tui.err"; then
        pass "--tui: q ends capture and program, statistics after the screen closes"
    else
        fail "--tui: q did not end it"
    fi
    tui_start
    tcpreplay -i lo --topspeed "${samples[0]}" >/dev/null 2>&1
    sleep 0.5
    kill -INT "$(cat "$tmp/tui.pid")"
    sleep 1
    if [ ! -f "$tmp/tui.done" ] && screen | grep -q "1 session"; then
        pass "--tui: Ctrl-C ends the capture, the final state stays to browse"
    else
        fail "--tui: after SIGINT the screen is gone"
    fi
    T send-keys -t live q
    wait_for "$tmp/tui.done" EXIT= 5 || fail "--tui: q after SIGINT did not quit"
else
    skip "--tui: tmux not installed"
fi
