package vmtest

import (
	"bytes"
	"debug/elf"
	_ "embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// initScript is the guest's /init (see init.sh for what it does).
//
//go:embed init.sh
var initScript []byte

// busyboxPath is where Debian's busybox-static installs itself.
var busyboxPath = "/bin/busybox"

// checkStaticBusybox fails unless busybox exists and needs no libc (the
// guest has none).
func checkStaticBusybox() error {
	f, err := elf.Open(busyboxPath)
	if err != nil {
		return fmt.Errorf("busybox-static: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (install busybox-static)", busyboxPath)
		}
	}
	return nil
}

// baseInitramfs returns the cached archive holding busybox, /init and the
// modules (with modules.dep/alias made by busybox depmod, so the guest's
// kernel can autoload). The cache key covers everything that goes in.
func baseInitramfs(k kernel, kernelHash, dir string, extra []string) (string, error) {
	names := append([]string{}, preloadAlways...)
	for _, ifMods := range sortedKeys(preloadByDriveIf) {
		names = append(names, preloadByDriveIf[ifMods]...)
	}
	names = append(names, autoloadOnly...)
	names = append(names, extra...)
	set, err := resolveModules(k.Version, names)
	if err != nil {
		return "", err
	}
	bbHash, err := fileHash(busyboxPath)
	if err != nil {
		return "", err
	}
	keyParts := []string{kernelHash, k.Version, bbHash, string(initScript)}
	for _, m := range set.Files {
		keyParts = append(keyParts, m.Path, m.Options)
	}
	name := "base-" + shortHash(keyParts...) + ".cpio"
	return cached(dir, name, func(w io.Writer) error { return writeBase(w, k, set, initScript) })
}

// writeBase writes an initramfs with busybox, the module set (indexed by
// busybox depmod) and init as /init.
func writeBase(w io.Writer, k kernel, set moduleSet, init []byte) error {
	stage, err := os.MkdirTemp("", "vmtest-modules-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	guestMods := filepath.Join(stage, "lib/modules", k.Version)
	for _, m := range set.Files {
		rel, err := filepath.Rel(k.Modules, m.Path)
		if err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("module %s is outside %s", m.Path, k.Modules)
		}
		if err := copyFile(m.Path, filepath.Join(guestMods, rel)); err != nil {
			return err
		}
	}
	out, err := exec.Command(busyboxPath, "depmod", "-b", stage, k.Version).CombinedOutput()
	if err != nil {
		return fmt.Errorf("busybox depmod: %v: %s", err, out)
	}
	bb, err := os.ReadFile(busyboxPath)
	if err != nil {
		return err
	}

	c := newCPIOWriter(w)
	for _, d := range []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/proc", "/sys",
		"/tmp", "/run", "/mnt", "/root", "/var/run", "/etc/modprobe.d", "/vmtest"} {
		c.Dir(d)
	}
	c.CharDev("/dev/console", 5, 1)
	c.File("/bin/busybox", 0o755, bb)
	c.Symlink("/bin/sh", "busybox")
	c.File("/init", 0o755, init)
	c.File("/etc/modprobe.d/vmtest.conf", 0o644, modprobeConf(set))
	if err := addTree(c, stage); err != nil {
		return err
	}
	return c.Close()
}

// addTree packs the regular files under root, at the same guest paths.
func addTree(c *cpioWriter, root string) error {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		c.File("/"+filepath.ToSlash(rel), 0o644, data)
	}
	return nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// runArchive is the small per-run cpio appended to the base: the command,
// its settings for /init, and the caller's binaries and files.
func runArchive(o Options, env map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	c := newCPIOWriter(&buf)
	for _, guest := range sortedKeys(o.Binaries) {
		data, err := os.ReadFile(o.Binaries[guest])
		if err != nil {
			return nil, fmt.Errorf("Options.Binaries[%q]: %w", guest, err)
		}
		c.File(guest, 0o755, data)
	}
	for _, guest := range sortedKeys(o.Files) {
		perm := uint32(0o644)
		if bytes.HasPrefix(o.Files[guest], []byte("#!")) {
			perm = 0o755 // scripts run as given
		}
		c.File(guest, perm, o.Files[guest])
	}
	var envFile strings.Builder
	for _, k := range sortedKeys(env) {
		fmt.Fprintf(&envFile, "%s=%s\n", k, shellQuote(env[k]))
	}
	c.File("/vmtest/env", 0o644, []byte(envFile.String()))
	c.File("/vmtest/cmd", 0o644, []byte(o.Command))
	if err := c.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
