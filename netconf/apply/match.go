package apply

import (
	"bytes"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"

	"guestbridge/netconf"
)

// stackedTypes are virtual devices that copy another device's MAC (a bond
// takes its first member's, a VLAN its parent's), so they never stand for a
// configured ethernet even when the MAC matches.
var stackedTypes = map[string]bool{
	"bond": true, "vlan": true, "bridge": true, "macvlan": true, "macvtap": true,
	"ipvlan": true, "ipvtap": true, "vxlan": true, "team": true,
}

// permanentMAC is the NIC's burned-in address (IFLA_PERM_ADDRESS), which
// survives enslavement into a bond; devices without one (veth, virtio on old
// kernels) report only their current address.
func permanentMAC(l netlink.Link) net.HardwareAddr {
	if a := l.Attrs(); len(a.PermHWAddr) > 0 {
		return a.PermHWAddr
	}
	return l.Attrs().HardwareAddr
}

func isTunTap(l netlink.Link) bool {
	_, ok := l.(*netlink.Tuntap)
	return ok || l.Type() == "tuntap" || l.Type() == "tun"
}

func isLoopback(l netlink.Link) bool { return l.Attrs().Flags&net.FlagLoopback != 0 }

// linksWithMAC returns the links that may stand for a NIC with mac: those
// whose permanent MAC is mac, else those whose current one is, plus any
// tun/tap devices carrying it (never used, only warned about).
func linksWithMAC(links []netlink.Link, mac net.HardwareAddr) (found, taps []netlink.Link) {
	var current []netlink.Link
	for _, l := range links {
		if isLoopback(l) || stackedTypes[l.Type()] {
			continue
		}
		if isTunTap(l) {
			if bytes.Equal(l.Attrs().HardwareAddr, mac) {
				taps = append(taps, l)
			}
			continue
		}
		if bytes.Equal(permanentMAC(l), mac) {
			found = append(found, l)
		} else if bytes.Equal(l.Attrs().HardwareAddr, mac) {
			current = append(current, l)
		}
	}
	if len(found) == 0 {
		found = current
	}
	return found, taps
}

// matchEthernets maps each configured ethernet ID to the link carrying its
// MAC. Loopback and tun/tap devices are never matched (a VPN tap with a
// copied MAC only earns a warning); missing or ambiguous MACs are warnings
// and the ethernet is skipped.
func matchEthernets(r *run, links []netlink.Link, eths []netconf.Ethernet) map[string]netlink.Link {
	out := map[string]netlink.Link{}
	for _, e := range eths {
		found, taps := linksWithMAC(links, e.MAC)
		for _, tap := range taps {
			r.warn("%s: mac %s: tun/tap device %s has it too; left alone", e.ID, e.MAC, tap.Attrs().Name)
		}
		switch len(found) {
		case 0:
			r.warn("%s: mac %s: no such interface; skipped", e.ID, e.MAC)
		case 1:
			out[e.ID] = found[0]
		default:
			r.warn("%s: mac %s: carried by %s; ambiguous, skipped", e.ID, e.MAC, linkNames(found))
		}
	}
	return out
}

func linkNames(links []netlink.Link) string {
	s := ""
	for i, l := range links {
		if i > 0 {
			s += ", "
		}
		s += l.Attrs().Name
	}
	return fmt.Sprintf("[%s]", s)
}
