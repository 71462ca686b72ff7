#!/usr/bin/env bash
# tests/writes.sh - every write checked: an output that cannot be written
# in full is said on standard error, one line naming it, and the exit
# status is 3 (docs/interface.md), never 0 or 1 with a cut report.
#
# Faults: /dev/full (ENOSPC on every write) and a file-size limit
# (ulimit -f, with SIGXFSZ ignored so that the write fails with EFBIG as
# on a full disk).
#   - text report and JSON to /dev/full; --rules and --help to /dev/full
#   - a report file past the size limit
#   - the report's temporary file (long transcripts, --show-content) past
#     the size limit, and in a TMPDIR that does not exist (TMPDIR honoured)
#   - --evidence past the size limit: the bundles cut short are removed,
#     none left empty, and a second run into the same DIR is not blocked
#   - evidence files are 0600 under umask 000
#   - live -w on lo: the file 0600 under umask 000; -w /dev/full exit 3
cd "$(dirname "$0")/.." && . tests/lib.sh writes
# run NAME EXPECTED-STATUS STDERR-PATTERN -- command...: checks both
run_expect() {
    local name=$1 want=$2 pat=$3; shift 4
    "$@" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        bad "$name: exit $rc, expected $want; stderr: $(head -c 300 "$tmp/err")"
    elif ! grep -q -- "$pat" "$tmp/err"; then
        bad "$name: no line matching '$pat' on stderr: $(head -c 300 "$tmp/err")"
    else
        ok "$name"
    fi
}
big=samples/large-segments.pcap.gz
[ -f "$big" ] || { bad "missing $big"; exit 0; }

run_expect "text report to /dev/full" 3 "standard output: No space left on device" -- \
    sh -c '"$0" -r samples/clean.pcap.gz >/dev/full' "$bin"
run_expect "JSON to /dev/full" 3 "standard output: No space left on device" -- \
    sh -c '"$0" --json -r samples/clean.pcap.gz >/dev/full' "$bin"
run_expect "--rules to /dev/full" 3 "standard output" -- \
    sh -c '"$0" --rules >/dev/full' "$bin"
run_expect "--help to /dev/full" 3 "standard output" -- \
    sh -c '"$0" --help >/dev/full' "$bin"

# A report file limited to 2 KiB: the report is longer.
run_expect "report past the file-size limit" 3 "standard output: File too large" -- \
    sh -c 'trap "" XFSZ; ulimit -f 2; "$0" --show-content -r "$1" >"$2/report"' \
    "$bin" "$big" "$tmp"

# The temporary file of the report: long transcripts spill to it.
mkdir "$tmp/t"
run_expect "report's temporary file past the size limit" 3 "temporary file of the report" -- \
    sh -c 'trap "" XFSZ; ulimit -f 2; TMPDIR="$2/t" "$0" --show-content -r "$1" >/dev/null' \
    "$bin" "$big" "$tmp"
run_expect "TMPDIR honoured by the report's temporary file" 3 \
    "temporary file of the report (TMPDIR): No such file or directory" -- \
    sh -c 'TMPDIR="$2/none" "$0" --show-content -r "$1" >/dev/null' "$bin" "$big" "$tmp"
if [ -z "$(ls -A "$tmp/t")" ]; then ok "no temporary file left"; else bad "left in TMPDIR: $(ls "$tmp/t")"; fi

# --evidence on a "full disk": nothing cut short is left behind.
mkdir "$tmp/ev"
run_expect "evidence past the file-size limit" 3 "--evidence\|session-" -- \
    sh -c 'trap "" XFSZ; ulimit -f 1; "$0" -q --fail-on info --evidence "$2/ev" -r "$1" >/dev/null' \
    "$bin" "$big" "$tmp"
