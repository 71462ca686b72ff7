#!/usr/bin/env python3
"""frag.py - IP fragments of TCP, for tests/frag.sh.

Usage: frag.py SMTPSCOPE RELEASE_SMTPSCOPE TMPDIR (the release build for
the memory measure: a sanitizer build holds freed memory in quarantine)

Captures are made here from tests/smtpcap.py's session: a content segment
of 1 400 bytes carried in fragments (IPv4, or the session mapped to IPv6
as metamorphic.py maps it, fragmented with a fragment header). Each
fragmented capture must be analysed as the same capture with the segment
whole (metamorphic.py's analysis: findings, transactions, close facts,
byte counts per session; frame numbers aside), and tshark, which
reassembles fragments too, must follow the same SMTP stream bytes:
  in order, reversed, duplicated, a segment with URG set (the urgent byte
  stays in the stream), IPv4 fragments over bytes another brought first
  (the first copy kept, counted), IPv6 fragments that overlap (dropped,
  counted: RFC 5722), the last fragment missing (counted at the end),
  the last fragment 61 s late (counted as timed out), -j 2, and the
  evidence pcapng holding every frame of the session, fragments included.
A flood of 200 000 first fragments of distinct datagrams between other
hosts, around and through a session, leaves the session's analysis as it
was, is counted, and keeps memory as it is with 20 000 (peak RSS).
Prints PASS:/FAIL:/SKIP: lines.
"""
import importlib.util
import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "evidence"))
import metamorphic  # noqa: E402  (analyse, diff, follow, v4_to_v6)
import pcapcheck  # noqa: E402  (the evidence pcapng's packets)
import smtpcap  # noqa: E402

spec = importlib.util.spec_from_file_location(
    "make_samples", os.path.join(HERE, "..", "samples", "make-samples.py"))
samples = importlib.util.module_from_spec(spec)
spec.loader.exec_module(samples)       # ip4_fragments

BIN, REL, TMP = sys.argv[1], sys.argv[2], sys.argv[3]
HAVE_TSHARK = shutil.which("tshark") is not None
ETH = b"\0" * 6 + b"\0\0\0\0\0\1"
C, S = socket.inet_aton("192.0.2.7"), socket.inet_aton("198.51.100.25")
BODY = "".join("line %04d of the message body, long enough to be cut\r\n" % i for i in range(26))
CONV = [(1, "220 mx.example.net ESMTP\r\n"), (0, "EHLO client.example.org\r\n"),
        (1, "250-mx.example.net\r\n250 PIPELINING\r\n"), (0, "MAIL FROM:<a@example.org>\r\n"),
        (1, "250 2.1.0 Ok\r\n"), (0, "RCPT TO:<b@example.net>\r\n"), (1, "250 2.1.5 Ok\r\n"),
        (0, "DATA\r\n"), (1, "354 End data with <CR><LF>.<CR><LF>\r\n"),
        (0, BODY + ".\r\n"), (1, "250 2.0.0 Ok: queued as 1\r\n"),
        (0, "QUIT\r\n"), (1, "221 2.0.0 Bye\r\n")]
CONTENT = 3 + 9                      # the frame (0-based) of the content segment
results = []
DROPS = ("timeout", "incomplete", "overlap", "limit", "too_big", "malformed")


def say(ok, what):
    results.append(ok)
    print("%s: frag: %s" % ("PASS" if ok else "FAIL", what))


def frames(v6=False, urg=False):
    """The session's Ethernet frames, IPv4 or IPv6, the content segment
    with URG set (urgent pointer 1) when asked."""
    pk = smtpcap.packets(C, S, [(d, t.encode("latin-1")) for d, t in CONV])
    ips = [bytearray(p[14:]) for p in pk]
    if urg:
        ip = ips[CONTENT]
        ip[20 + 13] |= 0x20
        ip[20 + 18:20 + 20] = struct.pack("!H", 1)
        ip[20 + 16:20 + 18] = b"\0\0"
        pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, 6, len(ip) - 20)
        ip[20 + 16:20 + 18] = struct.pack("!H", smtpcap.csum(pseudo + bytes(ip[20:])))
    if v6:
        return [ETH + b"\x86\xdd" + metamorphic.v4_to_v6(bytes(ip)) for ip in ips]
    return [ETH + b"\x08\x00" + bytes(ip) for ip in ips]


def fragmented(fr, v6, sizes=(512, 512), urg=False):
    """fr with its content segment as fragments (Ethernet frames): the
    IPv4 segment cut by make-samples.py, each piece mapped to IPv6 by
    metamorphic.py (a fragment header), its TCP checksum the IPv6 one."""
    ip = bytearray(frames(False, urg)[CONTENT][14:])
    if v6:
        ip[20 + 16:20 + 18] = metamorphic.v4_to_v6(bytes(ip))[40 + 16:40 + 18]
    parts = samples.ip4_fragments(bytes(ip), sizes)
    if v6:
        parts = [metamorphic.v4_to_v6(p) for p in parts]
    return [fr[CONTENT][:14] + p for p in parts]


