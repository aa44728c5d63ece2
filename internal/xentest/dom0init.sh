#!/bin/sh
# /init of dom0 in the Xen end-to-end test: Xen's own daemons, then xenhost
# (the toolstack + Nova's dom0 plugin), then power off. Everything goes to
# hvc0, which Xen copies to com1, the host's console.log.
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs -o size=600m tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/xen /run/xenstored /var/lib/xen /var/lib/xenstored /var/log/xen/console /var/run/xen /var/run/xenstored
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
echo /sbin/modprobe > /proc/sys/kernel/modprobe
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-netback; do
	modprobe "$m" || echo "XENTEST-DOM0 modprobe $m failed"
done
mount -t xenfs xenfs /proc/xen
xenstored --pid-file /run/xenstored.pid || echo "XENTEST-DOM0 xenstored failed"
xen-init-dom0 || echo "XENTEST-DOM0 xen-init-dom0 failed"
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console || echo "XENTEST-DOM0 xenconsoled failed"
echo "XENTEST-DOM0-UP $(cut -d' ' -f1 /proc/uptime)"
/xenhost
echo "XENTEST-GUEST-CONSOLE-BEGIN"
cat /var/log/xen/console/guest-guest.log 2>/dev/null | tail -c 20000
echo "XENTEST-GUEST-CONSOLE-END"
echo "XENTEST-DONE"
poweroff -f
