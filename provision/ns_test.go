package provision

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"guestbridge/datasource"
	"guestbridge/internal/nl/nltest"
	"guestbridge/netconf"
	"guestbridge/system"
)

// Test MACs: locally administered, unique to this package's tests.
const (
	nsMAC0 = "02:00:5e:20:00:01"
	nsMAC1 = "02:00:5e:20:00:02"
)

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// syncBuf is a log sink shared by the lease keeper's goroutines and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// nsMachine is a live Machine whose network is the guest namespace and
// whose files go to a temp dir.
func nsMachine(t *testing.T, guest *nltest.NS, log *slog.Logger, dhcpTimeout time.Duration) *Machine {
	return New(Options{Root: system.Root{Dir: t.TempDir(), Live: true}, StateDir: t.TempDir(), Log: log,
		Handle: guest.Handle, NetNS: guest.NsFd, DHCPTimeout: dhcpTimeout})
}

func addrsOf(t *testing.T, ns *nltest.NS, ifname string) string {
	t.Helper()
	return ns.IP(t, "-br", "addr", "show", "dev", ifname)
}

func staticDHCP(addr string) *netconf.Config {
	return &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mac(nsMAC0),
		L3: netconf.L3{DHCP4: true, Addresses: []netip.Prefix{netip.MustParsePrefix(addr)}}}}}
}

// Issue 8: after a resetnetwork the agent's next lease renewal put the
// config it read at start-up back. The lease keeper and resetnetwork now go
// through the same Machine: the renewal re-applies the NEW config. dnsmasq
// hands out a 2-minute lease with T1 = 3 s, so renewals come quickly.
func TestRenewalAfterResetNetworkKeepsNewConfig(t *testing.T) {
	guest, peer := nltest.NewNS(t, "rg"), nltest.NewNS(t, "rp")
	guest.Veth(t, "nic0", nsMAC0, peer, "peer0")
	peer.IP(t, "addr", "add", "198.18.6.1/24", "dev", "peer0")
	peer.Dnsmasq(t, "peer0", "--dhcp-range=198.18.6.50,198.18.6.50,255.255.255.0,2m",
		"--dhcp-option=option:T1,3", "--dhcp-option=option:T2,100")
	var logs syncBuf
	m := nsMachine(t, guest, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), 10*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	boot := m.Provision(ctx, Request{Inst: &datasource.Instance{InstanceID: "i-1", Network: staticDHCP("198.18.6.10/24")}, KeepGoing: true})
	if boot.Status() != OK {
		t.Fatalf("boot: %v\n%s", boot.Err(), logs.String())
	}
	if a := addrsOf(t, guest, "nic0"); !strings.Contains(a, "198.18.6.50/24") || !strings.Contains(a, "198.18.6.10/24") {
		t.Fatalf("after boot: %s", a)
	}
	done := make(chan struct{})
	go func() { m.KeepLeases(ctx); close(done) }()

	// resetnetwork: the same NIC, another static address.
	reset := m.Provision(ctx, Request{Inst: &datasource.Instance{InstanceID: "i-1", Network: staticDHCP("198.18.6.20/24")}, KeepGoing: true})
	if reset.Status() != OK {
		t.Fatalf("reset: %v", reset.Err())
	}
	renewals := func() int { return strings.Count(logs.String(), "lease applied") }
	before := renewals()
	// The keeper's first lease, then a renewal at T1 (3 s).
	if !nltest.Eventually(20*time.Second, func() bool { return renewals() >= before+2 }) {
		t.Fatalf("no lease renewal within 20 s:\n%s", logs.String())
	}
	a := addrsOf(t, guest, "nic0")
	if !strings.Contains(a, "198.18.6.20/24") || strings.Contains(a, "198.18.6.10/24") || !strings.Contains(a, "198.18.6.50/24") {
		t.Fatalf("after a renewal following resetnetwork: %s\nwant the lease and the NEW static address only", a)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("KeepLeases did not stop within 5 s of cancel")
	}
}