def write(name, pk, ts=None):
    path = os.path.join(TMP, name)
    smtpcap.write(path, pk, ts or (lambda i: (1700000000, i * 1000)))
    return path


def run(args):
    return subprocess.run([BIN] + args, capture_output=True, text=True)


def summary(path, extra=()):
    p = run(["--json", "-q"] + list(extra) + ["-r", path])
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    s = [x for x in lines if x.get("type") == "summary"][0]
    # absent when no fragment was read
    s.setdefault("fragments", {"read": 0, "datagrams": 0, "duplicates": 0, "overlap_v4": 0,
                               "dropped": dict.fromkeys(DROPS, 0)})
    return s


def same(ref, path, what, tshark=True):
    a, _ = metamorphic.analyse(BIN, [ref])
    b, err = metamorphic.analyse(BIN, [path])
    say(a == b and bool(a), "%s: the analysis of the whole segment%s" % (
        what, "" if a == b else " (%s %s)" % (metamorphic.diff(a, b) if b else "", err)))
    if tshark and HAVE_TSHARK:
        fa = metamorphic.follow([ref], os.path.join(TMP, "f"), 4)
        fb = metamorphic.follow([path], os.path.join(TMP, "f"), 4)
        say(fa == fb and bool(fa), "%s: tshark follows the same SMTP bytes" % what)


def client_stream(path):
    """The client's stream as --write-streams writes it."""
    d = os.path.join(TMP, "streams")
    shutil.rmtree(d, ignore_errors=True)
    os.mkdir(d)
    run(["-q", "--write-streams", d, "-r", path])
    got = b""
    for f in sorted(os.listdir(d)):
        got += open(os.path.join(d, f), "rb").read()
    return got


def with_content(fr, parts):
    return fr[:CONTENT] + parts + fr[CONTENT + 1:]


def cases():
    for v6 in (False, True):
        fam = "IPv6" if v6 else "IPv4"
        fr = frames(v6)
        ref = write("ref%d.pcap" % v6, fr)
        parts = fragmented(fr, v6)
        p = write("inorder%d.pcap" % v6, with_content(fr, parts))
        same(ref, p, "%s fragments in order" % fam)
        s = summary(p)
        say(s.get("fragments", {}).get("datagrams") == 1 and s["fragments"]["read"] == 3,
            "%s: 3 fragments read, 1 datagram reassembled (summary)" % fam)
        p = write("reversed%d.pcap" % v6, with_content(fr, parts[::-1]))
        same(ref, p, "%s fragments in reverse order" % fam)
        p = write("dup%d.pcap" % v6, with_content(fr, parts[:2] + parts[1:]))
        same(ref, p, "%s a fragment captured twice" % fam)
        say(summary(p)["fragments"]["duplicates"] == 1, "%s: the duplicate is counted" % fam)
        urg = frames(v6, urg=True)
        ref_u = write("urg_ref%d.pcap" % v6, urg)
        p = write("urg%d.pcap" % v6, with_content(urg, fragmented(urg, v6, urg=True)))
        same(ref_u, p, "%s URG segment in fragments" % fam)
        # the URG byte is stream data, as in the whole capture without URG
        same(ref, p, "%s URG segment in fragments vs no URG" % fam, tshark=False)
        # -j 2: one process follows the datagram, every process read it
        a, _ = metamorphic.analyse(BIN, [ref])
        q = subprocess.run([BIN, "-j", "2", "--json", "-q", "-r", p], capture_output=True, text=True)
        sess = [json.loads(x) for x in q.stdout.splitlines() if '"type":"session"' in x]
        say(len(sess) == 1 and sess[0]["bytes"] == json.loads(
            [x for x in run(["--json", "-q", "-r", ref_u]).stdout.splitlines()
             if '"type":"session"' in x][0])["bytes"],
            "%s -j 2: one session, the same bytes" % fam)
        jsum = [json.loads(x) for x in q.stdout.splitlines() if '"type":"summary"' in x][0]
        say(jsum.get("fragments", {}).get("read") == 3, "%s -j 2: fragments counted once" % fam)
        evidence(p, fam, len(fr) + 2)
    # IPv4 overlap: a later fragment over the second one's bytes, other bytes
    fr = frames()
    ref = write("ref0.pcap", fr)
    parts = fragmented(fr, False)
    bad = bytearray(parts[1])
    bad[14 + 20:] = b"X" * (len(bad) - 34)
    struct.pack_into("!H", bad, 14 + 10, 0)
    p = write("overlap4.pcap", with_content(fr, parts[:2] + [bytes(bad)] + parts[2:]))
    same(ref, p, "IPv4 overlap, first copy kept", tshark=False)
    say(summary(p)["fragments"]["overlap_v4"] == 1, "IPv4 overlap counted (summary)")
    say(b"XXXX" not in client_stream(p), "IPv4 overlap: the later copy's bytes are not in the stream")
    p = write("overlap4b.pcap", with_content(fr, [parts[0], bytes(bad), parts[1], parts[2]]))
    say(b"X" * (len(bad) - 34) in client_stream(p),
        "IPv4 overlap: the first copy's bytes are in the stream when it came first")
    # IPv6 overlap: dropped (RFC 5722)
    fr6 = frames(True)
    parts = fragmented(fr6, True)
    bad = bytearray(parts[1])
    bad[14 + 48:] = b"X" * (len(bad) - 62)      # behind the fragment header
    p = write("overlap6.pcap", with_content(fr6, parts[:2] + [bytes(bad)] + parts[2:]))
    s = summary(p)
    say(s["fragments"]["dropped"]["overlap"] == 4 and s["fragments"]["datagrams"] == 0,
        "IPv6 overlap: the datagram's 4 fragments dropped (got %s)" % s["fragments"])
    out = run(["-q", "-r", p]).stdout
    say("dropped by reassembly: 4 IP fragments (4 overlapping IPv6 fragments (RFC 5722)" in out,
        "IPv6 overlap: named in the text totals")
    # missing last fragment: incomplete at the end
    parts = fragmented(fr, False)
    p = write("nolast.pcap", with_content(fr, parts[:2]))
    s = summary(p)
    say(s["fragments"]["dropped"]["incomplete"] == 2, "missing last fragment: 2 counted incomplete")
    out = run(["-q", "-r", p]).stdout
    say("2 incomplete at the end of the capture" in out, "missing last fragment: named in the text")
    sess = [json.loads(x) for x in run(["--json", "-q", "-r", p]).stdout.splitlines()
            if '"type":"session"' in x]
    say(len(sess) == 1, "missing last fragment: the session is still reported")
    # timeout: the last fragment 61 s after the others
    pk = with_content(fr, parts)
    late = CONTENT + 2
    p = write("late.pcap", pk, lambda i: (1700000000 + (61 if i >= late else 0), i * 1000))
    s = summary(p)
    say(s["fragments"]["dropped"]["timeout"] == 2 and s["fragments"]["dropped"]["incomplete"] == 1,
        "timeout: 2 fragments timed out, the late one incomplete (got %s)" % s["fragments"]["dropped"])
    say("incomplete after 60 s" in run(["-q", "-r", p]).stdout, "timeout: named in the text")


