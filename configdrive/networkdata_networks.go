package configdrive

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"guestbridge/netconf"
)

// networkKind is what a network_data.json network type asks of its link.
type networkKind struct {
	static   bool // ip_address/netmask give an address
	v4       bool // address family of a static address
	dhcp4    bool
	dhcp6    bool
	acceptRA *bool // nil: leave alone
}

var (
	raOn  = true
	raOff = false
)

// networkKinds: `static`/`static6` are the v1 spellings some producers use.
// ipv6_slaac is RA only (cloud-init wrongly asks for DHCPv6 too); a
// stateless DHCPv6 network needs RA for its address and DHCPv6 for DNS.
var networkKinds = map[string]networkKind{
	"ipv4":                  {static: true, v4: true},
	"static":                {static: true, v4: true},
	"ipv6":                  {static: true, acceptRA: &raOff},
	"static6":               {static: true, acceptRA: &raOff},
	"ipv4_dhcp":             {dhcp4: true},
	"ipv6_dhcp":             {dhcp6: true, acceptRA: &raOn},
	"ipv6_dhcpv6-stateful":  {dhcp6: true, acceptRA: &raOn},
	"ipv6_dhcpv6-stateless": {dhcp6: true, acceptRA: &raOn},
	"ipv6_slaac":            {acceptRA: &raOn},
}

// addNetworks puts every network onto the interface of its link, in file
// order. Unlike cloud-init 22.4.2, routes and DNS servers of DHCP/SLAAC
// networks and DNS given per network or per route are kept.
func (b *networkBuilder) addNetworks(top jsonObject) error {
	networks, err := top.objList("networks")
	if err != nil {
		return err
	}
	for _, o := range networks {
		linkID, err := o.str("link")
		if err != nil {
			return err
		}
		ref, ok := b.links[linkID]
		if !ok {
			return errAt(o.at("link"), "no link with id %q", linkID)
		}
		typ, err := o.str("type")
		if err != nil {
			return err
		}
		kind, known := networkKinds[typ]
		if !known {
			b.warnf("%s %q: unknown network type, network skipped", o.at("type"), typ)
			continue
		}
		if err := b.addNetwork(o, kind, b.l3(ref)); err != nil {
			return err
		}
	}
	return nil
}

