package vmtest

import (
	"fmt"
	"net"
	"strings"
)

// qemuArgs is the qemu-system-x86_64 command line for one run. -nodefaults
// keeps qemu from adding its own NIC, VGA and cdrom; -smp 1 because SMP
// bring-up under TCG costs a second and one command gains nothing from it.
func qemuArgs(kernel, initrd, console, output string, o Options, driveIf string) ([]string, error) {
	args := []string{
		"-machine", "pc,accel=tcg", "-cpu", "max", "-m", "512", "-smp", "1",
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-kernel", kernel, "-initrd", initrd,
		// no_timer_check: on a busy host TCG is too slow for the kernel's
		// IO-APIC timer test, which then panics ("IO-APIC + timer doesn't work").
		"-append", "console=ttyS0 panic=-1 rdinit=/init no_timer_check",
		"-chardev", "file,id=ttyS0,path=" + qemuEscape(console), "-serial", "chardev:ttyS0",
		"-chardev", "file,id=ttyS1,path=" + qemuEscape(output), "-serial", "chardev:ttyS1",
	}
	dev, err := DeviceArgs(o.NICs, o.Drive, driveIf)
	if err != nil {
		return nil, fmt.Errorf("Options.%w", err)
	}
	return append(args, dev...), nil
}

// DeviceArgs are the qemu arguments of the NICs and the read-only drive
// (driveIf virtio, cdrom: IDE as libvirt attaches nova's ISO, or scsi) of
// a guest; the vmtest and systest harnesses share them.
func DeviceArgs(nics []NIC, drive, driveIf string) ([]string, error) {
	var args []string
	for i, nic := range nics {
		dev := "virtio-net-pci"
		if nic.MAC != "" {
			if _, err := net.ParseMAC(nic.MAC); err != nil || strings.Contains(nic.MAC, ",") {
				return nil, fmt.Errorf("NICs[%d].MAC %q: not a MAC address", i, nic.MAC)
			}
			dev += ",mac=" + nic.MAC
		}
		switch nic.Peer {
		case "", "none":
			// No backend: the guest sees a NIC whose packets go nowhere.
		case "user":
			id := fmt.Sprintf("net%d", i)
			args = append(args, "-netdev", "user,id="+id+",restrict=on")
			dev += ",netdev=" + id
		default:
			return nil, fmt.Errorf("NICs[%d].Peer %q: want none or user", i, nic.Peer)
		}
		args = append(args, "-device", dev)
	}
	if drive == "" {
		return args, nil
	}
	file := "file=" + qemuEscape(drive) + ",format=raw,readonly=on"
	switch driveIf {
	case "virtio":
		args = append(args, "-drive", file+",if=virtio")
	case "cdrom":
		args = append(args, "-drive", file+",if=ide,media=cdrom")
	case "scsi":
		args = append(args, "-device", "virtio-scsi-pci,id=scsi0",
			"-drive", file+",if=none,media=cdrom,id=cd0", "-device", "scsi-cd,drive=cd0")
	default:
		return nil, fmt.Errorf("DriveIf %q: want virtio, cdrom or scsi", driveIf)
	}
	return args, nil
}

// qemuEscape quotes a value inside a qemu option list (comma doubled).
func qemuEscape(v string) string { return strings.ReplaceAll(v, ",", ",,") }
