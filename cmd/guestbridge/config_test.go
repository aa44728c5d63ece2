package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"guestbridge/settings"
	"guestbridge/xenstore/xenstoretest"
)

// writeConf puts a settings file at its place inside root.
func writeConf(t *testing.T, root, text string) string {
	t.Helper()
	p := filepath.Join(root, settings.DefaultPath)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The file inside --root is read; `config --json` names each value's origin.
func TestConfigShowsFileValuesAndOrigins(t *testing.T) {
	root := t.TempDir()
	p := writeConf(t, root, "[main]\nmode = seed\n[steps]\nkeys = no\nfrobnicate = 1\n")
	rc, out, stderr := runCLI(t, "config", "--root", root, "--json")
	if rc != 0 {
		t.Fatalf("rc %d: %s", rc, stderr)
	}
	var got struct {
		Settings []settings.Value
		Warnings []string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]settings.Value{
		"main.mode":  {Key: "main.mode", Value: "seed", Origin: p + ":2"},
		"steps.keys": {Key: "steps.keys", Value: "false", Origin: p + ":4"},
		"steps.dns":  {Key: "steps.dns", Value: "true", Origin: "default"},
	}
	for _, v := range got.Settings {
		if w, ok := want[v.Key]; ok && v != w {
			t.Errorf("%s = %+v, want %+v", v.Key, v, w)
		}
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "frobnicate") {
		t.Errorf("warnings %q, want one about frobnicate", got.Warnings)
	}
	// The text form is itself a settings file that reads back the same.
	rc, text, _ := runCLI(t, "config", "--root", root)
	if rc != 0 || !strings.Contains(text, "[steps]") {
		t.Fatalf("config: rc %d\n%s", rc, text)
	}
	back := filepath.Join(t.TempDir(), "back.conf")
	os.WriteFile(back, []byte(text), 0o644)
	s, err := settings.Load(back, "")
	if err != nil || s.String("main.mode") != "seed" || s.StepEnabled("keys") {
		t.Errorf("printed config does not read back: err %v, warnings %q", err, s.Warnings)
	}
}

// The kernel command line outranks the file (live system only).
func TestConfigKernelCmdline(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "g.conf")
	os.WriteFile(conf, []byte("[main]\nenabled = true\nmode = apply\n"), 0o644)
	cmdline := filepath.Join(dir, "cmdline")
	os.WriteFile(cmdline, []byte("quiet guestbridge=disabled guestbridge.refuse=password\n"), 0o644)
	old := cmdlinePath
	cmdlinePath = cmdline
	t.Cleanup(func() { cmdlinePath = old })
	rc, out, stderr := runCLI(t, "config", "--config", conf, "--json")
	if rc != 0 {
		t.Fatalf("rc %d: %s", rc, stderr)
	}
	for _, want := range []string{`"key": "main.enabled",
      "value": "false",
      "origin": "kernel command line"`, `"key": "commands.password",
      "value": "false",
      "origin": "kernel command line"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

// main.enabled=false (file) or the marker makes boot exit 0 saying why,
// without touching the image.
func TestBootDisabled(t *testing.T) {
	for name, setup := range map[string]func(root string){
		"file": func(root string) { writeConf(t, root, "[main]\nenabled = false\n") },
		"marker": func(root string) {
			os.MkdirAll(filepath.Join(root, "etc/guestbridge"), 0o755)
			os.WriteFile(filepath.Join(root, disabledMarker), nil, 0o644)
		},
	} {
		t.Run(name, func(t *testing.T) {
			root := offlineImage(t)
			setup(root)
			rc, out, stderr := runCLI(t, "boot", "--source", "configdrive:"+sampleISO, "--root", root, "--mode", "apply", "--state-dir", t.TempDir())
			if rc != 0 || !strings.Contains(out, "disabled") {
				t.Errorf("rc %d out %q stderr %q: want 0 and a message saying disabled", rc, out, stderr)
			}
			if b, _ := os.ReadFile(filepath.Join(root, "etc/hostname")); string(b) != "localhost\n" {
				t.Errorf("disabled boot changed /etc/hostname: %q", b)
			}
		})
	}
}

// File < flag: the file's mode is used unless --mode is given; steps the
// file turns off are not applied.
func TestBootSettingsPrecedenceAndSteps(t *testing.T) {
	root := offlineImage(t)
	writeConf(t, root, "[main]\nmode = apply\n[steps]\nkeys = false\nfiles = off\n")
	rc, out, stderr := runCLI(t, "boot", "--source", "configdrive:"+sampleISO, "--root", root, "--state-dir", t.TempDir())
	if rc != 0 || !strings.Contains(out, "mode apply: main.mode = apply (") {
		t.Fatalf("rc %d, want mode apply from the file:\n%s\n%s", rc, out, stderr)
	}
	if !strings.Contains(out, "hostname") {
		t.Errorf("hostname step did not run:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "root/.ssh/authorized_keys")); err == nil {
		t.Errorf("steps.keys = false, yet keys were written")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/motd")); err == nil {
		t.Errorf("steps.files = off, yet files were injected")
	}
	// An explicit flag wins over the file.
	root2 := offlineImage(t)
	writeConf(t, root2, "[main]\nmode = apply\n")
	rc, out, _ = runCLI(t, "boot", "--source", "configdrive:"+sampleISO, "--root", root2, "--mode", "seed", "--state-dir", t.TempDir())
	if !strings.Contains(out, "mode seed: --mode seed") {
		t.Errorf("rc %d: --mode seed did not override the file:\n%s", rc, out)
	}
}

// A command the settings refuse gets a failure reply naming the setting;
// allowed commands still answer.
func TestAgentRefusesCommandsFromSettings(t *testing.T) {
	xs := xenstoretest.NewServer(t)
	root := offlineImage(t)
	writeConf(t, root, "[commands]\npassword = false\nkeyinit = no\n")
	stateDir := t.TempDir()
	send := startAgent(t, xs.SocketPath(), "--root", root, "--mode", "seed", "--state-dir", stateDir).send
	for _, c := range []struct{ cmd, value, setting string }{
		{"keyinit", "12345", "commands.keyinit = false"},
		{"password", "x", "commands.password = false"},
		{"agentupdate", "http://198.18.0.1/a,00", "commands.agentupdate = false, from default"},
	} {
		r := send(c.cmd, c.value)
		if r["returncode"] != "500" || !strings.Contains(r["message"], c.setting) {
			t.Errorf("%s: reply %v, want 500 naming %q", c.cmd, r, c.setting)
		}
	}
	if r := send("version", "agent"); r["returncode"] != "0" {
		t.Errorf("version (allowed) reply %v", r)
	}
	// status shows the agent connected and what it refuses.
	rc, out, _ := runCLI(t, "status", "--state-dir", stateDir)
	if rc != 0 || !strings.Contains(out, "XenStore connected") || !strings.Contains(out, "refuses [keyinit password agentupdate]") {
		t.Errorf("status rc %d:\n%s", rc, out)
	}
}

// The shipped example file documents every setting with its default: with
// every `#key = value` line uncommented it must load without a warning,
// name every known key, and change nothing.
func TestExampleConfigIsCompleteAndDefault(t *testing.T) {
	b, err := os.ReadFile("../../dist/guestbridge.conf")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	seen := map[string]bool{}
	section := ""
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "[") {
			section = strings.Trim(l, "[]")
		}
		if k, _, ok := strings.Cut(strings.TrimPrefix(l, "#"), " = "); ok && strings.HasPrefix(l, "#") && !strings.Contains(k, " ") {
			l = strings.TrimPrefix(l, "#")
			seen[section+"."+k] = true
		}
		lines = append(lines, l)
	}
	p := filepath.Join(t.TempDir(), "all.conf")
	os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
	s, err := settings.Load(p, "")
	if err != nil || len(s.Warnings) > 0 {
		t.Fatalf("err %v, warnings %q", err, s.Warnings)
	}
	def := settings.Defaults()
	for _, v := range s.All() {
		if !seen[v.Key] {
			t.Errorf("example file does not document %s", v.Key)
		}
		if d := def.Get(v.Key).Value; v.Value != d {
			t.Errorf("example file gives %s = %s, default is %s", v.Key, v.Value, d)
		}
	}
}
