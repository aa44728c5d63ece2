package netconf

import (
	"fmt"
	"net/netip"
	"slices"
)

// Normalise is the one place where a source's network description becomes
// something every sink (the v2 renderer, the NoCloud seed, netconf/apply)
// can use as it is. Every source calls it after translating; the sinks call
// it again on a copy (it is idempotent), so a hand-built Config gets the
// same treatment. It returns warnings naming what it changed or skipped:
//
//   - An interface that cannot exist (a MAC that is not 6 bytes, such as a
//     20-byte InfiniBand hardware address; a name that is not a valid Linux
//     interface name, such as a derived VLAN name over 15 bytes) is removed
//     with everything stacked on it; the rest of the config stays.
//   - A route destination with host bits set (198.19.1.5/24) is masked.
//   - A gateway of 0.0.0.0 or :: means "directly on the link": the route
//     gets no gateway (never a default route without a destination).
//   - A gateway outside every static subnet of its interface (including a
//     /32 or /128 address with its gateway next to it) is marked on-link,
//     unless DHCP/RA of that family may bring the subnet or the gateway is
//     IPv6 link-local.
//   - The machine-wide DNS servers and search domains (Config.Nameservers,
//     Config.Search) are never dropped: static interfaces without DNS of
//     their own get them (as cloud-init does), and any that would still
//     appear on no interface are appended to the first interface with
//     static addresses (else the first interface), so v2 carries them.
//   - Warnings only: an address, DHCP or a VLAN on a bond member; a VLAN MTU
//     larger than its parent's.
func (c *Config) Normalise() []string {
	var w []string
	warn := func(format string, args ...any) { w = append(w, fmt.Sprintf(format, args...)) }
	c.skipBadLinks(warn)
	for _, f := range c.named() {
		normaliseRoutes(f.name, f.l3, warn)
	}
	c.spreadGlobalDNS()
	c.lint(warn)
	return w
}

// Normalised returns a normalised deep copy of c and the warnings.
func (c *Config) Normalised() (*Config, []string) {
	out := c.Clone()
	w := out.Normalise()
	return out, w
}

// namedL3 is an interface's name and its layer-3 part.
type namedL3 struct {
	name string
	l3   *L3
}

func (c *Config) named() []namedL3 {
	var out []namedL3
	for i := range c.Ethernets {
		out = append(out, namedL3{c.Ethernets[i].ID, &c.Ethernets[i].L3})
	}
	for i := range c.Bonds {
		out = append(out, namedL3{c.Bonds[i].Name, &c.Bonds[i].L3})
	}
	for i := range c.VLANs {
		out = append(out, namedL3{c.VLANs[i].Name, &c.VLANs[i].L3})
	}
	return out
}

// skipBadLinks removes interfaces that cannot exist and what depends on
// them: VLANs over a removed link, bond members that were removed (a bond
// left without members goes too).
func (c *Config) skipBadLinks(warn func(string, ...any)) {
	gone := map[string]bool{}
	c.Ethernets = slices.DeleteFunc(c.Ethernets, func(e Ethernet) bool {
		why := ""
		if len(e.MAC) != 0 && len(e.MAC) != 6 {
			why = fmt.Sprintf("mac %s is a %d-byte hardware address, not Ethernet (InfiniBand?)", e.MAC, len(e.MAC))
		} else if err := CheckInterfaceName(e.ID); err != nil {
			why = err.Error()
		}
		if why != "" {
			warn("interface %q skipped: %s", e.ID, why)
			gone[e.ID] = true
		}
		return why != ""
	})
	c.Bonds = slices.DeleteFunc(c.Bonds, func(b Bond) bool {
		why := ""
		if err := CheckInterfaceName(b.Name); err != nil {
			why = err.Error()
		} else if len(b.MAC) != 0 && len(b.MAC) != 6 {
			why = fmt.Sprintf("mac %s is not a 6-byte Ethernet address", b.MAC)
		}
		if why == "" {
			before := len(b.Members)
			b.Members = slices.DeleteFunc(b.Members, func(m string) bool { return gone[m] })
			if len(b.Members) == 0 && before > 0 {
				why = "all its members were skipped"
			}
		}
		if why != "" {
			warn("bond %q skipped: %s", b.Name, why)
			gone[b.Name] = true
		}
		return why != ""
	})
	for i := range c.Bonds {
		c.Bonds[i].Members = slices.DeleteFunc(c.Bonds[i].Members, func(m string) bool { return gone[m] })
		if gone[c.Bonds[i].Params.Primary] {
			c.Bonds[i].Params.Primary = ""
		}
	}
	c.VLANs = slices.DeleteFunc(c.VLANs, func(v VLAN) bool {
		why := ""
		if err := CheckInterfaceName(v.Name); err != nil {
			why = err.Error()
		} else if gone[v.Link] {
			why = fmt.Sprintf("its link %q was skipped", v.Link)
		} else if len(v.MAC) != 0 && len(v.MAC) != 6 {
			why = fmt.Sprintf("mac %s is not a 6-byte Ethernet address", v.MAC)
		}
		if why != "" {
			warn("vlan %q skipped: %s", v.Name, why)
			gone[v.Name] = true
		}
		return why != ""
	})
}

func normaliseRoutes(name string, l3 *L3, warn func(string, ...any)) {
	for i := range l3.Routes {
		r := &l3.Routes[i]
		if !r.To.IsValid() {
			continue // Validate names it
		}
		if m := r.To.Masked(); m != r.To {
			warn("%s: route %s has host bits set, using %s", name, r.To, m)
			r.To = m
		}
		if r.Via.IsValid() && r.Via.IsUnspecified() {
			r.Via = netip.Addr{}
		}
		if !r.Via.IsValid() {
			r.OnLink = false // meaningless without a gateway
			continue
		}
		if r.OnLink || r.Via.IsLinkLocalUnicast() || r.Via.Is4() != r.To.Addr().Is4() {
			continue
		}
		if gatewayMayBeDynamic(l3, r.Via) || inStaticSubnet(l3, r.Via) {
			continue
		}
		r.OnLink = true
	}
}

