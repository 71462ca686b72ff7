#!/usr/bin/env bash
# tests/evidence.sh - evidence bundles end to end (--evidence, --redact):
# the .pcap of a session holds exactly its frames (tshark: timestamps,
# sequence numbers and lengths equal to the original's), a redacted .pcap
# holds none of the content bytes and no bad checksum, every wire byte is
# escaped in the .txt, an existing bundle is refused, standard input is
# explained, several input files get distinct names (evidence and
# --write-streams), and --json output parses. Uses a capture generated here (with
# hostile bytes and a secret in the content) and samples/*.pcap when present.
cd "$(dirname "$0")/.." && . tests/lib.sh evidence python3

# A capture: one SMTP session on loopback, content with a secret word, a
# command line carrying every byte value that breaks terminals.
python3 tests/smtpcap.py "$tmp/gen.pcap" 127.0.0.1 127.0.0.2 <<'JSON'
[[1, "220 mx.example ESMTP\r\n"], [0, "EHLO client.example\r\n"],
 [1, "250-mx.example\r\n250 PIPELINING\r\n"],
 [0, "NOOP \u001b[2J\u001b]0;t\u0007\u0000\u007f\u0080\u009b\u00c2\u009b\u00e2\u0080\u00ae\u00ff\\\r\n"],
 [1, "250 ok\r\n"], [0, "MAIL FROM:<a@example.org>\r\n"], [1, "250 ok\r\n"],
 [0, "RCPT TO:<b@example.com>\r\n"], [1, "250 ok\r\n"], [0, "DATA\r\n"],
 [1, "354 go\r\n"], [0, "Subject: SECRETWORD here\r\n\r\nbody SECRETWORD\r\n"],
 [0, "more SECRETWORD\r\n.\r\n"], [1, "250 queued\r\n"], [0, "QUIT\r\n"],
 [1, "221 bye\r\n"]]
JSON

