"""tests/tls/oracle.py - what the TLS tests (tests/tls/check.py,
tests/tls/exim_check.py) share: tshark as the oracle (the decrypted
streams of `follow,tls` and the frames of a display filter, with a key
log, on a capture where one port carries SMTP with STARTTLS and another
implicit TLS), the PASS:/FAIL: lines, a file read whole."""
import re
import subprocess


class Tshark:
    def __init__(self, cap, keylog, port, port2):
        self.cap, self.keylog, self.port, self.port2 = cap, keylog, str(port), str(port2)

    def run(self, *args, keylog=None):
        base = ["tshark", "-r", self.cap, "-o", "tls.keylog_file:" + (keylog or self.keylog),
                "-d", "tcp.port==%s,smtp" % self.port, "-d", "tcp.port==%s,tls" % self.port2]
        return subprocess.run(base + list(args), capture_output=True, text=True).stdout

    def follow(self, stream):
        """tshark's follow,tls of tcp.stream stream: (client bytes, server bytes)."""
        out = self.run("-q", "-z", "follow,tls,raw,%d" % stream)
        node0, node1 = bytearray(), bytearray()
        m = re.search(r"^Node 0: .*:(\d+)$", out, re.M)
        body = out.split("Node 1:", 1)[-1].split("\n", 1)[-1]
        for line in body.splitlines():
            if line.startswith("====") or not line.strip():
                continue
            if line.startswith("\t"):
                node1 += bytes.fromhex(line.strip())
            else:
                node0 += bytes.fromhex(line.strip())
        # node 0 is the endpoint whose decrypted bytes came first
        if m and m.group(1) in (self.port, self.port2):
            return bytes(node1), bytes(node0)
        return bytes(node0), bytes(node1)

    def frames(self, stream, filt):
        out = self.run("-Y", "tcp.stream==%d && (%s)" % (stream, filt),
                       "-T", "fields", "-e", "frame.number")
        return [int(x) for x in out.split()]


class Checks:
    """check(cond, name, detail) prints PASS:/FAIL: suite: name; failed
    says whether any failed."""
    def __init__(self, suite):
        self.suite, self.failed = suite, False

    def __call__(self, cond, name, detail=""):
        if cond:
            print("PASS: %s: %s" % (self.suite, name))
        else:
            self.failed = True
            print("FAIL: %s: %s%s" % (self.suite, name, ": " + detail if detail else ""))


def read(path):
    try:
        return open(path, "rb").read()
    except FileNotFoundError:
        return b""
