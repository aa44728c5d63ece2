#!/usr/bin/env bash
# Runs `guestbridge show --format v2` on a config-drive image and cloud-init's
# own converter on the same network_data.json, in one run, and prints the
# mean time per run, the ratio and each one's max RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20}
BIN=${BIN:-bin/guestbridge}
ISO=${ISO:-samples/config-2.iso}
ND=${ND:-samples/config-drive/openstack/latest/network_data.json}
[ -x "$BIN" ] || make build >/dev/null
command -v cloud-init >/dev/null || { echo "cloud-init is not installed (apt-get install cloud-init)"; exit 1; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
# cloud-init needs a name for every MAC (else it looks the MAC up on this machine).
macs=()
i=0
for mac in $(grep -o '"ethernet_mac_address": *"[^"]*"' "$ND" | cut -d'"' -f4); do
  macs+=(-m "eth$i,${mac,,}"); i=$((i+1))
done
read -r gb_s gb_rss < <(bench/measure.py "$N" -- "$BIN" show --source "configdrive:$ISO" --format v2)
read -r st_s st_rss < <(bench/measure.py "$N" -- "$BIN" version)
read -r ci_s ci_rss < <(/usr/bin/python3 bench/measure.py "$((N/4>0 ? N/4 : 1))" -- \
  cloud-init devel net-convert -p "$ND" -k network_data.json -D debian -O netplan -d "$out" "${macs[@]}")
awk -v g="$gb_s" -v c="$ci_s" -v gr="$gb_rss" -v cr="$ci_rss" -v s="$st_s" -v sr="$st_rss" 'BEGIN {
  printf "guestbridge show --format v2 (ISO):   %8.2f ms/run  max RSS %6.1f MB\n", g*1000, gr/1024
  printf "cloud-init devel net-convert (JSON):  %8.2f ms/run  max RSS %6.1f MB\n", c*1000, cr/1024
  printf "guestbridge version (process start only): %8.2f ms/run  max RSS %6.1f MB\n", s*1000, sr/1024
  printf "speed-up: %.0fx per run   (target >= 50x; RSS target <= 15 MB)\n", c/g
}'
