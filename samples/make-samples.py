#!/usr/bin/env python3
"""
make-samples.py - writes the sample captures of smtpscope (samples/*.pcap...).

Usage:  samples/make-samples.py [--out DIR] [--list]

Deterministic (fixed clocks, sequence numbers and "random" bytes, gzip with
mtime 0): running it twice gives byte-identical files, so the captures are
committed and the script proves how they were made. Standard library only.

Each sample is a TCP conversation built packet by packet: handshake, data
segments that the peer ACKs, FIN/RST, with correct IPv4/IPv6 and TCP
checksums (except where wrong checksums are the point). Client addresses
are 192.0.2.x / 2001:db8::c, servers 198.51.100.x / 2001:db8::25
(documentation ranges). Frames are kept as (time, direction, IP packet)
and wrapped in the sample's link layer when written: Ethernet, 802.1Q,
QinQ, Linux cooked v1/v2, BSD NULL, raw IP, or 802.11 for the unsupported
link type. Writers: pcap, pcapng (SHB/IDB/EPB), gzip.

--list prints, for each sample, its frames (number, direction, TCP flags,
first bytes of payload): what tests/golden/*.expected frame numbers refer to.

The dialogues of the seed samples follow the seed reports (samples/README.md
names them); samples/README.md says what each file shows and which findings
it should produce.
"""

import argparse
import gzip
import hashlib
import io
import os
import struct
import sys

# ---------------------------------------------------------------- checksums

def csum16(data):
    """Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip6(a):
    """Parses the few IPv6 forms used here (with one '::')."""
    head, _, tail = a.partition("::")
    h = [int(x, 16) for x in head.split(":") if x]
    t = [int(x, 16) for x in tail.split(":") if x]
    words = h + [0] * (8 - len(h) - len(t)) + t
    return struct.pack("!8H", *words)


def prng(seed, n):
    """Deterministic pseudo-random bytes (SHA-256 in counter mode)."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s:%d" % (seed.encode(), i)).digest()
        i += 1
    return out[:n]

# ---------------------------------------------------------------- TCP/IP

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def tcp_segment(src, dst, sport, dport, seq, ack, flags, data, v6,
                badsum=False, options=b""):
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                      ack & 0xFFFFFFFF, off << 4, flags, 64240, 0, 0) + options
    seg = hdr + data
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(seg))
    c = csum16(pseudo + seg)
    if badsum:
        # What checksum offload leaves in an outgoing packet: the
        # pseudo-header sum only, not the final checksum.
        partial = (~csum16(pseudo)) & 0xFFFF
        c = partial if partial != c else c ^ 0x5A5A
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def ip_packet(src, dst, payload, v6, ident):
    if v6:
        return struct.pack("!IHBB", 6 << 28, len(payload), 6, 64) + src + dst + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF,
                      0x4000, 64, 6, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum16(hdr)) + hdr[12:]
    return hdr + payload


def ip4_fragments(pkt, sizes):
    """Splits an IPv4 packet into fragments whose payloads have the given
    sizes (multiples of 8 but the last; the rest goes in a last fragment)."""
    hdr, payload = bytearray(pkt[:20]), pkt[20:]
    out, off = [], 0
    for n in list(sizes) + [len(payload)]:
        chunk = payload[off:off + n]
        if not chunk:
            break
        last = off + len(chunk) >= len(payload)
        h = bytearray(hdr)
        struct.pack_into("!H", h, 2, 20 + len(chunk))
        struct.pack_into("!H", h, 6, (0 if last else 0x2000) | (off // 8))
        struct.pack_into("!H", h, 10, 0)
        struct.pack_into("!H", h, 10, csum16(bytes(h)))
        out.append(bytes(h) + chunk)
        off += len(chunk)
    return out

# ---------------------------------------------------------------- capture


class Capture:
    """One sample: frames (time, dir 'c'/'s', IP packet) and how to write them."""

    def __init__(self, name, t0, link="eth", fmt="pcap"):
        self.name, self.t, self.link, self.fmt = name, t0, link, fmt
        self.frames = []
        self.notes = []          # per frame, for --list

    def add(self, t, d, pkt, note):
        self.frames.append((t, d, pkt))
        self.notes.append(note)


CMAC = bytes.fromhex("020000000001")   # locally administered addresses
SMAC = bytes.fromhex("020000000002")


def link_wrap(link, d, pkt):
    """Wraps an IP packet in the sample's link layer. The capture point is
    the server's host: client->server frames arrive, server->client leave."""
    v6 = (pkt[0] >> 4) == 6
    et = 0x86DD if v6 else 0x0800
    src, dst = (CMAC, SMAC) if d == "c" else (SMAC, CMAC)
    if link == "eth":
        return dst + src + struct.pack("!H", et) + pkt
    if link == "vlan":
        return dst + src + struct.pack("!HHH", 0x8100, 100, et) + pkt
    if link == "qinq":
        return dst + src + struct.pack("!HHHHH", 0x88A8, 200, 0x8100, 100, et) + pkt
    if link == "sll":        # LINKTYPE_LINUX_SLL (113)
        ptype = 0 if d == "c" else 4
        return struct.pack("!HHH", ptype, 1, 6) + src + b"\0\0" + struct.pack("!H", et) + pkt
    if link == "sll2":       # LINKTYPE_LINUX_SLL2 (276)
        ptype = 0 if d == "c" else 4
        return struct.pack("!HHIHBB", et, 0, 2, 1, ptype, 6) + src + b"\0\0" + pkt
    if link == "null":       # LINKTYPE_NULL (0): AF in the writer's byte order
        return struct.pack("<I", 24 if v6 else 2) + pkt
    if link == "raw":        # LINKTYPE_RAW (101)
        return pkt
    if link == "wlan":       # LINKTYPE_IEEE802_11 (105): data frame, LLC/SNAP
        bssid = SMAC
        fc = struct.pack("<BB", 0x08, 0x01 if d == "c" else 0x02)
        a = (bssid + src + dst) if d == "c" else (dst + bssid + src)
        return fc + b"\0\0" + a + b"\0\0" + bytes.fromhex("aaaa03000000") + struct.pack("!H", et) + pkt
    raise ValueError(link)


LINKTYPE = {"eth": 1, "vlan": 1, "qinq": 1, "sll": 113, "sll2": 276,
            "null": 0, "raw": 101, "wlan": 105}


def write_pcap(cap):
    out = io.BytesIO()
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE[cap.link]))
    for t, d, pkt in cap.frames:
        frame = link_wrap(cap.link, d, pkt)
        sec, usec = divmod(round(t * 1e6), 1000000)
        out.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    return out.getvalue()


def pcapng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng_opt(code, val):
    return struct.pack("<HH", code, len(val)) + val + b"\0" * (-len(val) % 4)


def write_pcapng(cap):
    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + \
        pcapng_opt(4, b"smtpscope samples/make-samples.py") + pcapng_opt(0, b"")
    idb = struct.pack("<HHI", LINKTYPE[cap.link], 0, 262144) + \
        pcapng_opt(2, b"eth0") + pcapng_opt(9, b"\x06") + pcapng_opt(0, b"")
    out = pcapng_block(0x0A0D0D0A, shb) + pcapng_block(1, idb)
    for t, d, pkt in cap.frames:
        frame = link_wrap(cap.link, d, pkt)
        ts = round(t * 1e6)
        epb = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame)) + frame
        out += pcapng_block(6, epb)
    return out


def write_capture(cap, outdir):
    if cap.fmt in SEVERAL_WRITERS:
        return SEVERAL_WRITERS[cap.fmt](cap, outdir)
    data = write_pcapng(cap) if cap.fmt == "pcapng" else write_pcap(cap)
    if cap.name.endswith(".gz"):
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as g:
            g.write(data)
        data = buf.getvalue()
    with open(os.path.join(outdir, cap.name), "wb") as f:
        f.write(data)
    return len(data)

# ---------------------------------------------------------------- connection


def flagstr(f):
    return "".join(c for c, b in (("S", SYN), ("F", FIN), ("R", RST), ("P", PSH), (".", ACK)) if f & b)


