#!/usr/bin/env python3
"""fleet_pcap.py - a capture of many SMTP sessions between several clients
and several servers, for the fleet tests (syslog delivery, per-peer
summaries).

Usage: fleet_pcap.py SESSIONS OUT.pcap [--many-clients]

Built with the packet writer of samples/make-samples.py (deterministic).
Four clients, each with its EHLO name and its habit, talk in turn to three
servers, each with its greeting name:

  client 192.0.2.21 good.example.org     a correct session
  client 192.0.2.22 pipe.example.org     MAIL, RCPT and DATA in one segment
                                         (pipelining-unadvertised where the
                                         server does not offer PIPELINING)
  client 192.0.2.23 noquit.example.org   closes after the message without
                                         QUIT (close-without-quit)
  client 192.0.2.24 barelf.example.org   a bare LF in the content (bare-lf)

  server 198.51.100.11 mx1.example.net   offers PIPELINING
  server 198.51.100.12 mx2.example.net   does not
  server 198.51.100.13 mx3.example.net   does not

Session i is client i mod 4 with server (i div 4) mod 3, one after the
other. --many-clients gives session i its own client address (10.0.0.0/8,
same name and habit), for the cap on the peers kept. The tests do not trust this table: they count the per-peer numbers
from the session and finding objects of --json and compare.
"""
import importlib.util
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "make_samples", os.path.join(here, "..", "samples", "make-samples.py"))
ms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ms)

CLIENTS = [("192.0.2.21", "good.example.org", "good"),
           ("192.0.2.22", "pipe.example.org", "pipe"),
           ("192.0.2.23", "noquit.example.org", "noquit"),
           ("192.0.2.24", "barelf.example.org", "barelf")]
SERVERS = [("198.51.100.11", "mx1.example.net", True),
           ("198.51.100.12", "mx2.example.net", False),
           ("198.51.100.13", "mx3.example.net", False)]
EXT = ("SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES")


def session(cap, i, many):
    caddr, cname, habit = CLIENTS[i % len(CLIENTS)]
    if many:
        caddr = "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
    saddr, sname, pipelining = SERVERS[(i // len(CLIENTS)) % len(SERVERS)]
    conn = ms.Conn(cap, client=caddr, server=saddr, cport=20000 + i % 40000,
                   isn=((0x10000000 + i * 7919) & 0xFFFFFFFF, (0x50000000 + i * 104729) & 0xFFFFFFFF))
    ext = (("PIPELINING",) if pipelining else ()) + EXT
    frm, to = "alice@example.org", "bob@example.net"
    conn.open()
    conn.s(b"220 %s ESMTP\r\n" % sname.encode(), dt=0.0025)
    conn.c(b"EHLO %s\r\n" % cname.encode())
    conn.s(ms.ehlo_reply(sname, *ext))
    if habit == "pipe":
        conn.c(ms.lines("MAIL FROM:<%s>" % frm, "RCPT TO:<%s>" % to, "DATA"))
        conn.s(ms.lines("250 2.1.0 Ok", "250 2.1.5 Ok", "354 go ahead"))
    else:
        conn.c(ms.lines("MAIL FROM:<%s>" % frm))
        conn.s(ms.lines("250 2.1.0 Ok"))
        conn.c(ms.lines("RCPT TO:<%s>" % to))
        conn.s(ms.lines("250 2.1.5 Ok"))
        conn.c(ms.lines("DATA"))
        conn.s(ms.lines("354 go ahead"))
    if habit == "barelf":
        conn.c(b"Subject: test\r\n\r\nline one\nline two\r\n.\r\n")
    else:
        conn.c(ms.message(frm, to, "test %d" % i, ms.BODY))
    conn.s(ms.lines("250 2.0.0 Ok: queued"))
    if habit != "noquit":
        conn.c(ms.lines("QUIT"))
        conn.s(ms.lines("221 2.0.0 Bye"))
    conn.close("c")
    cap.t += 0.01


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    many = "--many-clients" in sys.argv[3:]
    cap = ms.Capture(os.path.basename(out), ms.T0)
    for i in range(n):
        session(cap, i, many)
    ms.write_capture(cap, os.path.dirname(os.path.abspath(out)))


main()
