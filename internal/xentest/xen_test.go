package xentest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"guestbridge/internal/testenv"
	"guestbridge/internal/vmtest"
	"guestbridge/system"
)

//go:embed dom0init.sh
var dom0Init []byte

//go:embed domUinit.sh
var domUInit []byte

const (
	xenBin          = "/usr/lib/xen-4.17/bin"
	defaultXenCache = "/var/cache/guestbridge-test/xen"
	guestMAC        = "00:16:3e:5a:11:01"
)

func cacheDir(t *testing.T) string {
	dir := os.Getenv("GUESTBRIDGE_XEN_CACHE")
	if dir == "" {
		dir = defaultXenCache
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		dir = filepath.Join(os.TempDir(), "guestbridge-xen-cache")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// hypervisor returns Xen's multiboot ELF: xen-hypervisor-4.17-amd64 is
// fetched with `apt-get download` (installing it would run grub hooks),
// unpacked with dpkg-deb and its boot/xen-4.17-amd64.gz gunzipped, once.
func hypervisor(t *testing.T) string {
	dir := cacheDir(t)
	elf := filepath.Join(dir, "xen-4.17-amd64.elf")
	if _, err := os.Stat(elf); err == nil {
		return elf
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "xen-hypervisor-4.17-amd64_*.deb"))
	if len(debs) == 0 {
		testenv.RequireCommand(t, "apt-get")
		cmd := exec.Command("apt-get", "download", "xen-hypervisor-4.17-amd64")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			testenv.Missing(t, fmt.Sprintf("xen-hypervisor-4.17-amd64 (apt-get download: %v: %s)", err, out))
		}
		debs, _ = filepath.Glob(filepath.Join(dir, "xen-hypervisor-4.17-amd64_*.deb"))
		if len(debs) == 0 {
			t.Fatal("apt-get download left no xen-hypervisor .deb")
		}
	}
	x := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", debs[0], x).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v: %s", err, out)
	}
	gz, err := os.Open(filepath.Join(x, "boot/xen-4.17-amd64.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	tmp := elf + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, zr); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Rename(tmp, elf); err != nil {
		t.Fatal(err)
	}
	return elf
}

// goBuild builds a static binary of pkg.
func goBuild(t *testing.T, pkg, out string) {
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// stage is a directory tree packed as an extra cpio archive.
type stage struct {
	t   *testing.T
	dir string
}

func newStage(t *testing.T) *stage { return &stage{t: t, dir: t.TempDir()} }

func (s *stage) file(guest string, data []byte, mode os.FileMode) {
	p := filepath.Join(s.dir, guest)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		s.t.Fatal(err)
	}
	os.Chmod(p, mode)
}

// copy puts the host file src (symlinks followed) at guest.
func (s *stage) copy(src, guest string) {
	data, err := os.ReadFile(src)
	if err != nil {
		s.t.Fatal(err)
	}
	fi, _ := os.Stat(src)
	s.file(guest, data, fi.Mode().Perm())
}

var lddLine = regexp.MustCompile(`(?m)^\s*(?:\S+ => )?(/\S+) \(0x`)

// binary copies a dynamically linked program with every library ldd lists,
// the loader, and libgcc_s (glibc dlopens it for pthread_cancel).
func (s *stage) binary(src string) {
	s.copy(src, src)
	out, err := exec.Command("ldd", src).Output()
	if err != nil {
		return // static
	}
	for _, m := range lddLine.FindAllStringSubmatch(string(out), -1) {
		s.copy(m[1], m[1])
	}
	for _, p := range []string{"/lib/x86_64-linux-gnu/libgcc_s.so.1", "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"} {
		if _, err := os.Stat(p); err == nil {
			s.copy(p, "/lib/x86_64-linux-gnu/libgcc_s.so.1")
			break
		}
	}
}

// cpio appends the stage as a newc archive to w.
func (s *stage) cpio(w io.Writer) {
	var names []string
	filepath.Walk(s.dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != s.dir {
			rel, _ := filepath.Rel(s.dir, p)
			names = append(names, rel)
		}
		return nil
	})
	sort.Strings(names)
	cmd := exec.Command("cpio", "-o", "-H", "newc", "--quiet")
	cmd.Dir = s.dir
	cmd.Stdin = strings.NewReader(strings.Join(names, "\n") + "\n")
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("cpio: %v: %s", err, stderr.String())
	}
}

