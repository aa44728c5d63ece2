package configdrive

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"guestbridge/internal/testenv"
)

// fakeDevice is one /sys/class/block entry and its /dev node.
type fakeDevice struct {
	name      string
	sectors   string // content of "size"
	partition bool
	holder    string // a name under holders/, "" for none
	devname   string // DEVNAME in uevent, "" for none
	image     []byte // nil: no device node (open fails)
}

func fakeSystem(t *testing.T, devs []fakeDevice) (sysRoot, devRoot string) {
	t.Helper()
	root := t.TempDir()
	sysRoot, devRoot = filepath.Join(root, "sys"), filepath.Join(root, "dev")
	for _, d := range devs {
		sys := filepath.Join(sysRoot, "class", "block", d.name)
		writeFile(t, filepath.Join(sys, "size"), []byte(d.sectors+"\n"))
		if d.partition {
			writeFile(t, filepath.Join(sys, "partition"), []byte("1\n"))
		}
		if d.holder != "" {
			writeFile(t, filepath.Join(sys, "holders", d.holder), nil)
		}
		if d.devname != "" {
			writeFile(t, filepath.Join(sys, "uevent"), []byte("MAJOR=1\nDEVNAME="+d.devname+"\nDEVTYPE=disk\n"))
		}
		node := d.name
		if d.devname != "" {
			node = d.devname
		}
		if d.image != nil {
			writeFile(t, filepath.Join(devRoot, node), d.image)
		}
	}
	return sysRoot, devRoot
}

func TestFindOrderFakeSysfs(t *testing.T) {
	iso, fat := syntheticISO("config-2"), syntheticFAT12("NO NAME", "CONFIG-2")
	sysRoot, devRoot := fakeSystem(t, []fakeDevice{
		{name: "loop1", sectors: "100", image: iso},
		{name: "loop0", sectors: "0", image: iso}, // unbound loop device
		{name: "vda", sectors: "100", image: make([]byte, 1<<16)},
		{name: "vdb", sectors: "100", image: fat},
		{name: "vdb1", sectors: "50", partition: true, image: fat},
		{name: "vdaa", sectors: "100", image: iso},
		{name: "vdc", sectors: "100", holder: "dm-0", image: iso}, // used by device mapper
		{name: "vdd", sectors: "100", image: syntheticISO("cidata")},
		{name: "sr1", sectors: "100"}, // no node: cannot be opened
		{name: "sr0", sectors: "100", image: iso},
		{name: "cciss!c0d0", sectors: "100", devname: "cciss/c0d0", image: fat},
	})
	seed := t.TempDir()
	writeFile(t, filepath.Join(seed, "openstack/2015-10-15/meta_data.json"), minimalMeta)
	notSeed := t.TempDir()
	writeFile(t, filepath.Join(notSeed, "openstack/content/0000"), []byte("x"))

	got, err := Find(FindOptions{SysRoot: sysRoot, DevRoot: devRoot, SeedDirs: []string{notSeed, seed, filepath.Join(seed, "missing")}})
	if err != nil {
		t.Fatal(err)
	}
	dev := func(name string) string { return filepath.Join(devRoot, name) }
	want := []string{
		dev("sr0"),                                 // CD-ROMs first
		dev("cciss/c0d0"), dev("vdaa"), dev("vdb"), // then disks, last first
		dev("vdb1"),  // then partitions
		dev("loop1"), // then loop devices
		seed,         // then seed directories
	}
	if !slices.Equal(got, want) {
		t.Errorf("Find =\n%q\nwant\n%q", got, want)
	}
}

