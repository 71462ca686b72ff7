#!/usr/bin/env bash
# tests/ipv6_ext.sh - IPv6 extension header chains: a session whose packets
# carry 9 or 12 extension headers (hop-by-hop, destination options,
# routing) is analysed like any other; beyond the 32 headers followed, the
# packets are not analysed and the totals say how many (text and JSON
# summary, with and without -j), never dropped in silence.
# Captures: tests/ipv6_ext/gen.py, in a temporary directory.
cd "$(dirname "$0")/.." && . tests/lib.sh ipv6_ext
json_ok() { python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$1"; }

for n in 9 12 32; do
    python3 tests/ipv6_ext/gen.py "$tmp/v6.pcap" "$n" >/dev/null
    "$bin" -q -r "$tmp/v6.pcap" >"$tmp/out" 2>"$tmp/err"
    check "$n headers: the session is analysed" grep -q '^totals: .* 1 session (' "$tmp/out"
    check "$n headers: its transcript ends with QUIT" grep -q 'C> QUIT' "$tmp/out"
    check "$n headers: nothing dropped" sh -c "! grep -q 'IPv6 packet' '$tmp/out'"
    "$bin" --json -r "$tmp/v6.pcap" >"$tmp/json" 2>/dev/null
    check "$n headers: no ipv6_chain_dropped in JSON" sh -c "! grep -q ipv6_chain_dropped '$tmp/json'"
done

for n in 33 40; do
    frames=$(python3 tests/ipv6_ext/gen.py "$tmp/v6.pcap" "$n")
    "$bin" -q -r "$tmp/v6.pcap" >"$tmp/out" 2>"$tmp/err"
    check "$n headers: the totals count the $frames packets not analysed" \
        grep -q "^dropped: $frames IPv6 packets with more than 32 extension headers (not analysed)" "$tmp/out"
    "$bin" --json -r "$tmp/v6.pcap" >"$tmp/json" 2>/dev/null
    check "$n headers: JSON valid" json_ok "$tmp/json"
    check "$n headers: JSON summary ipv6_chain_dropped" \
        grep -q '"type":"summary",.*"ipv6_chain_dropped":'"$frames"'[,}]' "$tmp/json"
    "$bin" -j 2 --json -r "$tmp/v6.pcap" >"$tmp/json" 2>/dev/null
    check "$n headers, -j 2: counted once" \
        grep -q '"type":"summary",.*"ipv6_chain_dropped":'"$frames"'[,}]' "$tmp/json"
done

# Other packets that may carry TCP but are not analysed: 3 IPv6 fragments
# of a datagram with holes (dropped by the defragmenter, incomplete) and 2
# malformed packets (an IPv4 header longer than
# the packet, a TCP data offset beyond it), appended to a session of 9
# headers: each reason counted in the text totals and the JSON summary,
# with and without -j, the session still analysed.
python3 tests/ipv6_ext/gen.py "$tmp/v6.pcap" 9 >/dev/null
python3 - "$tmp/v6.pcap" <<'PY'
import struct, sys
C = bytes.fromhex('20010db8000000000000000000000001')
S = bytes.fromhex('20010db8000000000000000000000025')
eth6, eth4 = b'\0' * 6 + b'\0\0\0\0\0\1' + b'\x86\xdd', b'\0' * 6 + b'\0\0\0\0\0\1' + b'\x08\x00'
frames = []
for off in range(3):                     # fragment header (44), then TCP bytes
    frag = struct.pack('!BBHI', 6, 0, (off * 8) << 3 | (1 if off < 2 else 0), 77) + b'x' * 8
    frames.append(eth6 + struct.pack('!IHBB16s16s', 6 << 28, len(frag), 44, 64, C, S) + frag)
ip = struct.pack('!BBHHHBBH4s4s', 0x4f, 0, 40, 1, 0, 64, 6, 0, bytes([192, 0, 2, 1]), bytes([192, 0, 2, 25]))
frames.append(eth4 + ip + b'\0' * 20)    # IHL 60 in a 40-octet packet
tcp = struct.pack('!HHIIBBHHH', 40001, 25, 1, 1, 0xf0, 0x18, 65535, 0, 0)
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, 2, 0, 64, 6, 0, bytes([192, 0, 2, 1]), bytes([192, 0, 2, 25]))
frames.append(eth4 + ip + tcp)           # TCP data offset 60 in 20 octets
with open(sys.argv[1], 'ab') as f:
    for i, p in enumerate(frames):
        f.write(struct.pack('<IIII', 1700000001, i, len(p), len(p)) + p)
PY
"$bin" -q -r "$tmp/v6.pcap" >"$tmp/out" 2>"$tmp/err"
check "fragments and malformed: the session is analysed" grep -q 'C> QUIT' "$tmp/out"
check "fragments and malformed: the 3 IPv6 fragments (holes between them) counted as dropped by reassembly" \
    grep -q '^dropped by reassembly: 3 IP fragments (3 incomplete at the end of the capture' "$tmp/out"
check "fragments and malformed: text totals count 2 malformed packets" \
    grep -q '^dropped: 2 malformed IP packets' "$tmp/out"
for j in "" "-j 2"; do
    # shellcheck disable=SC2086
    "$bin" $j --json -r "$tmp/v6.pcap" >"$tmp/json" 2>/dev/null
    check "fragments and malformed${j:+, $j}: JSON summary counts both" \
        grep -q '"type":"summary",.*"fragments":{"read":3,"datagrams":0,.*"incomplete":3,.*"malformed_dropped":2[,}]' "$tmp/json"
done
