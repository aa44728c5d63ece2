package apply

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"

	"guestbridge/netconf"
)

// iface is one configured interface of any kind, for checks that apply to all.
type iface struct {
	name string
	l3   *netconf.L3
}

func ifaces(cfg *netconf.Config) []iface {
	var out []iface
	for i := range cfg.Ethernets {
		out = append(out, iface{cfg.Ethernets[i].ID, &cfg.Ethernets[i].L3})
	}
	for i := range cfg.Bonds {
		out = append(out, iface{cfg.Bonds[i].Name, &cfg.Bonds[i].L3})
	}
	for i := range cfg.VLANs {
		out = append(out, iface{cfg.VLANs[i].Name, &cfg.VLANs[i].L3})
	}
	return out
}

// validate rejects what can be detected before touching the kernel, naming
// the interface and field: first the model's own invariants
// (netconf.Config.Validate), then what only matters when applying: MACs to
// match by, bond option names netlink knows, addresses used twice, and
// routes the kernel would refuse or that could never work.
func validate(cfg *netconf.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	for _, e := range cfg.Ethernets {
		if len(e.MAC) == 0 {
			bad("%s: mac: missing (ethernets are matched by MAC)", e.ID)
		}
	}
	for _, b := range cfg.Bonds {
		p := b.Params
		if p.TransmitHashPolicy != "" && netlink.StringToBondXmitHashPolicy(p.TransmitHashPolicy) == netlink.BOND_XMIT_HASH_POLICY_UNKNOWN {
			bad("%s: transmit_hash_policy %q: unknown", b.Name, p.TransmitHashPolicy)
		}
		if p.LACPRate != "" && netlink.StringToBondLacpRate(p.LACPRate) == netlink.BOND_LACP_RATE_UNKNOWN {
			bad("%s: lacp_rate %q: unknown", b.Name, p.LACPRate)
		}
		if _, ok := adSelect[p.ADSelect]; p.ADSelect != "" && !ok {
			bad("%s: ad_select %q: unknown", b.Name, p.ADSelect)
		}
	}
	owner := map[netip.Addr]string{}
	for _, f := range ifaces(cfg) {
		for _, p := range f.l3.Addresses {
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

// checkRoute rejects routes (already well-formed per netconf.Validate) the
// kernel would refuse or that could never work: host bits set, or a gateway outside every subnet of the
// interface without on-link (unless DHCP may bring the subnet, or it is an
// IPv6 link-local gateway).
func checkRoute(name string, l3 *netconf.L3, r netconf.Route) error {
	desc := routeDesc(r)
	if r.To != r.To.Masked() {
		return fmt.Errorf("%s: route %s: host bits set in destination (want %s)", name, desc, r.To.Masked())
	}
	if !r.Via.IsValid() {
		return nil
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
