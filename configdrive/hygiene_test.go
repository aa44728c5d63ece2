package configdrive

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dirDrive writes a minimal directory config drive and returns its path.
func dirDrive(t *testing.T, meta string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "openstack/latest"), 0o755); err != nil {
		t.Fatal(err)
	}
	if meta != "" {
		if err := os.WriteFile(filepath.Join(dir, "openstack/latest/meta_data.json"), []byte(meta), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readDir opens and reads a directory drive, failing the test if that
// takes long (a FIFO would block it forever).
func readDir(t *testing.T, dir string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		fsys, c, err := Open(dir)
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = Read(fsys, ReadOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("reading %s blocked", dir)
		return nil
	}
}

// A FIFO, socket or device where a document or injected file should be is
// refused at once with an error naming it, instead of blocking the read.
func TestDirectoryDriveRefusesSpecialFiles(t *testing.T) {
	type special struct {
		kind string
		make func(t *testing.T, path string)
	}
	specials := []special{
		{"named pipe", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"socket", func(t *testing.T, p string) {
			ln, err := net.Listen("unix", p)
			if err != nil {
				t.Skipf("unix socket at %s: %v", p, err) // path too long for sun_path
			}
			t.Cleanup(func() { ln.Close() })
		}},
	}
	if os.Geteuid() == 0 {
		specials = append(specials, special{"character device", func(t *testing.T, p string) {
			if err := syscall.Mknod(p, syscall.S_IFCHR|0o644, int(1<<8|5)); err != nil { // 1:5 = /dev/zero
				t.Fatal(err)
			}
		}})
	}
	for _, sp := range specials {
		for _, where := range []string{"meta_data.json", "user_data", "vendor_data.json", "network_data.json", "content"} {
			t.Run(sp.kind+"/"+where, func(t *testing.T) {
				meta := `{"uuid": "u"}`
				if where == "content" {
					meta = `{"uuid": "u", "files": [{"path": "/etc/x", "content_path": "/content/0000"}]}`
				}
				dir := dirDrive(t, "")
				target := filepath.Join(dir, "openstack/latest", where)
				if where == "content" {
					os.MkdirAll(filepath.Join(dir, "openstack/content"), 0o755)
					target = filepath.Join(dir, "openstack/content/0000")
				}
				if where != "meta_data.json" {
					os.WriteFile(filepath.Join(dir, "openstack/latest/meta_data.json"), []byte(meta), 0o644)
				}
				sp.make(t, target)
				err := readDir(t, dir)
				if err == nil || !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), filepath.Base(target)) ||
					!strings.Contains(err.Error(), sp.kind) {
					t.Fatalf("read with a %s as %s: %v; want a refusal naming it", sp.kind, where, err)
				}
			})
		}
	}
}

// A FIFO or character device given as the drive itself is refused.
func TestOpenRefusesFIFOAndCharDevice(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "drive")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/null", "/dev/zero"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if _, _, err := Open(p); err == nil || !strings.Contains(err.Error(), "not a directory, image file or block device") {
			t.Errorf("Open(%s) = %v; want a refusal", p, err)
		}
	}
}

// Oversized user_data and injected files are refused with an error naming
// the file and the limit, before they are read into memory.
func TestSizeLimitsNameTheFile(t *testing.T) {
	big := func(t *testing.T, path string, size int64) {
		t.Helper()
		os.MkdirAll(filepath.Dir(path), 0o755)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(size); err != nil { // sparse: costs no disk
			t.Fatal(err)
		}
	}
	t.Run("user_data", func(t *testing.T) {
		dir := dirDrive(t, `{"uuid": "u"}`)
		big(t, filepath.Join(dir, "openstack/latest/user_data"), MaxUserDataSize+1)
		err := readDir(t, dir)
		if err == nil || !strings.Contains(err.Error(), "openstack/latest/user_data") ||
			!strings.Contains(err.Error(), fmt.Sprint(MaxUserDataSize)) {
			t.Fatalf("oversized user_data: %v", err)
		}
	})
	t.Run("user_data at the limit", func(t *testing.T) {
		dir := dirDrive(t, `{"uuid": "u"}`)
		big(t, filepath.Join(dir, "openstack/latest/user_data"), 1<<20)
		if err := readDir(t, dir); err != nil {
			t.Fatalf("1 MiB user_data: %v", err)
		}
	})
	t.Run("vendor_data", func(t *testing.T) {
		dir := dirDrive(t, `{"uuid": "u"}`)
		big(t, filepath.Join(dir, "openstack/latest/vendor_data.json"), MaxJSONSize+1)
		err := readDir(t, dir)
		if err == nil || !strings.Contains(err.Error(), "vendor_data.json") {
			t.Fatalf("oversized vendor_data.json: %v", err)
		}
	})
	t.Run("one injected file", func(t *testing.T) {
		dir := dirDrive(t, `{"uuid": "u", "files": [{"path": "/etc/x", "content_path": "/content/0000"}]}`)
		big(t, filepath.Join(dir, "openstack/content/0000"), MaxFileSize+1)
		err := readDir(t, dir)
		if err == nil || !strings.Contains(err.Error(), "files[0]") || !strings.Contains(err.Error(), "content/0000") {
			t.Fatalf("oversized injected file: %v", err)
		}
	})
	t.Run("injected files together", func(t *testing.T) {
		dir := dirDrive(t, `{"uuid": "u", "files": [{"path": "/a", "content_path": "/content/0000"},
			{"path": "/b", "content_path": "/content/0001"}, {"path": "/c", "content_path": "/content/0002"}]}`)
		for i := range 3 {
			big(t, filepath.Join(dir, fmt.Sprintf("openstack/content/%04d", i)), MaxFileSize)
		}
		err := readDir(t, dir)
		if err == nil || !strings.Contains(err.Error(), "files[2]") || !strings.Contains(err.Error(), "together") {
			t.Fatalf("injected files over the total: %v", err)
		}
	})
}
