#!/usr/bin/env python3
"""auth_gaps.py - a marker password planted in every position a capture
gap or a mid-stream start can leave it; every output is searched for it.

Usage: auth_gaps.py SMTPSCOPE TMPDIR

Each case is one SMTP session written as a pcap (IPv4, Ethernet): an AUTH
exchange (LOGIN, LOGIN with an initial response, PLAIN with and without
one, CRAM-MD5, XOAUTH2 with and without one) followed by MAIL FROM and
QUIT. The positions are generated: each turn of the exchange lost (the
AUTH command, each 334, each client line, the 235), the first bytes of
each client line lost, two neighbouring turns lost, the capture starting
at each turn (mid-stream) or inside each client line. smtpscope reads
each with the text report (default, -v with --show-content, with
--ladder), -j 2 (text and --json), --html, --evidence (.txt, .html,
index.html) and --evidence --redact in both packet formats; the marker
(the password, its base64, the PLAIN blob, the CRAM-MD5 response, the
XOAUTH2 token, and prefixes of each) must appear in none of them. The
evidence packet file without --redact is, by contract (docs/interface.md),
the session's frames byte for byte, so it alone is left out of the search.
The MAIL FROM after the exchange is a command: it ends the uncertainty
and must be shown (-v).

Prints one PASS/FAIL line per case and, last, the count of cases that
leak, per output.
"""
import base64
import glob
import hashlib
import hmac
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
CHALLENGE = b"<1896.697170952@mx.example.net>"
CRAM = base64.b64encode(USER + b" " + hmac.new(PASSWORD, CHALLENGE, hashlib.md5).hexdigest().encode())
XOAUTH = base64.b64encode(b"user=" + USER + b"\1auth=Bearer ya29.Zq7MARKERtoken91\1\1")
MARKERS = [PASSWORD, B64_PW, PLAIN, CRAM, XOAUTH, B64_PW[:12], PLAIN[:16], CRAM[:16], XOAUTH[:16],
           b"ya29.Zq7MARKER"]
MAIL = b"MAIL FROM:<someone@example.org>"

C, S = (bytes([192, 0, 2, 1]), 41000), (bytes([198, 51, 100, 25]), 25)


def packet(src, dst, seq, ack, flags, data):
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + tcp4(src[0], dst[0], src[1], dst[1], seq, ack, flags, data)


def session(turns, drop=(), handshake=True):
    """turns: (side, bytes); drop: indexes of turns left out of the capture
    (a pair (i, N): only the N first bytes of turn i are left out)."""
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
        ("s", b"250-mx.example.net\r\n250 AUTH LOGIN PLAIN CRAM-MD5 XOAUTH2\r\n")]
OK = ("s", b"235 2.7.0 Authentication successful\r\n")
TAIL = [("c", MAIL + b"\r\n"), ("s", b"250 2.1.0 Ok\r\n"), ("c", b"QUIT\r\n"), ("s", b"221 2.0.0 Bye\r\n")]
VARIANTS = [
    ("login", [("c", b"AUTH LOGIN\r\n"), ("s", b"334 VXNlcm5hbWU6\r\n"), ("c", B64_USER + b"\r\n"),
               ("s", b"334 UGFzc3dvcmQ6\r\n"), ("c", B64_PW + b"\r\n"), OK]),
    ("login-ir", [("c", b"AUTH LOGIN " + B64_USER + b"\r\n"), ("s", b"334 UGFzc3dvcmQ6\r\n"),
                  ("c", B64_PW + b"\r\n"), OK]),
    ("plain", [("c", b"AUTH PLAIN\r\n"), ("s", b"334 \r\n"), ("c", PLAIN + b"\r\n"), OK]),
    ("plain-ir", [("c", b"AUTH PLAIN " + PLAIN + b"\r\n"), OK]),
    ("cram-md5", [("c", b"AUTH CRAM-MD5\r\n"), ("s", b"334 " + base64.b64encode(CHALLENGE) + b"\r\n"),
                  ("c", CRAM + b"\r\n"), OK]),
    ("xoauth2", [("c", b"AUTH XOAUTH2\r\n"), ("s", b"334 \r\n"), ("c", XOAUTH + b"\r\n"), OK]),
    ("xoauth2-ir", [("c", b"AUTH XOAUTH2 " + XOAUTH + b"\r\n"), OK]),
]


