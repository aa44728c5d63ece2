#!/usr/bin/env python3
"""Run a command N times; print mean wall seconds and max RSS (KiB) of its children.

usage: measure.py N -- CMD ARGS...   (prints: "<mean_seconds> <max_rss_kib>")
"""
import resource
import subprocess
import sys
import time

n = int(sys.argv[1])
cmd = sys.argv[sys.argv.index("--") + 1:]
start = time.perf_counter()
for _ in range(n):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
mean = (time.perf_counter() - start) / n
print(f"{mean:.6f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
