package main_test

// The kernel command-line switch for one step, end to end: the real binary
// runs `apply --root /` in its own mount, UTS and network namespaces, where
// /proc/cmdline is a file of the test's saying guestbridge.disable=hosts
// and /etc is a directory of the test's, so nothing of the host changes.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"guestbridge/internal/testenv"
)

// onlyHostnames: every step off but the two the test watches (the sample
// drive carries keys, files and a network that must not reach the host).
const onlyHostnames = "[main]\nmode = apply\n[steps]\nnetwork = false\ndns = false\nkeys = false\npassword = false\nfiles = false\n"

func TestKernelCmdlineDisablesOneStep(t *testing.T) {
	testenv.RequireRoot(t)
	unshare := testenv.RequireCommand(t, "unshare")
	bin := buildGuestbridge(t)
	iso, err := filepath.Abs("../../samples/config-2.iso")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc") // becomes /etc in the namespace
	if err := os.Mkdir(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	const hostsBefore = "127.0.0.1 localhost\n"
	for name, content := range map[string]string{"hosts": hostsBefore, "hostname": "localhost\n"} {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmdline := filepath.Join(dir, "cmdline")
	if err := os.WriteFile(cmdline, []byte("BOOT_IMAGE=/vmlinuz root=/dev/xvda1 ro quiet guestbridge.disable=hosts\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "guestbridge.conf")
	if err := os.WriteFile(conf, []byte(onlyHostnames), 0o644); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(dir, "st")

	// /proc/cmdline first: once /etc is the test's, only the static binary runs.
	script := `mount --bind "$1" /proc/cmdline && mount --bind "$2" /etc || exit 99; shift 2; exec "$@"`
	cmd := exec.Command(unshare, "--mount", "--uts", "--net", "--propagation", "private", "sh", "-c", script, "sh",
		cmdline, etc, bin, "apply", "--source", "configdrive:"+iso, "--root", "/", "--config", conf, "--state-dir", st)
	var out, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 99 {
		t.Fatalf("setting up the namespace failed:\n%s", stderr.String())
	}
	if err != nil || !strings.Contains(out.String(), "hostname: set web-1.example.org") || strings.Contains(out.String(), "hosts:") {
		t.Fatalf("apply: %v, want success, the hostname set and no hosts line:\nstdout:\n%sstderr:\n%s", err, out.String(), stderr.String())
	}
	if b, _ := os.ReadFile(filepath.Join(etc, "hostname")); string(b) != "web-1\n" {
		t.Errorf("/etc/hostname %q, want web-1", b)
	}
	if b, _ := os.ReadFile(filepath.Join(etc, "hosts")); string(b) != hostsBefore {
		t.Errorf("guestbridge.disable=hosts on the kernel command line, yet /etc/hosts changed:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(etc, "hosts.guestbridge.bak")); err == nil {
		t.Errorf("guestbridge.disable=hosts, yet /etc/hosts was backed up (rewritten)")
	}

	rc, text := runBin(t, bin, "status", "--state-dir", st, "--long")
	if rc != 0 || !strings.Contains(text, "\nhosts: skipped: steps.hosts = false (kernel command line)\n") ||
		!strings.Contains(text, "\nhostname: changed\n") {
		t.Errorf("status --long exit %d, want 0, hosts skipped by the kernel command line and hostname changed:\n%s", rc, text)
	}
}
