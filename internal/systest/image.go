package systest

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"guestbridge/internal/testenv"
	"guestbridge/internal/vmtest"
)

//go:embed guest
var guestFiles embed.FS

func guestFile(name string) []byte {
	b, err := guestFiles.ReadFile("guest/" + name)
	if err != nil {
		panic(err) // embedded at build time
	}
	return b
}

// Variant is one kind of Debian 12 root.
type Variant struct {
	Init      string   // "systemd" (default), "sysvinit" (sysvinit-core + sysv-rc) or "openrc"
	CloudInit bool     // install cloud-init (22.4.2 from bookworm) and what it needs
	Packages  []string // more Debian packages
}

func (v Variant) init() string {
	if v.Init == "" {
		return "systemd"
	}
	return v.Init
}

// Name is a short label for logs and cache file names.
func (v Variant) Name() string {
	n := v.init()
	if v.CloudInit {
		n += "-cloudinit"
	}
	return n
}

// suite and mirrors: Debian 12 as the host's apt sources name it.
const suite = "bookworm"

var mirrors = []string{
	"deb http://deb.debian.org/debian bookworm main",
	"deb http://deb.debian.org/debian bookworm-updates main",
	"deb http://deb.debian.org/debian-security bookworm-security main",
}

// Package sets. Every variant: udev (NICs appear at coldplug), kmod
// (modules from the image's /lib/modules), iproute2 and ifupdown (Debian's
// network stack), procps, and openssh-server as on any cloud image.
var (
	basePackages = []string{"udev", "kmod", "iproute2", "ifupdown", "procps", "netbase", "openssh-server"}
	initPackages = map[string][]string{
		"systemd":  {"systemd", "systemd-sysv", "dbus"},
		"sysvinit": {"sysvinit-core", "sysv-rc", "initscripts"},
		"openrc":   {"sysvinit-core", "openrc"},
	}
	// cloud-init as vm-test-notes.md lists it: locales (else its locale
	// module fails the boot), python3-cffi-backend, net-tools (else the ENI
	// renderer's `route add` lines do nothing) and resolvconf (else ENI
	// dns-nameservers do nothing).
	cloudInitPackages = []string{"cloud-init", "python3-cffi-backend", "locales", "net-tools", "resolvconf"}
)

func (v Variant) packages() ([]string, error) {
	ip, ok := initPackages[v.init()]
	if !ok {
		return nil, fmt.Errorf("Variant.Init %q: want systemd, sysvinit or openrc", v.Init)
	}
	p := slices.Concat(basePackages, ip, v.Packages)
	if v.CloudInit {
		p = append(p, cloudInitPackages...)
	}
	slices.Sort(p)
	return slices.Compact(p), nil
}

// Modules of the host kernel copied into every image (with dependencies):
// what udev loads at coldplug on a qemu pc machine and what tests use.
var imageModules = []string{
	"virtio_pci", "virtio_net", "virtio_blk", "virtio_scsi", "virtio_console", "virtio_rng",
	"ata_piix", "ata_generic", "sr_mod", "sd_mod", "isofs", "vfat", "nls_cp437", "nls_iso8859_1",
	"nls_utf8", "nls_ascii", "ext4", "bonding", "8021q", "dummy", "veth", "tun", "bridge",
}

// initramfsModules are loaded by the initramfs before switch_root: the root
// disk and its filesystem (never virtio_net: see the package doc), and
// unless BootOptions.LateDrive the config drive's buses (storageModules).
var (
	initramfsModules = []string{"virtio_pci", "virtio_blk", "ext4"}
	storageModules   = []string{"ata_piix", "sr_mod", "virtio_scsi"}
)

// harnessVersion is part of every image key: bump it when what the harness
// puts into images changes in a way the hashed inputs do not show.
const harnessVersion = "1"

// Disk is a cached, read-only ext4 image of a root with guestbridge
// installed. Boot it through a Machine (a qcow2 overlay per test).
type Disk struct {
	Path    string  // raw ext4 image in the cache; never written by a boot
	Variant Variant // what it was built from
	Kernel  vmtest.Kernel
	key     string
}

var (
	buildMu   sync.Mutex
	buildOnce = map[string]*diskResult{}
)

type diskResult struct {
	once sync.Once
	disk *Disk
	err  error
}

