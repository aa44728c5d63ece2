package apply

import (
	"context"
	"errors"
	"strings"
	"testing"

	"guestbridge/netconf"
)

// TestApplyRollbackIsExact injects a failure after every possible number of
// changes and checks that the namespace is exactly as before each time
// (Snapshot drops only carrier, DAD and lifetime fields; see nltest).
func TestApplyRollbackIsExact(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0, mac1)
	// Start from a partly configured state so rollback also has removals
	// and a rename to undo.
	l.guest.IP(t, "link", "set", "nic1", "up")
	old := oneNIC([]string{"198.18.0.10/24", "198.18.0.12/24"}, rt("192.0.2.0/24", "198.18.0.1", 0))
	l.apply(t, old, l.opts())

	cfg := twoNICConfig()
	cfg.Ethernets[1].ID, cfg.Ethernets[1].Named = "wan1", true
	yes := true
	cfg.Ethernets[1].AcceptRA = &yes

	o := l.opts()
	o.DryRun = true
	plan := l.apply(t, cfg, o)
	n := len(plan.Changes)
	if n < 10 {
		t.Fatalf("plan has only %d changes:\n%s", n, plan)
	}
	l.guest.Settle(t)
	before := l.guest.Snapshot(t)
	raBefore := l.guest.IP(t, "netns", "exec", l.guest.Name, "sysctl", "-n", "net.ipv6.conf.nic1.accept_ra")
	for k := 1; k < n; k++ {
		o := l.opts()
		o.setFailAfter(k)
		rep, err := Apply(context.Background(), cfg, o)
		if !errors.Is(err, errInjected) {
			t.Fatalf("failAfter %d: err = %v, want the injected failure", k, err)
		}
		if want := plan.Changes[k].String(); !strings.Contains(err.Error(), want) {
			t.Errorf("failAfter %d: error %q does not name step %q", k, err, want)
		}
		if len(rep.Changes) != k { // the failed change was not made, so it is not reported
			t.Errorf("failAfter %d: report has %d changes, want %d", k, len(rep.Changes), k)
		}
		l.guest.Settle(t)
		if after := l.guest.Snapshot(t); after != before {
			t.Fatalf("failAfter %d (%s): rollback left a different namespace:\nbefore:\n%s\nafter:\n%s", k, plan.Changes[k], before, after)
		}
	}
	if ra := l.guest.IP(t, "netns", "exec", l.guest.Name, "sysctl", "-n", "net.ipv6.conf.nic1.accept_ra"); ra != raBefore {
		t.Fatalf("accept_ra not rolled back: %q, was %q", ra, raBefore)
	}
	// The failed runs must not have recorded anything: config A's extra
	// address is still ours and goes once the full config applies.
	l.apply(t, cfg, l.opts())
	requireLacks(t, "nic0 addrs", l.addrs(t, "nic0"), "198.18.0.12/24")
}

// A kernel error mid-apply (an MTU below veth's minimum, found only by the
// kernel) names the step and rolls everything back.
func TestApplyKernelErrorRollsBack(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0, mac1)
	cfg := twoNICConfig()
	cfg.Ethernets[1].MTU = 50 // below veth's minimum of 68; only the kernel knows
	l.guest.Settle(t)
	before := l.guest.Snapshot(t)
	_, err := Apply(context.Background(), cfg, l.opts())
	if err == nil || !strings.Contains(err.Error(), "nic1: set mtu 50: invalid argument") {
		t.Fatalf("err = %v, want it to name nic1's MTU step", err)
	}
	l.guest.Settle(t)
	if after := l.guest.Snapshot(t); after != before {
		t.Fatalf("rollback left a different namespace:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// (A gateway outside every subnet and a destination with host bits set
// are no longer rejected: netconf.Config.Normalise marks the first on-link
// and masks the second for every sink — issue 8.)
func TestApplyRejectsBadConfigBeforeAnyChange(t *testing.T) {
	dup := oneNIC([]string{"198.18.0.10/24"})
	dup.Ethernets = append(dup.Ethernets, netconf.Ethernet{ID: "nic1", MAC: mustMAC(mac1), L3: netconf.L3{Addresses: pfx("198.18.0.10/24")}})
	cases := []struct {
		name string
		cfg  *netconf.Config
		want string
	}{
		{"duplicate address", dup, "nic1: address 198.18.0.10/24: duplicate (also on nic0)"},
		{"mixed families", oneNIC([]string{"198.18.0.10/24"}, rt("2001:db8::/64", "198.18.0.1", 0)),
			"is not of the family of"},
		{"missing mac", &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0"}}}, "nic0: mac: missing"},
		{"bond member unknown", &netconf.Config{Bonds: []netconf.Bond{{Name: "bond0", Members: []string{"ethX"}}}},
			`members[0] "ethX" is not an ethernet`},
		{"vlan id", &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mustMAC(mac0)}},
			VLANs: []netconf.VLAN{{Name: "v", ID: 5000, Link: "nic0"}}}, "id 5000 outside"},
		{"bad lacp rate", &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mustMAC(mac0)}},
			Bonds: []netconf.Bond{{Name: "bond0", Members: []string{"nic0"}, Params: netconf.BondParams{LACPRate: "warp"}}}},
			`bond0: lacp_rate "warp": unknown`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// No kernel access at all: a fake that fails every call.
			o := Options{StateDir: t.TempDir()}
			f := newFake()
			o.setOps(f)
			_, err := Apply(context.Background(), c.cfg, o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if len(f.calls) != 0 {
				t.Fatalf("kernel touched before rejecting: %v", f.calls)
			}
		})
	}
}
