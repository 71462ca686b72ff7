#!/usr/bin/env bash
# tests/tui.sh - the ncurses timeline (--tui), driven in tmux.
#
# Runs the real program on the seed samples in a detached tmux pane of
# 100x30 (on a private tmux socket), sends keys, reads the screen back
# with capture-pane and checks what a user would see: the session list,
# the view opening on a finding, n jumping to the next finding, search,
# the ladder showing seed 004's 552 sent in the middle of DATA, the
# evidence message, help, resizing, and the terminal put back as it was
# after q and after SIGINT (same stty settings, alternate screen left,
# cursor shown).
#
# Skips when tmux, the program, the samples or --tui are not available.
set -u
cd "$(dirname "$0")/.."
BIN=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
pass() { echo "PASS: tui: $*"; }
fail() { echo "FAIL: tui: $*"; }
skip() { echo "SKIP: tui: $*"; }

command -v tmux >/dev/null || { skip "tmux not installed"; exit 0; }
[ -x "$BIN" ] || { skip "no program at $BIN"; exit 0; }
SAMPLES=${SAMPLES:-samples}
s000=$(ls "$SAMPLES"/seed000-frontbridge*.pcap 2>/dev/null | head -n 1)
s004=$(ls "$SAMPLES"/seed004-reply-mid-data*.pcap 2>/dev/null | head -n 1)
[ -n "$s000" ] && [ -n "$s004" ] || { skip "seed samples 000 and 004 not found in samples/"; exit 0; }
if "$BIN" --tui -r "$s000" </dev/null 2>&1 >/dev/null | grep -q "not available"; then
    skip "--tui not available in this build"
    exit 0
fi