class Conn:
    """A TCP connection between a client and a server, written into cap.
    c()/s() send data (split at the MSS) and have the receiver ACK earlier
    data first when it still owes an ACK, as a stack with quick ACKs does."""

    def __init__(self, cap, client="192.0.2.10", server="198.51.100.25",
                 cport=49152, sport=25, v6=False, isn=(0x1C3A0000, 0x5E110000),
                 rtt=0.030, badsum=False):
        self.cap, self.v6, self.badsum, self.rtt = cap, v6, badsum, rtt
        conv = ip6 if v6 else ip4
        self.addr = {"c": conv(client), "s": conv(server)}
        self.port = {"c": cport, "s": sport}
        self.nxt = {"c": isn[0], "s": isn[1]}       # next seq to send
        self.isn = {"c": isn[0], "s": isn[1]}
        self.rcv = {"c": 0, "s": 0}                 # next seq expected from peer
        self.owes = {"c": False, "s": False}        # received data not yet ACKed
        self.ident = {"c": 0x3000, "s": 0x7000}
        self.last = None

    @staticmethod
    def peer(d):
        return "s" if d == "c" else "c"

    def build(self, d, flags, data=b"", seq=None, ack=None, options=b""):
        p = self.peer(d)
        seq = self.nxt[d] if seq is None else seq
        ack = self.rcv[d] if ack is None else ack
        if not flags & ACK:
            ack = 0
        seg = tcp_segment(self.addr[d], self.addr[p], self.port[d], self.port[p],
                          seq, ack, flags, data, self.v6, self.badsum, options)
        self.ident[d] += 1
        return ip_packet(self.addr[d], self.addr[p], seg, self.v6, self.ident[d])

    def note(self, d, flags, data, seq):
        arrow = "C>" if d == "c" else "S>"
        rel = (seq - self.isn[d]) & 0xFFFFFFFF
        txt = data[:40].decode("latin-1").encode("unicode_escape").decode()
        return "%s %-4s seq=%-6d len=%-5d %s" % (arrow, flagstr(flags), rel, len(data), txt)

    def tick(self, d, dt):
        if dt is None:
            dt = self.rtt / 2 if self.last not in (None, d) else 0.0002
        self.cap.t += dt
        self.last = d
        return self.cap.t

    def seg(self, d, flags, data=b"", dt=None, seq=None, ack=None, emit=True, options=b""):
        """One segment. Advances the sender's sequence unless seq is given
        (retransmissions, overlaps). Returns (time, dir, packet, note)."""
        pkt = self.build(d, flags, data, seq, ack, options)
        s = self.nxt[d] if seq is None else seq
        t = self.tick(d, dt)
        item = (t, d, pkt, self.note(d, flags, data, s))
        if seq is None:
            self.nxt[d] = (self.nxt[d] + len(data) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        p = self.peer(d)
        end = (s + len(data) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        if ((end - self.rcv[p]) & 0xFFFFFFFF) < 0x80000000 or flags & SYN:
            self.rcv[p] = end
        if data or flags & FIN:
            self.owes[p] = True
        if flags & ACK:
            self.owes[d] = False
        if emit:
            self.cap.add(t, d, pkt, item[3])
        return item

    def open(self):
        mss = struct.pack("!BBH", 2, 4, 1460) + b"\x01\x01\x04\x02"  # MSS, NOP NOP SACK-permitted
        self.seg("c", SYN, options=mss, dt=0.0)
        self.seg("s", SYN | ACK, options=mss)
        self.seg("c", ACK)

    def ack(self, d, dt=None):
        return self.seg(d, ACK, dt=dt)

    def send(self, d, data, dt=None, mss=1460, push=True):
        if self.owes[self.peer(d)]:
            self.ack(self.peer(d))
        first = True
        for i in range(0, len(data), mss):
            if not first and self.owes[self.peer(d)]:
                self.ack(self.peer(d))
            self.seg(d, ACK | (PSH if push else 0), data[i:i + mss], dt=dt if first else None)
            first = False

    def c(self, data, dt=None, mss=1460):
        self.send("c", data, dt, mss)

    def s(self, data, dt=None, mss=1460):
        # a server takes a moment to answer
        if dt is None and self.last == "c":
            dt = self.rtt / 2 + 0.0015
        self.send("s", data, dt, mss)

    def chat(self, *pairs):
        """Each (command, reply): the client's line, then the server's."""
        for cmd, rep in pairs:
            self.c(lines(cmd))
            self.s(lines(rep))

    def fin(self, d, dt=None):
        return self.seg(d, FIN | ACK, dt=dt)

    def rst(self, d, dt=None):
        return self.seg(d, RST | ACK, dt=dt)

    def close(self, first="c"):
        """Orderly close: FIN, FIN+ACK, ACK."""
        self.fin(first)
        self.fin(self.peer(first))
        self.ack(first)

# ---------------------------------------------------------------- SMTP text

CRLF = b"\r\n"


def lines(*ls):
    return b"".join(l.encode() + CRLF for l in ls)


def ehlo_reply(host, *kw):
    ls = ["250-%s" % host] if kw else ["250 %s" % host]
    for i, k in enumerate(kw):
        ls.append("250%s%s" % (" " if i == len(kw) - 1 else "-", k))
    return lines(*ls)


def message(frm, to, subject, body, msgid="20240301100000.1@client.example.org"):
    """RFC 5322 text, dot-stuffed, ending with the end-of-data line."""
    hdr = ["From: <%s>" % frm, "To: <%s>" % to, "Subject: %s" % subject,
           "Date: Fri, 01 Mar 2024 10:00:00 +0000", "Message-ID: <%s>" % msgid,
           "MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii", ""]
    out = []
    for l in hdr + list(body):
        out.append(("." + l) if l.startswith(".") else l)
    return lines(*out) + b".\r\n"


POSTFIX_EHLO = ("PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "ENHANCEDSTATUSCODES",
                "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING")
BODY = ["Hello,", "", "this is a test message of the smtpscope samples.",
        "", "Regards,", "Alice"]
T0 = 1709287200.0    # 2024-03-01 10:00:00 UTC


def to_data(conn, frm, to):
    """MAIL, RCPT and DATA one at a time, as Postfix answers them."""
    conn.c(lines("MAIL FROM:<%s>" % frm))
    conn.s(lines("250 2.1.0 Ok"))
    conn.c(lines("RCPT TO:<%s>" % to))
    conn.s(lines("250 2.1.5 Ok"))
    conn.c(lines("DATA"))
    conn.s(lines("354 End data with <CR><LF>.<CR><LF>"))


def clean_session(conn, client="client.example.org", server="mx.example.net",
                  ehlo=POSTFIX_EHLO, frm="alice@example.org", to="bob@example.net",
                  close_first="c"):
    """A correct, unpipelined ESMTP session: one message, QUIT, close."""
    conn.open()
    conn.s(b"220 %s ESMTP Postfix\r\n" % server.encode(), dt=0.0025)
    conn.c(b"EHLO %s\r\n" % client.encode())
    conn.s(ehlo_reply(server, *ehlo))
    to_data(conn, frm, to)
    conn.c(message(frm, to, "test", BODY))
    conn.s(lines("250 2.0.0 Ok: queued as 4TmQ5x0Zk2z9sWl"))
    conn.c(lines("QUIT"))
    conn.s(lines("221 2.0.0 Bye"))
    conn.close(close_first)

# ---------------------------------------------------------------- the samples

SAMPLES = []


def sample(fn):
    SAMPLES.append(fn)
    return fn


EXCH_FRONTBRIDGE = ("SIZE 157286400", "PIPELINING", "ENHANCEDSTATUSCODES", "STARTTLS",
                    "AUTH", "8BITMIME", "BINARYMIME", "CHUNKING")


def seed000_open(conn, host, date):
    conn.open()
    conn.s(b"220 %s Microsoft ESMTP MAIL Service ready at %s\r\n" % (host.encode(), date.encode()),
           dt=0.004)
    conn.c(lines("EHLO amnesiac.example.com"))
    conn.s(ehlo_reply(host + " Hello [192.0.2.1]", *EXCH_FRONTBRIDGE))


@sample
def seed000_frontbridge():
    """Seed 000: MAIL, RCPT, RSET, QUIT pipelined; only 250 and 221 come back."""
    cap = Capture("seed000-frontbridge-pipelining.pcap", T0)
    conn = Conn(cap, client="192.0.2.1", rtt=0.090)
    seed000_open(conn, "DB3EHSMHS006.bigfish.com", "Sun, 28 Nov 2010 07:47:08 +0000")
    conn.c(lines("MAIL FROM:<sender@example.com>", "RCPT TO:<recipient@example.com>",
                 "RSET", "QUIT"))
    conn.s(lines("250 2.1.0 Sender OK"))
    conn.s(lines("221 2.0.0 Service closing transmission channel"), dt=0.0008)
    conn.fin("s", dt=0.0003)
    conn.ack("c")
    conn.fin("c", dt=0.001)
    conn.ack("s")
    return cap


@sample
def seed000_exchange():
    """Seed 000 control: the Exchange 2007 server answers all four."""
    cap = Capture("seed000-exchange-correct.pcap", T0 + 60)
    conn = Conn(cap, client="192.0.2.1", server="198.51.100.7", cport=49160)
    conn.open()
    conn.s(b"220 exchange.example.com Microsoft ESMTP MAIL Service ready at "
           b"Sun, 28 Nov 2010 02:41:13 -0500\r\n", dt=0.004)
    conn.c(lines("EHLO amnesiac.example.com"))
    conn.s(ehlo_reply("exchange.example.com Hello [192.0.2.1]", "SIZE 29999104", "PIPELINING",
                      "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "AUTH", "8BITMIME",
                      "BINARYMIME", "CHUNKING", "XEXCH50"))
    conn.c(lines("MAIL FROM:<sender@example.com>", "RCPT TO:<recipient@example.com>",
                 "RSET", "QUIT"))
    conn.s(lines("250 2.1.0 Sender OK", "250 2.1.5 Recipient OK", "250 2.0.0 Resetting",
                 "221 2.0.0 Service closing transmission channel"))
    conn.close("s")
    return cap


@sample
def seed000_group_broken():
    """Seed 000 workaround: the group broken between RSET and QUIT."""
    cap = Capture("seed000-group-broken.pcap", T0 + 120)
    conn = Conn(cap, client="192.0.2.1", cport=49170, rtt=0.090)
    seed000_open(conn, "VA3EHSMHS032.bigfish.com", "Sun, 28 Nov 2010 07:48:50 +0000")
    conn.c(lines("MAIL FROM:<sender@example.com>", "RCPT TO:<recipient@example.com>", "RSET"))
    conn.s(lines("250 2.1.0 Sender OK", "250 2.1.5 Recipient OK", "250 2.0.0 Resetting"))
    conn.c(lines("QUIT"))
    conn.s(lines("221 2.0.0 Service closing transmission channel"))
    conn.close("s")
    return cap


@sample
def seed000_dot_quit():
    """Seed 000 last trace: message content + end-of-data + QUIT in one segment."""
    cap = Capture("seed000-dot-quit.pcap", T0 + 180)
    conn = Conn(cap, client="192.0.2.1", cport=49180, rtt=0.090)
    seed000_open(conn, "DB3EHSMHS003.bigfish.com", "Sun, 28 Nov 2010 07:27:55 +0000")
    conn.c(lines("MAIL FROM:<sender@example.com>", "RCPT TO:<recipient@example.com>", "DATA"))
    conn.s(lines("250 2.1.0 Sender OK", "250 2.1.5 Recipient OK",
                 "354 Start mail input; end with <CRLF>.<CRLF>"))
    conn.c(message("sender@example.com", "recipient@example.com", "pipelining test", BODY,
                   "20101128070828.AB036504373@amnesiac.example.com") + lines("QUIT"))
    conn.s(lines("250 2.6.0 <20101128070828.AB036504373@amnesiac.example.com> "
                 "[InternalId=11073071] Queued mail for delivery",
                 "221 2.0.0 Service closing transmission channel"))
    conn.close("s")
    return cap


def seed001_start(conn):
    conn.open()
    conn.s(lines("220 mail.example.net ESMTP ready"), dt=0.003)
    conn.c(lines("EHLO relay.example.org"))
    conn.s(ehlo_reply("mail.example.net", "PIPELINING", "SIZE 20000000", "8BITMIME"))
    to_data(conn, "list@example.org", "hsantos@example.net")


@sample
def seed001_close_after_accept():
    """Seed 001: end of data accepted with 250, then the client FINs without QUIT."""
    cap = Capture("seed001-close-after-accept.pcap", T0 + 240)
    conn = Conn(cap, cport=50001)
    seed001_start(conn)
    conn.c(message("list@example.org", "hsantos@example.net", "Re: Mail Data termination",
                   ["I fully agree it is a state machine.", "", "--", "list"]))
    conn.s(lines("250 2.0.0 Ok: queued as 7D1E2A0C3F"))
    conn.fin("c", dt=0.002)
    conn.fin("s")
    conn.ack("c")
    return cap


@sample
def seed001_close_before_eod():
    """Seed 001: the client closes in the middle of the message content."""
    cap = Capture("seed001-close-before-eod.pcap", T0 + 300)
    conn = Conn(cap, cport=50002)
    seed001_start(conn)
    text = message("list@example.org", "hsantos@example.net", "Re: Mail Data termination",
                   ["line %d of a message that will never end" % i for i in range(40)])
    conn.c(text[:1200])
    conn.fin("c", dt=0.5)
    conn.fin("s")
    conn.ack("c")
    return cap


@sample
def seed001_spambot():
    """Seed 001: a bot blasts commands and content without reading replies."""
    cap = Capture("seed001-spambot-blast.pcap", T0 + 360)
    conn = Conn(cap, client="192.0.2.66", server="198.51.100.25", cport=61001, rtt=0.180)
    conn.open()
    conn.s(lines("220 mx.example.net ESMTP"), dt=0.002)
    conn.c(lines("HELO pc-4711"))
    conn.s(lines("250 mx.example.net"))
    body = ["From: \"Pharmacy\" <offers@example.com>", "To: <victim@example.net>",
            "Subject: cheap meds", "", "Best prices online!", "Click here now",
            "No prescription needed", "Limited offer", "Order today", "Free shipping",
            "Unsubscribe below", "Thank you"]
    blast = lines("MAIL FROM:<offers@example.com>", "RCPT TO:<victim@example.net>", "DATA",
                  *body) + b".\r\n" + lines("QUIT")
    conn.c(blast)
    conn.s(lines("250 2.1.0 Ok",
                 "550 5.7.1 <victim@example.net>: Relay access denied",
                 "554 5.5.1 Error: no valid recipients"))
    # the content, read as commands: a run of 500s until the error limit
    conn.s(lines(*["500 5.5.2 Error: command not recognized"] * 10), dt=0.002)
    conn.s(lines("421 4.7.0 mx.example.net Error: too many errors"), dt=0.002)
    conn.fin("s", dt=0.0002)
    conn.ack("c")
    conn.fin("c", dt=0.01)
    conn.ack("s")
    return cap


SEED002_GREET = "220 " + "*" * 50


@sample
def seed002_rset_503():
    """Seed 002: EHLO refused, the RSET of the fallback answered 503, client quits."""
    cap = Capture("seed002-rset-503.pcap", T0 + 420)
    conn = Conn(cap, client="192.0.2.20", server="198.51.100.50", cport=1031, rtt=0.040)
    conn.open()
    conn.s(lines(SEED002_GREET), dt=0.003)
    conn.chat(("EHLO wcsmtp.example.org", "500 Syntax error, command unrecognized"),
              ("RSET", "503 Bad sequence of commands"),
              ("QUIT", "221 Service closing connection"))
    conn.close("s")
    return cap


@sample
def seed002_rset_fallback_ok():
    """Seed 002 control: EHLO refused, RSET 250, HELO fallback, a message."""
    cap = Capture("seed002-rset-fallback-ok.pcap", T0 + 450)
    conn = Conn(cap, client="192.0.2.20", server="198.51.100.50", cport=1032, rtt=0.040)
    conn.open()
    conn.s(lines(SEED002_GREET), dt=0.003)
    conn.chat(("EHLO wcsmtp.example.org", "500 Syntax error, command unrecognized"),
              ("RSET", "250 Reset state"),
              ("HELO wcsmtp.example.org", "250 appliance.example.net"),
              ("MAIL FROM:<support@example.org>", "250 Sender ok"),
              ("RCPT TO:<customer@example.net>", "250 Recipient ok"),
              ("DATA", "354 Start mail input; end with <CRLF>.<CRLF>"))
    conn.c(message("support@example.org", "customer@example.net", "fallback", BODY))
    conn.s(lines("250 Message accepted for delivery"))
    conn.c(lines("QUIT"))
    conn.s(lines("221 Service closing connection"))
    conn.close("s")
    return cap


@sample
def seed002_helo_extended():
    """Seed 002: HELO answered with an EHLO-style multi-line reply."""
    cap = Capture("seed002-helo-extended.pcap", T0 + 480)
    conn = Conn(cap, client="192.0.2.21", server="198.51.100.51", cport=1040)
    conn.open()
    conn.s(lines("220 appliance.example.net SMTP ready"), dt=0.003)
    conn.c(lines("HELO legacy.example.org"))
    conn.s(ehlo_reply("appliance.example.net", "PIPELINING", "SIZE 10240000", "8BITMIME"))
    conn.chat(("MAIL FROM:<legacy@example.org>", "250 Sender ok"),
              ("RCPT TO:<user@example.net>", "250 Recipient ok"),
              ("DATA", "354 Start mail input; end with <CRLF>.<CRLF>"))
    conn.c(message("legacy@example.org", "user@example.net", "HELO session", BODY))
    conn.s(lines("250 Message accepted for delivery"))
    conn.c(lines("QUIT"))
    conn.s(lines("221 Service closing connection"))
    conn.close("c")
    return cap


@sample
def seed003_etrn():
    """Seed 003: the RFC 1985 section 7 example, both branches, QUIT -> 250 Goodbye."""
    cap = Capture("seed003-etrn.pcap", T0 + 540)
    conn = Conn(cap, client="192.0.2.30", server="198.51.100.85", cport=1100)
    conn.open()
    conn.s(lines("220 sigurd.innosoft.com -- Server SMTP (PMDF V4.2-6 #1992)"), dt=0.003)
    conn.c(lines("EHLO ymir.claremont.edu"))
    conn.s(ehlo_reply("sigurd.innosoft.com", "EXPN", "HELP", "ETRN"))
    for cmd, rep in (("ETRN", "500 Syntax Error"),
                     ("ETRN localname", "501 Syntax Error in Parameters"),
                     ("ETRN uu.net", "458 Unable to queue messages for node uu.net"),
                     ("ETRN sigurd.innosoft.com", "250 OK, queuing for node sigurd.innosoft.com started"),
                     ("ETRN innosoft.com", "250 OK, queuing for node innosoft.com started"),
                     ("ETRN sigurd.innosoft.com", "251 OK, no messages waiting for node sigurd.innosoft.com"),
                     ("ETRN innosoft.com", "252 OK, pending messages for node innosoft.com started"),
                     ("ETRN mysoft.com", "253 OK, 14 pending messages for node mysoft.com started"),
                     ("ETRN foo.bar", "459 Node foo.bar not allowed: Unable to resolve name."),
                     ("QUIT", "250 Goodbye")):
        conn.c(lines(cmd))
        conn.s(lines(rep))
    conn.close("s")
    return cap


@sample
def seed003_etrn_in_transaction():
    """Seed 003: ETRN between MAIL and the end of DATA, accepted by the server."""
    cap = Capture("seed003-etrn-in-transaction.pcap", T0 + 600)
    conn = Conn(cap, client="192.0.2.31", server="198.51.100.85", cport=1101)
    conn.open()
    conn.s(lines("220 mx.example.net ESMTP"), dt=0.003)
    conn.c(lines("EHLO backup-mx.example.org"))
    conn.s(ehlo_reply("mx.example.net", "SIZE 10240000", "ETRN", "8BITMIME"))
    conn.chat(("MAIL FROM:<postmaster@example.org>", "250 2.1.0 Ok"),
              ("ETRN example.org", "250 Queuing started"),
              ("RCPT TO:<postmaster@example.net>", "250 2.1.5 Ok"),
              ("DATA", "354 End data with <CR><LF>.<CR><LF>"))
    conn.c(message("postmaster@example.org", "postmaster@example.net", "queue run", BODY))
    conn.s(lines("250 2.0.0 Ok: queued as 3F2A1B"))
    conn.c(lines("QUIT"))
    conn.s(lines("221 2.0.0 Bye"))
    conn.close("c")
    return cap


@sample
def seed004_reply_mid_data():
    """Seed 004: 552 and 421 in the middle of DATA, FIN, the client keeps sending."""
    cap = Capture("seed004-reply-mid-data.pcap", T0 + 660)
    conn = Conn(cap, client="192.0.2.40", server="198.51.100.60", cport=1042, rtt=0.020)
    conn.open()
    conn.s(lines("220 tin.pan.alley.com SMTP service ready"), dt=0.003)
    conn.chat(("HELO cartoonville.com", "250 tin.pan.alley.com says hello to cartoonville.com"),
              ("MAIL FROM: <clem@cartoonville.com>", "250 sender OK"),
              ("RCPT TO: <ditty@tin.pan.alley.com>", "250 Recipient OK"),
              ("DATA", '354 Enter mail, end with "." on a line by itself'))
    body = ["From: clem@cartoonville.com", "To: ditty@tin.pan.alley.com",
            "Subject: quarterly report", ""] + \
        ["%04d the report continues, line after line, with no end in sight." % i
         for i in range(80)]
    content = lines(*body)
    off = 0
    for _ in range(3):                      # 536-byte segments, each ACKed
        conn.seg("c", ACK | PSH, content[off:off + 536], dt=0.001)
        off += 536
        conn.ack("s")
    conn.s(lines("552 Requested mail action aborted: exceeded storage allocation"), dt=0.001)
    conn.s(lines("421 Service not available, closing transmission channel"), dt=0.0005)
    conn.fin("s", dt=0.0005)
    conn.seg("c", ACK, ack=conn.rcv["c"] - 1, dt=0.004)  # ACKs through the 421
    conn.ack("c")                                       # ACKs the FIN
    for _ in range(2):                      # and resumes sending content
        conn.seg("c", ACK | PSH, content[off:off + 536], dt=0.001)
        off += 536
        conn.ack("s")
    conn.seg("c", ACK | PSH, content[off:off + 536], dt=0.001)
    conn.rst("s")
    return cap


def esmtp_start(conn, ehlo=POSTFIX_EHLO, server="mx.example.net", client="client.example.org"):
    conn.open()
    conn.s(lines("220 %s ESMTP Postfix" % server), dt=0.0025)
    conn.c(lines("EHLO %s" % client))
    conn.s(ehlo_reply(server, *ehlo))


def quit_close(conn, first="c"):
    conn.c(lines("QUIT"))
    conn.s(lines("221 2.0.0 Bye"))
    conn.close(first)


@sample
def smtp_smuggling():
    """<LF>.<LF> inside content; the server takes it for end-of-data and
    answers the smuggled MAIL, RCPT and DATA before the real end."""
    cap = Capture("smtp-smuggling.pcap", T0 + 720)
    conn = Conn(cap, client="192.0.2.77", server="198.51.100.25", cport=40001)
    esmtp_start(conn, ehlo=("PIPELINING", "SIZE 10240000", "8BITMIME"), server="lenient.example.net",
                client="attacker.example.com")
    to_data(conn, "user@attacker.example.com", "victim@lenient.example.net")
    first = lines("From: <user@attacker.example.com>", "To: <victim@lenient.example.net>",
                  "Subject: hello", "", "An innocent message.") + \
        b"\n.\n" + lines("MAIL FROM:<ceo@lenient.example.net>",
                         "RCPT TO:<victim@lenient.example.net>", "DATA")
    conn.c(first)
    conn.s(lines("250 2.0.0 Ok: queued as 41A2B3C4D5", "250 2.1.0 Ok", "250 2.1.5 Ok",
                 "354 End data with <CR><LF>.<CR><LF>"))
    conn.c(lines("From: <ceo@lenient.example.net>", "To: <victim@lenient.example.net>",
                 "Subject: urgent wire transfer", "", "Please pay the attached invoice.")
           + b".\r\n")
    conn.s(lines("250 2.0.0 Ok: queued as 41A2B3C4D6"))
    quit_close(conn)
    return cap


@sample
def smtp_smuggling_rejected():
    """The same <LF>.<LF> sent to a strict server: it stays content."""
    cap = Capture("smtp-smuggling-rejected.pcap", T0 + 750)
    conn = Conn(cap, client="192.0.2.77", server="198.51.100.26", cport=40002)
    esmtp_start(conn, ehlo=("PIPELINING", "SIZE 10240000", "8BITMIME"), server="strict.example.net",
                client="attacker.example.com")
    to_data(conn, "user@attacker.example.com", "victim@strict.example.net")
    conn.c(lines("From: <user@attacker.example.com>", "To: <victim@strict.example.net>",
                 "Subject: hello", "", "An innocent message.") +
           b"\n.\n" + lines("MAIL FROM:<ceo@strict.example.net>",
                            "RCPT TO:<victim@strict.example.net>", "DATA",
                            "Subject: urgent wire transfer", "", "Please pay.") + b".\r\n")
    conn.s(lines("250 2.0.0 Ok: queued as 5B6C7D8E9F"))
    quit_close(conn)
    return cap


def tls_record(ctype, body):
    return struct.pack("!BHH", ctype, 0x0303 if ctype != 22 else 0x0301, len(body)) + body


def tls_client_hello(seed):
    rnd = prng(seed, 32)
    exts = struct.pack("!HHH", 0x000A, 4, 2) + struct.pack("!H", 0x001D) + \
        struct.pack("!HHB", 0x000B, 2, 1) + b"\x00"
    body = struct.pack("!H", 0x0303) + rnd + b"\x00" + struct.pack("!HHH", 4, 0xC02F, 0xC030) + \
        b"\x01\x00" + struct.pack("!H", len(exts)) + exts
    hs = struct.pack("!B", 1) + struct.pack("!I", len(body))[1:] + body
    return tls_record(22, hs)


def tls_server_hello(seed):
    body = struct.pack("!H", 0x0303) + prng(seed, 32) + b"\x00" + struct.pack("!H", 0xC02F) + b"\x00"
    hs = struct.pack("!B", 2) + struct.pack("!I", len(body))[1:] + body
    rec = tls_record(22, hs)
    return rec[:1] + struct.pack("!H", 0x0303) + rec[3:]


def tls_handshake(conn, tag):
    """ClientHello, ServerHello, ChangeCipherSpec and Finished each way."""
    conn.c(tls_client_hello(tag + "-ch"))
    conn.s(tls_server_hello(tag + "-sh") + tls_record(20, b"\x01"))
    conn.c(tls_record(20, b"\x01") + tls_record(22, prng(tag + "-fin-c", 40)))
    conn.s(tls_record(22, prng(tag + "-fin-s", 40)))


def starttls_start(conn, tag):
    """EHLO with STARTTLS, STARTTLS, 220 and the TLS handshake."""
    esmtp_start(conn, ehlo=("PIPELINING", "SIZE 10240000", "STARTTLS", "8BITMIME"))
    conn.c(lines("STARTTLS"))
    conn.s(lines("220 2.0.0 Ready to start TLS"))
    tls_handshake(conn, tag)


@sample
def starttls_injection():
    """Plaintext RSET pipelined after STARTTLS (CVE-2011-0411 class); the
    server does not answer it in plaintext; the rest is TLS."""
    cap = Capture("starttls-injection.pcap", T0 + 780)
    conn = Conn(cap, client="192.0.2.88", server="198.51.100.25", cport=40100)
    esmtp_start(conn, ehlo=("PIPELINING", "SIZE 10240000", "STARTTLS", "8BITMIME"))
    conn.c(lines("STARTTLS", "RSET"))
    conn.s(lines("220 2.0.0 Ready to start TLS"))
    tls_handshake(conn, "inj")
    conn.c(tls_record(23, prng("inj-app-c", 90)))
    conn.s(tls_record(23, prng("inj-app-s", 60)))
    conn.c(tls_record(21, prng("inj-alert", 26)))
    conn.close("c")
    return cap


@sample
def starttls_clean():
    """A correct STARTTLS: then only TLS records, nothing analysed."""
    cap = Capture("starttls-clean.pcap", T0 + 790)
    conn = Conn(cap, client="192.0.2.89", server="198.51.100.25", cport=40101)
    starttls_start(conn, "cl")
    conn.c(tls_record(23, prng("cl-app-c", 300)))
    conn.s(tls_record(23, prng("cl-app-s", 120)))
    conn.close("c")
    return cap


@sample
def auth_plaintext():
    """AUTH PLAIN credentials on a session without TLS."""
    cap = Capture("auth-plain-plaintext.pcap", T0 + 840)
    conn = Conn(cap, client="192.0.2.90", server="198.51.100.25", cport=40200, sport=587)
    esmtp_start(conn, ehlo=("PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN", "8BITMIME"),
                server="submit.example.net", client="laptop.example.org")
    # "\0alice\0not-a-real-password", base64
    conn.c(lines("AUTH PLAIN AGFsaWNlAG5vdC1hLXJlYWwtcGFzc3dvcmQ="))
    conn.s(lines("235 2.7.0 Authentication successful"))
    to_data(conn, "alice@example.org", "bob@example.net")
    conn.c(message("alice@example.org", "bob@example.net", "submitted", BODY))
    conn.s(lines("250 2.0.0 Ok: queued as 9A8B7C"))
    quit_close(conn)
    return cap


@sample
def auth_login_tls_less():
    """AUTH LOGIN: 334 challenges and base64 lines, which are not commands."""
    cap = Capture("auth-login-plaintext.pcap", T0 + 870)
    conn = Conn(cap, client="192.0.2.91", server="198.51.100.25", cport=40201, sport=587)
    esmtp_start(conn, ehlo=("PIPELINING", "AUTH LOGIN", "8BITMIME"),
                server="submit.example.net", client="laptop.example.org")
    conn.c(lines("AUTH LOGIN"))
    conn.s(lines("334 VXNlcm5hbWU6"))
    conn.c(lines("YWxpY2U="))                       # "alice"
    conn.s(lines("334 UGFzc3dvcmQ6"))
    conn.c(lines("bm90LWEtcmVhbC1wYXNzd29yZA=="))   # "not-a-real-password"
    conn.s(lines("235 2.7.0 Authentication successful"))
    quit_close(conn)
    return cap


def bdat_session(conn, ehlo):
    esmtp_start(conn, ehlo=ehlo)
    conn.c(lines("MAIL FROM:<alice@example.org>", "RCPT TO:<bob@example.net>"))
    conn.s(lines("250 2.1.0 Ok", "250 2.1.5 Ok"))
    chunk1 = lines("From: <alice@example.org>", "To: <bob@example.net>", "Subject: chunks", "",
                   "These lines look like commands but are chunk payload:",
                   "QUIT", "MAIL FROM:<mallory@example.com>", "RSET")
    chunk2 = lines("DATA", ".", "250 not a reply either", "Bye.")
    conn.c(b"BDAT %d\r\n" % len(chunk1) + chunk1)
    conn.s(lines("250 2.0.0 Ok: %d octets" % len(chunk1)))
    conn.c(b"BDAT %d LAST\r\n" % len(chunk2) + chunk2)
    conn.s(lines("250 2.0.0 Ok: queued as 1C2D3E4F"))
    quit_close(conn)


@sample
def bdat():
    """CHUNKING advertised; BDAT chunks whose payload looks like commands."""
    cap = Capture("bdat.pcap", T0 + 900)
    conn = Conn(cap, client="192.0.2.92", cport=40300)
    bdat_session(conn, POSTFIX_EHLO)
    return cap


@sample
def bdat_unadvertised():
    """BDAT used although CHUNKING was not listed (the server accepts it)."""
    cap = Capture("bdat-unadvertised.pcap", T0 + 930)
    conn = Conn(cap, client="192.0.2.93", cport=40301)
    bdat_session(conn, tuple(k for k in POSTFIX_EHLO if k != "CHUNKING"))
    return cap


@sample
def pregreeting():
    """A spam-bot sends EHLO before the (delayed) greeting."""
    cap = Capture("pregreeting.pcap", T0 + 960)
    conn = Conn(cap, client="192.0.2.66", cport=61002, rtt=0.150)
    conn.open()
    conn.c(lines("EHLO pc-4711"), dt=0.01)
    conn.s(lines("220 mx.example.net ESMTP Postfix"), dt=6.0)
    conn.s(ehlo_reply("mx.example.net", *POSTFIX_EHLO), dt=0.001)
    quit_close(conn, "s")
    return cap


@sample
def reset_after_quit():
    """QUIT, 221, and the client resets instead of closing."""
    cap = Capture("reset-after-quit.pcap", T0 + 1020)
    conn = Conn(cap, client="192.0.2.94", cport=40400)
    esmtp_start(conn)
    to_data(conn, "alice@example.org", "bob@example.net")
    conn.c(message("alice@example.org", "bob@example.net", "reset", BODY))
    conn.s(lines("250 2.0.0 Ok: queued as 2B3C4D"))
    conn.c(lines("QUIT"))
    conn.s(lines("221 2.0.0 Bye"))
    conn.rst("c", dt=0.001)
    return cap


@sample
def clean_multi():
    """Three transactions in one pipelined session: a refused recipient, an
    RSET, content lines that look like commands and replies, dot-stuffing."""
    cap = Capture("clean-multi-transaction.pcap", T0 + 1080)
    conn = Conn(cap, client="192.0.2.95", cport=40500)
    esmtp_start(conn)
    conn.c(lines("MAIL FROM:<alice@example.org> SIZE=900", "RCPT TO:<bob@example.net>",
                 "RCPT TO:<nobody@example.net>", "DATA"))
    conn.s(lines("250 2.1.0 Ok", "250 2.1.5 Ok",
                 "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown",
                 "354 End data with <CR><LF>.<CR><LF>"))
    conn.c(message("alice@example.org", "bob@example.net", "first",
                   ["Lines that look like protocol:", "MAIL FROM:<not@a.command>", "250 not a reply",
                    "QUIT", ".a line that starts with a dot", "..", "end"]))
    conn.s(lines("250 2.0.0 Ok: queued as 1A"))
    conn.c(lines("MAIL FROM:<alice@example.org>", "RCPT TO:<carol@example.net>"))
    conn.s(lines("250 2.1.0 Ok", "250 2.1.5 Ok"))
    conn.c(lines("RSET"))
    conn.s(lines("250 2.0.0 Ok"))
    conn.c(lines("MAIL FROM:<alice@example.org> BODY=8BITMIME", "RCPT TO:<dave@example.net>",
                 "DATA"))
    conn.s(lines("250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"))
    conn.c(message("alice@example.org", "dave@example.net", "third", BODY, "3@client.example.org"))
    conn.s(lines("250 2.0.0 Ok: queued as 3C"))
    conn.c(lines("NOOP"))
    conn.s(lines("250 2.0.0 Ok"))
    quit_close(conn)
    return cap


@sample
def server_timeout_421():
    """The server times out an idle client with 421 and closes: valid."""
    cap = Capture("server-timeout-421.pcap", T0 + 1140)
    conn = Conn(cap, client="192.0.2.96", cport=40600)
    esmtp_start(conn)
    conn.s(lines("421 4.4.2 mx.example.net Error: timeout exceeded"), dt=300.0)
    conn.fin("s", dt=0.0002)
    conn.ack("c")
    conn.fin("c", dt=0.001)
    conn.ack("s")
    return cap


@sample
def server_close_unannounced():
    """The server closes in the middle of a transaction without 421."""
    cap = Capture("server-close-unannounced.pcap", T0 + 1200)
    conn = Conn(cap, client="192.0.2.97", cport=40700)
    esmtp_start(conn)
    conn.c(lines("MAIL FROM:<alice@example.org>"))
    conn.s(lines("250 2.1.0 Ok"))
    conn.fin("s", dt=0.002)
    conn.ack("c")
    conn.fin("c", dt=0.001)
    conn.ack("s")
    return cap

# ------------------------------------------------- capture edge cases


def clean_on(name, t0, link="eth", fmt="pcap", **kw):
    cap = Capture(name, t0, link, fmt)
    clean_session(Conn(cap, **kw))
    return cap


@sample
def e_vlan():
    return clean_on("vlan.pcap", T0 + 2000, "vlan", client="192.0.2.101", cport=41001)


@sample
def e_qinq():
    return clean_on("qinq.pcap", T0 + 2010, "qinq", client="192.0.2.102", cport=41002)


@sample
def e_ipv6():
    return clean_on("ipv6.pcap", T0 + 2020, "eth", client="2001:db8::c", server="2001:db8::25",
                    cport=41003, v6=True)


@sample
def e_sll():
    return clean_on("sll.pcap", T0 + 2030, "sll", client="192.0.2.104", cport=41004)


@sample
def e_sll2():
    return clean_on("sll2.pcap", T0 + 2040, "sll2", client="192.0.2.105", cport=41005)


@sample
def e_null():
    return clean_on("null.pcap", T0 + 2050, "null", client="127.0.0.1", server="127.0.0.1",
                    cport=41006, rtt=0.0002)


@sample
def e_raw():
    return clean_on("rawip.pcap", T0 + 2060, "raw", client="192.0.2.107", cport=41007)


@sample
def e_pcapng():
    return clean_on("clean.pcapng", T0 + 2070, "eth", "pcapng", client="192.0.2.108", cport=41008)


@sample
def e_gzip():
    return clean_on("clean.pcap.gz", T0 + 2080, "eth", client="192.0.2.109", cport=41009)


@sample
def e_bad_checksums():
    return clean_on("bad-checksums.pcap", T0 + 2090, "eth", client="192.0.2.110", cport=41010,
                    badsum=True)


@sample
def e_midstream():
    """No handshake, no greeting, no EHLO: the capture starts at MAIL."""
    cap = Capture("midstream.pcap", T0 + 2100)
    conn = Conn(cap, client="192.0.2.111", cport=41011)
    esmtp_start(conn)
    del cap.frames[:], cap.notes[:]
    conn.c(lines("MAIL FROM:<alice@example.org>"), dt=0.5)
    conn.s(lines("250 2.1.0 Ok"))
    conn.chat(("RCPT TO:<bob@example.net>", "250 2.1.5 Ok"),
              ("DATA", "354 End data with <CR><LF>.<CR><LF>"))
    conn.c(message("alice@example.org", "bob@example.net", "midstream", BODY))
    conn.s(lines("250 2.0.0 Ok: queued as 5E"))
    quit_close(conn)
    return cap


def content_session(conn, body_lines, subject):
    esmtp_start(conn)
    to_data(conn, "alice@example.org", "bob@example.net")
    return message("alice@example.org", "bob@example.net", subject, body_lines)


LONG_BODY = ["%03d: The quick brown fox jumps over the lazy dog, again and again." % i
             for i in range(60)]


@sample
def e_retransmission():
    """A command and a content segment sent twice (same seq, same bytes)."""
    cap = Capture("retransmission.pcap", T0 + 2110)
    conn = Conn(cap, client="192.0.2.112", cport=41012)
    esmtp_start(conn)
    seq = conn.nxt["c"]
    conn.c(lines("MAIL FROM:<alice@example.org>"))
    conn.seg("c", ACK | PSH, lines("MAIL FROM:<alice@example.org>"), seq=seq, dt=0.2)
    conn.s(lines("250 2.1.0 Ok"))
    conn.chat(("RCPT TO:<bob@example.net>", "250 2.1.5 Ok"),
              ("DATA", "354 End data with <CR><LF>.<CR><LF>"))
    text = message("alice@example.org", "bob@example.net", "retransmitted", LONG_BODY)
    seq = conn.nxt["c"]
    conn.seg("c", ACK, text[:1460], dt=0.001)
    conn.seg("c", ACK, text[:1460], seq=seq, dt=0.2)       # the retransmission
    conn.ack("s")
    conn.c(text[1460:])
    conn.s(lines("250 2.0.0 Ok: queued as 6F"))
    sseq = conn.nxt["s"]
    quit_close_dup = lines("221 2.0.0 Bye")
    conn.c(lines("QUIT"))
    conn.s(quit_close_dup)
    conn.seg("s", ACK | PSH, quit_close_dup, seq=sseq, dt=0.2)  # a server retransmission
    conn.close("c")
    return cap


@sample
def e_out_of_order():
    """Content segments captured as 1, 3, 2."""
    cap = Capture("out-of-order.pcap", T0 + 2120)
    conn = Conn(cap, client="192.0.2.113", cport=41013)
    text = content_session(conn, LONG_BODY, "out of order")
    parts = [text[i:i + 1200] for i in range(0, len(text), 1200)]
    assert len(parts) >= 3
    a = conn.seg("c", ACK, parts[0], dt=0.001)
    b = conn.seg("c", ACK, parts[1], dt=0.0003, emit=False)
    c = conn.seg("c", ACK | PSH, parts[2], dt=0.0003, emit=False)
    cap.add(c[0] - 0.0003, c[1], c[2], c[3])
    cap.add(b[0] + 0.0003, b[1], b[2], b[3])
    for p in parts[3:]:
        conn.seg("c", ACK | PSH, p, dt=0.0003)
    conn.ack("s")
    conn.s(lines("250 2.0.0 Ok: queued as 7A"))
    quit_close(conn)
    return cap


@sample
def e_overlap():
    """A retransmission that overlaps sent bytes and carries new ones."""
    cap = Capture("overlap.pcap", T0 + 2130)
    conn = Conn(cap, client="192.0.2.114", cport=41014)
    text = content_session(conn, LONG_BODY, "overlap")
    seq0 = conn.nxt["c"]
    conn.seg("c", ACK, text[:1000], dt=0.001)
    conn.seg("c", ACK, text[500:1400], seq=seq0 + 500, dt=0.2)   # bytes 500..1399
    conn.nxt["c"] = seq0 + 1400
    conn.ack("s")
    conn.c(text[1400:])
    conn.s(lines("250 2.0.0 Ok: queued as 8B"))
    quit_close(conn)
    return cap


@sample
def e_gap():
    """One client content segment is missing; the server ACKs past it."""
    cap = Capture("gap.pcap", T0 + 2140)
    conn = Conn(cap, client="192.0.2.115", cport=41015)
    text = content_session(conn, LONG_BODY, "gap")
    conn.seg("c", ACK, text[:1200], dt=0.001)
    conn.seg("c", ACK, text[1200:2400], dt=0.0003, emit=False)   # lost by the capture
    conn.seg("c", ACK, text[2400:3600], dt=0.0003)
    conn.ack("s")
    conn.c(text[3600:])
    conn.s(lines("250 2.0.0 Ok: queued as 9C"))
    quit_close(conn)
    return cap


@sample
def e_fragments():
    """A content segment split into three IPv4 fragments."""
    cap = Capture("ip-fragments.pcap", T0 + 2150)
    conn = Conn(cap, client="192.0.2.116", cport=41016)
    text = content_session(conn, LONG_BODY, "fragments")
    conn.seg("c", ACK, text[:1400], dt=0.001)
    t, d, pkt = cap.frames.pop()
    note = cap.notes.pop()
    for i, frag in enumerate(ip4_fragments(pkt, (576, 576))):
        cap.add(t + i * 0.00001, d, frag, "%s (IPv4 fragment %d)" % (note, i + 1))
    conn.c(text[1400:])
    conn.s(lines("250 2.0.0 Ok: queued as AD"))
    quit_close(conn)
    return cap


@sample
def e_split_command():
    """A command split over three segments, a reply split over two."""
    cap = Capture("split-command.pcap", T0 + 2160)
    conn = Conn(cap, client="192.0.2.117", cport=41017)
    esmtp_start(conn)
    for part in (b"MAIL FR", b"OM:<alice@exa", b"mple.org>\r\n"):
        conn.c(part, dt=0.05)
    conn.s(b"250 2.1")
    conn.s(b".0 Ok\r\n", dt=0.01)
    conn.c(lines("RCPT TO:<bob@example.net>")[:-1])
    conn.c(b"\n", dt=0.02)                       # the LF of CRLF alone in a segment
    conn.s(lines("250 2.1.5 Ok"))
    conn.c(lines("DATA"))
    conn.s(lines("354 End data with <CR><LF>.<CR><LF>"))
    text = message("alice@example.org", "bob@example.net", "split", BODY)
    conn.c(text[:-4], dt=0.001)
    conn.c(text[-4:], dt=0.05)                   # "\r\n.\r\n" begins in one segment, ends in the next
    conn.s(lines("250 2.0.0 Ok: queued as BE"))
    quit_close(conn)
    return cap


@sample
def e_many_commands():
    """Many commands in one segment (pipelining advertised)."""
    cap = Capture("many-commands.pcap", T0 + 2170)
    conn = Conn(cap, client="192.0.2.118", cport=41018)
    esmtp_start(conn)
    rcpts = ["RCPT TO:<user%d@example.net>" % i for i in range(1, 9)]
    conn.c(lines("MAIL FROM:<list@example.org>", *rcpts, "DATA"))
    conn.s(lines("250 2.1.0 Ok", *["250 2.1.5 Ok"] * len(rcpts),
                 "354 End data with <CR><LF>.<CR><LF>"))
    conn.c(message("list@example.org", "list@example.org", "many", BODY) +
           lines("MAIL FROM:<list@example.org>", "RCPT TO:<user9@example.net>", "DATA"))
    conn.s(lines("250 2.0.0 Ok: queued as CF", "250 2.1.0 Ok", "250 2.1.5 Ok",
                 "354 End data with <CR><LF>.<CR><LF>"))
    conn.c(message("list@example.org", "user9@example.net", "many again", BODY) + lines("QUIT"))
    conn.s(lines("250 2.0.0 Ok: queued as D0", "221 2.0.0 Bye"))
    conn.close("s")
    return cap


@sample
def e_truncated():
    """The capture stops while the session is still open (after RCPT)."""
    cap = Capture("truncated.pcap", T0 + 2180)
    conn = Conn(cap, client="192.0.2.119", cport=41019)
    esmtp_start(conn)
    conn.chat(("MAIL FROM:<alice@example.org>", "250 2.1.0 Ok"),
              ("RCPT TO:<bob@example.net>", "250 2.1.5 Ok"))
    return cap


@sample
def e_connection_refused():
    """A SYN answered by RST: no connection, no SMTP session, nothing to say."""
    cap = Capture("connection-refused.pcap", T0 + 2185)
    conn = Conn(cap, client="192.0.2.121", cport=41021)
    conn.seg("c", SYN, dt=0.0)
    conn.seg("s", RST | ACK)
    return cap


@sample
def e_large_segments():
    """Loopback-sized segments (65483 bytes of payload, frames over 65535
    bytes, as tcpdump -i lo records them): a 200 KB message in four."""
    cap = Capture("large-segments.pcap.gz", T0 + 2187)
    conn = Conn(cap, client="127.0.0.1", server="127.0.0.1", cport=41022, rtt=0.0002)
    text = content_session(conn, ["%05d " % i + "x" * 92 for i in range(2000)], "large")
    conn.c(text, mss=65483)
    conn.s(lines("250 2.0.0 Ok: queued as E1"))
    quit_close(conn)
    return cap


@sample
def e_unsupported_link():
    """LINKTYPE_IEEE802_11 (105): not a link type smtpscope decodes."""
    return clean_on("unsupported-linktype-80211.pcap", T0 + 2190, "wlan",
                    client="192.0.2.120", cport=41020)

# ---------------------------------------------------------------- several files, several link types


def write_chain(cap, outdir):
    """A rotated chain, as tcpdump -C names it: NAME, NAME1, NAME2, ...;
    cap.chain holds the positions (frame indices) where a new file begins."""
    frames, total = cap.frames, 0
    bounds = [0] + list(cap.chain) + [len(frames)]
    for k in range(len(bounds) - 1):
        cap.frames = frames[bounds[k]:bounds[k + 1]]
        out = os.path.join(outdir, cap.name + (str(k) if k else ""))
        with open(out, "wb") as f:
            f.write(write_pcap(cap))
        total += os.path.getsize(out)
    cap.frames = frames
    return total


def write_pcapng_ifaces(cap):
    """pcapng with one interface per link type of cap.ifaces (frames carry
    theirs in cap.iface_of), as dumpcap -i eth0 -i any writes it."""
    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + pcapng_opt(0, b"")
    out = pcapng_block(0x0A0D0D0A, shb)
    for k, link in enumerate(cap.ifaces):
        idb = struct.pack("<HHI", LINKTYPE[link], 0, 262144) + \
            pcapng_opt(2, b"if%d" % k) + pcapng_opt(9, b"\x06") + pcapng_opt(0, b"")
        out += pcapng_block(1, idb)
    for (t, d, pkt), k in zip(cap.frames, cap.iface_of):
        frame = link_wrap(cap.ifaces[k], d, pkt)
        ts = round(t * 1e6)
        epb = struct.pack("<IIIII", k, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame)) + frame
        out += pcapng_block(6, epb)
    return out


def write_ifaces(cap, outdir):
    data = write_pcapng_ifaces(cap)
    with open(os.path.join(outdir, cap.name), "wb") as f:
        f.write(data)
    return len(data)


SEVERAL_WRITERS = {"chain": write_chain, "ifaces": write_ifaces}


@sample
def e_rotated_chain():
    """One capture cut into three files as tcpdump -C cuts it (rotated-chain.pcap,
    .pcap1, .pcap2): a session that pipelines without PIPELINING crosses the
    first cut, a clean one the second. Read together they give what the
    unsplit capture gives: pipelining-unadvertised and nothing about the cuts."""
    cap = Capture("rotated-chain.pcap", T0 + 2200, fmt="chain")
    conn = Conn(cap, client="192.0.2.130", cport=41030)
    esmtp_start(conn, ehlo=("SIZE 10240000", "8BITMIME"))
    conn.c(lines("MAIL FROM:<alice@example.org>", "RCPT TO:<bob@example.net>"))
    conn.s(lines("250 2.1.0 Ok", "250 2.1.5 Ok"))
    conn.c(lines("DATA"))
    conn.s(lines("354 End data with <CR><LF>.<CR><LF>"))
    conn.c(message("alice@example.org", "bob@example.net", "rotated", BODY))
    conn.s(lines("250 2.0.0 Ok: queued as C1"))
    quit_close(conn)
    first = len(cap.frames)
    conn2 = Conn(cap, client="192.0.2.131", cport=41031)
    clean_session(conn2)
    cap.chain = [first // 2, first + (len(cap.frames) - first) // 2]
    return cap


@sample
def e_two_link_types():
    """pcapng with two interfaces of different link types (Ethernet and Linux
    cooked, as dumpcap -i eth0 -i any writes): a clean session on each,
    interleaved in time; the second pipelines without PIPELINING."""
    a = Capture("a", T0 + 2210)
    clean_session(Conn(a, client="192.0.2.140", cport=41040))
    b = Capture("b", T0 + 2210.001)
    conn = Conn(b, client="192.0.2.141", cport=41041)
    esmtp_start(conn, ehlo=("SIZE 10240000",))
    conn.c(lines("MAIL FROM:<carol@example.org>", "RCPT TO:<dave@example.net>"))
    conn.s(lines("250 2.1.0 Ok", "250 2.1.5 Ok"))
    quit_close(conn)
    cap = Capture("two-link-types.pcapng", T0 + 2210, fmt="ifaces")
    cap.ifaces = ["eth", "sll"]
    merged = sorted([(f, 0, n) for f, n in zip(a.frames, a.notes)] +
                    [(f, 1, n) for f, n in zip(b.frames, b.notes)], key=lambda x: x[0][0])
    cap.frames = [f for f, _k, _n in merged]
    cap.iface_of = [k for _f, k, _n in merged]
    cap.notes = ["if%d %s" % (k, n) for _f, k, n in merged]
    return cap

# ---------------------------------------------------------------- main


# ------------------------------------------------- reassembly in ACK order


def reasm_reorder(cap, first, cumulative):
    """Moves each peer's ACK, from frame index first on, ahead of the data
    it acknowledges (tests/ack_ahead.py: one segment, or cumulative);
    the times stay in file order."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    import ack_ahead
    part = cap.frames[first:]
    notes = cap.notes[first:]
    order = ack_ahead.reorder([ack_ahead.tcp_info(p, 101) for _t, _d, p in part], cumulative)
    cap.frames[first:] = [(part[slot][0], part[i][1], part[i][2]) for slot, i in enumerate(order)]
    cap.notes[first:] = [notes[i] for i in order]


def reasm_zero_seq(pkt):
    """An IPv4 packet with its TCP sequence and acknowledgement numbers set
    to 0 (what some anonymisers do), checksum made right again."""
    ihl = (pkt[0] & 15) * 4
    seg = bytearray(pkt[ihl:])
    seg[4:12] = bytes(8)
    seg[16:18] = b"\0\0"
    pseudo = pkt[12:16] + pkt[16:20] + struct.pack("!xBH", 6, len(seg))
    seg[16:18] = struct.pack("!H", csum16(pseudo + bytes(seg)))
    return pkt[:ihl] + bytes(seg)


@sample
def reasm_ack_ahead():
    """Each peer's ACK captured before the data it acknowledges (span
    port): session 1 one segment at a time, session 2 cumulative ACKs
    (and the replies riding on them) ahead of several segments."""
    cap = Capture("ack-ahead.pcap", T0 + 2300)
    for k, cumulative in enumerate((False, True)):
        first = len(cap.frames)
        conn = Conn(cap, client="192.0.2.130", cport=41030 + k)
        text = content_session(conn, LONG_BODY, "ACKs ahead")
        if cumulative:
            # no ACK until the reply: it acknowledges the whole message
            for i in range(0, len(text), 700):
                conn.seg("c", ACK | PSH, text[i:i + 700], dt=0.0003)
        else:
            conn.c(text, mss=700)
        conn.s(lines("250 2.0.0 Ok: queued as A%d" % k))
        quit_close(conn)
        reasm_reorder(cap, first, cumulative)
        cap.t += 1.0
    return cap


@sample
def reasm_retrans_after_56k():
    """The first content segment lost on the wire and retransmitted after
    56 KB of later data (the receiver's duplicate ACKs in between)."""
    cap = Capture("retrans-after-56k.pcap.gz", T0 + 2310)
    conn = Conn(cap, client="192.0.2.131", cport=41040)
    text = content_session(conn, ["%05d " % i + "y" * 70 for i in range(800)], "late retransmission")
    seq0 = conn.nxt["c"]
    conn.seg("c", ACK, text[:1448], dt=0.001, emit=False)
    off = 1448
    while off < len(text) - 1448 and off < 1448 + 56 * 1024:
        conn.seg("c", ACK, text[off:off + 1448], dt=0.0002)
        conn.seg("s", ACK, ack=seq0, dt=0.0001)      # duplicate ACK
        off += 1448
    conn.seg("c", ACK, text[:1448], seq=seq0, dt=0.2)    # the retransmission
    conn.c(text[off:])
    conn.s(lines("250 2.0.0 Ok: queued as B1"))
    quit_close(conn)
    return cap


@sample
def reasm_zero_seq_sample():
    """A clean session whose TCP sequence and acknowledgement numbers were
    all set to 0 by an anonymiser."""
    cap = Capture("zero-seq.pcap", T0 + 2320)
    conn = Conn(cap, client="192.0.2.132", cport=41050)
    clean_session(conn)
    cap.frames = [(t, d, reasm_zero_seq(p)) for t, d, p in cap.frames]
    return cap


# ------------------------------------------- mid-stream, one-sided, re-sync


@sample
def midstream_tls():
    """A STARTTLS session whose start the capture missed: it begins with
    TLS application data in both directions, one record larger than a
    segment (so segments also start in the middle of a record)."""
    cap = Capture("midstream-tls.pcap", T0 + 2400)
    conn = Conn(cap, client="192.0.2.140", cport=41060)
    starttls_start(conn, "mt")
    del cap.frames[:], cap.notes[:]
    conn.c(tls_record(23, prng("mt-app-c1", 60)), dt=0.5)
    conn.s(tls_record(23, prng("mt-app-s1", 120)))
    conn.c(tls_record(23, prng("mt-app-c2", 4000)))
    conn.s(tls_record(23, prng("mt-app-s2", 40)))
    conn.c(tls_record(21, prng("mt-alert", 26)))
    conn.close("c")
    return cap


@sample
def one_sided():
    """Asymmetric routing: the capture holds only one direction of each
    session. Session 1: the client's packets only (pipelined MAIL, RCPT,
    DATA after an EHLO whose reply is not in the capture); session 2: the
    server's packets only."""
    cap = Capture("one-sided.pcap", T0 + 2410)
    for k, keep in enumerate(("c", "s")):
        first = len(cap.frames)
        conn = Conn(cap, client="192.0.2.141", cport=41070 + k)
        esmtp_start(conn)
        conn.c(lines("MAIL FROM:<alice@example.org>", "RCPT TO:<bob@example.net>", "DATA"))
        conn.s(lines("250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"))
        conn.c(message("alice@example.org", "bob@example.net", "one side", BODY))
        conn.s(lines("250 2.0.0 Ok: queued as 7A%d" % k))
        quit_close(conn)
        kept = [(f, n) for f, n in zip(cap.frames[first:], cap.notes[first:]) if f[1] == keep]
        cap.frames[first:] = [f for f, _n in kept]
        cap.notes[first:] = [n for _f, n in kept]
        cap.t += 1.0
    return cap


def resync_session(cap, k, payload, replies):
    """A message whose content holds an ambiguous end-of-data sequence and
    no <CRLF>.<CRLF>, all in one segment; the server (a real MTA that
    reads the sequence as the end) answers what it read after it, then
    closes."""
    conn = Conn(cap, client="192.0.2.142", cport=41080 + k)
    content_session(conn, [], "")      # up to the 354; the message is payload
    conn.c(payload)
    conn.s(replies)
    conn.close("s")
    return conn


@sample
def resync_postfix():
    """Postfix (smtpd_forbid_bare_newline=no) and a client that ends its
    lines with a bare LF: the message ends with <LF>.<LF>, then a second
    transaction (MAIL, RCPT, DATA, its message, <LF>.<LF>) and QUIT, all
    with bare LF; Postfix answers each, 221, and closes."""
    cap = Capture("resync-postfix.pcap", T0 + 2420)
    payload = (b"From: <alice@example.org>\nSubject: first\n\nHello.\n.\n"
               b"MAIL FROM:<ceo@example.net>\nRCPT TO:<carol@example.net>\nDATA\n"
               b"From: <ceo@example.net>\nSubject: second\n\nPay now.\n.\nQUIT\n")
    resync_session(cap, 0, payload,
                   lines("250 2.0.0 Ok: queued as 4Q1", "250 2.1.0 Ok", "250 2.1.5 Ok",
                         "354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 Ok: queued as 4Q2",
                         "221 2.0.0 Bye"))
    return cap


@sample
def resync_sendmail():
    """Sendmail reads <CR><LF>.<LF> as the end of data; the empty line
    after it is a command to it (500), then QUIT: all in one segment, the
    replies after it, 221, close."""
    cap = Capture("resync-sendmail.pcap", T0 + 2430)
    payload = lines("From: <alice@example.org>", "Subject: first", "", "Hello.") + \
        b".\n\r\nQUIT\r\n"
    resync_session(cap, 1, payload,
                   lines("250 2.0.0 5A1 Message accepted for delivery",
                         "500 5.5.1 Command unrecognized: \"\"",
                         "221 2.0.0 sendmail.example.net closing connection"))
    return cap


@sample
def midstream_greeting():
    """The capture starts at the server's greeting (the handshake was
    missed): EHLO and MAIL in one segment, then RCPT, DATA and the content
    pipelined to a server that does not list PIPELINING."""
    cap = Capture("midstream-greeting.pcap", T0 + 2440)
    conn = Conn(cap, client="192.0.2.143", cport=41090)
    conn.open()
    del cap.frames[:], cap.notes[:]
    conn.s(lines("220 mx.example.net ESMTP"), dt=0.0025)
    conn.c(lines("EHLO client.example.org", "MAIL FROM:<alice@example.org>"))
    conn.s(ehlo_reply("mx.example.net", "SIZE 10240000", "8BITMIME") + lines("250 2.1.0 Ok"))
    conn.c(lines("RCPT TO:<bob@example.net>", "DATA") +
           message("alice@example.org", "bob@example.net", "greeting", BODY))
    conn.s(lines("250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
                 "250 2.0.0 Ok: queued as 5G"))
    quit_close(conn)
    return cap


@sample
def any_port_ftp():
    """FTP on port 21 (read with --any-port): a 220 greeting, then USER and
    PASS with a made-up password; not SMTP."""
    cap = Capture("any-port-ftp.pcap", T0 + 2450)
    conn = Conn(cap, client="192.0.2.144", cport=41100, sport=21)
    conn.open()
    conn.s(lines("220 ProFTPD Server (ftp.example.net) [198.51.100.25]"), dt=0.0025)
    conn.chat(("USER anonymous", "331 Password required for anonymous"),
              ("PASS s3cr3t-ftp-PASSWORD", "230 User anonymous logged in"),
              ("SYST", "215 UNIX Type: L8"),
              ("PWD", "257 \"/\" is the current directory"),
              ("QUIT", "221 Goodbye."))
    conn.close("s")
    return cap


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--list", action="store_true", help="print each sample's frames")
    args = ap.parse_args()
    for fn in SAMPLES:
        cap = fn()
        if args.list:
            print("== %s" % cap.name)
            for i, (t, _d, _p) in enumerate(cap.frames):
                print("%4d %10.6f %s" % (i + 1, t - cap.frames[0][0], cap.notes[i]))
            continue
        n = write_capture(cap, args.out)
        if n > 50000:
            sys.exit("%s: %d bytes, over the 50 KB budget" % (cap.name, n))
        print("%-40s %3d frames %6d bytes" % (cap.name, len(cap.frames), n))


if __name__ == "__main__":
    main()
