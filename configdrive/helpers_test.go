package configdrive

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"guestbridge/datasource"
	"guestbridge/internal/testenv"
)

// fixtureTree is the cloud-init CFG_DRIVE_FILES_V2 drive (testdata/README.md).
const fixtureTree = "testdata/ci-CFG_DRIVE_FILES_V2"

// fixtureOptions passes the interface names cloud-init's test uses for the
// fixture's MACs (testdata/ci-CFG_DRIVE_FILES_V2.macs).
func fixtureOptions(t testing.TB) ReadOptions {
	t.Helper()
	data, err := os.ReadFile(fixtureTree + ".macs")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, line := range strings.Fields(string(data)) {
		name, mac, ok := strings.Cut(line, ",")
		if !ok {
			t.Fatalf("bad .macs line %q", line)
		}
		names[strings.ToLower(mac)] = name
	}
	return ReadOptions{KnownNames: names}
}

// copyTree copies src into a new temporary directory and returns it, so a
// test can add or break files without touching testdata.
func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// buildISO makes an ISO the way nova does (nova/virt/configdrive.py), with
// the given volume label.
func buildISO(t testing.TB, tree, label string) string {
	t.Helper()
	genisoimage := testenv.RequireCommand(t, "genisoimage")
	out := filepath.Join(t.TempDir(), "configdrive.iso")
	run(t, genisoimage, "-o", out, "-ldots", "-allow-lowercase", "-allow-multidot", "-l",
		"-publisher", "OpenStack Nova 29.0.0", "-quiet", "-J", "-r", "-V", label, tree)
	return out
}

// buildVFAT makes a FAT image as nova does (mkfs.vfat -n LABEL on a file,
// then the tree copied in; mcopy instead of a loop mount). fatBits 0 lets
// mkfs.fat choose (FAT16 at nova's 64 MiB).
func buildVFAT(t testing.TB, tree, label string, sizeMiB, fatBits int) string {
	t.Helper()
	mkfs := testenv.RequireCommand(t, "mkfs.vfat")
	mcopy := testenv.RequireCommand(t, "mcopy")
	out := filepath.Join(t.TempDir(), "configdrive.vfat")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(sizeMiB) << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	args := []string{"-n", label}
	if fatBits != 0 {
		args = append(args, "-F", strconv.Itoa(fatBits))
	}
	run(t, mkfs, append(args, out)...)
	entries, err := os.ReadDir(tree)
	if err != nil {
		t.Fatal(err)
	}
	mcopyArgs := []string{"-s", "-i", out}
	for _, e := range entries {
		mcopyArgs = append(mcopyArgs, filepath.Join(tree, e.Name()))
	}
	run(t, mcopy, append(mcopyArgs, "::/")...)
	return out
}

// expectedInstance derives what Read must return for a drive tree from the
// tree's own files, with a generic JSON decoder (not the code under test):
// the openstack/latest documents, content files and user_data.
func expectedInstance(t testing.TB, tree string) *datasource.Instance {
	t.Helper()
	var md map[string]any
	readJSON(t, filepath.Join(tree, "openstack/latest/meta_data.json"), &md)
	want := &datasource.Instance{
		InstanceID:       md["uuid"].(string),
		Hostname:         md["hostname"].(string),
		Name:             md["name"].(string),
		AvailabilityZone: md["availability_zone"].(string),
	}
	keys := md["public_keys"].(map[string]any)
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		want.PublicKeys = append(want.PublicKeys, strings.TrimRight(keys[k].(string), "\n"))
	}
	want.Meta = map[string]string{}
	for k, v := range md["meta"].(map[string]any) {
		want.Meta[k] = v.(string)
	}
	for _, f := range md["files"].([]any) {
		f := f.(map[string]any)
		content, err := os.ReadFile(filepath.Join(tree, "openstack", f["content_path"].(string)))
		if err != nil {
			t.Fatal(err)
		}
		want.Files = append(want.Files, datasource.File{Path: f["path"].(string), Content: content})
	}
	userData, err := os.ReadFile(filepath.Join(tree, "openstack/latest/user_data"))
	if err != nil {
		t.Fatal(err)
	}
	want.UserData = userData
	// vendor_data.json has no "cloud-init" key and vendor_data2.json's static
	// entry is "": cloud-init gets no vendor data from this drive.
	var vd map[string]any
	readJSON(t, filepath.Join(tree, "openstack/latest/vendor_data.json"), &vd)
	if _, ok := vd["cloud-init"]; ok {
		t.Fatal("fixture changed: vendor_data.json now has a cloud-init key; update expectedInstance")
	}
	return want
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