tmp=$(mktemp -d)
sock="smtpscope-test-$$"
T() { tmux -L "$sock" "$@"; }
cleanup() { T kill-server 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# start ARGS...: runs the program in a fresh pane; records the terminal
# settings before and after, and the exit status, in $tmp.
start() {
    T kill-session -t tui 2>/dev/null
    rm -f "$tmp"/stty.* "$tmp"/done
    local q=""
    for a in "$@"; do q+=" '$a'"; done
    T new-session -d -s tui -x 100 -y 30 \
        "stty -a > $tmp/stty.before; LANG=C.UTF-8 LC_ALL=C.UTF-8 '$BIN' --tui$q; \
         echo EXIT=\$? > $tmp/done; stty -a > $tmp/stty.after; cat $tmp/done; sleep 60"
}
screen() { T capture-pane -t tui -p; }
screen_e() { T capture-pane -t tui -p -e; }
# wait_for REGEX [seconds]: until the screen matches (grep -E).
wait_for() {
    local i
    for ((i = 0; i < ${2:-10} * 10; i++)); do
        screen | grep -Eq -- "$1" && return 0
        sleep 0.1
    done
    return 1
}
keys() { T send-keys -t tui "$@"; sleep 0.4; }
status_line() { screen | sed -n '$p'; }
# The title of the timeline pane: "session ID [POS/N] ...".
tl_title() { screen | grep -E '^ session [0-9]+ \[' | head -n 1; }
# The row under the timeline cursor: reverse video once the timeline has
# the focus (tmux writes SGR 7), underlined before (SGR 4).
cursor_row() {
    screen_e | grep -a -E $'\e\\[([0-9;]*;)?'"$1"'m' | sed $'s/\e\\[[0-9;]*m//g' |
        grep -v -E '^ +id +client' | tail -n 1
}
# stty -a without the window size, which a resize changes on purpose
stty_same() { cmp -s <(grep -v rows "$tmp/stty.before") <(grep -v rows "$tmp/stty.after"); }
alt_on() { T display -p -t tui '#{alternate_on}'; }

# ---- seed 000: list, first finding, n, search, help, evidence, resize, q ----
start -r "$s000" --evidence "$tmp/ev"
if wait_for '^ smtpscope +[0-9]+ sessions?' 20; then
    pass "the screen opens"
else
    fail "the screen did not open"; screen | sed 's/^/    /'; exit 1
fi
if screen | grep -Eq '^ +id +client +server +start +duration +E +W +I' &&
   screen | grep -Eq '^ +[0-9]+ [0-9.]+:[0-9]+ +[0-9.]+:25 '; then
    pass "session list: header and a session to port 25"
else
    fail "session list not shown"; screen | sed 's/^/    /'
fi
[ "$(alt_on)" = 1 ] && pass "alternate screen in use" || fail "alternate screen not in use"
row=$(cursor_row 4)
if echo "$row" | grep -q '!! '; then
    pass "opens on the first session with a finding, cursor on the finding"
else
    fail "opening view not on a finding: '$row'"; screen | sed 's/^/    /'
fi

before=$(tl_title)
keys Tab
keys n
after=$(tl_title)
row=$(cursor_row 7)
if echo "$row" | grep -q '!! ' &&
   { [ "$before" != "$after" ] || status_line | grep -q wrapped; }; then
    pass "n: next finding (${before%%  *} -> ${after%%  *})"
else
    fail "n did not move to another finding: '$before' -> '$after', row '$row'"
fi
keys N
[ "$(tl_title)" = "$before" ] && pass "N: back to the previous finding" ||
    fail "N did not come back: '$(tl_title)' (expected '$before')"

# The search runs forward from the cursor (as in less): the cursor is on
# the first reply-lost finding, which follows the 221 reply, so the first
# match is the reply-out-of-order finding that quotes "reply 221"; n then
# wraps around to the 221 reply itself.
keys / 2 2 1 Enter
row=$(cursor_row 7)
if status_line | grep -q 'search "221"' && echo "$row" | grep -q '!! .*reply 221'; then
    pass "search: / 221 puts the cursor on the next match after the cursor"
else
    fail "search: status '$(status_line)', row '$row'"
fi
keys n
row=$(cursor_row 7)
if echo "$row" | grep -q 'S> 221' && status_line | grep -q 'wrapped'; then
    pass "search: n wraps around to the 221 reply"
else
    fail "search: n: status '$(status_line)', row '$row'"
fi
keys Escape
status_line | grep -q 'search "' && fail "Esc did not end the search" || pass "Esc ends the search"

keys f
if screen | sed -n 1p | grep -Eq '\([0-9]+ with findings shown\)' &&
   ! screen | grep -E '^ +[0-9]+ [^ ]+:[0-9]+ ' | grep -Eq '  \.   \.   \.$'; then
    pass "f: only sessions with findings listed"
else
    fail "f: filter"; screen | sed 's/^/    /'
fi
keys f s
screen | sed -n 1p | grep -q 'sort:start' && pass "s: sorted by start" || fail "s: '$(screen | sed -n 1p)'"
keys s s t
tl_title | grep -q 'UTC time' && screen | grep -Eq '^#[0-9]+ +[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} ' &&
    pass "t: absolute times" || fail "t: '$(tl_title)'"
keys t

keys '?'
screen | grep -q 'timeline - keys' && pass "? shows the help" || fail "no help screen"
keys x
screen | grep -q 'timeline - keys' && fail "help did not close" || pass "any key closes the help"

# e: the bundle of the selected session, written while the screen stays
# open; a second e never overwrites it (copy number .2).
sel=$(tl_title | sed -E 's/^ session ([0-9]+) .*/\1/')
keys e
wait_for '^evidence' 10
st=$(status_line)
pc="$tmp/ev/session-$sel.pcapng" tx="$tmp/ev/session-$sel.txt"
case "$st" in
    "evidence: wrote "*"session-$sel.txt"*"session-$sel.pcapng"*)
        if [ -s "$pc" ] && [ -s "$tx" ]; then
            pass "e: evidence of session $sel written and said so"
        else
            fail "e: status says '$st' but $tmp/ev lacks the bundle: $(ls "$tmp/ev" 2>&1)"
        fi ;;
    *) fail "e: status line '$st'" ;;
esac
if [ -s "$tx" ] && grep -q "^smtpscope .* evidence: session $sel\$" "$tx" &&
   grep -q '^SHA-256: *[0-9a-f]\{64\}$' "$tx" && grep -q '^what the findings rest on:' "$tx" &&
   grep -q '^#[0-9]' "$tx"; then
    pass "e: the .txt has the header, the citations and the transcript"
else
    fail "e: .txt incomplete"; sed 's/^/    /' "$tx" 2>/dev/null | head -20
fi
if command -v tshark >/dev/null; then
    range=$(sed -n 's/^frames: *#\([0-9]*\)-#\([0-9]*\) .*(\([0-9]*\) frames.*/\1 \2 \3/p' "$tx")
    read -r fa fb fn <<<"$range"
    got=$(tshark -r "$pc" 2>/dev/null | wc -l)
    want=$(tshark -r "$s000" -Y "frame.number>=${fa:-0} && frame.number<=${fb:-0} && tcp" 2>/dev/null | wc -l)
    if [ -n "$fn" ] && [ "$got" -gt 0 ] && [ "$got" -eq "$want" ] && [ "$got" -eq "$fn" ]; then
        pass "e: the .pcap holds the session's $got frames (tshark)"
    else
        fail "e: .pcap has $got frames, capture range #$fa-#$fb has $want, .txt says $fn"
    fi
