#!/usr/bin/env python3
"""tests/tls/check.py - the checks of tests/tls.sh on the capture it made.

    check.py SMTPSCOPE WORKDIR PORT PORT2 N

WORKDIR holds cap.pcap and k1.log .. kN.log (one key log per session, in
session order); PORT carries STARTTLS, PORT2 implicit TLS. tshark with the
key logs is the oracle for the plaintext and for the frames.
Prints PASS:/FAIL: lines.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import Checks, Tshark, read  # noqa: E402

smtpscope, work, port, port2, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
cap = os.path.join(work, "cap.pcap")
keys = [os.path.join(work, "k%d.log" % i) for i in range(1, n + 1)]
allkeys = os.path.join(work, "all.log")
with open(allkeys, "w") as out:
    for k in keys:
        out.write(open(k).read())
check = Checks("tls")

TLS12 = {2, 3, 7}
CLEAN = {1, 2, 3, 4, 5, 9, 10, 12}
SUITE = {3: "CHACHA20", 9: "TLS_CHACHA20_POLY1305_SHA256", 10: "TLS_AES_128_GCM_SHA256"}


def smtpscope_run(capfile, keylogs, extra=(), json_out=True, stdin=None):
    args = [smtpscope, "-q", "-p", "%s,%s" % (port, port2), "-r", capfile]
    if json_out:
        args.append("--json")
    for k in keylogs:
        args += ["--tls-keylog", k]
    args += list(extra)
    r = subprocess.run(args, capture_output=True, input=stdin)
    if r.returncode not in (0, 1) or r.stderr:
        check(False, "smtpscope %s" % " ".join(args[1:]),
              "exit %d, stderr %s" % (r.returncode, r.stderr[-400:]))
    return r.stdout.decode("utf-8", "replace")


def parse(out):
    objs = [json.loads(l) for l in out.splitlines() if l.strip()]
    sessions = {o["id"]: o for o in objs if o["type"] == "session"}
    findings = [o for o in objs if o["type"] == "finding"]
    summary = [o for o in objs if o["type"] == "summary"][-1]
    return sessions, findings, summary


def serious(findings, sid=None):
    return [f["rule"] for f in findings if f["severity"] in ("warning", "error")
            and (sid is None or f["session"] == sid)]


oracle = Tshark(cap, allkeys, port, port2)
tshark, follow, frames = oracle.run, oracle.follow, oracle.frames


# ---- all keys: every session decrypted, streams equal tshark's
streams = os.path.join(work, "streams")
os.makedirs(streams, exist_ok=True)
sessions, findings, summary = parse(smtpscope_run(cap, keys, ["--write-streams", streams]))
check(len(sessions) == n, "%d sessions" % n, "got %d" % len(sessions))
HANDSHAKE_FAILS = {13}
for sid in range(1, n + 1):
    if sid in HANDSHAKE_FAILS:
        continue
    s = sessions.get(sid, {})
    d = s.get("tls_decryption", {})
    want = "TLS 1.2" if sid in TLS12 else "TLS 1.3"
    check(d.get("state") == "decrypted" and d.get("version") == want,
          "session %d decrypted (%s)" % (sid, want), json.dumps(d))
    c2s, s2c = follow(sid - 1)
    mine_c = read(os.path.join(streams, "session-%d.c2s.tls" % sid))
    mine_s = read(os.path.join(streams, "session-%d.s2c.tls" % sid))
    check(len(c2s) > 0 and mine_c == c2s and mine_s == s2c,
          "session %d plaintext equals tshark follow,tls (%d + %d bytes)" % (sid, len(c2s), len(s2c)),
          "client %d vs %d bytes, server %d vs %d" % (len(mine_c), len(c2s), len(mine_s), len(s2c)))
for sid, suite in SUITE.items():
    check(suite in sessions.get(sid, {}).get("tls_decryption", {}).get("cipher", ""),
          "session %d: %s" % (sid, suite))
ku = oracle.run("-Y", "tcp.stream==8 && tls.handshake.type == 24", "-T", "fields", "-e", "tcp.srcport").split()
check(len(ku) == 2 and len(set(ku)) == 2,
      "session 9 carries a KeyUpdate each way (tshark: from ports %s), and its plaintext "
      "after them was equal" % ku)
for sid in sorted(CLEAN):
    check(not serious(findings, sid), "session %d: no warning or error" % sid,
          str(serious(findings, sid)))
nd = n - len(HANDSHAKE_FAILS)
t = summary.get("tls", {})
check(t.get("encrypted") == n and t.get("decrypted") == nd and t.get("no_key", 9) <= len(HANDSHAKE_FAILS),
      "totals: %d encrypted, %d decrypted" % (n, nd), json.dumps(t))
# a handshake that fails: encrypted, not read (python's client logs only
# the server's handshake secret before it gives up: no key)
d13 = sessions.get(13, {}).get("tls_decryption", {})
check(d13.get("state") in ("handshake", "no-key") and sessions[13]["tls"] and not serious(findings, 13),
      "session 13: the failed handshake is not read as a silent plaintext session",
      "%s %s" % (json.dumps(d13), serious(findings, 13)))



def records(out):
    """The JSON records, sorted, without what names the run or the file
    (a random run id in uid and run; the capture's name)."""
    recs = []
    for l in out.splitlines():
        if not l.strip():
            continue
        o = json.loads(l)
        for k in ("uid", "run", "file"):
            o.pop(k, None)
        recs.append(json.dumps(o, sort_keys=True))
    return sorted(recs)


# ---- -j 2: the same records as one process
one = smtpscope_run(cap, keys)
two = smtpscope_run(cap, keys, ["-j", "2"])
check(records(one) == records(two), "-j 2 gives the same records")

# ---- live, the key logs read again as they grew: every session as the
# file run has it (state, version, suite, findings), frames aside
def by_session(out):
    ss, fs, _ = parse(out)
    return ({i: ss[i].get("tls_decryption") for i in ss},
            sorted((f["session"], f["rule"]) for f in fs))
live = read(os.path.join(work, "live.json")).decode("utf-8", "replace")
try:
    got = by_session(live)
except (ValueError, KeyError, IndexError) as e:
    got = ("unreadable: %s" % e, live[-300:])
check(got == by_session(one), "live, key logs growing while it ran: the file run's sessions",
      "%s\n    file: %s" % (got, by_session(one)))

# ---- the key log inside the capture: a pcapng with a Decryption Secrets
# Block (editcap --inject-secrets), read without --tls-keylog, gives the
# records of the pcap read with it; gzipped too, and with -j 2
dsb = os.path.join(work, "dsb.pcapng")
r = subprocess.run(["editcap", "--inject-secrets", "tls," + allkeys, cap, dsb], capture_output=True)
if r.returncode != 0:
    check(False, "editcap --inject-secrets", r.stderr.decode()[-300:])
else:
    subprocess.run("gzip -c '%s' > '%s.gz'" % (dsb, dsb), shell=True, check=True)
    want = records(smtpscope_run(cap, [allkeys]))
    check(records(smtpscope_run(dsb, [])) == want,
          "pcapng with the secrets block, no --tls-keylog: the records of the run with it")
    check(records(smtpscope_run(dsb + ".gz", [])) == want,
          "gzipped pcapng with the secrets block: the same records")
    check(records(smtpscope_run(dsb, [], ["-j", "2"])) == want,
          "pcapng with the secrets block, -j 2: the same records")
    # a pipe cannot be read twice: its secrets are not looked for
    ds, _, _ = parse(smtpscope_run("-", [], stdin=read(dsb)))
    check(len(ds) == n and all("tls_decryption" not in s for s in ds.values()),
          "pcapng with the secrets block from a pipe: read, not decrypted")
    # the secrets of session 1 only: the others have no key
    one_dsb = os.path.join(work, "dsb1.pcapng")
    subprocess.run(["editcap", "--inject-secrets", "tls," + keys[0], cap, one_dsb], check=True)
    ds, _, _ = parse(smtpscope_run(one_dsb, []))
    check(ds[1]["tls_decryption"]["state"] == "decrypted" and
          all(ds[i]["tls_decryption"]["state"] == "no-key" for i in range(2, n + 1)),
          "a secrets block with one session's keys: that session decrypted, the others no-key")

# ---- the seeded violations, in the frames tshark shows
lost = frames(5, 'smtp.req.parameter contains "lost@"')
rl = [f for f in findings if f["session"] == 6 and f["rule"] == "reply-lost"]
check(len(lost) == 1 and len(rl) == 1 and
      any(e["frame"] == lost[0] and "lost@" in e["line"] for e in rl[0].get("evidence", [])),
      "session 6: reply-lost names the pipelined RCPT of frame %s" % lost,
      json.dumps(rl))
# the DATA's 354 then comes while the RCPT is pending: out of order too
check(set(serious(findings, 6)) <= {"reply-lost", "reply-out-of-order"},
      "session 6: no other warning or error", str(serious(findings, 6)))
early = frames(6, 'smtp.rsp.parameter contains "queued early"')
rd = [f for f in findings if f["session"] == 7 and f["rule"] == "reply-during-data"]
check(len(early) == 1 and len(rd) == 1 and rd[0]["frame"] == early[0],
      "session 7: reply-during-data at frame %s" % early, json.dumps(rd))
quit_ = frames(7, 'smtp.req.command == "QUIT"')
nq = [f for f in findings if f["session"] == 8 and f["severity"] == "error"]
check(len(quit_) == 1 and nq and any(e["frame"] == quit_[0] for f in nq for e in f.get("evidence", [])),
      "session 8: the QUIT of frame %s left unanswered is an error" % quit_,
      json.dumps(nq))

# RFC 3207 §4.2: the EHLO inside TLS sets the extensions (SIZE= is used in
# every session and listed only inside TLS: no extension-unadvertised)
pu = [f for f in findings if f["session"] == 11 and f["rule"] == "pipelining-unadvertised"]
check(len(pu) == 1 and serious(findings, 11) == ["pipelining-unadvertised"],
      "session 11: pipelining-unadvertised from the EHLO inside TLS, nothing else",
      str(serious(findings, 11)))
check(not [f for f in findings if f["rule"] == "extension-unadvertised"],
      "SIZE= listed only inside TLS: no extension-unadvertised")

# AUTH inside TLS: not plaintext, and the credentials are never printed
import base64
secret = base64.b64encode(b"\0user\0AUTH-SECRET-INSIDE-TLS").decode()
check(not [f for f in findings if f["rule"] == "auth-plaintext"], "AUTH PLAIN inside TLS: no auth-plaintext")
shown = smtpscope_run(cap, keys, ["--session", "12", "--show-content"], json_out=False)
check("AUTH PLAIN" in shown and secret not in shown and "AUTH-SECRET" not in shown,
      "AUTH PLAIN inside TLS: the credentials are not printed")

# ---- --redact: the evidence pcap of a decrypted session is the capture's
# (ciphertext is not masked at plaintext offsets)
ev1, ev2 = os.path.join(work, "ev-redact"), os.path.join(work, "ev-plain")
os.makedirs(ev1, exist_ok=True)
os.makedirs(ev2, exist_ok=True)
smtpscope_run(cap, keys, ["--session", "1", "--evidence", ev1, "--redact"])
smtpscope_run(cap, keys, ["--session", "1", "--evidence", ev2])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "evidence"))
from pcapcheck import ng_packets, ng_read  # noqa: E402


