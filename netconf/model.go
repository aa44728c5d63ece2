// Package netconf is the network model every source produces and every sink
// consumes: ethernets matched by MAC, bonds, VLANs, addresses, routes,
// DHCP/RA and DNS. It knows nothing about where the data came from.
package netconf

import (
	"net"
	"net/netip"
)

// Config is the whole network configuration of one machine.
//
// Names: Ethernet.ID, Bond.Name and VLAN.Name share one namespace; bond
// members and VLAN links refer to those names.
type Config struct {
	Ethernets []Ethernet `json:"ethernets,omitempty"`
	Bonds     []Bond     `json:"bonds,omitempty"`
	VLANs     []VLAN     `json:"vlans,omitempty"`

	// Nameservers and Search the source gave for the whole machine rather
	// than for one interface (network_data.json top-level services).
	Nameservers []netip.Addr `json:"nameservers,omitempty"`
	Search      []string     `json:"search,omitempty"`
}

// L3 is what an interface of any kind carries above layer 2.
type L3 struct {
	MTU       int            `json:"mtu,omitempty"`
	Addresses []netip.Prefix `json:"addresses,omitempty"` // address + prefix length, in source order
	Routes    []Route        `json:"routes,omitempty"`    // default routes included, To = 0.0.0.0/0 or ::/0

	DHCP4 bool `json:"dhcp4,omitempty"`
	DHCP6 bool `json:"dhcp6,omitempty"` // stateful or stateless DHCPv6
	// AcceptRA: nil leaves the kernel/renderer default; true for SLAAC.
	AcceptRA *bool `json:"accept_ra,omitempty"`
	// DHCPRouteMetric, when non-zero, is the metric of routes learned by
	// DHCP on this interface (so several DHCP NICs do not fight).
	DHCPRouteMetric uint32 `json:"dhcp_route_metric,omitempty"`

	Nameservers []netip.Addr `json:"nameservers,omitempty"` // this interface's DNS servers, v4 and v6 mixed
	Search      []string     `json:"search,omitempty"`
}

// Route is one static route. Metric 0 means "not set" (the kernel default).
type Route struct {
	To     netip.Prefix `json:"to"`
	Via    netip.Addr   `json:"via,omitzero"` // invalid (zero) for a direct route
	Metric uint32       `json:"metric,omitempty"`
	OnLink bool         `json:"on_link,omitempty"`
}

// IsDefault reports whether r is a default route (0.0.0.0/0 or ::/0).
func (r Route) IsDefault() bool { return r.To.IsValid() && r.To.Bits() == 0 }

// Ethernet is a physical (or physical-looking) NIC, always matched by MAC.
type Ethernet struct {
	// ID is the v2 key. When Named is true it is the guest interface name the
	// source asked for (rendered as set-name); otherwise it is only a label
	// (the current kernel name when known, else "nicN").
	ID    string           `json:"id"`
	MAC   net.HardwareAddr `json:"mac,omitempty"`
	Named bool             `json:"named,omitempty"`
	L3
}

// Bond is a bonding device over Ethernets.
type Bond struct {
	Name    string           `json:"name"`
	MAC     net.HardwareAddr `json:"mac,omitempty"`
	Members []string         `json:"members"` // Ethernet IDs
	Params  BondParams       `json:"params"`
	L3
}

// BondParams are the bonding driver options, with netplan's names and units.
// Zero values mean "not set".
type BondParams struct {
	Mode               string `json:"mode,omitempty"`                 // netplan name: balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb
	MIIMonitorInterval int    `json:"mii_monitor_interval,omitempty"` // ms
	TransmitHashPolicy string `json:"transmit_hash_policy,omitempty"` // layer2, layer3+4, layer2+3, encap2+3, encap3+4
	LACPRate           string `json:"lacp_rate,omitempty"`            // slow, fast
	UpDelay            int    `json:"up_delay,omitempty"`             // ms
	DownDelay          int    `json:"down_delay,omitempty"`           // ms
	Primary            string `json:"primary,omitempty"`              // member ID
	MinLinks           int    `json:"min_links,omitempty"`
	ADSelect           string `json:"ad_select,omitempty"`
}

// VLAN is an 802.1Q sub-interface of an Ethernet or a Bond.
type VLAN struct {
	Name string           `json:"name"`
	ID   int              `json:"id"`
	Link string           `json:"link"` // Ethernet ID or Bond name
	MAC  net.HardwareAddr `json:"mac,omitempty"`
	L3
}
