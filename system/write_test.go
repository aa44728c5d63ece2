package system

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"guestbridge/internal/testenv"
)

func TestWriteFileCreatesWithModeAndParents(t *testing.T) {
	r := testRoot(t)
	uid, gid := os.Getuid(), os.Getgid()
	changed, err := r.WriteFile("/var/lib/x/y/file", []byte("hello\n"), WriteOptions{Mode: 0o640, UID: uid, GID: gid, DirMode: 0o750})
	if err != nil || !changed {
		t.Fatalf("WriteFile = %v, %v; want true, nil", changed, err)
	}
	if got := read(t, r, "var/lib/x/y/file"); got != "hello\n" {
		t.Errorf("content %q", got)
	}
	if m := lstat(t, r, "var/lib/x/y/file").Mode().Perm(); m != 0o640 {
		t.Errorf("mode %o, want 640", m)
	}
	if m := lstat(t, r, "var/lib/x").Mode().Perm(); m != 0o750 {
		t.Errorf("created parent mode %o, want 750", m)
	}
	noTempFiles(t, r, "var/lib/x/y")
}

func TestWriteFileDefaultDirModeAndFileMode(t *testing.T) {
	r := testRoot(t)
	if _, err := r.WriteFile("a/b", []byte("x"), WriteOptions{UID: os.Getuid(), GID: os.Getgid()}); err != nil {
		t.Fatal(err)
	}
	if m := lstat(t, r, "a").Mode().Perm(); m != 0o755 {
		t.Errorf("dir mode %o, want 755", m)
	}
	if m := lstat(t, r, "a/b").Mode().Perm(); m != 0o644 {
		t.Errorf("file mode %o, want 644", m)
	}
}

func TestWriteFileUnchangedDoesNotWrite(t *testing.T) {
	r := testRoot(t)
	put(t, r, "etc/motd", "same\n", 0o644)
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(r.Dir, "etc/motd"), old, old); err != nil {
		t.Fatal(err)
	}
	ino := lstat(t, r, "etc/motd")
	changed, err := r.WriteFile("/etc/motd", []byte("same\n"), WriteOptions{Backup: true})
	if err != nil || changed {
		t.Fatalf("WriteFile = %v, %v; want false, nil", changed, err)
	}
	after := lstat(t, r, "etc/motd")
	if !after.ModTime().Equal(old) || !os.SameFile(ino, after) {
		t.Errorf("unchanged file was rewritten (mtime %v)", after.ModTime())
	}
	if _, err := os.Lstat(filepath.Join(r.Dir, "etc/motd"+BackupSuffix)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("backup made for an unchanged file: %v", err)
	}
}

func TestWriteFileBackupKeepsOneGeneration(t *testing.T) {
	r := testRoot(t)
	put(t, r, "etc/conf", "v1\n", 0o600)
	for _, v := range []string{"v2\n", "v3\n"} {
		if changed, err := r.WriteFile("/etc/conf", []byte(v), WriteOptions{Backup: true}); err != nil || !changed {
			t.Fatalf("WriteFile(%q) = %v, %v", v, changed, err)
		}
	}
	if got := read(t, r, "etc/conf"); got != "v3\n" {
		t.Errorf("content %q, want v3", got)
	}
	if got := read(t, r, "etc/conf"+BackupSuffix); got != "v2\n" {
		t.Errorf("backup %q, want the previous version v2", got)
	}
	if m := lstat(t, r, "etc/conf"+BackupSuffix).Mode().Perm(); m != 0o600 {
		t.Errorf("backup mode %o, want the file's 600", m)
	}
	noTempFiles(t, r, "etc")
}

func TestWriteFileKeepsOwnerAndMode(t *testing.T) {
	testenv.RequireRoot(t)
	r := testRoot(t)
	put(t, r, "etc/owned", "old", 0o604)
	p := filepath.Join(r.Dir, "etc/owned")
	if err := os.Chown(p, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o604); err != nil {
		t.Fatal(err)
	}
	if _, err := r.WriteFile("/etc/owned", []byte("new"), WriteOptions{Mode: 0o600, Backup: true}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"etc/owned", "etc/owned" + BackupSuffix} {
		fi := lstat(t, r, name)
		if uid, gid := fileOwner(fi); uid != 1234 || gid != 5678 || fi.Mode().Perm() != 0o604 {
			t.Errorf("%s: owner %d:%d mode %o, want 1234:5678 604", name, uid, gid, fi.Mode().Perm())
		}
	}
	if got := read(t, r, "etc/owned"); got != "new" {
		t.Errorf("content %q", got)
	}
}

