package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"guestbridge/internal/testenv"
	"guestbridge/xenstore/xenstoretest"
)

func raxXenStore(t *testing.T) *xenstoretest.Server {
	xs := xenstoretest.NewServer(t)
	xs.Set("vm-data/networking/BC764E206C5B", mustRead(t, "../../datasource/vmdata/testdata/vmdata/rax-BC764E206C5B.json"))
	xs.Set("vm", []byte("/vm/6d2b1c3a-6a7e-4f5e-9d0c-1b2a3c4d5e6f"))
	return xs
}

func TestShowFromXenStore(t *testing.T) {
	xs := raxXenStore(t)
	rc, out, stderr := runCLI(t, "show", "--source", "xenstore:"+xs.SocketPath())
	if rc != 0 {
		t.Fatalf("rc %d: %s", rc, stderr)
	}
	for _, want := range []string{"bc:76:4e:20:6c:5b", "10.208.227.239/19", "10.176.0.0/12", "via: 10.208.224.1"} {
		if !strings.Contains(out, want) {
			t.Errorf("v2 from vm-data lacks %q:\n%s", want, out)
		}
	}
	rc, out, _ = runCLI(t, "show", "--source", "xenstore:"+xs.SocketPath(), "--format", "json")
	var inst map[string]any
	if rc != 0 || json.Unmarshal([]byte(out), &inst) != nil || inst["instance_id"] != "6d2b1c3a-6a7e-4f5e-9d0c-1b2a3c4d5e6f" {
		t.Errorf("json: rc %d instance %v", rc, inst["instance_id"])
	}
}

// With no config drive on this machine, auto finds XenStore via XENSTORED_PATH.
func TestDetectAndAutoFindXenStore(t *testing.T) {
	xs := raxXenStore(t)
	t.Setenv("XENSTORED_PATH", xs.SocketPath())
	rc, out, stderr := runCLI(t, "detect", "--json")
	if rc != 0 {
		t.Fatalf("detect: rc %d: %s", rc, stderr)
	}
	var found []detected
	if err := json.Unmarshal([]byte(out), &found); err != nil {
		t.Fatal(err)
	}
	var xsFound bool
	for _, d := range found {
		if d.Kind == "xenstore" && d.Path == xs.SocketPath() {
			xsFound = true
		}
		if d.Kind == "configdrive" {
			testenv.Missing(t, "a machine without a config drive (this one has "+d.Path+", which auto would pick)")
		}
	}
	if !xsFound {
		t.Fatalf("detect did not list XenStore at %s: %s", xs.SocketPath(), out)
	}
	rc, out, stderr = runCLI(t, "show")
	if rc != 0 || !strings.Contains(out, "10.208.227.239/19") {
		t.Errorf("show with --source auto: rc %d out %q stderr %q", rc, out, stderr)
	}
}

func TestDetectNothing(t *testing.T) {
	t.Setenv("XENSTORED_PATH", t.TempDir()+"/no-socket")
	rc, _, stderr := runCLI(t, "detect")
	if rc == 0 {
		testenv.Missing(t, "a machine without a source of its own")
	}
	if rc != 1 || !strings.Contains(stderr, "no source found") {
		t.Errorf("rc %d stderr %q", rc, stderr)
	}
}

func TestBootWithoutSourceIsNoFailure(t *testing.T) {
	t.Setenv("XENSTORED_PATH", t.TempDir()+"/no-socket")
	if rc, _, _ := runCLI(t, "detect"); rc == 0 {
		testenv.Missing(t, "a machine without a source of its own")
	}
	rc, out, stderr := runCLI(t, "boot", "--root", t.TempDir())
	if rc != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("boot without a source: rc %d out %q stderr %q, want 0 and 'nothing to do'", rc, out, stderr)
	}
}

// boot on an offline image with cloud-init installed (and enabled: no
// systemd in this image) seeds it, says why, never writes the datasource
// pin (the package installs it, issue 9), and writes nova's injected files
// itself (cloud-init's NoCloud does not).
func TestBootSeedModeWritesFilesNotPin(t *testing.T) {
	root := offlineImage(t)
	os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755)
	os.WriteFile(filepath.Join(root, "usr/bin/cloud-init"), []byte("#!/bin/sh\n"), 0o755)
	rc, out, stderr := runCLI(t, "boot", "--source", "configdrive:"+sampleISO, "--root", root)
	if rc != 0 || !strings.Contains(out, "mode seed: cloud-init is installed and enabled") {
		t.Fatalf("rc %d out %q stderr %q", rc, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/cloud/seed/nocloud/network-config")); err != nil {
		t.Errorf("boot in seed mode did not write the seed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/cloud/cloud.cfg.d/90-guestbridge.cfg")); err == nil {
		t.Error("boot wrote the datasource pin; only the package (or seed --pin-datasource) may")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/motd")); err != nil {
		t.Errorf("seed mode must write the injected /etc/motd itself: %v", err)
	}
}
