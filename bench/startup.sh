#!/usr/bin/env bash
# startup.sh: what a guestbridge process costs before and after it does any
# work, against the floor: a static Go binary whose main is empty, built here
# with the same flags. Prints mean time per run, max RSS and the ratios, and
# the stripped binary size. N=runs (default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200}
BIN=${BIN:-bin/guestbridge}
ISO=${ISO:-samples/config-2.iso}
make build >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'module noop\ngo 1.25\n' >"$tmp/go.mod"
printf 'package main\n\nfunc main() {}\n' >"$tmp/main.go"
(cd "$tmp" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o noop .)
read -r noop_s noop_rss noop_f < <(bench/measure.py "$N" --faults -- "$tmp/noop")
read -r ver_s ver_rss ver_f < <(bench/measure.py "$N" --faults -- "$BIN" version)
read -r show_s show_rss show_f < <(bench/measure.py "$N" --faults -- "$BIN" show --source "configdrive:$ISO" --format v2)
awk -v n="$noop_s" -v v="$ver_s" -v s="$show_s" -v sz="$(stat -c %s "$BIN")" -v nsz="$(stat -c %s "$tmp/noop")" \
  -v nf="$noop_f" -v vf="$ver_f" -v sf="$show_f" 'BEGIN {
  printf "no-op static Go binary:        %6.2f ms/run   %5.1f MB   %4d faults\n", n*1000, nsz/1e6, nf
  printf "guestbridge version:           %6.2f ms/run   %5.1f MB   %4d faults   %.2fx the no-op\n", v*1000, sz/1e6, vf, v/n
  printf "guestbridge show (ISO, v2):    %6.2f ms/run              %4d faults   %.2fx the no-op (target <= 2x)\n", s*1000, sf, s/n
}'
