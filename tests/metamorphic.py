#!/usr/bin/env python3
"""metamorphic.py - captures transformed in ways that must not change what
a correct analyser concludes, and smtpscope's analysis compared.

Usage: metamorphic.py SMTPSCOPE TMPDIR CAPTURE...

Each capture is read (through editcap when it is not a classic pcap) and
rewritten by every transform of TRANSFORMS below: the packets' bytes, the
link layer, the file format or the order change, never the bytes of a TCP
stream. smtpscope --json reads the original and every transformed capture,
and per session the analysis must be the same: findings by rule, side and
severity, transactions, close facts, byte counts, handshake, TLS, bytes
dropped by reassembly (frame numbers, times, addresses and frame counts
aside: transforms renumber frames, move packets between time slots, map
addresses and add packets). Sessions are matched by their ports.

Each transform is first checked against tshark, so that a difference is
the analyser's: the transformed capture reads, and the bytes of every SMTP
stream (tshark -q -z follow,tcp,raw,N, holes aside) equal the original's;
the pieces of a cut capture are merged with mergecap for this. tshark's
start-up costs about a second of processor time, so by default each
transform is checked on a deterministic sample of the captures (every
capture whose rank in the sorted list, plus the transform's own rank, is a
multiple of META_TSHARK_EVERY, default 12); META_TSHARK_EVERY=1 checks
every pair. A transformed capture tshark does not confirm is left out and
counted as such, never compared.

META_TRANSFORMS=name,name,... runs only those transforms (to look at one
family; the table then counts only them).

Known differences, each a real analyser defect not fixed yet, are listed
in tests/metamorphic.known (KNOWN lines, counted apart in the table).

Output: one PASS/FAIL line per capture and transform that applies
(SKIP when a transform cannot apply: no adjacent data segments to swap,
a link type with no IP, several link types, or a cut of a capture whose
time stamps go backwards, which no merge by time can put back in order), then a table transform x
same/different/not applicable/not confirmed.
"""
import concurrent.futures
import glob
import json
import os
import random
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ack_ahead  # noqa: E402  (the ACK reordering, shared with reasm_oracle.sh)

SMTP_PORTS = {25, 465, 587, 2525}
SYN, FIN, RST, ACK, PSH = 0x02, 0x01, 0x04, 0x10, 0x08
ETHER, RAW, SLL, SLL2, NULL = 1, 101, 113, 276, 0


# ---------------------------------------------------------------- pcap files

class Capture:
    """A classic pcap in memory: byte order, magic, link type, records."""

    def __init__(self, path):
        data = open(path, "rb").read()
        self.end = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
                    b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}.get(data[:4])
        if self.end is None:
            raise ValueError("not a classic pcap")
        self.nsec = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        self.header = data[:24]
        self.link = struct.unpack(self.end + "I", data[20:24])[0] & 0x0FFFFFFF
        self.recs = []          # [(sec, frac), frame]
        off = 24
        while off + 16 <= len(data):
            sec, frac, incl, _orig = struct.unpack(self.end + "IIII", data[off:off + 16])
            self.recs.append(((sec, frac), data[off + 16:off + 16 + incl]))
            off += 16 + incl

    def write(self, path, recs, link=None):
        hdr = self.header
        if link is not None:
            hdr = hdr[:20] + struct.pack(self.end + "I", link)
        with open(path, "wb") as out:
            out.write(hdr)
            for (sec, frac), frame in recs:
                out.write(struct.pack(self.end + "IIII", sec, frac, len(frame), len(frame)) + frame)

    def write_pcapng(self, path, recs):
        def block(kind, body):
            body += b"\0" * (-len(body) % 4)
            n = len(body) + 12
            return struct.pack("<II", kind, n) + body + struct.pack("<I", n)
        opts = b""
        if self.nsec:
            opts = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
        with open(path, "wb") as out:
            out.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
            out.write(block(1, struct.pack("<HHI", self.link, 0, 262144) + opts))
            scale = 1000000000 if self.nsec else 1000000
            for (sec, frac), frame in recs:
                ts = sec * scale + frac
                out.write(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF,
                                               len(frame), len(frame)) + frame))


