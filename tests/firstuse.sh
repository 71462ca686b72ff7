#!/usr/bin/env bash
# tests/firstuse.sh - what a new user trips over first (docs/interface.md):
#  - tcpdump's habits: -n (no effect), -c COUNT, -F FILE, -D, -h, -w with
#    -r (one file or several, read back the same; frames of several link
#    types refused, status 2); a mistyped second file named as such, never blaming the first;
#    options after the files; --session N:ID; --session that names no
#    session: a message and exit status 5;
#  - the session header folded to 80 columns, no field cut;
#  - a large report: past the 50th session a clean session is one line,
#    counted in the totals; -v shows all in full.
cd "$(dirname "$0")/.." && . tests/lib.sh firstuse
s=samples/seed000-dot-quit.pcap       # 13 frames, one clean session
run() { "$bin" -q "$@" >"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc"; }
rc() { cat "$tmp/rc"; }

run -r "$s"; cp "$tmp/out" "$tmp/plain"
run -n -r "$s"
check "-n accepted, same report" test "$(rc)" = 0 -a -z "$(diff "$tmp/plain" "$tmp/out")"
run -h
check "-h is --help" grep -q '^usage: smtpscope' "$tmp/out"
run -c 5 -r "$s"
check "-c 5: five packets read" grep -q '^totals: 1 file, 5 packets' "$tmp/out"
echo 'tcp port 25' >"$tmp/filter"
run -F "$tmp/filter" -r "$s"
check "-F FILE: the expression applies" test "$(rc)" = 0 -a -z "$(diff "$tmp/plain" "$tmp/out")"
echo 'tcp port 26' >"$tmp/filter"
run -F "$tmp/filter" -r "$s"
check "-F FILE: a filter that keeps nothing" grep -q ' 0 sessions' "$tmp/out"
run -F "$tmp/filter" -r "$s" tcp
check "-F and an expression too: refused" test "$(rc)" = 2 -a -s "$tmp/err"
run -F "$tmp/nofile" -r "$s"
check "-F missing file: named" grep -q "nofile: No such file" "$tmp/err"
run -D
if [ "$(rc)" = 0 ]; then
    check "-D lists interfaces as tcpdump" grep -qE '^1\.[^ ]+' "$tmp/out"
else
    check "-D without interfaces: one line, status 2" test "$(rc)" = 2 -a "$(wc -l <"$tmp/err")" = 1
fi

# a mistyped second file: named, and the first file not blamed
run -r "$s" capture2
check "mistyped file: status 2" test "$(rc)" = 2
check "mistyped file: the word is named" grep -q "capture2: no such capture file" "$tmp/err"
check "mistyped file: the first file is not blamed" bash -c "! grep -q '$s' '$tmp/err'"
check "mistyped file: nothing on stdout" test ! -s "$tmp/out"
run -r "$s" "$s" --json
check "options after the files" grep -q '"type":"summary"' "$tmp/out"

# --session
run -r "$s" --session 99
check "--session 99: status 5" test "$(rc)" = 5
check "--session 99: said on stderr" grep -q -- "--session 99: no such SMTP session" "$tmp/err"
run -r "$s" --session 1:1
check "--session 1:1 on one file" grep -q '^session 1 ' "$tmp/out"
run --separate -r "$s" samples/ipv6.pcap --session 2:1
check "--session 2:1 with --separate: the second file's session" \
    grep -q '^session 1  \[2001:db8::c\]' "$tmp/out"
run -r "$s" samples/ipv6.pcap --session 2:1
check "--session 2:1 without --separate: refused" test "$(rc)" = 2
run --separate -r "$s" samples/ipv6.pcap --session 3:1
check "--session 3:1 of two files: refused" test "$(rc)" = 2
run --session 1x -r "$s"
check "--session 1x: refused" grep -q "is not a session" "$tmp/err"

# -w with -r: the frames of the sessions analysed
run -r "$s" -w "$tmp/w.pcap"
check "-w with -r: 13 packets said" grep -q "13 packets written to" "$tmp/err"
run -r "$tmp/w.pcap"
check "-w with -r: the file holds the session" grep -q '^totals: 1 file, 13 packets' "$tmp/out"
python3 tests/firstuse/many.py "$s" "$tmp/three.pcap" 3
run -r "$tmp/three.pcap" --session 2 -w "$tmp/w2.pcap"
run -r "$tmp/w2.pcap"
check "-w --session 2: only that session's frames" \
    grep -q '^totals: 1 file, 13 packets, [0-9]* bytes, 1 session' "$tmp/out"