// initramfs writes vmtest's busybox base (with modules and init) followed
// by the stage to path.
func initramfs(t *testing.T, k vmtest.Kernel, modules []string, init []byte, st *stage, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := vmtest.WriteInitramfs(f, k, modules, init); err != nil {
		if vmtest.IsMissing(err) {
			testenv.Missing(t, err.Error())
		}
		t.Fatal(err)
	}
	st.cpio(f)
}

// result is one XENTEST line from dom0.
type result map[string]any

func (r result) str(k string) string { s, _ := r[k].(string); return s }

func (r result) num(k string) float64 { f, _ := r[k].(float64); return f }

func TestXenEndToEnd(t *testing.T) {
	for _, c := range []string{"qemu-system-x86_64", "cpio", "ldd", "dpkg-deb", "openssl", "xenstore-write", "go"} {
		testenv.RequireCommand(t, c)
	}
	for _, f := range []string{xenBin + "/xenstored", xenBin + "/xl", xenBin + "/xen-init-dom0", xenBin + "/xenconsoled", xenBin + "/libxl-save-helper"} {
		testenv.RequireFile(t, f)
	}
	k, err := vmtest.HostKernel()
	if err != nil {
		if vmtest.IsMissing(err) {
			testenv.Missing(t, err.Error())
		}
		t.Fatal(err)
	}
	xen := hypervisor(t)
	work := t.TempDir()
	gb, xh := filepath.Join(work, "guestbridge"), filepath.Join(work, "xenhost")
	goBuild(t, "guestbridge/cmd/guestbridge", gb)
	goBuild(t, "guestbridge/internal/xentest/xenhost", xh)

	// The guest: guestbridge, xenstore-utils for its reports, a minimal /etc.
	g := newStage(t)
	g.copy(gb, "/usr/sbin/guestbridge")
	for _, tool := range []string{"xenstore-read", "xenstore-write", "xenstore-ls"} {
		g.binary("/usr/bin/" + tool)
	}
	g.file("/etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	g.file("/etc/shadow", []byte("root:*:20000:0:99999:7:::\n"), 0o640)
	g.file("/etc/hostname", []byte("localhost\n"), 0o644)
	g.file("/etc/hosts", []byte("127.0.0.1 localhost\n"), 0o644)
	domU := filepath.Join(work, "domU.cpio")
	initramfs(t, k, []string{"xen-netfront"}, domUInit, g, domU)

	// dom0: Xen's tools, xenhost, openssl, the guest's kernel and initramfs.
	d := newStage(t)
	for _, b := range []string{"xenstored", "xl", "xen-init-dom0", "xenconsoled", "libxl-save-helper"} {
		d.binary(xenBin + "/" + b)
	}
	for _, tool := range []string{"xenstore-read", "xenstore-write", "xenstore-rm", "xenstore-ls", "xenstore-chmod", "xenstore-exists"} {
		d.binary("/usr/bin/" + tool)
	}
	osl, _ := exec.LookPath("openssl")
	d.binary(osl)
	d.copy(xh, "/xenhost")
	d.copy(k.Boot, "/boot/vmlinux")
	d.copy(domU, "/boot/domU.cpio")
	d.file("/etc/xen/xl.conf", []byte("autoballoon=\"off\"\n"), 0o644)
	d.file("/etc/xen/scripts/vif-test", []byte(`#!/bin/sh
# The backend is attached to nothing: only tell libxl the device is ready.
case "$1" in online|add) xenstore-write "$XENBUS_PATH/hotplug-status" connected ;; esac
exit 0
`), 0o755)
	d.file("/etc/xen/guest.cfg", []byte(`name = "guest"
type = "pv"
kernel = "/boot/vmlinux"
ramdisk = "/boot/domU.cpio"
extra = "console=hvc0 loglevel=4 rdinit=/init panic=-1 nokaslr mitigations=off no_timer_check"
memory = 160
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
vif = [ 'mac=`+guestMAC+`,script=/etc/xen/scripts/vif-test' ]
`), 0o644)
	dom0 := filepath.Join(work, "dom0.cpio")
	initramfs(t, k, []string{"xen-evtchn", "xen-gntdev", "xen-gntalloc", "xen-privcmd", "xenfs", "xen-netback"}, dom0Init, d, dom0)

	release, err := vmtest.AcquireSlot()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	console := filepath.Join(work, "console.log")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dom0Cmd := "console=hvc0 earlyprintk=xen loglevel=1 rdinit=/init panic=-1 nokaslr mitigations=off"
	qemu := exec.CommandContext(ctx, "qemu-system-x86_64",
		"-machine", "pc,accel=tcg", "-cpu", "qemu64,+svm,+npt", "-m", "1536", "-smp", "1",
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-kernel", xen,
		"-append", "console=com1 com1=115200,8n1 serial_tx_buffer=256k dom0_mem=1024M,max:1024M dom0_max_vcpus=1 loglvl=warning guest_loglvl=warning",
		"-initrd", vmtest.QemuEscape(k.Boot)+" "+dom0Cmd+","+vmtest.QemuEscape(dom0),
		"-chardev", "file,id=con,path="+console, "-serial", "chardev:con")
	var qerr bytes.Buffer
	qemu.Stderr = &qerr
	start := time.Now()
	runErr := qemu.Run()
	wall := time.Since(start)
	log, _ := os.ReadFile(console)
	t.Logf("qemu ran %v (%v)", wall.Round(time.Millisecond), runErr)
	if runErr != nil || !bytes.Contains(log, []byte("XENTEST-DONE")) {
		t.Fatalf("Xen run did not finish: %v\n%s\nconsole tail:\n%s", runErr, qerr.String(), vmtest.Tail(string(log), 80))
	}
	results := map[string]result{}
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, "XENTEST {")
		if i < 0 {
			continue
		}
		var r result
		if err := json.Unmarshal([]byte(line[i+len("XENTEST "):]), &r); err != nil {
			t.Errorf("bad result line %q: %v", line, err)
			continue
		}
		results[r.str("step")] = r
		if e := r.str("error"); e != "" {
			t.Errorf("dom0 step %s failed: %s", r.str("step"), e)
		}
	}
	guestConsole := between(string(log), "XENTEST-GUEST-CONSOLE-BEGIN", "XENTEST-GUEST-CONSOLE-END")
	defer func() {
		if t.Failed() {
			t.Logf("guest console:\n%s", vmtest.Tail(guestConsole, 120))
			t.Logf("dom0 console tail:\n%s", vmtest.Tail(string(log), 60))
		}
	}()
	check(t, results)
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		s = s[:j]
	}
	return s
}

