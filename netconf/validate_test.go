package netconf

import (
	"net/netip"
	"strings"
	"testing"
)

func TestValidateAcceptsGoldenConfigs(t *testing.T) {
	for name, cfg := range goldenConfigs {
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	eth := func(id, m string) Ethernet { return Ethernet{ID: id, MAC: mac(m)} }
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"duplicate name across kinds", Config{Ethernets: []Ethernet{{ID: "x"}}, Bonds: []Bond{{Name: "x"}}}, `bonds[0] "x": name "x" already used by a ethernet`},
		{"duplicate mac", Config{Ethernets: []Ethernet{eth("a", "52:54:00:00:00:01"), eth("b", "52:54:00:00:00:01")}}, "already used by \"a\""},
		{"bad name", Config{Ethernets: []Ethernet{{ID: "way-too-long-interface-name"}}}, "1 to 15 bytes"},
		{"member missing", Config{Bonds: []Bond{{Name: "b", Members: []string{"nope"}}}}, `members[0] "nope" is not an ethernet`},
		{"member twice", Config{Ethernets: []Ethernet{{ID: "e"}}, Bonds: []Bond{{Name: "b1", Members: []string{"e"}}, {Name: "b2", Members: []string{"e"}}}}, `already a member of "b1"`},
		{"bad mode", Config{Bonds: []Bond{{Name: "b", Params: BondParams{Mode: "4"}}}}, `unknown bond mode "4"`},
		{"primary not member", Config{Ethernets: []Ethernet{{ID: "e"}}, Bonds: []Bond{{Name: "b", Members: []string{"e"}, Params: BondParams{Primary: "x"}}}}, `primary "x" is not a member`},
		{"vlan link", Config{VLANs: []VLAN{{Name: "v", ID: 1, Link: "nope"}}}, `link "nope" is not an ethernet or bond`},
		{"vlan on vlan", Config{Ethernets: []Ethernet{{ID: "e"}}, VLANs: []VLAN{{Name: "v1", ID: 1, Link: "e"}, {Name: "v2", ID: 2, Link: "v1"}}}, `link "v1" is not`},
		{"vlan id", Config{Ethernets: []Ethernet{{ID: "e"}}, VLANs: []VLAN{{Name: "v", ID: 4095, Link: "e"}}}, "id 4095 outside"},
		{"invalid address", Config{Ethernets: []Ethernet{{ID: "e", L3: L3{Addresses: []netip.Prefix{{}}}}}}, "addresses[0] is not a valid"},
		{"route family", Config{Ethernets: []Ethernet{{ID: "e", L3: L3{Routes: []Route{{To: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("2001:db8::1")}}}}}}, "is not of the family"},
		{"mtu", Config{Ethernets: []Ethernet{{ID: "e", L3: L3{MTU: 70000}}}}, "mtu 70000"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestSpreadDefaultRouteMetrics(t *testing.T) {
	def4 := func(via string, metric uint32) Route {
		return Route{To: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr(via), Metric: metric}
	}
	cfg := &Config{
		Ethernets: []Ethernet{
			{ID: "a", L3: L3{Routes: []Route{def4("192.0.2.1", 0)}}},
			{ID: "b", L3: L3{DHCP4: true}},
		},
		VLANs: []VLAN{{Name: "v", Link: "a", ID: 5, L3: L3{Routes: []Route{def4("198.51.100.1", 42)}}}},
	}
	cfg.SpreadDefaultRouteMetrics()
	if got := cfg.Ethernets[0].Routes[0].Metric; got != 100 {
		t.Errorf("first default route metric = %d, want 100", got)
	}
	if got := cfg.Ethernets[1].DHCPRouteMetric; got != 200 {
		t.Errorf("DHCP route metric = %d, want 200", got)
	}
	if got := cfg.VLANs[0].Routes[0].Metric; got != 42 {
		t.Errorf("source metric overwritten: %d, want 42", got)
	}

	single := &Config{Ethernets: []Ethernet{{ID: "a", L3: L3{DHCP4: true}}}}
	single.SpreadDefaultRouteMetrics()
	if single.Ethernets[0].DHCPRouteMetric != 0 {
		t.Error("a single DHCP interface got a route metric")
	}
}
