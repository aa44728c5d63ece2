// Package benchapply is the material for comparing guestbridge's netlink
// applier with the same change made by `ip` commands: one large
// configuration and its translation into an iproute2 script.
package benchapply

import (
	"fmt"
	"net"
	"net/netip"

	"guestbridge/netconf"
)

// Size of LargeConfig.
const (
	NICs            = 4
	AddressesPerNIC = 16  // 64 in all: 12 IPv4 + 4 IPv6 per NIC
	RoutesPerNIC    = 128 // 512 in all, one of them a default route
)

// MAC is the address of bench NIC i (locally administered).
func MAC(i int) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0x5e, 0x30, 0, byte(i + 1)} }

// LargeConfig has NICs ethernets nic0.. with MTU 1400, AddressesPerNIC
// addresses and RoutesPerNIC routes each (documentation/benchmark ranges).
func LargeConfig() *netconf.Config {
	cfg := &netconf.Config{}
	for n := range NICs {
		e := netconf.Ethernet{ID: fmt.Sprintf("nic%d", n), MAC: MAC(n), L3: netconf.L3{MTU: 1400}}
		for i := range AddressesPerNIC {
			if i < 12 {
				e.Addresses = append(e.Addresses, netip.MustParsePrefix(fmt.Sprintf("198.18.%d.%d/24", n, 10+i)))
			} else {
				e.Addresses = append(e.Addresses, netip.MustParsePrefix(fmt.Sprintf("2001:db8:%d::%d/64", n, i)))
			}
		}
		gw := netip.MustParseAddr(fmt.Sprintf("198.18.%d.1", n))
		e.Routes = append(e.Routes, netconf.Route{To: netip.MustParsePrefix("0.0.0.0/0"), Via: gw, Metric: uint32(100 + n)})
		for j := range RoutesPerNIC - 1 {
			to := netip.MustParsePrefix(fmt.Sprintf("198.19.%d.%d/28", n*32+j/16, (j%16)*16))
			e.Routes = append(e.Routes, netconf.Route{To: to, Via: gw})
		}
		cfg.Ethernets = append(cfg.Ethernets, e)
	}
	return cfg
}

// IPCommands is cfg as `ip` argument lists (without "ip" and the netns),
// in the order a shell script would run them; links are named by ID. Routes
// carry proto 198 like the applier's.
func IPCommands(cfg *netconf.Config) [][]string {
	var out [][]string
	for _, e := range cfg.Ethernets {
		if e.MTU > 0 {
			out = append(out, []string{"link", "set", "dev", e.ID, "mtu", fmt.Sprint(e.MTU)})
		}
		out = append(out, []string{"link", "set", "dev", e.ID, "up"})
		for _, a := range e.Addresses {
			out = append(out, []string{"addr", "add", a.String(), "dev", e.ID})
		}
		for _, r := range e.Routes {
			cmd := []string{"route", "add", r.To.String()}
			if r.Via.IsValid() {
				cmd = append(cmd, "via", r.Via.String())
			}
			cmd = append(cmd, "dev", e.ID, "proto", "198")
			if r.Metric > 0 {
				cmd = append(cmd, "metric", fmt.Sprint(r.Metric))
			}
			out = append(out, cmd)
		}
	}
	return out
}
