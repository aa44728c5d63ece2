package system

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixedNow is the clock of every test Root: 2026-11-23 is day 20780 since the epoch.
var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// testRoot is a fresh, empty image root.
func testRoot(t *testing.T) Root {
	t.Helper()
	return Root{Dir: t.TempDir(), Now: func() time.Time { return fixedNow }}
}

// put creates rel inside r with content and mode, parents included.
func put(t *testing.T, r Root, rel, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(r.Dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, r Root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.Dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lstat(t *testing.T, r Root, rel string) fs.FileInfo {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(r.Dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// noTempFiles fails if a temporary file was left in dir (relative to r).
func noTempFiles(t *testing.T, r Root, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(r.Dir, dir, ".*guestbridge-tmp"))
	if len(m) > 0 {
		t.Errorf("temporary files left behind: %v", m)
	}
}

// symlink creates the link rel -> target inside r, parents included.
func symlink(t *testing.T, r Root, target, rel string) {
	t.Helper()
	p := filepath.Join(r.Dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}
