package apply

import (
	"net/netip"
	"slices"
	"testing"

	"guestbridge/netconf"
)

func TestReportString(t *testing.T) {
	if got := (Report{}).String(); got != "no changes\n" {
		t.Fatalf("empty report = %q", got)
	}
	r := Report{Changes: []Change{{"add", "eth0", "address 198.18.0.10/24"}, {"up", "eth0", ""}}, Warnings: []string{"w"}}
	if got, want := r.String(), "eth0: add address 198.18.0.10/24\neth0: up\nwarning: w\n"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestMergeLeaseKeepsStaticValuesAndSetsMetric(t *testing.T) {
	l3 := netconf.L3{MTU: 9000, Addresses: pfx("198.18.0.5/24"), DHCPRouteMetric: 50}
	mergeLease(&l3, netconf.L3{MTU: 1400, Addresses: pfx("198.18.0.5/24", "198.18.0.6/24"),
		Routes: []netconf.Route{rt("0.0.0.0/0", "198.18.0.1", 0), rt("203.0.113.0/24", "198.18.0.1", 7)}})
	if l3.MTU != 9000 {
		t.Errorf("MTU = %d, static 9000 must win", l3.MTU)
	}
	if !slices.Equal(l3.Addresses, pfx("198.18.0.5/24", "198.18.0.6/24")) {
		t.Errorf("Addresses = %v", l3.Addresses)
	}
	if l3.Routes[0].Metric != 50 || l3.Routes[1].Metric != 7 {
		t.Errorf("metrics = %d, %d; want 50 (DHCPRouteMetric), 7 (lease's own)", l3.Routes[0].Metric, l3.Routes[1].Metric)
	}
}

func TestCheckRouteAcceptsReachableGateways(t *testing.T) {
	yes := true
	ok := []struct {
		l3 netconf.L3
		r  netconf.Route
	}{
		{netconf.L3{Addresses: pfx("198.18.0.10/24")}, rt("0.0.0.0/0", "198.18.0.1", 0)},
		{netconf.L3{DHCP4: true}, rt("0.0.0.0/0", "198.18.0.1", 0)},
		{netconf.L3{AcceptRA: &yes}, rt("::/0", "2001:db8::1", 0)},
		{netconf.L3{}, rt("::/0", "fe80::1", 0)},
		{netconf.L3{}, netconf.Route{To: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("192.0.2.1"), OnLink: true}},
		{netconf.L3{}, rt("203.0.113.0/24", "", 0)},
	}
	for _, c := range ok {
		if err := checkRoute("eth0", &c.l3, c.r); err != nil {
			t.Errorf("%v on %+v: %v", c.r, c.l3, err)
		}
	}
	if err := checkRoute("eth0", &netconf.L3{Addresses: pfx("198.18.0.10/24")}, rt("0.0.0.0/0", "198.18.0.10", 0)); err == nil {
		t.Error("gateway equal to own address accepted")
	}
}
