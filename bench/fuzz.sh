#!/usr/bin/env bash
# fuzz.sh: runs every fuzz target of the module for FUZZTIME (default 30s)
# each, with coverage guidance, and prints the CPU time each target used and
# the total in CPU-hours (the figure the closing notes record).
#
# A target fails the run only when it wrote a failing input to its
# testdata/fuzz/<Target>/ (the seed corpus: commit it with the fix). A bare
# "context deadline exceeded" at the -fuzztime boundary with no input
# written is Go's coordinator race (go.dev/issue/75804, fixed in Go 1.27),
# counted as a flake.
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
total=0 failed=0 flaked=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for t in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | cut -c6-); do
    go test -c -fuzz "^$t\$" -o "$work/t.test" "$pkg" || { echo "$pkg $t: build failed"; failed=$((failed+1)); continue; }
    before=$(ls "$dir/testdata/fuzz/$t" 2>/dev/null | wc -l)
    (cd "$dir" && /usr/bin/time -f '%U %S' -o "$work/time" "$work/t.test" -test.run '^$' \
      -test.fuzz "^$t\$" -test.fuzztime "$FUZZTIME" -test.fuzzcachedir "$work/cache" >"$work/out" 2>&1)
    rc=$?
    read -r u s < <(tail -1 "$work/time")
    cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
    total=$(awk -v a="$total" -v b="$cpu" 'BEGIN { print a + b }')
    after=$(ls "$dir/testdata/fuzz/$t" 2>/dev/null | wc -l)
    execs=$(grep -o 'execs: [0-9]*' "$work/out" | tail -1)
    if [ "$rc" -eq 0 ]; then verdict=ok
    elif [ "$after" -gt "$before" ]; then verdict=FAILED; failed=$((failed+1)); grep -A8 -- '--- FAIL' "$work/out"
    else verdict="flake ($(grep -m1 -o 'context deadline exceeded' "$work/out" || echo "rc $rc"))"; flaked=$((flaked+1))
    fi
    printf '%-40s %-32s %7.1f CPU-s  %-16s %s\n' "$pkg" "$t" "$cpu" "$execs" "$verdict"
  done
done
awk -v t="$total" -v f="$failed" -v k="$flaked" 'BEGIN { printf "total %.2f CPU-hours; %d failed, %d flaked\n", t/3600, f, k }'
[ "$failed" -eq 0 ]
