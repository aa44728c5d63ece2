package apply

import (
	"context"

	"guestbridge/netconf"
	"guestbridge/netconf/dhcp"
)

// DefaultDHCP requests leases with package dhcp in o's namespace (what
// Apply uses when Options.DHCP is nil).
func DefaultDHCP(o Options) DHCPFunc {
	do := dhcp.Options{NetNS: o.NetNS, Handle: o.Handle, Logf: o.Logf}
	return func(ctx context.Context, ifname string, v6 bool) (netconf.L3, error) {
		if v6 {
			l, err := dhcp.Request6(ctx, ifname, do)
			if err != nil {
				return netconf.L3{}, err
			}
			return l.Config(), nil
		}
		l, err := dhcp.Request4(ctx, ifname, do)
		if err != nil {
			return netconf.L3{}, err
		}
		return l.Config(), nil
	}
}
