#!/usr/bin/env python3
"""Run a command N times; print mean wall seconds and max RSS (KiB) of its children.

usage: measure.py N [--before SHELL-CMD] -- CMD ARGS...
prints "<mean_seconds> <max_rss_kib>"; --before runs (untimed) before each run.
"""
import resource
import subprocess
import sys
import time

n = int(sys.argv[1])
cmd = sys.argv[sys.argv.index("--") + 1:]
before = sys.argv[sys.argv.index("--before") + 1] if "--before" in sys.argv[:sys.argv.index("--")] else None
total = 0.0
for _ in range(n):
    if before:
        subprocess.run(before, shell=True, check=True, stdout=subprocess.DEVNULL)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total += time.perf_counter() - start
mean = total / n
print(f"{mean:.6f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
