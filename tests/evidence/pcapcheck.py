#!/usr/bin/env python3
"""pcapcheck.py - reads evidence packet files block by block, for
tests/evidence.sh (independent of tshark: block lengths, the order of
blocks, what each packet carries).

  pcapcheck.py many SOURCE.pcap DIR N
      DIR holds the bundle of tests/evidence/interleave.py's N sessions
      (pcapng or pcap): one file per session, each whole, with exactly
      its frames of SOURCE (bytes and order); a pcapng has one section
      header, one interface, each packet's id its frame number and one
      comment per finding of the .txt, on the finding's frame.
  pcapcheck.py times SOURCE.pcap NANO.pcapng MICRO_SOURCE.pcap MICRO.pcapng
      the pcapng of a nanosecond pcap says if_tsresol 9 and holds the
      source's nanoseconds; that of a microsecond one has no if_tsresol
      and holds its microseconds.
"""
import glob
import re
import struct
import sys


def pcap_read(path):
    """(magic, [(sec, frac, data)])"""
    d = open(path, 'rb').read()
    magic = struct.unpack('<I', d[:4])[0]
    assert magic in (0xa1b2c3d4, 0xa1b23c4d), (path, hex(magic))
    i, r = 24, []
    while i < len(d):
        s, f, cl, wl = struct.unpack('<IIII', d[i:i + 16])
        assert i + 16 + cl <= len(d), (path, 'record cut short', i)
        r.append((s, f, d[i + 16:i + 16 + cl]))
        i += 16 + cl
    return magic, r


def opts(b):
    """[(code, value)] of an options area"""
    out, i = [], 0
    while i + 4 <= len(b):
        code, ln = struct.unpack('<HH', b[i:i + 4])
        if code == 0:
            break
        out.append((code, b[i + 4:i + 4 + ln]))
        i += 4 + ((ln + 3) & ~3)
    return out


def ng_read(path):
    """[(type, body)], every block's two lengths checked"""
    d = open(path, 'rb').read()
    i, blocks = 0, []
    while i < len(d):
        t, ln = struct.unpack('<II', d[i:i + 8])
        assert ln >= 12 and ln % 4 == 0 and i + ln <= len(d), (path, 'block', i)
        assert struct.unpack('<I', d[i + ln - 4:i + ln])[0] == ln, (path, 'trailer', i)
        blocks.append((t, d[i + 8:i + ln - 4]))
        i += ln
    return blocks


def ng_packets(blocks):
    """the EPBs: [(ifid, ts, data, packet_id, [comments])]"""
    out = []
    for t, b in blocks:
        if t != 6:
            continue
        ifid, hi, lo, cl, wl = struct.unpack('<IIIII', b[:20])
        data = b[20:20 + cl]
        o = opts(b[20 + ((cl + 3) & ~3):])
        pid = [struct.unpack('<Q', v)[0] for c, v in o if c == 5]
        out.append((ifid, hi << 32 | lo, data, pid[0] if pid else None,
                    [v.decode() for c, v in o if c == 1]))
    return out


def findings(txt):
    """frames the .txt's findings rest on (the transcript line before each !!)"""
    frames, last = [], None
    for line in open(txt, encoding='utf-8'):
        m = re.match(r'#(\d+)', line)
        if m:
            last = int(m.group(1))
        elif line.lstrip().startswith('!! '):
            frames.append(last)
    return frames


def many(source, d, n):
    _, src = pcap_read(source)
    files = sorted(glob.glob(d + '/session-*.pcapng') + glob.glob(d + '/session-*.pcap'))
    assert len(files) == n, (len(files), n)
    for f in files:
        if f.endswith('.pcap'):
            _, recs = pcap_read(f)
            data = [r[2] for r in recs]
        else:
            blocks = ng_read(f)
            types = [t for t, _ in blocks]
            assert types[0] == 0x0A0D0D0A and types.count(0x0A0D0D0A) == 1, (f, types)
            assert types.count(1) == 1, (f, 'interfaces', types.count(1))
            pk = ng_packets(blocks)
            data = [p[2] for p in pk]
        # the session: its client port, from the first packet (SYN)
        i = struct.unpack('!H', data[0][34:36])[0] - 40000
        want = list(range(i, len(src), n))
        assert data == [src[k][2] for k in want], (f, 'frames differ')
        if f.endswith('.pcapng'):
            assert [p[3] for p in pk] == [k + 1 for k in want], (f, 'packet ids')
            got = [p[3] for p in pk for c in p[4] if c.startswith('smtpscope: ')]
            fr = findings(f[:-len('.pcapng')] + '.txt')
            assert fr and got == fr, (f, 'comments on', got, 'findings on', fr)
    return 0


def times(nsrc, nng, msrc, mng):
    for src, ng, nano in ((nsrc, nng, True), (msrc, mng, False)):
        _, recs = pcap_read(src)
        blocks = ng_read(ng)
        idb = [b for t, b in blocks if t == 1]
        assert len(idb) == 1, ng
        resol = [v for c, v in opts(idb[0][8:]) if c == 9]
        assert resol == ([b'\x09'] if nano else []), (ng, resol)
        pk = ng_packets(blocks)
        assert pk, ng
        for p in pk:
            s, f, _ = recs[p[3] - 1]
            assert p[1] == (s * 10**9 + f if nano else s * 10**6 + f), (ng, p[3], p[1], s, f)
        if nano:
            assert all(p[1] % 1000 for p in pk), 'nanoseconds rounded'
    return 0


if __name__ == '__main__':
    if sys.argv[1] == 'many':
        sys.exit(many(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    sys.exit(times(*sys.argv[2:6]))
