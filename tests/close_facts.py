#!/usr/bin/env python3
"""The capture of tests/close_facts.sh, written into OUTDIR/close.pcap with
the packet writer of samples/make-samples.py (deterministic).

Usage: close_facts.py OUTDIR

Two sessions; the first to start (192.0.2.171, frames 1-36) is the last to
end: its message is answered 250 (20 content bytes), then QUIT, 221 and the
server's FIN. The second (192.0.2.170, frames 5-21) sends its message and
the server answers the end of data with 521 and closes (frame 19).
"""
import importlib.util
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "make_samples", os.path.join(here, "..", "samples", "make-samples.py"))
ms = importlib.util.module_from_spec(spec); spec.loader.exec_module(ms)
L = ms.lines
TO_DATA = (("MAIL FROM:<a@example.org>", "250 2.1.0 Ok"),
           ("RCPT TO:<b@example.net>", "250 2.1.5 Ok"), ("DATA", "354 go ahead"))
cap = ms.Capture("close.pcap", ms.T0 + 4000)
# the session that starts first ends last
c2 = ms.Conn(cap, client="192.0.2.171", cport=41401)
c2.open()
c2.s(L("220 mx.example.net ESMTP"), dt=0.002)
c = ms.Conn(cap, client="192.0.2.170", cport=41400)
c.open()
c.s(L("220 mx.example.net ESMTP"), dt=0.002)
c.c(L("EHLO a.example.org"))
c.s(ms.ehlo_reply("mx.example.net", "SIZE 10240000"))
c.chat(*TO_DATA)
c.c(L("Subject: x", "", "body", "."))
c.s(L("521 5.7.1 closing"))
c.fin("s"); c.fin("c"); c.ack("s")
c2.c(L("EHLO b.example.org"))
c2.s(ms.ehlo_reply("mx.example.net", "SIZE 10240000"))
c2.chat(*TO_DATA)
c2.c(L("Subject: y", "", "body", "."))
c2.s(L("250 2.0.0 Ok: queued as 7Q"))
c2.c(L("QUIT")); c2.s(L("221 2.0.0 Bye"))
c2.fin("s"); c2.fin("c"); c2.ack("s")
ms.write_capture(cap, sys.argv[1])
