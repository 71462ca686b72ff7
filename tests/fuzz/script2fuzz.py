#!/usr/bin/env python3
"""script2fuzz.py - turns byte scripts (tests/scripts/README.md) into inputs
of the fuzz_session target (the format is described in fuzz_session.c).

Usage: script2fuzz.py OUTDIR SCRIPT.smtp...
Writes OUTDIR/<script path with / as _>.bin for each script. Directives the
target has no use for (expect, expect-line, comments) are skipped; a line
that cannot be read is reported on stderr and the script is skipped, so a
malformed script never stops the seeding of the others.
"""
import os
import re
import sys

PORTS = {25: 0, 465: 1, 587: 2, 2525: 3}
KIND_DATA_SHORT, KIND_DATA_LONG, KIND_FIN, KIND_RST, KIND_GAP, KIND_REPEAT, KIND_END = range(7)
ESCAPES = {'r': b'\r', 'n': b'\n', 't': b'\t', '\\': b'\\', '"': b'"', '0': b'\0'}


def unquote(s):
    """Decodes one double-quoted C-escaped string; returns (bytes, rest)."""
    if not s.startswith('"'):
        raise ValueError('string expected')
    out = bytearray()
    i = 1
    while i < len(s):
        c = s[i]
        if c == '"':
            return bytes(out), s[i + 1:].strip()
        if c == '\\':
            e = s[i + 1]
            if e == 'x':
                out += bytes([int(s[i + 2:i + 4], 16)])
                i += 4
                continue
            if e not in ESCAPES:
                raise ValueError('unknown escape \\' + e)
            out += ESCAPES[e]
            i += 2
            continue
        out += c.encode('utf-8')
        i += 1
    raise ValueError('unterminated string')


def op(kind, side):
    return bytes([kind | (8 if side == 'S' else 0)])


def convert(text):
    flags = 0
    ops = bytearray()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith('#') or line.startswith('expect'):
            continue
        words = line.split(None, 2)
        if words[0] == 'option':
            name = words[1]
            arg = words[2] if len(words) > 2 else ''
            if name == 'profile' and arg == 'rfc821':
                flags |= 1
            elif name == 'show-content':
                flags |= 2
            elif name == 'handshake' and arg == 'no':
                flags |= 16
            elif name == 'port':
                flags |= PORTS.get(int(arg), 0) << 6
            continue
        if words[0] == 'END':
            ops += bytes([KIND_END])
            continue
        side = words[0]
        if side not in ('C', 'S') or len(words) < 2:
            raise ValueError('cannot read: ' + line)
        rest = line[1:].strip()
        if rest == 'FIN':
            ops += op(KIND_FIN, side)
        elif rest == 'RST':
            ops += op(KIND_RST, side)
        elif rest.startswith('GAP'):
            ops += op(KIND_GAP, side) + int(rest.split()[1]).to_bytes(4, 'big')
        elif rest.startswith('REPEAT'):
            m = re.match(r'REPEAT\s+(\d+)\s+(".*)$', rest)
            if not m:
                raise ValueError('cannot read: ' + line)
            pat, _ = unquote(m.group(2))
            count = min(int(m.group(1)), 0xFFFFFF)
            ops += op(KIND_REPEAT, side) + count.to_bytes(3, 'big') + bytes([len(pat) & 0xFF]) + pat[:255]
        else:
            data, _ = unquote(rest)
            for k in range(0, len(data), 0xFFFF):
                piece = data[k:k + 0xFFFF]
                if len(piece) <= 0xFF:
                    ops += op(KIND_DATA_SHORT, side) + bytes([len(piece)]) + piece
                else:
                    ops += op(KIND_DATA_LONG, side) + len(piece).to_bytes(2, 'big') + piece
    return bytes([flags]) + bytes(ops)


def main(argv):
    if len(argv) < 2:
        sys.stderr.write('usage: script2fuzz.py OUTDIR SCRIPT.smtp...\n')
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    done = 0
    for path in argv[2:]:
        try:
            with open(path, encoding='utf-8', errors='surrogateescape') as f:
                data = convert(f.read())
        except (ValueError, IndexError, OSError) as e:
            sys.stderr.write('script2fuzz: %s: %s\n' % (path, e))
            continue
        name = re.sub(r'[^A-Za-z0-9._-]', '_', path.lstrip('./')) + '.bin'
        with open(os.path.join(outdir, name), 'wb') as f:
            f.write(data)
        done += 1
    print('script2fuzz: %d scripts converted' % done)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
