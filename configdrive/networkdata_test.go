package configdrive

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"guestbridge/netconf"
)

func mustParseND(t *testing.T, doc string, opts NetworkOptions) (*netconf.Config, []string) {
	t.Helper()
	cfg, warnings, err := ParseNetworkData([]byte(doc), opts)
	if err != nil {
		t.Fatalf("ParseNetworkData: %v\n%s", err, doc)
	}
	return cfg, warnings
}

func mustRenderV2(t *testing.T, cfg *netconf.Config) string {
	t.Helper()
	out, err := cfg.MarshalV2()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, x := range s {
		out = append(out, netip.MustParsePrefix(x))
	}
	return out
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, x := range s {
		out = append(out, netip.MustParseAddr(x))
	}
	return out
}

const oneNIC = `{"id": "tap0", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:01"}`

// Difference: cloud-init renders ipv6_slaac as dhcp6; SLAAC is RA only.
// Shown by nova-asm-ipv4-static-plus-ipv6_slaac, syn-unknown-type-uppercase-mac-cidr-ip.
func TestSLAACAcceptsRAWithoutDHCP6(t *testing.T) {
	cfg, _ := mustParseND(t, `{"links": [`+oneNIC+`], "networks": [
		{"id": "n", "type": "ipv6_slaac", "link": "tap0", "ip_address": "2001:db8::5", "netmask": "ffff:ffff:ffff:ffff::"}]}`, NetworkOptions{})
	e := cfg.Ethernets[0]
	if e.AcceptRA == nil || !*e.AcceptRA || e.DHCP6 || len(e.Addresses) != 0 {
		t.Errorf("SLAAC: accept-ra=%v dhcp6=%v addresses=%v; want RA on, no DHCPv6, no static address", e.AcceptRA, e.DHCP6, e.Addresses)
	}
	if out := mustRenderV2(t, cfg); !strings.Contains(out, "accept-ra: true") || strings.Contains(out, "dhcp6") {
		t.Errorf("v2 for SLAAC:\n%s", out)
	}
}

// Difference: stateless DHCPv6 needs RA (addresses) and DHCPv6 (DNS);
// cloud-init sets only dhcp6. Shown by ci-dhcpv6-stateless-stateful.
func TestDHCPv6TypesAndAcceptRA(t *testing.T) {
	for typ, wantDHCP6 := range map[string]bool{"ipv6_dhcpv6-stateless": true, "ipv6_dhcpv6-stateful": true, "ipv6_dhcp": true} {
		cfg, _ := mustParseND(t, `{"links": [`+oneNIC+`], "networks": [{"id": "n", "type": "`+typ+`", "link": "tap0"}]}`, NetworkOptions{})
		e := cfg.Ethernets[0]
		if e.DHCP6 != wantDHCP6 || e.AcceptRA == nil || !*e.AcceptRA {
			t.Errorf("%s: dhcp6=%v accept-ra=%v", typ, e.DHCP6, e.AcceptRA)
		}
	}
	cfg, _ := mustParseND(t, `{"links": [`+oneNIC+`], "networks": [{"id": "n", "type": "ipv6", "link": "tap0", "ip_address": "2001:db8::5"}]}`, NetworkOptions{})
	if ra := cfg.Ethernets[0].AcceptRA; ra == nil || *ra {
		t.Errorf("static IPv6: accept-ra = %v, want false (as cloud-init)", ra)
	}
}