run --separate -r "$s" "$s" -w "$tmp/w3.pcap"
check "-w with --separate: refused" test "$(rc)" = 2
# the written file, read back under the same name, gives the same report
# (its time stamps as the input's: microseconds, said so by its header)
cp "$s" "$tmp/same.pcap"; run -r "$tmp/same.pcap"; cp "$tmp/out" "$tmp/same.txt"
run -r "$tmp/same.pcap" -w "$tmp/w5.pcap"; mv "$tmp/w5.pcap" "$tmp/same.pcap"
run -r "$tmp/same.pcap"
check "-w with -r: read back, the same report" cmp -s "$tmp/same.txt" "$tmp/out"
# several files of one link type: one file, all their sessions' frames
run -r "$s" samples/bdat.pcap -w "$tmp/w6.pcap"
check "-w with two files: 30 packets said" grep -q "30 packets written to" "$tmp/err"
run -r "$tmp/w6.pcap"
check "-w with two files: the file holds both" \
    grep -q '^totals: 1 file, 30 packets, [0-9]* bytes, 2 sessions' "$tmp/out"
# frames of several link types: a pcap holds one; refused before reading
run -r samples/two-link-types.pcapng -w "$tmp/w7.pcap"
check "-w, a pcapng of two link types: status 2" test "$(rc)" = 2
check "-w, a pcapng of two link types: one line naming the file and both" \
    test "$(grep -c 'two-link-types.pcapng (EN10MB, LINUX_SLL)$' "$tmp/err")" = 1 \
    -a "$(wc -l <"$tmp/err")" = 1
check "-w, a pcapng of two link types: no report, no file" \
    test ! -s "$tmp/out" -a ! -e "$tmp/w7.pcap"
run -r "$s" samples/rawip.pcap -w "$tmp/w8.pcap"
check "-w, files of two link types: status 2, both named" test "$(rc)" = 2 -a \
    "$(grep -c "$s (EN10MB); samples/rawip.pcap (RAW)$" "$tmp/err")" = 1

# the header folded to 80 columns
for f in samples/seed000-frontbridge-pipelining.pcap samples/realmail-postfix.pcap samples/ipv6.pcap; do
    NO_COLOR=1 "$bin" -q -r "$f" >"$tmp/out" 2>/dev/null
    long=$(awk '/^session /{h=1} /^[#]/{h=0} h && length($0) > 80' "$tmp/out" | head -1)
    check "$(basename "$f"): session header within 80 columns" test -z "$long"
done
check "header: the extensions all there" grep -q '^  8BITMIME, BINARYMIME, CHUNKING$' \
    <(NO_COLOR=1 "$bin" -q -r samples/seed000-frontbridge-pipelining.pcap)

# a large report: clean sessions past the 50th are one line
python3 tests/firstuse/many.py "$s" "$tmp/many.pcap" 60
run -r "$tmp/many.pcap"
check "large report: 50 transcripts" test "$(grep -c 'C> QUIT' "$tmp/out")" = 50
check "large report: 10 one-line sessions" \
    test "$(grep -c '^session [0-9]*  .* no finding, 1 transaction$' "$tmp/out")" = 10
check "large report: the note once" test "$(grep -c '^(from here on' "$tmp/out")" = 1
check "large report: the totals count them" grep -q '60 sessions (60 shown, 10 as one line)' "$tmp/out"
run -v -r "$tmp/many.pcap"
check "-v: every transcript" test "$(grep -c 'C> QUIT' "$tmp/out")" = 60
run --session 55 -r "$tmp/many.pcap"
check "--session 55: in full" grep -q 'C> QUIT' "$tmp/out"

# A damaged capture: what came before is reported, the totals and the JSON
# summary say it, exit status 4 (not 0: a script tells it from "no finding")
python3 - "$s" "$tmp" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
open(sys.argv[2] + '/cut.pcap', 'wb').write(d[:len(d) - 30])      # cut mid-record
b = bytearray(d)                                 # record 3's length corrupt
off = 24
for _ in range(2):
    off += 16 + struct.unpack('<I', b[off + 8:off + 12])[0]
