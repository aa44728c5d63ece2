package vmtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Modules the guest loads at boot for every run, and those only packed so
// the kernel can autoload them (ip link add … type bond → rtnl-link-bond).
var (
	preloadAlways = []string{"virtio_pci", "virtio_net", "virtio_blk", "isofs", "vfat",
		"nls_cp437", "nls_iso8859_1", "nls_utf8", "nls_ascii"} // nls_ascii: Debian's FAT default iocharset
	preloadByDriveIf = map[string][]string{
		"virtio": nil,
		"cdrom":  {"ata_piix", "sr_mod"},
		"scsi":   {"virtio_scsi", "sr_mod"},
	}
	autoloadOnly = []string{"bonding", "8021q", "dummy", "veth"}
)

// insmod is one line of `modprobe --show-depends`: a module file and the
// options modprobe's configuration gives it.
type insmod struct {
	Path    string
	Options string
}

// moduleSet is what a module list resolves to on the host.
type moduleSet struct {
	Files   []insmod        // dependency order, each file once
	Builtin map[string]bool // names compiled into the kernel: nothing to load
}

// resolveModules asks the host's kmod which files (with dependencies, in
// load order) the named modules need for kernel version kver.
func resolveModules(kver string, names []string) (moduleSet, error) {
	modprobe, err := findModprobe()
	if err != nil {
		return moduleSet{}, err
	}
	set := moduleSet{Builtin: map[string]bool{}}
	seen := map[string]bool{}
	for _, name := range names {
		var out, stderr bytes.Buffer
		cmd := exec.Command(modprobe, "-S", kver, "--show-depends", name)
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			return moduleSet{}, fmt.Errorf("module %q for kernel %s: %v: %s", name, kver, err, strings.TrimSpace(stderr.String()))
		}
		lines, builtin, err := parseShowDepends(out.String())
		if err != nil {
			return moduleSet{}, fmt.Errorf("modprobe --show-depends %s: %w", name, err)
		}
		for _, b := range builtin {
			set.Builtin[b] = true
		}
		for _, l := range lines {
			if !seen[l.Path] {
				seen[l.Path] = true
				set.Files = append(set.Files, l)
			}
		}
	}
	return set, nil
}

// parseShowDepends reads `modprobe --show-depends` output: lines
// "insmod PATH [OPTIONS]" and "builtin NAME".
func parseShowDepends(out string) ([]insmod, []string, error) {
	var mods []insmod
	var builtin []string
	for i, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		verb, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch {
		case verb == "insmod" && strings.HasPrefix(rest, "/"):
			p, opts, _ := strings.Cut(rest, " ")
			mods = append(mods, insmod{Path: p, Options: strings.TrimSpace(opts)})
		case verb == "builtin" && rest != "" && !strings.ContainsAny(rest, " \t"):
			builtin = append(builtin, rest)
		default:
			return nil, nil, fmt.Errorf("line %d: unexpected %q", i+1, line)
		}
	}
	return mods, builtin, nil
}

// moduleName is the kernel's name for a module file: basename without
// .ko(.xz|.zst|.gz), dashes as underscores.
func moduleName(path string) string {
	base := filepath.Base(path)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

// modprobeConf is /etc/modprobe.d content for the guest carrying the host's
// options (Debian sets bonding max_bonds=0 so no stray bond0 appears).
func modprobeConf(set moduleSet) []byte {
	var b strings.Builder
	for _, m := range set.Files {
		if m.Options != "" {
			fmt.Fprintf(&b, "options %s %s\n", moduleName(m.Path), m.Options)
		}
	}
	return []byte(b.String())
}

// findModprobe finds kmod's modprobe, which is in /sbin, often not on a
// normal user's PATH.
func findModprobe() (string, error) {
	if p, err := exec.LookPath("modprobe"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/sbin/modprobe", "/usr/sbin/modprobe"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("modprobe (kmod) not found")
}
