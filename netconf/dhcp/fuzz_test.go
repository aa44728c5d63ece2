package dhcp

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
)

// sampleACK is an ACK like dnsmasq's in the netns tests, as wire bytes.
func sampleACK(tb testing.TB) []byte {
	tb.Helper()
	_, dst, _ := net.ParseCIDR("203.0.113.0/24")
	_, def, _ := net.ParseCIDR("0.0.0.0/0")
	ack, err := dhcpv4.New(
		dhcpv4.WithMessageType(dhcpv4.MessageTypeAck),
		dhcpv4.WithYourIP(net.IPv4(198, 18, 0, 50)),
		dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
		dhcpv4.WithRouter(net.IPv4(198, 18, 0, 1)),
		dhcpv4.WithDNS(net.IPv4(198, 18, 0, 53)),
		dhcpv4.WithServerIP(net.IPv4(198, 18, 0, 1)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(198, 18, 0, 1))),
		dhcpv4.WithLeaseTime(3600),
		dhcpv4.WithOption(dhcpv4.OptClasslessStaticRoute(
			&dhcpv4.Route{Dest: dst, Router: net.IPv4(198, 18, 0, 254)},
			&dhcpv4.Route{Dest: def, Router: net.IPv4(198, 18, 0, 1)})),
		dhcpv4.WithGeneric(dhcpv4.OptionInterfaceMTU, []byte{0x05, 0x78}),
	)
	if err != nil {
		tb.Fatal(err)
	}
	return ack.ToBytes()
}

func TestLeaseFromACK(t *testing.T) {
	ack, err := dhcpv4.FromBytes(sampleACK(t))
	if err != nil {
		t.Fatal(err)
	}
	l, err := leaseFromACK(ack)
	if err != nil {
		t.Fatal(err)
	}
	if l.Addr.String() != "198.18.0.50/24" || l.MTU != 1400 || len(l.Routes) != 2 || l.T1 != 30*time.Minute {
		t.Fatalf("lease = %+v", l)
	}
	// A /32 lease with its router outside the subnet: the route is on-link.
	l.Addr = netip.PrefixFrom(l.Addr.Addr(), 32)
	l.Routes = nil
	if c := l.Config(); len(c.Routes) != 1 || !c.Routes[0].OnLink || !c.Routes[0].IsDefault() {
		t.Fatalf("/32 lease routes = %+v, want one on-link default", c.Routes)
	}
	ack.YourIPAddr = net.IPv4zero
	if _, err := leaseFromACK(ack); err == nil {
		t.Fatal("ACK without yiaddr accepted")
	}
}

// FuzzLeaseFromACK: any packet gives a lease or an error, and a lease's
// configuration is always usable (valid masked routes, sane MTU).
func FuzzLeaseFromACK(f *testing.F) {
	f.Add(sampleACK(f))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ack, err := dhcpv4.FromBytes(b)
		if err != nil {
			return
		}
		l, err := leaseFromACK(ack)
		if err != nil {
			return
		}
		c := l.Config()
		if !l.Addr.IsValid() || len(c.Addresses) != 1 || c.Addresses[0] != l.Addr {
			t.Fatalf("lease address %v, config %v", l.Addr, c.Addresses)
		}
		if c.MTU != 0 && c.MTU < minMTU {
			t.Fatalf("MTU %d", c.MTU)
		}
		for _, r := range c.Routes {
			if !r.To.IsValid() || r.To != r.To.Masked() || !r.To.Addr().Is4() {
				t.Fatalf("bad route %+v", r)
			}
		}
	})
}

func sampleReply(tb testing.TB) []byte {
	tb.Helper()
	m, err := dhcpv6.NewMessage(
		dhcpv6.WithIANA(dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8:6::150"), PreferredLifetime: time.Hour, ValidLifetime: time.Hour}),
		dhcpv6.WithDNS(net.ParseIP("2001:db8:6::53")),
		dhcpv6.WithServerID(&dhcpv6.DUIDLL{HWType: 1, LinkLayerAddr: net.HardwareAddr{2, 0, 0x5e, 0, 0, 1}}),
	)
	if err != nil {
		tb.Fatal(err)
	}
	m.MessageType = dhcpv6.MessageTypeReply
	return m.ToBytes()
}

// FuzzLeaseFromReply: any DHCPv6 message gives a lease or an error; a lease
// always has global-looking /128 addresses.
func FuzzLeaseFromReply(f *testing.F) {
	f.Add(sampleReply(f))
	f.Add([]byte{7, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := dhcpv6.MessageFromBytes(b)
		if err != nil {
			return
		}
		l, err := leaseFromReply(m)
		if err != nil {
			return
		}
		for _, p := range l.Config().Addresses {
			if p.Bits() != 128 || !p.Addr().Is6() || p.Addr().IsUnspecified() {
				t.Fatalf("bad address %v", p)
			}
		}
	})
}