# ------------------------------------------------------------ link and IP

def l3(link, frame):
    """(link header, IP packet) of a frame, or None when it carries no IP."""
    off = ack_ahead.l3_offset(link, frame)
    if off is None or len(frame) <= off or frame[off] >> 4 not in (4, 6):
        return None
    return frame[:off], frame[off:]


def ip_trim(ip):
    """An IP packet without the link layer's padding after it."""
    if ip[0] >> 4 == 4 and len(ip) >= 20:
        tot = struct.unpack("!H", ip[2:4])[0]
        return ip[:tot] if 20 <= tot <= len(ip) else ip
    if ip[0] >> 4 == 6 and len(ip) >= 40:
        pl = struct.unpack("!H", ip[4:6])[0]
        return ip[:40 + pl] if pl and 40 + pl <= len(ip) else ip
    return ip


def ethertype(ip):
    return 0x0800 if ip[0] >> 4 == 4 else 0x86DD


MAC_C, MAC_S = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def frame_for(link, ip, prefix=None):
    """A frame of the given link type carrying ip; prefix: the original
    link header, kept when the link type is the same (its type patched)."""
    et = ethertype(ip)
    if prefix is not None:
        if link == ETHER or (link in (SLL,) and len(prefix) >= 16):
            return prefix[:-2] + struct.pack("!H", et) + ip
        if link == SLL2 and len(prefix) >= 20:
            return struct.pack("!H", et) + prefix[2:] + ip
        if link == NULL and len(prefix) == 4:
            fam = 2 if et == 0x0800 else 30
            order = "<" if prefix[0] or not prefix[3] else ">"
            return struct.pack(order + "I", fam) + ip
        if link in (RAW, 12, 14, 228, 229):
            return ip
    if link == ETHER:
        return MAC_S + MAC_C + struct.pack("!H", et) + ip
    if link == SLL:
        return struct.pack("!HHH8sH", 0, 1, 6, MAC_C, et) + ip
    if link == SLL2:
        return struct.pack("!HHIHBB8s", et, 0, 1, 1, 0, 6, MAC_C) + ip
    if link == NULL:
        return struct.pack("<I", 2 if et == 0x0800 else 30) + ip
    if link in (RAW, 12, 14, 228, 229):
        return ip
    return None


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_offset(ip):
    """Offset of the TCP header in an IP packet (first fragment only)."""
    if ip[0] >> 4 == 4 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        if ip[9] == 6 and not struct.unpack("!H", ip[6:8])[0] & 0x1FFF and len(ip) >= ihl + 20:
            return ihl
        return None
    if ip[0] >> 4 == 6 and len(ip) >= 40:
        nh, off = ip[6], 40
        while nh in (0, 43, 60, 44) and len(ip) >= off + 8:
            if nh == 44 and struct.unpack("!H", ip[off + 2:off + 4])[0] & 0xFFF8:
                return None
            nh, off = ip[off], off + (8 if nh == 44 else (ip[off + 1] + 1) * 8)
        return off if nh == 6 and len(ip) >= off + 20 else None
    return None


def v4_to_v6(ip):
    """An IPv4 packet as IPv6, addresses in the NAT64 prefix 64:ff9b::/96,
    fragments with a fragment header; the TCP checksum recomputed when the
    packet is whole. Other packets unchanged."""
    if ip[0] >> 4 != 4 or len(ip) < 20:
        return ip
    ihl = (ip[0] & 15) * 4
    tot = struct.unpack("!H", ip[2:4])[0]
    if not ihl <= tot <= len(ip):
        tot = len(ip)
    proto, ttl, tos = ip[9], ip[8], ip[1]
    if proto == 1:
        return ip
    ident, fl = struct.unpack("!HH", ip[4:8])
    pre = bytes.fromhex("0064ff9b0000000000000000")
    src, dst = pre + ip[12:16], pre + ip[16:20]
    payload = bytearray(ip[ihl:tot])
    ext, nh = b"", proto
    if fl & 0x3FFF:
        ext = struct.pack("!BBHI", proto, 0, ((fl & 0x1FFF) << 3) | (1 if fl & 0x2000 else 0), ident)
        nh = 44
    elif proto == 6 and len(payload) >= 20:
        payload[16:18] = b"\0\0"
        pseudo = src + dst + struct.pack("!I3xB", len(payload), 6)
        payload[16:18] = struct.pack("!H", csum(pseudo + bytes(payload)))
    body = ext + bytes(payload)
    return struct.pack("!IHBB", (6 << 28) | (tos << 20), len(body), nh, ttl) + src + dst + body


