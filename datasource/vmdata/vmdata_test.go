package vmdata

import (
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"guestbridge/datasource"
	"guestbridge/netconf"
)

var cmpNet = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

func readVMDataFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vmdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }
func hw(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}
func ips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, x := range s {
		out = append(out, ip(x))
	}
	return out
}

var (
	def4 = pfx("0.0.0.0/0")
	def6 = pfx("::/0")
)

func mustParse(t *testing.T, v VMData) *datasource.Instance {
	t.Helper()
	inst, err := ParseVMData(v)
	if err != nil {
		t.Fatalf("ParseVMData: %v", err)
	}
	return inst
}

func checkNetwork(t *testing.T, inst *datasource.Instance, want *netconf.Config) {
	t.Helper()
	if diff := cmp.Diff(want, inst.Network, cmpNet); diff != "" {
		t.Errorf("network (-want +got):\n%s", diff)
	}
}

func checkNoWarnings(t *testing.T, inst *datasource.Instance) {
	t.Helper()
	if len(inst.Warnings) != 0 {
		t.Errorf("unexpected warnings: %q", inst.Warnings)
	}
}

func TestParseVMDataNovaXenAPI(t *testing.T) {
	inst := mustParse(t, VMData{Networking: map[string][]byte{
		"DEADBEEF0001": readVMDataFile(t, "nova-xenapi-DEADBEEF0001.json"),
	}})
	checkNoWarnings(t, inst)
	checkNetwork(t, inst, &netconf.Config{
		Ethernets: []netconf.Ethernet{{
			ID: "nic0", MAC: hw("de:ad:be:ef:00:01"),
			L3: netconf.L3{
				Addresses: []netip.Prefix{pfx("192.168.1.100/24"), pfx("2001:db8:0:1:dcad:beff:feef:1/64")},
				Routes: []netconf.Route{
					{To: def4, Via: ip("192.168.1.1")},
					{To: def6, Via: ip("2001:db8:0:1::1")},
				},
				Nameservers: ips("192.168.1.4", "192.168.1.3"),
			},
		}},
	})
	if inst.Hostname != "" || inst.Meta != nil || inst.ProviderData != nil {
		t.Errorf("absent keys produced data: %+v", inst)
	}
}

// The Rackspace private network: no gateway, two static routes; the raw
// value as xenstore-read prints it (trailing newline) must parse the same.
func TestParseVMDataRackspacePrivate(t *testing.T) {
	want := &netconf.Config{Ethernets: []netconf.Ethernet{{
		ID: "nic0", MAC: hw("bc:76:4e:20:6c:5b"),
		L3: netconf.L3{
			Addresses: []netip.Prefix{pfx("10.208.227.239/19")},
			Routes: []netconf.Route{
				{To: pfx("10.208.0.0/12"), Via: ip("10.208.224.1")},
				{To: pfx("10.176.0.0/12"), Via: ip("10.208.224.1")},
			},
		},
	}}}
	for _, file := range []string{"rax-BC764E206C5B.json", "rax-BC764E206C5B.raw.json"} {
		t.Run(file, func(t *testing.T) {
			inst := mustParse(t, VMData{Networking: map[string][]byte{"BC764E206C5B": readVMDataFile(t, file)}})
			checkNoWarnings(t, inst)
			checkNetwork(t, inst, want)
		})
	}
}

// Two NICs with the guest's interface list, as the 1.x agent was fed:
// IDs come from LocalMACs, NICs are ordered by MAC, fe80:: gateway kept.
func TestParseVMDataTwoNICsWithLocalNames(t *testing.T) {
	var in struct {
		XenStore map[string]string `json:"xenstore"`
		Local    [][3]any          `json:"local_interfaces_getifaddrs"`
	}
	if err := json.Unmarshal(readVMDataFile(t, "novaagent-1x-input_xenstore.json"), &in); err != nil {
		t.Fatal(err)
	}
	v := VMData{Networking: map[string][]byte{}, LocalMACs: map[string]string{}}
	for k, val := range in.XenStore {
		if name, ok := strings.CutPrefix(k, "vm-data/networking/"); ok {
			v.Networking[name] = []byte(val)
		}
	}
	h := in.XenStore["vm-data/hostname"]
	v.Hostname = &h
	for _, l := range in.Local {
		v.LocalMACs[l[2].(string)] = l[0].(string)
	}
	inst := mustParse(t, v)
	checkNoWarnings(t, inst)
	if inst.Hostname != "test-server" {
		t.Errorf("hostname %q", inst.Hostname)
	}
	checkNetwork(t, inst, &netconf.Config{
		Ethernets: []netconf.Ethernet{
			{
				ID: "eth1", MAC: hw("bc:76:4e:20:6c:5b"),
				L3: netconf.L3{
					Addresses: []netip.Prefix{pfx("10.208.227.239/19")},
					Routes: []netconf.Route{
						{To: pfx("10.208.0.0/12"), Via: ip("10.208.224.1")},
						{To: pfx("10.176.0.0/12"), Via: ip("10.208.224.1")},
					},
				},
			},
			{
				ID: "eth0", MAC: hw("bc:76:4e:20:75:72"),
				L3: netconf.L3{
					Addresses: []netip.Prefix{pfx("104.130.4.72/24"), pfx("104.130.4.73/24"), pfx("2001:4802:7802:104:be76:4eff:fe20:7572/64")},
					Routes: []netconf.Route{
						{To: def4, Via: ip("104.130.4.1")},
						{To: def6, Via: ip("fe80::def")}, // link-local: valid on the link, not on-link-flagged
					},
					Nameservers: ips("69.20.0.164", "69.20.0.196"),
				},
			},
		},
	})
}

