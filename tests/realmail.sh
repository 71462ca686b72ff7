#!/usr/bin/env bash
# tests/realmail.sh - smtpscope on the traffic of real mail software, on
# loopback only: correct software must give no finding of severity warning
# or error (info, such as reset-after-quit, is fine).
#
# What runs (as root; packages installed when missing, noninteractively):
#   postfix 127.0.0.1:25   loopback-only, no relaying, every local recipient
#                          accepted and discarded, STARTTLS with a
#                          self-signed certificate made here by openssl
#   aiosmtpd 127.0.0.1:8025  python3-aiosmtpd, STARTTLS, AUTH only under TLS
#                          (postfix has no SASL without cyrus/dovecot, so
#                          AUTH goes to aiosmtpd)
#   clients: swaks (plain, pipelined, STARTTLS, AUTH over TLS, a 5 MB
#            message), python3 smtplib (several transactions and an RSET
#            in one session; STARTTLS with TLS 1.3 and 1.2 writing its
#            key log, for --tls-keylog) and a python3 socket client for BDAT, which
#            none of them speaks (RFC 3030 chunks to postfix's CHUNKING:
#            two chunks, a chunk holding <CRLF>.<CRLF>, a pipelined
#            MAIL/RCPT/BDAT LAST)
#   tcpdump -i lo 'host 127.0.0.1 and (tcp port 25 or tcp port 8025)'
#   records it all (other tests may replay traffic on lo meanwhile); then
#   smtpscope --json -q -p 25,8025 -r CAPTURE.
# Everything started here is stopped here (postfix only if it was not
# already running), and postfix's main.cf is put back as it was. SAVE_SAMPLE=1 also writes samples/realmail-postfix.pcap:
# the small postfix sessions (no AUTH among them, no secret: our own
# loopback traffic with a throwaway certificate).
#
# SKIPs when not root, or when the packages cannot be installed.
set -u
cd "$(dirname "$0")/.."
REPO=$PWD
SMTPSCOPE=${SMTPSCOPE:-$PWD/build/san/smtpscope}

