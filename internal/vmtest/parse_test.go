package vmtest

import (
	"encoding/binary"
	"strings"
	"testing"
)

func TestParseShowDepends(t *testing.T) {
	out := "insmod /lib/modules/6.1.0-56-amd64/kernel/net/tls/tls.ko \n" +
		"insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/net/bonding/bonding.ko max_bonds=0 \n" +
		"builtin unix\n"
	mods, builtin, err := parseShowDepends(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 2 || mods[1].Options != "max_bonds=0" || mods[0].Options != "" ||
		moduleName(mods[1].Path) != "bonding" {
		t.Errorf("mods = %+v", mods)
	}
	if len(builtin) != 1 || builtin[0] != "unix" {
		t.Errorf("builtin = %v", builtin)
	}
	conf := string(modprobeConf(moduleSet{Files: mods}))
	if conf != "options bonding max_bonds=0\n" {
		t.Errorf("modprobe.conf = %q", conf)
	}
	if _, _, err := parseShowDepends("insmod\nfoo bar\n"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("err = %v, want line 1 rejected", err)
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"/x/nls_iso8859-1.ko": "nls_iso8859_1",
		"/x/8021q.ko.xz":      "8021q",
		"virtio_net.ko.zst":   "virtio_net",
		"/lib/modules/a/b.ko": "b",
		"/x/snd-hda-intel.ko": "snd_hda_intel",
		"/weird/no-extension": "no_extension",
	} {
		if got := moduleName(in); got != want {
			t.Errorf("moduleName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRC(t *testing.T) {
	for _, tc := range []struct {
		console string
		rc      int
		ok      bool
	}{
		{"[    2.27] VMTEST_RC=0\r\n[    2.29] reboot: Power down\r\n", 0, true},
		{"VMTEST_RC=7\n", 7, true},
		{"VMTEST_RC=255", 255, true},
		{"VMTEST_RC=1\nVMTEST_RC=42\n", 42, true},
		{"VMTEST_RC=3\nVMTEST_RC=\n", 3, true},    // a cut-off last marker does not count
		{"VMTEST_RC=3\nVMTEST_RC=999\n", 3, true}, // nor an impossible status
		{"Kernel panic - not syncing\n", 0, false},
		{"", 0, false},
	} {
		rc, ok := parseRC(tc.console)
		if rc != tc.rc || ok != tc.ok {
			t.Errorf("parseRC(%q) = %d, %v; want %d, %v", tc.console, rc, ok, tc.rc, tc.ok)
		}
	}
}

func TestParseNotes(t *testing.T) {
	le := binary.LittleEndian
	note := func(name string, typ uint32, desc []byte) []byte {
		b := le.AppendUint32(nil, uint32(len(name)+1))
		b = le.AppendUint32(b, uint32(len(desc)))
		b = le.AppendUint32(b, typ)
		b = append(b, name...)
		b = append(b, 0)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		b = append(b, desc...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	seg := append(note("GNU", 3, []byte{1, 2, 3, 4, 5}), note("Xen", xenElfnotePhys32Entry, []byte{0, 0, 0, 1})...)
	notes, err := parseNotes(seg, le)
	if err != nil || len(notes) != 2 || notes[0].Name != "GNU" || len(notes[0].Desc) != 5 || notes[1].Type != 18 {
		t.Fatalf("parseNotes = %+v, %v", notes, err)
	}
	if !hasNote(seg, le, "Xen", xenElfnotePhys32Entry) || hasNote(seg, le, "Xen", 17) {
		t.Error("hasNote does not find exactly the Xen PVH note")
	}
	if _, err := parseNotes(seg[:len(seg)-6], le); err != errBadNote {
		t.Errorf("truncated segment: err = %v, want errBadNote", err)
	}
}

func TestVersionLess(t *testing.T) {
	ordered := []string{"5.10.0-9-amd64", "6.1.0-9-amd64", "6.1.0-56-amd64", "6.9.0-1-amd64", "6.10.0-1-amd64", "6.10.0-1-amd64-unsigned"}
	for i := 0; i+1 < len(ordered); i++ {
		if !versionLess(ordered[i], ordered[i+1]) || versionLess(ordered[i+1], ordered[i]) {
			t.Errorf("want %s < %s", ordered[i], ordered[i+1])
		}
	}
	if versionLess("6.1.0", "6.1.0") {
		t.Error("a version is not less than itself")
	}
}

func TestQemuArgsRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{NICs: []NIC{{MAC: "52:54:00:zz:00:00"}}}, "Options.NICs[0].MAC"},
		{Options{NICs: []NIC{{}, {Peer: "tap"}}}, "Options.NICs[1].Peer"},
	} {
		if _, err := qemuArgs("k", "i", "c", "o", tc.o, "virtio"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("qemuArgs(%+v) err = %v, want %s", tc.o, err, tc.want)
		}
	}
	var b boot
	if _, err := b.run(Options{DriveIf: "floppy"}, t.TempDir()); err == nil || !strings.Contains(err.Error(), `DriveIf "floppy"`) {
		t.Errorf("DriveIf floppy: err = %v", err)
	}
	args, err := qemuArgs("k", "i", "c", "o", Options{Drive: "/tmp/a,b.iso", DriveIf: "cdrom"}, "cdrom")
	if err != nil || !strings.Contains(strings.Join(args, " "), "file=/tmp/a,,b.iso,format=raw") {
		t.Errorf("comma in drive path not escaped: %v %v", args, err)
	}
}

func TestDeviceArgs(t *testing.T) {
	args, err := DeviceArgs([]NIC{{MAC: "52:54:00:12:34:56", Peer: "user"}, {}}, "/d.iso", "scsi")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(args, " ")
	for _, want := range []string{
		"-netdev user,id=net0,restrict=on -device virtio-net-pci,mac=52:54:00:12:34:56,netdev=net0",
		"-device virtio-net-pci -device virtio-scsi-pci",
		"file=/d.iso,format=raw,readonly=on,if=none,media=cdrom,id=cd0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("DeviceArgs = %s\nlacks %s", got, want)
		}
	}
	if _, err := DeviceArgs(nil, "/d.iso", "floppy"); err == nil || !strings.Contains(err.Error(), `DriveIf "floppy"`) {
		t.Errorf("floppy: err = %v", err)
	}
}
