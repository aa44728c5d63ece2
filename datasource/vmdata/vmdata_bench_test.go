package vmdata

import (
	"fmt"
	"testing"
)

// BenchmarkParseVMData translates a Rackspace-like guest with 4 NICs
// (public v4+v6 with DNS, private with routes), metadata and provider data.
func BenchmarkParseVMData(b *testing.B) {
	v := VMData{Networking: map[string][]byte{}, UserMetadata: map[string][]byte{}, ProviderData: map[string]string{}}
	for i := range 4 {
		v.Networking[fmt.Sprintf("BC764E2075%02X", i)] = []byte(fmt.Sprintf(`{"ip6s": [{"ip": "2001:db8:7802:104:be76:4eff:fe20:75%02x", "netmask": 64, "enabled": "1", "gateway": "fe80::def"}], "label": "public", "ips": [{"ip": "198.51.100.%d", "netmask": "255.255.255.0", "enabled": "1", "gateway": "198.51.100.1"}], "mac": "BC:76:4E:20:75:%02X", "gateway_v6": "fe80::def", "dns": ["192.0.2.53", "192.0.2.54"], "gateway": "198.51.100.1", "routes": [{"route": "10.208.0.0", "netmask": "255.240.0.0", "gateway": "198.51.100.254"}]}`, i, 10+i, i))
		v.UserMetadata[fmt.Sprintf("key%d", i)] = []byte(`"value"`)
		v.ProviderData[fmt.Sprintf("ip_whitelist/%d", i)] = "203.0.113.0/24"
	}
	h := "test-server"
	v.Hostname = &h
	b.ReportAllocs()
	for b.Loop() {
		inst, err := ParseVMData(v)
		if err != nil || len(inst.Network.Ethernets) != 4 {
			b.Fatalf("ParseVMData: %v", err)
		}
	}
}
