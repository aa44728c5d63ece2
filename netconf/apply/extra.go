package apply

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"guestbridge/internal/nl"
	"guestbridge/netconf"
)

// ExtraRoute is a route for an interface another tool configured (in seed
// mode: one cloud-init's renderer drops): found by MAC when it has one,
// else by name.
type ExtraRoute struct {
	Interface string
	MAC       net.HardwareAddr
	Route     netconf.Route
}

// ExtraRouteStatus is what AddExtraRoutes did with one route.
type ExtraRouteStatus int

const (
	RouteAdded   ExtraRouteStatus = iota // added now
	RoutePresent                         // already there (ours or anyone's)
	RouteWaiting                         // its interface is not up with an address of the route's family yet
)

// AddExtraRoutes adds each route the kernel lacks, marked RouteProtocol,
// once its interface is up and has a usable (non-tentative) address of the
// route's family; it never removes anything. It reports each route's
// status, and the errors of routes whose add failed.
func AddExtraRoutes(h *netlink.Handle, routes []ExtraRoute) ([]ExtraRouteStatus, error) {
	if h == nil {
		h = &netlink.Handle{}
	}
	links, err := nl.LinkList(h)
	if err != nil {
		return nil, err
	}
	existing, err := newHandleOps(h, sysctl{}).RouteList()
	if err != nil {
		return nil, err
	}
	have := map[routeKey]bool{}
	for _, rt := range existing {
		if k, ok := keyOfKernel(rt); ok {
			have[k] = true
		}
	}
	out := make([]ExtraRouteStatus, len(routes))
	var errs []error
	for i, er := range routes {
		link := extraLink(links, er)
		if link == nil || !isUp(link) || !hasUsableAddr(h, link, er.Route.To.Addr().Is6()) {
			out[i] = RouteWaiting
			continue
		}
		w := wantedRoute{ifname: link.Attrs().Name, linkIndex: link.Attrs().Index, route: er.Route}
		if have[keyOfWanted(w)] {
			out[i] = RoutePresent
			continue
		}
		if err := h.RouteAdd(kernelRoute(w)); err != nil {
			errs = append(errs, fmt.Errorf("%s: add route %s: %w", w.ifname, routeDesc(er.Route), err))
			out[i] = RouteWaiting
			continue
		}
		out[i] = RouteAdded
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%v", errs)
	}
	return out, nil
}

func extraLink(links []netlink.Link, er ExtraRoute) netlink.Link {
	if len(er.MAC) > 0 {
		if found, _ := linksWithMAC(links, er.MAC); len(found) == 1 {
			return found[0]
		}
		// Enslaved or renamed: fall back to the name the config gives.
	}
	l, _ := existing(links, er.Interface, "")
	return l
}

func hasUsableAddr(h *netlink.Handle, link netlink.Link, v6 bool) bool {
	fam := netlink.FAMILY_V4
	if v6 {
		fam = netlink.FAMILY_V6
	}
	addrs, err := nl.AddrList(h, link, fam)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || ip.IsLinkLocalUnicast() || a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) != 0 {
			continue
		}
		return true
	}
	return false
}

// SetMTUs sets the MTU of each named interface that exists and differs,
// returning one line per change ("bond0: set mtu 9000").
func SetMTUs(h *netlink.Handle, mtus map[string]int) []string {
	if h == nil {
		h = &netlink.Handle{}
	}
	var out []string
	for name, mtu := range mtus {
		l, err := nl.LinkByName(h, name)
		if err != nil || l.Attrs().MTU == mtu {
			continue
		}
		if err := h.LinkSetMTU(l, mtu); err == nil {
			out = append(out, fmt.Sprintf("%s: set mtu %d", name, mtu))
		}
	}
	return out
}