# 1. Frames of each evidence pcap = the session's frames in the original.
tshark_ok=1 FRAGS_SEEN=0
command -v tshark >/dev/null || tshark_ok=0
compare_frames() {        # orig.pcap dir
    local orig=$1 dir=$2 n=0 bad=0
    for txt in "$dir"/session-*.txt; do
        [ -e "$txt" ] || continue
        local pcap=${txt%.txt}.pcapng
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
check "evidence: session-1.txt and session-1.pcapng written" test -s "$tmp/ev/session-1.txt" -a -s "$tmp/ev/session-1.pcapng"
if [ "$tshark_ok" = 1 ]; then
    check "evidence: pcap frames equal the original's (generated)" compare_frames "$tmp/gen.pcap" "$tmp/ev"
    n=$(tshark -r "$tmp/ev/session-1.pcapng" 2>/dev/null | wc -l)
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

# 2b. The pcapng: a comment on each frame a finding rests on (tshark's
# frame.comment), every packet's id its original frame number, the section
# header naming the tool and the source capture's SHA-256; the .txt names
# both numbers, hashes the pcapng and says how to open it at the first
# finding. --evidence-format pcap still writes a pcap.
if [ "$tshark_ok" = 1 ]; then
    "$bin" -q --evidence "$tmp/ng" -r samples/seed000-frontbridge-pipelining.pcap >/dev/null 2>&1
    ng=$tmp/ng/session-1.pcapng
    cm=$(tshark -r "$ng" -Y frame.comment -T fields -e frame.number -e frame.packet_id -e frame.comment 2>/dev/null)
    check "pcapng: finding comments on the finding's frame (tshark -Y frame.comment)" \
        bash -c "[ \$(printf '%s\n' \"\$1\" | grep -c .) = 1 ] && printf '%s' \"\$1\" | grep -q '^10	10	smtpscope: error reply-lost (server): RCPT TO:.*\\[RFC 2920 §3.2 (1)\\]'" _ "$cm"
    nrep=$(printf '%s' "$cm" | grep -o 'smtpscope: ' | wc -l)
    nfind=$(grep -c '^ *!! ' "$tmp/ng/session-1.txt")
    check "pcapng: one comment per finding ($nrep of $nfind)" test "$nrep" = "$nfind" -a "$nfind" -gt 0
    ids=$(tshark -r "$ng" -T fields -e frame.packet_id 2>/dev/null | tr '\n' ' ')
    check "pcapng: packet ids are the original frame numbers" test "$ids" = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 "
    sha=$(sha256sum samples/seed000-frontbridge-pipelining.pcap | cut -d' ' -f1)
    check "pcapng: section header names tool, source and its SHA-256 (capinfos)" \
        bash -c "capinfos '$ng' | grep -q 'Capture application: smtpscope ' && capinfos '$ng' | grep -q 'source SHA-256: $sha'"
    check "txt: both frame numbers on each transcript line" grep -q '^#7 (7) *+0.2305  C> RSET' "$tmp/ng/session-1.txt"
    check "txt: SHA-256 of the pcapng" grep -q "^bundle: *session-1.pcapng  SHA-256 $(sha256sum "$ng" | cut -d' ' -f1)" "$tmp/ng/session-1.txt"
    check "txt: how to open at the first finding" grep -q '^open: *wireshark -r session-1.pcapng -g 10 .*-Y frame.comment' "$tmp/ng/session-1.txt"
    "$bin" -q --evidence "$tmp/ng3" -r samples/seed000-frontbridge-pipelining.pcap --evidence-format pcap >/dev/null 2>&1
    check "--evidence-format pcap: a pcap, no pcapng" bash -c "capinfos -t '$tmp/ng3/session-1.pcap' | grep -q 'Wireshark/tcpdump/... - pcap' && ! test -e '$tmp/ng3/session-1.pcapng'"
    check "--evidence-format pcap: .txt names it" grep -q '^open: *wireshark -r session-1.pcap -g 10 ' "$tmp/ng3/session-1.txt"
fi

# 3. Redaction.
"$bin" -q --redact --evidence "$tmp/red" -r "$tmp/gen.pcap" >"$tmp/red.txt" 2>&1
check "redact: original holds the secret" grep -aq SECRETWORD "$tmp/gen.pcap"
check "redact: pcap written" test -s "$tmp/red/session-1.pcapng"
check "redact: no secret in the pcap" bash -c "! grep -aq SECRETWORD '$tmp/red/session-1.pcapng'"
check "redact: no secret in the report or the txt" bash -c "! grep -aq SECRETWORD '$tmp/red.txt' '$tmp/red/session-1.txt'"
check "redact: no secret in the HTML page" bash -c "test -s '$tmp/red/session-1.html' && ! grep -aq SECRETWORD '$tmp/red/session-1.html'"
lens() { tshark -r "$1" -T fields -e frame.cap_len -e frame.len 2>/dev/null | tr '\n' ' '; }
check "redact: frames of the same lengths as unredacted" test "$(lens "$tmp/red/session-1.pcapng")" = "$(lens "$tmp/ev/session-1.pcapng")"
if [ "$tshark_ok" = 1 ]; then
    badck=$(tshark -r "$tmp/red/session-1.pcapng" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
            -Y 'tcp.checksum.status==0 or ip.checksum.status==0' 2>/dev/null | wc -l)
    check "redact: no bad checksum (tshark: $badck)" test "$badck" -eq 0
    good=$(tshark -r "$tmp/red/session-1.pcapng" -o tcp.check_checksum:TRUE \
            -Y 'tcp.checksum.status==1' 2>/dev/null | wc -l)
    check "redact: checksums verified good ($good frames)" test "$good" -eq 22
fi

# 4. Standard input: no pcap, said so.
"$bin" -q --evidence "$tmp/in" -r - <"$tmp/gen.pcap" >/dev/null 2>&1
check "stdin: txt explains, no pcap" bash -c "grep -q 'standard input cannot be read again' '$tmp/in/session-1.txt' && ! test -e '$tmp/in/session-1.pcapng'"

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
    test -s '$tmp/two/1-session-1.txt' -a -s '$tmp/two/1-session-1.pcapng' \
         -a -s '$tmp/two/2-session-1.txt' -a -s '$tmp/two/2-session-1.pcapng' \
         -a ! -e '$tmp/two/session-1.txt' && ! grep -q 'File exists' '$tmp/err6.txt'"
check "two files: each .txt names its own pcap" grep -q '^packets: *2-session-1.pcapng ' "$tmp/two/2-session-1.txt"
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
        ls "$tmp/s$i"/session-*.pcapng >/dev/null 2>&1 || continue
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
# and every record's fraction), a microsecond one stays in microseconds;
# its pcapng says if_tsresol 9 and holds the same nanoseconds, a
# microsecond one has no if_tsresol (microseconds) and the source's times.
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
"$bin" -q --evidence "$tmp/nano" --evidence-format pcap -r "$tmp/nano.pcap" >/dev/null 2>&1
"$bin" -q --evidence "$tmp/micro" --evidence-format pcap -r "$tmp/gen.pcap" >/dev/null 2>&1
"$bin" -q --evidence "$tmp/nanong" -r "$tmp/nano.pcap" >/dev/null 2>&1
check "nanosecond capture: the session pcap keeps every nanosecond" python3 - "$tmp/nano.pcap" "$tmp/nano/session-1.pcap" "$tmp/micro/session-1.pcap" <<'PY'
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
check "nanosecond capture: the pcapng says if_tsresol 9 and keeps every nanosecond" \
    python3 tests/evidence/pcapcheck.py times "$tmp/nano.pcap" "$tmp/nanong/session-1.pcapng" \
        "$tmp/gen.pcap" "$tmp/ev/session-1.pcapng"
# The same packets as a pcapng of nanosecond resolution (editcap writes
# if_tsresol 9): its evidence keeps the nanoseconds too, pcapng (tshark
# reads the same times as in the source) and pcap (nanosecond magic).
if command -v editcap >/dev/null && command -v tshark >/dev/null &&
   editcap -F pcapng "$tmp/nano.pcap" "$tmp/nano.pcapng" 2>/dev/null; then
    "$bin" -q --evidence "$tmp/nanong2" -r "$tmp/nano.pcapng" >/dev/null 2>&1
    "$bin" -q --evidence "$tmp/nanong2p" --evidence-format pcap -r "$tmp/nano.pcapng" >/dev/null 2>&1
    check "nanosecond pcapng: its pcapng evidence says if_tsresol 9 and keeps every nanosecond" \
        python3 tests/evidence/pcapcheck.py times "$tmp/nano.pcap" "$tmp/nanong2/session-1.pcapng" \
            "$tmp/gen.pcap" "$tmp/ev/session-1.pcapng"
    tshark -r "$tmp/nano.pcapng" -T fields -e frame.time_epoch >"$tmp/ns.src" 2>/dev/null
    tshark -r "$tmp/nanong2/session-1.pcapng" -T fields -e frame.time_epoch >"$tmp/ns.ev" 2>/dev/null
    tshark -r "$tmp/nanong2p/session-1.pcap" -T fields -e frame.time_epoch >"$tmp/ns.evp" 2>/dev/null
    check "nanosecond pcapng: tshark reads the source's nanoseconds in both evidence formats" \
        sh -c 'test -s "$1" && grep -q "\.[0-9]\{6\}[1-9]" "$1" && cmp -s "$1" "$2" && cmp -s "$1" "$3"' \
        sh "$tmp/ns.src" "$tmp/ns.ev" "$tmp/ns.evp"
else
    echo "SKIP: evidence: nanosecond pcapng: no editcap or tshark"
fi

# 9. More sessions with evidence at once than files the cut keeps open
# (64): 80 interleaved sessions, each file closed and re-opened to
# append. Every pcapng holds one section header, one interface and
# exactly its session's frames with their ids and finding comments
# (tests/evidence/pcapcheck.py), and tshark reads it; the same for pcaps.
python3 tests/evidence/interleave.py "$tmp/many.pcap" 80
"$bin" -q --evidence "$tmp/many" -r "$tmp/many.pcap" >/dev/null 2>"$tmp/many.err"
"$bin" -q --evidence "$tmp/manyp" --evidence-format pcap -r "$tmp/many.pcap" >/dev/null 2>>"$tmp/many.err"
check "80 sessions at once: every pcapng whole, its frames, ids and comments" \
    python3 tests/evidence/pcapcheck.py many "$tmp/many.pcap" "$tmp/many" 80
check "80 sessions at once: every pcap whole, its frames" \
    python3 tests/evidence/pcapcheck.py many "$tmp/many.pcap" "$tmp/manyp" 80
check "80 sessions at once: nothing said on standard error" test ! -s "$tmp/many.err"
if [ "$tshark_ok" = 1 ]; then
    bad=0 n=0
    for f in "$tmp/many"/session-*.pcapng; do
        n=$((n + 1))
        txt=${f%.pcapng}.txt
        got=$(tshark -r "$f" -T fields -e frame.packet_id 2>/dev/null | tr '\n' ' ')
        ncm=$(tshark -r "$f" -Y frame.comment -T fields -e frame.comment 2>/dev/null | grep -o 'smtpscope: ' | wc -l)
        nfind=$(grep -c '^ *!! ' "$txt")
        # the session's frames: its first, then every 80th
        first=$(sed -n 's/^.*frames [0-9]* (#\([0-9]*\)-#.*/\1/p' "$txt" | head -1)
        want=$(seq "$first" 80 1520 | tr '\n' ' ')
        [ "$got" = "$want" ] && [ "$ncm" = "$nfind" ] && [ "$nfind" -gt 0 ] ||
            { bad=$((bad + 1)); echo "  $f: ids '$got' want '$want', $ncm comments of $nfind findings"; }
    done
    check "80 sessions at once: tshark reads each pcapng, ids and comments ($n files)" test "$bad" -eq 0 -a "$n" -eq 80
    check "80 sessions at once: capinfos reads every pcapng" capinfos "$tmp/many"/session-*.pcapng >/dev/null 2>&1
fi
