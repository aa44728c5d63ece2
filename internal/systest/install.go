package systest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"guestbridge/internal/pkgtest"
	"guestbridge/internal/testenv"
)

// Install says how guestbridge gets into an image, the ways a user (or an
// image builder) installs it. Steps run in this order, all optional: Deb,
// Tree, Files, Enable, Script.
type Install struct {
	// Deb is a .deb on the host, installed with `dpkg -i` chrooted into the
	// root: its maintainer scripts run (enable units, update-rc.d, the
	// cloud-init pin) as in an image build; nothing is started (policy-rc.d).
	Deb string
	// Tree is a `make install DESTDIR=…` tree; its files are copied over
	// the root one by one (the root has merged /usr: never copy directories).
	Tree string
	// Files are written into the root: guest path → content (mode 0755 if
	// it starts with "#!", else 0644), e.g. a cloud.cfg.d file.
	Files map[string][]byte
	// Enable names systemd units to enable (`systemctl enable` in the chroot).
	Enable []string
	// Script is run with sh -e chrooted into the root, last.
	Script string
}

// key covers everything the install puts into the image.
func (in Install) key() (string, error) {
	parts := []string{"install"}
	if in.Deb != "" {
		h, err := hashFile(in.Deb)
		if err != nil {
			return "", err
		}
		parts = append(parts, "deb", h)
	}
	if in.Tree != "" {
		err := filepath.WalkDir(in.Tree, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(in.Tree, p)
			info, err := d.Info()
			if err != nil {
				return err
			}
			parts = append(parts, "tree", rel, info.Mode().String())
			switch {
			case d.Type().IsRegular():
				h, err := hashFile(p)
				if err != nil {
					return err
				}
				parts = append(parts, h)
			case d.Type()&fs.ModeSymlink != 0:
				target, err := os.Readlink(p)
				if err != nil {
					return err
				}
				parts = append(parts, target)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	for _, p := range sortedKeys(in.Files) {
		parts = append(parts, "file", p, string(in.Files[p]))
	}
	parts = append(parts, "enable")
	parts = append(parts, in.Enable...)
	parts = append(parts, "script", in.Script)
	return hashStrings(parts...), nil
}

// apply installs into the unpacked root.
func (in Install) apply(root string, v Variant) error {
	if in.Deb != "" {
		if err := installDeb(root, in.Deb); err != nil {
			return err
		}
	}
	if in.Tree != "" {
		if err := copyTree(root, in.Tree); err != nil {
			return err
		}
	}
	for _, p := range sortedKeys(in.Files) {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(string(in.Files[p]), "#!") {
			mode = 0o755
		}
		dst, err := inRoot(root, p)
		if err != nil {
			return err
		}
		if err := writeFile(dst, in.Files[p], mode); err != nil {
			return err
		}
	}
	if len(in.Enable) > 0 {
		if v.init() != "systemd" {
			return fmt.Errorf("Install.Enable %v: only for systemd images (use Script with update-rc.d / rc-update)", in.Enable)
		}
		if err := chroot(root, "systemctl enable "+strings.Join(in.Enable, " ")); err != nil {
			return err
		}
	}
	if in.Script != "" {
		return chroot(root, in.Script)
	}
	return nil
}

// installDeb runs dpkg -i in the root with services kept from starting,
// as image builders do.
func installDeb(root, deb string) error {
	data, err := os.ReadFile(deb)
	if err != nil {
		return err
	}
	guest := "/tmp/" + filepath.Base(deb)
	if err := writeFile(filepath.Join(root, guest), data, 0o644); err != nil {
		return err
	}
	policy := filepath.Join(root, "usr/sbin/policy-rc.d")
	if err := writeFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
		return err
	}
	defer os.Remove(policy)
	defer os.Remove(filepath.Join(root, guest))
	return chroot(root, "DEBIAN_FRONTEND=noninteractive dpkg -i "+guest)
}

// copyTree copies every file and symlink of tree to the same path in
// root, creating directories as needed (following the root's own /lib →
// usr/lib style symlinks inside the root).
func copyTree(root, tree string) error {
	return filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tree, p)
		dst, err := inRoot(root, "/"+filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			os.Remove(dst)
			return os.Symlink(target, dst)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return writeFile(dst, data, info.Mode().Perm())
	})
}

