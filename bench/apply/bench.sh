#!/bin/sh
# bench.sh: time guestbridge's netlink applier against the same change made
# by a shell script of `ip` commands (and, for reference, one `ip -batch`).
# The config is benchapply.LargeConfig: 4 NICs, 64 addresses, 512 routes.
# Needs root, iproute2 and Go. Everything happens in two throw-away network
# namespaces (benchmark ranges only). ROUNDS=n sets the rounds (default 5).
set -eu
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-5}
ns=gbbench-$$
peer=gbbenchp-$$
tmp=$(mktemp -d)
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	ip netns del "$peer" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

go build -o "$tmp/applybench" ./bench/apply/applybench
ip netns add "$ns"
ip netns add "$peer"
for i in 0 1 2 3; do
	ip -n "$ns" link add "nic$i" address "02:00:5e:30:00:0$((i + 1))" type veth peer name "p$i" netns "$peer"
	ip -n "$peer" link set "p$i" up
done
"$tmp/applybench" -netns "$ns" -script >"$tmp/script.sh"
"$tmp/applybench" -netns "$ns" -batch >"$tmp/batch"
echo "ip script: $(wc -l <"$tmp/script.sh") commands"

# flush undoes everything either method did (links down drop their routes).
flush() {
	for i in 0 1 2 3; do
		ip -n "$ns" link set "nic$i" down
		ip -n "$ns" addr flush dev "nic$i"
		ip -n "$ns" link set "nic$i" mtu 1500
	done
	ip -n "$ns" -4 route flush proto 198 2>/dev/null || true
	ip -n "$ns" -6 route flush proto 198 2>/dev/null || true
}

# result is what the change produced, for checking both methods agree.
result() {
	ip -n "$ns" -o addr show | awk '$3 != "inet6" || $4 !~ /^fe80/ {print $2, $4}' | sort
	ip -n "$ns" -4 route show proto 198 | sort
	ip -n "$ns" -o link show | awk '{print $2, $5}' | sort
}

now() { date +%s%N; }
go_ns=0 sh_ns=0 batch_ns=0
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	flush
	t0=$(now)
	"$tmp/applybench" -netns "$ns" -state "$tmp/state-$r" >/dev/null
	t1=$(now)
	result >"$tmp/go.txt"
	flush
	t2=$(now)
	sh "$tmp/script.sh"
	t3=$(now)
	result >"$tmp/sh.txt"
	flush
	t4=$(now)
	ip -n "$ns" -batch "$tmp/batch"
	t5=$(now)
	if ! cmp -s "$tmp/go.txt" "$tmp/sh.txt"; then
		echo "bench.sh: applier and ip script produced different results:" >&2
		diff "$tmp/go.txt" "$tmp/sh.txt" >&2 || true
		exit 1
	fi
	go_ns=$((go_ns + t1 - t0))
	sh_ns=$((sh_ns + t3 - t2))
	batch_ns=$((batch_ns + t5 - t4))
	r=$((r + 1))
done

awk -v g="$go_ns" -v s="$sh_ns" -v b="$batch_ns" -v n="$ROUNDS" 'BEGIN {
	printf "rounds: %d (same result from both methods each round)\n", n
	printf "guestbridge apply (whole process): %8.1f ms\n", g / n / 1e6
	printf "shell script of ip commands:       %8.1f ms\n", s / n / 1e6
	printf "ip -batch (reference):             %8.1f ms\n", b / n / 1e6
	printf "ratio script/apply: %.1fx (target >= 20x); batch/apply: %.1fx\n", s / g, b / g
}'
