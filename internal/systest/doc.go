// Package systest boots whole Debian 12 systems under qemu for full-system
// tests: a real init (systemd, sysvinit or OpenRC), optionally cloud-init,
// guestbridge installed the way a user installs it, NICs that appear during
// udev coldplug, a config drive, and results collected once the boot has
// finished.
//
// Usage:
//
//	v := systest.Variant{Init: "systemd", CloudInit: true}
//	disk := systest.Image(t, v, systest.Guestbridge(t, v)) // cached; built at test time if missing
//	m := systest.NewMachine(t, disk)                       // qcow2 overlay: the cache stays pristine
//	res := m.Boot(t, systest.BootOptions{
//		NICs:    []systest.NIC{{MAC: "52:54:00:12:34:01"}, {MAC: "52:54:00:12:34:02"}},
//		Drive:   vmtest.ConfigDriveISO(t, tree),            // nova's genisoimage flags
//		Collect: systest.Script(systest.Check{Name: "addr", Cmd: "ip -j addr"}),
//	})
//	res.Sections["addr"].Text                                // also res.State, res.Uptime, res.Console
//	res2 := m.Boot(t, systest.BootOptions{...})             // second boot of the same disk
//
// # Images
//
// Image builds a minbase root with mmdebstrap from Debian's mirror (the
// Variant's package list; cached as /var/cache/guestbridge-test/root-*.tar,
// keyed on suite, mirrors and packages), unpacks it (on /dev/shm when there
// is room), adds the host kernel's modules the guest needs (virtio, ata,
// sr_mod, isofs, vfat, ext4, bonding, 8021q …, indexed by depmod), the
// collector and guest/setup.sh's settings (fstab, hostname "unconfigured",
// e2scrub_reap and timers masked, en_US.UTF-8 generated on cloud-init
// images), installs guestbridge (Install: a .deb with dpkg in a chroot, a
// `make install DESTDIR` tree, files, units to enable, a chroot script) and
// writes an ext4 image with `mkfs.ext4 -d` (no mount, no loop device),
// cached as image-*.ext4 keyed on all of that plus the kernel and this
// package's guest files. Images unused for a day are pruned. The cache is
// $GUESTBRIDGE_SYSTEST_CACHE or /var/cache/guestbridge-test.
//
// Install helpers: Guestbridge (the .deb from `make package` when the
// Makefile has that target, else MakeInstall), MakeInstall (`make install
// DESTDIR=…`, guestbridge-boot.service enabled, the cloud-init pin of
// COORD.md contract 2 added when make install does not ship it),
// PackageInstall.
//
// # Boot
//
// The host's Debian kernel (linux-image-amd64; its PVH vmlinux, extracted
// and cached by internal/vmtest) boots under qemu TCG, -smp 1, with a small
// busybox initramfs that loads the storage drivers (virtio_pci, virtio_blk,
// and for the config drive ata_piix, sr_mod, virtio_scsi, as Debian's own
// MODULES=most initramfs does; BootOptions.LateDrive leaves those to udev)
// and ext4, mounts
// /dev/vda read-write, drops the boot's collect script into
// /var/lib/systest and switch_roots to /sbin/init. virtio_net is NOT loaded
// there: the NICs (no backend by default; nothing leaves qemu) appear when
// the system's udev coldplugs them, named ens3, ens4 … by PCI slot, as on
// a real VM. The config drive is an IDE cdrom (/dev/sr0) by default.
//
// The collector runs once the boot has finished — systemd: a Type=simple
// unit after multi-user.target that waits for `systemctl is-system-running
// --wait` (bounded by BootOptions.Finish, then it collects anyway);
// sysvinit: an rc script with Required-Start $all; OpenRC: a service "after *" — and
// writes the Collect script's output to the second serial port (ttyS1,
// raw), then powers off. Result.State and Result.Uptime say when and how
// the boot finished. At most two VMs run at once machine-wide (slots shared
// with internal/vmtest).
//
// Prerequisites (Makefile TEST_DEBS): root, mmdebstrap, e2fsprogs,
// qemu-system-x86, qemu-utils, linux-image-amd64, busybox-static, kmod, xz.
// Missing ones skip the test, or fail it under CI.
package systest
