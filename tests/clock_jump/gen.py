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
from smtpcap import packets                   # noqa: E402

YEAR = 365 * 86400
S = bytes([192, 0, 2, 25])
CONV = [(1, '220 mx.example.com ESMTP\r\n'), (0, 'EHLO c.example.org\r\n'),
        (1, '250 mx.example.com\r\n'), (0, 'MAIL FROM:<a@example.org>\r\n'),
        (1, '250 OK\r\n'), (0, 'RCPT TO:<b@example.com>\r\n'), (1, '250 OK\r\n'),
        (0, 'DATA\r\n'), (1, '354 go ahead\r\n'), (0, 'Subject: t\r\n\r\nhi\r\n.\r\n'),
        (1, '250 queued\r\n'), (0, 'QUIT\r\n'), (1, '221 bye\r\n')]

def session(k, whole=True):
    """The packets (IP bytes) of session k, client 198.51.100.k:40000+k;
    not whole: the greeting and EHLO exchange only, never closed."""
    conv = [(d, t.encode()) for d, t in (CONV if whole else CONV[:3])]
    pk = [f[14:] for f in packets(bytes([198, 51, 100, k]), S, conv, cport=40000 + k)]
    return pk if whole else pk[:-3]       # without the closing FINs

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
