package vmtest

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// kernel is a Debian kernel image plus its module tree.
type kernel struct {
	Version string // uname -r, e.g. 6.1.0-56-amd64
	Image   string // /boot/vmlinuz-VERSION (bzImage)
	Modules string // /lib/modules/VERSION
}

// Where Debian's linux-image-* packages install kernels and modules.
var (
	bootDir    = "/boot"
	modulesDir = "/lib/modules"
)

// findKernel picks the newest /boot/vmlinuz-* that has a module tree.
func findKernel() (kernel, error) {
	images, _ := filepath.Glob(filepath.Join(bootDir, "vmlinuz-*"))
	var found []kernel
	for _, img := range images {
		v := strings.TrimPrefix(filepath.Base(img), "vmlinuz-")
		mods := filepath.Join(modulesDir, v)
		if _, err := os.Stat(filepath.Join(mods, "modules.dep")); err == nil {
			found = append(found, kernel{Version: v, Image: img, Modules: mods})
		}
	}
	if len(found) == 0 {
		return kernel{}, fmt.Errorf("no %s/vmlinuz-* with modules in %s (install linux-image-amd64)", bootDir, modulesDir)
	}
	sort.Slice(found, func(i, j int) bool { return versionLess(found[i].Version, found[j].Version) })
	return found[len(found)-1], nil
}

// versionLess compares kernel versions, numbers numerically ("6.10" > "6.9").
func versionLess(a, b string) bool {
	for a != "" && b != "" {
		na, ra := splitRun(a)
		nb, rb := splitRun(b)
		if na != nb {
			if isDigit(na[0]) && isDigit(nb[0]) {
				x, y := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
				if len(x) != len(y) {
					return len(x) < len(y)
				}
				return x < y
			}
			return na < nb
		}
		a, b = ra, rb
	}
	return len(a) < len(b)
}

// splitRun splits s after its leading run of digits or of non-digits.
func splitRun(s string) (run, rest string) {
	i := 1
	for i < len(s) && isDigit(s[i]) == isDigit(s[0]) {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// xzMagic starts the xz stream holding the kernel inside a Debian bzImage.
var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}

// bootImage returns what qemu should load with -kernel: the uncompressed
// vmlinux when it has a PVH entry point (qemu then jumps straight into the
// kernel, saving seconds of firmware and in-guest decompression under TCG),
// else the bzImage itself.
func bootImage(k kernel, dir, kernelHash string) (string, error) {
	vmlinux, err := cached(dir, "vmlinux-"+kernelHash[:16], func(w io.Writer) error {
		return extractVmlinux(k.Image, w)
	})
	if err != nil {
		return k.Image, nil // no xz payload or no xz tool: boot the slow way
	}
	ok, err := hasPVHEntry(vmlinux)
	if err != nil || !ok {
		return k.Image, nil
	}
	return vmlinux, nil
}

// extractVmlinux decompresses the xz payload of a bzImage, as the kernel's
// scripts/extract-vmlinux does, and checks the result is an ELF file.
func extractVmlinux(bzImage string, w io.Writer) error {
	data, err := os.ReadFile(bzImage)
	if err != nil {
		return err
	}
	at := bytes.Index(data, xzMagic)
	if at < 0 {
		return fmt.Errorf("%s: no xz-compressed kernel inside", bzImage)
	}
	var out bytes.Buffer
	cmd := exec.Command("xz", "-dc", "--single-stream")
	cmd.Stdin = bytes.NewReader(data[at:])
	cmd.Stdout = &out
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("xz -dc of %s: %v: %s", bzImage, err, stderr.Bytes())
	}
	if !bytes.HasPrefix(out.Bytes(), []byte(elf.ELFMAG)) {
		return fmt.Errorf("%s: decompressed payload is not an ELF file", bzImage)
	}
	_, err = w.Write(out.Bytes())
	return err
}

// hasPVHEntry reports whether the ELF file has the Xen PVH entry note.
func hasPVHEntry(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		notes, err := io.ReadAll(io.LimitReader(p.Open(), 1<<20))
		if err != nil {
			return false, err
		}
		if hasNote(notes, f.ByteOrder, "Xen", xenElfnotePhys32Entry) {
			return true, nil
		}
	}
	return false, nil
}

// xenElfnotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY, the PVH entry point.
const xenElfnotePhys32Entry = 18
