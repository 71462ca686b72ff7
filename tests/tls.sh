#!/usr/bin/env bash
# tests/tls.sh - SMTP inside TLS decrypted with --tls-keylog, against
# tshark as the oracle, on loopback only.
#
# What runs: tests/tls/harness.py (a scripted python3 ssl SMTP server and a
# client writing its NSS key log) for ten sessions on one random high
# port (and the next one for implicit TLS), captured by tcpdump -i lo:
#   1 clean, TLS 1.3 (STARTTLS)    5 implicit TLS 1.3 (ClientHello first)
#   2 clean, TLS 1.2 AES-128-GCM   6 lose-rcpt: a pipelined RCPT unanswered
#   3 clean, TLS 1.2 ChaCha20      7 reply-in-data (TLS 1.2)
#   4 a 60 kB message, TLS 1.3     8 no-221: closed after QUIT, no reply
#   9 openssl s_client, TLS 1.3 ChaCha20-Poly1305, a KeyUpdate each way
#  10 openssl s_client, TLS 1.3 AES-128-GCM
#  11 pipe-unadvertised: the EHLO inside TLS, not the one before, counts
#  12 AUTH PLAIN inside TLS (no auth-plaintext, the credentials never shown)
#  13 bad-cert: the client rejects the certificate, the handshake fails
# Then tests/tls/check.py: every decrypted stream equals tshark's
# `follow,tls` byte for byte (-o tls.keylog_file), the seeded violations are
# found in the frames tshark shows for them, the clean sessions have no
# finding of warning or error; the live run (smtpscope -i lo started
# before the sessions with their key logs still empty: read again as they
# grow) decrypts every session as the file run does; the capture with
# the key logs injected (editcap --inject-secrets) is decrypted without the
# option; and without the option, with an empty key
# log, with another session's key, with a wrong key and with a damaged
# record, the stated note and no false finding.
#
# SKIPs when not root (tcpdump), or when tcpdump, tshark, openssl or
# python3's ssl module is missing.
set -u
cd "$(dirname "$0")/.."
SMTPSCOPE=${SMTPSCOPE:-$PWD/build/san/smtpscope}

skip() { echo "SKIP: tls: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root (tcpdump on lo)"
[ -x "$SMTPSCOPE" ] || skip "$SMTPSCOPE not built"
for t in tcpdump tshark openssl python3; do
    command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done
python3 -c 'import ssl; ssl.SSLContext().keylog_filename' >/dev/null 2>&1 \
    || skip "python3 ssl without keylog_filename"

work=$(mktemp -d /tmp/smtpscope-tls.XXXXXX)
tcpdump_pid= live_pid=
cleanup() {
    [ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null
    [ -n "$live_pid" ] && kill "$live_pid" 2>/dev/null
    [ "${KEEP:-0}" = 1 ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1 \
    || skip "openssl cannot make a certificate"
port=$((30000 + RANDOM % 20000)) port2=$((port + 1))   # port2: implicit TLS
chmod 755 "$work"
tcpdump -i lo -U -s 0 -B 16384 -w "$work/cap.pcap" "host 127.0.0.1 and (tcp port $port or tcp port $port2)" \
    >"$work/tcpdump.log" 2>&1 &
tcpdump_pid=$!
# Live: the key logs exist, empty, when smtpscope starts; each session's
# lines are appended while it runs (Python's ssl and s_client append).
NSESSIONS=13
live_keys=()
for i in $(seq 1 $NSESSIONS); do
    : >"$work/k$i.log"
    live_keys+=(--tls-keylog "$work/k$i.log")
done
"$SMTPSCOPE" -i lo -q --json -p "$port,$port2" "${live_keys[@]}" \
    "host 127.0.0.1 and (tcp port $port or tcp port $port2)" >"$work/live.json" 2>"$work/live.err" &
live_pid=$!
sleep 1.5

H=(python3 tests/tls/harness.py --cert "$work/cert.pem" --key "$work/key.pem")
n=0
session() {  # label, harness options...
    n=$((n + 1))
    local label=$1; shift
    local p=$port
    [ "$label" = implicit13 ] && p=$port2
    if "${H[@]}" --port "$p" --keylog "$work/k$n.log" "$@" 2>"$work/h$n.err"; then
        echo "PASS: tls: session $n ($label) ran"
    else
        echo "FAIL: tls: session $n ($label): $(tail -n 2 "$work/h$n.err")"
    fi
}
session clean13    --scenario clean
session clean12    --scenario clean --tls12 --ciphers ECDHE-RSA-AES128-GCM-SHA256
session chacha12   --scenario clean --tls12 --ciphers ECDHE-RSA-CHACHA20-POLY1305
session big13      --scenario big
session implicit13 --scenario clean --implicit
session lose13     --scenario lose-rcpt
session early12    --scenario reply-in-data --tls12
session no221      --scenario no-221
session chacha13   --s-client TLS_CHACHA20_POLY1305_SHA256 --keyupdate
session aes128-13  --s-client TLS_AES_128_GCM_SHA256
session pipe13     --scenario pipe-unadvertised
session auth13     --scenario auth
session badcert13  --scenario bad-cert
sleep 1
kill -INT "$tcpdump_pid"; wait "$tcpdump_pid" 2>/dev/null; tcpdump_pid=
kill -INT "$live_pid"; wait "$live_pid"; live_rc=$? live_pid=
[ "$n" -eq "$NSESSIONS" ] || echo "FAIL: tls: $n sessions run, NSESSIONS says $NSESSIONS"
# (standard error: the capture's statistics and the run's summary only)
[ "$live_rc" -le 1 ] && ! grep -v -e "packets captured" -e " sessions (" "$work/live.err" | grep -q . ||
    echo "FAIL: tls: live run: exit $live_rc, $(head -c 300 "$work/live.err")"

python3 tests/tls/check.py "$SMTPSCOPE" "$work" "$port" "$port2" "$n"
