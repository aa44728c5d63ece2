package provision

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"guestbridge/system"
)

// Issue 9: --mode auto picked seed whenever /usr/bin/cloud-init existed.
func TestDetectModeHonoursEveryWayCloudInitIsDisabled(t *testing.T) {
	systemdImage := func(t *testing.T) string {
		root := t.TempDir()
		mk := func(p, content string) {
			os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
			os.WriteFile(filepath.Join(root, p), []byte(content), 0o755)
		}
		mk("usr/bin/cloud-init", "#!/bin/sh\n")
		mk("lib/systemd/systemd", "")
		mk("lib/systemd/system/cloud-init-local.service", "[Unit]\n")
		mk("lib/systemd/system/cloud-init.service", "[Unit]\n")
		os.MkdirAll(filepath.Join(root, "etc/systemd/system/cloud-init.target.wants"), 0o755)
		for _, u := range cloudInitUnits {
			os.Symlink("/lib/systemd/system/"+u, filepath.Join(root, "etc/systemd/system/cloud-init.target.wants", u))
		}
		return root
	}
	cases := []struct {
		name, mode, why string
		change          func(root string)
	}{
		{"enabled", ModeSeed, "installed and enabled", func(string) {}},
		{"not installed", ModeApply, "not installed", func(r string) { os.Remove(filepath.Join(r, "usr/bin/cloud-init")) }},
		{"marker file", ModeApply, "cloud-init.disabled", func(r string) {
			os.MkdirAll(filepath.Join(r, "etc/cloud"), 0o755)
			os.WriteFile(filepath.Join(r, "etc/cloud/cloud-init.disabled"), nil, 0o644)
		}},
		{"kernel command line", ModeApply, "cloud-init=disabled", func(r string) {
			os.MkdirAll(filepath.Join(r, "proc"), 0o755)
			os.WriteFile(filepath.Join(r, "proc/cmdline"), []byte("root=/dev/vda1 ro cloud-init=disabled quiet\n"), 0o644)
		}},
		{"masked", ModeApply, "cloud-init-local.service is masked", func(r string) {
			os.Symlink("/dev/null", filepath.Join(r, "etc/systemd/system/cloud-init-local.service"))
		}},
		{"not enabled", ModeApply, "cloud-init.service is not enabled", func(r string) {
			os.Remove(filepath.Join(r, "etc/systemd/system/cloud-init.target.wants/cloud-init.service"))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := systemdImage(t)
			c.change(root)
			mode, why := DetectMode(system.Root{Dir: root})
			if mode != c.mode || !strings.Contains(why, c.why) {
				t.Errorf("mode %s (%s), want %s (%s)", mode, why, c.mode, c.why)
			}
		})
	}
}
