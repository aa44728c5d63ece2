package vmdata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"guestbridge/netconf"
)

// vif is the decoded JSON object. Values are kept as `any` (decoded with
// UseNumber) because the writers disagree on types: netmask is a string or
// a number, enabled is "1" or 1, gateways are strings or null.
type vif map[string]any

// parseNIC translates one networking value into an Ethernet whose ID is
// left for the caller (assigned once all NICs are sorted). It returns false
// (with a warning) only when the entry as a whole is unusable; a bad field
// or list entry is skipped with its own warning.
func parseNIC(key, keyName string, raw []byte, w *warnings) (netconf.Ethernet, bool) {
	if len(raw) > MaxValueSize {
		w.add(key, "value of %d bytes is larger than XenStore allows, ignored", len(raw))
		return netconf.Ethernet{}, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v vif
	if err := dec.Decode(&v); err != nil || v == nil {
		w.add(key, "not a JSON object, ignored")
		return netconf.Ethernet{}, false
	}
	if dec.More() {
		w.add(key, "trailing data after the JSON object, ignored")
		return netconf.Ethernet{}, false
	}
	mac, ok := nicMAC(key, keyName, v, w)
	if !ok {
		return netconf.Ethernet{}, false
	}
	eth := netconf.Ethernet{MAC: mac}
	l := &eth.L3
	l.Addresses = append(l.Addresses, addresses(key, "ips", v, true, w)...)
	l.Addresses = append(l.Addresses, addresses(key, "ip6s", v, false, w)...)
	if gw, ok := gateway4(key, v, w); ok {
		l.Routes = append(l.Routes, routeVia(netconf.DefaultPrefix(gw), gw, l.Addresses))
	}
	if gw, ok := gateway6(key, v, w); ok {
		l.Routes = append(l.Routes, routeVia(netconf.DefaultPrefix(gw), gw, l.Addresses))
	}
	for _, r := range extraRoutes(key, v, l.Addresses, w) {
		if !containsRoute(l.Routes, r) { // 1.x: a listed default via the gateway is not a second route
			l.Routes = append(l.Routes, r)
		}
	}
	l.Nameservers = nameservers(key, v, w)
	return eth, true
}

// nicMAC prefers the JSON "mac" and falls back to the key (the MAC without
// separators, in whatever case nova stored it).
func nicMAC(key, keyName string, v vif, w *warnings) (net.HardwareAddr, bool) {
	fromKey, keyErr := parseMAC(keyName)
	s, present, err := str(v, "mac")
	if err != nil {
		w.add(key, "mac: %v", err)
	}
	if present {
		mac, err := parseMAC(s)
		if err == nil {
			if keyErr == nil && !bytes.Equal(mac, fromKey) {
				w.add(key, "mac %s differs from the key, using the mac field", mac)
			}
			return mac, true
		}
		w.add(key, "mac: %v", err)
	}
	if keyErr != nil {
		w.add(key, "no usable MAC in the mac field or the key, ignored")
		return nil, false
	}
	return fromKey, true
}

// parseMAC accepts a 6-byte MAC in any case, with ':', '-' or '.'
// separators or none at all.
func parseMAC(s string) (net.HardwareAddr, error) {
	hex := strings.Map(func(r rune) rune {
		if r == ':' || r == '-' || r == '.' {
			return -1
		}
		return r
	}, s)
	if len(hex) != 12 {
		return nil, fmt.Errorf("%q is not a 6-byte MAC address", s)
	}
	mac := make(net.HardwareAddr, 6)
	for i := range mac {
		var b byte
		for _, c := range []byte(hex[2*i : 2*i+2]) {
			d, ok := hexDigit(c)
			if !ok {
				return nil, fmt.Errorf("%q is not a 6-byte MAC address", s)
			}
			b = b<<4 | d
		}
		mac[i] = b
	}
	return mac, nil
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// addresses translates "ips" (v4, dotted netmask) or "ip6s" (v6, prefix
// length). Entries explicitly disabled ("0" or 0) are dropped.
func addresses(key, field string, v vif, v4 bool, w *warnings) []netip.Prefix {
	var out []netip.Prefix
	for i, e := range objects(key, field, v, w) {
		where := fmt.Sprintf("%s[%d]", field, i)
		if e == nil || disabled(e) {
			continue
		}
		ipField := "ip"
		if _, ok := e["ip"]; !ok && !v4 {
			ipField = "address" // 1.x accepted it as an alias for IPv6
		}
		addr, err := ipValue(e, ipField, v4)
		if err != nil {
			w.add(key, "%s.%s: %v, entry ignored", where, ipField, err)
			continue
		}
		bits, err := prefixLen(e["netmask"], v4)
		if err != nil {
			w.add(key, "%s.netmask: %v, entry ignored", where, err)
			continue
		}
		out = append(out, netip.PrefixFrom(addr, bits))
	}
	return out
}

// disabled reports an explicit "enabled": "0" / 0 / false. A missing
// "enabled" means enabled (nova always writes "1").
func disabled(e vif) bool {
	switch x := e["enabled"].(type) {
	case string:
		return strings.TrimSpace(x) == "0"
	case json.Number:
		return x.String() == "0"
	case bool:
		return !x
	}
	return false
}

// gateway4 is the top-level "gateway", else the first "ips[].gateway".
func gateway4(key string, v vif, w *warnings) (netip.Addr, bool) {
	if gw, ok := gatewayField(key, "gateway", v, "gateway", true, w); ok {
		return gw, true
	}
	return firstEntryGateway(key, v, "ips", true, w)
}

// gateway6 is "gateway_v6" (nova), else "gateway6" (1.x), else the first
// "ip6s[].gateway".
func gateway6(key string, v vif, w *warnings) (netip.Addr, bool) {
	for _, f := range []string{"gateway_v6", "gateway6"} {
		if gw, ok := gatewayField(key, f, v, f, false, w); ok {
			return gw, true
		}
	}
	return firstEntryGateway(key, v, "ip6s", false, w)
}

// gatewayField reads the gateway v[field]; where names it in warnings.
// Missing or null means "no gateway" and is not worth a warning.
func gatewayField(key, where string, v vif, field string, v4 bool, w *warnings) (netip.Addr, bool) {
	if _, present, err := str(v, field); !present && err == nil {
		return netip.Addr{}, false
	}
	gw, err := ipValue(v, field, v4)
	if err != nil {
		w.add(key, "%s: %v, ignored", where, err)
		return netip.Addr{}, false
	}
	return gw, true
}

func firstEntryGateway(key string, v vif, list string, v4 bool, w *warnings) (netip.Addr, bool) {
	for i, e := range objects(key, list, v, nil) { // addresses already warned about the list
		if e == nil || disabled(e) {
			continue
		}
		if gw, ok := gatewayField(key, fmt.Sprintf("%s[%d].gateway", list, i), e, "gateway", v4, w); ok {
			return gw, true
		}
	}
	return netip.Addr{}, false
}

// routeVia builds a route through gw, marked on-link when gw is outside
// every subnet of the interface (the kernel refuses it otherwise).
// Link-local IPv6 gateways (fe80::def on Rackspace) are always reachable on
// the link and must not be marked.
func routeVia(to netip.Prefix, gw netip.Addr, addrs []netip.Prefix) netconf.Route {
	r := netconf.Route{To: to, Via: gw}
	if gw.IsLinkLocalUnicast() {
		return r
	}
	for _, a := range addrs {
		if a.Masked().Contains(gw) {
			return r
		}
	}
	r.OnLink = true
	return r
}

// extraRoutes translates "routes": [{route, netmask, gateway}].
func extraRoutes(key string, v vif, addrs []netip.Prefix, w *warnings) []netconf.Route {
	var out []netconf.Route
	for i, e := range objects(key, "routes", v, w) {
		where := fmt.Sprintf("routes[%d]", i)
		if e == nil {
			continue
		}
		dst, err := ipValue(e, "route", true)
		v4 := true
		if err != nil {
			if dst, err = ipValue(e, "route", false); err != nil {
				w.add(key, "%s.route: %v, ignored", where, err)
				continue
			}
			v4 = false
		}
		bits, err := prefixLen(e["netmask"], v4)
		if err != nil {
			w.add(key, "%s.netmask: %v, ignored", where, err)
			continue
		}
		to := netip.PrefixFrom(dst, bits)
		if to.Masked() != to {
			w.add(key, "%s: %s has host bits set, using %s", where, to, to.Masked())
			to = to.Masked()
		}
		r := netconf.Route{To: to}
		if _, present, err := str(e, "gateway"); present || err != nil {
			gw, err := ipValue(e, "gateway", v4)
			if err != nil {
				w.add(key, "%s.gateway: %v, ignored", where, err)
				continue
			}
			r = routeVia(to, gw, addrs)
		}
		out = append(out, r)
	}
	return out
}

func containsRoute(rs []netconf.Route, r netconf.Route) bool {
	for _, x := range rs {
		if x.To == r.To && x.Via == r.Via {
			return true
		}
	}
	return false
}

// nameservers translates "dns": a list of IPv4/IPv6 address strings.
func nameservers(key string, v vif, w *warnings) []netip.Addr {
	raw, ok := v["dns"]
	if !ok || raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		w.add(key, "dns: %s, want a list of addresses, ignored", jsonType(raw))
		return nil
	}
	var out []netip.Addr
	for i, x := range list {
		s, ok := x.(string)
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if !ok || err != nil || a.Zone() != "" {
			w.add(key, "dns[%d]: %s is not an IP address, ignored", i, describe(x))
			continue
		}
		if a = a.Unmap(); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
