package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const sampleISO = "../../samples/config-2.iso"

// runCLI runs the CLI in-process and returns exit status, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := run(context.Background(), args, &out, &errb)
	return rc, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"show", "--format", "yaml"},
		{"show", "--source", "floppy"},
		{"show", "--no-such-flag"},
		{"apply", "--only", "network,coffee"},
		{"send"},
	} {
		if rc, _, stderr := runCLI(t, args...); rc != 2 || stderr == "" {
			t.Errorf("%q: rc %d stderr %q, want 2 and a message", args, rc, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	rc, out, _ := runCLI(t, "version")
	if rc != 0 || !strings.HasPrefix(out, "guestbridge ") {
		t.Fatalf("rc %d out %q", rc, out)
	}
}

func TestShowV2FromSampleISO(t *testing.T) {
	rc, out, stderr := runCLI(t, "show", "--source", "configdrive:"+sampleISO, "--format", "v2")
	if rc != 0 {
		t.Fatalf("rc %d: %s", rc, stderr)
	}
	var doc struct {
		Network struct {
			Version   int                       `yaml:"version"`
			Ethernets map[string]map[string]any `yaml:"ethernets"`
		} `yaml:"network"`
	}
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, out)
	}
	if doc.Network.Version != 2 || len(doc.Network.Ethernets) != 2 {
		t.Fatalf("want v2 with 2 ethernets:\n%s", out)
	}
	for _, want := range []string{"198.51.100.10/24", "2001:db8:100::10/64", "fa:16:3e:12:34:01", "dhcp4: true", "mtu: 1450"} {
		if !strings.Contains(out, want) {
			t.Errorf("v2 lacks %q:\n%s", want, out)
		}
	}
}

// writeDrive makes a config-drive directory with the given meta_data.json.
func writeDrive(t *testing.T, metaData string) string {
	t.Helper()
	dir := t.TempDir()
	latest := filepath.Join(dir, "openstack", "latest")
	if err := os.MkdirAll(latest, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(latest, "meta_data.json"), []byte(metaData), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestShowJSONRedactsAdminPass(t *testing.T) {
	drive := writeDrive(t, `{"uuid": "u-1", "hostname": "h1", "admin_pass": "S3cret-pa55"}`)
	rc, out, stderr := runCLI(t, "show", "--source", "configdrive:"+drive, "--format", "json")
	if rc != 0 {
		t.Fatalf("rc %d: %s", rc, stderr)
	}
	if strings.Contains(out+stderr, "S3cret-pa55") || !strings.Contains(out, `"<redacted>"`) {
		t.Fatalf("admin password leaked:\n%s", out)
	}
	var inst map[string]any
	if err := json.Unmarshal([]byte(out), &inst); err != nil {
		t.Fatal(err)
	}
	if inst["instance_id"] != "u-1" || inst["admin_pass"] != "<redacted>" {
		t.Errorf("instance_id %v admin_pass %v", inst["instance_id"], inst["admin_pass"])
	}
}

func TestSeedBadInputWritesNothing(t *testing.T) {
	root := t.TempDir()
	drive := writeDrive(t, `{"uuid": 42}`)
	rc, _, stderr := runCLI(t, "seed", "--source", "configdrive:"+drive, "--root", root, "--pin-datasource")
	if rc != 1 || !strings.Contains(stderr, "meta_data.json") {
		t.Fatalf("rc %d stderr %q: want 1 and a message naming meta_data.json", rc, stderr)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("bad input wrote %v", entries)
	}
}

func TestSeedFromSampleISO(t *testing.T) {
	root := t.TempDir()
	rc, out, stderr := runCLI(t, "seed", "--source", "configdrive:"+sampleISO, "--root", root, "--pin-datasource")
	if rc != 0 {
		t.Fatalf("rc %d: %s", rc, stderr)
	}
	md, err := os.ReadFile(filepath.Join(root, "var/lib/cloud/seed/nocloud/meta-data"))
	if err != nil || !strings.Contains(string(md), "instance-id: 8d0c5f0e-7a1b-4e0c-9c39-3f6a2a0b5e11") {
		t.Fatalf("meta-data: %v\n%s", err, md)
	}
	if !strings.Contains(out, "wrote ") {
		t.Errorf("no report of written files: %q", out)
	}
	rc, out, _ = runCLI(t, "seed", "--source", "configdrive:"+sampleISO, "--root", root, "--pin-datasource")
	if rc != 0 || !strings.Contains(out, "seed unchanged") {
		t.Errorf("second seed: rc %d out %q, want 'seed unchanged'", rc, out)
	}
}

// offlineImage makes a minimal root: passwd, shadow, a home for root.
func offlineImage(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for path, content := range map[string]string{
		"etc/passwd":   "root:x:0:0:root:/root:/bin/sh\n",
		"etc/shadow":   "root:*:19000:0:99999:7:::\n",
		"etc/hostname": "localhost\n",
		"etc/hosts":    "127.0.0.1 localhost\n",
	} {
		p := filepath.Join(root, path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(root, "etc/shadow"), 0o640)
	os.MkdirAll(filepath.Join(root, "root"), 0o700)
	return root
}

func TestApplyOfflineIsIdempotent(t *testing.T) {
	root := offlineImage(t)
	args := []string{"apply", "--source", "configdrive:" + sampleISO, "--root", root}
	rc, out, stderr := runCLI(t, args...)
	if rc != 0 {
		t.Fatalf("rc %d: %s\n%s", rc, out, stderr)
	}
	for _, want := range []string{"hostname", "ssh key", "/etc/motd"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/motd")); !strings.Contains(string(b), "web-1") {
		t.Errorf("injected /etc/motd: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "root/.ssh/authorized_keys")); !strings.Contains(string(b), "ops@example.org") {
		t.Errorf("authorized_keys: %q", b)
	}
	rc, out, stderr = runCLI(t, args...)
	if rc != 0 || strings.TrimSpace(out) != "no changes" {
		t.Errorf("second apply: rc %d out %q stderr %q, want 'no changes'", rc, out, stderr)
	}
}

func mkdirAll(root, p string) error { return os.MkdirAll(filepath.Join(root, p), 0o755) }
