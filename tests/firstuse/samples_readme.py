#!/usr/bin/env python3
"""samples_readme.py BIN - each sample samples/README.md lists fires the rules its
findings column names (and "none" fires nothing but capture facts), and
none of those it says it does not fire ("no bare-lf, no x-y" or
"(no a-b or c-d ...)": from "no" to the next ";" or ")"); run by
tests/docs.sh."""
import json, re, subprocess, sys, os
bin_ = sys.argv[1]
rules = set(subprocess.run([bin_, '--rules'], capture_output=True, text=True).stdout.split())
bad = 0; n = 0
for line in open('samples/README.md'):
    m = re.match(r'^\| (\S+\.(?:pcap|pcapng|pcap\.gz)\S*) \|(.*)\| (.*) \|$', line)
    if not m: continue
    f, claim = m.group(1), m.group(3)
    path = 'samples/' + f
    if not os.path.exists(path):
        print("FAIL: samples/README.md names %s, which is not in samples/" % f); bad += 1; continue
    negated_text = ' '.join(re.findall(r'\bno\b([^;)]*)', claim))
    denied = set(w for w in re.findall(r'[a-z0-9]+(?:-[a-z0-9]+)+', negated_text) if w in rules)
    named = set(w for w in re.findall(r'[a-z0-9]+(?:-[a-z0-9]+)+', re.sub(r'\bno\b[^;)]*', '', claim)) if w in rules)
    caps = [path] + sorted(p for p in ('samples/' + x for x in os.listdir('samples')) if p.startswith(path) and p != path and p[len(path):].isdigit())
    out = subprocess.run([bin_, '--json', '-q', '-r'] + caps, capture_output=True, text=True).stdout
    fired = set(json.loads(l)['rule'] for l in out.splitlines() if l.startswith('{"type":"finding"'))
    n += 1
    missing = named - fired
    if denied & fired:
        print("FAIL: samples/README.md: %s is said not to fire %s, which it does" % (f, ', '.join(sorted(denied & fired)))); bad += 1
    elif missing:
        print("FAIL: samples/README.md: %s is said to fire %s, which it does not (it fires: %s)" % (f, ', '.join(sorted(missing)), ', '.join(sorted(fired)) or 'nothing')); bad += 1
    elif claim.strip().startswith('none') and fired - {'capture-truncated', 'capture-gap', 'capture-midstream'}:
        print("FAIL: samples/README.md: %s is said to fire none, it fires %s" % (f, ', '.join(sorted(fired)))); bad += 1
    else:
        print("PASS: samples/README.md: %s fires what it says%s" % (f, (' (' + ', '.join(sorted(named)) + ')') if named else ''))
