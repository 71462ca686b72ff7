#!/usr/bin/env bash
# tests/reasm_oracle.sh - TCP reassembly checked against Wireshark.
#
# For every capture in $CORPUS (pcap, pcapng, .gz) and every TCP stream on
# an SMTP port (25, 465, 587, 2525) in it, the client and server bytes
# written by `smtpscope -q --write-streams DIR -r FILE` must equal what
# `tshark -qz follow,tcp,raw,N` shows. One PASS/FAIL line per stream, then
# a summary line. Streams are paired by content: a stream passes when some
# session of the same capture has exactly its two byte sequences.
#
# Bytes missing from the capture: tshark's raw follow writes a note
# "[N bytes missing in capture file]" where smtpscope writes nothing (gap
# bytes are reported, never written); the note is dropped before comparing.
# A stream without any payload is a SKIP (nothing to compare). A stream
# with a hole that still differs is a SKIP naming the hole, not a FAIL:
# the two tools may legitimately place a late retransmission differently.
#
# Reordered ACKs: every capture is checked again after tests/ack_ahead.py
# moved each peer's ACK ahead of the data it acknowledges, one segment
# ("one") and cumulative ACKs covering several ("cumulative"), and so are
# the samples (samples/*.pcap*). The bytes of every SMTP stream must still
# equal tshark's follow of the transformed capture. ORACLE_TRANSFORMS
# chooses (default "none one cumulative").
#
# Sessions smtpscope marks seq_untrusted (rewritten sequence numbers) that
# differ are a SKIP: tshark orders bytes by sequence number, smtpscope then
# by capture order. Samples smtpscope refuses on purpose are left out.
#
# Sessions with reasm_untaken (a segment beyond the receiver's MSS whose
# unacknowledged part a later segment replaced, see "Overlap" in
# src/reasm/reasm.c) that differ are a SKIP: tshark keeps the first copy,
# smtpscope the one the receiver's ACKs show it took.
#
# Needs tshark and python3; skips without them or without the corpus.
set -u
cd "$(dirname "$0")/.."
BIN=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
CORPUS=${CORPUS:-$PWD/../shared/corpus}

if ! command -v tshark >/dev/null 2>&1; then echo "SKIP: reasm-oracle: tshark not installed"; exit 0; fi
if ! command -v python3 >/dev/null 2>&1; then echo "SKIP: reasm-oracle: python3 not installed"; exit 0; fi
if [ ! -d "$CORPUS" ]; then echo "SKIP: reasm-oracle: no corpus at $CORPUS"; exit 0; fi
if [ ! -x "$BIN" ]; then echo "SKIP: reasm-oracle: $BIN not built"; exit 0; fi
if ! "$BIN" --help 2>&1 | grep -q -- '--write-streams'; then
    echo "SKIP: reasm-oracle: $BIN has no --write-streams option"; exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR_ORACLE=$tmp

find "$CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \) | sort > "$tmp/corpus"
[ -s "$tmp/corpus" ] || { echo "SKIP: reasm-oracle: no captures in $CORPUS"; exit 0; }

