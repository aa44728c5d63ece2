package nltest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"guestbridge/internal/testenv"
)

// Dnsmasq starts dnsmasq (package dnsmasq-base) in the foreground inside
// n, serving only iface, with the given extra arguments (--dhcp-range=…,
// --dhcp-option=…, --enable-ra). DNS is off (--port=0). It is killed at the
// end of the test.
func (n *NS) Dnsmasq(t testing.TB, iface string, args ...string) {
	t.Helper()
	bin := testenv.RequireCommand(t, "dnsmasq")
	dir := t.TempDir()
	all := append([]string{"netns", "exec", n.Name, bin,
		"--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=" + iface,
		"--bind-interfaces", "--except-interface=lo",
		"--dhcp-leasefile=" + filepath.Join(dir, "leases"), "--pid-file=" + filepath.Join(dir, "pid"),
		"--log-dhcp", "--no-ping", // no 3 s ICMP probe before each offer
	}, args...)
	cmd := exec.Command("ip", all...)
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dnsmasq: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("dnsmasq log:\n%s", b)
		}
	})
	// In the foreground dnsmasq writes no pid file; it logs one of these
	// lines once its DHCP sockets are bound or RA is running (ra-only).
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(dir, "log"))
		if bytes.Contains(b, []byte("sockets bound exclusively")) || bytes.Contains(b, []byte("router advertisement enabled")) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "log"))
	t.Fatalf("dnsmasq did not start:\n%s", b)
}

// Eventually polls cond every 100 ms until it is true or timeout passes.
func Eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
