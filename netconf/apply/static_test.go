package apply

import (
	"strings"
	"testing"

	"guestbridge/netconf"
)

func twoNICConfig() *netconf.Config {
	return &netconf.Config{Ethernets: []netconf.Ethernet{
		{ID: "nic0", MAC: mustMAC(mac0), L3: netconf.L3{
			MTU:       1400,
			Addresses: pfx("198.18.0.10/24", "2001:db8:0:1::10/64"),
			Routes: []netconf.Route{
				rt("0.0.0.0/0", "198.18.0.1", 100),
				rt("::/0", "2001:db8:0:1::1", 100),
				rt("203.0.113.0/24", "198.18.0.254", 0),
			},
		}},
		{ID: "nic1", MAC: mustMAC(mac1), L3: netconf.L3{
			Addresses: pfx("198.19.0.10/25"),
			Routes: []netconf.Route{
				rt("0.0.0.0/0", "198.19.0.1", 200),
				{To: rt("198.51.100.0/24", "", 0).To, Via: rt("192.0.2.1/32", "", 0).To.Addr(), OnLink: true},
			},
		}},
	}}
}

func TestApplyStaticTwoNICs(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0, mac1)
	rep := l.apply(t, twoNICConfig(), l.opts())
	if len(rep.Changes) == 0 || len(rep.Warnings) != 0 {
		t.Fatalf("first run: want changes and no warnings, got:\n%s", rep)
	}
	requireHas(t, "nic0 addrs", l.addrs(t, "nic0"), "198.18.0.10/24", "2001:db8:0:1::10/64")
	requireHas(t, "nic1 addrs", l.addrs(t, "nic1"), "198.19.0.10/25")
	requireHas(t, "v4 routes", l.routes(t, "-4"),
		"default via 198.18.0.1 dev nic0 metric 100 proto 198",
		"default via 198.19.0.1 dev nic1 metric 200 proto 198",
		"203.0.113.0/24 via 198.18.0.254 dev nic0 proto 198",
		"198.51.100.0/24 via 192.0.2.1 dev nic1 proto 198 onlink",
	)
	requireHas(t, "v6 routes", l.routes(t, "-6"), "default via 2001:db8:0:1::1 dev nic0 metric 100 proto 198")
	if mtu := l.link(t, "nic0")["mtu"]; mtu != 1400.0 {
		t.Errorf("nic0 mtu = %v, want 1400", mtu)
	}
	if mtu := l.link(t, "nic1")["mtu"]; mtu != 1500.0 {
		t.Errorf("nic1 mtu = %v, want untouched 1500", mtu)
	}
	for _, nic := range []string{"nic0", "nic1"} {
		if flags := l.link(t, nic)["flags"].([]any); !containsAny(flags, "UP") {
			t.Errorf("%s not up: %v", nic, flags)
		}
	}

	// Idempotence: the second run changes nothing, and the kernel agrees.
	l.guest.Settle(t)
	before := l.guest.Snapshot(t)
	rep = l.apply(t, twoNICConfig(), l.opts())
	if len(rep.Changes) != 0 || rep.String() != "no changes\n" {
		t.Fatalf("second run: want no changes, got:\n%s", rep)
	}
	l.guest.Settle(t)
	if after := l.guest.Snapshot(t); after != before {
		t.Fatalf("second run changed the namespace:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestApplyDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0, mac1)
	before := l.guest.Snapshot(t)
	o := l.opts()
	o.DryRun = true
	plan := l.apply(t, twoNICConfig(), o)
	if after := l.guest.Snapshot(t); after != before {
		t.Fatalf("dry run changed the namespace:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	real := l.apply(t, twoNICConfig(), l.opts())
	if plan.String() != real.String() {
		t.Fatalf("dry-run plan differs from what was done:\nplan:\n%s\ndone:\n%s", plan, real)
	}
	if !strings.Contains(plan.String(), "nic0: add route 0.0.0.0/0 via 198.18.0.1 metric 100") {
		t.Fatalf("plan lacks the default route:\n%s", plan)
	}
}

func containsAny(list []any, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
