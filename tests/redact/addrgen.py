#!/usr/bin/env python3
# tests/redact/addrgen.py - a capture whose addresses and names are
# markers, for tests/redact_addresses.sh:
#   python3 tests/redact/addrgen.py OUT.pcap
# Three sessions: two from client 203.0.113.77 (the second names it as an
# address literal in EHLO and sends the same MAIL FROM as the first), one
# from 192.0.2.44; all to server 198.51.100.9. Every name holds "mrkr";
# the first session pipelines a RCPT and QUIT the server never answers
# one by one (reply-lost: a finding that quotes a line with a mailbox);
# the third's dotless HELO name comes back in the reply; the fourth goes
# TLS after STARTTLS, its "ClientHello" and "certificate" naming the server.
import os, socket, sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
import smtpcap

C1, C2, S = '203.0.113.77', '192.0.2.44', '198.51.100.9'
SRV = 'mx7.realcorp-mrkr.com'
CLI = 'gw3.clientcorp-mrkr.net'

def conv(*items):
    return [(d, t.encode('latin-1')) for d, t in items]

s1 = conv(
    (1, '220 %s ESMTP Postfix\r\n' % SRV),
    (0, 'EHLO %s\r\n' % CLI),
    (1, '250-%s Hello %s [%s]\r\n250-PIPELINING\r\n250-VRFY\r\n250 8BITMIME\r\n'
        % (SRV, CLI, C1)),
    (0, 'VRFY johnmrkr\r\n'),
    (1, '252 2.0.0 Cannot VRFY user\r\n'),
    (0, 'MAIL FROM:<john.mrkr@clientcorp-mrkr.net>\r\n'),
    (1, '250 2.1.0 Ok\r\n'),
    (0, 'RCPT TO:<alice.mrkr@realcorp-mrkr.com>\r\n'),
    (1, '250 2.1.5 <alice.mrkr@realcorp-mrkr.com> recipient ok\r\n'),
    (0, 'RCPT TO:<carol.mrkr@realcorp-mrkr.com>\r\nQUIT\r\n'),
    (1, '221 2.0.0 %s closing connection\r\n' % SRV),
)
s2 = conv(
    (1, '220 %s ESMTP Postfix\r\n' % SRV),
    (0, 'EHLO [%s]\r\n' % C1),
    (1, '250-%s\r\n250 PIPELINING\r\n' % SRV),
    (0, 'MAIL FROM:<john.mrkr@clientcorp-mrkr.net>\r\n'),
    (1, '250 2.1.0 Ok\r\n'),
    (0, 'QUIT\r\n'),
    (1, '221 2.0.0 Bye\r\n'),
)
s3 = conv(
    (1, '220 %s ESMTP Postfix\r\n' % SRV),
    (0, 'HELO othermrkr\r\n'),
    (1, '250 %s Hello othermrkr\r\n' % SRV),
    (0, 'MAIL FROM:<bob.mrkr@othercorp-mrkr.org>\r\n'),
    (1, '250 2.1.0 Ok\r\n'),
    (0, 'QUIT\r\n'),
    (1, '221 2.0.0 Bye\r\n'),
)

# STARTTLS, then TLS records whose ClientHello names the server (SNI)
hello = '\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03' + 'sni.' + SRV + '\x00' * 20
s4 = conv(
    (1, '220 %s ESMTP Postfix\r\n' % SRV),
    (0, 'EHLO %s\r\n' % CLI),
    (1, '250-%s\r\n250 STARTTLS\r\n' % SRV),
    (0, 'STARTTLS\r\n'),
    (1, '220 2.0.0 Ready to start TLS\r\n'),
    (0, hello),
    (1, '\x16\x03\x03\x00\x30\x02\x00\x00\x2c' + 'cert.' + SRV + '\x00' * 10),
)

a = socket.inet_aton
pk = (smtpcap.packets(a(C1), a(S), s1, cport=40001) +
      smtpcap.packets(a(C1), a(S), s2, cport=40002) +
      smtpcap.packets(a(C2), a(S), s3, cport=40003) +
      smtpcap.packets(a(C2), a(S), s4, cport=40004))
smtpcap.write(sys.argv[1], pk, lambda i: (1700000000, i * 1000))
