package vmtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"guestbridge/internal/testenv"
)

// TestCPIOReadableByGNUCpio checks the archive format against an
// independent reader, including implicit parents, symlinks and padding.
func TestCPIOReadableByGNUCpio(t *testing.T) {
	cpio := testenv.RequireCommand(t, "cpio")
	var buf bytes.Buffer
	c := newCPIOWriter(&buf)
	c.File("/a/b/c.txt", 0o644, []byte("hello"))
	c.File("/a/odd", 0o755, []byte("x"))
	c.Symlink("/bin/sh", "busybox")
	c.Dir("/empty/dir")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%512 != 0 {
		t.Errorf("archive length %d is not a multiple of 512", buf.Len())
	}

	dir := t.TempDir()
	cmd := exec.Command(cpio, "-i", "-d", "--quiet")
	cmd.Dir, cmd.Stdin = dir, &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -i: %v\n%s", err, out)
	}
	for name, want := range map[string]string{"a/b/c.txt": "hello", "a/odd": "x"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "a/odd")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("a/odd mode: %v %v, want 0755", fi.Mode(), err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "bin/sh")); err != nil || target != "busybox" {
		t.Errorf("bin/sh -> %q, %v; want busybox", target, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "empty/dir")); err != nil || !fi.IsDir() {
		t.Errorf("empty/dir: %v", err)
	}
}

// TestCPIODirsOnce: the kernel would accept a repeated directory, but a
// parent must come before its children and never twice.
func TestCPIODirsOnce(t *testing.T) {
	var buf bytes.Buffer
	c := newCPIOWriter(&buf)
	c.File("/x/1", 0o644, nil)
	c.File("/x/2", 0o644, nil)
	c.Dir("/x")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(buf.Bytes(), []byte("x\x00")); n != 1 {
		t.Errorf("directory x written %d times, want 1", n)
	}
	if i, j := bytes.Index(buf.Bytes(), []byte("x\x00")), bytes.Index(buf.Bytes(), []byte("x/1\x00")); i < 0 || j < i {
		t.Errorf("directory x (at %d) must precede x/1 (at %d)", i, j)
	}
}

func TestRunArchiveQuotesEnvAndRejectsMissingBinary(t *testing.T) {
	arch, err := runArchive(Options{Command: "echo hi"}, map[string]string{"VMTEST_X": "it's"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(arch, []byte(`VMTEST_X='it'\''s'`+"\n")) {
		t.Errorf("env file not shell-quoted in %q", arch)
	}
	_, err = runArchive(Options{Binaries: map[string]string{"/bin/x": "/nonexistent/x"}}, nil)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(`Options.Binaries["/bin/x"]`)) {
		t.Errorf("err = %v, want one naming Options.Binaries[\"/bin/x\"]", err)
	}
}
