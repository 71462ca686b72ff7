#!/usr/bin/env python3
"""ack_ahead.py - moves each peer's ACK ahead of the data it acknowledges.

Usage: ack_ahead.py one|cumulative IN.pcap OUT.pcap

A capture taken on a span port or a multi-queue NIC can show a packet that
acknowledges data before the data itself. This rewrites a classic pcap that
way, packet contents unchanged: for every TCP packet that acknowledges new
bytes of the other side, the packet is moved before the last data segment
it covers ("one") or before the first of those it covers since the
previous ACK ("cumulative"). A packet is not moved over a packet of its own
side (its own stream keeps its order), nor over a SYN or RST. Timestamps
stay in file order: the moved packets take the slots' times. What a
correct TCP reassembly makes of every stream is unchanged, which is what
tests/reasm_oracle.sh checks against tshark.

The link types read are Ethernet (VLAN tags included), Linux SLL and
SLL2, BSD loopback and raw IP; packets of other kinds, and files of other
link types, are copied unchanged. pcapng: convert with editcap first.
"""
import struct
import sys

SYN, RST, ACK = 0x02, 0x04, 0x10
WINDOW = 64          # how far back a packet may move, in packets


def l3_offset(link, frame):
    """Offset of the IP header in a frame, or None."""
    if link == 1:
        off, et = 14, None
        if len(frame) < 14:
            return None
        et = struct.unpack("!H", frame[12:14])[0]
        while et in (0x8100, 0x88A8, 0x9100) and len(frame) >= off + 4:
            et = struct.unpack("!H", frame[off + 2:off + 4])[0]
            off += 4
        return off if et in (0x0800, 0x86DD) else None
    return {113: 16, 276: 20, 0: 4, 101: 0, 12: 0, 14: 0, 228: 0, 229: 0}.get(link)


def tcp_info(frame, link):
    """(connection key, side key, seq, ack, flags, payload length) or None."""
    off = l3_offset(link, frame)
    if off is None or len(frame) < off + 20:
        return None
    ip = frame[off:]
    if ip[0] >> 4 == 4:
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6 or struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
            return None
        tot = struct.unpack("!H", ip[2:4])[0] or len(ip)
        src, dst, tcp, end = ip[12:16], ip[16:20], ihl, min(tot, len(ip))
    elif ip[0] >> 4 == 6 and len(ip) >= 40:
        if ip[6] != 6:
            return None
        src, dst, tcp = ip[8:24], ip[24:40], 40
        end = min(40 + struct.unpack("!H", ip[4:6])[0], len(ip))
    else:
        return None
    if end < tcp + 20:
        return None
    sport, dport, seq, ack = struct.unpack("!HHII", ip[tcp:tcp + 12])
    doff = (ip[tcp + 12] >> 4) * 4
    a, b = (src, sport), (dst, dport)
    return (min(a, b), max(a, b)), a, seq, ack, ip[tcp + 13], max(0, end - tcp - doff)


def after(a, b):
    return 0 < ((a - b) & 0xFFFFFFFF) < 0x80000000


def reorder(infos, cumulative):
    """The new order of packets described by infos (tcp_info or None)."""
    order = []
    last_ack = {}
    for j, y in enumerate(infos):
        order.append(j)                     # packets after j are not placed yet
        if y is None or not y[4] & ACK or y[4] & (SYN | RST):
            continue
        conn, side, _seq, ack = y[0], y[1], y[2], y[3]
        prev = last_ack.get((conn, side))
        last_ack[(conn, side)] = ack if prev is None or after(ack, prev) else prev
        if prev is None or not after(ack, prev):
            continue
        pos = len(order) - 1
        covered = []
        for p in range(pos - 1, max(-1, pos - WINDOW - 1), -1):
            x = infos[order[p]]
            if x is None or x[0] != conn:
                continue
            if x[1] == side or x[4] & (SYN | RST):
                break                       # never over its own side
            end = (x[2] + x[5]) & 0xFFFFFFFF
            if x[5] and not after(end, ack) and after(end, prev):
                covered.append(p)
            elif covered:
                break
        if not covered:
            continue
        target = covered[-1] if cumulative else covered[0]
        order.insert(target, order.pop(pos))
    return order


def main():
    mode, src, dst = sys.argv[1:4]
    data = open(src, "rb").read()
    magic = data[:4]
    end = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
           b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if end is None:
        sys.exit("%s: not a classic pcap" % src)
    link = struct.unpack(end + "I", data[20:24])[0] & 0x0FFFFFFF
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        recs.append(((sec, frac), orig, frame))
        off += 16 + incl
    infos = [tcp_info(f, link) for _t, _o, f in recs]
    order = reorder(infos, mode == "cumulative")
    with open(dst, "wb") as out:
        out.write(data[:24])
        for slot, i in enumerate(order):
            (sec, frac), _o, _f = recs[slot]
            _t, orig, frame = recs[i]
            out.write(struct.pack(end + "IIII", sec, frac, len(frame), orig) + frame)
    moved = sum(1 for a, b in enumerate(order) if a != b)
    print("%s: %d packets, %d moved" % (dst, len(recs), moved))


if __name__ == "__main__":
    main()