# ------------------------------------------------------------- transforms

def over_ip(cap, fn, link=None):
    """Records with fn applied to each IP packet (frames without IP kept
    when the link type stays, dropped when it changes)."""
    out = []
    for ts, frame in cap.recs:
        p = l3(cap.link, frame)
        if p is None:
            if link is None:
                out.append((ts, frame))
            continue
        ip = fn(ip_trim(p[1]))
        f = frame_for(link if link is not None else cap.link, ip, None if link is not None else p[0])
        if f is None:
            return None
        out.append((ts, f))
    return out


def t_link(link):
    def t(cap, tmp):
        if cap.link == link:
            return None
        recs = over_ip(cap, lambda ip: ip, link)
        if recs is None:
            return None
        cap.write(tmp + ".pcap", recs, link)
        return [tmp + ".pcap"]
    return t


def t_vlan(cap, tmp):
    recs = []
    for ts, frame in cap.recs:
        p = l3(cap.link, frame)
        if p is None:
            continue
        ip = ip_trim(p[1])
        recs.append((ts, MAC_S + MAC_C + struct.pack("!HHH", 0x8100, 100, ethertype(ip)) + ip))
    cap.write(tmp + ".pcap", recs, ETHER)
    return [tmp + ".pcap"]


def t_pcapng(cap, tmp):
    cap.write_pcapng(tmp + ".pcapng", cap.recs)
    return [tmp + ".pcapng"]


def zero_tcp_checksum(ip):
    off = tcp_offset(ip)
    if off is None:
        return ip
    return ip[:off + 16] + b"\0\0" + ip[off + 18:]


def t_ip(fn):
    def t(cap, tmp):
        recs = over_ip(cap, fn)
        if recs is None or recs == cap.recs:
            return None
        cap.write(tmp + ".pcap", recs)
        return [tmp + ".pcap"]
    return t


def t_split(k, shuffled):
    def t(cap, tmp):
        n = len(cap.recs)
        if n < k or any(a > b for (a, _f), (b, _g) in zip(cap.recs, cap.recs[1:])):
            return None         # time going backwards: no merge by time gives the file's order
        per = -(-n // k)
        files = []
        for i in range(0, n, per):
            f = "%s.%02d.pcap" % (tmp, len(files))
            cap.write(f, cap.recs[i:i + per])
            files.append(f)
        if shuffled:
            rng = random.Random(len(files) * 7919 + n)
            while files == sorted(files):
                rng.shuffle(files)
        return files
    return t


def reordered(cap, order, tmp):
    """The records in a new order, each slot keeping its time."""
    if order == list(range(len(order))):
        return None
    recs = [(cap.recs[slot][0], cap.recs[i][1]) for slot, i in enumerate(order)]
    cap.write(tmp + ".pcap", recs)
    return [tmp + ".pcap"]


def t_ack(cumulative):
    def t(cap, tmp):
        infos = [ack_ahead.tcp_info(f, cap.link) for _ts, f in cap.recs]
        return reordered(cap, ack_ahead.reorder(infos, cumulative), tmp)
    return t


def data_seg(info):
    return info is not None and info[5] > 0 and not info[4] & (SYN | FIN | RST)


def t_swap(cap, tmp):
    """Adjacent data segments of one direction of one connection swapped."""
    infos = [ack_ahead.tcp_info(f, cap.link) for _ts, f in cap.recs]
    order, i = list(range(len(infos))), 0
    while i + 1 < len(infos):
        a, b = infos[i], infos[i + 1]
        if data_seg(a) and data_seg(b) and a[0] == b[0] and a[1] == b[1] and a[2] != b[2]:
            order[i], order[i + 1] = i + 1, i
            i += 2
        else:
            i += 1
    return reordered(cap, order, tmp)


def t_retrans(cap, tmp):
    """Every data segment sent twice: the copy right after it, or (every
    other one) after the next packet, as a late retransmission."""
    infos = [ack_ahead.tcp_info(f, cap.link) for _ts, f in cap.recs]
    out, late, k = [], None, 0
    for (ts, frame), info in zip(cap.recs, infos):
        out.append((ts, frame))
        if late is not None:
            out.append((ts, late))
            late = None
        if info is not None and info[5] > 0 and not info[4] & (SYN | RST):
            k += 1
            if k % 2:
                out.append((ts, frame))
            else:
                late = frame
    if late is not None:
        out.append((out[-1][0], late))
    if k == 0:
        return None
    cap.write(tmp + ".pcap", out)
    return [tmp + ".pcap"]


def tcp4(src, dst, sport, dport, seq, ack, flags, payload=b""):
    """An IPv4 TCP packet with correct checksums."""
    tcp = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload)
    tcp[16:18] = struct.pack("!H", csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + bytes(tcp)))
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst))
    hdr[10:12] = struct.pack("!H", csum(bytes(hdr)))
    return bytes(hdr) + bytes(tcp)


