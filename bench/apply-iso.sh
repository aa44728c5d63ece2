#!/usr/bin/env bash
# Times the whole `guestbridge apply` from a config-drive ISO with static
# addressing (2 NICs, v4+v6, routes, hostname, DNS, SSH key, files), as a
# process, and prints its max RSS (targets: <= 50 ms, <= 15 MB).
# Runs as root inside a throw-away network namespace (veths carrying the
# drive's MACs) and a private mount/UTS namespace with a tmpfs over /etc and
# /root, so this machine's own files and hostname are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20}
BIN=$(realpath "${BIN:-bin/guestbridge}")
[ -x "$BIN" ] || make build >/dev/null
tmp=$(mktemp -d); ns=gbiso-$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

# The sample drive with its DHCP network made static (DHCP would time the server).
cp -r samples/config-drive "$tmp/drive"
sed -i 's|{"id": "network2", "type": "ipv4_dhcp", "link": "tap9f8e7d6c-5b",|{"id": "network2", "type": "ipv4", "link": "tap9f8e7d6c-5b", "ip_address": "198.18.0.10", "netmask": "255.255.255.0",|' \
  "$tmp/drive/openstack/latest/network_data.json"
genisoimage -o "$tmp/drive.iso" -ldots -allow-lowercase -allow-multidot -l -publisher bench -quiet -J -r -V config-2 "$tmp/drive" 2>/dev/null

ip netns add "$ns"
ip -n "$ns" link add eth0 address fa:16:3e:12:34:01 type veth peer name p0
ip -n "$ns" link add eth1 address fa:16:3e:12:34:02 type veth peer name p1
ip -n "$ns" link set p0 up; ip -n "$ns" link set p1 up

flush='for i in eth0 eth1; do ip link set $i down; ip addr flush dev $i; done; rm -rf /tmp/gbstate /etc/hostname /etc/motd /root/.ssh /var/lib/guestbridge'
cat >"$tmp/inner.sh" <<INNER
set -e
mount -t tmpfs tmpfs /etc; mount -t tmpfs tmpfs /root; mount -t tmpfs tmpfs /var/lib
printf 'root:x:0:0:root:/root:/bin/sh\n' >/etc/passwd
printf 'root:*:20000:0:99999:7:::\n' >/etc/shadow
printf '127.0.0.1 localhost\n' >/etc/hosts; printf 'nameserver 127.0.0.1\n' >/etc/resolv.conf
fresh=\$(/usr/bin/python3 $PWD/bench/measure.py $N --before '$flush' -- $BIN apply --source configdrive:$tmp/drive.iso --state-dir /tmp/gbstate)
again=\$(/usr/bin/python3 $PWD/bench/measure.py $N -- $BIN apply --source configdrive:$tmp/drive.iso --state-dir /tmp/gbstate)
echo "\$fresh \$again"
INNER
read -r f_s f_rss a_s a_rss < <(ip netns exec "$ns" unshare --mount --uts --propagation private bash "$tmp/inner.sh")
awk -v fs="$f_s" -v fr="$f_rss" -v as="$a_s" -v ar="$a_rss" 'BEGIN {
  printf "guestbridge apply, ISO, fresh machine: %6.1f ms/run  max RSS %5.1f MB\n", fs*1000, fr/1024
  printf "guestbridge apply, ISO, nothing to do: %6.1f ms/run  max RSS %5.1f MB\n", as*1000, ar/1024
  printf "(targets: <= 50 ms, <= 15 MB)\n"
}'
