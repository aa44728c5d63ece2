#!/usr/bin/env bash
# size-check.sh: fail when the stripped binary grew more than 5 % over the
# committed baseline (bench/binary-size.baseline: "<go version> <bytes>").
# Growth is sometimes worth it: then raise the baseline in the same commit
# and say why (`bench/size-check.sh --update` writes the current size).
set -euo pipefail
cd "$(dirname "$0")/.."
baseline_file=bench/binary-size.baseline
make build >/dev/null
size=$(stat -c %s bin/guestbridge)
gover=$(go env GOVERSION)
if [ "${1:-}" = "--update" ]; then
  echo "$gover $size" >"$baseline_file"
  echo "size-check: baseline set to $size bytes ($gover)"
  exit 0
fi
read -r base_go base_size <"$baseline_file"
limit=$((base_size + base_size / 20))
note=""
[ "$base_go" = "$gover" ] || note=" (baseline measured with $base_go, this is $gover)"
if [ "$size" -gt "$limit" ]; then
  echo "size-check: bin/guestbridge is $size bytes, more than 5 % over the baseline $base_size$note." >&2
  echo "size-check: find what grew (go tool nm -size -sort size bin/guestbridge), or raise the baseline deliberately." >&2
  exit 1
fi
awk -v s="$size" -v b="$base_size" -v n="$note" 'BEGIN { printf "size-check: %d bytes, %+.1f %% against the baseline %d%s\n", s, (s-b)*100/b, b, n }'
