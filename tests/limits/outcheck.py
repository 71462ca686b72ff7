#!/usr/bin/env python3
"""outcheck.py - checks that an output of smtpscope is safe to show.

Usage: outcheck.py text|jsonl FILE [MUST-CONTAIN...]
  text   no byte a terminal acts on: nothing below 0x20 but newline, no
         DEL, and (decoded as UTF-8) no C1 control U+0080..U+009F, no bidi
         embedding, override or isolate, no zero-width or line-separator
         code point; the file must be valid UTF-8
  jsonl  every non-empty line is one JSON value (strict: valid UTF-8, no
         raw control character), and the last record is the summary
MUST-CONTAIN strings (Python escapes allowed, e.g. '\\\\x1b[2J') must occur
in the raw file: they prove the hostile bytes reached the output escaped
rather than dropped. Prints one line; exits 1 on the first violation.
"""
import json
import sys

HIDDEN = [(0x80, 0x9f), (0x61c, 0x61c), (0x200b, 0x200f), (0x2028, 0x202e),
          (0x2060, 0x206f), (0xfeff, 0xfeff), (0xfff9, 0xfffb), (0xe0000, 0xe007f)]


def fail(path, msg):
    print('%s: %s' % (path, msg))
    sys.exit(1)


def check_text(path, raw):
    for i, b in enumerate(raw):
        if (b < 0x20 and b != 0x0a) or b == 0x7f:
            fail(path, 'raw control byte 0x%02x at offset %d: %r' % (b, i, raw[max(0, i - 30):i + 10]))
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as e:
        fail(path, 'not valid UTF-8: %s' % e)
    for i, ch in enumerate(text):
        cp = ord(ch)
        for lo, hi in HIDDEN:
            if lo <= cp <= hi:
                fail(path, 'hidden code point U+%04X at character %d' % (cp, i))


def check_jsonl(path, raw):
    last = None
    for n, line in enumerate(raw.split(b'\n'), 1):
        if not line.strip():
            continue
        try:
            last = json.loads(line.decode('utf-8', errors='strict'))
        except (UnicodeDecodeError, ValueError) as e:
            fail(path, 'line %d is not valid JSON: %s: %r' % (n, e, line[:120]))
        if not isinstance(last, dict) or 'type' not in last:
            fail(path, 'line %d is not a record with "type"' % n)
    if last is None or last.get('type') != 'summary':
        fail(path, 'the last record is not the summary')


def main(argv):
    if len(argv) < 3 or argv[1] not in ('text', 'jsonl'):
        sys.stderr.write(__doc__)
        return 2
    path = argv[2]
    raw = open(path, 'rb').read()
    if not raw:
        fail(path, 'empty output')
    (check_text if argv[1] == 'text' else check_jsonl)(path, raw)
    for want in argv[3:]:
        w = want.encode('latin-1').decode('unicode_escape').encode('latin-1')
        if w not in raw:
            fail(path, 'does not contain %r' % w)
    print('%s: ok (%d bytes)' % (path, len(raw)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
