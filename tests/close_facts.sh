#!/usr/bin/env bash
# tests/close_facts.sh - the facts a report states about how sessions
# ended, on a capture made by tests/close_facts.py (docs/interface.md,
# docs/json-schema.md):
#  - a server that answers the end of data with 521 and closes: "closed:
#    server fin after end-of-data" (not "after data", which says the
#    message was cut), JSON close.after "end-of-data"; the transaction
#    rejected with that reply;
#  - a session ended by QUIT, 221 and the server's FIN: "after quit";
#  - each session's last frame (the header's range, JSON last_frame);
#  - a message answered 250: accepted, with that reply and its 20 content
#    bytes, text and JSON;
#  - the text report in order of session start, also with -j 2, though
#    the first to start ends last;
#  - a close in the middle of the content stays "after data"
#    (samples/seed004-reply-mid-data.pcap).
cd "$(dirname "$0")/.." && . tests/lib.sh close_facts python3

python3 tests/close_facts.py "$tmp" || bad "tests/close_facts.py failed"
cap=$tmp/close.pcap
"$bin" --color never -r "$cap" >"$tmp/t" 2>&1
"$bin" --color never -j 2 -r "$cap" >"$tmp/tj" 2>&1
"$bin" --json -r "$cap" >"$tmp/j" 2>&1
block() { awk -v s="session $1 " 'index($0, s) == 1 {p = 1} p && /^$/ {exit} p' "$tmp/t"; }

check "521 to the end of data, then the server's FIN: closed after end-of-data" \
    grep -q '^  closed: server fin after end-of-data ' <(block 2)
check "ended by QUIT: closed after quit" grep -q '^  closed: server fin after quit ' <(block 1)
check "last frames in the headers (#1-#36, #5-#21)" \
    test -n "$(grep 'frames 19 (#1-#36)' <(block 1))" -a -n "$(grep 'frames 17 (#5-#21)' <(block 2))"
check "the 521: rejected with that reply" \
    grep -q -- '-> rejected, 20 content bytes: 521 5.7.1 closing' <(block 2)
check "answered 250: accepted, 20 content bytes, that reply" \
    grep -q -- '-> accepted, 20 content bytes: 250 2.0.0 Ok: queued as 7Q' <(block 1)
check "text in order of start: session 1 (ends last) before session 2" \
    test "$(grep -o '^session [0-9]*' "$tmp/t" | tr '\n' ' ')" = "session 1 session 2 "
check "-j 2: the same report" diff -q "$tmp/t" "$tmp/tj"
check "JSON: close, last frame and transactions of both sessions" python3 - "$tmp/j" <<'PY'
import json, sys
ss = {o["id"]: o for o in map(json.loads, open(sys.argv[1])) if o["type"] == "session"}
a, b = ss[1], ss[2]
ok = (a["close"] == {"by": "server", "how": "fin", "after": "quit"} and a["last_frame"] == 36 and
      a["transactions"][0]["result"] == "accepted" and
      a["transactions"][0]["reply"] == "250 2.0.0 Ok: queued as 7Q" and
      a["transactions"][0]["content_bytes"] == 20 and
      b["close"] == {"by": "server", "how": "fin", "after": "end-of-data"} and b["last_frame"] == 21 and
      b["transactions"][0]["result"] == "rejected" and b["transactions"][0]["reply"] == "521 5.7.1 closing")
sys.exit(0 if ok else 1)
PY
"$bin" --color never -r samples/seed004-reply-mid-data.pcap >"$tmp/s4" 2>&1
check "a close in the middle of the content: after data" \
    grep -q '^  closed: server fin after data ' "$tmp/s4"
