package netconf

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MarshalV2 renders c as a netplan / cloud-init network-config version 2
// document: `network:` at the top, then `version: 2` and the ethernets,
// bonds and vlans sections (empty ones omitted), interfaces in model order.
// The output is deterministic and always decodes as YAML.
func (c *Config) MarshalV2() ([]byte, error) { return c.marshalV2(true) }

// MarshalNetworkConfig is MarshalV2 without the top-level `network:` key:
// `version: 2` first. Every cloud-init release reads this form from a NoCloud
// network-config file (only newer ones strip a `network:` wrapper).
func (c *Config) MarshalNetworkConfig() ([]byte, error) { return c.marshalV2(false) }

func (c *Config) marshalV2(wrapped bool) ([]byte, error) {
	c, _ = c.Normalised() // the source already reported the warnings
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("network-config v2: %w", err)
	}
	network := newMap()
	network.add("version", intNode(2))
	if len(c.Ethernets) > 0 {
		eths := newMap()
		for i := range c.Ethernets {
			eths.add(c.Ethernets[i].ID, ethernetNode(&c.Ethernets[i]).node())
		}
		network.add("ethernets", eths.node())
	}
	if len(c.Bonds) > 0 {
		bonds := newMap()
		for i := range c.Bonds {
			bonds.add(c.Bonds[i].Name, bondNode(&c.Bonds[i]).node())
		}
		network.add("bonds", bonds.node())
	}
	if len(c.VLANs) > 0 {
		vlans := newMap()
		for i := range c.VLANs {
			vlans.add(c.VLANs[i].Name, vlanNode(&c.VLANs[i]).node())
		}
		network.add("vlans", vlans.node())
	}
	doc := network
	if wrapped {
		doc = newMap()
		doc.add("network", network.node())
	}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc.node()); err != nil {
		return nil, fmt.Errorf("network-config v2: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("network-config v2: %w", err)
	}
	return buf.Bytes(), nil
}

func ethernetNode(e *Ethernet) *mapNode {
	m := newMap()
	// Without a MAC there is nothing to match on: the key itself is then
	// the kernel name netplan looks for, so neither match nor set-name.
	// With one, set-name always: cloud-init's eni, networkd, sysconfig and
	// network-manager renderers address the interface by the v2 key (ENI
	// `iface KEY`, networkd Name=KEY), and cloud-init renames a device by
	// MAC only when set-name is given. So the key must become the name:
	// the source's name, or a label derived from the source (nicN) when
	// the config was read without the machine's current names — which
	// makes the seed independent of the kernel's names at render time.
	if len(e.MAC) > 0 {
		match := newMap()
		match.add("macaddress", macNode(e.MAC))
		m.add("match", match.node())
		m.add("set-name", strNode(e.ID))
	}
	addL3(m, &e.L3)
	return m
}

func bondNode(b *Bond) *mapNode {
	m := newMap()
	members := &yaml.Node{Kind: yaml.SequenceNode}
	for _, id := range b.Members {
		members.Content = append(members.Content, strNode(id))
	}
	m.add("interfaces", members)
	if len(b.MAC) > 0 {
		m.add("macaddress", macNode(b.MAC))
	}
	if p := bondParamsNode(&b.Params); len(p.keys) > 0 {
		m.add("parameters", p.node())
	}
	addL3(m, &b.L3)
	return m
}

func bondParamsNode(p *BondParams) *mapNode {
	m := newMap()
	m.addStr("mode", p.Mode)
	m.addInt("mii-monitor-interval", p.MIIMonitorInterval)
	m.addStr("transmit-hash-policy", p.TransmitHashPolicy)
	m.addStr("lacp-rate", p.LACPRate)
	m.addInt("up-delay", p.UpDelay)
	m.addInt("down-delay", p.DownDelay)
	m.addStr("primary", p.Primary)
	m.addInt("min-links", p.MinLinks)
	m.addStr("ad-select", p.ADSelect)
	return m
}

func vlanNode(v *VLAN) *mapNode {
	m := newMap()
	m.add("id", intNode(v.ID))
	m.add("link", strNode(v.Link))
	if len(v.MAC) > 0 {
		m.add("macaddress", macNode(v.MAC))
	}
	addL3(m, &v.L3)
	return m
}

