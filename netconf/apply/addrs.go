package apply

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func toIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func toPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

// ensureAddresses adds the wanted addresses missing from t's link and
// removes those an earlier run recorded as ours that are no longer wanted.
// Addresses added by anyone else are never touched. It returns the new
// record of ours for t.
func (r *run) ensureAddresses(t *target, wanted, ours []netip.Prefix) ([]netip.Prefix, error) {
	have := map[netip.Prefix]netlink.Addr{}
	if t.link != nil {
		addrs, err := r.ops.AddrList(t.link)
		if err != nil {
			return nil, fmt.Errorf("%s: list addresses: %w", t.name, err)
		}
		for _, a := range addrs {
			if p, ok := toPrefix(a.IPNet); ok {
				have[p] = a
			}
		}
	}
	var record []netip.Prefix
	for _, p := range ours {
		a, present := have[p]
		if slices.Contains(wanted, p) {
			record = append(record, p)
			continue
		}
		if !present {
			continue
		}
		if isPrimaryWithSecondaries(a, have) {
			// Without promote_secondaries the kernel deletes every
			// secondary address of the subnet with its primary, including
			// addresses that are not ours.
			if err := r.setIfSysctl(t, "ipv4", "promote_secondaries", "1"); err != nil {
				return nil, err
			}
		}
		if err := r.do(Change{"del", t.name, "address " + p.String()},
			func() error { return r.ops.AddrDel(t.link, &a) },
			func() error { return r.ops.AddrAdd(t.link, &a) }); err != nil {
			return nil, err
		}
	}
	for _, p := range wanted {
		if _, present := have[p]; present {
			continue
		}
		a := &netlink.Addr{IPNet: toIPNet(p)}
		if err := r.do(Change{"add", t.name, "address " + p.String()},
			func() error { return r.ops.AddrAdd(t.link, a) },
			func() error { return r.ops.AddrDel(t.link, a) }); err != nil {
			return nil, err
		}
		if !slices.Contains(record, p) {
			record = append(record, p)
		}
	}
	return record, nil
}

// isPrimaryWithSecondaries reports whether a is a primary IPv4 address with
// other addresses of its subnet on the same link.
func isPrimaryWithSecondaries(a netlink.Addr, have map[netip.Prefix]netlink.Addr) bool {
	p, ok := toPrefix(a.IPNet)
	if !ok || !p.Addr().Is4() || a.Flags&unix.IFA_F_SECONDARY != 0 {
		return false
	}
	for q := range have {
		if q != p && q.Addr().Is4() && p.Masked().Contains(q.Addr()) {
			return true
		}
	}
	return false
}