def ng_frames(path):
    """The packets of an evidence pcapng (time, bytes); its section header
    and secrets block differ between --redact and not, on purpose."""
    try:
        return [(p[1], p[2]) for p in ng_packets(ng_read(path))]
    except (OSError, AssertionError, ValueError) as e:
        return "unreadable: %s" % e


red, plain = ng_frames(os.path.join(ev1, "session-1.pcapng")), ng_frames(os.path.join(ev2, "session-1.pcapng"))
check(red == plain and isinstance(red, list) and red,
      "--redact leaves the encrypted evidence packets as captured")

# ---- without the option: as before (not analysed, no false finding)
sessions, findings, summary = parse(smtpscope_run(cap, []))
check(all(s["tls"] and "tls_decryption" not in s for s in sessions.values()) and "tls" not in summary,
      "without --tls-keylog: tls, not decrypted, no TLS totals")
check(not serious(findings), "without --tls-keylog: no warning or error", str(serious(findings)))

# ---- an empty key log: no key for any session
empty = os.path.join(work, "empty.log")
open(empty, "w").close()
sessions, findings, summary = parse(smtpscope_run(cap, [empty]))
check(all(s.get("tls_decryption", {}).get("state") == "no-key" for s in sessions.values()),
      "empty key log: every session no-key")
