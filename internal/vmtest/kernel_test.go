package vmtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindKernelPicksNewestWithModules(t *testing.T) {
	root := t.TempDir()
	oldBoot, oldMods := bootDir, modulesDir
	bootDir, modulesDir = filepath.Join(root, "boot"), filepath.Join(root, "modules")
	t.Cleanup(func() { bootDir, modulesDir = oldBoot, oldMods })

	if _, err := findKernel(); err == nil || !strings.Contains(err.Error(), "linux-image-amd64") {
		t.Errorf("no kernel: err = %v, want advice to install linux-image-amd64", err)
	}
	for _, v := range []string{"6.1.0-9-amd64", "6.1.0-56-amd64", "6.12.0-1-amd64"} {
		touch(t, filepath.Join(bootDir, "vmlinuz-"+v))
	}
	// 6.12 has no module tree (a half-removed kernel): it must not win.
	touch(t, filepath.Join(modulesDir, "6.1.0-9-amd64", "modules.dep"))
	touch(t, filepath.Join(modulesDir, "6.1.0-56-amd64", "modules.dep"))
	k, err := findKernel()
	if err != nil {
		t.Fatal(err)
	}
	if k.Version != "6.1.0-56-amd64" || k.Image != filepath.Join(bootDir, "vmlinuz-6.1.0-56-amd64") {
		t.Errorf("findKernel = %+v, want 6.1.0-56-amd64", k)
	}
}

func TestExtractVmlinuxRejectsNonKernel(t *testing.T) {
	p := filepath.Join(t.TempDir(), "vmlinuz")
	if err := os.WriteFile(p, []byte("MZ not a kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := extractVmlinux(p, nil); err == nil || !strings.Contains(err.Error(), "no xz-compressed kernel") {
		t.Errorf("err = %v", err)
	}
}

func touch(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}