def dialogue(csrc, cdst, sport, dport, turns):
    """The packets of one whole TCP connection: handshake, turns (side,
    bytes), each acknowledged, the client's FIN, the server's FIN."""
    cs, ss = 1000, 5000
    pk = [tcp4(csrc, cdst, sport, dport, cs, 0, SYN),
          tcp4(cdst, csrc, dport, sport, ss, cs + 1, SYN | ACK),
          tcp4(csrc, cdst, sport, dport, cs + 1, ss + 1, ACK)]
    cs, ss = cs + 1, ss + 1
    for side, data in turns:
        if side == "c":
            pk.append(tcp4(csrc, cdst, sport, dport, cs, ss, ACK | PSH, data))
            cs += len(data)
            pk.append(tcp4(cdst, csrc, dport, sport, ss, cs, ACK))
        else:
            pk.append(tcp4(cdst, csrc, dport, sport, ss, cs, ACK | PSH, data))
            ss += len(data)
            pk.append(tcp4(csrc, cdst, sport, dport, cs, ss, ACK))
    pk += [tcp4(cdst, csrc, dport, sport, ss, cs, FIN | ACK),
           tcp4(csrc, cdst, sport, dport, cs, ss + 1, FIN | ACK),
           tcp4(cdst, csrc, dport, sport, ss + 1, cs + 1, ACK)]
    return pk