b[off + 8:off + 16] = struct.pack('<II', 0x7fffffff, 0x7fffffff)
open(sys.argv[2] + '/badlen.pcap', 'wb').write(b)
b = bytearray(d)                                 # the first record's length corrupt
b[32:40] = struct.pack('<II', 0x7fffffff, 0x7fffffff)
open(sys.argv[2] + '/badfirst.pcap', 'wb').write(b)
PY
for c in cut badlen; do
    run -r "$tmp/$c.pcap"
    check "$c: exit status 4" test "$(rc)" = 4
    check "$c: stderr names the file and the last frame" grep -q "$c.pcap: .*(analysed up to frame" "$tmp/err"
    check "$c: the totals say INCOMPLETE" grep -q "^INCOMPLETE: 1 input ended early: .*$c.pcap" "$tmp/out"
    run --json -r "$tmp/$c.pcap"
    check "$c: JSON summary carries incomplete" \
        grep -q '"type":"summary",.*"incomplete":{"inputs":1,"reason":"[^"]*'"$c"'.pcap' "$tmp/out"
    check "$c: JSON status 4" test "$(rc)" = 4
done
# A damaged gzip capture: all that decodes is analysed (zlib's gzread
# dropped up to the megabyte it had decoded last when the CRC was wrong),
# then the damage is reported as for a cut pcap. The expected counts are
# those of the records Python's zlib decodes before the damage.
python3 tests/firstuse/many.py "$s" "$tmp/big.pcap" 700
python3 - "$tmp" <<'PY'
import gzip, struct, sys, zlib
t = sys.argv[1]
d = open(t + '/big.pcap', 'rb').read()
g = gzip.compress(d)
b = bytearray(g); b[-8] ^= 0xff                  # the trailer's CRC-32
cut = g[:len(g) // 2]                            # mid-deflate
for name, data in (('badcrc', bytes(b)), ('gzcut', cut)):
    open(t + '/' + name + '.pcap.gz', 'wb').write(data)
    try:
        u = zlib.decompressobj(31).decompress(data)
    except zlib.error:
        u = d                                    # only the check failed
    off, frames, ports = 24, 0, set()
    while off + 16 <= len(u):
        incl = struct.unpack('<I', u[off + 8:off + 12])[0]
        if off + 16 + incl > len(u):
            break
        frames += 1
        ports.add(tuple(sorted(struct.unpack('>HH', u[off + 50:off + 54]))))
        off += 16 + incl
    open(t + '/' + name + '.want', 'w').write('%d %d\n' % (frames, len(ports)))
PY
for c in badcrc gzcut; do
    read -r frames sessions <"$tmp/$c.want"
    run -r "$tmp/$c.pcap.gz"
    check "$c.pcap.gz: exit status 4" test "$(rc)" = 4
    check "$c.pcap.gz: every session before the damage reported ($sessions)" \
        grep -q "packets, .* $sessions sessions (" "$tmp/out"
    check "$c.pcap.gz: stderr names the file, the damage, the last frame" \
        grep -q "$c.pcap.gz: gzip data .* (analysed up to frame $frames)\$" "$tmp/err"
    run --json -r "$tmp/$c.pcap.gz"
    check "$c.pcap.gz: JSON summary carries incomplete" \
        grep -q '"type":"summary",.*"sessions":'"$sessions"',.*"incomplete":{"inputs":1,"reason":"[^"]*'"$c"'.pcap.gz: gzip data' "$tmp/out"
done
run -j 2 -r "$tmp/cut.pcap"
check "cut with -j 2: exit status 4" test "$(rc)" = 4
run -r "$tmp/badfirst.pcap"
check "unreadable from the first record: status 2" test "$(rc)" = 2
check "unreadable: nothing on stdout (no all-zero summary)" test ! -s "$tmp/out"
run --json -r "$tmp/nosuch.pcap"
check "missing file, JSON: nothing on stdout" test ! -s "$tmp/out"
run -r "$s" "$tmp/cut.pcap" --separate --fail-on info
check "one good and one cut file: status 4" test "$(rc)" = 4

# the progress line: never when standard output is the terminal or a pipe
if command -v script >/dev/null 2>&1; then
    script -qfec "$bin -r $tmp/many.pcap | cat >/dev/null" /dev/null >"$tmp/tty" 2>&1
    check "progress: none when stdout is a pipe" bash -c "! grep -q 'MB' '$tmp/tty'"
    script -qfec "$bin -r $tmp/many.pcap" /dev/null >"$tmp/tty" 2>&1
    check "progress: none when stdout is the terminal" bash -c "! grep -q '% (' '$tmp/tty'"
    script -qfec "$bin -r $tmp/many.pcap >$tmp/rep" /dev/null >"$tmp/tty" 2>&1
    check "progress: shown when stdout is a file" grep -q 'many.pcap: 100%' "$tmp/tty"
else
    echo "SKIP: firstuse: progress: script(1) not installed"
fi

# --explain: every rule explained, in plain words, with its RFC text
missing=""
for r in $("$bin" --rules | awk 'NR > 0 && $1 ~ /^[a-z0-9]+(-[a-z0-9]+)+$/ {print $1}'); do
    out=$("$bin" --explain "$r") || { missing="$missing $r"; continue; }
    for h in 'What happened:' 'Why it matters:' 'Usual cause:' 'What to tell the vendor:' \
             'What the standard says:'; do
        grep -A1 -- "^$h" <<<"$out" | sed -n 2p | grep -q '^  [^ ]' || missing="$missing $r($h)"
    done
    long=$(awk 'length($0) > 80' <<<"$out")
    [ -z "$long" ] || missing="$missing $r(wider than 80)"
done
check "--explain: each rule of --rules has every part${missing:+:$missing}" test -z "$missing"
run --explain no-such-rule
check "--explain of an unknown rule: status 2" test "$(rc)" = 2
"$bin" --explain bdat-unadvertised | grep -q CHUNKING && ok "--explain bdat-unadvertised names CHUNKING" \
    || bad "--explain bdat-unadvertised names CHUNKING"

# findings a non-RFC reader can act on: plain words
NO_COLOR=1 "$bin" -q -r samples/bdat-unadvertised.pcap >"$tmp/out" 2>/dev/null
check "bdat-unadvertised names CHUNKING" grep -q 'bdat-unadvertised.*CHUNKING' "$tmp/out"
NO_COLOR=1 "$bin" -q -r samples/seed002-helo-extended.pcap >"$tmp/out" 2>/dev/null
check "helo-extended-reply says it belongs to EHLO" grep -q 'helo-extended-reply.*belongs to EHLO only' "$tmp/out"
NO_COLOR=1 "$bin" -q -r samples/seed004-reply-mid-data.pcap >"$tmp/out" 2>/dev/null
check "half-close-while-sending in plain words" \
    grep -q 'half-close-while-sending.*closed its side of the connection.*will not read' "$tmp/out"

# the ladder: findings wrapped to 80 columns, the rest indented under them
NO_COLOR=1 "$bin" -q --ladder -r samples/seed004-reply-mid-data.pcap >"$tmp/out" 2>/dev/null
wide=$(LC_ALL=C.UTF-8 awk '/^       !! / && length($0) > 80' "$tmp/out" | wc -l)
check "--ladder: no finding wider than 80 columns ($wide)" test "$wide" = 0
check "--ladder: a finding's message goes on, indented" \
    grep -q '^          end-of-data dot yet) \[RFC 5321 §4\.1\.1\.4\]$' "$tmp/out"

# a run of identical lines: once, then counted
NO_COLOR=1 "$bin" -q -r samples/seed001-spambot-blast.pcap >"$tmp/out" 2>/dev/null
check "identical lines: counted" grep -q '^       \.\.\. the same line [0-9]* more times (#[0-9]*\(-#[0-9]*\)\{0,1\})$' "$tmp/out"
n500=$(grep -c 'S> 500 ' "$tmp/out")
check "identical lines: fewer 500 lines shown than sent ($n500)" test "$n500" -lt 10
# long lines are compared whole: alike for their first 600 bytes, they differ after
python3 - "$tmp/long.pcap" <<'PY'
import socket, subprocess, sys, json
a, b = 'X' * 600 + 'a' * 100, 'X' * 600 + 'b' * 100
conv = [[1, '220 mx.example ESMTP\r\n'], [0, 'EHLO c.example\r\n'], [1, '250 mx.example\r\n']]
conv += [[0, t + '\r\n'] for t in (a, b, a, a, a)] + [[1, '500 5.5.2 unknown\r\n']] * 5
conv += [[0, 'QUIT\r\n'], [1, '221 bye\r\n']]
subprocess.run(['python3', 'tests/smtpcap.py', sys.argv[1], '127.0.0.1', '127.0.0.2'],
               input=json.dumps(conv).encode(), check=True)
PY
NO_COLOR=1 "$bin" -q -r "$tmp/long.pcap" >"$tmp/out" 2>/dev/null
nl=$(grep -c '^ *#[0-9]* .* C> XXXX' "$tmp/out")
check "long lines alike for 600 bytes are not the same line (3 shown: $nl)" test "$nl" = 3
check "three whole identical long lines fold: once, then 2 more" \
    grep -q 'the same line 2 more times' "$tmp/out"
