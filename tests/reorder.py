#!/usr/bin/env python3
"""reorder.py - sessions whose packets a span port could show in another
order, analysed in wire order and reordered: the analysis must be the same.

Usage: reorder.py SMTPSCOPE TMPDIR

Each session is written by tests/smtpcap.py's packets(), then reordered by
the transforms of tests/metamorphic.py (each peer's ACK ahead of the data
it acknowledges, one segment or cumulative; adjacent data segments of one
direction swapped; the two together), and compared as metamorphic.py
compares (findings, transactions, close facts, byte counts). Each session
also checks, in wire order, the fact its reordering used to change:

 - fin-ack: the server refuses BDAT and closes; the client's next
   commands, which acknowledge the server's FIN, follow it. Moved ahead of
   the reply and the FIN, they are still after the FIN (its ACK number did
   not cover them): no reply-lost.
 - swapped: a message in six segments, the replies to DATA and to the
   message captured ahead of them (cumulative ACKs), then two neighbours
   swapped: every byte is in the capture, no capture-gap.
 - oversized: both SYNs announce an MSS of 1460; a content segment three
   times that long whose receiver takes only its first 1460 bytes, later
   segments bringing other bytes for the rest (a crafted first copy
   holding a 2920-byte line; the ACK covers half of it). Whether the ACK is captured before or after
   those later copies, or the first copy after the segment before it, the
   first copy is cut where the later copies begin: no line-too-long.

Prints PASS/FAIL lines.
"""
import os
import socket
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import metamorphic  # noqa: E402
import smtpcap      # noqa: E402

C, S = socket.inet_aton("192.0.2.180"), socket.inet_aton("198.51.100.25")
MSS = 1460


def conv_fin_ack():
    return [
        (1, b"220 mx.example.net ESMTP\r\n"),
        (0, b"EHLO a.example.org\r\n"),
        (1, b"250-mx.example.net\r\n250-PIPELINING\r\n250 CHUNKING\r\n"),
        (0, b"MAIL FROM:<a@example.org>\r\n"),
        (1, b"250 2.1.0 Ok\r\n"),
        (0, b"RCPT TO:<b@example.net>\r\n"),
        (1, b"250 2.1.5 Ok\r\n"),
        (0, b"BDAT 5 X\r\n"),
        (1, b"521 5.5.4 Syntax: BDAT count [LAST]\r\n"),
        (1, b"", {"flags": 0x11}),                          # FIN: acknowledges up to BDAT
        (0, b"BDAT 7 LAST\r\nhello\r\nMAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.net>\r\n"),
        (1, b"", {"flags": 0x04}),
    ]


def up_to_data():
    """A session up to the 354 reply to DATA."""
    return [
        (1, b"220 mx.example.net ESMTP\r\n"),
        (0, b"EHLO a.example.org\r\n"),
        (1, b"250-mx.example.net\r\n250 8BITMIME\r\n"),
        (0, b"MAIL FROM:<a@example.org>\r\n"),
        (1, b"250 2.1.0 Ok\r\n"),
        (0, b"RCPT TO:<b@example.net>\r\n"),
        (1, b"250 2.1.5 Ok\r\n"),
        (0, b"DATA\r\n"),
        (1, b"354 go ahead\r\n"),
    ]


def conv_swapped():
    body = b"".join(b"line %03d of the message, long enough to fill segments\r\n" % i
                    for i in range(60)) + b".\r\n"
    conv = up_to_data()
    step = (len(body) + 5) // 6
    conv += [(0, body[i:i + step]) for i in range(0, len(body), step)]
    return conv + [(1, b"250 2.0.0 Ok: queued\r\n"), (0, b"QUIT\r\n"), (1, b"221 2.0.0 Bye\r\n")]


def conv_oversized():
    head = up_to_data()
    k = sum(len(x) for d, x in head if d == 0)

    def text(tag):
        out = b"".join(b"%s line %02d of the real message text\r\n" % (tag, i) for i in range(60))
        return out[:MSS - 2] + b"\r\n"
    subject = b"Subject: oversized first copy\r\n\r\n"
    at = k + len(subject)
    crafted = text(b"a") + b"X" * (2 * MSS)               # a 2920-byte line after the first 1460
    return head + [
        (0, subject),
        (0, crafted, {"seq": at}),
        (0, text(b"b"), {"seq": at + MSS}),
        (1, b"", {"flags": 0x10, "ack": at + 2 * MSS}),
        (0, text(b"c"), {"seq": at + 2 * MSS}),
        (0, b".\r\n"),
        (1, b"250 2.0.0 Ok: queued\r\n"),
        (0, b"QUIT\r\n"),
        (1, b"221 2.0.0 Bye\r\n"),
    ]


def swap_after_ack(cap, tmp):
    """ACKs ahead (cumulative), then adjacent data segments swapped."""
    mid = metamorphic.t_ack(True)(cap, tmp + ".a")
    return metamorphic.t_swap(metamorphic.Capture(mid[0]), tmp) if mid else None


SESSIONS = [
    ("fin-ack", conv_fin_ack, {}, ["ack-ahead-one", "ack-ahead-cumulative"],
     lambda f: ("reply-lost", "server", "error") not in f, "no reply-lost"),
    ("swapped", conv_swapped, {}, ["ack-ahead-cumulative+adjacent-swapped"],
     lambda f: ("capture-gap", "capture", "info") not in f, "no capture-gap"),
    ("oversized", conv_oversized, {"mss": MSS},
     ["ack-ahead-one", "ack-ahead-cumulative", "adjacent-swapped",
      "ack-ahead-cumulative+adjacent-swapped"],
     lambda f: ("line-too-long", "client", "warning") not in f, "no line-too-long"),
]
TRANSFORMS = dict(metamorphic.TRANSFORMS)
TRANSFORMS["ack-ahead-cumulative+adjacent-swapped"] = swap_after_ack


def main():
    binary, tmp = sys.argv[1], sys.argv[2]
    fails = 0

    def check(ok, what):
        nonlocal fails
        print("%s: reorder: %s" % ("PASS" if ok else "FAIL", what))
        fails += not ok

    for i, (name, conv, opts, transforms, fact, fact_name) in enumerate(SESSIONS):
        path = os.path.join(tmp, name + ".pcap")
        pk = smtpcap.packets(C, S, conv(), cport=41100 + i, close=False, **opts)
        smtpcap.write(path, pk, lambda n: (1700000000, n * 1000))
        base, err = metamorphic.analyse(binary, [path])
        if base is None or len(base) != 1:
            check(False, "%s: wire order analysed (%s)" % (name, err.strip()))
            continue
        s = list(base.values())[0][0]
        check(fact(s["findings"]), "%s in wire order: %s" % (name, fact_name))
        for tname in transforms:
            files = TRANSFORMS[tname](metamorphic.Capture(path), os.path.join(tmp, name + "-" + tname))
            if not files:
                check(False, "%s %s: the transform applies" % (name, tname))
                continue
            an, err = metamorphic.analyse(binary, files)
            check(an == base, "%s %s: the same analysis%s" % (
                name, tname, "" if an == base else ": " + (metamorphic.diff(base, an) if an else err)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
