package netconf

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// BondModes are the bonding modes netplan accepts, by their netplan names.
var BondModes = []string{"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"}

// Validate checks the invariants every renderer relies on: interface names
// are valid and unique across ethernets, bonds and VLANs, MACs of ethernets
// are unique, bond members and VLAN links resolve, and addresses, routes and
// nameservers are well-formed. All problems are reported, joined.
func (c *Config) Validate() error {
	v := validator{kinds: map[string]string{}, macs: map[string]string{}, bondOf: map[string]string{}}
	for i := range c.Ethernets {
		e := &c.Ethernets[i]
		where := fmt.Sprintf("ethernets[%d] %q", i, e.ID)
		v.name(where, e.ID, "ethernet")
		if len(e.MAC) > 0 {
			if len(e.MAC) != 6 {
				v.fail(where, "mac %s is not a 6-byte Ethernet address", e.MAC)
			} else if other, dup := v.macs[e.MAC.String()]; dup {
				v.fail(where, "mac %s already used by %q", e.MAC, other)
			} else {
				v.macs[e.MAC.String()] = e.ID
			}
		}
		v.l3(where, &e.L3)
	}
	for i := range c.Bonds {
		b := &c.Bonds[i]
		v.name(fmt.Sprintf("bonds[%d] %q", i, b.Name), b.Name, "bond")
	}
	for i := range c.VLANs {
		l := &c.VLANs[i]
		v.name(fmt.Sprintf("vlans[%d] %q", i, l.Name), l.Name, "vlan")
	}
	for i := range c.Bonds {
		b := &c.Bonds[i]
		v.bond(fmt.Sprintf("bonds[%d] %q", i, b.Name), b)
	}
	for i := range c.VLANs {
		l := &c.VLANs[i]
		where := fmt.Sprintf("vlans[%d] %q", i, l.Name)
		if l.ID < 0 || l.ID > 4094 {
			v.fail(where, "id %d outside 0..4094", l.ID)
		}
		if k := v.kinds[l.Link]; k != "ethernet" && k != "bond" {
			v.fail(where, "link %q is not an ethernet or bond", l.Link)
		}
		v.mac(where, l.MAC)
		v.l3(where, &l.L3)
	}
	for i, ns := range c.Nameservers {
		if !ns.IsValid() {
			v.fail("nameservers", "[%d] is not an IP address", i)
		}
	}
	return errors.Join(v.errs...)
}

type validator struct {
	kinds  map[string]string // interface name → "ethernet", "bond", "vlan"
	macs   map[string]string // ethernet MAC → ID
	bondOf map[string]string // member → bond
	errs   []error
}

func (v *validator) fail(where, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

func (v *validator) name(where, name, kind string) {
	if err := CheckInterfaceName(name); err != nil {
		v.fail(where, "%v", err)
		return
	}
	if other, dup := v.kinds[name]; dup {
		v.fail(where, "name %q already used by a %s", name, other)
		return
	}
	v.kinds[name] = kind
}

func (v *validator) mac(where string, mac []byte) {
	if len(mac) != 0 && len(mac) != 6 {
		v.fail(where, "mac is not a 6-byte Ethernet address")
	}
}

func (v *validator) bond(where string, b *Bond) {
	v.mac(where, b.MAC)
	if b.Params.Mode != "" && !slices.Contains(BondModes, b.Params.Mode) {
		v.fail(where, "unknown bond mode %q (want one of %s)", b.Params.Mode, strings.Join(BondModes, ", "))
	}
	for j, m := range b.Members {
		if v.kinds[m] != "ethernet" {
			v.fail(where, "members[%d] %q is not an ethernet", j, m)
			continue
		}
		if other, dup := v.bondOf[m]; dup {
			v.fail(where, "members[%d] %q is already a member of %q", j, m, other)
			continue
		}
		v.bondOf[m] = b.Name
	}
	if p := b.Params.Primary; p != "" && !slices.Contains(b.Members, p) {
		v.fail(where, "primary %q is not a member", p)
	}
	for _, n := range []struct {
		key string
		val int
	}{{"mii-monitor-interval", b.Params.MIIMonitorInterval}, {"up-delay", b.Params.UpDelay}, {"down-delay", b.Params.DownDelay}, {"min-links", b.Params.MinLinks}} {
		if n.val < 0 {
			v.fail(where, "%s %d is negative", n.key, n.val)
		}
	}
	v.l3(where, &b.L3)
}

func (v *validator) l3(where string, l *L3) {
	if l.MTU < 0 || l.MTU > 65535 {
		v.fail(where, "mtu %d outside 0..65535", l.MTU)
	}
	for i, a := range l.Addresses {
		if !a.IsValid() || a.Addr().Zone() != "" {
			v.fail(where, "addresses[%d] is not a valid address/prefix", i)
		}
	}
	for i, r := range l.Routes {
		if !r.To.IsValid() || r.To.Addr().Zone() != "" {
			v.fail(where, "routes[%d].to is not a valid prefix", i)
			continue
		}
		if r.Via.IsValid() && r.Via.Is4() != r.To.Addr().Is4() {
			v.fail(where, "routes[%d]: via %s is not of the family of %s", i, r.Via, r.To)
		}
	}
	for i, ns := range l.Nameservers {
		if !ns.IsValid() {
			v.fail(where, "nameservers[%d] is not an IP address", i)
		}
	}
	for i, s := range l.Search {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			v.fail(where, "search[%d] %q is not a domain", i, s)
		}
	}
}

// CheckInterfaceName reports why name cannot be a Linux interface name
// (1..15 bytes, printable ASCII, no '/', ':' or blanks, not "." or "..").
func CheckInterfaceName(name string) error {
	if name == "" || len(name) > 15 {
		return fmt.Errorf("interface name %q must be 1 to 15 bytes", name)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("interface name %q is reserved", name)
	}
	for _, r := range name {
		if r <= ' ' || r > '~' || r == '/' || r == ':' {
			return fmt.Errorf("interface name %q contains %q", name, r)
		}
	}
	return nil
}

// DefaultPrefix is the default route prefix of addr's family.
func DefaultPrefix(addr netip.Addr) netip.Prefix {
	if addr.Is4() {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
}