def what(turns, i):
    side, data = turns[i]
    word = data.split(b" ")[0].split(b"\r")[0]
    if side == "s":
        return "the %s" % word.decode()
    if data.startswith(b"AUTH"):
        return "the AUTH command"
    return "client line %d" % i


def cases():
    """(name, turns, drop, handshake) for every position."""
    for name, ex in VARIANTS:
        turns = HEAD + ex + TAIL
        lo, hi = len(HEAD), len(HEAD) + len(ex)
        yield "%s, no gap" % name, turns, (), True
        for i in range(lo, hi):
            yield "%s, %s lost" % (name, what(turns, i)), turns, (i,), True
            if i + 1 < hi:
                yield "%s, %s and %s lost" % (name, what(turns, i), what(turns, i + 1)), turns, (i, i + 1), True
            if turns[i][0] == "c":
                yield "%s, start of %s lost" % (name, what(turns, i)), turns, ((i, 5),), True
            yield "%s, capture starts at %s" % (name, what(turns, i)), turns[i:], (), False
            if turns[i][0] == "c":
                yield "%s, capture starts inside %s" % (name, what(turns, i)), turns[i:], ((0, 4),), False


def write_pcap(path, pkts):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(pkts):
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(p), len(p)) + p)


def run(args):
    p = subprocess.run(args, capture_output=True)
    return p.stdout + p.stderr


def outputs(binary, cap, tmp, k):
    """(where, bytes) of every output of one capture."""
    outs = []
    for args in (["-r"], ["-v", "--show-content", "-r"], ["-v", "--ladder", "-r"],
                 ["-j", "2", "-v", "-r"], ["-j", "2", "--json", "-r"]):
        outs.append((" ".join(args[:-1]) or "text", run([binary, "-q"] + args + [cap])))
    html = os.path.join(tmp, "run%03d.html" % k)
    outs.append(("--html run", run([binary, "-q", "--html", html, "-r", cap])))
    if os.path.exists(html):
        outs.append(("--html", open(html, "rb").read()))
    for extra in ([], ["--redact"], ["--redact", "--evidence-format", "pcap"]):
        ev = os.path.join(tmp, "ev%03d%s" % (k, "".join(e[2] for e in extra)))
        outs.append(("evidence run", run([binary, "-q", "--evidence", ev] + extra + ["-r", cap])))
        for f in sorted(glob.glob(os.path.join(ev, "*"))):
            if f.endswith((".pcap", ".pcapng")) and not extra:
                continue         # the capture's own frames, by contract
            outs.append(("evidence " + os.path.splitext(f)[1] + (" " + " ".join(extra) if extra else ""),
                         open(f, "rb").read()))
    return outs


def main():
    binary, tmp = sys.argv[1], sys.argv[2]
    fails, total, by_output = 0, 0, {}
    for k, (name, turns, drop, hs) in enumerate(cases()):
        cap = os.path.join(tmp, "case%03d.pcap" % k)
        write_pcap(cap, session(turns, drop, hs))
        outs = outputs(binary, cap, tmp, k)
        leaks = sorted({where for where, data in outs for m in MARKERS if m in data})
        for where in leaks:
            by_output[where] = by_output.get(where, 0) + 1
        verbose = dict(outs)["-v --show-content"]
        shown = MAIL in verbose
        planted = any(m in open(cap, "rb").read() for m in MARKERS)
        masked = not planted or b"redacted" in verbose
        ok = not leaks and shown and masked
        why = []
        if leaks:
            why.append("the marker in " + ", ".join(leaks))
        if not shown:
            why.append("MAIL FROM not shown")
        if not masked:
            why.append("the credential in the capture, nothing says masked")
        print("%s: auth-gaps: %s: the credential in no output%s" % (
            "PASS" if ok else "FAIL", name, "" if ok else ": " + "; ".join(why)))
        fails += not ok
        total += 1
        if os.environ.get("AUTH_GAPS_KEEP") is None:
            for f in glob.glob(os.path.join(tmp, "*")):
                subprocess.run(["rm", "-rf", f])
    print("auth-gaps: %d positions, %d with a failure; leaking by output: %s" % (
        total, fails, ", ".join("%s %d" % kv for kv in sorted(by_output.items())) or "none"))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
