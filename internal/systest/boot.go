package systest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"guestbridge/internal/vmtest"
)

// NIC is a virtio-net device. The guest's udev loads virtio_net and names
// it (ens3, ens4, … by PCI slot) during coldplug.
type NIC = vmtest.NIC

// BootOptions describe one boot of a Machine.
type BootOptions struct {
	NICs    []NIC
	Drive   string // config drive image (ISO or vfat), attached read-only; optional
	DriveIf string // "cdrom" (default: IDE, /dev/sr0, as libvirt attaches nova's ISO) or "virtio" (/dev/vdb)
	// Collect is the shell script the collector runs once the boot has
	// finished (systemd: `systemctl is-system-running --wait`; sysvinit:
	// last rc script; OpenRC: a service "after *"). Its stdout+stderr is Result.Output.
	// Use Script to build one from named checks.
	Collect string
	Append  string // more kernel command line (e.g. "cloud-init=disabled")
	// LateDrive leaves the config drive's bus drivers (ata_piix, sr_mod,
	// virtio_scsi) to the system's udev coldplug too, so the drive appears
	// after early units started. Default: the initramfs loads them, as
	// Debian's own (MODULES=most) does, and the drive is there at switch_root.
	LateDrive bool
	Finish    time.Duration // how long the collector waits for the boot to finish (default 240 s)
	Timeout   time.Duration // qemu is killed after it (default Finish + 180 s)
	Memory    int           // MiB, default 1024
}

// Result is what one boot produced.
type Result struct {
	Output   string             // the Collect script's output (ttyS1), byte-exact
	Console  string             // kernel log, init's status lines, getty (ttyS0)
	Sections map[string]Section // Output split by Script's "### name" markers
	State    string             // systemd: what `is-system-running --wait` said (running, degraded, timeout); else ""
	Uptime   float64            // guest uptime in seconds when the boot had finished
	Wall     time.Duration      // host time from qemu start to exit
}

// Machine is one VM's disk: a qcow2 overlay over a cached Disk, kept for
// the whole test, so a second Boot sees what the first one left behind.
type Machine struct {
	disk    *Disk
	overlay string
	work    string
	boots   int
}

// NewMachine makes a fresh overlay over d in the test's temporary directory.
func NewMachine(t testing.TB, d *Disk) *Machine {
	t.Helper()
	work := t.TempDir()
	overlay := filepath.Join(work, "disk.qcow2")
	if err := runCmd("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", d.Path, overlay); err != nil {
		t.Fatalf("systest: %v", err)
	}
	return &Machine{disk: d, overlay: overlay, work: work}
}

// Boot boots a fresh machine (new overlay) over d once.
func Boot(t testing.TB, d *Disk, o BootOptions) Result {
	t.Helper()
	return NewMachine(t, d).Boot(t, o)
}

// Boot starts the machine, waits until the collector has run o.Collect and
// powered off, and returns what it collected. A boot that never reaches the
// collector (panic, timeout, init failure) fails the test with the
// console's tail.
func (m *Machine) Boot(t testing.TB, o BootOptions) Result {
	t.Helper()
	m.boots++
	res, err := m.boot(o, filepath.Join(m.work, fmt.Sprintf("boot%d", m.boots)))
	if err != nil {
		t.Fatalf("systest: boot %d of %s: %v", m.boots, m.disk.Variant.Name(), err)
	}
	t.Logf("systest: boot %d of %s: finished at guest uptime %.1f s (state %q), %v wall", m.boots, m.disk.Variant.Name(), res.Uptime, res.State, res.Wall.Round(100*time.Millisecond))
	return res
}

// Overlay is the qcow2 file holding the machine's writes.
func (m *Machine) Overlay() string { return m.overlay }

