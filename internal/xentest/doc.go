// Package xentest runs guestbridge on a real Xen hypervisor: Debian's Xen
// 4.17 boots under qemu (TCG, no KVM needed) with a busybox dom0 running
// the real C xenstored, xenconsoled and xl, and a PV domU that boots
// guestbridge (agent started before XenStore is usable, then boot) from
// the same Debian kernel. In dom0, xenhost plays the toolstack (vm-data
// written and permissioned as libxl/XAPI do) and Nova's dom0 agent plugin
// (xenstore-write / xenstore-read every 0.5 s / SimpleDH with the openssl
// CLI), and xl save + xl restore the guest as a live migration does.
//
// The test is TestXenEndToEnd; it needs root only for nothing, but the
// Debian packages in the Makefile's TEST_DEBS (qemu-system-x86,
// xen-utils-4.17, xenstore-utils, linux-image-amd64, busybox-static, cpio,
// openssl) and apt-get to download xen-hypervisor-4.17-amd64 once (cached
// under /var/cache/guestbridge-test/xen, or $GUESTBRIDGE_XEN_CACHE).
package xentest