// Difference: cloud-init 22.4.2 names every bond bond0…, and VLANs
// <bondN>.<id>; we honour "name". Shown by dv-bond-name.
func TestBondNameHonoured(t *testing.T) {
	cfg, _ := mustParseND(t, `{"links": [
		{"id": "a", "type": "phy", "ethernet_mac_address": "52:54:00:00:00:01", "name": "ens1"},
		{"id": "b", "type": "phy", "ethernet_mac_address": "52:54:00:00:00:02", "name": "ens2"},
		{"id": "bond0", "type": "bond", "name": "bond-wan", "bond_links": ["b", "a"], "bond_mode": "active-backup", "bond_primary": "b"},
		{"id": "v", "type": "vlan", "vlan_link": "bond0", "vlan_id": 7, "vlan_mac_address": null}]}`, NetworkOptions{})
	b := cfg.Bonds[0]
	if b.Name != "bond-wan" || !slices.Equal(b.Members, []string{"ens2", "ens1"}) || b.Params.Primary != "ens2" {
		t.Errorf("bond = %+v; want name bond-wan, members [ens2 ens1] in given order, primary ens2", b)
	}
	if v := cfg.VLANs[0]; v.Name != "bond-wan.7" || v.Link != "bond-wan" || v.MAC != nil {
		t.Errorf("vlan = %+v; want bond-wan.7 on bond-wan without MAC", v)
	}
	out := mustRenderV2(t, cfg)
	if !strings.Contains(out, "interfaces:\n        - ens2\n        - ens1") {
		t.Errorf("members not rendered in order:\n%s", out)
	}
	unnamed, _ := mustParseND(t, `{"links": [`+oneNIC+`, {"id": "x", "type": "bond", "bond_links": ["tap0"]}]}`, NetworkOptions{})
	if unnamed.Bonds[0].Name != "bond0" {
		t.Errorf("bond without name = %q, want bond0", unnamed.Bonds[0].Name)
	}
}

// Difference: cloud-init passes bond_mode "4" / "802.1ad" through and
// netplan rejects it. Shown by ci-bond-2vlan-static, novaspec-liberty-sample-bond-vlan.
func TestBondModeMapped(t *testing.T) {
	doc := func(mode string) string {
		return `{"links": [` + oneNIC + `, {"id": "b", "type": "bond", "bond_links": ["tap0"], "bond_mode": ` + mode + `}]}`
	}
	for in, want := range map[string]string{`"0"`: "balance-rr", `"1"`: "active-backup", `"2"`: "balance-xor", `"3"`: "broadcast",
		`"4"`: "802.3ad", `4`: "802.3ad", `"5"`: "balance-tlb", `"6"`: "balance-alb", `"balance-alb"`: "balance-alb", `"802.3ad"`: "802.3ad"} {
		cfg, warnings := mustParseND(t, doc(in), NetworkOptions{})
		if got := cfg.Bonds[0].Params.Mode; got != want || len(warnings) != 0 {
			t.Errorf("bond_mode %s → %q (warnings %v), want %q", in, got, warnings, want)
		}
	}
	cfg, warnings := mustParseND(t, doc(`"802.1ad"`), NetworkOptions{})
	if cfg.Bonds[0].Params.Mode != "802.3ad" || len(warnings) != 1 || !strings.Contains(warnings[0], "links[1].bond_mode") {
		t.Errorf("802.1ad → %q, warnings %v", cfg.Bonds[0].Params.Mode, warnings)
	}
	_, _, err := ParseNetworkData([]byte(doc(`"9"`)), NetworkOptions{})
	if err == nil || !strings.Contains(err.Error(), "network_data.json: links[1].bond_mode") {
		t.Errorf("bond_mode 9: err = %v", err)
	}
}

