#!/bin/sh
# /init of the vmtest guest. ttyS0 (the console) gets kernel messages and
# the VMTEST_* markers; ttyS1 gets only the command's stdout and stderr.
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root
. /vmtest/env

# Kernel autoloading (bond, vlan) runs busybox modprobe with our modules.dep.
echo /sbin/modprobe > /proc/sys/kernel/modprobe
for m in $VMTEST_PRELOAD; do
	modprobe "$m" || echo "vmtest: modprobe $m failed"
done

# Wait for the NICs and the drive: probing is asynchronous. The cap is
# generous because a loaded host slows TCG guests a lot.
i=0
while [ $i -lt 300 ]; do
	nics=$(ls /sys/class/net | grep -vc '^lo$')
	if [ "$nics" -ge "$VMTEST_NICS" ] && { [ -z "$VMTEST_DISK" ] || [ -e "/sys/block/$VMTEST_DISK" ]; }; then
		break
	fi
	usleep 100000
	i=$((i + 1))
done
[ $i -lt 300 ] || echo "vmtest: gave up waiting for $VMTEST_NICS NICs and disk '$VMTEST_DISK'"

# Read an ISO9660 or FAT volume label (no blkid in busybox-static).
bytes_at() { dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null | tr -d '\000'; }
label_of() {
	if [ "$(bytes_at "$1" 32769 5)" = CD001 ]; then
		bytes_at "$1" 32808 32
	elif [ "$(bytes_at "$1" 54 5)" = FAT12 ] || [ "$(bytes_at "$1" 54 5)" = FAT16 ]; then
		bytes_at "$1" 43 11
	elif [ "$(bytes_at "$1" 82 5)" = FAT32 ]; then
		bytes_at "$1" 71 11
	fi
}

# Stand in for udev: /dev/disk/by-label/LABEL symlinks.
for d in /sys/block/*; do
	dev=${d##*/}
	case $dev in vd* | sd* | sr* | hd*) ;; *) continue ;; esac
	label=$(label_of "/dev/$dev" | sed 's/ *$//' | tr '/' '_')
	case $label in "" | "NO NAME") continue ;; esac
	mkdir -p /dev/disk/by-label
	ln -sf "../../$dev" "/dev/disk/by-label/$label"
done

stty -F /dev/ttyS1 raw -echo
echo VMTEST_READY
cd /
/bin/sh -c "$(cat /vmtest/cmd)" </dev/null >/dev/ttyS1 2>&1
rc=$?
stty -F /dev/ttyS1 raw -echo # TCSADRAIN: wait until the output is sent
# printk is written out synchronously, so the marker is complete at poweroff.
echo "<2>VMTEST_RC=$rc" >/dev/kmsg # level 2: shown even with quiet
poweroff -f
