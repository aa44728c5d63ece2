package main

import (
	"regexp"
	"strings"
	"testing"

	"guestbridge/internal/testenv"
)

// Issue 8: show --format json printed MACs as base64.
func TestShowJSONPrintsMACsAsText(t *testing.T) {
	rc, out, stderr := runCLI(t, "show", "--source", "configdrive:"+sampleISO, "--format", "json")
	if rc != 0 {
		t.Fatalf("rc %d: %s", rc, stderr)
	}
	if !regexp.MustCompile(`"(?i:mac)": "([0-9a-f]{2}:){5}[0-9a-f]{2}"`).MatchString(out) {
		t.Errorf("no MAC in colon form:\n%s", out)
	}
	if regexp.MustCompile(`"(?i:mac)": "[A-Za-z0-9+/]{7}=`).MatchString(out) {
		t.Errorf("a MAC is still base64:\n%s", out)
	}
}

// Issue 8: seed --dir "" silently wrote the live seed directory.
func TestSeedEmptyDirIsUsageError(t *testing.T) {
	root := offlineImage(t)
	if rc, _, stderr := runCLI(t, "seed", "--source", "configdrive:"+sampleISO, "--root", root, "--dir", ""); rc != 2 {
		t.Errorf("rc %d (%s), want 2", rc, stderr)
	}
}

// Issue 8: extra positional arguments were ignored.
func TestExtraPositionalArgsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"show", "--source", "configdrive:" + sampleISO, "extra"},
		{"apply", "--dry-run", "network"},
		{"detect", "now"},
		{"version", "2"},
		{"boot", "--root", t.TempDir(), "x"},
	} {
		if rc, _, stderr := runCLI(t, args...); rc != 2 || !strings.Contains(stderr, "unexpected argument") {
			t.Errorf("%q: rc %d stderr %q, want 2", args, rc, stderr)
		}
	}
}

// Issue 8: apply --only "" meant everything.
func TestApplyOnlyEmptyIsUsageError(t *testing.T) {
	root := offlineImage(t)
	rc, out, stderr := runCLI(t, "apply", "--source", "configdrive:"+sampleISO, "--root", root, "--only", "")
	if rc != 2 || out != "" {
		t.Errorf("rc %d out %q stderr %q, want 2 and nothing applied", rc, out, stderr)
	}
}

// Issue 8: detect and detect --json disagreed on the exit status.
func TestDetectJSONExitStatusMatchesText(t *testing.T) {
	t.Setenv("XENSTORED_PATH", t.TempDir()+"/no-socket")
	rcText, _, _ := runCLI(t, "detect")
	if rcText == 0 {
		testenv.Missing(t, "a machine without a source of its own")
	}
	rcJSON, out, _ := runCLI(t, "detect", "--json")
	if rcJSON != rcText || strings.TrimSpace(out) != "[]" {
		t.Errorf("detect rc %d, detect --json rc %d out %q", rcText, rcJSON, out)
	}
}

// Issue 8: a partial apply exited 1 and README promised "nothing was
// changed"; now it exits 3 and what was applied stays.
func TestApplyPartialExitsThree(t *testing.T) {
	root := offlineImage(t)
	if err := mkdirAll(root, "etc/motd"); err != nil { // the injected file cannot be written
		t.Fatal(err)
	}
	rc, out, stderr := runCLI(t, "apply", "--source", "configdrive:"+sampleISO, "--root", root)
	if rc != 3 || !strings.Contains(out, "hostname:") || !strings.Contains(stderr, "/etc/motd") {
		t.Errorf("rc %d out %q stderr %q, want 3, the hostname set and the file's error", rc, out, stderr)
	}
}
