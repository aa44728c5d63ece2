package vmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"guestbridge/internal/testenv"
)

// ConfigDriveLabel is the filesystem label nova gives every config drive.
const ConfigDriveLabel = "config-2"

// ConfigDriveISO builds an ISO 9660 config drive from files (path relative
// to the drive root → content) with the genisoimage flags nova uses:
// Rock Ridge and Joliet, lowercase and multi-dot names, label config-2.
// It needs genisoimage (skip outside CI, fail in CI).
func ConfigDriveISO(t testing.TB, files map[string][]byte) string {
	t.Helper()
	genisoimage := testenv.RequireCommand(t, "genisoimage")
	tree := writeTree(t, files)
	img := filepath.Join(t.TempDir(), "config-2.iso")
	run(t, genisoimage, "-o", img, "-ldots", "-allow-lowercase", "-allow-multidot", "-l",
		"-publisher", "OpenStack Compute vmtest", "-quiet", "-J", "-r", "-V", ConfigDriveLabel, tree)
	return img
}

// ConfigDriveVFAT builds a vfat config drive as nova does: a 64 MiB file
// (so mkfs.fat picks FAT16), `mkfs -t vfat -n config-2`, then the tree
// copied in (with mtools, so no loop mount and no root). It needs
// dosfstools and mtools.
func ConfigDriveVFAT(t testing.TB, files map[string][]byte) string {
	t.Helper()
	mkfs := testenv.RequireCommand(t, "mkfs.vfat")
	mcopy := testenv.RequireCommand(t, "mcopy")
	tree := writeTree(t, files)
	img := filepath.Join(t.TempDir(), "config-2.vfat")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	run(t, mkfs, "-n", ConfigDriveLabel, img)
	entries, err := os.ReadDir(tree)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-s", "-i", img}
	for _, e := range entries {
		args = append(args, filepath.Join(tree, e.Name()))
	}
	run(t, mcopy, append(args, "::/")...)
	return img
}

// writeTree materialises files under a new temporary directory.
func writeTree(t testing.TB, files map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	for _, name := range sortedKeys(files) {
		p := filepath.Join(root, filepath.FromSlash(cleanGuestPath(name)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
