package configdrive

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrNotFound means no block device is labelled config-2 and no seed
// directory holds a config drive tree.
var ErrNotFound = errors.New("no config drive found")

// DefaultSeedDirs are the directories cloud-init also accepts as a config
// drive (a tree copied there by an image builder or an earlier boot).
var DefaultSeedDirs = []string{"/var/lib/cloud/seed/config_drive", "/config-drive"}

// FindOptions say where Find looks; zero values mean the real system.
type FindOptions struct {
	SysRoot  string   // holds class/block; default "/sys"
	DevRoot  string   // device nodes; default "/dev"
	SeedDirs []string // nil means DefaultSeedDirs; empty non-nil means none
}

// Find returns every config drive candidate, best first:
//
//  1. block devices whose ISO 9660 or FAT label is config-2 (any case), in
//     this order: CD-ROMs (sr*, cd*; nova's default ISO drive) ascending,
//     then whole disks from the last one (nova attaches the drive after the
//     root disk: vdb after vda), then partitions likewise, then loop
//     devices ascending;
//  2. seed directories holding openstack/latest/meta_data.json or
//     openstack/YYYY-MM-DD/meta_data.json, in SeedDirs order.
//
// Devices that cannot be opened (a CD-ROM drive without a disc, no
// permission) are skipped, as are devices with a holder (dm, md: the label
// belongs to the holder) and empty ones (unbound loop devices).
func Find(opts FindOptions) ([]string, error) {
	sysRoot := cmp.Or(opts.SysRoot, "/sys")
	devRoot := cmp.Or(opts.DevRoot, "/dev")
	seedDirs := opts.SeedDirs
	if seedDirs == nil {
		seedDirs = DefaultSeedDirs
	}
	var found []string
	for _, dev := range blockDevices(filepath.Join(sysRoot, "class", "block")) {
		if path := filepath.Join(devRoot, dev.name); hasConfigDriveLabel(path) {
			found = append(found, path)
		}
	}
	for _, dir := range seedDirs {
		if isSeedDir(dir) {
			found = append(found, dir)
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%w: no block device in %s/class/block labelled %s, no seed directory among %s",
			ErrNotFound, sysRoot, Label, strings.Join(seedDirs, ", "))
	}
	return found, nil
}

type blockDevice struct {
	name  string
	class int // position of its kind in Find's order
}

const (
	classCDROM = iota
	classDisk
	classPartition
	classLoop
)

// blockDevices lists the usable entries of /sys/class/block in Find's order.
func blockDevices(classDir string) []blockDevice {
	entries, err := os.ReadDir(classDir)
	if err != nil {
		return nil
	}
	var devs []blockDevice
	for _, e := range entries {
		sys := filepath.Join(classDir, e.Name())
		if sectors(sys) == 0 || hasHolders(sys) {
			continue
		}
		devs = append(devs, blockDevice{name: devName(sys, e.Name()), class: classify(sys, e.Name())})
	}
	slices.SortFunc(devs, func(a, b blockDevice) int {
		if c := cmp.Compare(a.class, b.class); c != 0 {
			return c
		}
		c := compareNatural(a.name, b.name)
		if a.class == classDisk || a.class == classPartition {
			return -c // last disk first
		}
		return c
	})
	return devs
}

func classify(sys, name string) int {
	switch {
	case strings.HasPrefix(name, "sr"), strings.HasPrefix(name, "cd"):
		return classCDROM
	case strings.HasPrefix(name, "loop"):
		return classLoop
	}
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		return classPartition
	}
	return classDisk
}

// sectors is the device size in 512-byte sectors, 0 if unknown.
func sectors(sys string) int64 {
	b, err := os.ReadFile(filepath.Join(sys, "size"))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

func hasHolders(sys string) bool {
	entries, _ := os.ReadDir(filepath.Join(sys, "holders"))
	return len(entries) > 0
}

// devName is the node name udev would create (DEVNAME in uevent), which
// differs from the sysfs name for e.g. cciss!c0d0.
func devName(sys, fallback string) string {
	b, _ := os.ReadFile(filepath.Join(sys, "uevent"))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "DEVNAME="); ok && v != "" && !strings.Contains(v, "..") {
			return v
		}
	}
	return fallback
}

func hasConfigDriveLabel(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	label, _, err := ProbeLabel(f)
	return err == nil && IsConfigDriveLabel(label)
}

func isSeedDir(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "openstack", "latest", "meta_data.json")); err == nil {
		return true
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "openstack", "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]", "meta_data.json"))
	return len(matches) > 0
}

// compareNatural orders names so that vdb < vdz < vdaa and sr2 < sr10:
// shorter names first, then bytewise.
func compareNatural(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}
