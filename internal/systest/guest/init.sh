#!/bin/sh
# /init of the systest initramfs: load what the root disk needs (virtio-pci,
# virtio-blk, ext4 — never virtio_net, so the NICs appear only when the real
# system's udev coldplugs them), mount the root, drop the test's collect
# script into it and hand over to the image's own /sbin/init.
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
. /systest/env
for m in $SYSTEST_PRELOAD; do
	modprobe "$m" || echo "systest: modprobe $m failed"
done
i=0
while [ ! -e /sys/block/vda ] && [ $i -lt 300 ]; do
	usleep 100000
	i=$((i + 1))
done
mkdir -p /newroot
if ! mount -t ext4 -o rw /dev/vda /newroot; then
	echo "<2>SYSTEST_INIT_FAILED: cannot mount /dev/vda" >/dev/kmsg
	poweroff -f
fi
mkdir -p /newroot/var/lib/systest
cp /systest/collect.sh /systest/env /newroot/var/lib/systest/
rm -f /newroot/var/lib/systest/done
umount /sys
umount /proc
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
