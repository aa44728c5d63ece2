package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	s := Defaults()
	if !s.Enabled() || s.String("main.mode") != "auto" {
		t.Fatalf("defaults: enabled=%v mode=%q", s.Enabled(), s.String("main.mode"))
	}
	for _, st := range Steps {
		if !s.StepEnabled(st) {
			t.Errorf("step %s off by default", st)
		}
	}
	if s.CommandAllowed("agentupdate") {
		t.Error("agentupdate allowed by default: the host could replace our binary without the user asking")
	}
	if !s.CommandAllowed("password") || !s.CommandAllowed("no-such-command") {
		t.Error("password or unknown commands refused by default")
	}
	if s.Duration("agent.metrics_interval") != time.Minute {
		t.Errorf("metrics interval %v", s.Duration("agent.metrics_interval"))
	}
	if got := s.Get("main.mode").Origin; got != "default" {
		t.Errorf("origin %q", got)
	}
}

func TestFileValuesAndOrigins(t *testing.T) {
	s := Defaults()
	s.Parse("g.conf", []byte(`# a comment
; another
[main]
mode = Apply   # trailing comment
log_level=debug

[steps]
password = no
files = off

[commands]
resetnetwork = false
agentupdate = yes

[agent]
metrics_interval = 0
update = insecure
`))
	if len(s.Warnings) != 0 {
		t.Fatalf("warnings on a good file: %q", s.Warnings)
	}
	if s.String("main.mode") != "apply" || s.String("main.log_level") != "debug" {
		t.Errorf("mode %q level %q", s.String("main.mode"), s.String("main.log_level"))
	}
	if s.StepEnabled("password") || s.StepEnabled("files") || !s.StepEnabled("keys") {
		t.Error("steps not as written")
	}
	if s.CommandAllowed("resetnetwork") || !s.CommandAllowed("agentupdate") {
		t.Error("commands not as written")
	}
	if s.Duration("agent.metrics_interval") != 0 || s.String("agent.update") != "insecure" {
		t.Error("agent section not as written")
	}
	if got := s.Get("main.mode").Origin; got != "g.conf:4" {
		t.Errorf("origin of mode: %q, want g.conf:4", got)
	}
}

