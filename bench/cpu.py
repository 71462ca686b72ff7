#!/usr/bin/env python3
# bench/cpu.py - runs a command and prints its wall time, the CPU time of
# the process itself and that of the children it waited for (smtpscope -j:
# the reader and merge, and the workers), and the load average.
#
#   bench/cpu.py build/smtpscope -q -j 2 -r bench/out/bench-1g.pcap
#
# The process is waited for without being reaped (waitid WNOWAIT), so its
# /proc entry still holds utime, stime, cutime and cstime. Standard output
# of the command is discarded.
import os
import subprocess
import sys
import time

tck = os.sysconf('SC_CLK_TCK')
t0 = time.time()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
wall = time.time() - t0
with open('/proc/%d/stat' % p.pid) as f:
    fields = f.read().rsplit(')', 1)[1].split()
ut, st, cut, cst = (int(x) / tck for x in fields[11:15])
p.wait()
with open('/proc/loadavg') as f:
    load = f.read().split()[0]
print('wall %.2f self %.2f (user %.2f sys %.2f) children %.2f (user %.2f sys %.2f) '
      'total %.2f load %s' % (wall, ut + st, ut, st, cut + cst, cut, cst,
                              ut + st + cut + cst, load))