// check asserts what dom0 and the guest reported.
func check(t *testing.T, rs map[string]result) {
	t.Helper()
	get := func(step string) result {
		r, ok := rs[step]
		if !ok {
			t.Errorf("no result for step %s", step)
			return result{}
		}
		if e := r.str("err"); e != "" {
			t.Errorf("step %s: %s", step, e)
		}
		return r
	}
	t.Logf("xl create -p: %v ms", get("create").num("ms"))
	if p := get("vmdata").str("perms"); !strings.Contains(p, "(n0,r") {
		t.Errorf("vm-data permissions %q: want owner dom0, read for the guest", p)
	}

	boot := get("boot")
	if boot.str("hostname") != "xen-guest-1" {
		t.Errorf("after boot the guest's hostname is %q, want xen-guest-1 (vm-data)", boot.str("hostname"))
	}
	if !strings.Contains(boot.str("addr"), "198.18.7.10/24") {
		t.Errorf("after boot eth0 (netfront) has %q, want 198.18.7.10/24 from vm-data", boot.str("addr"))
	}
	if !strings.Contains(boot.str("route"), "198.18.7.1") {
		t.Errorf("after boot the default route is %q, want via 198.18.7.1", boot.str("route"))
	}
	if boot.str("bootrc") != "0" {
		t.Errorf("guestbridge boot exited %s:\n%s", boot.str("bootrc"), boot.str("bootlog"))
	}
	if w := boot.str("vmdatawrite"); strings.HasPrefix(w, "rc=0") || w == "" {
		t.Errorf("the guest could write vm-data: %q", w)
	}
	pid := boot.str("agentpid")
	if pid == "" || pid == "dead" {
		t.Errorf("agent started before XenStore is not running at boot: %q", pid)
	}

	ver := get("version")
	if ver.str("version") != "0.1.0" && ver.str("version") == "" {
		t.Errorf("version = %q", ver.str("version"))
	}
	rtts := floats(ver["rtt_ms"])
	if len(rtts) != 10 {
		t.Errorf("version round trips: %v", rtts)
	} else {
		t.Logf("version round trip from dom0 (Nova's plugin: xenstore-write, xenstore-read every 0.5 s): %s", stats(rtts))
	}
	if w := floats(ver["watch_rtt_ms"]); len(w) != 10 {
		t.Errorf("watch round trips: %v", w)
	} else {
		t.Logf("version round trip from dom0 (watching the reply, no polling): %s", stats(w))
	}
	feats := strings.Split(get("features").str("features"), ",")
	for _, f := range []string{"version", "keyinit", "password", "resetnetwork", "injectfile", "file_inject"} {
		if !slices.Contains(feats, f) {
			t.Errorf("features %q lack %s", feats, f)
		}
	}
	for _, md := range []string{"md5", "default"} {
		r := get("password-" + md)
		t.Logf("keyinit + password (-md %s): %v ms", md, r.num("ms"))
	}
	t.Logf("file_inject: %v ms; resetnetwork: %v ms", get("injectfile").num("ms"), get("resetnetwork").num("ms"))

	// The error reply reached "Nova" as a JSON object through xenstore-read.
	var rep map[string]string
	raw := get("errorreply").str("raw")
	if err := json.Unmarshal([]byte(raw), &rep); err != nil || rep["returncode"] != "500" {
		t.Errorf("error reply through xenstore-read = %s (%v); want a JSON object with returncode 500", raw, err)
	} else {
		var msg string
		if err := json.Unmarshal([]byte(`"`+rep["message"]+`"`), &msg); err != nil || !strings.Contains(msg, `rel/\"ünï\"\\x`) {
			t.Errorf("error message %q decodes to %q (%v)", rep["message"], msg, err)
		}
	}

	mid := get("mid")
	if !strings.Contains(mid.str("addr"), "198.18.7.20/24") || strings.Contains(mid.str("addr"), "198.18.7.10/") {
		t.Errorf("after vm-data changed and resetnetwork eth0 has %q, want only 198.18.7.20/24", mid.str("addr"))
	}
	if h := mid.str("shadow"); !system.VerifyPassword(h, "Xen-default-pässword") {
		t.Errorf("the guest's shadow hash %q does not verify the password set last", h)
	}
	if mid.str("injected") != "injected from dom0" {
		t.Errorf("injected file in the guest = %q", mid.str("injected"))
	}
	if mid.str("agentpid") != pid {
		t.Errorf("agent pid %q after the requests, %q at boot", mid.str("agentpid"), pid)
	}

	rst := get("restore")
	t.Logf("xl save %v ms, xl restore %v ms; first answer %v ms after restore returned (that round trip %v ms); then %s",
		rst.num("save_ms"), rst.num("restore_ms"), rst.num("first_answer_ms"), rst.num("first_rtt_ms"), stats(floats(rst["rtt_ms"])))
	t.Logf("after restore, watching the reply: %s", stats(floats(rst["watch_rtt_ms"])))
	if rst.str("version") == "" {
		t.Errorf("no answer after restore")
	}
	final := get("final")
	if final.str("agentpid") != pid {
		t.Errorf("after save/restore the agent pid is %q, was %q: it must answer without a restart", final.str("agentpid"), pid)
	}
	if end := get("end"); end != nil {
		t.Logf("dom0 scenario took %v ms", end.num("total_ms"))
	}
}

func floats(v any) []float64 {
	var out []float64
	if a, ok := v.([]any); ok {
		for _, x := range a {
			if f, ok := x.(float64); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

func stats(v []float64) string {
	if len(v) == 0 {
		return "no samples"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return fmt.Sprintf("min %.1f ms, median %.1f ms, max %.1f ms (n=%d)", s[0], s[len(s)/2], s[len(s)-1], len(s))
}
