package configdrive

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"guestbridge/internal/oracle"
	"guestbridge/netconf"
)

// Tests for the issue-8 "Root 2" bugs, each named after it. They go through
// the public path a drive takes (ParseNetworkData, MarshalV2), so they
// failed before netconf.Config.Normalise existed.

func withinWarnings(warnings []string, parts ...string) bool {
	return slices.ContainsFunc(warnings, func(w string) bool {
		for _, p := range parts {
			if !strings.Contains(w, p) {
				return false
			}
		}
		return true
	})
}

// A default route via 0.0.0.0 (or ::) became `to: default` without `via`;
// netplan generate aborted (rc 250) and cloud-init's parser rejects
// "default". Now it is a direct route, left out of v2 (cloud-init's ENI
// renderer crashes on a route without gateway) and returned by
// RendererLosses for guestbridge to install.
func TestDefaultRouteViaUnspecifiedGatewayIsNotBareDefault(t *testing.T) {
	cfg, _ := mustParseND(t, `{"links": [`+oneNIC+`], "networks": [
		{"id": "n", "type": "ipv4", "link": "tap0", "ip_address": "192.0.2.5", "netmask": "255.255.255.0",
		 "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "0.0.0.0"}]},
		{"id": "m", "type": "ipv6", "link": "tap0", "ip_address": "2001:db8::5", "netmask": "ffff:ffff:ffff:ffff::",
		 "routes": [{"network": "::", "netmask": "::", "gateway": "::"}]}]}`, NetworkOptions{})
	v2, err := cfg.MarshalV2()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(v2), "default") {
		t.Errorf("v2 still says default:\n%s", v2)
	}
	if _, stderr, err := oracle.NetplanGenerateErr(t, v2); err != nil {
		t.Fatalf("netplan generate fails: %v\n%s\n%s", err, stderr, v2)
	}
	for _, r := range cfg.Ethernets[0].Routes {
		if r.Via.IsValid() || !r.IsDefault() {
			t.Errorf("route %+v: want a direct default route", r)
		}
	}
	loss, err := cfg.RendererLosses("netplan")
	if err != nil {
		t.Fatal(err)
	}
	if len(loss.Routes) != 2 {
		t.Errorf("direct default routes not handed to guestbridge: %+v", loss.Routes)
	}
}

// `show` emitted a route with host bits set as-is and apply rejected it.
func TestRouteWithHostBitsIsMasked(t *testing.T) {
	cfg, warnings := mustParseND(t, `{"links": [`+oneNIC+`], "networks": [
		{"id": "n", "type": "ipv4", "link": "tap0", "ip_address": "192.0.2.5/24",
		 "routes": [{"network": "198.19.1.5", "netmask": "255.255.255.0", "gateway": "192.0.2.1"}]}]}`, NetworkOptions{})
	if got := cfg.Ethernets[0].Routes[0].To; got != netip.MustParsePrefix("198.19.1.0/24") {
		t.Errorf("route to %s, want 198.19.1.0/24", got)
	}
	if !withinWarnings(warnings, "198.19.1.5/24", "host bits", "198.19.1.0/24") {
		t.Errorf("no warning about the host bits: %v", warnings)
	}
	if v2, _ := cfg.MarshalV2(); strings.Contains(string(v2), "198.19.1.5") {
		t.Errorf("v2 keeps the host bits:\n%s", v2)
	}
}

// A /32 address whose gateway is outside it: apply said "set on_link", a
// field network_data.json does not have. The route is now on-link in every
// sink.
func TestSlash32AddressWithOutsideGatewayIsOnLink(t *testing.T) {
	cfg, _ := mustParseND(t, `{"links": [`+oneNIC+`], "networks": [
		{"id": "n", "type": "ipv4", "link": "tap0", "ip_address": "203.0.113.5", "netmask": "255.255.255.255",
		 "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "203.0.113.1"},
		            {"network": "198.51.100.0", "netmask": "255.255.255.0", "gateway": "192.0.2.1"}]}]}`, NetworkOptions{})
	for _, r := range cfg.Ethernets[0].Routes {
		if !r.OnLink {
			t.Errorf("route %s via %s: not on-link", r.To, r.Via)
		}
	}
	v2, err := cfg.MarshalV2()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := oracle.NetplanGenerate(t, v2)
	var network string
	for name, body := range files {
		if strings.HasSuffix(name, ".network") {
			network += body
		}
	}
	if n := strings.Count(network, "GatewayOnLink=true"); n != 2 {
		t.Errorf("netplan wrote %d on-link routes, want 2:\n%s", n, network)
	}
}

// Global services DNS was dropped from v2 when every static NIC had DNS of
// its own, yet written first into resolv.conf by apply. Now v2 carries it
// and MachineDNS (resolv.conf) lists exactly v2's servers in v2's order.
func TestGlobalServicesDNSNeverDropped(t *testing.T) {
	cfg, _ := mustParseND(t, `{"links": [`+oneNIC+`, {"id": "tap1", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:02"}],
		"networks": [
		{"id": "n", "type": "ipv4", "link": "tap0", "ip_address": "192.0.2.5/24", "dns_nameservers": ["192.0.2.53"]},
		{"id": "m", "type": "ipv4", "link": "tap1", "ip_address": "198.51.100.5/24", "dns_nameservers": ["198.51.100.53"]}],
		"services": [{"type": "dns", "address": "203.0.113.53"}, {"type": "dns", "address": "2001:db8::53"}]}`, NetworkOptions{})
	v2, err := cfg.MarshalV2()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Network struct {
			Ethernets map[string]struct {
				Nameservers struct{ Addresses []string }
			}
		}
	}
	if err := yaml.Unmarshal(v2, &doc); err != nil {
		t.Fatal(err)
	}
	var inV2 []string
	for _, e := range cfg.Ethernets { // v2 order is model order
		inV2 = append(inV2, doc.Network.Ethernets[e.ID].Nameservers.Addresses...)
	}
	for _, want := range []string{"203.0.113.53", "2001:db8::53"} {
		if !slices.Contains(inV2, want) {
			t.Errorf("global DNS %s missing from v2:\n%s", want, v2)
		}
	}
	servers, _ := cfg.MachineDNS()
	var resolv []string
	for _, s := range servers {
		resolv = append(resolv, s.String())
	}
	if !slices.Equal(resolv, inV2) {
		t.Errorf("resolv.conf servers %v, v2 servers %v: want the same list", resolv, inV2)
	}
}

