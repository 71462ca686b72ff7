#!/usr/bin/env bash
# tests/redact_leaks.sh - --redact holds on captures that once let message
# content through (tests/redact/genleak.py: offloaded segments with an IP
# length of 0 or wrapped, a session evicted mid-DATA, a mid-stream capture
# missing its first client bytes, a stray SYN|ACK, content after a refused
# DATA, BDAT bytes beyond the chunk, rewritten sequence numbers). Each
# capture carries the marker LEAKMARK in every content line; no output
# (text report, JSON, evidence .txt and packet file, pcapng as by default
# and pcap) may hold it, and each evidence packet file must be written
# (the masked packets are there) and read by tshark when it is installed.
cd "$(dirname "$0")/.." && . tests/lib.sh redact_leaks python3

nomark() { ! grep -aqr LEAKMARK "$@"; }

for c in tso0 tsowrap tsosmall v6tso0 evict midgap synack refused bdat untrusted; do
    python3 tests/redact/genleak.py "$c" "$tmp/$c.pcap" || { bad "$c: generator"; continue; }
    check "$c: the capture holds the marker" grep -aq LEAKMARK "$tmp/$c.pcap"
    opts=()
    [ "$c" = evict ] && opts=(--max-sessions 4)
    "$bin" "${opts[@]}" --redact --evidence "$tmp/$c.ev" -r "$tmp/$c.pcap" >"$tmp/$c.txt" 2>"$tmp/$c.err"
    "$bin" "${opts[@]}" --redact --evidence "$tmp/$c.evp" --evidence-format pcap \
        -r "$tmp/$c.pcap" >/dev/null 2>>"$tmp/$c.err"
    "$bin" "${opts[@]}" --redact --json -r "$tmp/$c.pcap" >"$tmp/$c.json" 2>>"$tmp/$c.err"
    "$bin" "${opts[@]}" --redact --ladder -r "$tmp/$c.pcap" >"$tmp/$c.ladder" 2>>"$tmp/$c.err"
    check "$c: no marker in the report" nomark "$tmp/$c.txt" "$tmp/$c.ladder" "$tmp/$c.err"
    check "$c: no marker in the JSON" nomark "$tmp/$c.json"
    check "$c: no marker in the evidence .txt" nomark "$tmp/$c.ev"/*.txt "$tmp/$c.evp"/*.txt
    check "$c: no marker in the evidence .pcapng" nomark "$tmp/$c.ev"/
    check "$c: no marker in the evidence .pcap" nomark "$tmp/$c.evp"/
    # Without --redact the same bundle does carry it (the test sees it).
    "$bin" "${opts[@]}" --evidence "$tmp/$c.plain" -r "$tmp/$c.pcap" >/dev/null 2>&1
    check "$c: the unredacted pcap holds the marker" grep -aqr LEAKMARK "$tmp/$c.plain"/
    for ext in pcapng pcap; do
        d=$tmp/$c.ev; [ $ext = pcap ] && d=$tmp/$c.evp
        np=$(ls "$d"/*.$ext 2>/dev/null | wc -l)
        nt=$(ls "$d"/*.txt 2>/dev/null | wc -l)
        check "$c: a .$ext for each session ($np of $nt)" test "$np" -eq "$nt" -a "$nt" -gt 0
        if command -v tshark >/dev/null; then
            bad=0
            for f in "$d"/*.$ext; do
                tshark -r "$f" >/dev/null 2>&1 || bad=1
            done
            check "$c: tshark reads every .$ext" test $bad -eq 0
        fi
    done
done