func TestFindNothing(t *testing.T) {
	sysRoot, devRoot := fakeSystem(t, []fakeDevice{
		{name: "vda", sectors: "100", image: make([]byte, 1<<16)},
		{name: "vdb", sectors: "100", image: syntheticFAT12("NO NAME", "")},
	})
	empty := t.TempDir()
	got, err := Find(FindOptions{SysRoot: sysRoot, DevRoot: devRoot, SeedDirs: []string{empty}})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Find = %q, %v; want ErrNotFound", got, err)
	}
	if !strings.Contains(err.Error(), sysRoot) || !strings.Contains(err.Error(), empty) {
		t.Errorf("error %q should say where it looked", err)
	}
	// No sysfs at all (a container) is not a crash either.
	if _, err := Find(FindOptions{SysRoot: filepath.Join(empty, "nosys"), DevRoot: devRoot, SeedDirs: []string{}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("without sysfs: %v", err)
	}
}

// Find on the real /sys and /dev sees a loop device holding a config
// drive image (loop devices work although the kernel cannot mount it).
func TestFindRealLoopDevices(t *testing.T) {
	testenv.RequireRoot(t)
	losetup := testenv.RequireCommand(t, "losetup")
	testenv.RequireFile(t, "/dev/loop-control")
	tree := copyTree(t, fixtureTree)
	for _, tc := range []struct {
		name string
		img  string
	}{
		{"iso", buildISO(t, tree, "config-2")},
		{"vfat", buildVFAT(t, tree, "CONFIG-2", 64, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(losetup, "--find", "--show", "--read-only", tc.img).CombinedOutput()
			if err != nil {
				t.Fatalf("losetup: %v: %s", err, out)
			}
			loop := strings.TrimSpace(string(out))
			t.Cleanup(func() {
				if out, err := exec.Command(losetup, "-d", loop).CombinedOutput(); err != nil {
					t.Errorf("losetup -d %s: %v: %s", loop, err, out)
				}
			})
			found, err := Find(FindOptions{SeedDirs: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(found, loop) {
				t.Fatalf("Find = %q, want it to include %s", found, loop)
			}
			// The block device itself opens and reads like the image.
			src := &Source{Path: loop, KnownNames: fixtureOptions(t).KnownNames}
			inst, err := src.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if inst.Source != "configdrive:"+loop {
				t.Errorf("Source = %q", inst.Source)
			}
			checkFixtureInstance(t, tree, expectedInstance(t, tree), inst)
		})
	}
}

func TestSourceFindsByLabel(t *testing.T) {
	tree := copyTree(t, fixtureTree)
	iso := buildISO(t, tree, "config-2")
	isoBytes, err := os.ReadFile(iso)
	if err != nil {
		t.Fatal(err)
	}
	// sr0 is labelled config-2 but its tree is broken; vdb is good.
	broken := patch(isoBytes, isoRootExtent(isoBytes), make([]byte, 2048))
	sysRoot, devRoot := fakeSystem(t, []fakeDevice{
		{name: "sr0", sectors: "100", image: broken},
		{name: "vdb", sectors: "100", image: isoBytes},
	})
	src := &Source{KnownNames: fixtureOptions(t).KnownNames, Find: FindOptions{SysRoot: sysRoot, DevRoot: devRoot, SeedDirs: []string{}}}
	if src.Name() != "configdrive" {
		t.Errorf("Name = %q", src.Name())
	}
	inst, err := src.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if inst.Source != "configdrive" {
		t.Errorf("Source = %q", inst.Source)
	}
	checkFixtureInstance(t, tree, expectedInstance(t, tree), inst)
}

func TestSourceErrors(t *testing.T) {
	sysRoot, devRoot := fakeSystem(t, nil)
	src := &Source{Find: FindOptions{SysRoot: sysRoot, DevRoot: devRoot, SeedDirs: []string{}}}
	if _, err := src.Read(context.Background()); !errors.Is(err, ErrNotFound) {
		t.Errorf("no drive: %v, want ErrNotFound", err)
	}
	bad := t.TempDir()
	writeFile(t, filepath.Join(bad, "openstack/latest/meta_data.json"), []byte(`{"uuid": 1}`))
	src = &Source{Path: bad}
	if src.Name() != "configdrive:"+bad {
		t.Errorf("Name = %q", src.Name())
	}
	_, err := src.Read(context.Background())
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "meta_data.json: uuid: want string") {
		t.Errorf("bad drive: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&Source{Path: fixtureTree}).Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
