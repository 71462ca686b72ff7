#!/usr/bin/env python3
"""auth_gaps.py - a marker password planted in every position a capture
gap or a mid-stream start can leave it; every output is searched for it.

Usage: auth_gaps.py SMTPSCOPE TMPDIR

Each case is one SMTP session written as a pcap (IPv4, Ethernet) with
some packets left out: the server's 334 prompts lost, the client's AUTH
command lost, the capture starting after AUTH, a hole inside the password
line, AUTH PLAIN without an initial response. smtpscope reads each with
the text report (transcript and ladder), --show-content, --json,
--evidence with and without --redact; the password, its base64 and the
AUTH PLAIN blob must appear in none of them (the pcaps written under
--redact included). The unredacted evidence pcap is the capture itself,
so it alone is left out of the search.
"""
import base64
import glob
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metamorphic import tcp4  # noqa: E402  (an IPv4 TCP packet, checksums right)

PASSWORD = b"Zq7-MARKER-pw-91"
USER = b"someone@example.org"
B64_USER = base64.b64encode(USER)
B64_PW = base64.b64encode(PASSWORD)
PLAIN = base64.b64encode(b"\0" + USER + b"\0" + PASSWORD)
MARKERS = [PASSWORD, B64_PW, PLAIN, B64_PW[:12], PLAIN[:16]]

C, S = (bytes([192, 0, 2, 1]), 41000), (bytes([198, 51, 100, 25]), 25)


def packet(src, dst, seq, ack, flags, data):
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + tcp4(src[0], dst[0], src[1], dst[1], seq, ack, flags, data)


def session(turns, drop=(), handshake=True):
    """turns: (side, bytes); drop: indexes of turns left out of the capture
    (an index i.N: only the N first bytes of turn i are left out)."""
    cs, ss, pk = 1000, 5000, []
    if handshake:
        pk += [packet(C, S, cs, 0, 0x02, b""), packet(S, C, ss, cs + 1, 0x12, b""),
               packet(C, S, cs + 1, ss + 1, 0x10, b"")]
    cs, ss = cs + 1, ss + 1
    for i, (side, data) in enumerate(turns):
        cut = [d for d in drop if isinstance(d, tuple) and d[0] == i]
        if side == "c":
            if cut:
                n = cut[0][1]
                pk.append(packet(C, S, cs + n, ss, 0x18, data[n:]))
            elif i not in drop:
                pk.append(packet(C, S, cs, ss, 0x18, data))
            cs += len(data)
            pk.append(packet(S, C, ss, cs, 0x10, b""))
        else:
            if i not in drop:
                pk.append(packet(S, C, ss, cs, 0x18, data))
            ss += len(data)
            pk.append(packet(C, S, cs, ss, 0x10, b""))
    pk += [packet(C, S, cs, ss, 0x11, b""), packet(S, C, ss, cs + 1, 0x11, b""),
           packet(C, S, cs + 1, ss + 1, 0x10, b"")]
    return pk


HEAD = [("s", b"220 mx.example.net ESMTP\r\n"), ("c", b"EHLO client.example.org\r\n"),
        ("s", b"250-mx.example.net\r\n250 AUTH LOGIN PLAIN\r\n")]
LOGIN = HEAD + [("c", b"AUTH LOGIN\r\n"), ("s", b"334 VXNlcm5hbWU6\r\n"), ("c", B64_USER + b"\r\n"),
                ("s", b"334 UGFzc3dvcmQ6\r\n"), ("c", B64_PW + b"\r\n"),
                ("s", b"235 2.7.0 Authentication successful\r\n"),
                ("c", b"QUIT\r\n"), ("s", b"221 2.0.0 Bye\r\n")]
PLAIN_NO_IR = HEAD + [("c", b"AUTH PLAIN\r\n"), ("s", b"334 \r\n"), ("c", PLAIN + b"\r\n"),
                      ("s", b"235 2.7.0 Authentication successful\r\n"),
                      ("c", b"QUIT\r\n"), ("s", b"221 2.0.0 Bye\r\n")]
PLAIN_IR = HEAD + [("c", b"AUTH PLAIN " + PLAIN + b"\r\n"),
                   ("s", b"235 2.7.0 Authentication successful\r\n"),
                   ("c", b"QUIT\r\n"), ("s", b"221 2.0.0 Bye\r\n")]

CASES = [
    ("login, no gap", LOGIN, (), True),
    ("login, second 334 lost", LOGIN, (6,), True),
    ("login, first 334 lost", LOGIN, (4,), True),
    ("login, both 334 lost", LOGIN, (4, 6), True),
    ("login, AUTH command lost", LOGIN, (3,), True),
    ("login, AUTH and first 334 lost", LOGIN, (3, 4), True),
    ("login, the 235 lost", LOGIN, (8,), True),
    ("login, start of the password line lost", LOGIN, ((7, 5),), True),
    ("login, first 334 and start of the username line lost", LOGIN, (4, (5, 3)), True),
    ("login, capture starts after AUTH", LOGIN[3:], (0,), False),
    ("login, capture starts at the password", LOGIN[6:], (), False),
    ("login, capture starts inside the password line", LOGIN[7:], ((0, 4),), False),
    ("plain, 334 lost", PLAIN_NO_IR, (4,), True),
    ("plain, AUTH command lost", PLAIN_NO_IR, (3,), True),
    ("plain, capture starts at the credentials", PLAIN_NO_IR[5:], (), False),
    ("plain, initial response, start lost", PLAIN_IR, ((3, 7),), True),
]


def write_pcap(path, pkts):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(pkts):
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(p), len(p)) + p)


def main():
    binary, tmp = sys.argv[1], sys.argv[2]
    fails = 0
    for k, (name, turns, drop, hs) in enumerate(CASES):
        cap = os.path.join(tmp, "case%02d.pcap" % k)
        write_pcap(cap, session(turns, drop, hs))
        outs = []
        for args in (["-r", cap], ["--ladder", "-r", cap], ["--show-content", "-r", cap],
                     ["--json", "-r", cap], ["--json", "--redact", "-r", cap]):
            p = subprocess.run([binary] + args, capture_output=True)
            outs.append((" ".join(args[:-2]) or "text", p.stdout + p.stderr))
        for redact in (False, True):
            ev = os.path.join(tmp, "ev%02d%s" % (k, "r" if redact else ""))
            p = subprocess.run([binary, "-q", "--evidence", ev] + (["--redact"] if redact else []) + ["-r", cap],
                               capture_output=True)
            outs.append(("evidence run", p.stdout + p.stderr))
            for f in sorted(glob.glob(os.path.join(ev, "*"))):
                if f.endswith(".pcap") and not redact:
                    continue         # the capture's own packets, unmasked by request
                outs.append((os.path.basename(f) + (" (--redact)" if redact else ""), open(f, "rb").read()))
        leaks = ["%s in %s" % (m.decode(), where) for where, data in outs for m in MARKERS if m in data]
        seen = any(b"redacted" in data for _w, data in outs)
        ok = not leaks and seen
        print("%s: auth-gaps: %s: the password in no output%s" % (
            "PASS" if ok else "FAIL", name,
            "" if ok else ": " + ("; ".join(leaks[:4]) if leaks else "nothing says redacted")))
        fails += not ok
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