# The inputs: name, file, name in the corpus manifest (empty: none).
transforms=${ORACLE_TRANSFORMS:-none one cumulative}
mkdir -p "$tmp/moved"
: > "$tmp/files"
k=0
{ sed "s|^|corpus\t|" "$tmp/corpus"; find samples -maxdepth 1 -type f \( -name '*.pcap' -o -name '*.pcap.gz' -o -name '*.pcapng' \) | sort | sed "s|^|sample\t|"; } |
while IFS=$'\t' read -r kind f; do
    if [ "$kind" = corpus ]; then base=${f#"$CORPUS"/}; man=$base; else base=$f; man=; fi
    for t in $transforms; do
        if [ "$t" = none ]; then
            [ "$kind" = corpus ] && printf '%s\t%s\t%s\n' "$base" "$f" "$man" >> "$tmp/files"
            continue
        fi
        k=$((k + 1))
        out="$tmp/moved/$k.pcap"
        # classic pcap first (gzip, pcapng); files editcap cannot write as
        # pcap (several link types) are left out of the transforms
        editcap -F pcap "$f" "$tmp/moved/in.pcap" >/dev/null 2>&1 || continue
        # a sample smtpscope refuses on purpose (an unsupported link
        # type: exit 2, tests/capture.sh) has no streams to compare
        "$BIN" -q -r "$tmp/moved/in.pcap" >/dev/null 2>&1; rc=$?; [ "$rc" -ge 2 ] && [ "$rc" -ne 4 ] && continue
        python3 tests/ack_ahead.py "$t" "$tmp/moved/in.pcap" "$out" >/dev/null 2>&1 || continue
        printf '%s\t%s\t%s\n' "$base [ACKs ahead: $t]" "$out" "$man" >> "$tmp/files"
    done
done

pass=0 fail=0 skip=0
while IFS=$'\t' read -r name f man; do
    in=$f
    case "$f" in
    *.gz) in="$tmp/input"; gzip -dc "$f" > "$in" 2>/dev/null || { echo "FAIL: $name: cannot gunzip"; fail=$((fail + 1)); continue; } ;;
    esac
    out="$tmp/streams"
    rm -rf "$out"; mkdir -p "$out"
    "$BIN" -q --json --write-streams "$out" -r "$f" > "$tmp/json" 2> "$tmp/stderr"
    rc=$?
    # 4: a damaged capture, analysed up to the damage (the streams so
    # far are compared; tshark stops there too)
    if [ "$rc" -ge 2 ] && [ "$rc" -ne 4 ]; then
        echo "FAIL: $name: smtpscope exited $rc: $(head -c 200 "$tmp/stderr")"; fail=$((fail + 1)); continue
    fi
    # The TCP streams, by tshark's numbering, followed in one pass. The
    # manifest says how many streams a corpus file has, which saves a
    # tshark run (its start-up dominates); streams not on an SMTP port are
    # left out by the comparison below.
    nstreams=
    [ -n "$man" ] && nstreams=$(awk -F'\t' -v f="$man" '$1 == f && $10 ~ /^[0-9]+$/ { print $10 }' "$CORPUS/MANIFEST.tsv" 2>/dev/null)
    if [ -n "$nstreams" ]; then
        seq 0 $((nstreams - 1)) > "$tmp/ids"
    else
        tshark -n -r "$in" -T fields -e tcp.stream \
            -Y 'tcp.port == 25 || tcp.port == 465 || tcp.port == 587 || tcp.port == 2525' \
            2>/dev/null | sort -n -u > "$tmp/ids"
    fi
    [ -s "$tmp/ids" ] || continue
    zargs=()
    while IFS= read -r id; do zargs+=(-z "follow,tcp,raw,$id"); done < "$tmp/ids"
    tshark -n -r "$in" -q "${zargs[@]}" > "$tmp/follow" 2>/dev/null
    while IFS= read -r line; do
        id=${line%% *}; result=${line#* }
        case "$result" in
        PASS*) echo "PASS: $name stream $id (${result#PASS })"; pass=$((pass + 1)) ;;
        SKIP*) echo "SKIP: $name stream $id: ${result#SKIP }"; skip=$((skip + 1)) ;;
        *)     echo "FAIL: $name stream $id: ${result#FAIL }"; fail=$((fail + 1)) ;;
        esac
    done < <(python3 - "$tmp/follow" "$out" "$tmp/json" <<'PY'
import json, os, re, sys
follow, outdir, jsonl = sys.argv[1], sys.argv[2], sys.argv[3]
# Sessions whose sequence numbers smtpscope found rewritten (all zero,
# say, by an anonymiser): it follows their bytes in capture order, which
# tshark cannot, so tshark is no oracle for them (tests/golden.sh checks
# them, samples/zero-seq.pcap).
untrusted = set()
untaken = {}
for line in open(jsonl, encoding="utf-8", errors="replace"):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("type") == "session" and o.get("seq_untrusted"):
        untrusted.add("session-%s" % o.get("id"))
    if o.get("type") == "session" and o.get("reasm_untaken"):
        untaken["session-%s" % o.get("id")] = o["reasm_untaken"]
SMTP_PORTS = {"25", "465", "587", "2525"}

def streams(path):
    """tshark's follow blocks: (stream id, client bytes, server bytes, missing)."""
    cur = None
    for line in open(path, encoding="ascii", errors="replace"):
        line = line.rstrip("\n")
        m = re.match(r"Filter: tcp\.stream eq (\d+)", line)
        if m:
            cur = [int(m.group(1)), bytearray(), bytearray(), False, False]
            continue
        if cur is None:
            continue
        if line.startswith("====="):
            if cur[4]:
                yield cur[0], bytes(cur[1]), bytes(cur[2]), cur[3]
                cur = None
            continue
        if line.startswith("Node "):
            port = line.rsplit(":", 1)[-1].strip()
            cur.append(port)
            if line.startswith("Node 1:"):
                cur[4] = True
                # Not a stream of this capture, or not on an SMTP port.
                if not SMTP_PORTS.intersection(cur[5:]):
                    cur = None
            continue
        if not cur[4] or not line.strip() or line.startswith("Node "):
            continue
        side = 2 if line.startswith("\t") else 1
        try:
            chunk = bytes.fromhex(line.strip())
        except ValueError:
            continue
        # tshark writes a hole as a note in the byte stream; smtpscope
        # writes nothing for gap bytes, so the note is left out here.
        if re.fullmatch(rb"\[\d+ bytes missing in capture file\]\x00?", chunk):
            cur[3] = True
            continue
        cur[side] += chunk

sessions = []
for n in sorted({n.rsplit(".", 1)[0] for n in os.listdir(outdir)}):
    try:
        sessions.append((n, open(os.path.join(outdir, n + ".c2s"), "rb").read(),
                         open(os.path.join(outdir, n + ".s2c"), "rb").read()))
    except OSError:
        pass

def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))

