#!/usr/bin/env bash
# tests/split.sh - several files given together are one capture
# (interface.md, -r): every sample cut into 2, 3 and 9 files (editcap -c)
# gives the analysis of the whole file.
#
# For each sample of samples/ (the rotated chain is one already; the
# unsupported link type has nothing to compare): the JSON of the whole
# against the JSON of the pieces given together, object by object, frame
# numbers aside (frames are named "file#number" then; the same name is
# taken out of messages) and the capture file of each session aside:
# same sessions with the same ids, findings, transactions, close facts and
# byte counts, same totals. Also with the pieces in reverse order on the
# command line, with -j 2, and with --evidence: the evidence pcap of each
# session holds the same packets as the whole file's. Then a generated
# capture (bench/gen.c) with sessions across every cut, -r without its
# argument, a missing file that looks like one, and the pcapng with two
# link types against tshark (each TCP stream's frames and bytes).
#
# One PASS/FAIL line per check; SKIP without editcap, tshark or python3.
set -u
cd "$(dirname "$0")/.."
SMTPSCOPE=${SMTPSCOPE:-$PWD/build/san/smtpscope}
if [ ! -x "$SMTPSCOPE" ]; then echo "SKIP: split: $SMTPSCOPE not built"; exit 0; fi
for t in editcap python3; do
    command -v $t >/dev/null 2>&1 || { echo "SKIP: split: $t not installed"; exit 0; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The matrix runs the optimised build when there is one (hundreds of runs);
# the sanitizer build reads the generated capture and the cases below.
python3 - "${SMTPSCOPE_REL:-$SMTPSCOPE}" "$tmp" <<'EOF'
import glob, json, os, re, subprocess, sys
bin_, tmp = sys.argv[1], sys.argv[2]
fails = 0

def check(cond, what):
    global fails
    print(("PASS: split: %s" if cond else "FAIL: split: %s") % what)
    fails += not cond

NAME = re.compile(r"[^\s()]*#\d+")
def norm(o):
    """An object with frame numbers, the session's file and the run's
    random id (uid, run) taken out."""
    o = dict(o)
    for k in ("frame", "first_frame", "last_frame", "file", "uid", "run"):
        o.pop(k, None)
    if "message" in o:
        o["message"] = re.sub(r"frame \S+?(?=[),:;]| |$)", "frame N", NAME.sub("#N", o["message"]))
    if "evidence" in o:
        o["evidence"] = [{k: v for k, v in e.items() if k != "frame"} for e in o["evidence"]]
    if "suppressed" in o:
        o["suppressed"] = {"count": o["suppressed"]["count"]}
    if o.get("type") == "summary":
        o.pop("files", None)
    return o

def run(args):
    p = subprocess.run([bin_, "--json", "-q"] + args, capture_output=True)
    objs = [json.loads(l) for l in p.stdout.decode("utf-8").splitlines() if l]
    return p.returncode, objs, p.stderr.decode("utf-8", "replace")

sys.path.insert(0, "tests/evidence")
from pcapcheck import ng_packets, ng_read, pcap_read  # noqa: E402


def packets(path):
    """The packets of an evidence file: (timestamp, bytes) of each, in
    order. pcapng's section header (source files and their hashes) and
    packet options (the frame's name in its own file) differ between the
    whole capture and its parts on purpose, so only packets are compared."""
    if open(path, "rb").read(4) == b"\x0a\x0d\x0d\x0a":
        return [(p[1], p[2]) for p in ng_packets(ng_read(path))]
    return pcap_read(path)[1]

def cut(src, n, k, outdir):
    per = max(1, -(-n // k))
    os.makedirs(outdir)
    ext = ".pcapng" if open(src, "rb").read(4) == b"\x0a\x0d\x0d\x0a" else ".pcap"
    subprocess.run(["editcap", "-c", str(per), src, os.path.join(outdir, "part" + ext)],
                   capture_output=True)
    return sorted(glob.glob(os.path.join(outdir, "part*")))

samples = sorted(f for f in glob.glob("samples/*.pcap*")
                 if re.search(r"\.(pcap|pcapng|pcap\.gz)$", f)
                 and "unsupported-linktype" not in f and "rotated-chain" not in f)
check(len(samples) > 40, "%d samples to cut" % len(samples))
ev_sessions = 0
for s in samples:
    name = os.path.basename(s)
    rc0, whole, _ = run(["-r", s])
    want = [norm(o) for o in whole]
    n = whole[-1]["packets"] if whole and whole[-1].get("type") == "summary" else 0
    for k in (2, 3, 9):
        parts = cut(s, n, k, os.path.join(tmp, "%s.%d" % (name, k)))
        if len(parts) < 2:
            continue
        rc, got, err = run(["-r"] + parts)
        same = rc == rc0 and [norm(o) for o in got] == want
        detail = ""
        if not same:
            a = [json.dumps(norm(o), sort_keys=True) for o in whole]
            b = [json.dumps(norm(o), sort_keys=True) for o in got]
            diff = [x for x in b if x not in a][:1] + [x for x in a if x not in b][:1]
            detail = " (exit %d/%d) %s %s" % (rc, rc0, err.strip()[:200], " | ".join(diff)[:600])
        check(same, "%s in %d files: the whole file's analysis%s" % (name, len(parts), detail))
        if k == 2:
            continue
        rc, rev, _ = run(["-r"] + parts[::-1])
        check(rc == rc0 and [norm(o) for o in rev] == [norm(o) for o in got], "%s in %d files, reverse order: the same" % (name, len(parts)))
        if k == 3:
            rc, j2, _ = run(["-j", "2", "-r"] + parts)
            check(rc == rc0 and [norm(o) for o in j2] == [norm(o) for o in got], "%s in %d files, -j 2: the same" % (name, len(parts)))
            continue
        # --evidence: each session's pcap holds its packets from every file
        ids = [o["id"] for o in whole if o.get("type") == "session"]
        if not ids:
            continue
        e1, e2 = os.path.join(tmp, "ev1-" + name), os.path.join(tmp, "ev2-" + name)
        subprocess.run([bin_, "-q", "--evidence", e1, "-r", s], capture_output=True)
        subprocess.run([bin_, "-q", "--evidence", e2, "-r"] + parts, capture_output=True)
        ok = all(os.path.exists(os.path.join(e2, "session-%d.pcapng" % i)) and
                 packets(os.path.join(e1, "session-%d.pcapng" % i)) ==
                 packets(os.path.join(e2, "session-%d.pcapng" % i)) for i in ids
                 if os.path.exists(os.path.join(e1, "session-%d.pcapng" % i)))
        spans = [o for o in got if o.get("type") == "session" and
                 o["first_frame"].split("#")[0] != o["last_frame"].split("#")[0]]
        ev_sessions += len(spans)
        check(ok, "%s in %d files: every evidence pcap holds the whole file's packets "
              "(%d sessions, %d across files)" % (name, len(parts), len(ids), len(spans)))
check(ev_sessions > 10, "evidence compared for %d sessions that cross a file boundary" % ev_sessions)

# the names: file#number, as Wireshark numbers the frame in that file
parts = sorted(glob.glob(os.path.join(tmp, "seed000-frontbridge-pipelining.pcap.3", "part*")))
_, got, _ = run(["-r"] + parts)
f = [o for o in got if o.get("type") == "finding"]
ok = bool(f)
for o in f:
    file_, num = o["frame"].split("#")
    out = subprocess.run(["tshark", "-r", os.path.join(os.path.dirname(parts[0]), file_),
                          "-Y", "frame.number == %s && smtp" % num], capture_output=True, text=True).stdout
    ok = ok and bool(out.strip())
check(ok, "a finding's frame names a file and an SMTP frame of it: %s" %
      ", ".join(o["frame"] for o in f))
sys.exit(1 if fails else 0)
EOF
rc=$?

# A generated capture with hundreds of sessions across each cut.
gen=$tmp/gen
if cc -O1 -o "$gen" bench/gen.c -lm 2>/dev/null; then
    "$gen" -o "$tmp/g.pcap" --bytes 2M --sessions 60 --max-message 6K >/dev/null 2>&1
    mkdir "$tmp/g"; editcap -c 350 "$tmp/g.pcap" "$tmp/g/part.pcap" >/dev/null 2>&1
    n=$(ls "$tmp/g" | wc -l)
    "$SMTPSCOPE" -q --json -r "$tmp/g.pcap" | tail -1 | sed 's/"files":[0-9]*,//; s/"run":"[0-9a-f]*",//' >"$tmp/g1"
    "$SMTPSCOPE" -q --json -r "$tmp"/g/part* | tail -1 | sed 's/"files":[0-9]*,//; s/"run":"[0-9a-f]*",//' >"$tmp/g2"
    "$SMTPSCOPE" -q --json --separate -r "$tmp"/g/part* | tail -1 >"$tmp/g3"
    if [ "$n" -ge 9 ] && cmp -s "$tmp/g1" "$tmp/g2" && ! cmp -s "$tmp/g1" "$tmp/g3"; then
        echo "PASS: split: generated capture in $n files: the whole file's totals ($(head -c 160 "$tmp/g1"))"
    else
        echo "FAIL: split: generated capture in $n files: $(head -c 300 "$tmp/g2") vs $(head -c 300 "$tmp/g1")"; rc=1
    fi
else
    echo "SKIP: split: bench/gen.c does not build"
fi

# A chain whose parts come as they may: one from standard input, one gzip.
facts() { grep -o '"rule":"[^"]*"\|"id":[0-9]*\|"frames":[0-9]*\|"bytes":{[^}]*}\|"result":"[^"]*"'; }
gzip -c samples/rotated-chain.pcap1 >"$tmp/r1.pcap.gz"
"$SMTPSCOPE" -q --json -r samples/rotated-chain.pcap samples/rotated-chain.pcap1 \
    samples/rotated-chain.pcap2 2>&1 | facts >"$tmp/c1"
"$SMTPSCOPE" -q --json -r samples/rotated-chain.pcap2 - "$tmp/r1.pcap.gz" \
    <samples/rotated-chain.pcap 2>&1 | facts >"$tmp/c2"
if cmp -s "$tmp/c1" "$tmp/c2" && grep -q pipelining-unadvertised "$tmp/c2"; then
    echo "PASS: split: a chain from standard input, gzip and a file, in any order: the same"
else
    echo "FAIL: split: chain from stdin and gzip: $(diff "$tmp/c1" "$tmp/c2" | head -c 400)"; rc=1
fi

# Usage: -r without its argument, a missing file that looks like one.
"$SMTPSCOPE" -r >/dev/null 2>"$tmp/e1"; r1=$?
"$SMTPSCOPE" -r samples/clean.pcapng samples/no-such.pcap >/dev/null 2>"$tmp/e2"; r2=$?
"$SMTPSCOPE" -q -r samples/clean.pcapng host 192.0.2.10 or net 10.0.0.0/8 or net fe80::/10 >/dev/null 2>"$tmp/e3"; r3=$?
"$SMTPSCOPE" -q -r samples/clean.pcapng "net 192.0.2.0/24" >/dev/null 2>>"$tmp/e3" || r3=1
if [ $r1 = 2 ] && grep -q -- '-r needs a capture file' "$tmp/e1" && [ "$(wc -l <"$tmp/e1")" = 1 ]; then
    echo "PASS: split: -r alone: $(cat "$tmp/e1")"
else echo "FAIL: split: -r alone: status $r1: $(head -c 200 "$tmp/e1")"; rc=1; fi
if [ $r2 = 2 ] && grep -q 'no-such.pcap: No such file' "$tmp/e2" && [ "$(wc -l <"$tmp/e2")" = 1 ]; then
    echo "PASS: split: a missing file is not a filter: $(cat "$tmp/e2")"
else echo "FAIL: split: missing file: status $r2: $(head -c 200 "$tmp/e2")"; rc=1; fi
if [ $r3 = 0 ] && [ ! -s "$tmp/e3" ]; then
    echo "PASS: split: a filter with addresses and networks is still a filter"
else echo "FAIL: split: filter with addresses and networks: status $r3: $(head -c 200 "$tmp/e3")"; rc=1; fi

# Two link types in one pcapng: each TCP stream as tshark reads it.
if command -v tshark >/dev/null 2>&1; then
    "$SMTPSCOPE" -q --json -r samples/two-link-types.pcapng >"$tmp/two.json" 2>"$tmp/two.err"
    tshark -r samples/two-link-types.pcapng -T fields -e tcp.stream -e frame.number \
        -e tcp.srcport -e tcp.len 2>/dev/null >"$tmp/two.tsv"
    if python3 - "$tmp/two.json" "$tmp/two.tsv" <<'EOF'
import json, sys
sess = [o for o in map(json.loads, open(sys.argv[1])) if o["type"] == "session"]
streams = {}
for line in open(sys.argv[2]):
    st, fr, sport, ln = line.split()
    s = streams.setdefault(st, {"frames": [], "c2s": 0, "s2c": 0})
    s["frames"].append(int(fr))
    s["s2c" if sport == "25" else "c2s"] += int(ln)
want = sorted((min(s["frames"]), max(s["frames"]), len(s["frames"]), s["c2s"], s["s2c"])
              for s in streams.values())
got = sorted((o["first_frame"], o["last_frame"], o["frames"], o["bytes"]["c2s"], o["bytes"]["s2c"])
             for o in sess)
print(("PASS" if got == want else "FAIL") +
      ": split: two link types: sessions as tshark's streams (first, last, frames, bytes) %s%s"
      % (got, "" if got == want else " vs tshark " + str(want)))
sys.exit(got != want)
EOF
    then :; else rc=1; fi
    "$SMTPSCOPE" -q --json -j 2 -r samples/two-link-types.pcapng >"$tmp/two-j2.json" 2>&1
    # the run's random id (uid, run) differs from run to run
    norun() { sed 's/"uid":"[0-9a-f]*-/"uid":"-/g; s/"run":"[0-9a-f]*"/"run":""/' "$1"; }
    if cmp -s <(norun "$tmp/two.json") <(norun "$tmp/two-j2.json"); then
        echo "PASS: split: two link types, -j 2: the same"
    else
        echo "FAIL: split: two link types, -j 2 differs: $(diff "$tmp/two.json" "$tmp/two-j2.json" | head -c 300)"; rc=1
    fi
else
    echo "SKIP: split: two link types: tshark not installed"
fi
exit $rc