func TestParseVMDataIPv6Only(t *testing.T) {
	var in struct{ Value json.RawMessage }
	if err := json.Unmarshal(readVMDataFile(t, "novaagent-2x-eth2_ipv6only.input.json"), &in); err != nil {
		t.Fatal(err)
	}
	inst := mustParse(t, VMData{Networking: map[string][]byte{"BC764E201122": in.Value}})
	checkNoWarnings(t, inst)
	checkNetwork(t, inst, &netconf.Config{Ethernets: []netconf.Ethernet{{
		ID: "nic0", MAC: hw("bc:76:4e:20:11:22"),
		L3: netconf.L3{Addresses: []netip.Prefix{pfx("2001:db8::5/64")}},
	}}})
}

// The 2.x fixture is keyed by interface name, not MAC: the JSON mac must
// be used, and the three NICs come out in MAC order.
func TestParseVMDataThreeNICsKeyedByName(t *testing.T) {
	var in struct{ Value map[string]json.RawMessage }
	if err := json.Unmarshal(readVMDataFile(t, "novaagent-2x-all_interfaces.parsed.json"), &in); err != nil {
		t.Fatal(err)
	}
	v := VMData{Networking: map[string][]byte{}}
	for k, val := range in.Value {
		v.Networking[k] = val
	}
	inst := mustParse(t, v)
	checkNoWarnings(t, inst)
	var macs []string
	for _, e := range inst.Network.Ethernets {
		macs = append(macs, e.ID+"="+e.MAC.String())
	}
	want := []string{"nic0=bc:76:4e:20:3b:70", "nic1=bc:76:4e:20:5e:b2", "nic2=bc:76:4e:20:5e:fb"}
	if !slices.Equal(macs, want) {
		t.Fatalf("ethernets %q, want %q", macs, want)
	}
	pub := inst.Network.Ethernets[1]
	wantRoutes := []netconf.Route{{To: def4, Via: ip("104.130.169.1")}, {To: def6, Via: ip("fe80::def")}}
	if diff := cmp.Diff(wantRoutes, pub.Routes, cmpNet); diff != "" {
		t.Errorf("public routes (-want +got):\n%s", diff)
	}
	if got := inst.Network.Ethernets[0].Addresses; len(got) != 1 || got[0] != pfx("192.168.5.4/24") {
		t.Errorf("eth2 addresses %v", got)
	}
}

func TestParseVMDataSeed003(t *testing.T) {
	var in struct {
		Hostname     string                     `json:"hostname"`
		ProviderData map[string]string          `json:"provider_data"`
		Networking   map[string]json.RawMessage `json:"networking"`
	}
	if err := json.Unmarshal(readVMDataFile(t, "seed003-vm-data.json"), &in); err != nil {
		t.Fatal(err)
	}
	v := VMData{Hostname: &in.Hostname, ProviderData: in.ProviderData, Networking: map[string][]byte{}}
	for k, val := range in.Networking {
		v.Networking[k] = val
	}
	inst := mustParse(t, v)
	checkNoWarnings(t, inst)
	if inst.Hostname != "test" {
		t.Errorf("hostname %q", inst.Hostname)
	}
	if got := inst.ProviderData["ip_whitelist/3"]; got != "89.234.21.64/28" || len(inst.ProviderData) != 17 || inst.ProviderData["provider"] != "Rackspace" {
		t.Errorf("provider data %v", inst.ProviderData)
	}
	checkNetwork(t, inst, &netconf.Config{
		Ethernets: []netconf.Ethernet{{
			ID: "nic0", MAC: hw("bc:76:4e:04:cf:e5"),
			L3: netconf.L3{
				Addresses:   []netip.Prefix{pfx("166.78.10.124/24"), pfx("2001:4800:7810:512:e38a:a8b5:ff04:cfe5/64")},
				Routes:      []netconf.Route{{To: def4, Via: ip("166.78.10.1")}, {To: def6, Via: ip("fe80::def")}},
				Nameservers: ips("72.3.128.241", "72.3.128.240"),
			},
		}},
	})
}

func TestParseVMDataCompositeLayout(t *testing.T) {
	var in struct {
		Keys map[string]struct{ Value string } `json:"keys"`
	}
	if err := json.Unmarshal(readVMDataFile(t, "xenstore_layout_composite.json"), &in); err != nil {
		t.Fatal(err)
	}
	v := VMData{Networking: map[string][]byte{}, ProviderData: map[string]string{}}
	for k, val := range in.Keys {
		switch {
		case k == "vm-data/hostname":
			h := val.Value
			v.Hostname = &h
		case strings.HasPrefix(k, "vm-data/networking/"):
			v.Networking[strings.TrimPrefix(k, "vm-data/networking/")] = []byte(val.Value)
		case strings.HasPrefix(k, "vm-data/provider_data/"):
			v.ProviderData[strings.TrimPrefix(k, "vm-data/provider_data/")] = val.Value
		}
	}
	inst := mustParse(t, v)
	checkNoWarnings(t, inst)
	if inst.Hostname != "test-server" || inst.ProviderData["region"] != "DFW" || inst.ProviderData["ip_whitelist/0"] != "10.10.4.12/23" {
		t.Errorf("hostname %q provider data %v", inst.Hostname, inst.ProviderData)
	}
	if n := len(inst.Network.Ethernets); n != 2 {
		t.Fatalf("%d ethernets, want 2", n)
	}
	if got := inst.Network.Ethernets[1].Addresses; len(got) != 4 {
		t.Errorf("public NIC addresses %v, want 2 v4 + 2 v6", got)
	}
}
