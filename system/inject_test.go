package system

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"guestbridge/internal/testenv"
)

// TestInjectFileNovaVectors replays testdata/injectfile_vectors.json: the
// agent decodes the base64 "path,contents" value (split at the first
// comma); this package must produce the expected file.
func TestInjectFileNovaVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/injectfile_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Value  string `json:"value"`
			Expect struct {
				Path     string `json:"path"`
				Contents string `json:"contents"`
			} `json:"expect"`
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, c := range doc.Cases {
		if c.Expect.Path == "" {
			continue // a decoding error: the agent's concern
		}
		decoded, err := base64.StdEncoding.DecodeString(c.Value)
		if err != nil {
			t.Fatal(err)
		}
		p, content, ok := bytes.Cut(decoded, []byte(","))
		if !ok {
			t.Fatalf("vector %q has no comma", decoded)
		}
		r := testRoot(t)
		old := "ssh-rsa OLDKEY old\n"
		put(t, r, "root/.ssh/authorized_keys", old, 0o600)
		if _, err := r.InjectFile(string(p), content); err != nil {
			t.Fatalf("InjectFile(%s): %v", p, err)
		}
		rel := strings.TrimPrefix(c.Expect.Path, "/")
		if got := read(t, r, rel); got != c.Expect.Contents {
			t.Errorf("%s: %q, want %q", c.Expect.Path, got, c.Expect.Contents)
		}
		wantMode := os.FileMode(0o644) // new file, nova-agent 1.x
		if c.Expect.Path == "/root/.ssh/authorized_keys" {
			wantMode = 0o600 // existing file keeps its mode, replaced whole, old one backed up
			if got := read(t, r, rel+BackupSuffix); got != old {
				t.Errorf("backup %q", got)
			}
		}
		if m := lstat(t, r, rel).Mode().Perm(); m != wantMode {
			t.Errorf("%s: mode %o, want %o", c.Expect.Path, m, wantMode)
		}
		if m := lstat(t, r, filepath.Dir(rel)).Mode().Perm(); m != 0o755 && c.Expect.Path != "/root/.ssh/authorized_keys" {
			t.Errorf("%s: created parent mode %o, want 755", c.Expect.Path, m)
		}
		ran++
	}
	if ran != 3 {
		t.Errorf("%d vectors run, want 3", ran)
	}
}

func TestInjectFileKeepsOwnerNewIsRoot(t *testing.T) {
	testenv.RequireRoot(t)
	r := testRoot(t)
	put(t, r, "etc/app.conf", "old", 0o604)
	if err := os.Chown(filepath.Join(r.Dir, "etc/app.conf"), 1234, 5678); err != nil {
		t.Fatal(err)
	}
	if _, err := r.InjectFile("/etc/app.conf", []byte("new")); err != nil {
		t.Fatal(err)
	}
	fi := lstat(t, r, "etc/app.conf")
	if u, g := fileOwner(fi); u != 1234 || g != 5678 || fi.Mode().Perm() != 0o604 {
		t.Errorf("existing: %d:%d %o, want 1234:5678 604", u, g, fi.Mode().Perm())
	}
	if _, err := r.InjectFile("/srv/new/file", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if changed, err := r.InjectFile("/srv/new/file", []byte("x")); err != nil || changed {
		t.Errorf("same content again: changed=%v, %v; want false", changed, err)
	}
	fi = lstat(t, r, "srv/new/file")
	if u, g := fileOwner(fi); u != 0 || g != 0 || fi.Mode().Perm() != 0o644 {
		t.Errorf("new: %d:%d %o, want 0:0 644", u, g, fi.Mode().Perm())
	}
}

func TestInjectFilePaths(t *testing.T) {
	r := testRoot(t)
	for _, p := range []string{"", "relative/file", "./x", "/", "/..", "/a/../.."} {
		if _, err := r.InjectFile(p, []byte("x")); err == nil {
			t.Errorf("InjectFile(%q) succeeded", p)
		}
	}
	// Cleaned lexically: ".." cannot climb above /.
	if _, err := r.InjectFile("/../../etc//./motd", []byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, r, "etc/motd"); got != "hi\n" {
		t.Errorf("etc/motd %q", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(r.Dir))
	if len(entries) != 1 {
		t.Errorf("something written next to the root: %v", entries)
	}
}

func TestInjectFileReplacesFinalSymlink(t *testing.T) {
	r := testRoot(t)
	put(t, r, "etc/shadow", "root:*:1:::::\n", 0o600)
	symlink(t, r, "/etc/shadow", "home/u/.profile")
	if _, err := r.InjectFile("/home/u/.profile", []byte("export A=1\n")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, r, "etc/shadow"); got != "root:*:1:::::\n" {
		t.Error("symlink target overwritten")
	}
	if fi := lstat(t, r, "home/u/.profile"); !fi.Mode().IsRegular() || read(t, r, "home/u/.profile") != "export A=1\n" {
		t.Error("symlink not replaced by the file")
	}
}

func TestInjectFileErrorHidesContent(t *testing.T) {
	r := testRoot(t)
	put(t, r, "etc/file", "", 0o644)
	_, err := r.InjectFile("/etc/file/below", []byte("password=hunter2"))
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "/etc/file/below") {
		t.Errorf("error %v", err)
	}
}