// Bad input is a warning naming the line and key, and never costs the rest.
func TestFileBadInputWarnsAndKeepsTheRest(t *testing.T) {
	s := Defaults()
	s.Parse("g.conf", []byte(`stray = 1
[main]
mode = sideways
colour = blue
just words
[nosuch]
mode = apply
[steps
keys = false
[steps]
password = maybe
files = false
`))
	want := []string{
		"g.conf:1: stray is outside any [section]",
		`g.conf:3: main.mode = "sideways": want one of auto, seed, apply; kept auto (default)`,
		`g.conf:4: unknown setting "main.colour"`,
		`g.conf:5: "just words" is not key = value`,
		"g.conf:6: unknown section [nosuch]",
		"g.conf:8: section header",
		`g.conf:11: steps.password = "maybe": want true or false`,
	}
	if len(s.Warnings) != len(want) {
		t.Fatalf("got %d warnings, want %d:\n%s", len(s.Warnings), len(want), strings.Join(s.Warnings, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(s.Warnings[i], w) {
			t.Errorf("warning %d = %q, want prefix %q", i, s.Warnings[i], w)
		}
	}
	if s.String("main.mode") != "auto" {
		t.Error("[nosuch] mode = apply leaked into main")
	}
	if !s.StepEnabled("keys") {
		t.Error("keys under a broken header applied")
	}
	if !s.StepEnabled("password") || s.StepEnabled("files") {
		t.Error("bad password value changed it, or the good line after it was lost")
	}
}

func TestKernelCmdline(t *testing.T) {
	s := Defaults()
	s.ApplyKernelCmdline(`BOOT_IMAGE=/vmlinuz root=/dev/vda1 quiet guestbridge.mode=seed guestbridge.disable=password,Files guestbridge.refuse=injectfile guestbridge.agent.metrics_interval="5m" guestbridge.steps.nosuch=1 guestbridge.mode=bogus`)
	if s.String("main.mode") != "seed" {
		t.Errorf("mode %q", s.String("main.mode"))
	}
	if s.StepEnabled("password") || s.StepEnabled("files") || !s.StepEnabled("network") {
		t.Error("guestbridge.disable not applied")
	}
	if s.CommandAllowed("injectfile") {
		t.Error("guestbridge.refuse not applied")
	}
	if s.Duration("agent.metrics_interval") != 5*time.Minute {
		t.Errorf("quoted value: %v", s.Duration("agent.metrics_interval"))
	}
	if s.Get("main.mode").Origin != KernelOrigin {
		t.Errorf("origin %q", s.Get("main.mode").Origin)
	}
	if len(s.Warnings) != 2 {
		t.Fatalf("want 2 warnings (nosuch, bogus), got %q", s.Warnings)
	}
	if !s.Enabled() {
		t.Error("disabled without guestbridge=disabled")
	}
	s.ApplyKernelCmdline("guestbridge=disabled")
	if s.Enabled() {
		t.Error("guestbridge=disabled ignored")
	}
}

// Precedence: default < file < kernel command line < flag.
func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "guestbridge.conf")
	cmdline := filepath.Join(dir, "cmdline")
	os.WriteFile(conf, []byte("[main]\nmode = apply\nlog_level = warn\n[steps]\nkeys = false\nfiles = false\n"), 0o644)
	os.WriteFile(cmdline, []byte("ro guestbridge.mode=seed guestbridge.steps.keys=true\n"), 0o644)
	s, err := Load(conf, cmdline)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Get("main.log_level"); got.Value != "warn" || got.Origin != conf+":3" {
		t.Errorf("file over default: %+v", got)
	}
	if got := s.Get("main.mode"); got.Value != "seed" || got.Origin != KernelOrigin {
		t.Errorf("kernel over file: %+v", got)
	}
	if !s.StepEnabled("keys") || s.StepEnabled("files") {
		t.Error("kernel should re-enable keys and leave files off")
	}
	if err := s.Set("main.mode", "apply", "flag --mode"); err != nil {
		t.Fatal(err)
	}
	if got := s.Get("main.mode"); got.Value != "apply" || got.Origin != "flag --mode" {
		t.Errorf("flag over kernel: %+v", got)
	}
	if err := s.Set("main.mode", "nope", "flag --mode"); err == nil || !strings.Contains(err.Error(), "want one of") {
		t.Errorf("bad flag value: %v", err)
	}
}

func TestLoadFileEdgeCases(t *testing.T) {
	dir := t.TempDir()
	s, err := Load(filepath.Join(dir, "missing.conf"), filepath.Join(dir, "no-cmdline"))
	if err != nil || !s.Enabled() || len(s.Warnings) != 0 {
		t.Fatalf("missing file: err %v warnings %q", err, s.Warnings)
	}
	if _, err := Load(dir, ""); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory as file: %v", err)
	}
	big := filepath.Join(dir, "big.conf")
	os.WriteFile(big, make([]byte, maxFileSize+1), 0o644)
	if _, err := Load(big, ""); err == nil || !strings.Contains(err.Error(), "big.conf") {
		t.Errorf("oversized file: %v", err)
	}
}

// Print's output is itself a valid file that reproduces the same values.
func TestPrintRoundTrips(t *testing.T) {
	s := Defaults()
	s.Parse("a.conf", []byte("[main]\nmode=apply\n[commands]\npassword=false\n[agent]\nmetrics_interval=90s\n"))
	var b strings.Builder
	if err := s.Print(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "# a.conf:2") {
		t.Errorf("origin missing from:\n%s", b.String())
	}
	r := Defaults()
	r.Parse("printed", []byte(b.String()))
	if len(r.Warnings) != 0 {
		t.Fatalf("printed output does not parse cleanly: %q\n%s", r.Warnings, b.String())
	}
	for _, v := range s.All() {
		if got := r.Get(v.Key).Value; got != v.Value {
			t.Errorf("%s: %q after round trip, want %q", v.Key, got, v.Value)
		}
	}
}
