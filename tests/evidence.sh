#!/usr/bin/env bash
# tests/evidence.sh - evidence bundles end to end (--evidence, --redact):
# the .pcap of a session holds exactly its frames (tshark: timestamps,
# sequence numbers and lengths equal to the original's), a redacted .pcap
# holds none of the content bytes and no bad checksum, every wire byte is
# escaped in the .txt, an existing bundle is refused, standard input is
# explained, several input files get distinct names (evidence and
# --write-streams), and --json output parses. Uses a capture generated here (with
# hostile bytes and a secret in the content) and samples/*.pcap when present.
set -u
cd "$(dirname "$0")/.."
bin=${SMTPSCOPE:-$PWD/build/san/smtpscope}
ok() { echo "PASS: $*"; }
ko() { echo "FAIL: $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else ko "$name"; fi; }

[ -x "$bin" ] || { echo "SKIP: evidence: $bin not built"; exit 0; }
command -v python3 >/dev/null || { echo "SKIP: evidence: python3 missing"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A capture: one SMTP session on loopback, content with a secret word, a
# command line carrying every byte value that breaks terminals.
python3 - "$tmp/gen.pcap" <<'PY'
import struct, sys
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
C, S = bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2])
pk = []
seq = {0: 1000, 1: 9000}
def tcp(d, flags, data=b''):
    src, dst = (C, S) if d == 0 else (S, C)
    sp, dp = (40001, 25) if d == 0 else (25, 40001)
    ack = seq[1 - d]
    h = struct.pack('!HHIIBBHHH', sp, dp, seq[d], ack, 0x50, flags, 65535, 0, 0)
    ph = src + dst + struct.pack('!BBH', 0, 6, len(h) + len(data))
    c = csum(ph + h + data)
    h = h[:16] + struct.pack('!H', c) + h[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(h) + len(data), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    pk.append(b'\0' * 6 + b'\0\0\0\0\0\1' + b'\x08\x00' + ip + h + data)
    seq[d] = (seq[d] + len(data) + (1 if flags & 3 else 0)) & 0xffffffff
tcp(0, 0x02); tcp(1, 0x12); tcp(0, 0x10)
conv = [(1, b'220 mx.example ESMTP\r\n'), (0, b'EHLO client.example\r\n'),
        (1, b'250-mx.example\r\n250 PIPELINING\r\n'),
        (0, b'NOOP \x1b[2J\x1b]0;t\x07\x00\x7f\x80\x9b\xc2\x9b\xe2\x80\xae\xff\\\r\n'),
        (1, b'250 ok\r\n'), (0, b'MAIL FROM:<a@example.org>\r\n'), (1, b'250 ok\r\n'),
        (0, b'RCPT TO:<b@example.com>\r\n'), (1, b'250 ok\r\n'), (0, b'DATA\r\n'),
        (1, b'354 go\r\n'), (0, b'Subject: SECRETWORD here\r\n\r\nbody SECRETWORD\r\n'),
        (0, b'more SECRETWORD\r\n.\r\n'), (1, b'250 queued\r\n'), (0, b'QUIT\r\n'),
        (1, b'221 bye\r\n')]
for d, data in conv:
    tcp(d, 0x18, data)
tcp(1, 0x11); tcp(0, 0x11); tcp(1, 0x10)
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, p in enumerate(pk):
        f.write(struct.pack('<IIII', 1700000000, i * 1000, len(p), len(p)) + p)
PY

# 1. Frames of each evidence pcap = the session's frames in the original.
tshark_ok=1 FRAGS_SEEN=0
command -v tshark >/dev/null || tshark_ok=0
compare_frames() {        # orig.pcap dir
    local orig=$1 dir=$2 n=0 bad=0
    for txt in "$dir"/session-*.txt; do
        [ -e "$txt" ] || continue
        local pcap=${txt%.txt}.pcap
        [ -e "$pcap" ] || continue
        local range hdr a b c s
        range=$(sed -n 's/^frames: *#\([0-9]*\)-#\([0-9]*\) .*/\1 \2/p' "$txt")
        hdr=$(grep -m1 '^session [0-9]' "$txt")
        c=$(echo "$hdr" | awk '{print $3}'); s=$(echo "$hdr" | awk '{print $5}')
        read -r a b <<<"$range"
        local cip=${c%:*} cport=${c##*:} sip=${s%:*} sport=${s##*:}
        local af=ip; case $cip in \[*) af=ipv6; cip=${cip#[}; cip=${cip%]}; sip=${sip#[}; sip=${sip%]};; esac
        local pair="$af.addr==$cip && $af.addr==$sip"
        local tuple="$pair && tcp.port==$cport && tcp.port==$sport"
        local filter="frame.number>=$a && frame.number<=$b && $tuple"
        # IPv4 fragments: tshark shows the TCP header on the datagram's last
        # fragment only (the one that completes it), so the other fragments
        # are picked by the datagram ids of those.
        local frag="(ip.flags.mf==1 || ip.frag_offset>0)" ids
        ids=$(tshark -r "$orig" -Y "$filter && $frag" -T fields -e ip.id 2>/dev/null | sort -u | tr '\n' ' ')
        [ -n "${ids// /}" ] &&
            filter="frame.number>=$a && frame.number<=$b && ($tuple || ($pair && $frag && ip.id in {$ids}))"
        local fields=(-o tcp.relative_sequence_numbers:FALSE -T fields -e frame.time_epoch -e ip.id
                      -e ip.frag_offset -e tcp.seq -e frame.len -e tcp.len)
        # every frame of the evidence pcap, unfiltered: nothing else may be there
        if ! diff <(tshark -r "$orig" -Y "$filter" "${fields[@]}" 2>/dev/null) \
                  <(tshark -r "$pcap" "${fields[@]}" 2>/dev/null) >/dev/null; then
            bad=$((bad + 1)); echo "  frames differ: $pcap"
        fi
        [ -n "${ids// /}" ] && FRAGS_SEEN=$((FRAGS_SEEN + $(tshark -r "$pcap" -Y "$frag" 2>/dev/null | wc -l)))
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

"$bin" -q --evidence "$tmp/ev" -r "$tmp/gen.pcap" >"$tmp/report.txt" 2>"$tmp/err.txt"
rc=$?
check "evidence: run exits 0 or 1 (rc $rc)" test "$rc" -le 1
check "evidence: session-1.txt and session-1.pcap written" test -s "$tmp/ev/session-1.txt" -a -s "$tmp/ev/session-1.pcap"
if [ "$tshark_ok" = 1 ]; then
    check "evidence: pcap frames equal the original's (generated)" compare_frames "$tmp/gen.pcap" "$tmp/ev"
    n=$(tshark -r "$tmp/ev/session-1.pcap" 2>/dev/null | wc -l)
    check "evidence: all 22 frames of the session (got $n)" test "$n" -eq 22
else
    echo "SKIP: evidence: tshark missing, frames not compared"
fi
check "evidence: txt states SHA-256 of the capture" grep -q "^SHA-256: *$(sha256sum "$tmp/gen.pcap" | cut -d' ' -f1)\$" "$tmp/ev/session-1.txt"
check "evidence: txt has no raw control byte and is UTF-8" python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
d.decode("utf-8")
bad = [b for b in d if (b < 0x20 and b != 0x0a) or b == 0x7f]
sys.exit(1 if bad or b"\xc2\x9b" in d or b"\xe2\x80\xae" in d else 0)' "$tmp/ev/session-1.txt"
check "evidence: the hostile line is escaped" grep -qF 'NOOP \x1b[2J\x1b]0;t\x07\x00\x7f\x80\x9b\xc2\x9b\xe2\x80\xae\xff\\' "$tmp/ev/session-1.txt"

# 2. Never overwrite.
# (leak checking off: what the program leaves allocated on its exit-2 path
# is not what this test is about)
ASAN_OPTIONS=detect_leaks=0 "$bin" -q --evidence "$tmp/ev" -r "$tmp/gen.pcap" >/dev/null 2>"$tmp/err2.txt"
rc=$?
check "evidence: existing bundle refused with exit 2 (rc $rc)" test "$rc" -eq 2
check "evidence: refusal names the directory" grep -q "$tmp/ev" "$tmp/err2.txt"

# 3. Redaction.
"$bin" -q --redact --evidence "$tmp/red" -r "$tmp/gen.pcap" >"$tmp/red.txt" 2>&1
check "redact: original holds the secret" grep -aq SECRETWORD "$tmp/gen.pcap"
check "redact: pcap written" test -s "$tmp/red/session-1.pcap"
check "redact: no secret in the pcap" bash -c "! grep -aq SECRETWORD '$tmp/red/session-1.pcap'"
check "redact: no secret in the report or the txt" bash -c "! grep -aq SECRETWORD '$tmp/red.txt' '$tmp/red/session-1.txt'"
check "redact: same size as the unredacted pcap" test "$(stat -c %s "$tmp/red/session-1.pcap")" -eq "$(stat -c %s "$tmp/ev/session-1.pcap")"
if [ "$tshark_ok" = 1 ]; then
    badck=$(tshark -r "$tmp/red/session-1.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
            -Y 'tcp.checksum.status==0 or ip.checksum.status==0' 2>/dev/null | wc -l)
    check "redact: no bad checksum (tshark: $badck)" test "$badck" -eq 0
    good=$(tshark -r "$tmp/red/session-1.pcap" -o tcp.check_checksum:TRUE \
            -Y 'tcp.checksum.status==1' 2>/dev/null | wc -l)
    check "redact: checksums verified good ($good frames)" test "$good" -eq 22
fi

# 4. Standard input: no pcap, said so.
"$bin" -q --evidence "$tmp/in" -r - <"$tmp/gen.pcap" >/dev/null 2>&1
check "stdin: txt explains, no pcap" bash -c "grep -q 'standard input cannot be read again' '$tmp/in/session-1.txt' && ! test -e '$tmp/in/session-1.pcap'"

# 5. JSON parses whatever the bytes.
"$bin" -q --json -r "$tmp/gen.pcap" >"$tmp/out.json" 2>/dev/null
check "json: every line parses, summary last with schema" python3 -c '
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert objs and objs[-1]["type"] == "summary" and objs[-1]["schema"]
assert any(o["type"] == "session" for o in objs)' "$tmp/out.json"

# 6. Several capture files with --separate: each numbers its sessions from
# 1, so names carry the file's position in -r (evidence and
# --write-streams alike). Without it they are one capture (tests/split.sh).
"$bin" -q --separate --evidence "$tmp/two" -r "$tmp/gen.pcap" "$tmp/gen.pcap" >/dev/null 2>"$tmp/err6.txt"
check "two files: 1-session-1.* and 2-session-1.*, no clash" bash -c "
    test -s '$tmp/two/1-session-1.txt' -a -s '$tmp/two/1-session-1.pcap' \
         -a -s '$tmp/two/2-session-1.txt' -a -s '$tmp/two/2-session-1.pcap' \
         -a ! -e '$tmp/two/session-1.txt' && ! grep -q 'File exists' '$tmp/err6.txt'"
check "two files: each .txt names its own pcap" grep -q '^packets: *2-session-1.pcap ' "$tmp/two/2-session-1.txt"
mkdir -p "$tmp/streams1" "$tmp/streams2"
"$bin" -q --write-streams "$tmp/streams1" -r "$tmp/gen.pcap" >/dev/null 2>&1
"$bin" -q --separate --write-streams "$tmp/streams2" -r "$tmp/gen.pcap" "$tmp/gen.pcap" >/dev/null 2>&1
check "streams: one file: session-1.c2s/.s2c" test -s "$tmp/streams1/session-1.c2s" -a -s "$tmp/streams1/session-1.s2c"
check "streams: two files: 1-session-1.* and 2-session-1.*, each whole" bash -c "
    cmp -s '$tmp/streams1/session-1.c2s' '$tmp/streams2/1-session-1.c2s' &&
    cmp -s '$tmp/streams1/session-1.c2s' '$tmp/streams2/2-session-1.c2s' &&
    cmp -s '$tmp/streams1/session-1.s2c' '$tmp/streams2/2-session-1.s2c' &&
    ! test -e '$tmp/streams2/session-1.c2s'"

# 7. The samples, when present: frames of every evidence pcap match.
if [ "$tshark_ok" = 1 ] && ls samples/*.pcap >/dev/null 2>&1; then
    i=0 allok=1 FRAGS_SEEN=0
    for s in samples/*.pcap; do
        i=$((i + 1))
        "$bin" -q --evidence "$tmp/s$i" -r "$s" >/dev/null 2>&1
        ls "$tmp/s$i"/session-*.pcap >/dev/null 2>&1 || continue
        compare_frames "$s" "$tmp/s$i" || { allok=0; echo "  sample $s"; }
    done
    check "samples: evidence pcap frames equal the original's ($i captures)" test "$allok" = 1
    if [ -e samples/ip-fragments.pcap ]; then
        check "samples: IPv4 fragments compared too ($FRAGS_SEEN fragment frames)" test "$FRAGS_SEEN" -ge 3
    fi
else
    echo "SKIP: samples: no samples/*.pcap or no tshark"
fi

# 8. A nanosecond capture: its session pcap keeps the nanoseconds (magic
# and every record's fraction), a microsecond one stays in microseconds.
python3 - "$tmp/gen.pcap" "$tmp/nano.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
out = bytearray(struct.pack('<I', 0xa1b23c4d) + d[4:24])
i, k = 24, 0
while i + 16 <= len(d):
    s, us, cl, wl = struct.unpack('<IIII', d[i:i + 16])
    out += struct.pack('<IIII', s, us * 1000 + 123 + k, cl, wl) + d[i + 16:i + 16 + cl]
    i += 16 + cl
    k += 1
open(sys.argv[2], 'wb').write(out)
PY
"$bin" -q --evidence "$tmp/nano" -r "$tmp/nano.pcap" >/dev/null 2>&1
check "nanosecond capture: the session pcap keeps every nanosecond" python3 - "$tmp/nano.pcap" "$tmp/nano/session-1.pcap" "$tmp/ev/session-1.pcap" <<'PY'
import struct, sys
def recs(p):
    d = open(p, 'rb').read()
    magic, i, r = struct.unpack('<I', d[:4])[0], 24, []
    while i + 16 <= len(d):
        s, f, cl, wl = struct.unpack('<IIII', d[i:i + 16])
        r.append((s, f, d[i + 16:i + 16 + cl]))
        i += 16 + cl
    return magic, r
m0, a = recs(sys.argv[1])
m1, b = recs(sys.argv[2])
m2, _ = recs(sys.argv[3])
assert m1 == 0xa1b23c4d and m2 == 0xa1b2c3d4, (hex(m1), hex(m2))
assert b and all(x in a for x in b) and all(f % 1000 for _, f, _ in b), b[:2]
PY
