#!/usr/bin/env python3
"""Captures for tests/any_port.sh (--any-port), written into OUTDIR with the
packet writer of samples/make-samples.py (deterministic).

Usage: any_port.py OUTDIR

  smtp-25.pcap     two SMTP sessions on port 25: the second pipelines MAIL
                   and RCPT without PIPELINING, the third talks before the
                   greeting (pregreeting)
  smtp-2526.pcap   the same sessions on port 2526
  other.pcap       five connections on other ports that are not SMTP, each
                   carrying the secret SECRET below: FTP with AUTH TLS,
                   FTP with USER/PASS, POP3, an IMAP login after a 220-like
                   banner, a banner grab (a 220 and the client says
                   nothing; its one line names the secret)
  other-25.pcap    the same five on port 25, an SMTP port: sessions, whose
                   login lines (PASS, IMAP LOGIN) are masked
"""
import importlib.util
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "make_samples", os.path.join(here, "..", "samples", "make-samples.py"))
ms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ms)
L = ms.lines

SECRET = "Pl4nted-s3cret-9931"


def smtp_sessions(cap, port):
    c = ms.Conn(cap, client="192.0.2.150", cport=41200, sport=port)
    c.open()
    c.s(L("220 mx.example.net ESMTP"), dt=0.002)
    c.c(L("EHLO client.example.org"))
    c.s(ms.ehlo_reply("mx.example.net", "SIZE 10240000", "8BITMIME"))
    c.c(L("MAIL FROM:<a@example.org>"))
    c.s(L("250 2.1.0 Ok"))
    c.c(L("QUIT"))
    c.s(L("221 2.0.0 Bye"))
    c.close()
    c = ms.Conn(cap, client="192.0.2.151", cport=41201, sport=port)
    c.open()
    c.s(L("220 mx.example.net ESMTP"), dt=0.002)
    c.c(L("EHLO pipe.example.org"))
    c.s(ms.ehlo_reply("mx.example.net", "SIZE 10240000", "8BITMIME"))
    c.c(L("MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>"))
    c.s(L("250 2.1.0 Ok", "250 2.1.5 Ok"))
    c.c(L("QUIT"))
    c.s(L("221 2.0.0 Bye"))
    c.close()
    c = ms.Conn(cap, client="192.0.2.152", cport=41202, sport=port)
    c.open()
    c.c(L("EHLO early.example.org"), dt=0.001)
    c.s(L("220 mx.example.net ESMTP"), dt=0.5)
    c.s(ms.ehlo_reply("mx.example.net", "SIZE 10240000"))
    c.c(L("QUIT"))
    c.s(L("221 2.0.0 Bye"))
    c.close()


def other(cap, port=None):
    c = ms.Conn(cap, client="192.0.2.160", cport=41300, sport=port or 21)
    c.open()
    c.s(L("220 FTP server ready"), dt=0.002)
    c.c(L("AUTH TLS"))
    c.s(L("530 Please login with USER and PASS"))
    c.c(L("USER anonymous", "PASS " + SECRET))
    c.s(L("331 Password required", "230 Logged in"))
    c.close()
    c = ms.Conn(cap, client="192.0.2.161", cport=41301, sport=port or 2121)
    c.open()
    c.s(L("220 ProFTPD Server (ftp.example.net)"), dt=0.002)
    c.chat(("USER anonymous", "331 Password required for anonymous"),
           ("PASS " + SECRET, "230 User anonymous logged in"), ("QUIT", "221 Goodbye."))
    c.close("s")
    c = ms.Conn(cap, client="192.0.2.162", cport=41302, sport=port or 110)
    c.open()
    c.s(L("+OK POP3 ready"), dt=0.002)
    c.chat(("USER alice", "+OK"), ("PASS " + SECRET, "+OK logged in"))
    c.close()
    c = ms.Conn(cap, client="192.0.2.163", cport=41303, sport=port or 1143)
    c.open()
    c.s(L("220 imap.example.net ready"), dt=0.002)
    c.c(L("a1 LOGIN alice " + SECRET))
    c.s(L("a1 OK LOGIN completed"))
    c.close()
    c = ms.Conn(cap, client="192.0.2.164", cport=41304, sport=port or 8025)
    c.open()
    c.s(L("220 banner " + SECRET), dt=0.002)
    c.close()


def main():
    out = sys.argv[1]
    for name, fill in (("smtp-25.pcap", lambda cap: smtp_sessions(cap, 25)),
                       ("smtp-2526.pcap", lambda cap: smtp_sessions(cap, 2526)),
                       ("other.pcap", other),
                       ("other-25.pcap", lambda cap: other(cap, 25))):
        cap = ms.Capture(name, ms.T0 + 3000)
        fill(cap)
        ms.write_capture(cap, out)


if __name__ == "__main__":
    main()