skip() { echo "SKIP: realmail: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root (installs postfix, listens on port 25, runs tcpdump)"
[ -x "$SMTPSCOPE" ] || skip "$SMTPSCOPE not built"
command -v tcpdump >/dev/null 2>&1 || skip "tcpdump not installed"

# the Debian package's modules are for the system interpreter, whichever
# python3 comes first in PATH
SYSPY=/usr/bin/python3
[ -x "$SYSPY" ] || SYSPY=python3
need=()
command -v postfix >/dev/null 2>&1 || [ -x /usr/sbin/postfix ] || need+=(postfix)
command -v swaks >/dev/null 2>&1 || need+=(swaks)
"$SYSPY" -c 'import aiosmtpd' >/dev/null 2>&1 || need+=(python3-aiosmtpd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
    echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections 2>/dev/null
    echo "postfix postfix/mailname string localhost" | debconf-set-selections 2>/dev/null
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/tmp/realmail-apt.log 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >>/tmp/realmail-apt.log 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >>/tmp/realmail-apt.log 2>&1 \
            || skip "cannot install ${need[*]} (see /tmp/realmail-apt.log)"
    fi
fi
PATH=$PATH:/usr/sbin

work=$(mktemp -d /tmp/realmail.XXXXXX)
chmod 755 "$work"
tcpdump_pid= aiosmtpd_pid= started_postfix=
cleanup() {
    [ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null
    [ -n "$aiosmtpd_pid" ] && kill "$aiosmtpd_pid" 2>/dev/null
    [ -n "$started_postfix" ] && postfix stop >/dev/null 2>&1
    # the certificate named in main.cf is about to be deleted
    if [ -f "$work/main.cf.orig" ]; then
        cp "$work/main.cf.orig" /etc/postfix/main.cf
        [ -z "$started_postfix" ] && postfix reload >/dev/null 2>&1
    fi
    [ "${KEEP:-0}" = 1 ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
fail=0
pass() { echo "PASS: realmail: $*"; }
failf() { echo "FAIL: realmail: $*"; fail=1; }

# ---- postfix: loopback only, no relay, local mail discarded, STARTTLS
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1 || skip "openssl cannot make a certificate"
chmod 644 "$work/cert.pem" "$work/key.pem"
cp /etc/postfix/main.cf "$work/main.cf.orig" 2>/dev/null
postconf -e \
    "myhostname = mx.smtpscope.test" \
    "inet_interfaces = loopback-only" \
    "inet_protocols = ipv4" \
    "mydestination = localhost, localhost.localdomain, mx.smtpscope.test" \
    "mynetworks = 127.0.0.0/8" \
    "smtpd_relay_restrictions = reject_unauth_destination" \
    "local_recipient_maps =" \
    "local_transport = discard:" \
    "message_size_limit = 20480000" \
    "smtpd_tls_cert_file = $work/cert.pem" \
    "smtpd_tls_key_file = $work/key.pem" \
    "smtpd_tls_security_level = may" \
    "maillog_file = /var/log/postfix-realmail.log" || skip "postconf failed"
if postfix status >/dev/null 2>&1; then
    postfix reload >/dev/null 2>&1
else
    postfix start >/dev/null 2>&1 || skip "postfix does not start"
    started_postfix=1
fi

# ---- aiosmtpd on 127.0.0.1:8025: STARTTLS offered, AUTH only under TLS
cat >"$work/aio.py" <<'EOF'
import asyncio, ssl, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

class Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 OK discarded"

def authenticator(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
c = Controller(Discard(), hostname="127.0.0.1", port=8025, server_hostname="aio.smtpscope.test",
               tls_context=ctx, require_starttls=False, auth_require_tls=True,
               authenticator=authenticator)
c.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(1)
finally:
    c.stop()
EOF
"$SYSPY" "$work/aio.py" "$work/cert.pem" "$work/key.pem" >"$work/aio.log" 2>&1 &
aiosmtpd_pid=$!

# wait for both listeners
# (read from /proc/net/tcp: a probe connection would leave packets behind)
listening() {  # port
    local hex; hex=$(printf ':%04X ' "$1")
    grep -q "0100007F$hex.* 0A " /proc/net/tcp 2>/dev/null
}
up=
for _ in $(seq 50); do
    listening 25 && listening 8025 && { up=1; break; }
    sleep 0.2
done
[ -n "$up" ] || skip "postfix or aiosmtpd not listening: $(tail -n 2 "$work/aio.log")"

# ---- capture and sessions
cap=$work/realmail.pcap
tcpdump -i lo -U -s 0 -B 131072 -w "$cap" 'host 127.0.0.1 and (tcp port 25 or tcp port 8025)' >"$work/tcpdump.log" 2>&1 &
tcpdump_pid=$!
sleep 1.5

S=(swaks --server 127.0.0.1 --from sender@localhost --to rcpt@localhost --helo client.smtpscope.test
   --timeout 30 --silent 2)
sessions=0
run() {  # label, command...
    local label=$1; shift
    if "$@" >"$work/$label.log" 2>&1; then pass "session $label"; else failf "session $label: $(tail -n 3 "$work/$label.log")"; fi
    sessions=$((sessions + 1))
}
run postfix-plain      "${S[@]}" --port 25
run postfix-pipelined  "${S[@]}" --port 25 --pipeline
run postfix-starttls   "${S[@]}" --port 25 --tls
python3 - >"$work/big.eml" <<'EOF'
import sys
sys.stdout.write("Subject: five megabytes\r\nFrom: sender@localhost\r\nTo: rcpt@localhost\r\n\r\n")
line = "".join(chr(33 + (i % 90)) for i in range(76))
for i in range(5 * 1024 * 1024 // 78):
    sys.stdout.write("." + line + "\r\n" if i % 1000 == 0 else line + "\r\n")
EOF
run postfix-5mb        "${S[@]}" --port 25 --pipeline --data "$work/big.eml"
run postfix-multi python3 - <<'EOF'
import smtplib
s = smtplib.SMTP("127.0.0.1", 25, local_hostname="client.smtpscope.test", timeout=30)
s.ehlo()
for i in range(3):
    s.sendmail("sender@localhost", ["rcpt@localhost", "other@localhost"],
               "Subject: transaction %d\r\n\r\nbody %d\r\n.line starting with a dot\r\n" % (i, i))
s.rset()
s.noop()
s.quit()
EOF
run postfix-bdat python3 - <<'EOF'
import socket
s = socket.create_connection(("127.0.0.1", 25), timeout=30)
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline()
        if not line:
            raise SystemExit("connection closed")
        if line[3:4] != b"-":
            return line
def expect(line, code):
    if not line.startswith(code):
        raise SystemExit("unexpected reply %r" % line)
def cmd(c, code=b"250"):
    s.sendall(c + b"\r\n")
    expect(reply(), code)
expect(reply(), b"220")
s.sendall(b"EHLO client.smtpscope.test\r\n")
ehlo = []
while True:
    line = f.readline()
    ehlo.append(line)
    if line[3:4] != b"-":
        break
if not any(b"CHUNKING" in l for l in ehlo):
    raise SystemExit("postfix does not offer CHUNKING")
for i in range(2):
    cmd(b"MAIL FROM:<sender@localhost>")
    cmd(b"RCPT TO:<rcpt@localhost>")
    body = b"Subject: bdat %d\r\n\r\na chunk may hold a dot line:\r\n.\r\nand go on\r\n" % i
    s.sendall(b"BDAT %d\r\n" % len(body) + body)
    expect(reply(), b"250")
    last = b"last chunk\r\n"
    s.sendall(b"BDAT %d LAST\r\n" % len(last) + last)
    expect(reply(), b"250")
body = b"Subject: pipelined bdat\r\n\r\nbody\r\n"
s.sendall(b"MAIL FROM:<sender@localhost>\r\nRCPT TO:<rcpt@localhost>\r\n"
          b"BDAT %d LAST\r\n" % len(body) + body)
for _ in range(3):
    expect(reply(), b"250")
cmd(b"QUIT", b"221")
EOF
# STARTTLS with the client's key log (--tls-keylog below): TLS 1.3, and
# TLS 1.2 forced by the client
for v in 13 12; do
    run "postfix-keylog-tls$v" python3 - "$work/keys-tls$v.log" "$v" <<'EOF'
import smtplib, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.keylog_filename = sys.argv[1]
if sys.argv[2] == "12":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
s = smtplib.SMTP("127.0.0.1", 25, local_hostname="client.smtpscope.test", timeout=30)
s.starttls(context=ctx)
s.ehlo()
s.sendmail("sender@localhost", ["rcpt@localhost", "other@localhost"],
           "Subject: inside TLS 1.%s\r\n\r\nbody\r\n.line starting with a dot\r\n" % sys.argv[2][1])
s.quit()
EOF
done
run aiosmtpd-plain     "${S[@]}" --port 8025
run aiosmtpd-pipelined "${S[@]}" --port 8025 --pipeline
run aiosmtpd-auth-tls  "${S[@]}" --port 8025 --tls --auth PLAIN --auth-user tester --auth-password not-a-secret
sleep 1.5
kill -INT "$tcpdump_pid"; wait "$tcpdump_pid" 2>/dev/null; tcpdump_pid=
drops=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$work/tcpdump.log")
[ "${drops:-0}" -eq 0 ] && pass "tcpdump dropped no packet" \
    || failf "tcpdump dropped ${drops} packets: the capture has holes ($(tr '\n' ' ' <"$work/tcpdump.log"))"

# ---- analysis
"$SMTPSCOPE" --json -q -p 25,8025 -r "$cap" >"$work/out.json" 2>"$work/err"
rc=$?
python3 - "$work/out.json" "$rc" "$sessions" "${drops:-0}" <<'EOF' || fail=1
import json, sys
out, rc, want, drops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
objs = [json.loads(l) for l in open(out) if l.strip()]
sess = [o for o in objs if o["type"] == "session"]
finds = [o for o in objs if o["type"] == "finding"]
bad = [f for f in finds if f.get("severity") in ("warning", "error")]
ok = True
def check(c, what):
    global ok
    print(("PASS: realmail: %s" if c else "FAIL: realmail: %s") % what)
    ok = ok and c
check(rc in (0, 1), "smtpscope exit status %d" % rc)
check(len(sess) == want, "%d sessions analysed (%d run)" % (len(sess), want))
tls = sum(1 for s in sess if s.get("tls"))
check(tls == 4, "%d sessions marked tls (4 STARTTLS sessions run)" % tls)
txn = sum(s.get("transactions_total", 0) for s in sess)
check(txn >= 10, "%d transactions seen" % txn)
bdat = [s for s in sess if "CHUNKING" in [e.split(" ")[0] for e in s.get("extensions", [])]
        and s.get("transactions_total") == 3 and not s.get("tls")
        and all(t.get("result") == "accepted" for t in s["transactions"])]
check(len(bdat) >= 1, "the BDAT session: 3 transactions accepted")
info = sorted(set(f["rule"] for f in finds if f.get("severity") == "info"))
check(not bad, "no warning or error finding (%d findings, info: %s)%s" % (
    len(finds), ", ".join(info) or "none",
    "".join("\n    %s %s frame %s: %s" % (f["severity"], f["rule"], f["frame"], f.get("message", ""))
            for f in bad[:10])))
gaps = [f for f in finds if f["rule"] == "capture-gap"]
if drops == 0:
    check(not gaps, "no capture-gap in a capture without drops (%d reported%s)" % (
        len(gaps), ", first: frame %s: %s" % (gaps[0]["frame"], gaps[0].get("message")) if gaps else ""))
for s in sess:
    print("  session %s %s -> %s tls=%s transactions=%d close=%s" % (
        s["id"], s["client"], s["server"], s.get("tls"), s.get("transactions_total", 0),
        json.dumps(s.get("close"))))
sys.exit(0 if ok else 1)
EOF

# ---- the key-logged STARTTLS sessions decrypted: postfix's replies read,
# no finding of warning or error, the plaintext equal to tshark's
"$SMTPSCOPE" --json -q -p 25,8025 -r "$cap" --tls-keylog "$work/keys-tls13.log" \
    --tls-keylog "$work/keys-tls12.log" --write-streams "$work" >"$work/tls.json" 2>"$work/tls.err"
python3 - "$work" "$cap" <<'EOF' || fail=1
import json, os, re, subprocess, sys
work, cap = sys.argv[1], sys.argv[2]
objs = [json.loads(l) for l in open(os.path.join(work, "tls.json")) if l.strip()]
dec = [o for o in objs if o["type"] == "session" and o.get("tls_decryption", {}).get("state") == "decrypted"]
bad = [f["rule"] for f in objs if f["type"] == "finding" and f["severity"] in ("warning", "error")]
ok = True
def check(c, what):
    global ok
    print(("PASS: realmail: %s" if c else "FAIL: realmail: %s") % what)
    ok = ok and c
check(sorted(s["tls_decryption"]["version"] for s in dec) == ["TLS 1.2", "TLS 1.3"],
      "postfix STARTTLS decrypted with the client's key log (TLS 1.3 and 1.2)")
check(all(s.get("transactions_total") == 1 and s["transactions"][0]["result"] == "accepted" for s in dec),
      "the decrypted sessions: postfix accepted the message inside TLS")
check(not bad and not open(os.path.join(work, "tls.err")).read(),
      "decrypted: no warning or error finding (%s)" % bad)
keys = os.path.join(work, "keys-all.log")
with open(keys, "w") as out:
    for v in ("13", "12"):
        out.write(open(os.path.join(work, "keys-tls%s.log" % v)).read())
for s in dec:
    out = subprocess.run(["tshark", "-r", cap, "-o", "tls.keylog_file:" + keys, "-q", "-z",
                          "follow,tls,raw,%d" % (s["id"] - 1)], capture_output=True, text=True).stdout
    m = re.search(r"^Node 0: .*:(\d+)$", out, re.M)
    nodes = [bytearray(), bytearray()]
    for line in out.split("Node 1:", 1)[-1].split("\n")[1:]:
        if line.strip() and not line.startswith("===="):
            nodes[line.startswith("\t")] += bytes.fromhex(line.strip())
    c2s, s2c = (nodes[1], nodes[0]) if m and m.group(1) == "25" else (nodes[0], nodes[1])
    mine = [open(os.path.join(work, "session-%d.%s.tls" % (s["id"], d)), "rb").read()
            for d in ("c2s", "s2c")]
    check(len(c2s) > 0 and mine == [bytes(c2s), bytes(s2c)],
          "session %d (%s): plaintext equals tshark follow,tls" % (s["id"], s["tls_decryption"]["version"]))
sys.exit(0 if ok else 1)
EOF

if [ "${SAVE_SAMPLE:-0}" = 1 ]; then
    # the small postfix sessions: plain, pipelined, STARTTLS and the
    # multi-transaction one (not the 5 MB one: the longest)
    filt=$(python3 - "$work/out.json" <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
s25 = [o for o in objs if o["type"] == "session" and o["server"].endswith(":25")]
big = max(s25, key=lambda o: o["last_frame"] - o["first_frame"])
print(" or ".join("tcp port %s" % o["client"].rsplit(":", 1)[1] for o in s25 if o is not big))
EOF
)
    tcpdump -r "$cap" -w "$REPO/samples/realmail-postfix.pcap" "$filt" 2>/dev/null \
        && pass "saved samples/realmail-postfix.pcap ($(stat -c %s "$REPO/samples/realmail-postfix.pcap") bytes)"
fi
exit $fail
