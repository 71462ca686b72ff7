#!/usr/bin/env bash
# tests/evidence_pipe.sh - --evidence with a capture that cannot be read
# again (-r FIFO, -r <(cmd)): the analysis reads the whole capture, no
# hash or pcap is attempted (that would reopen the pipe, eat the rest of
# the capture, then wait forever), and each .txt says why.
cd "$(dirname "$0")/.." && . tests/lib.sh evidence_pipe
sample=samples/clean-multi-transaction.pcap
want=$("$bin" -q --json -r "$sample" 2>/dev/null | grep -c '"type":"session"')

# The capture three times in a row through a FIFO: a reopen would eat
# what follows the first copy.
mkfifo "$tmp/fifo"
(cat "$sample"; tail -c +25 "$sample"; tail -c +25 "$sample") >"$tmp/fifo" &
mkdir "$tmp/ev"
timeout 60 "$bin" -q --json --fail-on info --evidence "$tmp/ev" -r "$tmp/fifo" >"$tmp/out" 2>"$tmp/err"
rc=$?
got=$(grep -c '"type":"session"' "$tmp/out")
if [ "$rc" -eq 124 ]; then
    bad "FIFO: the run did not end (the cut waits on the pipe)"
elif [ "$got" -ne $((3 * want)) ]; then
    bad "FIFO: $got sessions reported, expected $((3 * want)); $(head -c 200 "$tmp/err")"
else
    ok "FIFO: every session analysed, the run ends"
fi
if ls "$tmp"/ev/*.txt >/dev/null 2>&1 && ! ls "$tmp"/ev/*.pcap >/dev/null 2>&1 &&
   grep -q "not a regular file" "$tmp"/ev/*.txt; then
    ok "FIFO: reports say why no pcap, none attempted"
else
    bad "FIFO: evidence: $(ls "$tmp/ev" | head -5 | tr '\n' ' ')"
fi
mkdir "$tmp/ev2"
timeout 60 "$bin" -q --fail-on info --evidence "$tmp/ev2" -r <(cat "$sample") >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 124 ] && [ "$rc" -le 1 ] && grep -q "not a regular file" "$tmp"/ev2/*.txt 2>/dev/null; then
    ok "-r <(cmd): ends, reports say why no pcap"
else
    bad "-r <(cmd): exit $rc; $(head -c 200 "$tmp/err")"
fi


# A capture file changed between the analysis and the cut. -r FILE -r FIFO
# (--separate): FILE is analysed whole before the FIFO is opened, so the
# writer of the FIFO knows when to change FILE; the cut comes after both.
# change_during HOW: the function HOW changes $tmp/c/a.pcap once the analysis is
# in the FIFO; the run's exit status, stderr and evidence are left in
# $tmp/c.
change_during() {
    rm -rf "$tmp/c"; mkdir -p "$tmp/c/ev"
    cp "$sample" "$tmp/c/a.pcap"
    mkfifo "$tmp/c/fifo"
    timeout 60 "$bin" -q --separate --evidence "$tmp/c/ev" -r "$tmp/c/a.pcap" -r "$tmp/c/fifo" \
        >/dev/null 2>"$tmp/c/err" &
    local pid=$!
    # Once smtpscope waits in the FIFO's open (a writer may then open it
    # without blocking): change FILE, then feed the FIFO. A run that died
    # before must not leave the writer waiting.
    export -f "$1"; export tmp sample
    python3 - "$tmp/c/fifo" "$pid" "$1" samples/clean.pcap.gz <<'PY' || kill "$pid" 2>/dev/null
import errno, os, subprocess, sys, time
fifo, pid, how, data = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
for _ in range(600):
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        break
    except OSError as e:
        if e.errno != errno.ENXIO:
            raise
        os.kill(pid, 0)
        time.sleep(0.1)
else:
    sys.exit(1)
subprocess.run(['bash', '-c', how], check=True)
os.set_blocking(fd, True)
with os.fdopen(fd, 'wb') as f:
    f.write(open(data, 'rb').read())
PY
    wait "$pid"
    echo $? >"$tmp/c/rc"
}
replaced() { cp samples/clean.pcap.gz "$tmp/c/new"; mv "$tmp/c/new" "$tmp/c/a.pcap"; }
appended() { tail -c +25 "$sample" >>"$tmp/c/a.pcap"; }
for how in replaced appended; do
    change_during "$how"
    rc=$(cat "$tmp/c/rc")
    if [ "$rc" -ne 3 ]; then
        bad "capture $how during the run: exit $rc, expected 3: $(head -c 300 "$tmp/c/err")"
    elif [ "$(grep -c 'a.pcap: the capture file changed during the run' "$tmp/c/err")" -ne 1 ]; then
        bad "capture $how during the run: not one line naming it: $(head -c 300 "$tmp/c/err")"
    elif ls "$tmp"/c/ev/1-session-*.pcapng >/dev/null 2>&1; then
        bad "capture $how during the run: packets cut from the other file"
    elif ! grep -q '^packets:       not written: the capture file changed during the run' \
            "$tmp"/c/ev/1-session-1.txt; then
        bad "capture $how during the run: the .txt does not say why: $(grep '^packets' "$tmp"/c/ev/1-session-1.txt)"
    else
        ok "capture $how during the run: nothing cut from it, said once, the .txt says why, exit 3"
    fi
done

# Rewritten in place with its size and modification time kept (a copy
# tool that preserves them): the cut finds only part of the session; the
# .txt and standard error say how many packets are missing.
rewrite() {
    python3 - "$tmp/c/a.pcap" <<'PY'
import os, struct, sys
p = sys.argv[1]
st = os.stat(p)
d = bytearray(open(p, 'rb').read())
off, k = 24, 0
while off + 16 <= len(d):
    incl = struct.unpack_from('<I', d, off + 8)[0]
    k += 1
    if k > 20:                      # the last packets: other ports
        ip = off + 16 + 14
        tcp = ip + (d[ip] & 15) * 4
        d[tcp:tcp + 4] = b'\x00\x01\x00\x01'
    off += 16 + incl
open(p, 'r+b').write(d)
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
}
change_during rewrite
if grep -q 'a.pcap: 1 session miss packets in their pcapng file (5 of 25 packets' "$tmp/c/err" &&
   grep -q '^missing:       5 of the 25 packets the analysis counted for this session were not found' \
        "$tmp"/c/ev/1-session-1.txt; then
    ok "packets missing from the cut: counted on standard error and in the .txt"
else
    bad "packets missing from the cut: $(head -c 300 "$tmp/c/err"); $(grep -m1 '^missing' "$tmp"/c/ev/1-session-1.txt)"
fi
exit 0
