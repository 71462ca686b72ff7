#!/usr/bin/env python3
"""tests/tls/exim_check.py - the checks of tests/tls_exim.sh on the capture
it made.

    exim_check.py SMTPSCOPE WORKDIR PORT PORT2 N

WORKDIR holds cap.pcap and spool/keys.log, the key log Exim (GnuTLS)
wrote on the server side. tshark with that key log is the oracle for the
plaintext and the frames. Prints PASS:/FAIL: lines.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import Checks, Tshark, read  # noqa: E402

smtpscope, work, port, port2, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
cap = os.path.join(work, "cap.pcap")
keys = os.path.join(work, "spool", "keys.log")
oracle = Tshark(cap, keys, port, port2)
check = Checks("tls_exim")
VERSION = {1: "TLS 1.3", 2: "TLS 1.2", 3: "TLS 1.3", 4: "TLS 1.3"}
CLEAN = {1, 2, 3}


streams = os.path.join(work, "streams")
os.makedirs(streams, exist_ok=True)
r = subprocess.run([smtpscope, "-q", "--json", "-p", "%s,%s" % (port, port2), "-r", cap,
                    "--tls-keylog", keys, "--write-streams", streams], capture_output=True)
check(r.returncode in (0, 1) and not r.stderr, "smtpscope runs", r.stderr.decode()[-300:])
objs = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
sessions = {o["id"]: o for o in objs if o["type"] == "session"}
findings = [o for o in objs if o["type"] == "finding"]
check(len(sessions) == n, "%d sessions" % n, "got %d" % len(sessions))
check(b"CLIENT_HANDSHAKE_TRAFFIC_SECRET" in read(keys) and b"CLIENT_RANDOM" in read(keys),
      "Exim wrote its server-side key log (TLS 1.3 and TLS 1.2 lines)")


def serious(sid):
    return [f["rule"] for f in findings if f["session"] == sid and f["severity"] in ("warning", "error")]


for sid in range(1, n + 1):
    d = sessions.get(sid, {}).get("tls_decryption", {})
    check(d.get("state") == "decrypted" and d.get("version") == VERSION[sid],
          "session %d decrypted with Exim's key log (%s)" % (sid, VERSION[sid]), json.dumps(d))
    c2s, s2c = oracle.follow(sid - 1)
    mine_c = read(os.path.join(streams, "session-%d.c2s.tls" % sid))
    mine_s = read(os.path.join(streams, "session-%d.s2c.tls" % sid))
    check(len(c2s) > 0 and mine_c == c2s and mine_s == s2c,
          "session %d plaintext equals tshark follow,tls (%d + %d bytes)" % (sid, len(c2s), len(s2c)),
          "client %d vs %d bytes, server %d vs %d" % (len(mine_c), len(c2s), len(mine_s), len(s2c)))
for sid in sorted(CLEAN):
    check(not serious(sid), "session %d: no warning or error" % sid, str(serious(sid)))

bare = oracle.frames(3, 'smtp.req.command == "EHLO" && !smtp.req.parameter')
hn = [f for f in findings if f["session"] == 4 and f["rule"] == "helo-no-domain"]
check(len(bare) == 1 and len(hn) == 1 and hn[0]["frame"] == bare[0],
      "session 4: helo-no-domain inside TLS at frame %s" % bare, json.dumps(hn))
check(serious(4) == ["helo-no-domain"], "session 4: nothing else", str(serious(4)))
sys.exit(1 if check.failed else 0)