for sid, c, s, missing in streams(follow):
    if not c and not s:
        print(sid, "SKIP no payload in either direction")
        continue
    hit = [n for n, mc, ms in sessions if (mc, ms) in ((c, s), (s, c))]
    if hit:
        print(sid, "PASS " + hit[0] + (", bytes missing in the capture left out by both" if missing else ""))
        continue
    best = None
    for n, mc, ms in sessions:
        score = first_diff(mc, c) + first_diff(ms, s)
        if best is None or score > best[0]:
            best = (score, n, mc, ms)
    if best is None:
        why = "no session written (tshark: %d client, %d server bytes)" % (len(c), len(s))
    else:
        _, n, mc, ms = best
        why = "closest %s: client %d vs tshark %d bytes (first difference at %d), server %d vs %d (at %d)" % (
            n, len(mc), len(c), first_diff(mc, c), len(ms), len(s), first_diff(ms, s))
    if best is not None and best[1] in untrusted:
        print(sid, "SKIP sequence numbers rewritten in the capture (smtpscope follows capture order); " + why)
        continue
    if best is not None and best[1] in untaken:
        print(sid, "SKIP %d bytes of a segment beyond the receiver's MSS not taken: its ACKs "
              "followed a later copy, which smtpscope keeps and tshark does not; %s"
              % (untaken[best[1]], why))
        continue
    print(sid, ("SKIP bytes missing in the capture; " if missing else "FAIL ") + why)
PY
)
done < "$tmp/files"
echo "reasm-oracle: $pass streams matched, $fail differ, $skip skipped, of $((pass + fail + skip))"
[ "$fail" -eq 0 ]
