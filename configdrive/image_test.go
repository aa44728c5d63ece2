package configdrive

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"guestbridge/datasource"
	"guestbridge/internal/testenv"
)

// longName is over Joliet's 64-character limit: only Rock Ridge (ISO) and
// VFAT long names (FAT) keep it whole.
const longName = "a_file_name_that_is_longer_than_sixty_four_characters_so_joliet_truncates_it.txt"

// treeWithLongName is the fixture tree plus a file named longName.
func treeWithLongName(t testing.TB) string {
	t.Helper()
	tree := copyTree(t, fixtureTree)
	writeFile(t, filepath.Join(tree, longName), []byte("long name content\n"))
	return tree
}

func TestImagesProbeOpenRead(t *testing.T) {
	tree := treeWithLongName(t)
	want := expectedInstance(t, tree)
	for _, tc := range []struct {
		name      string
		build     func(t testing.TB) string
		wantLabel string
		wantType  string
	}{
		{"iso-nova-flags", func(t testing.TB) string { return buildISO(t, tree, "config-2") }, "config-2", FSTypeISO9660},
		{"iso-upper-label", func(t testing.TB) string { return buildISO(t, tree, "CONFIG-2") }, "CONFIG-2", FSTypeISO9660},
		{"vfat-nova-64MiB-fat16", func(t testing.TB) string { return buildVFAT(t, tree, "config-2", 64, 0) }, "config-2", FSTypeFAT16},
		{"vfat-fat32", func(t testing.TB) string { return buildVFAT(t, tree, "config-2", 64, 32) }, "config-2", FSTypeFAT32},
		{"vfat-fat12", func(t testing.TB) string { return buildVFAT(t, tree, "config-2", 2, 12) }, "config-2", FSTypeFAT12},
		{"vfat-upper-label", func(t testing.TB) string { return buildVFAT(t, tree, "CONFIG-2", 64, 0) }, "CONFIG-2", FSTypeFAT16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := tc.build(t)
			label, fstype := probeFile(t, img)
			if label != tc.wantLabel || fstype != tc.wantType {
				t.Errorf("ProbeLabel = %q, %q; want %q, %q", label, fstype, tc.wantLabel, tc.wantType)
			}
			if !IsConfigDriveLabel(label) {
				t.Errorf("IsConfigDriveLabel(%q) = false", label)
			}
			fsys, closer, err := Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			got, err := Read(fsys, fixtureOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			checkFixtureInstance(t, tree, want, got)
			content, err := fs.ReadFile(fsys, longName)
			if err != nil || string(content) != "long name content\n" {
				t.Errorf("long name: %q, %v", content, err)
			}
		})
	}
}