func TestWriteFileNewFileOwner(t *testing.T) {
	testenv.RequireRoot(t)
	r := testRoot(t)
	if _, err := r.WriteFile("/home/u/f", []byte("x"), WriteOptions{Mode: 0o600, UID: 4321, GID: 8765}); err != nil {
		t.Fatal(err)
	}
	fi := lstat(t, r, "home/u/f")
	if uid, gid := fileOwner(fi); uid != 4321 || gid != 8765 || fi.Mode().Perm() != 0o600 {
		t.Errorf("owner %d:%d mode %o, want 4321:8765 600", uid, gid, fi.Mode().Perm())
	}
	if uid, _ := fileOwner(lstat(t, r, "home/u")); uid != 0 {
		t.Errorf("created parent owned by %d, want root", uid)
	}
}

func TestWriteFileRefusesEscapes(t *testing.T) {
	r := testRoot(t)
	outside := t.TempDir()
	put(t, r, "etc/placeholder", "", 0o644)
	links := map[string]string{
		"etc/up":       "../..", // relative link climbing out
		"etc/outabs":   outside, // absolute link: means <root>/<outside>, stays inside
		"etc/deeper":   "../../" + filepath.Base(outside),
		"etc/selfloop": "selfloop",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(r.Dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"/../escape", "../escape", "/etc/../../escape", "/etc/up/escape", "/etc/deeper/escape", "/etc/selfloop/x"} {
		if _, err := r.WriteFile(p, []byte("x"), WriteOptions{UID: os.Getuid(), GID: os.Getgid()}); err == nil {
			t.Errorf("WriteFile(%q) succeeded, want an error", p)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("files written outside the root: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(r.Dir), "escape")); err == nil {
		t.Error("escape file created next to the root")
	}
	// An absolute link is the guest's view: it lands inside the root.
	if _, err := r.WriteFile("/etc/outabs/inside", []byte("x"), WriteOptions{UID: os.Getuid(), GID: os.Getgid()}); err != nil {
		t.Fatalf("write through absolute link: %v", err)
	}
	if got := read(t, r, filepath.Join(outside, "inside")); got != "x" {
		t.Errorf("absolute link not resolved inside the root: %q", got)
	}
}

func TestWriteFileFollowsFinalSymlinkInsideRoot(t *testing.T) {
	r := testRoot(t)
	put(t, r, "usr/share/real.conf", "old", 0o640)
	if err := os.Symlink("/usr/share/real.conf", filepath.Join(r.Dir, "link.conf")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.WriteFile("/link.conf", []byte("new"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if fi := lstat(t, r, "link.conf"); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("symlink was replaced")
	}
	if got := read(t, r, "usr/share/real.conf"); got != "new" {
		t.Errorf("target content %q", got)
	}
	if m := lstat(t, r, "usr/share/real.conf").Mode().Perm(); m != 0o640 {
		t.Errorf("target mode %o, want 640 kept", m)
	}
}

func TestWriteFileRefusesNonRegular(t *testing.T) {
	r := testRoot(t)
	if err := os.MkdirAll(filepath.Join(r.Dir, "etc/dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/etc/dir", "/", ""} {
		if _, err := r.WriteFile(p, []byte("x"), WriteOptions{}); err == nil {
			t.Errorf("WriteFile(%q) succeeded", p)
		}
	}
	put(t, r, "etc/file", "", 0o644)
	if _, err := r.WriteFile("/etc/file/sub", []byte("x"), WriteOptions{}); err == nil {
		t.Error("WriteFile below a regular file succeeded")
	}
}

// TestWriteFileAtomic reads the file while it is rewritten: every read must
// be one complete version, never a prefix or a mix.
func TestWriteFileAtomic(t *testing.T) {
	r := testRoot(t)
	a := bytes.Repeat([]byte("A"), 1<<20)
	b := bytes.Repeat([]byte("B"), 1<<20+512)
	put(t, r, "data", string(a), 0o644)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads, bad atomic.Int64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got, err := os.ReadFile(filepath.Join(r.Dir, "data"))
				if err != nil {
					bad.Add(1)
					continue
				}
				reads.Add(1)
				if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
					bad.Add(1)
				}
			}
		}()
	}
	for i := range 60 {
		content := a
		if i%2 == 0 {
			content = b
		}
		if _, err := r.WriteFile("/data", content, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d of %d reads saw a missing or partial file", bad.Load(), reads.Load()+bad.Load())
	}
	if reads.Load() == 0 {
		t.Error("no concurrent read happened")
	}
	noTempFiles(t, r, ".")
}

func TestWriteFileErrorsNameThePath(t *testing.T) {
	r := testRoot(t)
	put(t, r, "etc/file", "", 0o644)
	_, err := r.WriteFile("/etc/file/sub", []byte("secret-content"), WriteOptions{})
	if err == nil || !strings.Contains(err.Error(), "/etc/file/sub") || strings.Contains(err.Error(), "secret-content") {
		t.Errorf("error %v: want the path named and no content", err)
	}
}

// FuzzResolve: any path either is refused or resolves to a clean relative
// path inside the root, whatever links the tree holds.
func FuzzResolve(f *testing.F) {
	dir := f.TempDir()
	for name, target := range map[string]string{"up": "../..", "abs": "/etc", "loop": "loop", "rel": "etc/sub"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "etc/sub"), 0o755); err != nil {
		f.Fatal(err)
	}
	fsys, err := os.OpenRoot(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { fsys.Close() })
	for _, s := range []string{"/etc/passwd", "up/x", "/abs/../rel/./y", "loop", "a/../../b", "rel/../abs"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, name string, follow bool) {
		rel, err := resolve(fsys, name, follow)
		if err != nil {
			return
		}
		if rel != filepath.Clean(rel) || strings.HasPrefix(rel, "/") || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Fatalf("resolve(%q) = %q: not a clean path inside the root", name, rel)
		}
	})
}

