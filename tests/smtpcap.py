#!/usr/bin/env python3
# tests/smtpcap.py - writes a pcap of one SMTP session for the tests: the
# TCP handshake, one segment per conversation entry, the closing FINs,
# valid checksums, one millisecond between frames.
#   python3 tests/smtpcap.py OUT.pcap CLIENT_IP SERVER_IP < conversation
# The conversation is JSON: a list of [direction, text], direction 0 for
# the client and 1 for the server, text a string whose code points are
# the bytes (latin-1), so that any byte can be sent. Other generators
# import packets() and write(); they may give an entry a third element,
# a dict: flags (TCP flags instead of PSH|ACK), seq (the segment's offset
# in its stream instead of the next one: a later copy of bytes already
# sent), ack (the offset in the other stream it acknowledges instead of
# all sent so far); and packets() an MSS for both SYNs and close=False
# for no closing FINs.
import json, socket, struct, sys

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def packets(C, S, conv, cport=40001, cseq=1000, sseq=9000, mss=None, close=True):
    """The frames of one session (C, S: packed IPv4 addresses; conv: a
    list of (direction, bytes[, options])), for this script and other
    generators."""
    pk, seq, isn = [], {0: cseq, 1: sseq}, {0: cseq, 1: sseq}

    def tcp(d, flags, data=b'', at=None, ack=None):
        src, dst = (C, S) if d == 0 else (S, C)
        sp, dp = (cport, 25) if d == 0 else (25, cport)
        opt = struct.pack('!BBH', 2, 4, mss) if mss and flags & 2 else b''
        sq = seq[d] if at is None else (isn[d] + 1 + at) & 0xffffffff
        ak = seq[1 - d] if ack is None else (isn[1 - d] + 1 + ack) & 0xffffffff
        h = struct.pack('!HHIIBBHHH', sp, dp, sq, ak, (5 + len(opt) // 4) << 4, flags,
                        65535, 0, 0) + opt
        c = csum(src + dst + struct.pack('!BBH', 0, 6, len(h) + len(data)) + h + data)
        h = h[:16] + struct.pack('!H', c) + h[18:]
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(h) + len(data), 1, 0, 64, 6, 0,
                         src, dst)
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        pk.append(b'\0' * 6 + b'\0\0\0\0\0\1' + b'\x08\x00' + ip + h + data)
        end = (sq + len(data) + (1 if flags & 3 else 0)) & 0xffffffff
        if at is None or 0 < (end - seq[d]) & 0xffffffff < 0x80000000:
            seq[d] = end

    tcp(0, 0x02); tcp(1, 0x12); tcp(0, 0x10)
    for d, data, *o in conv:
        o = o[0] if o else {}
        tcp(d, o.get('flags', 0x18), data, o.get('seq'), o.get('ack'))
    if close:
        tcp(1, 0x11); tcp(0, 0x11); tcp(1, 0x10)
    return pk

def write(path, pk, ts):
    """A microsecond pcap of frames pk; ts(i): (seconds, microseconds)."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(pk):
            f.write(struct.pack('<IIII', *ts(i), len(p), len(p)) + p)

def main():
    out, cip, sip = sys.argv[1:4]
    conv = [(d, t.encode('latin-1')) for d, t in json.load(sys.stdin)]
    pk = packets(socket.inet_aton(cip), socket.inet_aton(sip), conv)
    write(out, pk, lambda i: (1700000000, i * 1000))

if __name__ == '__main__':
    main()
