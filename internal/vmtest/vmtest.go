// Package vmtest boots Debian's own kernel under qemu (TCG, no KVM needed)
// with a busybox initramfs, runs one shell command in the guest and returns
// its output and exit status. Tests use it for what the host kernel cannot
// do or must not be touched for: bonds, VLANs, config drives on real block
// devices, and the real guestbridge binary applying a configuration.
package vmtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"guestbridge/internal/testenv"
)

// NIC is a virtio-net device; the guest names them eth0, eth1, … in order.
type NIC struct {
	MAC  string // empty: qemu's default
	Peer string // "none" (default): no backend, link up; "user": slirp with restrict=on (nothing leaves qemu)
}

// Options describe one guest run.
type Options struct {
	Binaries map[string]string // guest path → host path (static binaries; CGO_ENABLED=0)
	Files    map[string][]byte // guest path → content (mode 0755 if it starts with "#!", else 0644)
	Command  string            // run with /bin/sh -c in the guest, stdin /dev/null
	NICs     []NIC
	Drive    string        // host image to attach read-only (config drive ISO or vfat), optional
	DriveIf  string        // "virtio" (default, /dev/vda), "cdrom" (IDE, /dev/sr0), "scsi" (virtio-scsi, /dev/sr0)
	Modules  []string      // extra kernel modules to pack and load
	Timeout  time.Duration // default 60 s; qemu is killed after it
}

// Result is what the guest run produced.
type Result struct {
	Output  string // the command's stdout+stderr (ttyS1), byte-exact
	RC      int    // the command's exit status
	Console string // kernel log and /init messages (ttyS0)
}

// DefaultTimeout bounds a run when Options.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// Run boots a guest, runs o.Command and returns its result. Missing
// prerequisites (qemu-system-x86, linux-image-amd64, busybox-static, xz,
// kmod) skip the test, or fail it under CI. A guest that does not finish
// (timeout, kernel panic) fails the test with the console's tail.
func Run(t testing.TB, o Options) Result {
	t.Helper()
	b, err := prepare(o.Modules)
	if errors.Is(err, errMissing) {
		testenv.Missing(t, err.Error())
	}
	if err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	res, err := b.run(o, t.TempDir())
	if err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	return res
}

// errMissing marks a missing host prerequisite (skip, not bug).
var errMissing = errors.New("vmtest prerequisite missing")

// boot is what every run with the same module list shares.
type boot struct {
	qemu   string
	kernel string // vmlinux (PVH) or bzImage
	base   string // cached base initramfs
	cache  string
}

var (
	prepMu    sync.Mutex
	prepCache = map[string]*boot{}
)

// prepare finds the tools and kernel and builds (or reuses) the cached
// kernel image and base initramfs, once per process per module list.
func prepare(extra []string) (*boot, error) {
	key := strings.Join(extra, ",")
	prepMu.Lock()
	defer prepMu.Unlock()
	if b := prepCache[key]; b != nil {
		return b, nil
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return nil, fmt.Errorf("%w: qemu-system-x86_64 (install qemu-system-x86)", errMissing)
	}
	if _, err := exec.LookPath("xz"); err != nil {
		return nil, fmt.Errorf("%w: xz (install xz-utils)", errMissing)
	}
	if _, err := findModprobe(); err != nil {
		return nil, fmt.Errorf("%w: %v (install kmod)", errMissing, err)
	}
	if err := checkStaticBusybox(); err != nil {
		return nil, fmt.Errorf("%w: %v", errMissing, err)
	}
	k, err := findKernel()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errMissing, err)
	}
	dir, err := cacheDir()
	if err != nil {
		return nil, err
	}
	kernelHash, err := fileHash(k.Image)
	if err != nil {
		return nil, err
	}
	image, err := bootImage(k, dir, kernelHash)
	if err != nil {
		return nil, err
	}
	base, err := baseInitramfs(k, kernelHash, dir, extra)
	if err != nil {
		return nil, err
	}
	b := &boot{qemu: qemu, kernel: image, base: base, cache: dir}
	prepCache[key] = b
	return b, nil
}

// run boots one guest in work (a fresh directory).
func (b *boot) run(o Options, work string) (Result, error) {
	driveIf := o.DriveIf
	if driveIf == "" {
		driveIf = "virtio"
	}
	if _, ok := preloadByDriveIf[driveIf]; !ok {
		return Result{}, fmt.Errorf("Options.DriveIf %q: want virtio, cdrom or scsi", o.DriveIf)
	}
	env := map[string]string{
		"VMTEST_NICS":    strconv.Itoa(len(o.NICs)),
		"VMTEST_PRELOAD": strings.Join(slices.Concat(preloadAlways, preloadByDriveIf[driveIf], o.Modules), " "),
	}
	if o.Drive != "" {
		env["VMTEST_DISK"] = map[string]string{"virtio": "vda", "cdrom": "sr0", "scsi": "sr0"}[driveIf]
	}
	initrd, err := b.initrd(o, env, work)
	if err != nil {
		return Result{}, err
	}
	console, output := filepath.Join(work, "ttyS0.log"), filepath.Join(work, "ttyS1.log")
	args, err := qemuArgs(b.kernel, initrd, console, output, o, driveIf)
	if err != nil {
		return Result{}, err
	}

	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	release, err := acquireSlot(b.cache)
	if err != nil {
		return Result{}, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.qemu, args...)
	// qemu must not outlive a test binary that is killed (go test -timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	qemuOut, runErr := cmd.CombinedOutput()

	consoleLog, _ := os.ReadFile(console)
	outputLog, _ := os.ReadFile(output)
	res := Result{Output: string(outputLog), Console: string(consoleLog)}
	rc, ok := parseRC(res.Console)
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("guest did not finish within %v; console tail:\n%s", timeout, tail(res.Console, 30))
	case runErr != nil:
		return res, fmt.Errorf("qemu: %v: %s\nconsole tail:\n%s", runErr, qemuOut, tail(res.Console, 30))
	case !ok && strings.Contains(res.Console, readyMarker):
		return res, fmt.Errorf("guest stopped while the command ran (it must not power off or kill init); console tail:\n%s", tail(res.Console, 30))
	case !ok:
		return res, fmt.Errorf("guest stopped before the command ran; console tail:\n%s", tail(res.Console, 30))
	}
	res.RC = rc
	return res, nil
}

// initrd writes base + per-run archive into work.
func (b *boot) initrd(o Options, env map[string]string, work string) (string, error) {
	extra, err := runArchive(o, env)
	if err != nil {
		return "", err
	}
	base, err := os.ReadFile(b.base)
	if err != nil {
		return "", err
	}
	path := filepath.Join(work, "initrd.cpio")
	return path, os.WriteFile(path, append(base, extra...), 0o644)
}
