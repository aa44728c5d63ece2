package netconf

import (
	"fmt"
	"net"
	"slices"
)

// CloudInitRenderers are the renderers cloud-init 22.4.2 ships (its
// `network: renderers` / `net-convert -O` names).
var CloudInitRenderers = []string{"eni", "netplan", "networkd", "sysconfig", "network-manager"}

// IfaceRoute is a route together with the interface it belongs to: the v2
// name and, for ethernets, the MAC to find it by.
type IfaceRoute struct {
	Interface string           `json:"interface"`
	MAC       net.HardwareAddr `json:"mac,omitempty"`
	Route     Route            `json:"route"`
}

// RendererLoss is what cloud-init 22.4.2's renderer makes of our v2 less
// than it means: what guestbridge must apply itself, in seed mode, after
// cloud-init has brought the interfaces up, so the machine ends up with the
// whole config (docs/cloud-init-differences.md, "Renderers").
type RendererLoss struct {
	// Routes the renderer drops or mangles; install them (netconf/apply
	// route semantics: Via, Metric, OnLink as given).
	Routes []IfaceRoute `json:"routes,omitempty"`
	// DNS: the renderer's nameservers only reach resolv.conf through a
	// helper the image may lack (ENI: resolvconf); write MachineDNS().
	DNS bool `json:"dns,omitempty"`
	// MTUs the renderer drops (interface name → MTU); set them.
	MTUs map[string]int `json:"mtus,omitempty"`
	// Lost is what neither a route nor resolv.conf can bring back, one
	// sentence each (for the log; the docs list them).
	Lost []string `json:"lost,omitempty"`
}

// RendererLosses returns, for c (normalised on a copy first) rendered as
// MarshalNetworkConfig and given to cloud-init 22.4.2's renderer, what that
// renderer loses. The rules are the ones TestFixturesThroughCloudInitRenderers
// (configdrive) checks against the real cloud-init for every fixture:
//
//   - every renderer: routes without a gateway (left out of v2: cloud-init's
//     ENI renderer crashes on them);
//   - all but netplan (cloud-init parses v2 into its own state): a route's
//     metric and on-link flag are dropped, `::/0` becomes `::/64`, and the
//     routes of an interface with neither addresses nor DHCP are dropped.
//     Default routes written as gateway4/gateway6 survive (V2Gateways);
//   - all but netplan: the nameservers of an interface without static
//     addresses (DHCP/SLAAC only) are dropped, so DNS is returned;
//   - eni: every route but gateway4/gateway6 becomes `post-up route add …
//     || true`, which needs net-tools (optional in Debian 12) and, for
//     IPv6, runs before the IPv6 address is up: all are returned. DNS needs
//     resolvconf;
//   - networkd: no .netdev files for bonds and VLANs, no Bond= on members;
//   - sysconfig: at most three DNS servers per interface;
//   - network-manager: IPv6 routes other than the default gateway are put
//     into the [ipv4] section; the MTU of bonds and VLANs is dropped; bond
//     options other than mode and transmit-hash-policy are dropped.
func (c *Config) RendererLosses(renderer string) (RendererLoss, error) {
	if !slices.Contains(CloudInitRenderers, renderer) {
		return RendererLoss{}, fmt.Errorf("unknown cloud-init renderer %q (want one of %v)", renderer, CloudInitRenderers)
	}
	n, _ := c.Normalised()
	var loss RendererLoss
	macOf := map[string]net.HardwareAddr{}
	for _, e := range n.Ethernets {
		macOf[e.ID] = e.MAC
	}
	for _, f := range n.named() {
		gw4, gw6 := V2Gateways(f.l3)
		noSubnet := len(f.l3.Addresses) == 0 && !f.l3.DHCP4 && !f.l3.DHCP6
		for i, r := range f.l3.Routes {
			asGateway := i == gw4 || i == gw6
			lost := !r.Via.IsValid()
			if renderer != "netplan" && !asGateway {
				lost = lost || r.Metric != 0 || r.OnLink || noSubnet ||
					(r.IsDefault() && r.To.Addr().Is6())
				switch renderer {
				case "eni":
					lost = true
				case "network-manager":
					lost = lost || r.To.Addr().Is6()
				}
			}
			if lost {
				loss.Routes = append(loss.Routes, IfaceRoute{f.name, macOf[f.name], r})
			}
		}
	}
	servers, _ := n.MachineDNS()
	if renderer != "netplan" && len(servers) > 0 {
		for _, f := range n.named() {
			if len(f.l3.Nameservers) > 0 && len(f.l3.Addresses) == 0 {
				loss.DNS = true
			}
			if renderer == "sysconfig" && len(f.l3.Nameservers) > 3 {
				loss.DNS = true
			}
		}
	}
	switch renderer {
	case "eni":
		loss.DNS = len(servers) > 0
	case "networkd":
		for _, b := range n.Bonds {
			loss.Lost = append(loss.Lost, fmt.Sprintf("bond %s: the networkd renderer writes no .netdev, the bond is not created", b.Name))
		}
		for _, v := range n.VLANs {
			loss.Lost = append(loss.Lost, fmt.Sprintf("vlan %s: the networkd renderer writes no .netdev, the VLAN is not created", v.Name))
		}
	case "network-manager":
		for _, f := range n.named()[len(n.Ethernets):] {
			if f.l3.MTU != 0 {
				if loss.MTUs == nil {
					loss.MTUs = map[string]int{}
				}
				loss.MTUs[f.name] = f.l3.MTU
			}
		}
		for _, b := range n.Bonds {
			p := b.Params
			if p.MIIMonitorInterval != 0 || p.LACPRate != "" || p.UpDelay != 0 || p.DownDelay != 0 || p.Primary != "" || p.MinLinks != 0 || p.ADSelect != "" {
				loss.Lost = append(loss.Lost, fmt.Sprintf("bond %s: the network-manager renderer keeps only mode and transmit-hash-policy", b.Name))
			}
		}
	}
	return loss, nil
}
