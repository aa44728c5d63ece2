package vmdata

import (
	"strings"
	"testing"
)

// FuzzParseVMData feeds arbitrary networking values, keys, hostnames and
// metadata. ParseVMData must never panic nor fail (LocalMACs is valid here),
// and whatever it produces must validate and name its keys in warnings.
func FuzzParseVMData(f *testing.F) {
	f.Add([]byte(goodNIC), "020000000001", "host\n", []byte(`"v"`), "02:00:00:00:00:01")
	f.Add([]byte(`{"mac":"BC:76:4E:20:75:72","ip6s":[{"ip":"2001:db8::1","netmask":"64","gateway":"fe80::def"}],"gateway_v6":"fe80::def"}`), "BC764E207572", "", []byte(`{}`), "")
	f.Add([]byte(`{"ips":[{"ip":"192.0.2.1","netmask":"0.0.0.0"}],"routes":[{"route":"::","netmask":0,"gateway":"fe80::1"}],"dns":["::1"]}`), "02-00-00-00-00-05", " ", []byte(`x`), "020000000005")
	f.Add([]byte(`{"ips":[{"ip":"192.0.2.1","netmask":"255.255.255.0","enabled":false}],"gateway":"192.0.2.1"}`), "0200.0000.0006", "a b", []byte(`[1]`), "bad")
	f.Fuzz(func(t *testing.T, value []byte, key, hostname string, meta []byte, localMAC string) {
		v := VMData{
			Networking:   map[string][]byte{key: value, "020000000001": []byte(goodNIC)},
			Hostname:     &hostname,
			UserMetadata: map[string][]byte{"k": meta},
			ProviderData: map[string]string{"provider": hostname},
		}
		if _, err := parseMAC(localMAC); err == nil {
			v.LocalMACs = map[string]string{localMAC: "eth0", "02:00:00:00:00:01": "eth1"}
			if mac, _ := parseMAC(localMAC); mac.String() == "02:00:00:00:00:01" {
				v.LocalMACs = map[string]string{localMAC: "eth1"}
			}
		}
		inst, err := ParseVMData(v)
		if err != nil {
			t.Fatalf("ParseVMData: %v", err)
		}
		for _, w := range inst.Warnings {
			if !strings.HasPrefix(w, "vm-data/") {
				t.Errorf("warning does not name its key: %q", w)
			}
		}
		if inst.Network == nil {
			t.Fatalf("the always-valid NIC was dropped")
		}
		if err := inst.Network.Validate(); err != nil {
			t.Errorf("result does not validate: %v", err)
		}
		for _, e := range inst.Network.Ethernets {
			if len(e.MAC) != 6 || e.Named {
				t.Errorf("ethernet %+v", e)
			}
			for _, a := range e.Addresses {
				if !a.IsValid() {
					t.Errorf("invalid address in %s", e.ID)
				}
			}
		}
		if _, err := inst.Network.MarshalV2(); err != nil {
			t.Errorf("MarshalV2: %v", err)
		}
	})
}
