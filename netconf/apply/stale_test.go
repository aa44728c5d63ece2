package apply

import (
	"strings"
	"testing"

	"guestbridge/netconf"
)

func oneNIC(addrs []string, routes ...netconf.Route) *netconf.Config {
	return &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mustMAC(mac0),
		L3: netconf.L3{Addresses: pfx(addrs...), Routes: routes}}}}
}

func TestApplyRemovesOnlyOurStaleAddressesAndRoutes(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0)
	a := oneNIC([]string{"198.18.0.10/24", "198.18.0.11/24", "2001:db8::11/64"},
		rt("203.0.113.0/24", "198.18.0.1", 0), rt("192.0.2.0/24", "198.18.0.1", 0))
	l.apply(t, a, l.opts())
	// Someone else's address and route on the same link.
	l.guest.IP(t, "addr", "add", "198.18.0.99/24", "dev", "nic0")
	l.guest.IP(t, "route", "add", "198.51.100.0/24", "via", "198.18.0.1", "dev", "nic0")

	b := oneNIC([]string{"198.18.0.10/24"}, rt("203.0.113.0/24", "198.18.0.1", 0))
	rep := l.apply(t, b, l.opts())
	got := rep.String()
	for _, want := range []string{
		"nic0: del address 198.18.0.11/24", "nic0: del address 2001:db8::11/64",
		"nic0: del route 192.0.2.0/24 via 198.18.0.1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	addrs := l.addrs(t, "nic0")
	requireHas(t, "nic0 addrs", addrs, "198.18.0.10/24", "198.18.0.99/24")
	requireLacks(t, "nic0 addrs", addrs, "198.18.0.11/24", "2001:db8::11/64")
	routes := l.routes(t, "-4")
	requireHas(t, "routes", routes, "203.0.113.0/24 via 198.18.0.1 dev nic0 proto 198",
		"198.51.100.0/24 via 198.18.0.1 dev nic0 proto boot")
	requireLacks(t, "routes", routes, "192.0.2.0/24 via 198.18.0.1 dev nic0 proto 198")

	// An address added by hand stays ours-free even if a later config lists
	// it (C) and the next drops it again (D): we never added it.
	c := oneNIC([]string{"198.18.0.10/24", "198.18.0.99/24"})
	l.apply(t, c, l.opts())
	l.apply(t, b, l.opts())
	requireHas(t, "nic0 addrs after C, D", l.addrs(t, "nic0"), "198.18.0.99/24")
}

func TestApplyLeavesTunTapAlone(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0)
	testTap := "gbtap" + l.guest.Name[len(l.guest.Name)-4:]
	l.guest.IP(t, "tuntap", "add", "dev", testTap, "mode", "tap")
	// The VPN tap carries the MAC of nic1, which has no real NIC here.
	l.guest.IP(t, "link", "set", testTap, "address", mac1)
	tapBefore := l.guest.JSON(t, "addr", "show", "dev", testTap)

	cfg := oneNIC([]string{"198.18.0.10/24"})
	cfg.Ethernets = append(cfg.Ethernets, netconf.Ethernet{ID: "nic1", MAC: mustMAC(mac1),
		L3: netconf.L3{Addresses: pfx("198.19.0.10/24"), MTU: 1300}})
	rep := l.apply(t, cfg, l.opts())

	if !strings.Contains(rep.String(), "tun/tap device "+testTap+" has it too; left alone") ||
		!strings.Contains(rep.String(), "nic1: mac "+mac1+": no such interface; skipped") {
		t.Fatalf("want tun/tap and missing-MAC warnings, got:\n%s", rep)
	}
	if tapAfter := l.guest.JSON(t, "addr", "show", "dev", testTap); !equalJSON(tapBefore, tapAfter) {
		t.Fatalf("tap changed:\nbefore %v\nafter  %v", tapBefore, tapAfter)
	}
	requireHas(t, "nic0 addrs", l.addrs(t, "nic0"), "198.18.0.10/24")
}

func TestApplyRenamesNamedEthernet(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0, mac1)
	l.guest.IP(t, "link", "set", "nic0", "up")
	cfg := oneNIC([]string{"198.18.0.10/24"})
	cfg.Ethernets[0].ID, cfg.Ethernets[0].Named = "wan0", true
	cfg.Ethernets = append(cfg.Ethernets, netconf.Ethernet{ID: "lan0", MAC: mustMAC(mac1)}) // label only
	rep := l.apply(t, cfg, l.opts())
	if !strings.Contains(rep.String(), "nic0: rename to wan0") {
		t.Fatalf("no rename in report:\n%s", rep)
	}
	link := l.link(t, "wan0")
	if link["address"] != mac0 || !containsAny(link["flags"].([]any), "UP") {
		t.Fatalf("wan0 = %v; want MAC %s and UP", link, mac0)
	}
	requireHas(t, "wan0 addrs", l.addrs(t, "wan0"), "198.18.0.10/24")
	l.link(t, "nic1") // not Named: keeps its name
	if rep := l.apply(t, cfg, l.opts()); len(rep.Changes) != 0 {
		t.Fatalf("second run after rename: %s", rep)
	}
}

// Deleting our primary address must not take a hand-added secondary of the
// same subnet with it (the kernel does unless promote_secondaries is on).
func TestApplyDeletingOurPrimaryKeepsOtherSecondaries(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0)
	l.guest.IP(t, "netns", "exec", l.guest.Name, "sysctl", "-qw", "net.ipv4.conf.nic0.promote_secondaries=0")
	l.apply(t, oneNIC([]string{"198.18.5.10/24"}), l.opts())
	l.guest.IP(t, "addr", "add", "198.18.5.99/24", "dev", "nic0")
	rep := l.apply(t, oneNIC(nil), l.opts())
	if !strings.Contains(rep.String(), "nic0: set promote_secondaries 1\nnic0: del address 198.18.5.10/24") {
		t.Fatalf("report:\n%s", rep)
	}
	addrs := l.addrs(t, "nic0")
	requireHas(t, "nic0 addrs", addrs, "198.18.5.99/24")
	requireLacks(t, "nic0 addrs", addrs, "198.18.5.10/24")
}

// An interface dropped from the config loses the addresses we gave it, and
// only those.
func TestApplyForgetsDroppedInterface(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0, mac1)
	both := twoNICConfig()
	l.apply(t, both, l.opts())
	l.guest.IP(t, "addr", "add", "198.19.0.99/25", "dev", "nic1")
	onlyFirst := twoNICConfig()
	onlyFirst.Ethernets = onlyFirst.Ethernets[:1]
	rep := l.apply(t, onlyFirst, l.opts())
	if !strings.Contains(rep.String(), "nic1: del address 198.19.0.10/25") {
		t.Fatalf("report:\n%s", rep)
	}
	requireHas(t, "nic1 addrs", l.addrs(t, "nic1"), "198.19.0.99/25")
	requireLacks(t, "nic1 addrs", l.addrs(t, "nic1"), "198.19.0.10/25")
	requireLacks(t, "routes", l.routes(t, "-4"), "default via 198.19.0.1 dev nic1 metric 200 proto 198")
	if rep := l.apply(t, onlyFirst, l.opts()); len(rep.Changes) != 0 {
		t.Fatalf("second run:\n%s", rep)
	}
}
