"""tests/tls/oracle.py - tshark as the oracle of the TLS tests
(tests/tls/check.py, tests/tls/exim_check.py): the decrypted streams
(`follow,tls`) and the frames of a display filter, with a key log, on a
capture where one port carries SMTP with STARTTLS and another implicit
TLS."""
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
