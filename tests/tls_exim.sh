#!/usr/bin/env bash
# tests/tls_exim.sh - SMTP inside TLS with Exim (GnuTLS) as the server on
# loopback, decrypted with the key log Exim itself writes (server side),
# against tshark as the oracle.
#
# Exim runs from the private root scripts/setup.sh unpacks it into
# (EXIM_ROOT, default /opt/smtpscope-exim: Exim and Postfix conflict as
# Debian packages), with a configuration of its own (-C) on two random
# high ports of 127.0.0.1, the second one implicit TLS
# (tls_on_connect_ports). GnuTLS writes SSLKEYLOGFILE only when Exim keeps
# that variable (keep_environment) and the file is under its spool
# directory. Sessions, captured by tcpdump -i lo:
#   1 swaks, STARTTLS, TLS 1.3
#   2 python3 smtplib, STARTTLS, TLS 1.2 forced by the client
#   3 python3 smtplib, implicit TLS
#   4 python3 smtplib, STARTTLS, then "EHLO" without a domain inside TLS
#     (seeded: helo-no-domain), then a proper EHLO and a message
# Then tests/tls/exim_check.py: each decrypted stream equals tshark's
# `follow,tls` byte for byte with Exim's key log, the clean sessions have
# no warning or error, helo-no-domain is in the frame tshark shows.
#
# SKIPs when not root, or when tcpdump, tshark, swaks, python3 or the
# unpacked Exim is missing or cannot start.
set -u
cd "$(dirname "$0")/.."
SMTPSCOPE=${SMTPSCOPE:-$PWD/build/san/smtpscope}
EXIM_ROOT=${EXIM_ROOT:-/opt/smtpscope-exim}
EXIM=$EXIM_ROOT/usr/sbin/exim4

skip() { echo "SKIP: tls_exim: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root (tcpdump on lo, Exim's daemon)"
[ -x "$SMTPSCOPE" ] || skip "$SMTPSCOPE not built"
for t in tcpdump tshark swaks openssl python3; do
    command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done
[ -x "$EXIM" ] || skip "no Exim in $EXIM_ROOT (scripts/setup.sh unpacks it)"
"$EXIM" -bV -C /dev/null >/dev/null 2>&1 || skip "$EXIM cannot run: $("$EXIM" -bV -C /dev/null 2>&1 | head -n 1)"

work=$(mktemp -d /tmp/smtpscope-exim.XXXXXX)
tcpdump_pid= exim_pid=
cleanup() {
    [ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null
    [ -n "$exim_pid" ] && kill "$exim_pid" 2>/dev/null
    [ "${KEEP:-0}" = 1 ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

chmod 755 "$work"
mkdir -p "$work/spool" "$work/log"
chown Debian-exim "$work/spool" "$work/log"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1 \
    || skip "openssl cannot make a certificate"
chmod 644 "$work/key.pem" "$work/cert.pem"
port=$((30000 + RANDOM % 20000)) port2=$((port + 1))
cat >"$work/exim.conf" <<CONF
primary_hostname = mx.example
spool_directory = $work/spool
log_file_path = $work/log/%slog
keep_environment = SSLKEYLOGFILE
local_interfaces = 127.0.0.1
daemon_smtp_ports = $port : $port2
tls_on_connect_ports = $port2
tls_advertise_hosts = *
tls_certificate = $work/cert.pem
tls_privatekey = $work/key.pem
queue_only = true
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept
begin routers
discard:
  driver = redirect
  data = :blackhole:
CONF
keys=$work/spool/keys.log
tcpdump -i lo -U -s 0 -B 16384 -w "$work/cap.pcap" "host 127.0.0.1 and (tcp port $port or tcp port $port2)" \
    >"$work/tcpdump.log" 2>&1 &
tcpdump_pid=$!
SSLKEYLOGFILE=$keys "$EXIM" -C "$work/exim.conf" -bdf >"$work/exim.out" 2>&1 &
exim_pid=$!
sleep 1.5
kill -0 "$exim_pid" 2>/dev/null || skip "Exim did not start: $(head -c 300 "$work/exim.out") $(tail -n 2 "$work/log/paniclog" 2>/dev/null)"

n=0
ran() {  # label, command status
    n=$((n + 1))
    if [ "$2" -eq 0 ]; then
        echo "PASS: tls_exim: session $n ($1) ran"
    else
        echo "FAIL: tls_exim: session $n ($1): $(tail -n 2 "$work/c$n.err")"
    fi
}
swaks --server "127.0.0.1:$port" --tls --tls-protocol tlsv1_3 --from a@example.com \
    --to b@example.com >"$work/c1.out" 2>"$work/c1.err"
ran swaks-tls13 $?
client() {  # mode: python3 smtplib against Exim
    python3 - "$1" "$port" "$port2" <<'PY'
import smtplib, ssl, sys
mode, port, port2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if mode == "tls12":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
if mode == "implicit":
    s = smtplib.SMTP_SSL("127.0.0.1", port2, context=ctx, timeout=10)
else:
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    s.ehlo("client.example")
    s.starttls(context=ctx)
if mode == "helo-no-domain":
    s.docmd("EHLO")
s.ehlo("client.example")
s.sendmail("a@example.com", ["b@example.com"], "Subject: t\r\n\r\nbody\r\n")
s.quit()
PY
}
client tls12 >"$work/c2.out" 2>"$work/c2.err"; ran python-tls12 $?
client implicit >"$work/c3.out" 2>"$work/c3.err"; ran python-implicit $?
client helo-no-domain >"$work/c4.out" 2>"$work/c4.err"; ran python-helo-no-domain $?
sleep 1
kill -INT "$tcpdump_pid"; wait "$tcpdump_pid" 2>/dev/null; tcpdump_pid=
kill "$exim_pid"; wait "$exim_pid" 2>/dev/null; exim_pid=

python3 tests/tls/exim_check.py "$SMTPSCOPE" "$work" "$port" "$port2" "$n"