def evidence(path, fam, nframes):
    ev = os.path.join(TMP, "ev-%s" % fam)
    shutil.rmtree(ev, ignore_errors=True)
    p = run(["-q", "--evidence", ev, "-r", path])
    f = os.path.join(ev, "session-1.pcapng")
    if p.returncode > 1 or not os.path.exists(f):
        say(False, "%s evidence: written (%s)" % (fam, p.stderr[:200]))
        return
    ids = [x[3] for x in pcapcheck.ng_packets(pcapcheck.ng_read(f))]
    say(sorted(ids) == list(range(1, nframes + 1)),
        "%s evidence: every frame, each fragment included (%d of %d)" % (fam, len(ids), nframes))


def flood():
    """n first fragments of distinct datagrams (other hosts, to port 25),
    the session's frames spread through them."""
    fr = frames()
    ref = write("ref0.pcap", fr)

    def make(n):
        dst = socket.inet_aton("198.51.100.26")
        tcp = struct.pack("!HHIIBBHHH", 50000, 25, 1, 0, 0x50, 0x02, 65535, 0, 0) + b"F" * 20
        out, step = [], max(1, n // len(fr))
        k = 0
        for i in range(n):
            if i % step == 0 and k < len(fr):
                out.append(fr[k])
                k += 1
            # distinct datagrams: 16 bits of id, the source's last byte the rest
            src = socket.inet_aton("203.0.113.%d" % (i >> 16))
            h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0x2000, 64, 6,
                            0, src, dst)
            out.append(ETH + b"\x08\x00" + h + tcp)
        out += fr[k:]
        return write("flood%d.pcap" % n, out)

    res = {}
    for n in (20000, 200000):
        p = make(n)
        same(ref, p, "flood of %d first fragments" % n, tshark=False)
        cmd = [sys.executable, "-c",
               "import resource, subprocess, sys; subprocess.run(sys.argv[1:], "
               "stdout=subprocess.DEVNULL); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
               REL, "--json", "-q", "-r", p]
        rss = int(subprocess.run(cmd, capture_output=True, text=True).stdout.strip() or 0)
        s = summary(p)
        res[n] = (rss, s.get("fragments", {}))
        d = s.get("fragments", {}).get("dropped", {})
        say(sum(d.values()) == n, "flood of %d: every fragment counted dropped (%s)" % (n, d))
    print("# flood peak RSS: 20000 -> %d KiB, 200000 -> %d KiB" % (res[20000][0], res[200000][0]))
    say(res[200000][0] < res[20000][0] * 1.5 + 4096,
        "flood: memory bounded (peak RSS %d KiB vs %d KiB)" % (res[200000][0], res[20000][0]))


cases()
flood()
sys.exit(0 if all(results) else 1)