// Issue 10: a NIC that appears after boot started (udev coldplug) was
// skipped. Boot waits for it (bounded) and configures it.
func TestBootWaitsForLateNIC(t *testing.T) {
	guest, peer := nltest.NewNS(t, "wg"), nltest.NewNS(t, "wp")
	m := nsMachine(t, guest, quietLog(), 5*time.Second)
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mac(nsMAC0),
		L3: netconf.L3{Addresses: []netip.Prefix{netip.MustParsePrefix("198.18.7.10/24")}}}}}
	go func() {
		time.Sleep(2 * time.Second)
		exec.Command("ip", "-n", guest.Name, "link", "add", "late0", "address", nsMAC0, "type", "veth",
			"peer", "name", "peer0", "netns", peer.Name).Run()
	}()
	start := time.Now()
	res := m.Provision(context.Background(), Request{Inst: &datasource.Instance{InstanceID: "i-1", Network: cfg},
		KeepGoing: true, WaitLinks: 15 * time.Second})
	took := time.Since(start)
	if res.Status() != OK {
		t.Fatalf("status %d: %v", res.Status(), res.Err())
	}
	if took < 2*time.Second || took > 10*time.Second {
		t.Errorf("took %s: want the ~2 s until the NIC appeared", took)
	}
	if a := addrsOf(t, guest, "late0"); !strings.Contains(a, "198.18.7.10/24") {
		t.Errorf("late NIC not configured: %s", a)
	}
}

// Issue 10: a NIC still missing after the budget is an error of the
// network step (the unit fails visibly), while the other steps still apply.
func TestBootMissingNICIsPartialFailure(t *testing.T) {
	guest := nltest.NewNS(t, "mg")
	m := nsMachine(t, guest, quietLog(), 5*time.Second)
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mac(nsMAC1),
		L3: netconf.L3{Addresses: []netip.Prefix{netip.MustParsePrefix("198.18.7.10/24")}}}}}
	inst := &datasource.Instance{InstanceID: "i-1", Network: cfg,
		Files: []datasource.File{{Path: "/etc/motd", Content: []byte("hi\n")}}}
	res := m.Provision(context.Background(), Request{Inst: inst, KeepGoing: true, WaitLinks: time.Second,
		Parts: map[string]bool{"network": true, "files": true}})
	if res.Status() != Partial {
		t.Fatalf("status %d, want Partial: %v", res.Status(), res.Err())
	}
	if err := res.Err(); err == nil || !strings.Contains(err.Error(), nsMAC1) {
		t.Errorf("error %v does not name the missing NIC", err)
	}
	if got := readFile(t, m.o.Root.Dir, "etc/motd"); got != "hi\n" {
		t.Errorf("files step not applied: %q", got)
	}
}

// Issue 10: two NICs with DHCPv4 + DHCPv6 and no server took 84 s (each
// attempt in turn). All requests now run at once under one budget.
func TestDHCPWithoutServerFinishesWithinOneBudget(t *testing.T) {
	guest, peer := nltest.NewNS(t, "dg"), nltest.NewNS(t, "dp")
	guest.Veth(t, "nic0", nsMAC0, peer, "peer0")
	guest.Veth(t, "nic1", nsMAC1, peer, "peer1")
	const budget = 4 * time.Second
	m := nsMachine(t, guest, quietLog(), budget)
	both := netconf.L3{DHCP4: true, DHCP6: true}
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{
		{ID: "nic0", MAC: mac(nsMAC0), L3: both}, {ID: "nic1", MAC: mac(nsMAC1), L3: both}}}
	start := time.Now()
	res := m.Provision(context.Background(), Request{Inst: &datasource.Instance{InstanceID: "i-1", Network: cfg}, KeepGoing: true})
	took := time.Since(start)
	if took > budget+2*time.Second {
		t.Errorf("took %s, want about one budget (%s)", took, budget)
	}
	var warnings int
	for _, s := range res.Steps {
		warnings += len(s.Warnings)
	}
	if warnings != 4 {
		t.Errorf("%d warnings, want one per NIC and family (4): %+v", warnings, res.Steps)
	}
	t.Logf("2 NICs x DHCPv4+v6 without a server: %s (budget %s)", took.Round(10*time.Millisecond), budget)
}