// One bad link rejected the whole drive: a 20-byte InfiniBand MAC, or a
// derived VLAN name over 15 bytes. Now that link (and what stacks on it)
// is skipped with a warning naming it, and the rest renders.
func TestOneBadLinkIsSkippedNotTheWholeDrive(t *testing.T) {
	const ib = "a0:00:02:20:fe:80:00:00:00:00:00:00:ec:0d:9a:03:00:40:a1:b2"
	cfg, warnings := mustParseND(t, `{"links": [`+oneNIC+`,
		{"id": "ib0", "type": "phy", "ethernet_mac_address": "`+ib+`"},
		{"id": "long", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:03"},
		{"id": "v", "type": "vlan", "vlan_link": "long", "vlan_id": 1001, "vlan_mac_address": null}],
		"networks": [
		{"id": "n", "type": "ipv4", "link": "tap0", "ip_address": "192.0.2.5/24"},
		{"id": "i", "type": "ipv4", "link": "ib0", "ip_address": "10.9.0.5/24"},
		{"id": "w", "type": "ipv4", "link": "v", "ip_address": "10.10.0.5/24"}]}`,
		NetworkOptions{KnownNames: map[string]string{"fa:16:3e:00:00:03": "enp175s0f0np0"}})
	var ids []string
	for _, e := range cfg.Ethernets {
		ids = append(ids, e.ID)
	}
	if len(cfg.VLANs) != 0 || !slices.Contains(ids, "enp175s0f0np0") || len(ids) != 2 {
		t.Errorf("ethernets %v, vlans %+v: want the IB link and the long VLAN skipped, the rest kept", ids, cfg.VLANs)
	}
	if !withinWarnings(warnings, "skipped", ib) {
		t.Errorf("no warning naming the InfiniBand link: %v", warnings)
	}
	if !withinWarnings(warnings, "enp175s0f0np0.1001", "skipped") {
		t.Errorf("no warning naming the VLAN: %v", warnings)
	}
	v2, err := cfg.MarshalV2()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(v2), "192.0.2.5/24") {
		t.Errorf("the good link is not rendered:\n%s", v2)
	}
	oracle.NetplanGenerate(t, v2)
}

// Accepted without a word before: an address on a bond member, a VLAN on a
// bond member, a VLAN MTU larger than its parent's.
func TestBondMemberAddressVLANAndVLANMTUWarn(t *testing.T) {
	_, warnings := mustParseND(t, `{"links": [
		{"id": "a", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:01", "mtu": 1500},
		{"id": "b", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:02"},
		{"id": "bond", "type": "bond", "bond_links": ["a", "b"], "bond_mode": "active-backup", "ethernet_mac_address": "fa:16:3e:00:00:01", "mtu": 1500},
		{"id": "v1", "type": "vlan", "vlan_link": "a", "vlan_id": 10},
		{"id": "v2", "type": "vlan", "vlan_link": "bond", "vlan_id": 20, "mtu": 9000}],
		"networks": [{"id": "n", "type": "ipv4", "link": "a", "ip_address": "192.0.2.5/24"}]}`,
		NetworkOptions{KnownNames: map[string]string{"fa:16:3e:00:00:01": "ens3", "fa:16:3e:00:00:02": "ens4"}})
	for _, want := range [][]string{
		{"ens3", "member of bond bond0"},
		{"ens3.10", "VLAN on ens3", "member of bond"},
		{"bond0.20", "mtu 9000", "larger", "1500"},
	} {
		if !withinWarnings(warnings, want...) {
			t.Errorf("no warning with %q in %v", want, warnings)
		}
	}
}

// The machine-wide DNS list is one function in netconf (cmd used to
// compute it itself); after Normalise it is v2's servers in v2's order.
func TestMachineDNSIsV2Order(t *testing.T) {
	c := &netconf.Config{
		Ethernets: []netconf.Ethernet{
			{ID: "a", L3: netconf.L3{DHCP4: true}},
			{ID: "b", L3: netconf.L3{Addresses: prefixes("192.0.2.5/24"), Nameservers: addrs("192.0.2.53"), Search: []string{"b.example"}}},
		},
		Nameservers: addrs("203.0.113.53", "192.0.2.53"),
		Search:      []string{"example.org"},
	}
	c.Normalise()
	servers, search := c.MachineDNS()
	if !slices.Equal(servers, addrs("192.0.2.53", "203.0.113.53")) || !slices.Equal(search, []string{"b.example", "example.org"}) {
		t.Errorf("MachineDNS = %v %v", servers, search)
	}
	if !slices.Equal(c.Ethernets[1].Nameservers, addrs("192.0.2.53", "203.0.113.53")) {
		t.Errorf("global server not put on the static interface: %v", c.Ethernets[1].Nameservers)
	}
}
