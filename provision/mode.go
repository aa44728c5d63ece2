package provision

import (
	"os"
	"path/filepath"
	"strings"

	"guestbridge/system"
)

// cloudInitUnits are the units that run cloud-init's stages; the local one
// reads the seed.
var cloudInitUnits = []string{"cloud-init-local.service", "cloud-init.service"}

// unitDirs are where systemd finds unit files and their enablement links,
// most specific first.
var unitDirs = []string{"etc/systemd/system", "run/systemd/system", "usr/lib/systemd/system", "lib/systemd/system"}

// DetectMode chooses who configures the machine under root: seed (hand the
// config to cloud-init) only when cloud-init is installed and enabled in
// every way it can be disabled, else apply. reason says why, for the log.
func DetectMode(root system.Root) (mode, reason string) {
	dir := root.Dir
	exists := func(p string) bool {
		_, err := os.Lstat(filepath.Join(dir, p))
		return err == nil
	}
	if !exists("usr/bin/cloud-init") && !exists("usr/local/bin/cloud-init") {
		return ModeApply, "cloud-init is not installed"
	}
	if exists("etc/cloud/cloud-init.disabled") {
		return ModeApply, "cloud-init is disabled by /etc/cloud/cloud-init.disabled"
	}
	if b, err := os.ReadFile(filepath.Join(dir, "proc/cmdline")); err == nil {
		for _, f := range strings.Fields(string(b)) {
			if f == "cloud-init=disabled" {
				return ModeApply, "cloud-init is disabled on the kernel command line (cloud-init=disabled)"
			}
		}
	}
	if usesSystemd(root) {
		for _, u := range cloudInitUnits {
			if masked(dir, u) {
				return ModeApply, "cloud-init is disabled: " + u + " is masked"
			}
		}
		for _, u := range cloudInitUnits {
			if !enabled(dir, u) {
				return ModeApply, "cloud-init is disabled: " + u + " is not enabled"
			}
		}
	}
	return ModeSeed, "cloud-init is installed and enabled"
}

// usesSystemd: on a live system systemd is PID 1 (/run/systemd/system
// exists); an offline image uses it when it ships systemd as its init.
func usesSystemd(root system.Root) bool {
	if root.Live {
		_, err := os.Stat(filepath.Join(root.Dir, "run/systemd/system"))
		return err == nil
	}
	for _, p := range []string{"lib/systemd/systemd", "usr/lib/systemd/systemd"} {
		if _, err := os.Stat(filepath.Join(root.Dir, p)); err == nil {
			init, err := filepath.EvalSymlinks(filepath.Join(root.Dir, "sbin/init"))
			return err != nil || strings.HasSuffix(init, "/systemd")
		}
	}
	return false
}

// masked: a unit linked to /dev/null in /etc or /run.
func masked(dir, unit string) bool {
	for _, d := range unitDirs[:2] {
		if t, err := os.Readlink(filepath.Join(dir, d, unit)); err == nil && t == "/dev/null" {
			return true
		}
	}
	return false
}

// enabled: some *.wants/ or *.requires/ directory links the unit (what
// `systemctl enable` and Debian's deb-systemd-helper create).
func enabled(dir, unit string) bool {
	for _, d := range unitDirs {
		for _, kind := range []string{".wants", ".requires"} {
			m, _ := filepath.Glob(filepath.Join(dir, d, "*"+kind, unit))
			if len(m) > 0 {
				return true
			}
		}
	}
	return false
}
