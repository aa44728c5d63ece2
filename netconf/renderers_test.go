package netconf

import (
	"net/netip"
	"slices"
	"testing"
)

func lossRoutes(l RendererLoss) []string {
	var out []string
	for _, r := range l.Routes {
		out = append(out, r.Interface+" "+r.Route.To.String()+" "+r.Route.Via.String())
	}
	return out
}

// RendererLosses is the seed-mode compensation hook: what guestbridge must
// apply itself after cloud-init's renderer. One config exercising every
// rule; the fixture test (configdrive) checks the rules against the real
// cloud-init.
func TestRendererLosses(t *testing.T) {
	r := func(to, via string, metric uint32, onlink bool) Route {
		rt := Route{To: netip.MustParsePrefix(to), Metric: metric, OnLink: onlink}
		if via != "" {
			rt.Via = netip.MustParseAddr(via)
		}
		return rt
	}
	c := &Config{
		Ethernets: []Ethernet{
			{ID: "nic0", MAC: mac("fa:16:3e:00:00:01"), L3: L3{
				Addresses:   pfx("192.0.2.5/24", "2001:db8::5/64"),
				Routes:      []Route{r("0.0.0.0/0", "192.0.2.1", 0, false), r("::/0", "2001:db8::1", 0, false), r("198.51.100.0/24", "192.0.2.2", 0, false), r("2001:db8:1::/48", "2001:db8::2", 0, false)},
				Nameservers: ips("192.0.2.53"),
			}},
			{ID: "nic1", MAC: mac("fa:16:3e:00:00:02"), L3: L3{
				DHCP4: true, AcceptRA: &yes,
				Routes:      []Route{r("::/0", "2001:db8:9::1", 0, false), r("203.0.113.0/24", "", 0, false)},
				Nameservers: ips("192.0.2.54"),
			}},
			{ID: "nic2", MAC: mac("fa:16:3e:00:00:03")},
			{ID: "nic3", MAC: mac("fa:16:3e:00:00:04")},
		},
		Bonds: []Bond{{Name: "bond0", Members: []string{"nic2", "nic3"}, Params: BondParams{Mode: "802.3ad", MIIMonitorInterval: 100},
			L3: L3{MTU: 9000, Addresses: pfx("198.18.0.5/24"), Routes: []Route{r("10.0.0.0/8", "198.18.0.1", 50, false)}}}},
	}
	cases := map[string]struct {
		routes []string
		dns    bool
		mtus   int
		lost   int
	}{
		// Only the direct route (never in v2).
		"netplan": {routes: []string{"nic1 203.0.113.0/24 invalid IP"}},
		// Everything but gateway4/gateway6.
		"eni": {routes: []string{"nic0 198.51.100.0/24 192.0.2.2", "nic0 2001:db8:1::/48 2001:db8::2",
			"nic1 ::/0 2001:db8:9::1", "nic1 203.0.113.0/24 invalid IP", "bond0 10.0.0.0/8 198.18.0.1"}, dns: true},
		// ::/0 without a static IPv6 address, metric, direct route; DNS of a DHCP-only NIC.
		"networkd":  {routes: []string{"nic1 ::/0 2001:db8:9::1", "nic1 203.0.113.0/24 invalid IP", "bond0 10.0.0.0/8 198.18.0.1"}, dns: true, lost: 1},
		"sysconfig": {routes: []string{"nic1 ::/0 2001:db8:9::1", "nic1 203.0.113.0/24 invalid IP", "bond0 10.0.0.0/8 198.18.0.1"}, dns: true},
		"network-manager": {routes: []string{"nic0 2001:db8:1::/48 2001:db8::2", "nic1 ::/0 2001:db8:9::1", "nic1 203.0.113.0/24 invalid IP",
			"bond0 10.0.0.0/8 198.18.0.1"}, dns: true, mtus: 1, lost: 1},
	}
	for renderer, want := range cases {
		loss, err := c.RendererLosses(renderer)
		if err != nil {
			t.Fatal(err)
		}
		if got := lossRoutes(loss); !slices.Equal(got, want.routes) {
			t.Errorf("%s: routes\n  %q\nwant\n  %q", renderer, got, want.routes)
		}
		if loss.DNS != want.dns || len(loss.MTUs) != want.mtus || len(loss.Lost) != want.lost {
			t.Errorf("%s: dns %v mtus %v lost %q", renderer, loss.DNS, loss.MTUs, loss.Lost)
		}
		for _, rt := range loss.Routes {
			if rt.Interface == "nic0" && !slices.Equal(rt.MAC, mac("fa:16:3e:00:00:01")) {
				t.Errorf("%s: route %v without its NIC's MAC", renderer, rt)
			}
		}
	}
	if _, err := c.RendererLosses("wicked"); err == nil {
		t.Error("unknown renderer accepted")
	}
}