short=0
for f in "$tmp"/ev/*; do
    [ -e "$f" ] || continue
    case $f in
    *.pcap|*.pcapng) "$bin" -q -r "$f" >/dev/null 2>&1 || [ $? -eq 1 ] || short=$((short + 1)) ;;
    esac
    [ -s "$f" ] || short=$((short + 1))
done
if [ "$short" -eq 0 ]; then ok "no evidence file cut short or empty"; else bad "$short evidence files cut short or empty"; fi
"$bin" -q --fail-on info --evidence "$tmp/ev" -r "$big" >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -le 1 ] && ls "$tmp"/ev/*.pcapng >/dev/null 2>&1; then
    ok "a second run into the same evidence directory writes its bundles"
else
    bad "second evidence run: exit $rc: $(head -c 300 "$tmp/err")"
fi

# --evidence on a really full disk: a tmpfs of 4 KiB, then of 256 KiB, in
# a private mount namespace (root only), 200 sessions. Bundles are whole
# or removed (a .txt with its packet file), no file is empty, the failures
# take at most a dozen lines (the rest counted in one), exit 3; when no
# bundle fitted nothing is left, and a run into the same DIR once there is
# room works.
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
    python3 tests/evidence/interleave.py "$tmp/many.pcap" 200
    for size in 4k 256k; do
        mkdir -p "$tmp/fs-$size"
        unshare -m sh -c '
            mount -t tmpfs -o size=$3 tmpfs "$2/fs-$3" || exit 9
            mkdir "$2/fs-$3/ev"
            "$1" -q --fail-on info --evidence "$2/fs-$3/ev" -r "$2/many.pcap" >/dev/null 2>"$2/err1-$3"
            echo $? >"$2/rc1-$3"
            ls -A "$2/fs-$3/ev" >"$2/left-$3"
            find "$2/fs-$3/ev" -size 0 >"$2/empty-$3"
            for f in "$2/fs-$3"/ev/*.txt; do
                [ -e "$f" ] && [ ! -e "${f%.txt}.pcapng" ] && echo "$f" >>"$2/half-$3"
            done
            for f in "$2/fs-$3"/ev/*.pcapng; do
                [ -e "$f" ] || continue
                [ -e "${f%.pcapng}.txt" ] || echo "$f" >>"$2/half-$3"
                "$1" -q -r "$f" >/dev/null 2>&1 || [ $? -eq 1 ] || echo "$f" >>"$2/half-$3"
            done
            mount -o remount,size=16m "$2/fs-$3"
            "$1" -q --fail-on info --evidence "$2/fs-$3/ev" -r "$2/many.pcap" >/dev/null 2>"$2/err2-$3"
            echo $? >"$2/rc2-$3"
            ls "$2/fs-$3/ev" | grep -c "\.pcapng$" >"$2/n2-$3"
            umount "$2/fs-$3"' sh "$bin" "$tmp" "$size"
        rc1=$(cat "$tmp/rc1-$size" 2>/dev/null)
        if [ "$rc1" != 3 ]; then
            bad "full disk $size: exit $rc1, expected 3: $(head -c 300 "$tmp/err1-$size" 2>/dev/null)"
        elif [ "$(wc -l <"$tmp/err1-$size")" -gt 12 ] ||
             ! grep -q 'more evidence files not written (No space left on device)' "$tmp/err1-$size"; then
            bad "full disk $size: $(wc -l <"$tmp/err1-$size") lines on stderr: $(tail -n 2 "$tmp/err1-$size")"
        elif [ -s "$tmp/empty-$size" ] || [ -s "$tmp/half-$size" ]; then
            bad "full disk $size: empty or half bundles left: $(cat "$tmp/empty-$size" "$tmp/half-$size" 2>/dev/null | head -3)"
        else
            ok "full disk $size: exit 3, a dozen lines, only whole bundles left ($(grep -c 'pcapng$' "$tmp/left-$size") of 200)"
        fi
        if [ "$size" = 4k ]; then
            if [ -s "$tmp/left-$size" ]; then
                bad "full disk 4k: left in DIR: $(head -3 "$tmp/left-$size" | tr '\n' ' ')"
            elif [ "$(cat "$tmp/rc2-$size")" -gt 1 ] || [ "$(cat "$tmp/n2-$size")" != 200 ]; then
                bad "full disk 4k: the next run into DIR: exit $(cat "$tmp/rc2-$size"), $(cat "$tmp/n2-$size") pcapngs: $(head -c 200 "$tmp/err2-$size")"
            else
                ok "full disk 4k: nothing left, the next run into the same DIR writes every bundle"
            fi
        fi
    done
else
    echo "SKIP: writes: full disk: not root, or no mount namespace"
fi

# Temporary files of --evidence (a frame map past 32 packets, the .txt's
# transcript) are made in TMPDIR and unlinked as soon as they are made: no
# name is ever reopened, so nothing stays behind whatever ends the process
# (SIGKILL included). Traced with strace on a session of 71 packets.
if command -v strace >/dev/null; then
    python3 - "$tmp/m.pcap" <<'PY'
import socket, sys
sys.path.insert(0, 'tests')
import smtpcap
conv = [(1, b'220 mx ESMTP\r\n'), (0, b'EHLO c\r\n'), (1, b'250 mx\r\n')]
conv += [(0, b'NOOP\r\n'), (1, b'250 ok\r\n')] * 30 + [(0, b'QUIT\r\n'), (1, b'221 bye\r\n')]
f = smtpcap.packets(socket.inet_aton('10.1.0.1'), socket.inet_aton('10.0.0.2'), conv, 40000, 1000, 9000)
smtpcap.write(sys.argv[1], f, lambda k: (1700000000, k * 1000))
PY
    mkdir "$tmp/mt"
    TMPDIR="$tmp/mt" strace -f -e trace=open,openat,unlink,unlinkat -o "$tmp/strace" \
        "$bin" -q --evidence "$tmp/evm" -r "$tmp/m.pcap" >/dev/null 2>&1
    verdict=$(python3 - "$tmp/strace" "$tmp/mt/" <<'PY'
import re, sys
last, made = {}, 0
for line in open(sys.argv[1]):
    m = re.search(r'"(' + re.escape(sys.argv[2]) + r'[^"]*)"', line)
    if not m:
        continue
    p = m.group(1)
    if 'unlink' in line:
        last.pop(p, None)
    elif p in last:
        print('reopened by name: ' + p)
        sys.exit()
    else:
        last[p] = line
        made += 1
print('left with a name: %s' % list(last) if last else 'ok %d' % made)
PY
)
    case $verdict in
    "ok 0") bad "evidence temporary files: none traced in TMPDIR" ;;
    ok*) if grep -q '^#60 (60) ' "$tmp"/evm/session-1.txt && [ -z "$(ls -A "$tmp/mt")" ]; then
             ok "evidence temporary files: in TMPDIR, unlinked as soon as made (${verdict#ok } files)"
         else
             bad "evidence temporary files: frame map numbering or TMPDIR: $(ls -A "$tmp/mt")"
         fi ;;
    *) bad "evidence temporary files: $verdict" ;;
    esac
else
    echo "SKIP: writes: evidence temporary files: no strace"
fi

# A report into a file leaves in large writes; into a pipe it is still
# flushed block by block, for a reader who follows it (strace counts the
# write(2) calls on standard output of a 238 KB report).
big=samples/large-segments.pcap.gz
if command -v strace >/dev/null && [ -e "$big" ]; then
    strace -qq -e trace=write -e signal=none -o "$tmp/wf.strace" \
        "$bin" -q --show-content -r "$big" >"$tmp/wf.out" 2>/dev/null
    strace -qq -e trace=write -e signal=none -o "$tmp/wp.strace" \
        "$bin" -q --show-content -r "$big" 2>/dev/null | cat >"$tmp/wp.out"
    nf=$(grep -c '^write(1,' "$tmp/wf.strace") np=$(grep -c '^write(1,' "$tmp/wp.strace")
    check "report into a file: at most 2 writes for 238 KB (got $nf)" \
        test "$(stat -c %s "$tmp/wf.out")" -gt 200000 -a "$nf" -le 2
    check "report into a pipe: flushed as it goes ($np writes), the same bytes" \
        sh -c "[ $np -ge 10 ] && cmp -s '$tmp/wf.out' '$tmp/wp.out'"
else
    echo "SKIP: writes: write sizes: no strace or $big"
fi

# Evidence holds mail and AUTH data: private whatever the umask.
mkdir "$tmp/ev0"
(umask 000; "$bin" -q --fail-on info --evidence "$tmp/ev0" -r samples/auth-plain-plaintext.pcap >/dev/null 2>&1)
modes=$(stat -c %a "$tmp"/ev0/* 2>/dev/null | sort -u | tr '\n' ' ')
if [ "$modes" = "600 " ]; then
    ok "evidence files are 0600 under umask 000"
else
    bad "evidence file modes under umask 000: '$modes'"
fi

# -w (live, on lo; skipped without the right to capture): private file,
# and a write error said with exit 3 instead of "N packets written".
if timeout --preserve-status -s INT 1 "$bin" -q -i lo >/dev/null 2>&1; then
    (umask 000; timeout --preserve-status -s INT 2 "$bin" -q -i lo -w "$tmp/w.pcap" >/dev/null 2>&1)
    if [ "$(stat -c %a "$tmp/w.pcap" 2>/dev/null)" = 600 ]; then
        ok "-w file is 0600 under umask 000"
    else
        bad "-w file mode: $(stat -c %a "$tmp/w.pcap" 2>&1)"
    fi
    run_expect "-w to /dev/full" 3 "/dev/full: No space left on device" -- \
        timeout --preserve-status -s INT 2 "$bin" -q -i lo -w /dev/full
else
    echo "SKIP: writes: -w: cannot capture on lo here"
fi
exit 0
