package apply

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"

	"guestbridge/netconf"
)

// iface is one configured interface of any kind, for checks that apply to all.
type iface struct {
	kind string // ethernet, bond, vlan
	name string
	l3   *netconf.L3
}

func ifaces(cfg *netconf.Config) []iface {
	var out []iface
	for i := range cfg.Ethernets {
		out = append(out, iface{"ethernet", cfg.Ethernets[i].ID, &cfg.Ethernets[i].L3})
	}
	for i := range cfg.Bonds {
		out = append(out, iface{"bond", cfg.Bonds[i].Name, &cfg.Bonds[i].L3})
	}
	for i := range cfg.VLANs {
		out = append(out, iface{"vlan", cfg.VLANs[i].Name, &cfg.VLANs[i].L3})
	}
	return out
}

// validate rejects what can be detected before touching the kernel, naming
// the interface and field. All problems are reported together.
func validate(cfg *netconf.Config) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	kinds := map[string]string{}
	for _, f := range ifaces(cfg) {
		switch {
		case f.name == "":
			bad("%s with empty name", f.kind)
		case kinds[f.name] != "":
			bad("%s: name used by a %s and a %s", f.name, kinds[f.name], f.kind)
		case len(f.name) > 15:
			bad("%s: name longer than 15 bytes", f.name)
		}
		kinds[f.name] = f.kind
	}
	macs := map[string]string{}
	for _, e := range cfg.Ethernets {
		if len(e.MAC) == 0 {
			bad("%s: mac: missing (ethernets are matched by MAC)", e.ID)
			continue
		}
		if prev, ok := macs[e.MAC.String()]; ok {
			bad("%s: mac %s: also used by %s", e.ID, e.MAC, prev)
		}
		macs[e.MAC.String()] = e.ID
	}
	for _, b := range cfg.Bonds {
		validateBond(b, kinds, bad)
	}
	for _, v := range cfg.VLANs {
		if v.ID < 1 || v.ID > 4094 {
			bad("%s: id %d: outside 1..4094", v.Name, v.ID)
		}
		if k := kinds[v.Link]; k != "ethernet" && k != "bond" {
			bad("%s: link %q: no such ethernet or bond", v.Name, v.Link)
		}
	}
	owner := map[netip.Addr]string{}
	for _, f := range ifaces(cfg) {
		if f.l3.MTU < 0 {
			bad("%s: mtu %d: negative", f.name, f.l3.MTU)
		}
		for _, p := range f.l3.Addresses {
			if !p.IsValid() {
				bad("%s: addresses: invalid prefix", f.name)
				continue
			}
			if prev, ok := owner[p.Addr()]; ok {
				bad("%s: address %s: duplicate (also on %s)", f.name, p, prev)
			}
			owner[p.Addr()] = f.name
		}
		for _, r := range f.l3.Routes {
			if err := checkRoute(f.name, f.l3, r); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func validateBond(b netconf.Bond, kinds map[string]string, bad func(string, ...any)) {
	if len(b.Members) == 0 {
		bad("%s: members: empty", b.Name)
	}
	for _, m := range b.Members {
		if kinds[m] != "ethernet" {
			bad("%s: member %q: no such ethernet", b.Name, m)
		}
	}
	p := b.Params
	if p.Mode != "" && netlink.StringToBondMode(p.Mode) == netlink.BOND_MODE_UNKNOWN {
		bad("%s: mode %q: unknown", b.Name, p.Mode)
	}
	if p.TransmitHashPolicy != "" && netlink.StringToBondXmitHashPolicy(p.TransmitHashPolicy) == netlink.BOND_XMIT_HASH_POLICY_UNKNOWN {
		bad("%s: transmit_hash_policy %q: unknown", b.Name, p.TransmitHashPolicy)
	}
	if p.LACPRate != "" && netlink.StringToBondLacpRate(p.LACPRate) == netlink.BOND_LACP_RATE_UNKNOWN {
		bad("%s: lacp_rate %q: unknown", b.Name, p.LACPRate)
	}
	if _, ok := adSelect[p.ADSelect]; p.ADSelect != "" && !ok {
		bad("%s: ad_select %q: unknown", b.Name, p.ADSelect)
	}
	if p.Primary != "" && !slices.Contains(b.Members, p.Primary) {
		bad("%s: primary %q: not a member", b.Name, p.Primary)
	}
	if p.MIIMonitorInterval < 0 || p.UpDelay < 0 || p.DownDelay < 0 || p.MinLinks < 0 {
		bad("%s: negative bond timing or min_links", b.Name)
	}
}

// checkRoute rejects routes the kernel would refuse or that could never work:
// host bits set, mixed families, or a gateway outside every subnet of the
// interface without on-link (unless DHCP may bring the subnet, or it is an
// IPv6 link-local gateway).
func checkRoute(name string, l3 *netconf.L3, r netconf.Route) error {
	if !r.To.IsValid() {
		return fmt.Errorf("%s: route: invalid destination", name)
	}
	desc := routeDesc(r)
	if r.To != r.To.Masked() {
		return fmt.Errorf("%s: route %s: host bits set in destination (want %s)", name, desc, r.To.Masked())
	}
	if !r.Via.IsValid() {
		return nil
	}
	if r.Via.Is4() != r.To.Addr().Is4() {
		return fmt.Errorf("%s: route %s: gateway and destination are different address families", name, desc)
	}
	if r.OnLink || r.Via.IsLinkLocalUnicast() {
		return nil
	}
	if (r.Via.Is4() && l3.DHCP4) || (r.Via.Is6() && (l3.DHCP6 || (l3.AcceptRA != nil && *l3.AcceptRA))) {
		return nil
	}
	for _, p := range l3.Addresses {
		if p.Masked().Contains(r.Via) {
			if p.Addr() == r.Via {
				return fmt.Errorf("%s: route %s: gateway is this interface's own address", name, desc)
			}
			return nil
		}
	}
	return fmt.Errorf("%s: route %s: impossible: gateway %s is in no subnet of %s (set on_link if it is directly reachable)", name, desc, r.Via, name)
}

func routeDesc(r netconf.Route) string {
	var b strings.Builder
	b.WriteString(r.To.String())
	if r.Via.IsValid() {
		b.WriteString(" via " + r.Via.String())
	}
	if r.Metric != 0 {
		fmt.Fprintf(&b, " metric %d", r.Metric)
	}
	if r.OnLink {
		b.WriteString(" onlink")
	}
	return b.String()
}