// inRoot maps guest path p to a host path under root, resolving the
// symlinks of its directories as the guest would (an absolute link is
// relative to root), so nothing is ever written outside root.
func inRoot(root, p string) (string, error) {
	parts := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	cur := "/"
	for i := 0; i < len(parts); i++ {
		if parts[i] == "" {
			continue
		}
		next := path.Join(cur, parts[i])
		if i == len(parts)-1 {
			cur = next // the last component itself is replaced, not followed
			break
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			cur = next // not a symlink, or does not exist yet
			continue
		}
		if len(parts) > 64 {
			return "", fmt.Errorf("%s: too many symlinks", p)
		}
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		rest := slices.Concat(strings.Split(strings.Trim(path.Clean(target), "/"), "/"), parts[i+1:])
		parts, i, cur = rest, -1, "/"
	}
	return filepath.Join(root, cur), nil
}

func chroot(root, script string) error {
	cmd := exec.Command("chroot", root, "/bin/sh", "-ec", script)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "HOME=/root"}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chroot %s: %v\n%s", script, err, out)
	}
	return nil
}

// CloudInitPin is the cloud-init hand-off guestbridge installs (COORD.md
// contract 2): cloud-init reads only our NoCloud seed, and re-renders the
// network from it at every boot.
const (
	CloudInitPinPath = "/etc/cloud/cloud.cfg.d/90-guestbridge.cfg"
	CloudInitPin     = "datasource_list: [ NoCloud, None ]\nupdates: {network: {when: [boot-new-instance, boot]}}\n"
)

// MakeInstall installs guestbridge from this source tree the way the
// README tells a user to: `make install DESTDIR=…` (the Makefile's own
// build), then enable guestbridge-boot.service. Until `make install` ships
// the cloud-init pin itself (when the image has /etc/cloud), the pin is
// added here exactly as contract 2 specifies.
func MakeInstall(t testing.TB, v Variant) Install {
	t.Helper()
	repo := repoRoot(t)
	make := testenv.RequireCommand(t, "make")
	dest := t.TempDir()
	bin := filepath.Join(t.TempDir(), "guestbridge")
	cmd := exec.Command(make, "-C", repo, "install", "DESTDIR="+dest, "BIN="+bin)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install DESTDIR=%s: %v\n%s", dest, err, out)
	}
	in := Install{Tree: dest}
	if v.init() == "systemd" {
		in.Enable = []string{"guestbridge-boot.service"}
	}
	if v.CloudInit {
		if _, err := os.Stat(filepath.Join(dest, CloudInitPinPath)); errors.Is(err, fs.ErrNotExist) {
			in.Files = map[string][]byte{CloudInitPinPath: []byte(CloudInitPin)}
		}
	}
	return in
}

// PackageInstall builds the packages with `make package` (once per test
// process, into a temporary directory: nothing in the work tree changes;
// internal/pkgtest does it) and installs the .deb with dpkg in the image.
// ok is false when the Makefile has no package target (then use
// MakeInstall).
func PackageInstall(t testing.TB) (in Install, ok bool) {
	t.Helper()
	repo := repoRoot(t)
	mk, err := os.ReadFile(filepath.Join(repo, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(strings.Split(string(mk), "\n"), func(l string) bool { return strings.HasPrefix(l, "package:") }) {
		return Install{}, false
	}
	if pkgtest.NFPM() == "" {
		testenv.Missing(t, "nfpm (make deps installs it)")
	}
	pkgs, err := pkgtest.Build(os.TempDir())
	if err != nil {
		t.Fatalf("systest: %v", err)
	}
	return Install{Deb: pkgs.Deb}, true
}

// Guestbridge is the preferred way to install guestbridge into v: the
// .deb when the tree can build one, else `make install`.
func Guestbridge(t testing.TB, v Variant) Install {
	t.Helper()
	if in, ok := PackageInstall(t); ok {
		return in
	}
	return MakeInstall(t, v)
}

// repoRoot is the directory of go.mod (the tests run in a package dir).
func repoRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		t.Fatalf("cannot find the module root (go env GOMOD): %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}
