#!/usr/bin/env python3
"""genpcap.py - writes hostile SMTP captures for tests/limits.sh and
tests/hygiene.sh, streamed packet by packet (nothing big is held in memory).

Usage: genpcap.py CASE OUTFILE [N]

Cases (N scales the case; the default is the full size):
  halfopen N     N SYNs to port 25 from distinct addresses and ports,
                 never answered (N concurrent half-open connections)
  concurrent N   N established sessions, each greeted, EHLO answered and
                 a MAIL FROM sent, none closed before the capture ends
  longline MB    one session whose client sends one MB-megabyte line with
                 no CRLF after EHLO, in 1448-byte segments
  pipelined N    N "NOOP" commands pipelined after EHLO, never answered
  rcpts N        one transaction with N recipients, each answered 250
  floods N       N interleaved sessions, session i (from 0) sending 4+3i
                 unknown commands refused 500 and 4i pipelined NOOPs never
                 answered, then closing without QUIT (tests/max_findings.sh)
  bdat           three sessions: BDAT 2^63, BDAT 2^64+1, BDAT -1, each
                 followed by data and a reply
  overlap        IPv4 fragments and TCP segments that overlap with
                 different data, a fragment past 64 KiB, truncated and
                 malformed headers
  allbytes       a command, an address and a reply carrying every byte
                 value 0..255
  escapes        terminal escape sequences (ESC [ 2J, OSC 52 clipboard,
                 OSC 0 title BEL, CSI as U+009B) and bidi/zero-width code
                 points (U+202E, U+2066, U+200B) in commands, replies,
                 addresses and message content (with show-content)

Link type Ethernet; addresses are documentation addresses (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24); checksums are left 0 (smtpscope does
not verify them, as offloaded captures need). Prints the number of packets
and payload bytes written on stderr.
"""
import struct
import sys

MSS = 1448
ETH = b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01' + b'\x08\x00'


class Writer:
    """A pcap file written as packets come."""

    def __init__(self, path):
        self.f = open(path, 'wb', buffering=1 << 20)
        self.f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        self.t = 1700000000.0
        self.packets = 0
        self.payload = 0

    def frame(self, l3, step=0.0001):
        self.t += step
        sec = int(self.t)
        usec = int((self.t - sec) * 1e6)
        n = len(ETH) + len(l3)
        self.f.write(struct.pack('<IIII', sec, usec, n, n))
        self.f.write(ETH)
        self.f.write(l3)
        self.packets += 1

    def close(self):
        self.f.close()
        sys.stderr.write('genpcap: %d packets, %d payload bytes\n' % (self.packets, self.payload))


def ip4(src, dst, proto, payload, ident=0, frag=0, total=None):
    """An IPv4 header (no options) in front of payload; frag is the raw
    flags+offset field; total overrides the total length (malformed)."""
    tot = 20 + len(payload) if total is None else total
    return struct.pack('!BBHHHBBH4s4s', 0x45, 0, tot & 0xffff, ident, frag, 64, proto, 0,
                       bytes(src), bytes(dst)) + payload


