#!/usr/bin/env bash
# tests/layers.sh - the source tree is laid out as docs/architecture.md
# says, so that a newcomer can trust it:
#  - every header lives beside the code that owns it (no include/ folder);
#    an include names a header of its own folder ("x.h") or of another
#    folder of src/ ("folder/x.h", with -Isrc), never a relative path;
#  - the folders form layers: a folder includes only headers of folders
#    below it in the order of docs/architecture.md (no circle);
#  - every source and header file opens with a comment that names it;
#  - each rule of src/common/rules.def is checked in exactly one file of
#    src/session/, and that file's header comment names the rule's id.
set -u
cd "$(dirname "$0")/.."
python3 - <<'PY'
import os, re, sys
order = ['common', 'capture', 'reasm', 'pipeline', 'smtp', 'tls', 'session',
         'output', 'tui', 'jobs', 'app']
def ok(c, what):
    print(('PASS: ' if c else 'FAIL: ') + what)
ok(not os.path.exists('include'), 'no include/ folder: headers beside their code')
folders = sorted(d for d in os.listdir('src') if os.path.isdir('src/' + d))
ok(folders == sorted(order), 'the folders of src/ are the layers of docs/architecture.md: %s' % folders)
doc = open('docs/architecture.md').read()
ok(all('src/%s/' % d in doc for d in order), 'docs/architecture.md names every folder')
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
bad, up, unnamed = [], [], []
for root, _, files in os.walk('src'):
    for f in sorted(files):
        p = os.path.join(root, f)
        here = p.split('/')[1]
        text = open(p, encoding='utf-8').read()
        if f.endswith(('.c', '.h')):
            head = text[:400]
            if not head.startswith('/*') or f not in head:
                unnamed.append(p)
        for t in inc.findall(text):
            if '..' in t:
                bad.append('%s: %s' % (p, t)); continue
            if '/' in t:
                dst = t.split('/')[0]
                if not os.path.exists(os.path.join('src', t)):
                    bad.append('%s: %s not found' % (p, t))
                elif dst != here and order.index(dst) > order.index(here):
                    up.append('%s -> %s' % (p, t))
            elif not os.path.exists(os.path.join(root, t)):
                bad.append('%s: "%s" is not in its folder' % (p, t))
ok(not bad, 'every include is "x.h" of its folder or "folder/x.h" of src/ ' + ' '.join(bad[:5]))
ok(not up, 'no folder includes a folder above it ' + ' '.join(up[:5]))
ok(not unnamed, 'every file opens with a comment that names it ' + ' '.join(unnamed[:5]))
rules = re.findall(r'^SC_RULE\((R_\w+),\s*"([^"]+)"', open('src/common/rules.def').read(), re.M)
ok(len(rules) > 30, '%d rules in the catalogue' % len(rules))
session = {f: open('src/session/' + f).read() for f in os.listdir('src/session') if f.endswith('.c')}
wrong = []
for enum, rid in rules:
    where = [f for f, t in session.items() if re.search(r'\b%s\b' % enum, t)]
    if len(where) != 1:
        wrong.append('%s in %s' % (rid, where or 'no file')); continue
    head = session[where[0]].split('*/', 1)[0]
    if rid not in head.replace('\n *', ' '):
        wrong.append('%s: %s does not name it in its header' % (rid, where[0]))
ok(not wrong, 'each rule is checked in one file of src/session/ whose header names it ' + '; '.join(wrong[:6]))
PY