else
    skip "e: tshark not installed, frames not counted"
fi
keys e
wait_for '^evidence' 10
st=$(status_line)
if echo "$st" | grep -q "session-$sel\.2\.txt" && [ -s "$tmp/ev/session-$sel.2.pcapng" ] &&
   cmp -s "$pc" "$tmp/ev/session-$sel.2.pcapng"; then
    pass "e again: a second copy, the first left alone"
else
    fail "e again: status '$st'; $(ls "$tmp/ev" 2>&1 | tr '\n' ' ')"
fi
if screen | sed -n 1p | grep -q '^ smtpscope' && ! screen | grep -q 'smtpscope: '; then
    pass "e: the screen stays intact (nothing written over it)"
else
    fail "e: screen disturbed"; screen | sed 's/^/    /'
fi

T resize-window -t tui -x 80 -y 24
sleep 0.5
if [ "$(screen | wc -l)" -eq 24 ] && screen | sed -n 1p | grep -q '^ smtpscope' &&
   tl_title | grep -q 'session' && [ -n "$(status_line)" ] &&
   ! screen | awk 'length($0) > 80 { bad = 1 } END { exit !bad }'; then
    pass "resize to 80x24: title, list, timeline and status line redrawn"
else
    fail "resize to 80x24"; screen | sed 's/^/    /'
fi
T resize-window -t tui -x 132 -y 40
sleep 0.5
if screen | sed -n 1p | grep -q '^ smtpscope' && tl_title | grep -q 'session' &&
   [ "$(screen | wc -l)" -eq 40 ]; then
    pass "resize to 132x40"
else
    fail "resize to 132x40"; screen | sed 's/^/    /'
fi

keys q
if wait_for '^EXIT=' 5; then
    grep -q 'EXIT=[01]$' "$tmp/done" && pass "q quits ($(cat "$tmp/done"))" ||
        fail "q: $(cat "$tmp/done")"
    sleep 0.2
    stty_same && pass "q: terminal settings restored" ||
        fail "q: stty differs: $(diff "$tmp/stty.before" "$tmp/stty.after" | tr '\n' ' ')"
    [ "$(alt_on)" = 0 ] && pass "q: alternate screen left" || fail "q: still in the alternate screen"
    [ "$(T display -p -t tui '#{cursor_flag}')" = 1 ] && pass "q: cursor visible" ||
        fail "q: cursor hidden"
else
    fail "q did not quit"; screen | sed 's/^/    /'
fi

# ---- seed 004: the 552 sent in the middle of DATA, in the ladder ----
start -r "$s004"
if wait_for '^ smtpscope' 20; then
    keys Tab / 5 5 2 Enter
    keys l
    line=$(screen | grep -E '552' | head -n 1)
    if tl_title | grep -q ladder && echo "$line" | grep -q '┃' &&
       echo "$line" | grep -q '<═'; then
        pass "ladder: the 552 crosses the client's unfinished DATA"
    else
        fail "ladder: 552 row is '$line'"; screen | sed 's/^/    /'
    fi
    # the lane turns thick after the 354 (content under way), not before
    l354=$(screen | grep -E '^#[0-9]+ .* 354 ' | head -n 1)
    if [ -n "$l354" ] && ! echo "$l354" | grep -q '┃' &&
       [ "$(screen | grep -E '^#[0-9]+ ' | grep -c '┃')" -ge 2 ]; then
        pass "ladder: the client lane is thick from the 354 on, not before"
    else
        fail "ladder: DATA lane: 354 row '$l354'"; screen | sed 's/^/    /'
    fi
    # a finding wraps in its lane: the whole message, its citation last,
    # every row of it between the two lanes
    if screen | grep -q '┃ !! error reply-during-data (server): the server replied 552' &&
       screen | grep -Eq '┃ .*\[RFC 5321 §4\.1\.1\.4\] +│$'; then
        pass "ladder: a finding wraps in its lane, its citation shown"
    else
        fail "ladder: the finding is not wrapped in its lane"; screen | sed 's/^/    /'
    fi
    keys l
    tl_title | grep -q transcript && pass "l toggles back to the transcript" ||
        fail "l: '$(tl_title)'"
else
    fail "seed 004: the screen did not open"
fi

# ---- seed 001: a run of identical replies shown once, then counted ----
s001=$(ls "$SAMPLES"/seed001-spambot-blast*.pcap 2>/dev/null | head -n 1)
if [ -z "$s001" ]; then
    skip "seed 001 not found: the run of 500 replies not checked"