// addL3 appends the layer-3 keys every interface kind shares.
func addL3(m *mapNode, l *L3) {
	m.addInt("mtu", l.MTU)
	if l.AcceptRA != nil {
		m.add("accept-ra", boolNode(*l.AcceptRA))
	}
	if l.DHCP4 {
		m.add("dhcp4", boolNode(true))
		if l.DHCPRouteMetric != 0 {
			m.add("dhcp4-overrides", routeMetricNode(l.DHCPRouteMetric))
		}
	}
	if l.DHCP6 {
		m.add("dhcp6", boolNode(true))
		if l.DHCPRouteMetric != 0 {
			m.add("dhcp6-overrides", routeMetricNode(l.DHCPRouteMetric))
		}
	}
	if len(l.Addresses) > 0 {
		m.add("addresses", strSeq(l.Addresses))
	}
	gw4, gw6 := V2Gateways(l)
	if gw4 >= 0 {
		m.add("gateway4", strNode(l.Routes[gw4].Via.String()))
	}
	if gw6 >= 0 {
		m.add("gateway6", strNode(l.Routes[gw6].Via.String()))
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for i, r := range l.Routes {
		if i == gw4 || i == gw6 || !r.Via.IsValid() {
			continue
		}
		seq.Content = append(seq.Content, routeNode(r).node())
	}
	if len(seq.Content) > 0 {
		m.add("routes", seq)
	}
	if len(l.Nameservers) > 0 || len(l.Search) > 0 {
		ns := newMap()
		if len(l.Nameservers) > 0 {
			ns.add("addresses", strSeq(l.Nameservers))
		}
		if len(l.Search) > 0 {
			ns.add("search", strSeq(l.Search))
		}
		m.add("nameservers", ns.node())
	}
}

// strSeq renders a list of addresses, prefixes or names as a YAML sequence.
func strSeq[T any](items []T) *yaml.Node {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, it := range items {
		seq.Content = append(seq.Content, strNode(fmt.Sprint(it)))
	}
	return seq
}

// V2Gateways picks the default routes the v2 rendering writes as
// gateway4 / gateway6 (index into l.Routes, -1 for none). cloud-init 22.4.2
// turns those into each renderer's native gateway (ENI `gateway`, networkd
// Gateway=, sysconfig GATEWAY / IPV6_DEFAULTGW, NetworkManager gateway=),
// the only form of an IPv6 default route that survives its v2 parser (`::/0`
// comes out as `::/64`). A default route qualifies when it is the only one
// of its family on the interface, has no metric and no on-link flag, and its
// gateway is inside a static subnet of the interface (or IPv6 link-local
// next to a static IPv6 address): cloud-init attaches the gateway to the
// first static address of the family.
func V2Gateways(l *L3) (gw4, gw6 int) {
	gw4, gw6 = -1, -1
	n4, n6 := 0, 0
	for _, r := range l.Routes {
		if r.IsDefault() {
			if r.To.Addr().Is4() {
				n4++
			} else {
				n6++
			}
		}
	}
	for i, r := range l.Routes {
		if !r.IsDefault() || !r.Via.IsValid() || r.Metric != 0 || r.OnLink {
			continue
		}
		v4 := r.To.Addr().Is4()
		if (v4 && n4 != 1) || (!v4 && n6 != 1) {
			continue
		}
		hasStatic := slices.ContainsFunc(l.Addresses, func(p netip.Prefix) bool { return p.Addr().Is4() == v4 })
		if !hasStatic || !(inStaticSubnet(l, r.Via) || (!v4 && r.Via.IsLinkLocalUnicast())) {
			continue
		}
		if v4 {
			gw4 = i
		} else {
			gw6 = i
		}
	}
	return gw4, gw6
}

// routeNode renders one route. A default route is written 0.0.0.0/0 or
// ::/0, never `to: default`: cloud-init 22.4.2's v2 parser rejects
// "default" ("Address default is not a valid ip network").
func routeNode(r Route) *mapNode {
	m := newMap()
	m.add("to", strNode(r.To.String()))
	if r.Via.IsValid() {
		m.add("via", strNode(r.Via.String()))
	}
	if r.Metric != 0 {
		m.add("metric", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(uint64(r.Metric), 10)})
	}
	if r.OnLink {
		m.add("on-link", boolNode(true))
	}
	return m
}

func routeMetricNode(metric uint32) *yaml.Node {
	m := newMap()
	m.add("route-metric", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(uint64(metric), 10)})
	return m.node()
}

// mapNode builds a YAML mapping that keeps insertion order (a Go map would
// be sorted, and interfaces should appear in the source's order).
type mapNode struct{ keys, values []*yaml.Node }

func newMap() *mapNode { return &mapNode{} }

func (m *mapNode) add(key string, value *yaml.Node) {
	m.keys = append(m.keys, strNode(key))
	m.values = append(m.values, value)
}

func (m *mapNode) addStr(key, value string) {
	if value != "" {
		m.add(key, strNode(value))
	}
}

func (m *mapNode) addInt(key string, value int) {
	if value != 0 {
		m.add(key, intNode(value))
	}
}

func (m *mapNode) node() *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := range m.keys {
		n.Content = append(n.Content, m.keys[i], m.values[i])
	}
	return n
}

// strNode is a string scalar; the encoder quotes it when a reader could
// take it for another type (e.g. "true", "1e3", or a bare number).
func strNode(s string) *yaml.Node {
	n := &yaml.Node{}
	n.SetString(s)
	if n.Style == 0 && needsQuotes(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// needsQuotes catches strings that YAML 1.1 readers (libyaml in netplan,
// PyYAML in cloud-init) would resolve to base-60 integers: digit groups
// separated by colons ("52:54:00:12:34:56", "1:2:3:4::"). yaml.v3 already
// quotes what YAML 1.2 would read as a number or bool.
func needsQuotes(s string) bool {
	if !strings.Contains(s, ":") {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != ':' && r != '.' && r != '_' && r != '+' && r != '-' {
			return false
		}
	}
	return true
}

func macNode(mac net.HardwareAddr) *yaml.Node {
	n := strNode(mac.String())
	n.Style = yaml.DoubleQuotedStyle
	return n
}

func intNode(v int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
}

func boolNode(v bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}
}