func (m *Machine) boot(o BootOptions, work string) (Result, error) {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return Result{}, err
	}
	finish := o.Finish
	if finish <= 0 {
		finish = 240 * time.Second
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = finish + 180*time.Second
	}
	initrd, err := m.initrd(o, finish, work)
	if err != nil {
		return Result{}, err
	}
	console, output := filepath.Join(work, "ttyS0.log"), filepath.Join(work, "ttyS1.log")
	args, err := qemuArgs(m.disk.Kernel.Boot, initrd, m.overlay, console, output, o)
	if err != nil {
		return Result{}, err
	}
	release, err := vmtest.AcquireSlot()
	if err != nil {
		return Result{}, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	qemuOut, runErr := cmd.CombinedOutput()
	wall := time.Since(start)

	consoleLog, _ := os.ReadFile(console)
	outputLog, _ := os.ReadFile(output)
	res := Result{Output: string(outputLog), Console: string(consoleLog), Wall: wall}
	res.Sections = ParseSections(res.Output)
	if b, ok := res.Sections["systest-boot"]; ok {
		for _, line := range strings.Split(b.Text, "\n") {
			k, v, _ := strings.Cut(line, "=")
			switch k {
			case "state":
				res.State = v
			case "uptime":
				res.Uptime, _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	done := strings.Contains(res.Output, "### systest-done")
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("no poweroff within %v (collector output so far: %d bytes); console tail:\n%s", timeout, len(res.Output), vmtest.Tail(res.Console, 40))
	case runErr != nil:
		return res, fmt.Errorf("qemu: %v: %s\nconsole tail:\n%s", runErr, qemuOut, vmtest.Tail(res.Console, 40))
	case !done:
		return res, fmt.Errorf("the machine stopped before the collector finished; output:\n%s\nconsole tail:\n%s", vmtest.Tail(res.Output, 20), vmtest.Tail(res.Console, 40))
	}
	return res, nil
}

var (
	initrdMu   sync.Mutex
	initrdBase = map[string]string{}
)

// baseInitramfs is the cached archive: busybox, the root disk's modules
// and guest/init.sh.
func baseInitramfs(k vmtest.Kernel) (string, error) {
	initrdMu.Lock()
	defer initrdMu.Unlock()
	bb, err := vmtest.BusyboxHash()
	if err != nil {
		return "", fmt.Errorf("busybox-static: %w", err)
	}
	mods := append(initramfsModules[:len(initramfsModules):len(initramfsModules)], storageModules...)
	key := hashStrings(append([]string{"initramfs", k.Hash, bb, string(guestFile("init.sh"))}, mods...)...)
	if p := initrdBase[key]; p != "" {
		return p, nil
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	final := filepath.Join(cache, "initramfs-"+key+".cpio")
	if _, err := os.Stat(final); err != nil {
		var buf bytes.Buffer
		if err := vmtest.WriteInitramfs(&buf, k, mods, guestFile("init.sh")); err != nil {
			return "", err
		}
		tmp := fmt.Sprintf("%s.tmp%d", final, os.Getpid())
		if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, final); err != nil {
			return "", err
		}
	}
	initrdBase[key] = final
	return final, nil
}

// initrd is the base archive plus this boot's: the collect script and the
// settings /init and the collector read.
func (m *Machine) initrd(o BootOptions, finish time.Duration, work string) (string, error) {
	basePath, err := baseInitramfs(m.disk.Kernel)
	if err != nil {
		return "", err
	}
	base, err := os.ReadFile(basePath)
	if err != nil {
		return "", err
	}
	preload := initramfsModules
	if !o.LateDrive {
		preload = append(preload[:len(preload):len(preload)], storageModules...)
	}
	env := fmt.Sprintf("SYSTEST_PRELOAD='%s'\nSYSTEST_FINISH_TIMEOUT=%d\n",
		strings.Join(preload, " "), int(finish.Seconds()))
	extra, err := cpioFiles(map[string][]byte{
		"/systest/env":        []byte(env),
		"/systest/collect.sh": []byte(o.Collect),
	})
	if err != nil {
		return "", err
	}
	p := filepath.Join(work, "initrd.cpio")
	return p, os.WriteFile(p, append(base, extra...), 0o644)
}

// qemuArgs: the machine vm-test-notes.md describes (pc, TCG, -smp 1,
// -nodefaults, PVH kernel, two file-backed serial ports), the root disk on
// virtio-blk (cache=unsafe: the overlay is thrown away), the NICs, the drive.
func qemuArgs(kernel, initrd, overlay, console, output string, o BootOptions) ([]string, error) {
	mem := o.Memory
	if mem <= 0 {
		mem = 1024
	}
	cmdline := "console=ttyS0 root=/dev/vda rw panic=-1 no_timer_check"
	if o.Append != "" {
		cmdline += " " + o.Append
	}
	args := []string{
		"-machine", "pc,accel=tcg", "-cpu", "max", "-m", strconv.Itoa(mem), "-smp", "1",
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-kernel", kernel, "-initrd", initrd, "-append", cmdline,
		"-chardev", "file,id=ttyS0,path=" + vmtest.QemuEscape(console), "-serial", "chardev:ttyS0",
		"-chardev", "file,id=ttyS1,path=" + vmtest.QemuEscape(output), "-serial", "chardev:ttyS1",
		"-drive", "file=" + vmtest.QemuEscape(overlay) + ",format=qcow2,if=virtio,cache=unsafe",
	}
	driveIf := o.DriveIf
	if driveIf == "" {
		driveIf = "cdrom"
	}
	dev, err := vmtest.DeviceArgs(o.NICs, o.Drive, driveIf)
	if err != nil {
		return nil, fmt.Errorf("BootOptions.%w", err)
	}
	return append(args, dev...), nil
}

// cpioFiles is a small newc archive of regular files (the per-boot part
// appended to the base initramfs; the kernel unpacks both).
func cpioFiles(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	ino := 100000
	n := 0
	write := func(b []byte) { buf.Write(b); n += len(b) }
	pad := func() { write(make([]byte, (4-n%4)%4)) }
	entry := func(name string, mode uint32, data []byte) {
		ino++
		write([]byte(fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)))
		write(append([]byte(name), 0))
		pad()
		write(data)
		pad()
	}
	dirs := map[string]bool{}
	for _, p := range sortedKeys(files) {
		name := strings.TrimPrefix(filepath.Clean(p), "/")
		if d := filepath.Dir(name); d != "." && !dirs[d] {
			dirs[d] = true
			entry(d, 0o040755, nil)
		}
		entry(name, 0o100644, files[p])
	}
	entry("TRAILER!!!", 0, nil)
	write(make([]byte, (512-n%512)%512))
	return buf.Bytes(), nil
}

// Script builds a Collect script from checks: each command's output and
// exit status become Result.Sections[name]. Every check runs, whatever the
// others do.
func Script(checks ...Check) string {
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "echo '### %s'\n( %s ) 2>&1\necho \"### rc $?\"\n", c.Name, c.Cmd)
	}
	return b.String()
}

// Check is one named command of a Collect script.
type Check struct{ Name, Cmd string }

// Section is one check's output.
type Section struct {
	Text string // stdout and stderr
	RC   int    // exit status (-1 when the marker was unreadable)
}

// ParseSections splits "### name" … "### rc N" blocks.
func ParseSections(output string) map[string]Section {
	out := map[string]Section{}
	var name string
	var text strings.Builder
	for _, line := range strings.SplitAfter(output, "\n") {
		switch {
		case strings.HasPrefix(line, "### rc ") && name != "":
			rc, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "### rc ")))
			if err != nil {
				rc = -1
			}
			out[name] = Section{Text: text.String(), RC: rc}
			name = ""
		case strings.HasPrefix(line, "### "):
			name = strings.TrimSpace(strings.TrimPrefix(line, "### "))
			text.Reset()
		default:
			text.WriteString(line)
		}
	}
	return out
}