check(summary.get("tls") == {"encrypted": n, "decrypted": 0, "no_key": n},
      "empty key log: totals", json.dumps(summary.get("tls")))
check(not serious(findings), "empty key log: no warning or error", str(serious(findings)))

# ---- another session's key only: that one decrypted, the rest no-key
sessions, findings, summary = parse(smtpscope_run(cap, [keys[0]]))
check(sessions[1]["tls_decryption"]["state"] == "decrypted" and
      all(sessions[i]["tls_decryption"]["state"] == "no-key" for i in range(2, n + 1)),
      "another session's key: no-key for the others")
check(not serious(findings, 2), "another session's key: no warning or error", str(serious(findings, 2)))
text = smtpscope_run(cap, [keys[0]], ["--session", "2"], json_out=False)
check("the key log has no key for this session" in text, "no-key note in the transcript")

# ---- a wrong key: the first encrypted record fails its tag
wrong = os.path.join(work, "wrong.log")
with open(wrong, "w") as out:
    for line in open(keys[0]):
        p = line.split()
        if len(p) == 3:
            p[2] = ("0" if p[2][0] != "0" else "1") + p[2][1:]
        out.write(" ".join(p) + "\n")
sessions, findings, summary = parse(smtpscope_run(cap, [wrong]))
check(sessions[1]["tls_decryption"]["state"] == "failed" and sessions[1]["tls_decryption"]["notes"] >= 1,
      "wrong key: session 1 failed", json.dumps(sessions[1].get("tls_decryption")))
