package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"guestbridge/provision"
)

// status's three exit codes, each after a real apply of the sample config
// drive: into a good image (healthy, 0), an image whose /root is a file so
// the keys step fails while the others apply (degraded, 2), and an image in
// which every target is a directory so every step fails (failed, 1).
func TestStatusAfterRealApplies(t *testing.T) {
	for _, c := range []struct {
		name      string
		break_    func(root string)
		applyRC   int
		statusRC  int
		status    string
		wantLines []string
	}{
		{"healthy", func(string) {}, 0, 0, "ok", []string{"keys: skipped: steps.keys = false ("}},
		{"degraded", func(root string) {
			os.RemoveAll(filepath.Join(root, "root"))
			os.WriteFile(filepath.Join(root, "root"), nil, 0o644)
		}, 3, 2, "partial", []string{"keys: failed: ", "files: changed"}},
		{"failed", func(root string) {
			os.RemoveAll(filepath.Join(root, "root"))
			os.WriteFile(filepath.Join(root, "root"), nil, 0o644)
			for _, p := range []string{"etc/hostname", "etc/hosts", "etc/resolv.conf", "etc/motd"} {
				os.Remove(filepath.Join(root, p))
				os.MkdirAll(filepath.Join(root, p), 0o755)
			}
		}, 1, 1, "failed", []string{"hostname: failed", "dns: failed", "files: failed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := offlineImage(t)
			c.break_(root)
			args := []string{"apply", "--source", "configdrive:" + sampleISO, "--root", root, "--state-dir", filepath.Join(root, "st")}
			if c.name == "healthy" {
				writeConf(t, root, "[steps]\nkeys = false\n")
			}
			if rc, out, stderr := runCLI(t, args...); rc != c.applyRC {
				t.Fatalf("apply rc %d, want %d\n%s\n%s", rc, c.applyRC, out, stderr)
			}
			rc, out, stderr := runCLI(t, "status", "--state-dir", filepath.Join(root, "st"), "--long")
			if rc != c.statusRC || !strings.Contains(out, "status: "+c.status+"\n") {
				t.Errorf("status rc %d, want %d and status %s:\n%s%s", rc, c.statusRC, c.status, out, stderr)
			}
			for _, w := range c.wantLines {
				if !strings.Contains(out, w) {
					t.Errorf("status --long lacks %q:\n%s", w, out)
				}
			}
			// The record is world-readable and holds no secret.
			p := filepath.Join(root, "st", provision.StatusFile)
			st, err := os.Stat(p)
			if err != nil || st.Mode().Perm() != 0o644 {
				t.Errorf("record %s: %v, mode %v; want 0644", p, err, st)
			}
			b, _ := os.ReadFile(p)
			if strings.Contains(string(b), "ssh-") || strings.Contains(string(b), "AAAA") {
				t.Errorf("record holds key material:\n%s", b)
			}
			rc, js, _ := runCLI(t, "status", "--state-dir", filepath.Join(root, "st"), "--json")
			var rec provision.Record
			if err := json.Unmarshal([]byte(js), &rec); err != nil || rc != c.statusRC || rec.Status != c.status || rec.Command != "apply" {
				t.Errorf("status --json: rc %d err %v record %+v", rc, err, rec)
			}
		})
	}
}

// No record yet: status says so and is not an error.
func TestStatusNotRun(t *testing.T) {
	rc, out, _ := runCLI(t, "status", "--state-dir", t.TempDir())
	if rc != 0 || !strings.Contains(out, "not-run") {
		t.Errorf("rc %d out %q", rc, out)
	}
}
