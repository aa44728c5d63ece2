package vmtest

// The boot kit: the pieces of Run that internal/systest (full Debian
// systems on a disk image) shares, so both find and prepare the kernel the
// same way, pack modules the same way and count against the same
// machine-wide VM slots.

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
)

// Kernel is the host's Debian kernel, ready for qemu -kernel.
type Kernel struct {
	Version string // uname -r of the image, e.g. 6.1.0-57-amd64
	Image   string // /boot/vmlinuz-VERSION
	Boot    string // what to pass to qemu -kernel: the cached PVH vmlinux, or Image
	Modules string // /lib/modules/VERSION on the host
	Hash    string // hex SHA-256 of Image
}

// IsMissing reports whether err means a host prerequisite is missing (the
// caller skips outside CI, fails under CI) rather than a bug.
func IsMissing(err error) bool { return errors.Is(err, errMissing) }

// HostKernel finds the newest installed Debian kernel and extracts (once,
// cached) its PVH-bootable vmlinux. It also checks qemu, xz and kmod.
func HostKernel() (Kernel, error) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		return Kernel{}, fmt.Errorf("%w: qemu-system-x86_64 (install qemu-system-x86)", errMissing)
	}
	if _, err := exec.LookPath("xz"); err != nil {
		return Kernel{}, fmt.Errorf("%w: xz (install xz-utils)", errMissing)
	}
	if _, err := findModprobe(); err != nil {
		return Kernel{}, fmt.Errorf("%w: %v (install kmod)", errMissing, err)
	}
	k, err := findKernel()
	if err != nil {
		return Kernel{}, fmt.Errorf("%w: %v", errMissing, err)
	}
	dir, err := cacheDir()
	if err != nil {
		return Kernel{}, err
	}
	hash, err := fileHash(k.Image)
	if err != nil {
		return Kernel{}, err
	}
	boot, err := bootImage(k, dir, hash)
	if err != nil {
		return Kernel{}, err
	}
	return Kernel{Version: k.Version, Image: k.Image, Boot: boot, Modules: k.Modules, Hash: hash}, nil
}

// ModuleFiles resolves module names for k (with their dependencies, in
// load order) to files under k.Modules. Built-in names resolve to nothing.
func ModuleFiles(k Kernel, names []string) ([]string, error) {
	set, err := resolveModules(k.Version, names)
	if err != nil {
		return nil, err
	}
	files := make([]string, len(set.Files))
	for i, m := range set.Files {
		files[i] = m.Path
	}
	return files, nil
}

// WriteInitramfs writes a newc cpio archive holding busybox-static (with
// /bin/sh), the named modules and their dependencies under
// /lib/modules/VERSION indexed by busybox depmod (so `modprobe NAME` works
// in the guest), the host's options for them in /etc/modprobe.d, and init
// as /init. The archive is padded so another one can be appended.
func WriteInitramfs(w io.Writer, k Kernel, modules []string, init []byte) error {
	if err := checkStaticBusybox(); err != nil {
		return fmt.Errorf("%w: %v", errMissing, err)
	}
	set, err := resolveModules(k.Version, modules)
	if err != nil {
		return err
	}
	return writeBase(w, kernel{Version: k.Version, Image: k.Image, Modules: k.Modules}, set, init)
}

// BusyboxHash is the hex SHA-256 of the busybox WriteInitramfs packs, for
// cache keys.
func BusyboxHash() (string, error) { return fileHash(busyboxPath) }

// AcquireSlot blocks until one of the machine-wide VM slots shared with Run
// is free (at most two TCG guests at once across all test processes) and
// returns the function that releases it.
func AcquireSlot() (release func(), err error) {
	dir, err := cacheDir()
	if err != nil {
		return nil, err
	}
	return acquireSlot(dir)
}

// Tail returns the last n lines of s, for error messages.
func Tail(s string, n int) string { return tail(s, n) }

// QemuEscape doubles commas so v can be a value in a qemu option list.
func QemuEscape(v string) string { return qemuEscape(v) }
