package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"guestbridge/provision"
	"guestbridge/xenstore/xenstoretest"
)

// sampleHostsLine is the /etc/hosts line the sample drive's hostname gets.
const sampleHostsLine = "127.0.1.1 web-1.example.org web-1 # guestbridge\n"

// Issue 12: steps.hosts had no effect (one step wrote /etc/hostname and
// /etc/hosts together). Now each of the two is its own part: turned off in
// the settings it leaves its file alone while the other still changes, and
// status names it as skipped with the setting's origin.
func TestStepsHostnameAndHostsEachOff(t *testing.T) {
	for _, c := range []struct {
		off, on        string
		hostname       string // /etc/hostname afterwards
		hostsHasLine   bool
		wantOut, noOut string
	}{
		{"hosts", "hostname", "web-1\n", false, "hostname: set web-1.example.org", "hosts:"},
		{"hostname", "hosts", "localhost\n", true, "hosts: map web-1.example.org to 127.0.1.1", "hostname:"},
	} {
		t.Run(c.off+" off", func(t *testing.T) {
			root := offlineImage(t)
			conf := writeConf(t, root, "[steps]\n"+c.off+" = false\n")
			st := filepath.Join(root, "st")
			rc, out, stderr := runCLI(t, "apply", "--source", "configdrive:"+sampleISO, "--root", root, "--state-dir", st)
			if rc != 0 || !strings.Contains(out, c.wantOut) || strings.Contains(out, c.noOut) {
				t.Fatalf("apply rc %d, want 0, %q and no %q line:\n%s\n%s", rc, c.wantOut, c.noOut, out, stderr)
			}
			if b, _ := os.ReadFile(filepath.Join(root, "etc/hostname")); string(b) != c.hostname {
				t.Errorf("/etc/hostname %q, want %q", b, c.hostname)
			}
			hosts, _ := os.ReadFile(filepath.Join(root, "etc/hosts"))
			if c.hostsHasLine != strings.Contains(string(hosts), sampleHostsLine) {
				t.Errorf("/etc/hosts (line wanted: %v):\n%s", c.hostsHasLine, hosts)
			}
			if !c.hostsHasLine && string(hosts) != "127.0.0.1 localhost\n" {
				t.Errorf("steps.hosts = false, yet /etc/hosts changed:\n%s", hosts)
			}
			rc, out, _ = runCLI(t, "status", "--state-dir", st, "--long")
			if rc != 0 || !strings.Contains(out, c.off+": skipped: steps."+c.off+" = false ("+conf+":2)\n") ||
				!strings.Contains(out, c.on+": changed\n") {
				t.Errorf("status rc %d, want 0, %s skipped (from %s:2) and %s changed:\n%s", rc, c.off, conf, c.on, out)
			}
			rc, js, _ := runCLI(t, "status", "--state-dir", st, "--json")
			var rec provision.Record
			if err := json.Unmarshal([]byte(js), &rec); err != nil || rc != 0 {
				t.Fatalf("status --json rc %d: %v\n%s", rc, err, js)
			}
			results := map[string]string{}
			for _, s := range rec.Steps {
				results[s.Part] = s.Result
			}
			if results[c.off] != "skipped" || results[c.on] != "changed" {
				t.Errorf("status --json steps %v", results)
			}
			// A second run: nothing left to do, the part still off.
			if rc, out, _ := runCLI(t, "apply", "--source", "configdrive:"+sampleISO, "--root", root, "--state-dir", st); rc != 0 || strings.TrimSpace(out) != "no changes" {
				t.Errorf("second apply rc %d: %q", rc, out)
			}
		})
	}
}

// --only hosts runs the hosts part alone; --only hostname the other.
func TestApplyOnlyHosts(t *testing.T) {
	root := offlineImage(t)
	rc, out, stderr := runCLI(t, "apply", "--source", "configdrive:"+sampleISO, "--root", root, "--only", "hosts", "--state-dir", t.TempDir())
	if rc != 0 || strings.TrimSpace(out) != "hosts: map web-1.example.org to 127.0.1.1" {
		t.Fatalf("rc %d out %q stderr %q", rc, out, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/hostname")); string(b) != "localhost\n" {
		t.Errorf("--only hosts changed /etc/hostname to %q", b)
	}
	rc, out, _ = runCLI(t, "apply", "--source", "configdrive:"+sampleISO, "--root", root, "--only", "hostname", "--state-dir", t.TempDir())
	if rc != 0 || strings.TrimSpace(out) != "hostname: set web-1.example.org" {
		t.Errorf("--only hostname: rc %d out %q", rc, out)
	}
}

// An /etc/hosts that is a directory fails the hosts part only: apply exits
// 3 (partial), the hostname and the other parts apply, status is degraded
// and names the hosts part.
func TestBrokenEtcHostsFailsOnlyHosts(t *testing.T) {
	root := offlineImage(t)
	os.Remove(filepath.Join(root, "etc/hosts"))
	if err := mkdirAll(root, "etc/hosts"); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(root, "st")
	rc, out, stderr := runCLI(t, "apply", "--source", "configdrive:"+sampleISO, "--root", root, "--state-dir", st)
	if rc != 3 || !strings.Contains(out, "hostname: set web-1.example.org") || !strings.Contains(stderr, "hosts: ") {
		t.Fatalf("apply rc %d, want 3 with the hostname set and a hosts error:\n%s\n%s", rc, out, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/hostname")); string(b) != "web-1\n" {
		t.Errorf("/etc/hostname %q", b)
	}
	rc, out, _ = runCLI(t, "status", "--state-dir", st, "--long")
	if rc != statusDegraded || !strings.Contains(out, "\nhosts: failed: ") || !strings.Contains(out, "\nhostname: changed\n") ||
		strings.Contains(out, "hostname: failed") {
		t.Errorf("status rc %d, want %d with only hosts failed:\n%s", rc, statusDegraded, out)
	}
}

// The agent's resetnetwork ran every part whatever the settings said; now
// steps.hosts = false keeps /etc/hosts untouched there too, while the
// hostname from vm-data is set.
func TestAgentResetNetworkHonoursStepsHosts(t *testing.T) {
	xs := xenstoretest.NewServer(t)
	xs.Set("vm-data/hostname", []byte("rax-test"))
	xs.Set("vm", []byte("/vm/6d2b1c3a-6a7e-4f5e-9d0c-1b2a3c4d5e6f"))
	root := offlineImage(t)
	writeConf(t, root, "[steps]\nhosts = false\n")
	a := startAgent(t, xs.SocketPath(), "--root", root, "--mode", "apply", "--metrics-interval", "0", "--state-dir", t.TempDir())
	agentErr := a.log
	if r := a.send("resetnetwork"); r["returncode"] != "0" {
		t.Fatalf("resetnetwork reply %v\nagent: %s", r, agentErr.String())
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/hostname")); string(b) != "rax-test\n" {
		t.Errorf("/etc/hostname %q, want rax-test\nagent: %s", b, agentErr.String())
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/hosts")); string(b) != "127.0.0.1 localhost\n" {
		t.Errorf("steps.hosts = false, yet resetnetwork changed /etc/hosts:\n%s", b)
	}
}
