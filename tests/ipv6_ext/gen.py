#!/usr/bin/env python3
"""gen.py OUT.pcap N - one SMTP session over IPv6 whose every packet
carries N extension headers before TCP (hop-by-hop first, then
destination options and routing headers in turn, each 8 octets), valid
checksums, for tests/ipv6_ext.sh. Prints the number of frames."""
import os, struct, sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
from smtpcap import csum                      # noqa: E402

out, n = sys.argv[1], int(sys.argv[2])
C = bytes.fromhex('20010db8000000000000000000000001')
S = bytes.fromhex('20010db8000000000000000000000025')
conv = [(1, '220 mx.example.com ESMTP\r\n'), (0, 'EHLO client.example.org\r\n'),
        (1, '250 mx.example.com\r\n'), (0, 'MAIL FROM:<a@example.org>\r\n'),
        (1, '250 OK\r\n'), (0, 'RCPT TO:<b@example.com>\r\n'), (1, '250 OK\r\n'),
        (0, 'DATA\r\n'), (1, '354 go ahead\r\n'), (0, 'Subject: t\r\n\r\nhello\r\n.\r\n'),
        (1, '250 queued\r\n'), (0, 'QUIT\r\n'), (1, '221 bye\r\n')]

def chain(n):
    """n extension headers; returns (first next-header value, bytes)."""
    kinds = [0] + [(60, 43)[i % 2] for i in range(n - 1)] if n else []
    body = b''
    for i, k in enumerate(kinds):
        nxt = kinds[i + 1] if i + 1 < len(kinds) else 6
        if k == 43:                       # routing: type 0, segments left 0
            body += struct.pack('!BBBB4x', nxt, 0, 0, 0)
        else:                             # options: one PadN of 4 octets
            body += struct.pack('!BBBB4x', nxt, 0, 1, 4)
    return (kinds[0] if kinds else 6), body

pk, seq = [], {0: 1000, 1: 9000}
def tcp(d, flags, data=b''):
    src, dst = (C, S) if d == 0 else (S, C)
    sp, dp = (40001, 25) if d == 0 else (25, 40001)
    h = struct.pack('!HHIIBBHHH', sp, dp, seq[d], seq[1 - d], 0x50, flags, 65535, 0, 0)
    c = csum(src + dst + struct.pack('!IxxxB', len(h) + len(data), 6) + h + data)
    h = h[:16] + struct.pack('!H', c) + h[18:]
    first, ext = chain(n)
    ip = struct.pack('!IHBB16s16s', 6 << 28, len(ext) + len(h) + len(data), first, 64, src, dst)
    pk.append(b'\0' * 6 + b'\0\0\0\0\0\1' + b'\x86\xdd' + ip + ext + h + data)
    seq[d] = (seq[d] + len(data) + (1 if flags & 3 else 0)) & 0xffffffff

tcp(0, 0x02); tcp(1, 0x12); tcp(0, 0x10)
for d, t in conv:
    tcp(d, 0x18, t.encode())
tcp(1, 0x11); tcp(0, 0x11); tcp(1, 0x10)
with open(out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, p in enumerate(pk):
        f.write(struct.pack('<IIII', 1700000000, i * 1000, len(p), len(p)) + p)
print(len(pk))
