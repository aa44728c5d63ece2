package dhcp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"

	"guestbridge/internal/nl"
	"guestbridge/netconf"
)

// Lease4 is what a DHCPv4 ACK granted.
type Lease4 struct {
	Addr      netip.Prefix
	Router    netip.Addr      // first router (option 3); invalid if none
	Routes    []netconf.Route // classless static routes (option 121)
	DNS       []netip.Addr
	Search    []string
	MTU       int // option 26; 0 if absent or below the IPv4 minimum
	LeaseTime time.Duration
	T1, T2    time.Duration
	Server    netip.Addr // server identifier (option 54)
	Acquired  time.Time

	raw *nclient4.Lease // for Renew and Release
}

// minMTU is the IPv4 minimum (RFC 791); smaller option 26 values are ignored.
const minMTU = 68

// leaseFromACK decodes the fields guestbridge uses from an ACK.
func leaseFromACK(ack *dhcpv4.DHCPv4) (*Lease4, error) {
	if ack == nil {
		return nil, errors.New("no ACK")
	}
	ip, ok := netip.AddrFromSlice(ack.YourIPAddr.To4())
	if !ok || ip.IsUnspecified() {
		return nil, fmt.Errorf("ACK yiaddr %v: not an IPv4 address", ack.YourIPAddr)
	}
	bits := 32
	if m := ack.SubnetMask(); m != nil {
		ones, size := m.Size()
		if size != 32 {
			return nil, fmt.Errorf("ACK option 1 (subnet mask) %v: not a contiguous IPv4 mask", m)
		}
		bits = ones
	}
	l := &Lease4{Addr: netip.PrefixFrom(ip, bits)}
	for _, r := range ack.Router() {
		if a, ok := addr4(r); ok {
			l.Router = a
			break
		}
	}
	for _, r := range ack.ClasslessStaticRoute() {
		if rt, ok := route4(r); ok {
			l.Routes = append(l.Routes, rt)
		}
	}
	for _, d := range ack.DNS() {
		if a, ok := addr4(d); ok {
			l.DNS = append(l.DNS, a)
		}
	}
	if s := ack.DomainSearch(); s != nil {
		l.Search = s.Labels
	}
	if b := ack.Options.Get(dhcpv4.OptionInterfaceMTU); len(b) == 2 {
		if mtu := int(binary.BigEndian.Uint16(b)); mtu >= minMTU {
			l.MTU = mtu
		}
	}
	if a, ok := addr4(ack.ServerIdentifier()); ok {
		l.Server = a
	}
	l.LeaseTime = ack.IPAddressLeaseTime(0)
	// RFC 2131 §4.4.5 defaults: T1 = 0.5, T2 = 0.875 of the lease.
	l.T1 = ack.IPAddressRenewalTime(l.LeaseTime / 2)
	l.T2 = ack.IPAddressRebindingTime(l.LeaseTime * 7 / 8)
	return l, nil
}

func addr4(ip net.IP) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip.To4())
	return a, ok && ip.To4() != nil
}

func route4(r *dhcpv4.Route) (netconf.Route, bool) {
	if r == nil || r.Dest == nil {
		return netconf.Route{}, false
	}
	dst, ok := addr4(r.Dest.IP)
	if !ok {
		return netconf.Route{}, false
	}
	ones, size := r.Dest.Mask.Size()
	if size != 32 {
		return netconf.Route{}, false
	}
	rt := netconf.Route{To: netip.PrefixFrom(dst, ones).Masked()}
	if gw, ok := addr4(r.Router); ok && !gw.IsUnspecified() {
		rt.Via = gw
	}
	return rt, true
}

// Config is what the lease means for the interface: its address, routes
// (option 121 wins over the router option, RFC 3442), MTU and DNS.
// Gateways outside the leased subnet are marked on-link, as RFC 3442 routers
// and cloud DHCP servers (a /32 lease with a gateway) require.
func (l *Lease4) Config() netconf.L3 {
	c := netconf.L3{
		MTU:         l.MTU,
		Addresses:   []netip.Prefix{l.Addr},
		Nameservers: append([]netip.Addr(nil), l.DNS...),
		Search:      append([]string(nil), l.Search...),
	}
	routes := l.Routes
	if len(routes) == 0 && l.Router.IsValid() {
		routes = []netconf.Route{{To: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Via: l.Router}}
	}
	subnet := l.Addr.Masked()
	for _, rt := range routes {
		if rt.Via.IsValid() && !subnet.Contains(rt.Via) {
			rt.OnLink = true
		}
		c.Routes = append(c.Routes, rt)
	}
	return c
}

// client4 opens a DHCPv4 client on ifname; its AF_PACKET socket is created
// inside o.NetNS and stays bound there.
func client4(ifname string, o Options) (*nclient4.Client, error) {
	var c *nclient4.Client
	err := nl.InNetns(o.NetNS, func() error {
		var err error
		c, err = nclient4.New(ifname, nclient4.WithTimeout(o.timeout()), nclient4.WithRetry(o.retries()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: DHCPv4 client: %w", ifname, err)
	}
	return c, nil
}

// Request4 runs a DHCPv4 DORA exchange on ifname. It needs CAP_NET_RAW and
// the link up, but no address.
func Request4(ctx context.Context, ifname string, o Options) (*Lease4, error) {
	c, err := client4(ifname, o)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return request4(ctx, c, ifname, o)
}

// requested4 asks for the options Lease4 uses; servers such as dnsmasq
// send option 121 and 26 only when the client lists them.
var requested4 = dhcpv4.WithRequestedOptions(
	dhcpv4.OptionSubnetMask, dhcpv4.OptionRouter, dhcpv4.OptionDomainNameServer,
	dhcpv4.OptionDNSDomainSearchList, dhcpv4.OptionInterfaceMTU, dhcpv4.OptionClasslessStaticRoute,
)

func request4(ctx context.Context, c *nclient4.Client, ifname string, o Options) (*Lease4, error) {
	raw, err := c.Request(ctx, requested4)
	if err != nil {
		return nil, fmt.Errorf("%s: DHCPv4 request: %w", ifname, err)
	}
	return finish4(raw, ifname, o)
}

func finish4(raw *nclient4.Lease, ifname string, o Options) (*Lease4, error) {
	l, err := leaseFromACK(raw.ACK)
	if err != nil {
		return nil, fmt.Errorf("%s: DHCPv4: %w", ifname, err)
	}
	l.raw = raw
	l.Acquired = raw.CreationTime
	o.logf("%s: DHCPv4 lease %s from %s for %s", ifname, l.Addr, l.Server, l.LeaseTime)
	return l, nil
}
