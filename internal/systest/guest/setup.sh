#!/bin/sh
# systest image setup, run on the host as root: sh setup.sh ROOT INIT CLOUDINIT
# (the harness has already copied its files into ROOT). What a test image
# needs beyond the packages: a root that needs no fsck, a neutral hostname,
# timers that only burn TCG time masked, and the collector enabled.
set -eu
root=$1 init=$2 cloudinit=$3

echo "/dev/vda / ext4 rw,errors=remount-ro 0 0" >"$root/etc/fstab"
echo unconfigured >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

if [ "$cloudinit" = yes ]; then
	# cloud-init's locale module generates en_US.UTF-8 when it is not the
	# configured locale: a minute of localedef under TCG. Cloud images ship
	# it generated; so does this one.
	echo 'en_US.UTF-8 UTF-8' >"$root/etc/locale.gen"
	chroot "$root" locale-gen >/dev/null
	echo 'LANG=en_US.UTF-8' >"$root/etc/default/locale"
fi

case $init in
systemd)
	# e2scrub_reap burns ~10 s of CPU at every boot; the timers fire into
	# the collector's window. None of them matters to a test.
	for u in e2scrub_reap.service e2scrub_all.timer apt-daily.timer apt-daily-upgrade.timer \
		fstrim.timer dpkg-db-backup.timer man-db.timer; do
		ln -sf /dev/null "$root/etc/systemd/system/$u"
	done
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
	ln -sf /etc/systemd/system/systest-collect.service \
		"$root/etc/systemd/system/multi-user.target.wants/systest-collect.service"
	;;
sysvinit)
	chroot "$root" update-rc.d systest-collect defaults >/dev/null
	;;
openrc)
	chroot "$root" rc-update add systest-collect default >/dev/null
	;;
esac
