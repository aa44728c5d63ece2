package vmtest

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"guestbridge/internal/testenv"
)

// Each test here boots a real guest (about 3-5 s under TCG); they run in
// parallel, and acquireSlot keeps at most two VMs running machine-wide.

func TestRunHello(t *testing.T) {
	t.Parallel()
	res := Run(t, Options{Command: "echo hello; cat /proc/version"})
	if res.RC != 0 {
		t.Errorf("RC = %d, want 0; output:\n%s", res.RC, res.Output)
	}
	if !strings.HasPrefix(res.Output, "hello\nLinux version ") {
		t.Errorf("output = %q, want hello then the kernel version", res.Output)
	}
	if strings.Contains(res.Output, "\r") || strings.Contains(res.Output, "Run /init") {
		t.Errorf("output has console noise: %q", res.Output)
	}
	if !strings.Contains(res.Console, "Run /init as init process") {
		t.Errorf("console log lacks the kernel's messages:\n%s", tail(res.Console, 10))
	}
}

// TestRunExitCodeAndStderr also covers Files (a script) and Modules.
func TestRunExitCodeAndStderr(t *testing.T) {
	t.Parallel()
	res := Run(t, Options{
		Command: "echo to-stdout; echo to-stderr >&2; /opt/greet; grep -o '^tun ' /proc/modules; exit 7",
		Files:   map[string][]byte{"/opt/greet": []byte("#!/bin/sh\necho greeting from a file\n")},
		Modules: []string{"tun"},
	})
	if res.RC != 7 {
		t.Errorf("RC = %d, want 7", res.RC)
	}
	want := "to-stdout\nto-stderr\ngreeting from a file\ntun \n"
	if res.Output != want {
		t.Errorf("output = %q, want %q", res.Output, want)
	}
}

func TestTwoNICsAndISOByLabel(t *testing.T) {
	t.Parallel()
	iso := ConfigDriveISO(t, map[string][]byte{
		"openstack/latest/meta_data.json": []byte(`{"uuid": "vmtest-nics"}`),
	})
	res := Run(t, Options{
		NICs:    []NIC{{MAC: "52:54:00:12:34:00"}, {MAC: "52:54:00:12:34:01", Peer: "user"}},
		Drive:   iso,
		Command: "cat /sys/class/net/eth0/address /sys/class/net/eth1/address; readlink /dev/disk/by-label/config-2; mkdir /mnt/cd && mount -o ro /dev/disk/by-label/config-2 /mnt/cd && cat /mnt/cd/openstack/latest/meta_data.json",
	})
	want := "52:54:00:12:34:00\n52:54:00:12:34:01\n../../vda\n" + `{"uuid": "vmtest-nics"}`
	if res.RC != 0 || res.Output != want {
		t.Errorf("RC %d, output %q; want RC 0, output %q", res.RC, res.Output, want)
	}
}

// TestConfigDriveBuses attaches config drives the ways clouds do and finds
// each by label, as an agent must (the device name depends on the bus).
func TestConfigDriveBuses(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{"openstack/latest/meta_data.json": []byte(`{"uuid": "vmtest-bus"}`)}
	for _, tc := range []struct {
		name, driveIf, format, dev, fstype string
	}{
		{"cdrom-iso", "cdrom", "iso", "sr0", "iso9660"},
		{"scsi-iso", "scsi", "iso", "sr0", "iso9660"},
		{"virtio-vfat", "virtio", "vfat", "vda", "vfat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img := ConfigDriveISO
			if tc.format == "vfat" {
				img = ConfigDriveVFAT
			}
			res := Run(t, Options{
				Drive:   img(t, files),
				DriveIf: tc.driveIf,
				Command: "readlink /dev/disk/by-label/config-2; mkdir /mnt/cd && mount -o ro /dev/disk/by-label/config-2 /mnt/cd && cat /mnt/cd/openstack/latest/meta_data.json && echo && grep -o ' /mnt/cd [a-z0-9]*' /proc/mounts",
			})
			want := "../../" + tc.dev + "\n" + `{"uuid": "vmtest-bus"}` + "\n /mnt/cd " + tc.fstype + "\n"
			if res.RC != 0 || res.Output != want {
				t.Errorf("RC %d, output %q; want RC 0, output %q", res.RC, res.Output, want)
			}
		})
	}
}

