#!/usr/bin/env python3
"""Run a command N times; print mean wall seconds and max RSS (KiB) of its children.

usage: measure.py N [--before SHELL-CMD] [--faults] -- CMD ARGS...
prints "<mean_seconds> <max_rss_kib>"; --before runs (untimed) before each run;
--faults adds a third field, the mean minor page faults per run (what bounds
the start of a small Go process in a VM, where each fault is expensive;
it includes the ~70 faults of the fork before exec, the same for every command).
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
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
faults = f" {usage.ru_minflt / n:.0f}" if "--faults" in sys.argv[:sys.argv.index("--")] else ""
print(f"{mean:.6f} {usage.ru_maxrss}{faults}")
