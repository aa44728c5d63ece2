package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guestbridge/system"
)

func TestSystemActions(t *testing.T) {
	root := system.Root{Dir: t.TempDir()}
	os.MkdirAll(filepath.Join(root.Dir, "etc"), 0o755)
	if err := os.WriteFile(filepath.Join(root.Dir, "etc/shadow"), []byte("root:*:20000:0:99999:7:::\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	act := SystemActions{Root: root}
	if err := act.SetPassword("pässw0rd"); err != nil {
		t.Fatal(err)
	}
	shadow, _ := os.ReadFile(filepath.Join(root.Dir, "etc/shadow"))
	hash := strings.Split(string(shadow), ":")[1]
	if !system.VerifyPassword(hash, "pässw0rd") {
		t.Fatalf("shadow %q does not verify", shadow)
	}
	if err := act.InjectFile("/etc/motd", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(root.Dir, "etc/motd"))
	if err != nil || info.Mode().Perm() != 0o644 {
		t.Fatalf("motd: %v, mode %v; want 0644", err, info.Mode().Perm())
	}
	// A guest user's symlink must not redirect an injected file onto /etc/shadow.
	if err := os.Symlink("/etc/shadow", filepath.Join(root.Dir, "etc/issue")); err != nil {
		t.Fatal(err)
	}
	if err := act.InjectFile("/etc/issue", []byte("pwned")); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(filepath.Join(root.Dir, "etc/shadow")); string(after) != string(shadow) {
		t.Fatalf("injectfile through a symlink changed /etc/shadow: %q", after)
	}
	if err := act.ResetNetwork(context.Background()); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("ResetNetwork without a function: %v", err)
	}
	called := false
	act = SystemActions{Root: root, Reset: func(context.Context) error { called = true; return nil }}
	if err := act.ResetNetwork(context.Background()); err != nil || !called {
		t.Fatalf("ResetNetwork: %v, called %v", err, called)
	}
}

// The agent sweeps temp files a killed write left before serving.
func TestRunSweepsStaleTempFiles(t *testing.T) {
	root := system.Root{Dir: t.TempDir()}
	stale := filepath.Join(root.Dir, "etc/.shadow-.0123456789abcdef.guestbridge-tmp")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("root:$6$..."), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(stale, old, old)
	s := newFakeStore()
	runAgent(t, New(s, SystemActions{Root: root}, Options{Logf: t.Logf}))
	waitFor(t, "stale temp file removed", func() bool {
		_, err := os.Lstat(stale)
		return os.IsNotExist(err)
	})
}
