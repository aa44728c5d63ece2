package apply

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"guestbridge/internal/nl/nltest"
	"guestbridge/netconf"
)

// TestApplyDHCP4FromDnsmasq uses the default DHCP client: the lease's
// address, option 121 routes (with DHCPRouteMetric) and option 26 MTU land
// in the namespace, marked as ours, and a second run changes nothing.
func TestApplyDHCP4FromDnsmasq(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0)
	l.peer.IP(t, "addr", "add", "198.18.4.1/24", "dev", "peer0")
	l.peer.Dnsmasq(t, "peer0",
		"--dhcp-range=198.18.4.50,198.18.4.50,255.255.255.0,1h",
		"--dhcp-option=121,203.0.113.0/24,198.18.4.254,0.0.0.0/0,198.18.4.1",
		"--dhcp-option=26,1400")
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mustMAC(mac0),
		L3: netconf.L3{DHCP4: true, DHCPRouteMetric: 300}}}}
	rep := l.apply(t, cfg, l.opts())
	if len(rep.Warnings) != 0 {
		t.Fatalf("warnings:\n%s", rep)
	}
	requireHas(t, "nic0 addrs", l.addrs(t, "nic0"), "198.18.4.50/24")
	requireHas(t, "routes", l.routes(t, "-4"),
		"203.0.113.0/24 via 198.18.4.254 dev nic0 metric 300 proto 198",
		"default via 198.18.4.1 dev nic0 metric 300 proto 198")
	if mtu := l.link(t, "nic0")["mtu"]; mtu != 1400.0 {
		t.Errorf("mtu = %v, want 1400 from option 26", mtu)
	}
	if rep := l.apply(t, cfg, l.opts()); len(rep.Changes) != 0 {
		t.Fatalf("second run with the same lease:\n%s", rep)
	}
}

// TestApplySLAACFromRouterAdvertisement sets accept_ra inside the guest
// namespace (not the test's own) and gets an address from dnsmasq's RA.
func TestApplySLAACFromRouterAdvertisement(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0)
	// Start from accept_ra=0 so Apply has to turn it on.
	l.guest.IP(t, "netns", "exec", l.guest.Name, "sysctl", "-qw", "net.ipv6.conf.nic0.accept_ra=0")
	l.peer.IP(t, "addr", "add", "2001:db8:1::1/64", "dev", "peer0", "nodad")
	l.peer.Dnsmasq(t, "peer0", "--dhcp-range=2001:db8:1::,ra-only", "--enable-ra")
	yes := true
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mustMAC(mac0),
		L3: netconf.L3{AcceptRA: &yes}}}}
	rep := l.apply(t, cfg, l.opts())
	if !strings.Contains(rep.String(), "nic0: set accept_ra 1") {
		t.Fatalf("report:\n%s", rep)
	}
	if got := strings.TrimSpace(l.guest.IP(t, "netns", "exec", l.guest.Name, "sysctl", "-n", "net.ipv6.conf.nic0.accept_ra")); got != "1" {
		t.Fatalf("guest accept_ra = %q", got)
	}
	slaac := func() bool {
		for a := range l.addrs(t, "nic0") {
			if p := netip.MustParsePrefix(a); p.Bits() == 64 && netip.MustParsePrefix("2001:db8:1::/64").Contains(p.Addr()) {
				return true
			}
		}
		return false
	}
	if !nltest.Eventually(20*time.Second, slaac) {
		t.Fatalf("no 2001:db8:1::/64 SLAAC address: %v", keys(l.addrs(t, "nic0")))
	}
}

// TestApplyDHCP6FromDnsmasq: a stateful DHCPv6 lease becomes a /128 address
// of ours, and the RA dnsmasq sends alongside does not disturb it.
func TestApplyDHCP6FromDnsmasq(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0)
	l.peer.IP(t, "addr", "add", "2001:db8:7::1/64", "dev", "peer0", "nodad")
	l.peer.Dnsmasq(t, "peer0", "--dhcp-range=2001:db8:7::100,2001:db8:7::100,64,1h", "--enable-ra")
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mustMAC(mac0), L3: netconf.L3{DHCP6: true}}}}
	rep := l.apply(t, cfg, l.opts())
	if len(rep.Warnings) != 0 || !strings.Contains(rep.String(), "nic0: add address 2001:db8:7::100/128") {
		t.Fatalf("report:\n%s", rep)
	}
	requireHas(t, "nic0 addrs", l.addrs(t, "nic0"), "2001:db8:7::100/128")
}

// TestApplyDHCP4PlusSLAACDefaultRouteBeforeRA is issue 8's "no route to
// host": a NIC with ipv4_dhcp + ipv6_slaac whose SLAAC network carries a
// default route via its router (what nova writes). Before the first RA the
// router's address is not on-link, the kernel refused the route, and the
// rollback removed the whole network, DHCP lease included. Now the route is
// installed on-link with a warning, and the lease stays.
func TestApplyDHCP4PlusSLAACDefaultRouteBeforeRA(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0)
	l.peer.IP(t, "addr", "add", "198.18.5.1/24", "dev", "peer0")
	// DHCPv4 only: no router advertisement ever arrives.
	l.peer.Dnsmasq(t, "peer0", "--dhcp-range=198.18.5.50,198.18.5.50,255.255.255.0,1h")
	yes := true
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mustMAC(mac0),
		L3: netconf.L3{DHCP4: true, AcceptRA: &yes, Routes: []netconf.Route{
			{To: netip.MustParsePrefix("::/0"), Via: netip.MustParseAddr("2001:db8:5::1")}}}}}}
	rep := l.apply(t, cfg, l.opts())
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "installed on-link") {
		t.Errorf("no warning about the on-link fallback:\n%s", rep)
	}
	requireHas(t, "nic0 addrs", l.addrs(t, "nic0"), "198.18.5.50/24")
	var found bool
	for r := range l.routes(t, "-6") {
		found = found || (strings.HasPrefix(r, "default via 2001:db8:5::1 dev nic0") && strings.Contains(r, "onlink"))
	}
	if !found {
		t.Errorf("no on-link IPv6 default route: %v", keys(l.routes(t, "-6")))
	}
	if rep := l.apply(t, cfg, l.opts()); len(rep.Changes) != 0 {
		t.Errorf("second run changes:\n%s", rep)
	}
}