// Image returns the cached image of v with guestbridge installed as inst
// says, building what is missing: the package root (mmdebstrap from
// Debian's mirror, cached as a tarball keyed on the package list) and the
// bootable image (keyed on that, the host kernel, the harness's guest files
// and inst). Tests in one process share the result. It needs root,
// mmdebstrap, e2fsprogs (mkfs.ext4 -d) and qemu-utils; missing ones skip
// the test, or fail it under CI.
func Image(t testing.TB, v Variant, inst Install) *Disk {
	t.Helper()
	requireTools(t)
	k, err := vmtest.HostKernel()
	if vmtest.IsMissing(err) {
		testenv.Missing(t, err.Error())
	}
	if err != nil {
		t.Fatalf("systest: %v", err)
	}
	instKey, err := inst.key()
	if err != nil {
		t.Fatalf("systest: Install: %v", err)
	}
	pkgs, err := v.packages()
	if err != nil {
		t.Fatalf("systest: %v", err)
	}
	key := hashStrings(append([]string{"image", harnessVersion, baseKey(pkgs), k.Hash, instKey, v.init(),
		fmt.Sprint(v.CloudInit)}, guestKeyParts()...)...)
	buildMu.Lock()
	r := buildOnce[key]
	if r == nil {
		r = &diskResult{}
		buildOnce[key] = r
	}
	buildMu.Unlock()
	r.once.Do(func() {
		r.disk, r.err = buildImage(t, v, pkgs, k, inst, key)
	})
	if r.err != nil {
		t.Fatalf("systest: image %s: %v", v.Name(), r.err)
	}
	return r.disk
}

// requireTools checks the host side: root (chroot, ownership in the image)
// and the tools that build and boot images.
func requireTools(t testing.TB) {
	t.Helper()
	testenv.RequireRoot(t)
	for _, c := range []string{"mmdebstrap", "mkfs.ext4", "qemu-img", "qemu-system-x86_64", "tar", "depmod", "chroot"} {
		if _, err := lookPath(c); err != nil {
			testenv.Missing(t, "command "+c+" not found (make deps installs it)")
		}
	}
}

// lookPath also searches the sbin directories a non-login PATH may lack.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func guestKeyParts() []string {
	var parts []string
	_ = fs.WalkDir(guestFiles, "guest", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := guestFiles.ReadFile(p)
			parts = append(parts, p, string(b))
		}
		return err
	})
	return parts
}

func baseKey(pkgs []string) string {
	return hashStrings(slices.Concat([]string{"base", suite, "minbase"}, mirrors, pkgs)...)
}

// cacheEnv overrides the cache directory.
const cacheEnv = "GUESTBRIDGE_SYSTEST_CACHE"