// TestBondAndVLAN proves the guest kernel can do what guestbridge applies:
// bonding and 8021q autoload, members take the bond's MAC while keeping
// their permanent one.
func TestBondAndVLAN(t *testing.T) {
	t.Parallel()
	script := `set -e
ip link add bond0 type bond
cat /sys/class/net/bonding_masters
# busybox ip ignores bond options: set them through sysfs before enslaving.
echo active-backup > /sys/class/net/bond0/bonding/mode
echo 100 > /sys/class/net/bond0/bonding/miimon
for n in eth0 eth1; do ip link set $n down; ip link set $n master bond0; done
ip link set bond0 up
ip link add link bond0 name bond0.100 type vlan id 100
ip addr add 192.0.2.10/24 dev bond0.100
ip link set bond0.100 up
echo "mode: $(cat /sys/class/net/bond0/bonding/mode)"
echo "slaves: $(cat /sys/class/net/bond0/bonding/slaves)"
echo "eth1: $(cat /sys/class/net/eth1/address)"
grep 'Permanent HW addr' /proc/net/bonding/bond0
grep '^bond0.100' /proc/net/vlan/config
ip -4 addr show dev bond0.100 | grep -o 'inet [0-9./]*'
`
	res := Run(t, Options{
		NICs:    []NIC{{MAC: "52:54:00:12:34:00"}, {MAC: "52:54:00:12:34:01"}},
		Command: script,
	})
	want := `bond0
mode: active-backup 1
slaves: eth0 eth1
eth1: 52:54:00:12:34:00
Permanent HW addr: 52:54:00:12:34:00
Permanent HW addr: 52:54:00:12:34:01
bond0.100      | 100  | bond0
inet 192.0.2.10/24
`
	if res.RC != 0 || res.Output != want {
		t.Errorf("RC %d, output:\n%s\nwant RC 0, output:\n%s", res.RC, res.Output, want)
	}
}

func TestTimeoutKillsGuest(t *testing.T) {
	t.Parallel()
	b := mustPrepare(t)
	_, err := b.run(Options{Command: "sleep 600", Timeout: 1500 * time.Millisecond}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "did not finish within 1.5s") {
		t.Errorf("err = %v, want a timeout", err)
	}
}

func TestKernelBootsThroughPVH(t *testing.T) {
	b := mustPrepare(t)
	if ok, err := hasPVHEntry(b.kernel); !ok {
		t.Errorf("%s has no PVH entry (%v): every boot pays for SeaBIOS and decompression", b.kernel, err)
	}
}

func BenchmarkBootWarm(b *testing.B) {
	Run(b, Options{Command: "true"}) // builds the caches
	b.ResetTimer()
	var guest float64
	for b.Loop() {
		res := Run(b, Options{Command: "true"})
		if res.RC != 0 {
			b.Fatalf("RC %d", res.RC)
		}
		guest += lastTimestamp(res.Console)
	}
	// Guest uptime at poweroff: steadier than wall time on a shared host.
	b.ReportMetric(guest/float64(b.N), "guest-s/op")
}

// lastTimestamp is the last printk time ("[    2.292830] …") in a log.
func lastTimestamp(console string) float64 {
	var ts float64
	for _, line := range strings.Split(console, "\n") {
		if rest, ok := strings.CutPrefix(line, "["); ok {
			if v, _, ok := strings.Cut(rest, "]"); ok {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					ts = f
				}
			}
		}
	}
	return ts
}

// mustPrepare is Run's preparation for tests that drive b.run directly.
func mustPrepare(t *testing.T) *boot {
	b, err := prepare(nil)
	if errors.Is(err, errMissing) {
		testenv.Missing(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}
