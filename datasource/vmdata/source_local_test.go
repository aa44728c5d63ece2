package vmdata

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// fakeNetDev adds one interface to a fake /sys/class/net tree.
func fakeNetDev(t *testing.T, root, name, mac, typ string, device bool) {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if device {
		if err := os.Mkdir(filepath.Join(dir, "device"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for file, val := range map[string]string{"address": mac + "\n", "type": typ + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(val), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLocalMACs(t *testing.T) {
	root := t.TempDir()
	fakeNetDev(t, root, "eth0", "bc:76:4e:20:75:72", "1", true)
	fakeNetDev(t, root, "eth1", "BC:76:4E:20:6C:5B", "1", true)
	fakeNetDev(t, root, "br0", "bc:76:4e:20:75:72", "1", false)       // bridge: shares eth0's MAC, no device
	fakeNetDev(t, root, "bond0.10", "bc:76:4e:20:6c:5b", "1", false)  // VLAN
	fakeNetDev(t, root, "lo", "00:00:00:00:00:00", "772", false)      // loopback
	fakeNetDev(t, root, "tun0", "00:00:00:00:00:00", "65534", true)   // the 1.x fixture's tun0
	fakeNetDev(t, root, "ib0", "80:00:00:00:00:00:00:00", "32", true) // InfiniBand
	fakeNetDev(t, root, "eth9", "00:00:00:00:00:00", "1", true)       // no MAC yet
	got, err := LocalMACs(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"bc:76:4e:20:75:72": "eth0", "bc:76:4e:20:6c:5b": "eth1"}
	if !maps.Equal(got, want) {
		t.Errorf("LocalMACs = %v, want %v", got, want)
	}
	if _, err := LocalMACs(filepath.Join(root, "missing")); err == nil {
		t.Errorf("a missing tree must be an error")
	}
}

// On the real system the loopback device is never listed.
func TestLocalMACsSystem(t *testing.T) {
	got, err := LocalMACs(SysClassNet)
	if err != nil {
		t.Fatal(err)
	}
	for mac, name := range got {
		if name == "lo" || mac == "00:00:00:00:00:00" {
			t.Errorf("listed %s %s", name, mac)
		}
	}
}