def tcp(sport, dport, seq, ack, flags, payload=b''):
    return struct.pack('!HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                       0x50, flags, 65535, 0, 0) + payload


SYN, ACK, PSH, FIN, RST = 0x02, 0x10, 0x08, 0x01, 0x04


class Flow:
    """One TCP connection: handshake, data in segments, FIN or RST."""

    def __init__(self, w, client, cport, server=(192, 0, 2, 25), sport=25):
        self.w, self.c, self.cp, self.s, self.sp = w, client, cport, server, sport
        self.seq = [1000, 900000]      # next sequence number: client, server

    def pkt(self, d, flags, payload=b'', seq=None):
        src, sp, dst, dp = (self.c, self.cp, self.s, self.sp) if d == 0 else (self.s, self.sp, self.c, self.cp)
        s = self.seq[d] if seq is None else seq
        self.w.frame(ip4(src, dst, 6, tcp(sp, dp, s, self.seq[1 - d], flags, payload)))

    def handshake(self):
        self.pkt(0, SYN)
        self.seq[0] += 1
        self.pkt(1, SYN | ACK)
        self.seq[1] += 1
        self.pkt(0, ACK)

    def send(self, d, data):
        for k in range(0, len(data), MSS):
            piece = data[k:k + MSS]
            self.pkt(d, PSH | ACK, piece)
            self.seq[d] += len(piece)
            self.w.payload += len(piece)

    def fin(self, d):
        self.pkt(d, FIN | ACK)
        self.seq[d] += 1

    def close(self):
        self.fin(0)
        self.fin(1)
        self.pkt(0, ACK)


def greet(f, ext=b'250-mx.example.com\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 8BITMIME\r\n'):
    f.handshake()
    f.send(1, b'220 mx.example.com ESMTP\r\n')
    f.send(0, b'EHLO client.example\r\n')
    f.send(1, ext)


def case_halfopen(w, n):
    for i in range(n):
        # distinct addresses (100.64.0.0/10) and ports
        src = (100, 64 + ((i >> 16) & 0x3f), (i >> 8) & 0xff, i & 0xff)
        w.frame(ip4(src, (192, 0, 2, 25), 6, tcp(1024 + (i * 7919) % 64000, 25, i * 1000, 0, SYN)))


def case_concurrent(w, n):
    flows = []
    for i in range(n):
        src = (100, 64 + ((i >> 16) & 0x3f), (i >> 8) & 0xff, i & 0xff)
        f = Flow(w, src, 1024 + (i * 7919) % 64000)
        f.handshake()
        f.send(1, b'220 mx.example.com ESMTP\r\n')
        flows.append(f)
    for f in flows:
        f.send(0, b'EHLO client.example\r\n')
        f.send(1, b'250-mx.example.com\r\n250 PIPELINING\r\n')
        f.send(0, b'MAIL FROM:<sender@example.com>\r\n')


def case_longline(w, mb):
    f = Flow(w, (198, 51, 100, 7), 40001)
    greet(f)
    seg = b'A' * MSS
    left = mb << 20
    while left > 0:
        piece = seg if left >= MSS else seg[:left]
        f.pkt(0, PSH | ACK, piece)
        f.seq[0] += len(piece)
        w.payload += len(piece)
        left -= len(piece)
    f.send(1, b'500 5.5.2 line too long\r\n')
    f.close()


def case_pipelined(w, n):
    f = Flow(w, (198, 51, 100, 8), 40002)
    greet(f)
    per = MSS // 6
    seg = b'NOOP\r\n' * per
    left = n
    while left > 0:
        k = min(per, left)
        piece = seg if k == per else b'NOOP\r\n' * k
        f.pkt(0, PSH | ACK, piece)
        f.seq[0] += len(piece)
        w.payload += len(piece)
        left -= k


def case_floods(w, n):
    """n sessions, interleaved: session i sends 4 + 3i unknown commands,
    each refused 500, then 4i NOOPs pipelined in one segment, never
    answered, and closes without QUIT (the server then closes too): some
    rules stay under --max-findings, some go past it, per session."""
    flows = []
    for i in range(n):
        f = Flow(w, (198, 51, 100, 100 + i % 100), 42000 + i)
        greet(f)
        flows.append(f)
    for r in range(4 + 3 * (n - 1)):
        for i, f in enumerate(flows):
            if r < 4 + 3 * i:
                f.send(0, b'XJUNK%d\r\n' % r)
                f.send(1, b'500 5.5.1 unknown command\r\n')
    for i, f in enumerate(flows):
        f.send(0, b'NOOP\r\n' * (4 * i))
    for f in flows:
        f.close()


def case_rcpts(w, n):
    f = Flow(w, (198, 51, 100, 9), 40003)
    greet(f)
    f.send(0, b'MAIL FROM:<sender@example.com>\r\n')
    f.send(1, b'250 2.1.0 ok\r\n')
    batch = 50
    for i in range(0, n, batch):
        k = min(batch, n - i)
        f.send(0, b''.join(b'RCPT TO:<user%d@example.net>\r\n' % (i + j) for j in range(k)))
        f.send(1, b'250 2.1.5 ok\r\n' * k)
    f.send(0, b'DATA\r\n')
    f.send(1, b'354 go ahead\r\n')
    f.send(0, b'Subject: many\r\n\r\nhello\r\n.\r\n')
    f.send(1, b'250 2.0.0 queued\r\n')
    f.send(0, b'QUIT\r\n')
    f.send(1, b'221 2.0.0 bye\r\n')
    f.close()


def case_bdat(w, _n):
    for i, size in enumerate((b'9223372036854775808', b'18446744073709551617', b'-1',
                              b'99999999999999999999999999999999999999999999')):
        f = Flow(w, (198, 51, 100, 20 + i), 41000 + i)
        greet(f)
        f.send(0, b'MAIL FROM:<a@example.com>\r\n')
        f.send(1, b'250 ok\r\n')
        f.send(0, b'RCPT TO:<b@example.net>\r\n')
        f.send(1, b'250 ok\r\n')
        f.send(0, b'BDAT ' + size + b'\r\n' + b'some content\r\n' * 100)
        f.send(1, b'501 5.5.4 bad chunk size\r\n')
        f.send(0, b'BDAT ' + size + b' LAST\r\nQUIT\r\n')
        f.send(1, b'250 ok\r\n')
        f.close()


def case_overlap(w, _n):
    cli, srv = (198, 51, 100, 30), (192, 0, 2, 25)
    f = Flow(w, cli, 42000)
    greet(f)
    # IPv4 fragments of one TCP segment, the second overlapping the first
    # with different bytes, then the same overlap the other way round.
    for ident, order in ((100, (0, 1, 2)), (101, (2, 1, 0))):
        body = tcp(42000, 25, f.seq[0], f.seq[1], PSH | ACK, b'MAIL FROM:<good@example.com>\r\n')
        evil = tcp(42000, 25, f.seq[0], f.seq[1], PSH | ACK, b'RCPT TO:<\x1b[2Jevil@example.org>\r\n')
        frags = [ip4(cli, srv, 6, body[:24], ident, 0x2000),
                 ip4(cli, srv, 6, evil[16:40], ident, 0x2000 | 2),
                 ip4(cli, srv, 6, body[24:], ident, 3)]
        for k in order:
            w.frame(frags[k])
        f.seq[0] += len(body) - 20
    f.send(1, b'250 ok\r\n250 ok\r\n')
    # TCP: a segment, then one overlapping it with different data, one
    # retransmitting old data differently, one far beyond the window.
    s0 = f.seq[0]
    f.pkt(0, PSH | ACK, b'RCPT TO:<a@example.net>\r\n', seq=s0)
    f.pkt(0, PSH | ACK, b'RCPT TO:<\x1b]52;c;ZXZpbA==\x07@x>\r\nDATA\r\n', seq=s0 + 5)
    f.pkt(0, PSH | ACK, b'XXXX', seq=s0 - 10)
    f.pkt(0, PSH | ACK, b'far away\r\n', seq=s0 + 0x7fffffff)
    f.seq[0] = s0 + len(b'RCPT TO:<\x1b]52;c;ZXZpbA==\x07@x>\r\nDATA\r\n') + 5
    f.send(1, b'250 ok\r\n354 go\r\n')
    # Malformed: fragment whose end passes 65535 (ping of death), a total
    # length larger than the frame, a TCP data offset past the packet, a
    # truncated IP header, an IP header length below 20.
    w.frame(ip4(cli, srv, 6, b'Z' * 64, 102, 0x1fff))
    w.frame(ip4(cli, srv, 6, tcp(42000, 25, f.seq[0], f.seq[1], ACK, b'short'), total=1500))
    w.frame(ip4(cli, srv, 6, struct.pack('!HHIIBBHHH', 42000, 25, f.seq[0], f.seq[1], 0xf0, ACK, 1, 0, 0)))
    w.frame(b'\x45\x00\x00')
    w.frame(b'\x41' + ip4(cli, srv, 6, b'')[1:])
    f.send(0, b'body\r\n.\r\nQUIT\r\n')
    f.send(1, b'250 ok\r\n221 bye\r\n')
    f.close()


ALL = bytes(range(256))


def case_allbytes(w, _n):
    f = Flow(w, (198, 51, 100, 40), 43000)
    f.handshake()
    f.send(1, b'220 ' + ALL + b'\r\n')
    f.send(0, b'EHLO ' + ALL.replace(b'\r\n', b'') + b'\r\n')
    f.send(1, b'250-' + ALL.replace(b'\n', b'') + b'\r\n250 PIPELINING\r\n')
    f.send(0, b'MAIL FROM:<' + ALL.replace(b'\n', b'') + b'@example.com>\r\n')
    f.send(1, b'250 ok\r\n')
    f.send(0, b'RCPT TO:<' + ALL.replace(b'\n', b'') + b'>\r\n')
    f.send(1, b'550 ' + ALL.replace(b'\n', b'') + b'\r\n')
    f.send(0, ALL + b'\r\n')
    f.send(1, b'500 ' + ALL.replace(b'\n', b'') + b'\r\n')
    f.send(0, b'QUIT\r\n')
    f.send(1, b'221 bye\r\n')
    f.close()


ESCAPES = [b'\x1b[2J', b'\x1b]52;c;ZXZpbA==\x07', b'\x1b]0;owned\x07', b'\xc2\x9b31m',
           '\u202e'.encode(), '\u2066'.encode(), '\u200b'.encode(), b'\x1bP+q\x1b\\', b'\r\x1b[1A']


def case_escapes(w, _n):
    for i, e in enumerate(ESCAPES):
        f = Flow(w, (198, 51, 100, 50 + i), 44000 + i)
        f.handshake()
        f.send(1, b'220 mx' + e + b' ESMTP\r\n')
        f.send(0, b'EHLO ' + e + b'client\r\n')
        f.send(1, b'250-mx' + e + b'\r\n250 SIZE' + e + b'\r\n')
        f.send(0, b'MAIL FROM:<' + e + b'@example.com>\r\n')
        f.send(1, b'250 2.1.0 ' + e + b'ok\r\n')
        f.send(0, b'RCPT TO:<user' + e + b'@example.net>\r\n')
        f.send(1, b'550 5.1.1 ' + e + b' unknown\r\n')
        f.send(0, b'RCPT TO:<ok@example.net>\r\n')
        f.send(1, b'250 ok\r\n')
        f.send(0, b'DATA\r\n')
        f.send(1, b'354 ' + e + b'\r\n')
        f.send(0, b'Subject: ' + e + b'\r\n\r\n' + e + b'body\r\n.\r\n')
        f.send(1, b'250 ' + e + b'\r\n')
        f.send(0, b'VRFY ' + e + b'\r\n')
        f.send(1, b'502 ' + e + b'\r\n')
        f.send(0, b'QUIT' + e + b'\r\n')
        f.send(1, b'221 ' + e + b'\r\n')
        f.close()


CASES = {'halfopen': (case_halfopen, 100000), 'concurrent': (case_concurrent, 100000),
         'longline': (case_longline, 1024),
         'pipelined': (case_pipelined, 1000000), 'rcpts': (case_rcpts, 100000),
         'floods': (case_floods, 6),
         'bdat': (case_bdat, 0), 'overlap': (case_overlap, 0),
         'allbytes': (case_allbytes, 0), 'escapes': (case_escapes, 0)}


def main(argv):
    if len(argv) < 3 or argv[1] not in CASES:
        sys.stderr.write('usage: genpcap.py CASE OUTFILE [N]; cases: %s\n' % ' '.join(CASES))
        return 2
    fn, default = CASES[argv[1]]
    w = Writer(argv[2])
    fn(w, int(argv[3]) if len(argv) > 3 else default)
    w.close()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