func TestBondParameters(t *testing.T) {
	cfg, warnings := mustParseND(t, `{"links": [`+oneNIC+`, {"id": "b", "type": "bond", "bond_links": ["tap0"], "bond_mode": "802.3ad",
		"bond_miimon": "100", "bond_xmit_hash_policy": "layer3+4", "bond_lacp_rate": "fast", "bond_updelay": 200,
		"bond-downdelay": 300, "bond_min_links": 1, "bond_ad_select": "bandwidth", "bond_arp_interval": 5}]}`, NetworkOptions{})
	want := netconf.BondParams{Mode: "802.3ad", MIIMonitorInterval: 100, TransmitHashPolicy: "layer3+4", LACPRate: "fast",
		UpDelay: 200, DownDelay: 300, MinLinks: 1, ADSelect: "bandwidth"}
	if cfg.Bonds[0].Params != want {
		t.Errorf("params = %+v, want %+v", cfg.Bonds[0].Params, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "bond_arp_interval") {
		t.Errorf("warnings = %v, want one about bond_arp_interval", warnings)
	}
}

// Difference: cloud-init 22.4.2 ignores services per network and per
// route. Shown by dv-dns-in-routes, nova-*, syn-unknown-type-uppercase-mac-cidr-ip.
func TestPerNetworkAndRouteDNSKept(t *testing.T) {
	cfg, _ := mustParseND(t, `{"links": [`+oneNIC+`, {"id": "tap1", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:02"}],
		"networks": [
		{"id": "n0", "type": "ipv4", "link": "tap0", "ip_address": "192.0.2.5", "netmask": "255.255.255.0",
		 "dns_nameservers": ["192.0.2.51"], "dns_search": ["example.org"],
		 "services": [{"type": "dns", "address": "192.0.2.52"}],
		 "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.0.2.1", "services": [{"type": "dns", "address": "192.0.2.53"}]}]},
		{"id": "n1", "type": "ipv4", "link": "tap1", "ip_address": "198.51.100.5/24"}],
		"services": [{"type": "dns", "address": "203.0.113.53"}, {"type": "dns", "address": "2001:db8::53"}]}`, NetworkOptions{})
	if got, want := cfg.Ethernets[0].Nameservers, addrs("192.0.2.51", "192.0.2.52", "192.0.2.53"); !slices.Equal(got, want) {
		t.Errorf("per-network DNS = %v, want %v", got, want)
	}
	if got := cfg.Ethernets[0].Search; !slices.Equal(got, []string{"example.org"}) {
		t.Errorf("search = %v", got)
	}
	// The global list goes to static interfaces without DNS of their own.
	if got, want := cfg.Ethernets[1].Nameservers, addrs("203.0.113.53", "2001:db8::53"); !slices.Equal(got, want) {
		t.Errorf("global DNS on tap1 = %v, want %v", got, want)
	}
	if got, want := cfg.Nameservers, addrs("203.0.113.53", "2001:db8::53"); !slices.Equal(got, want) {
		t.Errorf("Config.Nameservers = %v, want %v", got, want)
	}
}

// The global list is copied onto static interfaces without DNS of their
// own, not onto DHCP ones — unless no interface would carry it at all:
// then the first interface gets it, so v2 never loses it (issue 8).
func TestGlobalDNSNotOnDHCPInterfaces(t *testing.T) {
	cfg, _ := mustParseND(t, `{"links": [`+oneNIC+`, {"id": "tap1", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:02"}],
		"networks": [{"id": "n", "type": "ipv4_dhcp", "link": "tap0"}, {"id": "m", "type": "ipv4", "link": "tap1", "ip_address": "192.0.2.9/24"}],
		"services": [{"type": "dns", "address": "192.0.2.53"}]}`, NetworkOptions{})
	if len(cfg.Ethernets[0].Nameservers) != 0 || !slices.Equal(cfg.Ethernets[1].Nameservers, addrs("192.0.2.53")) {
		t.Errorf("DHCP interface got %v, static one %v", cfg.Ethernets[0].Nameservers, cfg.Ethernets[1].Nameservers)
	}
}

// Difference: cloud-init drops routes of DHCP/SLAAC networks. Shown by
// ab-kubevirt-dhcp-with-routes, nova-asm-*.
func TestDHCPNetworkRoutesKept(t *testing.T) {
	cfg, _ := mustParseND(t, `{"links": [`+oneNIC+`], "networks": [{"id": "n", "type": "ipv4_dhcp", "link": "tap0",
		"routes": [{"network": "198.51.100.0", "netmask": "255.255.255.0", "gateway": "192.0.2.1"}]}]}`, NetworkOptions{})
	e := cfg.Ethernets[0]
	want := netconf.Route{To: netip.MustParsePrefix("198.51.100.0/24"), Via: netip.MustParseAddr("192.0.2.1")}
	if !e.DHCP4 || len(e.Routes) != 1 || e.Routes[0] != want {
		t.Errorf("dhcp4=%v routes=%+v, want the route kept", e.DHCP4, e.Routes)
	}
}

// Difference: cloud-init leaves several default routes at the same
// metric (netplan: "Conflicting default route declarations"). Shown by
// ci-tap-null-type-v4v6-routes, nova-2nic-v4-v6-static-mtu-routes, ci-ERR-two-ipv4-default-gw.
func TestDefaultRouteMetricsSpread(t *testing.T) {
	two := `{"links": [` + oneNIC + `, {"id": "tap1", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:02"},
		{"id": "tap2", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:03"}], "networks": [
		{"id": "a", "type": "ipv4", "link": "tap0", "ip_address": "192.0.2.5/24", "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.0.2.1"}]},
		{"id": "b", "type": "ipv4", "link": "tap1", "ip_address": "198.51.100.5/24", "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "198.51.100.1"}]},
		{"id": "c", "type": "ipv4_dhcp", "link": "tap2"},
		{"id": "d", "type": "ipv6", "link": "tap0", "ip_address": "2001:db8::5", "routes": [{"network": "::", "netmask": "::", "gateway": "2001:db8::1"}]}]}`
	cfg, _ := mustParseND(t, two, NetworkOptions{})
	if m0, m1 := cfg.Ethernets[0].Routes[0].Metric, cfg.Ethernets[1].Routes[0].Metric; m0 != 100 || m1 != 200 {
		t.Errorf("v4 default metrics = %d, %d; want 100, 200", m0, m1)
	}
	if m := cfg.Ethernets[2].DHCPRouteMetric; m != 300 {
		t.Errorf("DHCP route metric = %d, want 300", m)
	}
	if m := cfg.Ethernets[0].Routes[1].Metric; m != 0 {
		t.Errorf("the only v6 default route got metric %d, want none", m)
	}
	if out := mustRenderV2(t, cfg); !strings.Contains(out, "dhcp4-overrides:\n        route-metric: 300") {
		t.Errorf("no dhcp4-overrides in\n%s", out)
	}
	one, _ := mustParseND(t, `{"links": [`+oneNIC+`], "networks": [{"id": "a", "type": "ipv4", "link": "tap0", "ip_address": "192.0.2.5/24",
		"routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.0.2.1"}]}]}`, NetworkOptions{})
	if m := one.Ethernets[0].Routes[0].Metric; m != 0 {
		t.Errorf("single default route got metric %d, want none (as cloud-init)", m)
	}
}

// A link may itself be named "nic0": labels of unnamed links skip it.
func TestUnnamedLabelsSkipTakenNames(t *testing.T) {
	cfg, _ := mustParseND(t, `{"links": [
		{"id": "a", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:01"},
		{"id": "b", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:02", "name": "nic0"},
		{"id": "c", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:03"}]}`, NetworkOptions{})
	var got []string
	for _, e := range cfg.Ethernets {
		got = append(got, e.ID)
	}
	if want := []string{"nic1", "nic0", "nic2"}; !slices.Equal(got, want) {
		t.Errorf("ethernet IDs = %v, want %v", got, want)
	}
}

// Every ethernet matched by MAC gets set-name = its v2 key, as cloud-init
// writes (its non-netplan renderers need the name; see v2.go). Named says
// whether the source asked for the name (apply renames only then).
func TestEthernetNaming(t *testing.T) {
	cfg, _ := mustParseND(t, `{"links": [
		{"id": "a", "type": "phy", "ethernet_mac_address": "FA:16:3E:00:00:01", "name": "wan0"},
		{"id": "b", "type": "vif", "ethernet_mac_address": "fa:16:3e:00:00:02"},
		{"id": "c", "type": null, "ethernet_mac_address": "fa:16:3e:00:00:03"},
		{"id": "d", "type": "phy", "name": "lan0"}]}`,
		NetworkOptions{KnownNames: map[string]string{"fa:16:3e:00:00:02": "ens4"}})
	got := []string{}
	for _, e := range cfg.Ethernets {
		got = append(got, e.ID+"/"+e.MAC.String()+"/"+map[bool]string{true: "named", false: "label"}[e.Named])
	}
	want := []string{"wan0/fa:16:3e:00:00:01/named", "ens4/fa:16:3e:00:00:02/label", "nic0/fa:16:3e:00:00:03/label", "lan0//named"}
	if !slices.Equal(got, want) {
		t.Errorf("ethernets = %v, want %v", got, want)
	}
	out := mustRenderV2(t, cfg)
	for _, want := range []string{"set-name: wan0", "set-name: ens4", "set-name: nic0"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Count(out, "set-name:") != 3 {
		t.Errorf("set-name for the three links with a MAC expected:\n%s", out)
	}
	if strings.Contains(out, "lan0:\n      match") {
		t.Errorf("a named link without MAC must have no match:\n%s", out)
	}
}

func TestUnknownLinkTypeWarns(t *testing.T) {
	cfg, warnings := mustParseND(t, `{"links": [{"id": "x", "type": "frobnicator", "ethernet_mac_address": "fa:16:3e:00:00:01"}]}`, NetworkOptions{})
	if len(cfg.Ethernets) != 1 || len(warnings) != 1 || !strings.Contains(warnings[0], `links[0].type "frobnicator"`) {
		t.Errorf("ethernets %d, warnings %v", len(cfg.Ethernets), warnings)
	}
	for _, typ := range []string{"phy", "ethernet", "bridge", "ovs", "tap", "vif", "hw_veb", "hyperv", "dvs", "vhostuser", "bgpovs", "cascading"} {
		_, w := mustParseND(t, `{"links": [{"id": "x", "type": "`+typ+`", "ethernet_mac_address": "fa:16:3e:00:00:01"}]}`, NetworkOptions{})
		if len(w) != 0 {
			t.Errorf("type %s: unexpected warnings %v", typ, w)
		}
	}
}

func TestAddressForms(t *testing.T) {
	for _, tc := range []struct{ typ, ip, mask, want string }{
		{"ipv4", "192.0.2.5", "255.255.255.128", "192.0.2.5/25"},
		{"static", "192.0.2.5/24", "", "192.0.2.5/24"},
		{"ipv4", "192.0.2.5", "24", "192.0.2.5/24"},
		{"ipv6", "2001:DB8::5", "ffff:ffff:ffff:ff00::", "2001:db8::5/56"},
		{"ipv6", "2001:db8::5", "", "2001:db8::5/64"},
		{"ipv6", "2001:db8::5", "64", "2001:db8::5/64"},
		{"static6", "2001:db8::5/48", "", "2001:db8::5/48"},
	} {
		cfg, _ := mustParseND(t, `{"links": [`+oneNIC+`], "networks": [{"id": "n", "type": "`+tc.typ+`", "link": "tap0",
			"ip_address": "`+tc.ip+`", "netmask": "`+tc.mask+`"}]}`, NetworkOptions{})
		if got := cfg.Ethernets[0].Addresses; !slices.Equal(got, prefixes(tc.want)) {
			t.Errorf("%s %s %q → %v, want %s", tc.typ, tc.ip, tc.mask, got, tc.want)
		}
	}
	cfg, _ := mustParseND(t, `{"links": [`+oneNIC+`], "networks": [{"id": "n", "type": "ipv4", "link": "tap0", "ip_address": "192.0.2.5/24",
		"routes": [{"network": "198.51.100.0", "netmask": "255.255.255.0", "gateway": "192.0.2.1", "metric": 7},
		           {"network": "::", "netmask": "ffff:ffff:ffff::", "gateway": "2001:db8::1"}], "gateway": "192.0.2.254"}]}`, NetworkOptions{})
	want := []netconf.Route{
		{To: netip.MustParsePrefix("198.51.100.0/24"), Via: netip.MustParseAddr("192.0.2.1"), Metric: 7},
		// No IPv6 address on the link: the gateway can only be on-link.
		{To: netip.MustParsePrefix("::/48"), Via: netip.MustParseAddr("2001:db8::1"), OnLink: true},
		{To: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("192.0.2.254"), OnLink: true},
	}
	if got := cfg.Ethernets[0].Routes; !slices.Equal(got, want) {
		t.Errorf("routes = %+v, want %+v", got, want)
	}
}

// Like cloud-init: an IPv4 address without netmask gets /24, but we say so.
func TestIPv4WithoutNetmaskAssumes24(t *testing.T) {
	cfg, warnings := mustParseND(t, `{"links": [`+oneNIC+`], "networks": [{"id": "n", "type": "ipv4", "link": "tap0", "ip_address": "192.0.2.1", "netmask": ""}]}`, NetworkOptions{})
	if got := cfg.Ethernets[0].Addresses; !slices.Equal(got, prefixes("192.0.2.1/24")) {
		t.Errorf("addresses = %v, want 192.0.2.1/24", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "networks[0].netmask") {
		t.Errorf("warnings = %v", warnings)
	}
}

func TestEmptyDocument(t *testing.T) {
	cfg, warnings := mustParseND(t, `{}`, NetworkOptions{})
	if len(cfg.Ethernets)+len(cfg.Bonds)+len(cfg.VLANs) != 0 || len(warnings) != 0 {
		t.Errorf("{} gave %+v %v", cfg, warnings)
	}
}

// Every error names network_data.json and the JSON path of the culprit.
func TestNetworkDataErrors(t *testing.T) {
	nic := func(id, mac string) string {
		return `{"id": "` + id + `", "type": "phy", "ethernet_mac_address": "` + mac + `"}`
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"not JSON", `{"links": [`, "network_data.json: invalid JSON"},
		{"not an object", `[]`, "network_data.json: want object, got array"},
		{"links not a list", `{"links": {}}`, "links: want array, got object"},
		{"id wrong type", `{"links": [{"id": 5}]}`, "links[0].id: want string, got number"},
		{"mtu wrong type", `{"links": [{"id": "a", "ethernet_mac_address": "fa:16:3e:00:00:01", "mtu": true}]}`, "links[0].mtu: want string or number, got bool"},
		{"mtu out of range", `{"links": [{"id": "a", "ethernet_mac_address": "fa:16:3e:00:00:01", "mtu": 70000}]}`, "links[0].mtu: 70000 outside"},
		{"bad mac", `{"links": [` + nic("a", "fa:16:3e:00:00") + `]}`, `links[0].ethernet_mac_address: "fa:16:3e:00:00" is not`},
		{"no mac no name", `{"links": [{"id": "a", "type": "phy"}]}`, "links[0].ethernet_mac_address: missing"},
		{"duplicate id", `{"links": [` + nic("a", "fa:16:3e:00:00:01") + `,` + nic("a", "fa:16:3e:00:00:02") + `]}`, `links[1].id: "a" already used by links[0]`},
		{"duplicate mac", `{"links": [` + nic("a", "fa:16:3e:00:00:01") + `,` + nic("b", "FA:16:3E:00:00:01") + `]}`, "links[1].ethernet_mac_address: fa:16:3e:00:00:01 already used by links[0]"},
		{"duplicate name", `{"links": [{"id": "a", "name": "eth0"}, {"id": "b", "name": "eth0"}]}`, `links[1]: interface name "eth0" already used by links[0]`},
		{"missing bond member", `{"links": [` + nic("a", "fa:16:3e:00:00:01") + `,` + nic("b", "fa:16:3e:00:00:02") + `, {"id": "bd", "type": "bond", "bond_links": ["zz"]}]}`, `links[2].bond_links[0]: no link with id "zz"`},
		{"missing vlan parent", `{"links": [{"id": "v", "type": "vlan", "vlan_id": 5, "vlan_link": "zz"}]}`, `links[0].vlan_link: no link with id "zz"`},
		{"vlan id", `{"links": [` + nic("a", "fa:16:3e:00:00:01") + `, {"id": "v", "type": "vlan", "vlan_id": 5000, "vlan_link": "a"}]}`, "links[1].vlan_id: 5000 outside"},
		{"network missing link", `{"links": [], "networks": [{"id": "n", "type": "ipv4_dhcp", "link": "zz"}]}`, `networks[0].link: no link with id "zz"`},
		{"bad address", `{"links": [` + oneNIC + `], "networks": [{"id": "n", "type": "ipv4", "link": "tap0", "ip_address": "300.1.1.1/24"}]}`, `networks[0].ip_address: "300.1.1.1" is not an IP address`},
		{"wrong family", `{"links": [` + oneNIC + `], "networks": [{"id": "n", "type": "ipv4", "link": "tap0", "ip_address": "2001:db8::1/64"}]}`, "is not an IPv4 address"},
		{"non-contiguous mask", `{"links": [` + oneNIC + `], "networks": [{"id": "n", "type": "ipv4", "link": "tap0", "ip_address": "192.0.2.1", "netmask": "255.0.255.0"}]}`, `networks[0].netmask: netmask "255.0.255.0" is not contiguous`},
		{"route gateway", `{"links": [` + oneNIC + `], "networks": [{"id": "n", "type": "ipv4_dhcp", "link": "tap0", "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "x"}]}]}`, `networks[0].routes[0].gateway: "x" is not`},
		{"dns address", `{"services": [{"type": "dns", "address": "dns.example"}]}`, `services[0].address: "dns.example" is not an IP address`},
		{"dns_nameservers", `{"links": [` + oneNIC + `], "networks": [{"id": "n", "type": "ipv4_dhcp", "link": "tap0", "dns_nameservers": ["x"]}]}`, `networks[0].dns_nameservers[0]: "x"`},
	} {
		cfg, _, err := ParseNetworkData([]byte(tc.doc), NetworkOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "network_data.json: ") || cfg != nil {
			t.Errorf("%s: err = %v, want one containing %q (and no config)", tc.name, err, tc.want)
		}
	}
}
