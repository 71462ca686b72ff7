#!/usr/bin/env bash
# scripts/tui-screenshots.sh - the text screenshots of the timeline at
# 80x24 in docs/screenshots/, made again from the program and the samples.
#
# Usage: scripts/tui-screenshots.sh [OUTDIR]   (default docs/screenshots)
# Environment: SMTPSCOPE (default build/smtpscope).
#
# Runs `smtpscope --tui` in a detached tmux pane of 80x24 (a private tmux
# socket), sends the keys a user would and writes what the pane shows
# (tmux capture-pane -p, trailing blanks removed):
#   timeline-80x24.txt        seed 004: the transcript at its first finding
#   finding-detail-80x24.txt  seed 004: Enter on that finding
#   ladder-80x24.txt          seed 004: the ladder, the findings wrapped
#                             in the lane
#   repeats-80x24.txt         seed 001: a bot's ten 500 replies counted
# tests/tui.sh compares these files with a fresh run.
# Exit status: 0 written, 1 tmux or the program missing, or no screen.
set -u
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
bin=${SMTPSCOPE:-$PWD/build/smtpscope}
command -v tmux >/dev/null || { echo "tui-screenshots: tmux not installed" >&2; exit 1; }
[ -x "$bin" ] || { echo "tui-screenshots: no program at $bin" >&2; exit 1; }
mkdir -p "$out" || exit 1
sock="smtpscope-shots-$$"
T() { tmux -L "$sock" "$@"; }
trap 'T kill-server 2>/dev/null' EXIT

# open FILE: the timeline of FILE in a fresh 80x24 pane, once drawn
open_tui() {
    T kill-session -t shot 2>/dev/null
    T new-session -d -s shot -x 80 -y 24 \
        "LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color '$bin' --tui -r '$1'; sleep 60"
    for _ in $(seq 50); do
        T capture-pane -t shot -p 2>/dev/null | grep -q '^ smtpscope ' && return 0
        sleep 0.1
    done
    echo "tui-screenshots: the timeline of $1 did not open" >&2
    exit 1
}
keys() { T send-keys -t shot "$@"; sleep 0.4; }
shot() { T capture-pane -t shot -p | sed 's/ *$//' > "$out/$1" || exit 1; }

open_tui samples/seed004-reply-mid-data.pcap
keys Tab; keys n
shot timeline-80x24.txt
keys Enter
shot finding-detail-80x24.txt
keys Escape; keys l
shot ladder-80x24.txt

open_tui samples/seed001-spambot-blast.pcap
keys Tab; keys G
shot repeats-80x24.txt
echo "tui-screenshots: written in $out"
