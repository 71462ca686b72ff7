#!/usr/bin/env python3
"""many.py - SRC DST N: the one session of the pcap SRC (Ethernet, IPv4)
repeated N times, each copy from its own client port (20000+i) and 10 s
later, for the tests of a large report (tests/firstuse.sh)."""
import struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = open(src, 'rb').read()
hdr, off, recs = d[:24], 24, []
assert struct.unpack('<I', d[:4])[0] == 0xa1b2c3d4
while off + 16 <= len(d):
    ts, us, incl, orig = struct.unpack('<IIII', d[off:off+16])
    recs.append((ts, us, orig, bytearray(d[off+16:off+16+incl]))); off += 16 + incl
out = open(dst, 'wb'); out.write(hdr)
for i in range(n):
    for ts, us, orig, p in recs:
        q = bytearray(p); l3 = 14; ihl = (q[l3] & 15) * 4; t = l3 + ihl
        sp, dp = struct.unpack('>HH', q[t:t+4])
        if dp == 25: q[t:t+2] = struct.pack('>H', 20000 + i)
        else: q[t+2:t+4] = struct.pack('>H', 20000 + i)
        out.write(struct.pack('<IIII', ts + 10 * i, us, len(q), orig)); out.write(q)