check(not serious(findings, 1), "wrong key: no warning or error", str(serious(findings, 1)))
text = smtpscope_run(cap, [wrong], ["--session", "1"], json_out=False)
m = re.search(r"^#(\d+)\s.*fails its authentication tag", text, re.M)
enc = frames(0, "tls.record.opaque_type == 23 || tls.record.content_type == 23")
check(m is not None and int(m.group(1)) in enc,
      "wrong key: the note names an encrypted record's frame", m.group(0) if m else text[-300:])

# ---- a damaged record: its note, its plaintext missing, no false finding
mail = frames(0, 'smtp.req.command == "MAIL"')
data = bytearray(open(cap, "rb").read())
off, i = 24, 0
while off + 16 <= len(data) and mail:
    caplen = int.from_bytes(data[off + 8:off + 12], "little")
    i += 1
    if i == mail[0]:
        data[off + 16 + caplen - 1] ^= 0x55     # the last byte: the record's tag
        break
    off += 16 + caplen
bad = os.path.join(work, "damaged.pcap")
open(bad, "wb").write(bytes(data))
sessions, findings, summary = parse(smtpscope_run(bad, keys))
check(sessions[1]["tls_decryption"]["state"] == "decrypted" and sessions[1]["tls_decryption"]["notes"] == 1,
      "damaged record: session 1 still decrypted, one note",
      json.dumps(sessions[1].get("tls_decryption")))
check(not serious(findings, 1), "damaged record: no warning or error", str(serious(findings, 1)))
text = smtpscope_run(bad, keys, ["--session", "1"], json_out=False)
check(re.search(r"^#%d\s.*fails its authentication tag \(damaged\)" % (mail[0] if mail else -1), text, re.M)
      is not None, "damaged record: the note names frame %s" % mail)

# ---- evidence: session 1's pcapng carries its keys (a Decryption Secrets
# Block), so tshark without any key log reads its SMTP inside TLS; under
# --redact the keys are left out and the .txt says why
def evidence_commands(extra):
    ev = os.path.join(work, "ev" + "".join(extra).replace("-", ""))
    smtpscope_run(cap, keys, ["--evidence", ev, "--session", "1"] + extra, json_out=False)
    pc = os.path.join(ev, "session-1.pcapng")
    out = subprocess.run(["tshark", "-r", pc, "-o", "tls.keylog_file:", "-d", "tcp.port==%s,smtp" % port,
                          "-d", "tcp.port==%s,tls" % port2, "-T", "fields", "-e", "smtp.req.command"],
                         capture_output=True, text=True).stdout.split()
    txt = read(os.path.join(ev, "session-1.txt")).decode("utf-8", "replace") \
        if os.path.exists(os.path.join(ev, "session-1.txt")) else ""
    return out, txt
cmds, txt = evidence_commands([])
check("MAIL" in cmds and "tls keys:      in session-1.pcapng" in txt,
      "evidence pcapng with the session's keys: tshark without a key log reads MAIL inside TLS",
      "%s / %s" % (cmds, txt[:300]))
cmds, txt = evidence_commands(["--redact"])
check("MAIL" not in cmds and "tls keys:      left out (--redact" in txt,
      "evidence under --redact: no keys in the pcapng, the .txt says why", "%s / %s" % (cmds, txt[:300]))

sys.exit(1 if check.failed else 0)
