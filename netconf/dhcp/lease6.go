package dhcp

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/dhcpv6/nclient6"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"guestbridge/internal/nl"
	"guestbridge/netconf"
)

// Lease6 is what a stateful DHCPv6 Reply granted.
type Lease6 struct {
	Addrs             []netip.Addr // IA_NA addresses
	DNS               []netip.Addr
	Search            []string
	T1, T2            time.Duration
	PreferredLifetime time.Duration // of the first address
	ValidLifetime     time.Duration
	ServerID          string // DUID, as printed by the library
	Acquired          time.Time
}

// leaseFromReply decodes the fields guestbridge uses from a Reply.
func leaseFromReply(m *dhcpv6.Message) (*Lease6, error) {
	if m == nil {
		return nil, errors.New("no Reply")
	}
	if s := m.Options.Status(); s != nil && s.StatusCode != 0 {
		return nil, fmt.Errorf("server status %s", s.StatusCode)
	}
	l := &Lease6{}
	for _, ia := range m.Options.IANA() {
		if s := ia.Options.Status(); s != nil && s.StatusCode != 0 {
			return nil, fmt.Errorf("IA_NA status %s: %s", s.StatusCode, s.StatusMessage)
		}
		if l.T1 == 0 {
			l.T1, l.T2 = ia.T1, ia.T2
		}
		for _, a := range ia.Options.Addresses() {
			ip, ok := netip.AddrFromSlice(a.IPv6Addr)
			if !ok || !ip.Is6() || ip.Is4In6() || ip.IsUnspecified() || a.ValidLifetime == 0 {
				continue
			}
			if len(l.Addrs) == 0 {
				l.PreferredLifetime, l.ValidLifetime = a.PreferredLifetime, a.ValidLifetime
			}
			l.Addrs = append(l.Addrs, ip)
		}
	}
	if len(l.Addrs) == 0 {
		return nil, errors.New("reply has no IA_NA address")
	}
	for _, d := range m.Options.DNS() {
		if a, ok := netip.AddrFromSlice(d); ok && a.Is6() {
			l.DNS = append(l.DNS, a)
		}
	}
	if s := m.Options.DomainSearchList(); s != nil {
		l.Search = s.Labels
	}
	if id := m.Options.ServerID(); id != nil {
		l.ServerID = id.String()
	}
	return l, nil
}

// Config is what the lease means for the interface. DHCPv6 carries no
// prefix length or routes (those come from router advertisements), so the
// addresses are /128, as other DHCPv6 clients configure them.
func (l *Lease6) Config() netconf.L3 {
	c := netconf.L3{
		Nameservers: append([]netip.Addr(nil), l.DNS...),
		Search:      append([]string(nil), l.Search...),
	}
	for _, a := range l.Addrs {
		c.Addresses = append(c.Addresses, netip.PrefixFrom(a, 128))
	}
	return c
}

// Request6 runs a stateful DHCPv6 exchange (Solicit, Advertise, Request,
// Reply) on ifname. The client binds to the link-local address, so it first
// waits, within ctx, until that address has left the tentative (DAD) state.
func Request6(ctx context.Context, ifname string, o Options) (*Lease6, error) {
	if err := waitLinkLocal(ctx, ifname, o); err != nil {
		return nil, err
	}
	var c *nclient6.Client
	err := nl.InNetns(o.NetNS, func() error {
		var err error
		c, err = nclient6.New(ifname, nclient6.WithTimeout(o.timeout()), nclient6.WithRetry(o.retries()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: DHCPv6 client: %w", ifname, err)
	}
	defer c.Close()
	adv, err := c.Solicit(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: DHCPv6 solicit: %w", ifname, err)
	}
	reply, err := c.Request(ctx, adv)
	if err != nil {
		return nil, fmt.Errorf("%s: DHCPv6 request: %w", ifname, err)
	}
	l, err := leaseFromReply(reply)
	if err != nil {
		return nil, fmt.Errorf("%s: DHCPv6: %w", ifname, err)
	}
	l.Acquired = time.Now()
	o.logf("%s: DHCPv6 lease %v from %s", ifname, l.Addrs, l.ServerID)
	return l, nil
}

// linkLocalWait bounds the DAD wait when ctx has no deadline (DAD takes
// about a second with the kernel defaults).
const linkLocalWait = 10 * time.Second

func waitLinkLocal(ctx context.Context, ifname string, o Options) error {
	ctx, cancel := context.WithTimeout(ctx, linkLocalWait)
	defer cancel()
	h := o.Handle
	if h == nil {
		h = &netlink.Handle{}
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		link, err := nl.LinkByName(h, ifname)
		if err != nil {
			return fmt.Errorf("%s: %w", ifname, err)
		}
		addrs, err := nl.AddrList(h, link, netlink.FAMILY_V6)
		if err != nil {
			return fmt.Errorf("%s: list addresses: %w", ifname, err)
		}
		for _, a := range addrs {
			if a.IP.IsLinkLocalUnicast() && a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: no usable IPv6 link-local address (link down or DAD not finished): %w", ifname, ctx.Err())
		case <-tick.C:
		}
	}
}