// gatewayMayBeDynamic: DHCP (or, for IPv6, RA) of the gateway's family
// may bring the subnet the gateway is in.
func gatewayMayBeDynamic(l3 *L3, gw netip.Addr) bool {
	if gw.Is4() {
		return l3.DHCP4
	}
	return l3.DHCP6 || (l3.AcceptRA != nil && *l3.AcceptRA)
}

// inStaticSubnet reports whether gw is inside a subnet of one of l3's
// static addresses (a /32 or /128 contains only the address itself).
func inStaticSubnet(l3 *L3, gw netip.Addr) bool {
	for _, p := range l3.Addresses {
		if p.Masked().Contains(gw) {
			return true
		}
	}
	return false
}

// spreadGlobalDNS: see Normalise.
func (c *Config) spreadGlobalDNS() {
	if len(c.Nameservers) == 0 && len(c.Search) == 0 {
		return
	}
	all := c.named()
	if len(all) == 0 {
		return
	}
	for _, f := range all {
		if len(f.l3.Addresses) > 0 && len(f.l3.Nameservers) == 0 {
			f.l3.Nameservers = slices.Clone(c.Nameservers)
			if len(f.l3.Search) == 0 {
				f.l3.Search = slices.Clone(c.Search)
			}
		}
	}
	target := all[0].l3
	for _, f := range all {
		if len(f.l3.Addresses) > 0 {
			target = f.l3
			break
		}
	}
	for _, ns := range c.Nameservers {
		if !slices.ContainsFunc(all, func(f namedL3) bool { return slices.Contains(f.l3.Nameservers, ns) }) {
			target.Nameservers = append(target.Nameservers, ns)
		}
	}
	for _, s := range c.Search {
		if !slices.ContainsFunc(all, func(f namedL3) bool { return slices.Contains(f.l3.Search, s) }) {
			target.Search = append(target.Search, s)
		}
	}
}

// lint warns about what the kernel or a renderer accepts but what hardly
// does what the source meant.
func (c *Config) lint(warn func(string, ...any)) {
	bondOf := map[string]string{}
	for _, b := range c.Bonds {
		for _, m := range b.Members {
			bondOf[m] = b.Name
		}
	}
	mtu := map[string]int{}
	for _, e := range c.Ethernets {
		mtu[e.ID] = e.MTU
		if b, ok := bondOf[e.ID]; ok && (len(e.Addresses) > 0 || e.DHCP4 || e.DHCP6) {
			warn("%s: addresses or DHCP on a member of bond %s: a bond member carries no IP configuration of its own", e.ID, b)
		}
	}
	for _, b := range c.Bonds {
		mtu[b.Name] = b.MTU
	}
	for _, v := range c.VLANs {
		if b, ok := bondOf[v.Link]; ok {
			warn("%s: VLAN on %s, a member of bond %s: put the VLAN on the bond", v.Name, v.Link, b)
		}
		parent := mtu[v.Link]
		if parent == 0 {
			parent = 1500
		}
		if v.MTU > parent {
			warn("%s: mtu %d is larger than the mtu %d of its link %s; the kernel will refuse it", v.Name, v.MTU, parent, v.Link)
		}
	}
}

// MachineDNS is the machine-wide resolver configuration (resolv.conf): every
// interface's nameservers and search domains in interface order (ethernets,
// bonds, VLANs), then the global ones no interface carries, each once. After
// Normalise it is exactly the union of what the v2 rendering puts on the
// interfaces, in that order, so seed and apply agree.
func (c *Config) MachineDNS() (servers []netip.Addr, search []string) {
	if c == nil {
		return nil, nil
	}
	add := func(ns []netip.Addr, s []string) {
		for _, a := range ns {
			if !slices.Contains(servers, a) {
				servers = append(servers, a)
			}
		}
		for _, d := range s {
			if !slices.Contains(search, d) {
				search = append(search, d)
			}
		}
	}
	for _, f := range c.named() {
		add(f.l3.Nameservers, f.l3.Search)
	}
	add(c.Nameservers, c.Search)
	return servers, search
}

// Clone returns a deep copy of c.
func (c *Config) Clone() *Config {
	if c == nil {
		return nil
	}
	out := &Config{
		Nameservers: slices.Clone(c.Nameservers),
		Search:      slices.Clone(c.Search),
	}
	for _, e := range c.Ethernets {
		e.MAC = slices.Clone(e.MAC)
		e.L3 = e.L3.clone()
		out.Ethernets = append(out.Ethernets, e)
	}
	for _, b := range c.Bonds {
		b.MAC = slices.Clone(b.MAC)
		b.Members = slices.Clone(b.Members)
		b.L3 = b.L3.clone()
		out.Bonds = append(out.Bonds, b)
	}
	for _, v := range c.VLANs {
		v.MAC = slices.Clone(v.MAC)
		v.L3 = v.L3.clone()
		out.VLANs = append(out.VLANs, v)
	}
	return out
}

func (l L3) clone() L3 {
	l.Addresses = slices.Clone(l.Addresses)
	l.Routes = slices.Clone(l.Routes)
	l.Nameservers = slices.Clone(l.Nameservers)
	l.Search = slices.Clone(l.Search)
	if l.AcceptRA != nil {
		ra := *l.AcceptRA
		l.AcceptRA = &ra
	}
	return l
}
