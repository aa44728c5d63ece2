package apply

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"guestbridge/netconf"
)

// RouteProtocol is the rtm_protocol number marking routes Apply added
// ("proto 198" in `ip route`; unassigned in the kernel's rtnetlink.h and
// iproute2's rt_protos). Only routes carrying it are ever removed as stale.
const RouteProtocol netlink.RouteProtocol = 198

const mainTable = unix.RT_TABLE_MAIN

// ipv6DefaultMetric is what the kernel stores for an IPv6 route added with
// metric 0, so a configured 0 must compare equal to it.
const ipv6DefaultMetric = 1024

// wantedRoute is a configured route bound to its link.
type wantedRoute struct {
	ifname    string
	linkIndex int
	route     netconf.Route
	// dynamic: DHCP or RA of the gateway's family runs on the interface,
	// so its subnet may simply not have arrived yet.
	dynamic bool
}

// routeKey identifies a route for comparison: destination (a nil Dst is
// the default route of its family), gateway, link and metric.
type routeKey struct {
	dst       netip.Prefix
	gw        netip.Addr
	linkIndex int
	metric    int
}

func keyOfWanted(w wantedRoute) routeKey {
	m := int(w.route.Metric)
	if m == 0 && w.route.To.Addr().Is6() {
		m = ipv6DefaultMetric
	}
	return routeKey{w.route.To, w.route.Via, w.linkIndex, m}
}

func keyOfKernel(rt netlink.Route) (routeKey, bool) {
	var dst netip.Prefix
	if rt.Dst == nil {
		switch rt.Family {
		case unix.AF_INET6:
			dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		default:
			dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	} else {
		p, ok := toPrefix(rt.Dst)
		if !ok {
			return routeKey{}, false
		}
		dst = p
	}
	var gw netip.Addr
	if rt.Gw != nil {
		a, ok := netip.AddrFromSlice(rt.Gw)
		if !ok {
			return routeKey{}, false
		}
		gw = a.Unmap()
	}
	return routeKey{dst, gw, rt.LinkIndex, rt.Priority}, true
}

func kernelRoute(w wantedRoute) *netlink.Route {
	rt := &netlink.Route{
		LinkIndex: w.linkIndex,
		Dst:       toIPNet(w.route.To),
		Priority:  int(w.route.Metric),
		Protocol:  RouteProtocol,
		Table:     mainTable,
	}
	if w.route.Via.IsValid() {
		rt.Gw = w.route.Via.AsSlice()
	}
	if w.route.OnLink {
		rt.Flags = int(netlink.FLAG_ONLINK)
	}
	return rt
}

// ensureRoutes removes our stale routes (RouteProtocol, no longer wanted)
// first, so a changed gateway never collides with the old route, then adds
// the wanted routes the kernel lacks. A wanted route already present with
// another protocol (e.g. the kernel's prefix route) counts as present.
func (r *run) ensureRoutes(wanted []wantedRoute, names map[int]string) error {
	existing, err := r.ops.RouteList()
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	want := map[routeKey]bool{}
	for _, w := range wanted {
		want[keyOfWanted(w)] = true
	}
	have := map[routeKey]bool{}
	for _, rt := range existing {
		k, ok := keyOfKernel(rt)
		if !ok {
			continue
		}
		if rt.Protocol == RouteProtocol && !want[k] {
			rt := rt
			if err := r.do(Change{"del", names[rt.LinkIndex], "route " + describeKey(k)},
				func() error { return r.ops.RouteDel(&rt) },
				func() error { return r.ops.RouteAdd(&rt) }); err != nil {
				return err
			}
			continue
		}
		have[k] = true
	}
	for _, w := range wanted {
		if have[keyOfWanted(w)] {
			continue
		}
		rt := kernelRoute(w)
		err := r.do(Change{"add", w.ifname, "route " + routeDesc(w.route)},
			func() error { return r.ops.RouteAdd(rt) },
			func() error { return r.ops.RouteDel(rt) })
		if err != nil && w.dynamic && !w.route.OnLink && w.route.Via.IsValid() && unreachable(err) {
			// The gateway's prefix comes by RA or DHCP and is not there
			// yet (a SLAAC network's default route before the first RA):
			// install the route on-link, as the kernel would once the
			// prefix arrives, instead of failing the boot.
			r.report.Changes = r.report.Changes[:len(r.report.Changes)-1]
			r.warn("%s: route %s: gateway not reachable yet (its prefix comes by RA/DHCP), installed on-link", w.ifname, routeDesc(w.route))
			w.route.OnLink = true
			rt = kernelRoute(w)
			err = r.do(Change{"add", w.ifname, "route " + routeDesc(w.route)},
				func() error { return r.ops.RouteAdd(rt) },
				func() error { return r.ops.RouteDel(rt) })
		}
		if err != nil {
			if err := r.failed(err); err != nil {
				return err
			}
			continue
		}
		have[keyOfWanted(w)] = true
	}
	return nil
}

// unreachable: the kernel refused a gateway it has no route to.
func unreachable(err error) bool {
	return errors.Is(err, unix.ENETUNREACH) || errors.Is(err, unix.EHOSTUNREACH)
}

func describeKey(k routeKey) string {
	return routeDesc(netconf.Route{To: k.dst, Via: k.gw, Metric: uint32(k.metric)})
}