HTTP = dialogue(bytes([192, 0, 2, 200]), bytes([198, 51, 100, 80]), 40080, 80, [
    ("c", b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n"),
    ("s", b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\nhello world\n")])

SMTP240 = dialogue(bytes([240, 0, 0, 1]), bytes([240, 0, 0, 2]), 41025, 25, [
    ("s", b"220 mx.example.net ESMTP\r\n"),
    ("c", b"EHLO client.example.org\r\n"),
    ("s", b"250-mx.example.net\r\n250 8BITMIME\r\n"),
    ("c", b"MAIL FROM:<a@example.org>\r\n"),
    ("s", b"250 2.1.0 Ok\r\n"),
    ("c", b"RCPT TO:<b@example.net>\r\n"),
    ("s", b"250 2.1.5 Ok\r\n"),
    ("c", b"DATA\r\n"),
    ("s", b"354 End data with <CR><LF>.<CR><LF>\r\n"),
    ("c", b"Subject: interleaved\r\n\r\nA flow from 240.0.0.0/4.\r\n.\r\n"),
    ("s", b"250 2.0.0 Ok: queued as 240ABC\r\n"),
    ("c", b"QUIT\r\n"),
    ("s", b"221 2.0.0 Bye\r\n")])


def t_interleave(flow):
    def t(cap, tmp):
        if frame_for(cap.link, flow[0]) is None or not cap.recs:
            return None
        # Spread over the longest stretch without a silence of a minute
        # (captures glued together jump years: the flow would time out).
        lo, best, start = 0, (0, 0), 0
        for i in range(1, len(cap.recs) + 1):
            if i == len(cap.recs) or abs(cap.recs[i][0][0] - cap.recs[i - 1][0][0]) > 60:
                if i - start > best[1] - best[0]:
                    best = (start, i)
                start = i
        lo, hi = best
        n, m, out, j = hi - lo, len(flow), list(cap.recs[:lo]), 0
        for i, (ts, frame) in enumerate(cap.recs[lo:hi]):
            while j < m and j * n <= i * m:
                out.append((ts, frame_for(cap.link, flow[j])))
                j += 1
            out.append((ts, frame))
        out += [(cap.recs[hi - 1][0], frame_for(cap.link, p)) for p in flow[j:]]
        out += cap.recs[hi:]
        cap.write(tmp + ".pcap", out)
        return [tmp + ".pcap"]
    return t


TRANSFORMS = [
    ("split-2", t_split(2, False)),
    ("split-3", t_split(3, False)),
    ("split-9", t_split(9, False)),
    ("split-9-shuffled", t_split(9, True)),
    ("pcapng", t_pcapng),
    ("vlan", t_vlan),
    ("sll", t_link(SLL)),
    ("sll2", t_link(SLL2)),
    ("raw-ip", t_link(RAW)),
    ("tcp-checksum-0", t_ip(zero_tcp_checksum)),
    ("ipv4-as-ipv6", t_ip(v4_to_v6)),
    ("ack-ahead-one", t_ack(False)),
    ("ack-ahead-cumulative", t_ack(True)),
    ("retransmitted", t_retrans),
    ("adjacent-swapped", t_swap),
    ("http-interleaved", t_interleave(HTTP)),
    ("smtp-240-interleaved", t_interleave(SMTP240)),
]


# ------------------------------------------------------------- the oracle

def follow(files, tmp, bound):
    """tshark's bytes of every SMTP stream of files (merged when several),
    as a sorted list of pairs; None when tshark cannot read them."""
    f = files[0]
    if len(files) > 1:
        f = tmp + ".merged.pcap"
        if subprocess.run(["mergecap", "-w", f] + files, capture_output=True).returncode:
            return None
    args = ["tshark", "-n", "-r", f, "-T", "fields", "-e", "tcp.stream"]
    for i in range(bound):
        args += ["-z", "follow,tcp,raw,%d" % i]
    p = subprocess.run(args, capture_output=True)
    if p.returncode:
        return None
    out = p.stdout.decode("ascii", "replace").splitlines()
    fields = out[:next((i for i, x in enumerate(out) if x.startswith("=====")), len(out))]
    ids = {int(x) for x in fields if x.strip().isdigit()}
    if ids and max(ids) >= bound:
        return follow(files, tmp, max(ids) + 1)
    got, cur = [], None
    for line in out:
        if line.startswith("Filter: tcp.stream eq"):
            cur = {"ports": set(), "sides": [bytearray(), bytearray()]}
        elif cur is None:
            continue
        elif line.startswith("Node "):
            cur["ports"].add(int(line.rsplit(":", 1)[1]))
        elif line.startswith("====="):
            if cur["ports"] & SMTP_PORTS and any(cur["sides"]):
                got.append(tuple(sorted(bytes(s) for s in cur["sides"])))
            cur = None
        elif line.strip():
            try:
                chunk = bytes.fromhex(line.strip())
            except ValueError:
                continue
            if not re.fullmatch(rb"\[\d+ bytes missing in capture file\]\x00?", chunk):
                cur["sides"][1 if line.startswith("\t") else 0] += chunk
    return sorted(got)


# ------------------------------------------------------------ the analysis

def analyse(binary, files):
    p = subprocess.run([binary, "--json", "-q", "-r"] + files, capture_output=True)
    # 4: a damaged capture, analysed up to the damage (what came before it
    # is compared; a rewritten copy holds no more than that)
    if p.returncode > 1 and p.returncode != 4:
        return None, p.stderr.decode("utf-8", "replace")[:300]
    sessions = {}
    for line in p.stdout.decode("utf-8").splitlines():
        o = json.loads(line)
        if o.get("type") == "finding":
            s = sessions.setdefault(o["session"], {"findings": []})
            s["findings"].append((o["rule"], o["side"], o["severity"]))
        elif o.get("type") == "session":
            s = sessions.setdefault(o["id"], {"findings": []})
            s["key"] = (o["src_port"], o["dest_port"])
            s["v240"] = o["src_ip"].startswith("240.")
            s["facts"] = {k: o.get(k) for k in (
                "bytes", "handshake", "tls", "seq_untrusted", "reasm_dropped", "extensions",
                "close", "transactions", "transactions_total", "findings", "findings_by_severity")}
    out = {}
    for s in sessions.values():
        s["findings"].sort()
        key = s.get("key", ("?", "?")) + (s.get("v240", False),)
        out.setdefault(key, []).append({"findings": s["findings"], "facts": s.get("facts")})
    return out, ""


def diff(a, b):
    """A short account of how analysis b differs from a."""
    for k in sorted(set(a) | set(b), key=str):
        if a.get(k) != b.get(k):
            x, y = a.get(k), b.get(k)
            if x is None or y is None:
                return "session %s:%s only in the %s" % (k[0], k[1], "transformed" if x is None else "original")
            if len(x) != len(y):
                return "ports %s:%s: %d sessions vs %d" % (k[0], k[1], len(x), len(y))
            for i, (u, v) in enumerate(zip(x, y)):
                if u["findings"] != v["findings"]:
                    gone = [f for f in u["findings"] if f not in v["findings"]]
                    new = [f for f in v["findings"] if f not in u["findings"]]
                    return "ports %s:%s: findings lost %s, new %s" % (k[0], k[1], gone[:3], new[:3])
                for f in u["facts"] or {}:
                    if u["facts"][f] != (v["facts"] or {}).get(f):
                        return "ports %s:%s: %s %s vs %s" % (
                            k[0], k[1], f, json.dumps(u["facts"][f])[:200],
                            json.dumps((v["facts"] or {}).get(f))[:200])
    return "?"


def known_list():
    """tests/metamorphic.known: capture (base name), transform, reason; a
    difference listed there is reported as KNOWN, not as a failure, and a
    listed pair that no longer differs fails (the list must stay true)."""
    known = {}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metamorphic.known")
    for line in open(path, encoding="utf-8"):
        if line.strip() and not line.startswith("#"):
            f = line.rstrip("\n").split("\t")
            known[(f[0], f[1])] = f[2]
    return known


def main():
    binary, tmp = sys.argv[1], sys.argv[2]
    known = known_list()
    every = max(1, int(os.environ.get("META_TSHARK_EVERY", "12")))
    captures = sys.argv[3:]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=int(os.environ.get("META_JOBS", "2")))
    table = {name: {"same": 0, "different": 0, "known": 0, "n/a": 0, "unconfirmed": 0, "tshark": 0}
             for name, _t in TRANSFORMS}
    fails = 0
    only = [t for t in os.environ.get("META_TRANSFORMS", "").split(",") if t]
    for t in only:
        if t not in table:
            print("FAIL: metamorphic: META_TRANSFORMS: no transform %s" % t)
            return 1

    # The 240/4 flow alone: its expected analysis (one clean session).
    alone = os.path.join(tmp, "smtp240.pcap")
    with open(alone, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, RAW))
        for i, p in enumerate(SMTP240):
            out.write(struct.pack("<IIII", 1700000000, i, len(p), len(p)) + p)
    ref240, _ = analyse(binary, [alone])
    ref240 = list(ref240.values())[0][0] if ref240 and len(ref240) == 1 else None
    ok = ref240 is not None and not ref240["findings"] and ref240["facts"]["close"] and \
        [t["result"] for t in ref240["facts"]["transactions"]] == ["accepted"]
    alone_follow = follow([alone], alone, 4) or []
    ok = ok and len(alone_follow) == 1
    print("%s: metamorphic: the interleaved 240.0.0.0/4 SMTP flow alone: one clean accepted transaction"
          % ("PASS" if ok else "FAIL"))
    fails += not ok

    def one(ci, path):
        name = os.path.relpath(path)
        work = os.path.join(tmp, "c%03d" % ci)
        os.makedirs(work)
        lines = []
        conv = os.path.join(work, "in.pcap")
        base, err = analyse(binary, [path])
        if base is None and "unsupported link type" in err:
            # refused on purpose (tests/capture.sh checks the message)
            return ["SKIP: metamorphic: %s: not read by smtpscope: %s" % (name, err.strip())], {}
        if base is None:
            return ["FAIL: metamorphic: %s: smtpscope failed on the original: %s" % (name, err)], {}
        r = subprocess.run(["editcap", "-F", "pcap", path, conv], capture_output=True)
        try:
            cap = Capture(conv) if r.returncode == 0 else None
        except ValueError:
            cap = None
        res = {}
        if cap is None or l3(cap.link, cap.recs[0][1] if cap.recs else b"") is None and \
                not any(l3(cap.link, f) for _ts, f in cap.recs):
            why = "not one link type with IP"
            for tname, _t in TRANSFORMS:
                res[tname] = "n/a"
            return ["SKIP: metamorphic: %s: %s" % (name, why)], res
        orig_follow = None
        for ti, (tname, t) in enumerate(TRANSFORMS):
            if only and tname not in only:
                continue
            out = os.path.join(work, tname)
            files = t(cap, out)
            if not files:
                res[tname] = "n/a"
                lines.append("SKIP: metamorphic: %s %s: does not apply" % (name, tname))
                continue
            if (ci + ti) % every == 0:
                if orig_follow is None:
                    orig_follow = follow([path], out + ".o", 16)
                want = orig_follow
                got = follow(files, out, 16)
                if got is not None and tname == "smtp-240-interleaved":
                    got = [g for g in got if g not in alone_follow]
                if got is None or want is None or got != want:
                    res[tname] = "unconfirmed"
                    lines.append("SKIP: metamorphic: %s %s: tshark does not confirm the transform (%s)" % (
                        name, tname, "unreadable" if got is None else "stream bytes differ"))
                    continue
                res[tname + "/tshark"] = True
            an, err = analyse(binary, files)
            if an is None:
                res[tname] = "different"
                lines.append("FAIL: metamorphic: %s %s: smtpscope failed: %s" % (name, tname, err))
                continue
            if tname == "smtp-240-interleaved":
                v = [an.pop(k) for k in [k for k in an if k[2]]]
                if v != [[ref240]]:
                    res[tname] = "different"
                    lines.append("FAIL: metamorphic: %s %s: the 240.0.0.0/4 session is not the flow alone's: %s"
                                 % (name, tname, json.dumps(v)[:300]))
                    continue
            why = known.get((os.path.basename(path), tname))
            if an == base:
                res[tname] = "same"
                lines.append("%s: metamorphic: %s %s: the same analysis%s" % (
                    "FAIL" if why else "PASS", name, tname, " (listed as known: fix the list)" if why else ""))
            elif why:
                res[tname] = "known"
                lines.append("KNOWN: metamorphic: %s %s: %s (%s)" % (name, tname, diff(base, an), why))
            else:
                res[tname] = "different"
                lines.append("FAIL: metamorphic: %s %s: %s" % (name, tname, diff(base, an)))
        return lines, res

    futs = [pool.submit(one, i, c) for i, c in enumerate(captures)]
    for f in futs:
        lines, res = f.result()
        for line in lines:
            print(line)
            fails += line.startswith("FAIL")
        for k, v in res.items():
            if k.endswith("/tshark"):
                table[k[:-7]]["tshark"] += 1
            else:
                table[k][v] += 1
    print("\nmetamorphic: %d captures; tshark checked one pair in %d" % (len(captures), every))
    print("%-22s %6s %9s %6s %5s %11s %7s" % ("transform", "same", "different", "known", "n/a",
                                             "unconfirmed", "tshark"))
    for name, _t in TRANSFORMS:
        if only and name not in only:
            continue
        r = table[name]
        print("%-22s %6d %9d %6d %5d %11d %7d" % (name, r["same"], r["different"], r["known"], r["n/a"],
                                                r["unconfirmed"], r["tshark"]))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
