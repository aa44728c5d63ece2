package system

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRemoveFile(t *testing.T) {
	r := testRoot(t)
	put(t, r, "var/lib/seed/meta-data", "x", 0o644)
	put(t, r, "etc/keep", "keep", 0o644)
	symlink(t, r, "/etc/keep", "var/lib/seed/link")
	if err := os.MkdirAll(filepath.Join(r.Dir, "var/lib/seed/dir"), 0o755); err != nil {
		t.Fatal(err)
	}

	if removed, err := r.RemoveFile("/var/lib/seed/meta-data"); err != nil || !removed {
		t.Errorf("RemoveFile = %v, %v; want true", removed, err)
	}
	if _, err := os.Lstat(filepath.Join(r.Dir, "var/lib/seed/meta-data")); !os.IsNotExist(err) {
		t.Error("file still there")
	}
	if removed, err := r.RemoveFile("/var/lib/seed/meta-data"); err != nil || removed {
		t.Errorf("second RemoveFile = %v, %v; want false, nil", removed, err)
	}
	if removed, err := r.RemoveFile("/no/such/dir/file"); err != nil || removed {
		t.Errorf("missing parent: %v, %v; want false, nil", removed, err)
	}
	if removed, err := r.RemoveFile("/var/lib/seed/link"); err != nil || !removed {
		t.Errorf("symlink: %v, %v", removed, err)
	}
	if got := read(t, r, "etc/keep"); got != "keep" {
		t.Error("symlink target removed")
	}
	for _, p := range []string{"/var/lib/seed/dir", "/", "/../x"} {
		if _, err := r.RemoveFile(p); err == nil {
			t.Errorf("RemoveFile(%q) succeeded", p)
		}
	}
}