else
    start -r "$s001"
    if wait_for '^ smtpscope' 20; then
        keys Tab; keys G
        n500=$(screen | grep -c 'S> 500 5.5.2 Error: command not recognized')
        if [ "$n500" = 1 ] && screen | grep -Eq '^#10 .* S> \.\.\. the same line 9 more times \(#10\)$'; then
            pass "transcript: ten identical 500 replies shown once, then counted"
        else
            fail "transcript: run of 500 replies ($n500 shown)"; screen | sed 's/^/    /'
        fi
        keys l
        n500=$(screen | grep -c '500 5.5.2 Error: command not recognized')
        if [ "$n500" = 1 ] && screen | grep -q '\.\.\. the same line 9 more times (#10)'; then
            pass "ladder: the run of 500 replies counted too"
        else
            fail "ladder: run of 500 replies ($n500 shown)"; screen | sed 's/^/    /'
        fi
    else
        fail "seed 001: the screen did not open"
    fi
fi

# ---- 80x24: the key bar whole, a finding's detail view, resize ----
start -r "$s004"
T resize-window -t tui -x 80 -y 24 2>/dev/null
if wait_for '^ smtpscope +[0-9]+ sessions?' 20; then
    sleep 0.3
    bar=$(status_line | sed 's/ *$//')
    case "$bar" in
        "q quit ?help Tab pane Enter open n/N finding /search s sort l ladder")
            pass "80x24: the key bar fits whole ($bar)" ;;
        *) fail "80x24: key bar '$bar'" ;;
    esac
    keys Tab; keys n; keys Enter
    if wait_for '^What happened:' 3 && screen | grep -q '^Lines and frames:' &&
       screen | grep -Eq '^(error|warning|info) [a-z-]+ \((client|server|either)\) at #[0-9]+'; then
        pass "80x24: Enter on a finding opens its detail (message, lines, explanation)"
    else
        fail "80x24: no detail view"; screen | sed 's/^/    /'
    fi
    long=$(screen | awk 'length($0) > 80')
    [ -z "$long" ] && pass "80x24: the detail view is wrapped to the width" ||
        fail "80x24: detail wider than the screen: $long"
    keys Down; keys Down; keys Down; keys Down; keys Down; keys Down; keys Down; keys Down
    screen | grep -q '^What to tell the vendor:' && pass "80x24: the detail scrolls to the vendor text" ||
        { fail "80x24: no vendor text after scrolling"; screen | sed 's/^/    /'; }
    keys Down; keys Down; keys Down; keys Down; keys Down; keys Down; keys Down; keys Down
    screen | grep -q '^What the standard says:' && pass "80x24: the detail ends with the RFC text" ||
        { fail "80x24: no RFC text"; screen | sed 's/^/    /'; }
    keys c
    screen | grep -q '^What happened:' && fail "80x24: a key did not close the detail" ||
        pass "80x24: any other key closes the detail"
    keys G
    before=$(cursor_row 7)
    T resize-window -t tui -x 80 -y 12 2>/dev/null; sleep 0.5
    after=$(cursor_row 7)
    if [ -n "$before" ] && [ "$before" = "$after" ]; then
        pass "resize to 80x12: the selected line stays in view"
    else
        fail "resize: selected line '$before' became '$after'"; screen | sed 's/^/    /'
    fi
    T resize-window -t tui -x 80 -y 24 2>/dev/null; sleep 0.3
else
    fail "80x24: the screen did not open"
fi

# ---- the screenshots in docs/screenshots are what the program shows ----
if SMTPSCOPE="$BIN" scripts/tui-screenshots.sh "$tmp/shots" >/dev/null 2>&1; then
    for f in timeline-80x24.txt finding-detail-80x24.txt ladder-80x24.txt repeats-80x24.txt; do
        if cmp -s "$tmp/shots/$f" "docs/screenshots/$f"; then
            pass "docs/screenshots/$f is what the timeline shows"
        else
            fail "docs/screenshots/$f differs from the timeline (make it again: scripts/tui-screenshots.sh)"
            diff "docs/screenshots/$f" "$tmp/shots/$f" | head -n 10 | sed 's/^/    /'
        fi
    done
else
    fail "scripts/tui-screenshots.sh failed"
fi

# ---- SIGINT restores the terminal ----
keys C-c
if wait_for '^EXIT=' 5; then
    pass "SIGINT ends the timeline ($(cat "$tmp/done"))"
    sleep 0.2
    stty_same && pass "SIGINT: terminal settings restored" ||
        fail "SIGINT: stty differs"
    [ "$(alt_on)" = 0 ] && pass "SIGINT: alternate screen left" ||
        fail "SIGINT: still in the alternate screen"
else
    fail "SIGINT did not end the timeline"; screen | sed 's/^/    /'
fi
exit 0
