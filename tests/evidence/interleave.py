#!/usr/bin/env python3
"""interleave.py OUT.pcap N - N SMTP sessions at once, interleaved packet
by packet (step k of every session, then step k + 1): each session's
packets are frames i + 1, N + i + 1, 2N + i + 1, ... Client i is
10.1.x.y port 40000 + i, the server 10.0.0.2:25; each client ends its
EHLO with a bare LF (a finding, so that its pcapng carries a comment).
Microsecond pcap, Ethernet, valid checksums (tests/smtpcap.py)."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import smtpcap  # noqa: E402

CONV = [(1, b'220 mx.example ESMTP\r\n'), (0, b'EHLO client.example\n'),
        (1, b'250 mx.example\r\n'), (0, b'MAIL FROM:<a@example.org>\r\n'),
        (1, b'250 ok\r\n'), (0, b'RCPT TO:<b@example.com>\r\n'), (1, b'250 ok\r\n'),
        (0, b'DATA\r\n'), (1, b'354 go\r\n'), (0, b'Subject: s\r\n\r\nbody\r\n.\r\n'),
        (1, b'250 queued\r\n'), (0, b'QUIT\r\n'), (1, b'221 bye\r\n')]


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    S = socket.inet_aton('10.0.0.2')
    sess = [smtpcap.packets(bytes([10, 1, i // 250, i % 250 + 1]), S, CONV, 40000 + i,
                            1000 + i, 9000 + i) for i in range(n)]
    frames = [p for step in zip(*sess) for p in step]
    smtpcap.write(path, frames, lambda k: (1700000000 + k // 1000, (k % 1000) * 1000))


main()