func (b *networkBuilder) addNetwork(o jsonObject, kind networkKind, l3 *netconf.L3) error {
	l3.DHCP4 = l3.DHCP4 || kind.dhcp4
	l3.DHCP6 = l3.DHCP6 || kind.dhcp6
	// When static and dynamic IPv6 share a link, RA must stay on.
	if kind.acceptRA != nil && (l3.AcceptRA == nil || !*l3.AcceptRA) {
		ra := *kind.acceptRA
		l3.AcceptRA = &ra
	}
	// Address and route errors are both reported: either may be the one
	// the producer got wrong.
	var errs []error
	if kind.static {
		prefix, err := staticAddress(b, o, kind.v4)
		if err != nil {
			errs = append(errs, err)
		} else if !slices.Contains(l3.Addresses, prefix) {
			l3.Addresses = append(l3.Addresses, prefix)
		}
	}
	dns, err := networkDNS(b, o)
	if err != nil {
		errs = append(errs, err)
	}
	routes, err := o.objList("routes")
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range routes {
		route, routeDNS, err := parseRoute(b, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l3.Routes = append(l3.Routes, route)
		dns = append(dns, routeDNS...)
	}
	if gw, err := networkGateway(o); err != nil {
		errs = append(errs, err)
	} else if gw != nil && !slices.Contains(l3.Routes, *gw) {
		l3.Routes = append(l3.Routes, *gw)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, a := range dns {
		if !slices.Contains(l3.Nameservers, a) {
			l3.Nameservers = append(l3.Nameservers, a)
		}
	}
	search, err := o.strList("dns_search")
	if err != nil {
		return err
	}
	for _, s := range search {
		if s != "" && !slices.Contains(l3.Search, s) {
			l3.Search = append(l3.Search, s)
		}
	}
	return nil
}

// staticAddress reads ip_address (plain or CIDR) and netmask. Without a
// usable netmask an IPv6 address gets /64 and an IPv4 one /24 (with a
// warning), both as cloud-init 22.4.2 does.
func staticAddress(b *networkBuilder, o jsonObject, v4 bool) (netip.Prefix, error) {
	text, err := o.str("ip_address")
	if err != nil {
		return netip.Prefix{}, err
	}
	if text == "" {
		return netip.Prefix{}, errAt(o.at("ip_address"), "missing for a static %s network", family(v4))
	}
	addr, length, ok, err := parseCIDROrAddr(o.at("ip_address"), text, v4)
	if err != nil {
		return netip.Prefix{}, err
	}
	if !ok {
		mask, err := o.str("netmask")
		if err != nil {
			return netip.Prefix{}, err
		}
		if length, ok, err = maskBits(o.at("netmask"), mask, v4); err != nil {
			return netip.Prefix{}, err
		}
		switch {
		case ok:
		case v4:
			b.warnf("%s: missing for IPv4 address %s, /24 assumed (as cloud-init)", o.at("netmask"), addr)
			length = 24
		default:
			length = 64
		}
	}
	return netip.PrefixFrom(addr, length), nil
}

// parseRoute reads {network, netmask, gateway[, metric][, services]}. The
// family follows the network address; `network` may carry "/len".
func parseRoute(b *networkBuilder, r jsonObject) (netconf.Route, []netip.Addr, error) {
	var route netconf.Route
	netText, err := r.str("network")
	if err != nil {
		return route, nil, err
	}
	if netText == "" {
		return route, nil, errAt(r.at("network"), "missing")
	}
	probe, _, _, _ := parseCIDROrAddr(r.at("network"), netText, true)
	v4 := probe.IsValid()
	addr, length, ok, err := parseCIDROrAddr(r.at("network"), netText, v4)
	if err != nil {
		return route, nil, err
	}
	if !ok {
		mask, err := r.str("netmask")
		if err != nil {
			return route, nil, err
		}
		if length, ok, err = maskBits(r.at("netmask"), mask, v4); err != nil {
			return route, nil, err
		}
		if !ok {
			return route, nil, errAt(r.at("netmask"), "missing for route to %s", addr)
		}
	}
	route.To = netip.PrefixFrom(addr, length)
	gw, err := r.str("gateway")
	if err != nil {
		return route, nil, err
	}
	if gw != "" {
		if route.Via, err = parseIP(r.at("gateway"), gw, v4); err != nil {
			return route, nil, err
		}
		if route.Via.IsUnspecified() {
			route.Via = netip.Addr{} // "0.0.0.0" / "::" means on-link
		}
	}
	metric, ok, err := r.integer("metric")
	if err != nil {
		return route, nil, err
	}
	if ok {
		if metric < 0 {
			return route, nil, errAt(r.at("metric"), "%d is negative", metric)
		}
		route.Metric = uint32(metric)
	}
	dns, err := serviceDNS(b, r)
	return route, dns, err
}

// networkGateway turns a network-level "gateway" (the v1 subnet key some
// producers write) into a default route. It is marked on-link, as newer
// cloud-init does, because such a gateway need not be inside the subnet.
func networkGateway(o jsonObject) (*netconf.Route, error) {
	text, err := o.str("gateway")
	if err != nil || text == "" {
		return nil, err
	}
	gw, err := netip.ParseAddr(text)
	if err != nil || gw.Zone() != "" {
		return nil, errAt(o.at("gateway"), "%q is not an IP address", text)
	}
	gw = gw.Unmap()
	return &netconf.Route{To: netconf.DefaultPrefix(gw), Via: gw, OnLink: true}, nil
}

// networkDNS collects a network's own DNS servers: dns_nameservers, then
// services entries of type dns.
func networkDNS(b *networkBuilder, o jsonObject) ([]netip.Addr, error) {
	servers, err := o.strList("dns_nameservers")
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for i, s := range servers {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, errAt(fmt.Sprintf("%s[%d]", o.at("dns_nameservers"), i), "%q is not an IP address", s)
		}
		out = append(out, a.Unmap())
	}
	more, err := serviceDNS(b, o)
	return append(out, more...), err
}

func serviceDNS(b *networkBuilder, o jsonObject) ([]netip.Addr, error) {
	services, err := o.objList("services")
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, s := range services {
		a, ok, err := b.dnsService(s)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}
