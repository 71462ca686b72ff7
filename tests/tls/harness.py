#!/usr/bin/env python3
"""tests/tls/harness.py - one SMTP session inside TLS on loopback, for
tests/tls.sh: a scripted SMTP server (python3 ssl) and a client that
writes the NSS key log (SSLContext.keylog_filename), in one process.

    harness.py --port P --cert C --key K --keylog F --scenario S
               [--implicit] [--tls12] [--ciphers OPENSSL-LIST]
               [--s-client TLS13-SUITE [--keyupdate]] [--lines N] [--plain]

--implicit: TLS from the first byte (as on port 465); otherwise EHLO,
STARTTLS, then EHLO again inside TLS. Scenarios (what happens inside TLS):
  clean        MAIL, RCPT, DATA with a two-line message, QUIT, 221
  lose-rcpt    MAIL, RCPT, RCPT pipelined: the server never answers the
               second RCPT (reply-lost), then DATA goes on
  reply-in-data the server answers 250 while the content is still coming,
               before the end-of-data dot (reply-during-data)
  no-221       the server closes after QUIT without a 221
  big          a message of 60 kB (records across many segments)
  pipe-unadvertised  the EHLO reply inside TLS drops PIPELINING (the one
               before TLS had it) and the client pipelines MAIL and RCPT
  auth         AUTH PLAIN inside TLS (the password: AUTH-SECRET-INSIDE-TLS)
  bad-cert     the client does not trust the certificate: the handshake
               fails after the ServerHello (an alert, then the close)
Every MAIL carries SIZE=, which only the EHLO reply inside TLS lists.
--lines: the big message's lines (default 1000, 60 bytes each); --plain:
no STARTTLS (the same dialogue in the clear, for measuring the cost of
decryption).
--s-client: the client is `openssl s_client -starttls smtp` with that
TLS 1.3 suite and its -keylogfile (Python's ssl cannot choose TLS 1.3
suites); --keyupdate: it sends a KeyUpdate that requests the server's
after the EHLO inside TLS (its "K" command), so both directions change
keys. Commands are sent in lower case: s_client reads a line
starting with Q or R as its own command. Scenario clean only.
Exit status 0 when the session ran as scripted.
"""
import argparse
import socket
import ssl
import sys
import threading
import time

EHLO_PLAIN = b"250-localhost\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
EHLO_TLS = (b"250-localhost\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN\r\n"
            b"250 8BITMIME\r\n")
EHLO_TLS_NOPIPE = b"250-localhost\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"


def readline(f):
    line = f.readline()
    if not line:
        raise EOFError("peer closed")
    return line