// checkFixtureInstance compares got with the instance derived from tree,
// and its Network with what ParseNetworkData makes of the tree's file.
func checkFixtureInstance(t *testing.T, tree string, want, got *datasource.Instance) {
	t.Helper()
	ndj, err := os.ReadFile(filepath.Join(tree, "openstack/latest/network_data.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantNet, _, err := ParseNetworkData(ndj, NetworkOptions{KnownNames: fixtureOptions(t).KnownNames})
	if err != nil {
		t.Fatalf("ParseNetworkData on the fixture: %v", err)
	}
	if got.Network == nil {
		t.Error("Network is nil, want the fixture's network_data.json")
	} else if !reflect.DeepEqual(got.Network, wantNet) {
		t.Errorf("Network = %+v, want %+v", got.Network, wantNet)
	}
	for _, w := range got.Warnings {
		if !strings.HasPrefix(w, "openstack/latest/network_data.json") {
			t.Errorf("unexpected warning %q", w)
		}
	}
	trimmed := *got
	trimmed.Network, trimmed.Warnings, trimmed.Source = nil, nil, "" // checked above / by the caller
	if diff := cmp.Diff(want, &trimmed); diff != "" {
		t.Errorf("Read mismatch (-want +got):\n%s", diff)
	}
}

func probeFile(t *testing.T, path string) (label, fstype string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	label, fstype, err = ProbeLabel(f)
	if err != nil {
		t.Fatalf("ProbeLabel(%s): %v", path, err)
	}
	return label, fstype
}

// An ISO without Rock Ridge or Joliet has only upper-case 8.3 names
// (OPENSTAC/LATEST/META_DAT.JSO); the level-1 fallback still finds latest.
func TestPlainISO83Names(t *testing.T) {
	genisoimage := testenv.RequireCommand(t, "genisoimage")
	img := filepath.Join(t.TempDir(), "plain.iso")
	run(t, genisoimage, "-o", img, "-quiet", "-V", "config-2", fixtureTree)
	fsys, closer, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if _, err := fs.Stat(fsys, "OPENSTAC/LATEST/META_DAT.JSO"); err != nil {
		t.Fatalf("image does not have the expected 8.3 names: %v", err)
	}
	got, err := Read(fsys, fixtureOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	checkFixtureInstance(t, fixtureTree, expectedInstance(t, fixtureTree), got)
}

func TestOpenDirectory(t *testing.T) {
	got := readPath(t, fixtureTree)
	checkFixtureInstance(t, fixtureTree, expectedInstance(t, fixtureTree), got)
}

func readPath(t *testing.T, path string) *datasource.Instance {
	t.Helper()
	fsys, closer, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	inst, err := Read(fsys, fixtureOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// A symlink in a seed directory must not let content_path read the host.
func TestOpenDirectorySymlinkEscape(t *testing.T) {
	tree := copyTree(t, fixtureTree)
	content := filepath.Join(tree, "openstack/content/0000")
	os.Remove(content)
	if err := os.Symlink("/etc/passwd", content); err != nil {
		t.Fatal(err)
	}
	fsys, closer, err := Open(tree)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	_, err = Read(fsys, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "files[0].content_path") {
		t.Fatalf("Read = %v, want an error naming files[0].content_path", err)
	}
}

func TestOpenCorruptImages(t *testing.T) {
	iso := buildISO(t, fixtureTree, "config-2")
	isoBytes, err := os.ReadFile(iso)
	if err != nil {
		t.Fatal(err)
	}
	vfat := buildVFAT(t, fixtureTree, "config-2", 2, 12)
	fatBytes, err := os.ReadFile(vfat)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", bytes.Repeat([]byte("garbage!"), 8192)},
		{"iso-truncated-in-descriptors", isoBytes[:0x8000+100]},
		{"iso-truncated-after-descriptors", isoBytes[:0x9800]},
		{"iso-path-table-past-end", patch(isoBytes, 0x8000+140, []byte{0xff, 0xff, 0xff, 0x00})},
		{"iso-bad-block-size", patch(isoBytes, 0x8000+128, []byte{0x00, 0x03})},
		{"iso-root-directory-4GiB", patch(isoBytes, 0x8000+156+10, []byte{0xf0, 0xff, 0xff, 0xff})},
		{"iso-root-directory-garbage", patch(isoBytes, isoRootExtent(isoBytes), bytes.Repeat([]byte{0xA5}, 2048))},
		{"fat-truncated", fatBytes[:4096]},
		{"fat-root-directory-garbage", patch(fatBytes, fatRootDirOffset(fatBytes), bytes.Repeat([]byte{0x5A}, 1024))},
		{"fat-cluster-loop", fatClusterTwoLoops(fatBytes)},
		{"fat-zero-fat-size", patch(fatBytes, 0x16, []byte{0, 0})},
		{"fat-huge-fat", patch(fatBytes, 0x16, []byte{0xff, 0xff})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := filepath.Join(dir, tc.name+".img")
			writeFile(t, img, tc.data)
			fsys, closer, err := Open(img)
			if err == nil {
				// Some damage only shows when the tree is read.
				_, err = Read(fsys, ReadOptions{})
				closer.Close()
			}
			if err == nil {
				t.Fatal("no error for a corrupt image")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), img) && !strings.Contains(err.Error(), "openstack") {
				t.Errorf("error %q names neither the image nor the file", err)
			}
		})
	}
}

// isoRootExtent is the byte offset of the root directory's extent (the
// root directory record sits at offset 156 of the primary descriptor).
func isoRootExtent(iso []byte) int {
	return int(binary.LittleEndian.Uint32(iso[0x8000+156+2:])) * 2048
}

// fatRootDirOffset is where a FAT12/16 root directory starts.
func fatRootDirOffset(img []byte) int {
	bps := int(binary.LittleEndian.Uint16(img[0x0B:]))
	reserved := int(binary.LittleEndian.Uint16(img[0x0E:]))
	perFAT := int(binary.LittleEndian.Uint16(img[0x16:]))
	return (reserved + int(img[0x10])*perFAT) * bps
}

// fatClusterTwoLoops points FAT12 entry 2 (the first directory mcopy
// wrote) at itself: a chain that never ends.
func fatClusterTwoLoops(img []byte) []byte {
	out := bytes.Clone(img)
	fat := int(binary.LittleEndian.Uint16(img[0x0E:])) * int(binary.LittleEndian.Uint16(img[0x0B:]))
	out[fat+3] = 0x02   // low 8 bits of entry 2
	out[fat+4] &^= 0x0F // its high 4 bits; the upper nibble belongs to entry 3
	return out
}

// patch returns a copy of b with p written at off.
func patch(b []byte, off int, p []byte) []byte {
	out := bytes.Clone(b)
	copy(out[off:], p)
	return out
}

func TestOpenErrors(t *testing.T) {
	if _, _, err := Open(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing path: %v", err)
	}
	if _, _, err := Open("/dev/null"); err == nil || !strings.Contains(err.Error(), "/dev/null") {
		t.Errorf("/dev/null: %v", err)
	}
	fsys, closer, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if _, err := Read(fsys, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "openstack/") {
		t.Errorf("directory without openstack/: %v", err)
	}
}
