#!/usr/bin/env python3
"""gen.py OUT.pcap MODE - SMTP sessions whose packets interleave, one
second apart, for tests/clock_jump.sh. MODE:
  stray  3 concurrent sessions; in the middle, one SYN of another flow
         stamped a year ahead (then one a year behind)
  jump   3 sessions, then the capture's clock jumps a year ahead for good:
         3 more sessions, and a 4th session of the first part that never
         ends (it must close as idle once the jump is confirmed)
Prints the number of frames."""
import os, struct, sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
from smtpcap import csum                      # noqa: E402

YEAR = 365 * 86400
S = bytes([192, 0, 2, 25])
CONV = [(1, '220 mx.example.com ESMTP\r\n'), (0, 'EHLO c.example.org\r\n'),
        (1, '250 mx.example.com\r\n'), (0, 'MAIL FROM:<a@example.org>\r\n'),
        (1, '250 OK\r\n'), (0, 'RCPT TO:<b@example.com>\r\n'), (1, '250 OK\r\n'),
        (0, 'DATA\r\n'), (1, '354 go ahead\r\n'), (0, 'Subject: t\r\n\r\nhi\r\n.\r\n'),
        (1, '250 queued\r\n'), (0, 'QUIT\r\n'), (1, '221 bye\r\n')]

def session(k, whole=True):
    """The packets (IP bytes) of session k, client 198.51.100.k:40000+k."""
    C, port, pk, seq = bytes([198, 51, 100, k]), 40000 + k, [], {0: 1000, 1: 9000}
    def tcp(d, flags, data=b''):
        src, dst = (C, S) if d == 0 else (S, C)
        sp, dp = (port, 25) if d == 0 else (25, port)
        h = struct.pack('!HHIIBBHHH', sp, dp, seq[d], seq[1 - d], 0x50, flags, 65535, 0, 0)
        c = csum(src + dst + struct.pack('!BBH', 0, 6, len(h) + len(data)) + h + data)
        h = h[:16] + struct.pack('!H', c) + h[18:]
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(h) + len(data), 1, 0, 64, 6, 0,
                         src, dst)
        pk.append(ip[:10] + struct.pack('!H', csum(ip)) + ip[12:] + h + data)
        seq[d] = (seq[d] + len(data) + (1 if flags & 3 else 0)) & 0xffffffff
    tcp(0, 0x02); tcp(1, 0x12); tcp(0, 0x10)
    for d, t in (CONV if whole else CONV[:3]):
        tcp(d, 0x18, t.encode())
    if whole:
        tcp(1, 0x11); tcp(0, 0x11); tcp(1, 0x10)
    return pk

def interleave(lists):
    out = []
    while any(lists):
        for l in lists:
            if l:
                out.append(l.pop(0))
    return out

out, mode = sys.argv[1], sys.argv[2]
T = 1700000000
recs = []                                     # (seconds, IP bytes)
if mode == 'stray':
    pk = interleave([session(1), session(2), session(3)])
    stray = session(99)[0]                    # a SYN of another flow
    for i, p in enumerate(pk):
        recs.append((T + i, p))
        if i == len(pk) // 2:
            recs.append((T + i + YEAR, stray))
        if i == len(pk) // 2 + 6:
            recs.append((T + i - YEAR, stray))
else:
    first = interleave([session(1), session(2), session(3), session(4, whole=False)])
    recs = [(T + i, p) for i, p in enumerate(first)]
    later = interleave([session(5), session(6), session(7)])
    recs += [(T + YEAR + i, p) for i, p in enumerate(later)]
with open(out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))   # raw IPv4
    for ts, p in recs:
        f.write(struct.pack('<IIII', ts, 0, len(p), len(p)) + p)
print(len(recs))