// CacheDir is where images are kept: $GUESTBRIDGE_SYSTEST_CACHE, else
// /var/cache/guestbridge-test.
func CacheDir() (string, error) {
	dir := os.Getenv(cacheEnv)
	if dir == "" {
		dir = "/var/cache/guestbridge-test"
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// workDir is where roots are unpacked: /dev/shm when it has room (twice
// as fast as a disk here), else the cache directory.
func workDir(cache string) string {
	var st syscall.Statfs_t
	if syscall.Statfs("/dev/shm", &st) == nil && st.Bavail*uint64(st.Bsize) > 4<<30 {
		return "/dev/shm"
	}
	return cache
}

// lockFile takes an exclusive flock on path (other test processes build
// the same image at the same time otherwise).
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// rootTarball returns the cached mmdebstrap tarball of pkgs.
func rootTarball(t testing.TB, cache string, v Variant, pkgs []string) (string, error) {
	name := fmt.Sprintf("root-%s-%s.tar", v.Name(), baseKey(pkgs))
	final := filepath.Join(cache, name)
	unlock, err := lockFile(final + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	tmp := final + ".tmp"
	args := []string{"--variant=minbase", "--format=tar", "--include=" + strings.Join(pkgs, ","), suite, tmp}
	args = append(args, mirrors...)
	start := time.Now()
	cmd := exec.Command("mmdebstrap", args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+workDir(cache))
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("mmdebstrap %s: %v\n%s", strings.Join(args, " "), err, vmtest.Tail(string(out), 40))
	}
	t.Logf("systest: built %s root with mmdebstrap in %v", v.Name(), time.Since(start).Round(time.Second))
	return final, os.Rename(tmp, final)
}

// buildImage makes (or finds) the bootable image.
func buildImage(t testing.TB, v Variant, pkgs []string, k vmtest.Kernel, inst Install, key string) (*Disk, error) {
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	disk := &Disk{Path: filepath.Join(cache, fmt.Sprintf("image-%s-%s.ext4", v.Name(), key)), Variant: v, Kernel: k, key: key}
	unlock, err := lockFile(disk.Path + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(disk.Path); err == nil {
		now := time.Now()
		_ = os.Chtimes(disk.Path, now, now) // recently used: pruneCache keeps it
		return disk, nil
	}
	tarball, err := rootTarball(t, cache, v, pkgs)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	work, err := os.MkdirTemp(workDir(cache), "systest-root-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	root := filepath.Join(work, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		return nil, err
	}
	if err := runCmd("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tarball, "-C", root); err != nil {
		return nil, err
	}
	if err := addModules(root, k); err != nil {
		return nil, err
	}
	if err := setupRoot(root, v); err != nil {
		return nil, err
	}
	if err := inst.apply(root, v); err != nil {
		return nil, fmt.Errorf("installing guestbridge: %w", err)
	}
	if err := mkfsExt4(root, disk.Path); err != nil {
		return nil, err
	}
	t.Logf("systest: built image %s in %v (unpack, modules, setup, install, mkfs.ext4 -d)", filepath.Base(disk.Path), time.Since(start).Round(100*time.Millisecond))
	pruneCache(cache, disk.Path)
	return disk, nil
}

// addModules copies the host kernel's modules the guest needs (and their
// dependencies) into the root and indexes them with depmod, so udev in the
// guest loads virtio_net, ata_piix, sr_mod, isofs … exactly as on a real
// system with that kernel installed.
func addModules(root string, k vmtest.Kernel) error {
	files, err := vmtest.ModuleFiles(k, imageModules)
	if err != nil {
		return err
	}
	dst := filepath.Join(root, "lib/modules", k.Version)
	for _, name := range []string{"modules.builtin", "modules.builtin.modinfo", "modules.order"} {
		files = append(files, filepath.Join(k.Modules, name))
	}
	for _, f := range files {
		rel, err := filepath.Rel(k.Modules, f)
		if err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("module %s outside %s", f, k.Modules)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dst, rel), data, 0o644); err != nil {
			return err
		}
	}
	depmod, _ := lookPath("depmod")
	return runCmd(depmod, "-b", root, k.Version)
}

// setupRoot adds the harness's collector for v's init system, then runs
// guest/setup.sh (fstab, hostname, masks, enabling the collector).
func setupRoot(root string, v Variant) error {
	files := map[string][]byte{"/usr/local/lib/systest/collect": guestFile("collect")}
	switch v.init() {
	case "systemd":
		files["/etc/systemd/system/systest-collect.service"] = guestFile("systest-collect.service")
	case "sysvinit":
		files["/etc/init.d/systest-collect"] = guestFile("systest-collect.init")
	case "openrc":
		files["/etc/init.d/systest-collect"] = guestFile("systest-collect.openrc")
	}
	for _, p := range sortedKeys(files) {
		mode := os.FileMode(0o644)
		if bytes.HasPrefix(files[p], []byte("#!")) {
			mode = 0o755
		}
		if err := writeFile(filepath.Join(root, p), files[p], mode); err != nil {
			return err
		}
	}
	ci := "no"
	if v.CloudInit {
		ci = "yes"
	}
	cmd := exec.Command("sh", "-c", string(guestFile("setup.sh")), "setup.sh", root, v.init(), ci)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("setup.sh: %v\n%s", err, out)
	}
	return nil
}

// mkfsExt4 turns root into an ext4 image (no mount, no loop device) with
// room to spare for logs, cloud-init's state and the test's files.
func mkfsExt4(root, path string) error {
	var size int64
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := d.Info(); err == nil && d.Type().IsRegular() {
			size += info.Size() + 4096
		}
		return nil
	})
	if err != nil {
		return err
	}
	size = (size*5/4 + 768<<20) &^ (1<<20 - 1)
	tmp := path + ".tmp"
	os.Remove(tmp)
	if err := os.WriteFile(tmp, nil, 0o644); err != nil {
		return err
	}
	if err := os.Truncate(tmp, size); err != nil {
		return err
	}
	mkfs, _ := lookPath("mkfs.ext4")
	if err := runCmd(mkfs, "-q", "-F", "-L", "systest-root", "-d", root, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// pruneCache removes images not used for a day (each build of guestbridge
// makes a new one), never keep.
func pruneCache(cache, keep string) {
	old, _ := filepath.Glob(filepath.Join(cache, "image-*.ext4"))
	for _, p := range old {
		if info, err := os.Stat(p); err == nil && p != keep && time.Since(info.ModTime()) > 24*time.Hour {
			os.Remove(p)
			os.Remove(p + ".lock")
		}
	}
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	os.Remove(path) // a symlink or read-only file in the way
	return os.WriteFile(path, data, mode)
}

func runCmd(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, vmtest.Tail(string(out), 40))
	}
	return nil
}

func hashStrings(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
