package dhcp

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"guestbridge/internal/nl/nltest"
	"guestbridge/netconf"
)

// dhcpLab is a guest namespace with nic0 (up) wired to peer0 in a server
// namespace that has serverAddrs.
func dhcpLab(t *testing.T, serverAddrs ...string) (guest, server *nltest.NS) {
	t.Helper()
	guest, server = nltest.NewNS(t, "c"), nltest.NewNS(t, "s")
	guest.Veth(t, "nic0", "02:00:5e:20:00:01", server, "peer0")
	for _, a := range serverAddrs {
		server.IP(t, "addr", "add", a, "dev", "peer0", "nodad")
	}
	guest.IP(t, "link", "set", "nic0", "up")
	return guest, server
}

func TestRequest4FromDnsmasq(t *testing.T) {
	t.Parallel()
	guest, server := dhcpLab(t, "198.18.0.1/24")
	server.Dnsmasq(t, "peer0",
		"--dhcp-range=198.18.0.50,198.18.0.60,255.255.255.0,1h",
		"--dhcp-option=3,198.18.0.1",
		"--dhcp-option=6,198.18.0.53",
		"--dhcp-option=121,203.0.113.0/24,198.18.0.254,0.0.0.0/0,198.18.0.1",
		"--dhcp-option=26,1400",
	)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, err := Request4(ctx, "nic0", Options{NetNS: guest.NsFd, Handle: guest.Handle, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	pool := netip.MustParsePrefix("198.18.0.48/28")
	if !pool.Contains(l.Addr.Addr()) || l.Addr.Bits() != 24 {
		t.Errorf("Addr = %s, want 198.18.0.50-60/24", l.Addr)
	}
	if l.MTU != 1400 || l.LeaseTime != time.Hour || l.T1 != 30*time.Minute || l.T2 != 52*time.Minute+30*time.Second {
		t.Errorf("MTU %d lease %s T1 %s T2 %s; want 1400 1h 30m 52m30s", l.MTU, l.LeaseTime, l.T1, l.T2)
	}
	if l.Router != netip.MustParseAddr("198.18.0.1") || l.Server != netip.MustParseAddr("198.18.0.1") {
		t.Errorf("Router %s Server %s, want 198.18.0.1", l.Router, l.Server)
	}
	if !slices.Equal(l.DNS, []netip.Addr{netip.MustParseAddr("198.18.0.53")}) {
		t.Errorf("DNS = %v", l.DNS)
	}
	c := l.Config()
	want := []netconf.Route{
		{To: netip.MustParsePrefix("203.0.113.0/24"), Via: netip.MustParseAddr("198.18.0.254")},
		{To: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("198.18.0.1")},
	}
	if !slices.Equal(c.Routes, want) || c.MTU != 1400 || !slices.Equal(c.Addresses, []netip.Prefix{l.Addr}) {
		t.Errorf("Config() = %+v, want option 121 routes %v, MTU 1400, address %s", c, want, l.Addr)
	}
}

func TestRequest6StatefulFromDnsmasq(t *testing.T) {
	t.Parallel()
	guest, server := dhcpLab(t, "2001:db8:6::1/64")
	server.Dnsmasq(t, "peer0", "--dhcp-range=2001:db8:6::100,2001:db8:6::1ff,64,1h", "--enable-ra",
		"--dhcp-option=option6:dns-server,[2001:db8:6::53]")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := Request6(ctx, "nic0", Options{NetNS: guest.NsFd, Handle: guest.Handle, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := netip.MustParseAddr("2001:db8:6::100"), netip.MustParseAddr("2001:db8:6::1ff")
	if len(l.Addrs) != 1 || l.Addrs[0].Less(lo) || hi.Less(l.Addrs[0]) {
		t.Fatalf("Addrs = %v, want one in %s-%s", l.Addrs, lo, hi)
	}
	if l.ValidLifetime != time.Hour || l.T1 == 0 || l.ServerID == "" {
		t.Errorf("valid %s T1 %s server %q", l.ValidLifetime, l.T1, l.ServerID)
	}
	if !slices.Equal(l.DNS, []netip.Addr{netip.MustParseAddr("2001:db8:6::53")}) {
		t.Errorf("DNS = %v", l.DNS)
	}
	if c := l.Config(); !slices.Equal(c.Addresses, []netip.Prefix{netip.PrefixFrom(l.Addrs[0], 128)}) {
		t.Errorf("Config().Addresses = %v", c.Addresses)
	}
}

func TestMaintainAppliesFirstLease(t *testing.T) {
	t.Parallel()
	guest, server := dhcpLab(t, "198.18.2.1/24")
	server.Dnsmasq(t, "peer0", "--dhcp-range=198.18.2.50,198.18.2.60,255.255.255.0,2m")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got *Lease4
	err := Maintain(ctx, "nic0", func(l *Lease4) error { got = l; cancel(); return nil }, Options{NetNS: guest.NsFd})
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.LeaseTime != 2*time.Minute || got.T1 != time.Minute {
		t.Fatalf("lease = %+v, want a 2m lease with T1 1m", got)
	}
}

func TestRequest4TimesOutWithoutServer(t *testing.T) {
	t.Parallel()
	guest, _ := dhcpLab(t)
	_, err := Request4(context.Background(), "nic0", Options{NetNS: guest.NsFd, Timeout: 200 * time.Millisecond, Retries: 1})
	if err == nil {
		t.Fatal("lease without a server")
	}
	if want := "nic0: DHCPv4 request:"; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Fatalf("err = %v, want it to start with %q", err, want)
	}
}
