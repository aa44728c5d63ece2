package netconf

import (
	"flag"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"guestbridge/internal/oracle"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.yaml from MarshalV2")

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func pfx(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, x := range s {
		out = append(out, netip.MustParsePrefix(x))
	}
	return out
}

func ips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, x := range s {
		out = append(out, netip.MustParseAddr(x))
	}
	return out
}

var (
	yes = true
	no  = false
)

// goldenConfigs are hand-built models covering every key MarshalV2 writes.
var goldenConfigs = map[string]*Config{
	"single-static": {
		Ethernets: []Ethernet{{ID: "eth0", MAC: mac("FA:16:3E:00:00:01"), Named: true, L3: L3{
			MTU:         1450,
			Addresses:   pfx("192.0.2.10/24", "2001:db8::10/64"),
			AcceptRA:    &no,
			Routes:      []Route{{To: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("192.0.2.1")}, {To: netip.MustParsePrefix("198.51.100.0/24"), Via: netip.MustParseAddr("192.0.2.254"), Metric: 50, OnLink: true}},
			Nameservers: ips("192.0.2.53", "2001:db8::53"),
			Search:      []string{"example.org"},
		}}},
	},
	"dhcp-unnamed-and-nomac": {
		Ethernets: []Ethernet{
			{ID: "nic0", MAC: mac("52:54:00:12:34:56"), L3: L3{DHCP4: true, DHCPRouteMetric: 100}},
			{ID: "ens4", MAC: mac("52:54:00:12:34:57"), L3: L3{DHCP4: true, DHCP6: true, AcceptRA: &yes, DHCPRouteMetric: 200}},
			{ID: "eno1", Named: true, L3: L3{AcceptRA: &yes}},
		},
	},
	"bond-vlan": {
		Ethernets: []Ethernet{
			{ID: "ens1", MAC: mac("52:54:00:00:00:01"), Named: true, L3: L3{MTU: 9000}},
			{ID: "ens2", MAC: mac("52:54:00:00:00:02"), Named: true, L3: L3{MTU: 9000}},
		},
		Bonds: []Bond{{Name: "bond-wan", MAC: mac("52:54:00:00:00:01"), Members: []string{"ens2", "ens1"},
			Params: BondParams{Mode: "802.3ad", MIIMonitorInterval: 100, TransmitHashPolicy: "layer3+4", LACPRate: "fast",
				UpDelay: 200, DownDelay: 300, Primary: "ens2", MinLinks: 1, ADSelect: "stable"},
			L3: L3{MTU: 9000}}},
		VLANs: []VLAN{{Name: "bond-wan.42", ID: 42, Link: "bond-wan", MAC: mac("52:54:00:00:00:03"), L3: L3{
			Addresses: pfx("203.0.113.5/28"),
			Routes:    []Route{{To: netip.MustParsePrefix("::/0"), Via: netip.MustParseAddr("2001:db8::1"), Metric: 100}},
		}}},
	},
}

func TestMarshalV2Golden(t *testing.T) {
	for name, cfg := range goldenConfigs {
		t.Run(name, func(t *testing.T) {
			got, err := cfg.MarshalV2()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("MarshalV2 differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
			}
			again, _ := cfg.MarshalV2()
			if string(again) != string(got) {
				t.Error("MarshalV2 is not deterministic")
			}
		})
	}
}

// The output must read back with the same meaning, including MACs made of
// digits, which YAML 1.1 readers would take for base-60 numbers unquoted.
func TestMarshalV2DecodesBack(t *testing.T) {
	out, err := goldenConfigs["bond-vlan"].MarshalV2()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Network struct {
			Version   int
			Ethernets map[string]struct {
				Match   struct{ MACAddress string }
				SetName string `yaml:"set-name"`
			}
			Bonds map[string]struct{ Interfaces []string }
			VLANs map[string]struct {
				ID   int
				Link string
			} `yaml:"vlans"`
		}
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Network
	if n.Version != 2 || n.Ethernets["ens1"].SetName != "ens1" || n.VLANs["bond-wan.42"].ID != 42 || n.VLANs["bond-wan.42"].Link != "bond-wan" ||
		len(n.Bonds["bond-wan"].Interfaces) != 2 || n.Bonds["bond-wan"].Interfaces[0] != "ens2" {
		t.Errorf("decoded %+v from\n%s", n, out)
	}
	if !strings.Contains(string(out), `macaddress: "52:54:00:00:00:01"`) {
		t.Errorf("digit-only MAC not quoted:\n%s", out)
	}
	if !strings.HasPrefix(string(out), "network:\n  version: 2\n") {
		t.Errorf("output does not start with network/version:\n%s", out)
	}
}

func TestMarshalV2RejectsInvalidConfig(t *testing.T) {
	cfg := &Config{Ethernets: []Ethernet{{ID: "eth0"}, {ID: "eth0"}}}
	if _, err := cfg.MarshalV2(); err == nil || !strings.Contains(err.Error(), `"eth0" already used`) {
		t.Errorf("duplicate names: err = %v", err)
	}
}

func TestMarshalV2Empty(t *testing.T) {
	out, err := (&Config{}).MarshalV2()
	if err != nil || string(out) != "network:\n  version: 2\n" {
		t.Errorf("empty config → %q, %v", out, err)
	}
}

// Every golden document is accepted by netplan without warnings.
func TestMarshalV2GoldenAcceptedByNetplan(t *testing.T) {
	for name, cfg := range goldenConfigs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, err := cfg.MarshalV2()
			if err != nil {
				t.Fatal(err)
			}
			files, stderr := oracle.NetplanGenerate(t, out)
			if w := oracle.NetplanUnexpected(stderr); w != "" {
				t.Errorf("netplan generate warns:\n%s", w)
			}
			if len(files) == 0 {
				t.Error("netplan generated nothing")
			}
		})
	}
}

func TestMarshalNetworkConfigIsV2WithoutWrapper(t *testing.T) {
	c := &Config{Ethernets: []Ethernet{{ID: "eth0", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, L3: L3{DHCP4: true}}}}
	wrapped, err := c.MarshalV2()
	if err != nil {
		t.Fatal(err)
	}
	bare, err := c.MarshalNetworkConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(bare), "version: 2\n") {
		t.Fatalf("network-config must start with version: 2:\n%s", bare)
	}
	var w struct{ Network map[string]any }
	var b map[string]any
	if err := yaml.Unmarshal(wrapped, &w); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(bare, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w.Network, b) {
		t.Errorf("bare form differs from the wrapped one:\n%s\n%s", wrapped, bare)
	}
}
