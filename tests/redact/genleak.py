#!/usr/bin/env python3
"""genleak.py CASE OUT.pcap - captures that once let message content
through --redact. Every byte of message content (and of what the server
refused to take as content) carries the marker LEAKMARK, so that a test
can check that no output holds it. Cases:

  tso0      one 94 KB offloaded IPv4 segment with total length 0
  tsowrap   the same segment, total length wrapped (its low 16 bits)
  tsosmall  a short segment with IPv4 total length 0
  v6tso0    IPv6, payload length 0, 94 KB segment
  evict     a session evicted mid-DATA (run with --max-sessions 4)
  midgap    mid-stream capture whose first client bytes are missing
  synack    a stray client SYN|ACK with another sequence number mid-DATA
  refused   content sent after a refused DATA
  bdat      BDAT bytes beyond the announced chunk size
  untrusted sequence numbers rewritten to 0
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from smtpcap import csum  # noqa: E402

MARK = b'LEAKMARK'


class Cap:
    def __init__(self, v6=False):
        self.frames = []
        self.v6 = v6

    def conn(self, cport, cseq=1000, sseq=9000, caddr=None):
        return Conn(self, cport, cseq, sseq, caddr)

    def write(self, path):
        with open(path, 'wb') as f:
            f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
            for i, p in enumerate(self.frames):
                f.write(struct.pack('<IIII', 1700000000 + i // 1000,
                                    (i % 1000) * 1000, len(p), len(p)) + p)


class Conn:
    def __init__(self, cap, cport, cseq, sseq, caddr):
        self.cap = cap
        self.cport = cport
        self.seq = {0: cseq, 1: sseq}
        if cap.v6:
            self.addr = (caddr or bytes(15) + b'\x01', bytes(15) + b'\x02')
        else:
            self.addr = (caddr or bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))

    def pkt(self, d, flags, data=b'', seq=None, ack=None, iplen=None, advance=True):
        src, dst = (self.addr[0], self.addr[1]) if d == 0 else (self.addr[1], self.addr[0])
        sp, dp = (self.cport, 25) if d == 0 else (25, self.cport)
        s = self.seq[d] if seq is None else seq
        a = self.seq[1 - d] if ack is None else ack
        h = struct.pack('!HHIIBBHHH', sp, dp, s & 0xffffffff, a & 0xffffffff,
                        0x50, flags, 65535, 0, 0)
        if self.cap.v6:
            ph = src + dst + struct.pack('!IxxxB', len(h) + len(data), 6)
        else:
            ph = src + dst + struct.pack('!BBH', 0, 6, (len(h) + len(data)) & 0xffff)
        c = csum(ph + h + data)
        h = h[:16] + struct.pack('!H', c) + h[18:]
        if self.cap.v6:
            pl = len(h) + len(data) if iplen is None else iplen
            ip = struct.pack('!IHBB16s16s', 0x60000000, pl & 0xffff, 6, 64, src, dst)
            eth = b'\x86\xdd'
        else:
            tl = 20 + len(h) + len(data) if iplen is None else iplen
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, tl & 0xffff, 1, 0, 64, 6, 0, src, dst)
            ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
            eth = b'\x08\x00'
        self.cap.frames.append(b'\0' * 6 + b'\0\0\0\0\0\1' + eth + ip + h + data)
        if advance and seq is None:
            self.seq[d] = (self.seq[d] + len(data) + (1 if flags & 3 else 0)) & 0xffffffff

    def hs(self):
        self.pkt(0, 0x02)
        self.pkt(1, 0x12)
        self.pkt(0, 0x10)

    def say(self, d, data, **kw):
        self.pkt(d, 0x18, data, **kw)

    def opening(self):
        for d, data in [(1, b'220 mx.example ESMTP\r\n'), (0, b'EHLO client.example\r\n'),
                        (1, b'250-mx.example\r\n250-CHUNKING\r\n250 PIPELINING\r\n'),
                        (0, b'MAIL FROM:<a@example.org>\r\n'), (1, b'250 ok\r\n'),
                        (0, b'RCPT TO:<b@example.com>\r\n'), (1, b'250 ok\r\n')]:
            self.say(d, data)

    def close(self):
        self.say(0, b'QUIT\r\n')
        self.say(1, b'221 bye\r\n')
        self.pkt(1, 0x11)
        self.pkt(0, 0x11)
        self.pkt(1, 0x10)


def in_data(cap=None):
    """A connection greeted, in a transaction, its DATA answered 354."""
    cap = cap or Cap()
    c = cap.conn(40001)
    c.hs()
    c.opening()
    c.say(0, b'DATA\r\n')
    c.say(1, b'354 go\r\n')
    return cap, c


def content(n):
    """n bytes of message content, LEAKMARK on every line."""
    out = b'Subject: LEAKMARK subject\r\n\r\n'
    i = 0
    while len(out) < n:
        out += b'LEAKMARK line %06d of the body\r\n' % i
        i += 1
    return out


def tso(v6=False, wrap=False, size=94000):
    cap, c = in_data(Cap(v6))
    body = content(size) + b'.\r\n'
    hdr = 40 if v6 else 20
    iplen = 0 if not wrap else (hdr + 20 + len(body) if v6 is False else 20 + len(body))
    c.say(0, body, iplen=iplen)
    c.say(1, b'250 queued\r\n')
    c.close()
    return cap


def tsosmall():
    cap, c = in_data()
    c.say(0, b'Subject: LEAKMARK\r\n\r\nLEAKMARK\r\n', iplen=0)
    c.say(0, b'.\r\n')
    c.say(1, b'250 queued\r\n')
    c.close()
    return cap


def evict():
    cap = Cap()
    a = cap.conn(40001)
    a.hs()
    a.opening()
    a.say(0, b'DATA\r\n')
    a.say(1, b'354 go\r\n')
    a.say(0, b'Subject: LEAKMARK one\r\n\r\n')
    # Others come and go until the first is the least recently active.
    for i in range(8):
        o = cap.conn(41000 + i, caddr=bytes([10, 0, 1, i + 1]))
        o.hs()
        o.say(1, b'220 other ESMTP\r\n')
    for k in range(3):
        a.say(0, b'HELO LEAKMARK looks like a command %d\r\n' % k)
        a.say(0, b'LEAKMARK plain body line %d\r\n' % k)
        a.say(0, b'MAIL FROM:<LEAKMARK@example.org> %d\r\n' % k)
    a.say(0, b'.\r\n')
    a.say(1, b'250 queued\r\n')
    a.close()
    return cap


def midgap():
    cap = Cap()
    c = cap.conn(40001, cseq=5000, sseq=70000)
    # No handshake. The server's 354 acknowledges client bytes up to 5000;
    # the client's first 60 bytes of content are not in the capture.
    c.say(1, b'354 go\r\n')
    c.seq[0] += 60
    c.say(0, b'LEAKMARK first captured line\r\nLEAKMARK second\r\n')
    c.say(0, b'LEAKMARK third\r\n.\r\n')
    c.say(1, b'250 queued\r\n')
    c.close()
    return cap


def synack():
    cap, c = in_data()
    c.pkt(0, 0x12, seq=c.seq[0] + 1000000, advance=False)
    c.say(0, b'Subject: LEAKMARK\r\n\r\nLEAKMARK body\r\n')
    c.say(0, b'LEAKMARK more\r\n.\r\n')
    c.say(1, b'250 queued\r\n')
    c.close()
    return cap


def refused():
    cap = Cap()
    c = cap.conn(40001)
    c.hs()
    c.opening()
    c.say(0, b'DATA\r\n')
    c.say(1, b'554 no valid recipients\r\n')
    c.say(0, b'Subject: LEAKMARK\r\n\r\nLEAKMARK body line\r\nRCPT TO:<LEAKMARK@x>\r\n.\r\n')
    c.say(1, b'500 what\r\n500 what\r\n500 what\r\n500 what\r\n500 what\r\n')
    c.close()
    return cap


def bdat():
    cap = Cap()
    c = cap.conn(40001)
    c.hs()
    c.opening()
    c.say(0, b'BDAT 10 LAST\r\nLEAKMARK\r\nLEAKMARK beyond the chunk\r\nNOOP LEAKMARK\r\n')
    c.say(1, b'250 ok\r\n500 what\r\n250 ok\r\n')
    c.close()
    return cap


def untrusted():
    cap = Cap()
    c = cap.conn(40001, cseq=0, sseq=0)
    for d, data in [(1, b'220 mx.example ESMTP\r\n'), (0, b'EHLO client.example\r\n'),
                    (1, b'250 mx.example\r\n'), (0, b'MAIL FROM:<a@example.org>\r\n'),
                    (1, b'250 ok\r\n'), (0, b'RCPT TO:<b@example.com>\r\n'),
                    (1, b'250 ok\r\n'), (0, b'DATA\r\n'), (1, b'354 go\r\n'),
                    (0, b'Subject: LEAKMARK\r\n\r\nLEAKMARK\r\n.\r\n'), (1, b'250 ok\r\n')]:
        c.say(d, data, seq=0, ack=0)
    return cap


CASES = {
    'tso0': lambda: tso(),
    'tsowrap': lambda: tso(wrap=True),
    'tsosmall': tsosmall,
    'v6tso0': lambda: tso(v6=True),
    'evict': evict,
    'midgap': midgap,
    'synack': synack,
    'refused': refused,
    'bdat': bdat,
    'untrusted': untrusted,
}

if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        sys.exit('usage: genleak.py {%s} OUT.pcap' % ','.join(CASES))
    CASES[sys.argv[1]]().write(sys.argv[2])