// Issue 9: resetnetwork in seed mode rewrote the seed and answered "0",
// but cloud-init renders the network only at boot, so nothing changed. Now
// the seed is rewritten (for the next boot) AND the network applied now.
func TestSeedModeResetNetworkAppliesLive(t *testing.T) {
	guest, peer := nltest.NewNS(t, "sg"), nltest.NewNS(t, "sp")
	guest.Veth(t, "nic0", nsMAC0, peer, "peer0")
	m := nsMachine(t, guest, quietLog(), 5*time.Second)
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mac(nsMAC0),
		L3: netconf.L3{Addresses: []netip.Prefix{netip.MustParsePrefix("198.18.8.10/24")}}}}}
	res := m.Provision(context.Background(), Request{Inst: &datasource.Instance{InstanceID: "i-1", Network: cfg},
		Mode: ModeSeed, KeepGoing: true, LiveNetwork: true})
	if res.Status() != OK {
		t.Fatalf("status %d: %v", res.Status(), res.Err())
	}
	if a := addrsOf(t, guest, "nic0"); !strings.Contains(a, "198.18.8.10/24") {
		t.Errorf("network not applied live: %s", a)
	}
	if nc := readFile(t, m.o.Root.Dir, "var/lib/cloud/seed/nocloud/network-config"); !strings.Contains(nc, "198.18.8.10/24") {
		t.Errorf("seed not rewritten:\n%s", nc)
	}
}

// Issue 12: `guestbridge status` shows the leases the agent holds. After
// the keeper's first lease and one renewal (T1 = 3 s), Leases names the
// interface, the family, the leased address, when it was obtained and
// renewed, and its expiry (2 minutes after the renewal); LeaseChanged was
// called for each.
func TestLeasesAfterRenewal(t *testing.T) {
	guest, peer := nltest.NewNS(t, "lg"), nltest.NewNS(t, "lp")
	guest.Veth(t, "nic0", nsMAC0, peer, "peer0")
	peer.IP(t, "addr", "add", "198.18.7.1/24", "dev", "peer0")
	peer.Dnsmasq(t, "peer0", "--dhcp-range=198.18.7.50,198.18.7.50,255.255.255.0,2m",
		"--dhcp-option=option:T1,3", "--dhcp-option=option:T2,100")
	var changes atomic.Int32
	m := New(Options{Root: system.Root{Dir: t.TempDir(), Live: true}, StateDir: t.TempDir(), Log: quietLog(),
		Handle: guest.Handle, NetNS: guest.NsFd, DHCPTimeout: 10 * time.Second,
		LeaseChanged: func() { changes.Add(1) }})
	if got := m.Leases(); len(got) != 0 {
		t.Fatalf("leases before any keeper: %+v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mac(nsMAC0), L3: netconf.L3{DHCP4: true}}}}
	if res := m.Provision(ctx, Request{Inst: &datasource.Instance{InstanceID: "i-1", Network: cfg}, KeepGoing: true}); res.Status() != OK {
		t.Fatalf("provision: %v", res.Err())
	}
	start := time.Now()
	done := make(chan struct{})
	go func() { m.KeepLeases(ctx); close(done) }()
	if !nltest.Eventually(15*time.Second, func() bool { return changes.Load() >= 2 }) {
		t.Fatalf("LeaseChanged called %d times within 15 s, want a lease and a renewal", changes.Load())
	}
	got := m.Leases()
	if len(got) != 1 {
		t.Fatalf("leases %+v, want one", got)
	}
	l := got[0]
	if l.Interface != "nic0" || l.Family != "DHCPv4" || len(l.Addresses) != 1 || l.Addresses[0] != netip.MustParsePrefix("198.18.7.50/24") {
		t.Errorf("lease %+v, want nic0 DHCPv4 198.18.7.50/24", l)
	}
	if !l.Renewed.After(l.Obtained) || l.Obtained.Before(start) || l.Renewed.After(time.Now()) {
		t.Errorf("obtained %v, renewed %v (keeper started %v): want a renewal after the first lease", l.Obtained, l.Renewed, start)
	}
	if d := l.Expires.Sub(l.Renewed); d < 110*time.Second || d > 2*time.Minute+time.Second {
		t.Errorf("expires %v, %v after the renewal; want about the 2-minute lease time", l.Expires, d)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("KeepLeases did not stop within 5 s of cancel")
	}
}