def server(lsock, a, errors):
    try:
        conn, _ = lsock.accept()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        if a.implicit:
            conn = ctx.wrap_socket(conn, server_side=True)
        f = conn.makefile("rb")
        conn.sendall(b"220 localhost ESMTP scripted\r\n")
        tls = a.implicit
        while True:
            line = readline(f)
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                if not tls:
                    conn.sendall(EHLO_PLAIN)
                else:
                    conn.sendall(EHLO_TLS_NOPIPE if a.scenario == "pipe-unadvertised" else EHLO_TLS)
            elif verb == b"STAR":
                conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                conn = ctx.wrap_socket(conn, server_side=True)
                f = conn.makefile("rb")
                tls = True
            elif verb == b"AUTH":
                conn.sendall(b"235 2.7.0 Authentication successful\r\n")
            elif verb == b"MAIL":
                conn.sendall(b"250 2.1.0 Ok\r\n")
            elif verb == b"RCPT":
                if a.scenario == "lose-rcpt" and b"lost" in line:
                    continue
                conn.sendall(b"250 2.1.5 Ok\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                first = True
                while True:
                    l = readline(f)
                    if first and a.scenario == "reply-in-data":
                        conn.sendall(b"250 2.0.0 Ok: queued early\r\n")
                    first = False
                    if l == b".\r\n":
                        break
                if a.scenario != "reply-in-data":
                    conn.sendall(b"250 2.0.0 Ok: queued\r\n")
            elif verb == b"QUIT":
                if a.scenario != "no-221":
                    conn.sendall(b"221 2.0.0 Bye\r\n")
                break
            else:
                conn.sendall(b"502 5.5.2 Error: command not recognized\r\n")
        f.close()
        conn.close()
    except Exception as e:  # reported by the main thread
        if a.scenario != "bad-cert":
            errors.append("server: %r" % e)


def reply(f):
    """One (possibly multi-line) reply."""
    out = b""
    while True:
        line = readline(f)
        out += line
        if line[3:4] != b"-":
            return out


def client(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.keylog_filename = a.keylog
    if a.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if a.ciphers:
        ctx.set_ciphers(a.ciphers)
    if a.scenario == "bad-cert":
        ctx.verify_mode = ssl.CERT_REQUIRED     # and no CA: the handshake fails
    s = socket.create_connection(("127.0.0.1", a.port))
    if a.implicit:
        s = ctx.wrap_socket(s, server_hostname="localhost")
    f = s.makefile("rb")
    reply(f)
    if not a.implicit and not a.plain:
        s.sendall(b"EHLO client.example\r\n")
        reply(f)
        s.sendall(b"STARTTLS\r\n")
        reply(f)
        if a.scenario == "bad-cert":
            try:
                ctx.wrap_socket(s, server_hostname="localhost")
            except ssl.SSLError:
                f.close()
                s.close()
                return
            raise RuntimeError("the handshake did not fail")
        s = ctx.wrap_socket(s, server_hostname="localhost")
        f = s.makefile("rb")
    s.sendall(b"EHLO client.example\r\n")
    reply(f)
    if a.scenario == "auth":
        import base64
        s.sendall(b"AUTH PLAIN " + base64.b64encode(b"\0user\0AUTH-SECRET-INSIDE-TLS") + b"\r\n")
        reply(f)
    if a.scenario == "lose-rcpt":
        s.sendall(b"MAIL FROM:<a@example.com> SIZE=40\r\nRCPT TO:<b@example.com>\r\n"
                  b"RCPT TO:<lost@example.com>\r\n")
        reply(f)
        reply(f)
        s.settimeout(0.5)
        try:
            reply(f)
        except (socket.timeout, OSError):
            pass
        s.settimeout(None)
        f = s.makefile("rb")
    elif a.scenario == "pipe-unadvertised":
        s.sendall(b"MAIL FROM:<a@example.com> SIZE=40\r\nRCPT TO:<b@example.com>\r\n")
        reply(f)
        reply(f)
    else:
        s.sendall(b"MAIL FROM:<a@example.com> SIZE=40\r\n")
        reply(f)
        s.sendall(b"RCPT TO:<b@example.com>\r\n")
        reply(f)
    s.sendall(b"DATA\r\n")
    reply(f)
    if a.scenario == "big":
        body = b"".join(b"line %06d of a long message, padded to some length ....\r\n" % i
                        for i in range(a.lines))
    else:
        body = b"Subject: test\r\n\r\nhello inside TLS\r\n"
    if a.scenario == "reply-in-data":
        s.sendall(body[:20])
        reply(f)          # the early 250
        time.sleep(0.05)
        s.sendall(body[20:] + b".\r\n")
    else:
        s.sendall(body + b".\r\n")
        reply(f)
    s.sendall(b"QUIT\r\n")
    if a.scenario != "no-221":
        reply(f)
    else:
        s.settimeout(2)
        try:
            f.read()
        except (socket.timeout, OSError, ssl.SSLError):
            pass
    f.close()
    s.close()


def s_client(a):
    import subprocess
    args = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % a.port, "-starttls", "smtp",
            "-crlf", "-tls1_3", "-ciphersuites", a.s_client, "-keylogfile", a.keylog]
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    lines = ["EHLO client.example"] + (["K"] if a.keyupdate else []) + [
        "mail FROM:<a@example.com>", "rcpt TO:<b@example.com>", "data",
        "Subject: test", "", "hello inside TLS", ".", "quit"]
    time.sleep(0.5)
    for l in lines:
        p.stdin.write(l.encode() + b"\n")
        p.stdin.flush()
        time.sleep(0.2)
    time.sleep(0.3)
    p.stdin.close()
    p.wait(10)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--keylog", required=True)
    p.add_argument("--scenario", default="clean")
    p.add_argument("--implicit", action="store_true")
    p.add_argument("--tls12", action="store_true")
    p.add_argument("--ciphers")
    p.add_argument("--s-client")
    p.add_argument("--keyupdate", action="store_true")
    p.add_argument("--lines", type=int, default=1000)
    p.add_argument("--plain", action="store_true")
    a = p.parse_args()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", a.port))
    lsock.listen(1)
    errors = []
    t = threading.Thread(target=server, args=(lsock, a, errors))
    t.start()
    try:
        s_client(a) if a.s_client else client(a)
    except Exception as e:
        errors.append("client: %r" % e)
    t.join(10)
    lsock.close()
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
