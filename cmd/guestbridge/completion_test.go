package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"guestbridge/internal/testenv"
)

// The generated script passes `bash -n`, registers itself with complete,
// and, run by a real bash, offers every command and, for each command,
// exactly the flags that command's own --help lists (read from the real
// binary, independently of how the script was generated).
func TestBashCompletion(t *testing.T) {
	testenv.RequireCommand(t, "bash")
	goTool := testenv.RequireCommand(t, "go")
	bin := filepath.Join(t.TempDir(), "guestbridge")
	if b, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	out, err := exec.Command(bin, "completion", "bash").Output()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "guestbridge.bash")
	os.WriteFile(script, out, 0o644)
	if b, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, b)
	}
	b, err := exec.Command("bash", "-c", "source "+script+" && complete -p guestbridge").CombinedOutput()
	if err != nil || !strings.Contains(string(b), "-F _guestbridge guestbridge") {
		t.Fatalf("complete -p: %v %s", err, b)
	}
	complete := func(words ...string) []string {
		t.Helper()
		sh := "source " + script + `; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _guestbridge; printf '%s\n' "${COMPREPLY[@]}"`
		b, err := exec.Command("bash", append([]string{"-c", sh, "bash"}, words...)...).Output()
		if err != nil {
			t.Fatalf("completing %q: %v", words, err)
		}
		got := strings.Fields(string(b))
		sort.Strings(got)
		return got
	}
	cmds := complete("guestbridge", "")
	if len(cmds) != len(commands)+1 {
		t.Errorf("commands offered %q, want the %d commands and help", cmds, len(commands))
	}
	flagRE := regexp.MustCompile(`(?m)^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)`)
	for name := range commands {
		help, _ := exec.Command(bin, name, "--help").CombinedOutput()
		want := []string{"--help"}
		for _, m := range flagRE.FindAllStringSubmatch(string(help), -1) {
			want = append(want, m[1])
		}
		sort.Strings(want)
		got := complete("guestbridge", name, "--")
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: completion offers %q, --help lists %q", name, got, want)
		}
	}
	if got := complete("guestbridge", "boot", "--mo"); strings.Join(got, " ") != "--mode" {
		t.Errorf("boot --mo completes to %q", got)
	}
}