// BenchmarkWriteFile: one atomic replacement of a 4 KiB file (two fsyncs),
// and the no-op path for unchanged content.
func BenchmarkWriteFile(b *testing.B) {
	r := Root{Dir: b.TempDir()}
	a, c := bytes.Repeat([]byte("a"), 4096), bytes.Repeat([]byte("c"), 4096)
	o := WriteOptions{UID: os.Getuid(), GID: os.Getgid()}
	b.Run("changed", func(b *testing.B) {
		i := 0
		for b.Loop() {
			data := a
			if i%2 == 1 {
				data = c
			}
			i++
			if _, err := r.WriteFile("/etc/bench.conf", data, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.WriteFile("/etc/bench.conf", a, o); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// An unprivileged caller preparing an image it owns gets new files owned by
// itself for the default root owner, but a real foreign owner is an error.
func TestWriteFileUnprivilegedOwner(t *testing.T) {
	if os.Geteuid() == 0 {
		// Run the check as nobody in a child process.
		testenv.RequireCommand(t, "setpriv")
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		dir, err := os.MkdirTemp("", "guestbridge-unpriv-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			exe, "-test.run=^TestWriteFileUnprivilegedOwner$", "-test.count=1")
		cmd.Env = append(os.Environ(), "TMPDIR="+dir)
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "PASS") {
			t.Fatalf("as nobody: %v\n%s", err, out)
		}
		return
	}
	r := testRoot(t)
	if _, err := r.WriteFile("/etc/new", []byte("x"), WriteOptions{}); err != nil {
		t.Fatalf("default owner as non-root: %v", err)
	}
	if uid, _ := fileOwner(lstat(t, r, "etc/new")); uid != os.Geteuid() {
		t.Errorf("owner %d, want the caller %d", uid, os.Geteuid())
	}
	if _, err := r.WriteFile("/etc/other", []byte("x"), WriteOptions{UID: 1234, GID: 1234}); err == nil {
		t.Error("chown to a foreign owner silently skipped")
	}
	noTempFiles(t, r, "etc")
}
