#!/bin/sh
# /init of the PV guest in the Xen end-to-end test: guestbridge's agent is
# started before XenStore is usable (/dev, hence /dev/xen/xenbus, is not
# there yet), then guestbridge boot applies vm-data, and the guest reports
# what it sees under data/xentest/<phase> when dom0 asks.
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
echo /sbin/modprobe > /proc/sys/kernel/modprobe
hostname localhost

# (the shell gives a background job /dev/null as stdin: make one until
# devtmpfs is mounted over /dev)
mknod /dev/null c 1 3
guestbridge agent --metrics-interval 0 &
AGENT_PID=$!
sleep 2
mount -t devtmpfs devtmpfs /dev
modprobe xen-netfront || echo "guest: modprobe xen-netfront failed"

guestbridge boot --wait 60s >/tmp/boot.log 2>&1
BOOT_RC=$?
cat /tmp/boot.log

rep() { xenstore-write "data/xentest/$1/$2" "$3"; }
report() {
	rep "$1" hostname "$(hostname)"
	rep "$1" addr "$(ip -4 -o addr show dev eth0 | awk '{print $4}' | tr '\n' ' ')"
	rep "$1" route "$(ip -4 route show default)"
	rep "$1" shadow "$(grep '^root:' /etc/shadow | cut -d: -f2)"
	rep "$1" injected "$(cat /root/injected.txt 2>/dev/null)"
	if kill -0 "$AGENT_PID" 2>/dev/null; then rep "$1" agentpid "$AGENT_PID"; else rep "$1" agentpid "dead"; fi
	out=$(xenstore-write vm-data/hostname evil 2>&1)
	rep "$1" vmdatawrite "rc=$? $out"
	rep "$1" bootrc "$BOOT_RC"
	rep "$1" bootlog "$(tail -c 1500 /tmp/boot.log)"
	rep "$1" done 1
}
report boot
for phase in mid final; do
	until xenstore-read "data/xentest/$phase-ask" >/dev/null 2>&1; do usleep 300000; done
	report "$phase"
done
while :; do sleep 60; done
