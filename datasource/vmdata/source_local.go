package vmdata

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// SysClassNet is where Linux lists network interfaces.
const SysClassNet = "/sys/class/net"

// LocalMACs lists the guest's NICs that vm-data/networking can describe,
// for Source.LocalMACs: Ethernet interfaces backed by a device (physical
// NICs and Xen vifs), keyed by MAC. Bridges, bonds and VLANs share a
// member's MAC and have no device, so they are skipped and never mistaken
// for the NIC (nova-agent 2.x matched them). sysClassNet is normally
// SysClassNet; tests pass a fake tree.
func LocalMACs(sysClassNet string) (map[string]string, error) {
	entries, err := os.ReadDir(sysClassNet)
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names) // a MAC shared by two devices goes to the first name
	out := map[string]string{}
	for _, name := range names {
		dir := filepath.Join(sysClassNet, name)
		if _, err := os.Stat(filepath.Join(dir, "device")); err != nil {
			continue
		}
		if typ, _ := os.ReadFile(filepath.Join(dir, "type")); strings.TrimSpace(string(typ)) != "1" { // ARPHRD_ETHER
			continue
		}
		addr, err := os.ReadFile(filepath.Join(dir, "address"))
		if err != nil {
			continue // the interface went away meanwhile
		}
		mac, err := parseMAC(strings.TrimSpace(string(addr)))
		if err != nil || isZero(mac) {
			continue
		}
		if _, dup := out[mac.String()]; !dup {
			out[mac.String()] = name
		}
	}
	return out, nil
}

func isZero(b []byte) bool {
	return !slices.ContainsFunc(b, func(x byte) bool { return x != 0 })
}
