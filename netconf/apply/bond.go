package apply

import (
	"fmt"
	"strings"

	"github.com/vishvananda/netlink"

	"guestbridge/netconf"
)

var adSelect = map[string]netlink.BondAdSelect{
	"stable": netlink.BOND_AD_SELECT_STABLE, "bandwidth": netlink.BOND_AD_SELECT_BANDWIDTH, "count": netlink.BOND_AD_SELECT_COUNT,
}

// bondLink is the netlink description of b; options are fixed at creation
// because the kernel refuses most of them once members are enslaved.
// primaryIndex is the ifindex of the primary member (0: none); the kernel
// remembers it by name and applies it when that member is enslaved.
func bondLink(b netconf.Bond, primaryIndex int) (*netlink.Bond, string) {
	nb := netlink.NewLinkBond(netlink.LinkAttrs{Name: b.Name, HardwareAddr: b.MAC})
	p := b.Params
	var desc []string
	if p.Mode != "" {
		nb.Mode = netlink.StringToBondMode(p.Mode)
		desc = append(desc, "mode "+p.Mode)
	}
	if p.MIIMonitorInterval > 0 {
		nb.Miimon = p.MIIMonitorInterval
		desc = append(desc, fmt.Sprintf("miimon %d", p.MIIMonitorInterval))
	}
	if p.TransmitHashPolicy != "" {
		nb.XmitHashPolicy = netlink.StringToBondXmitHashPolicy(p.TransmitHashPolicy)
		desc = append(desc, "xmit_hash_policy "+p.TransmitHashPolicy)
	}
	if p.LACPRate != "" {
		nb.LacpRate = netlink.StringToBondLacpRate(p.LACPRate)
		desc = append(desc, "lacp_rate "+p.LACPRate)
	}
	if p.UpDelay > 0 {
		nb.UpDelay = p.UpDelay
		desc = append(desc, fmt.Sprintf("updelay %d", p.UpDelay))
	}
	if p.DownDelay > 0 {
		nb.DownDelay = p.DownDelay
		desc = append(desc, fmt.Sprintf("downdelay %d", p.DownDelay))
	}
	if p.MinLinks > 0 {
		nb.MinLinks = p.MinLinks
		desc = append(desc, fmt.Sprintf("min_links %d", p.MinLinks))
	}
	if p.ADSelect != "" {
		nb.AdSelect = adSelect[p.ADSelect]
		desc = append(desc, "ad_select "+p.ADSelect)
	}
	if primaryIndex > 0 {
		nb.Primary = primaryIndex
		desc = append(desc, "primary "+p.Primary)
	}
	what := "bond"
	if len(desc) > 0 {
		what += " (" + strings.Join(desc, ", ") + ")"
	}
	return nb, what
}

// ensureBond creates b if missing, sets its MAC, enslaves its members (each
// taken down first, as the kernel requires) and brings it up. members maps
// ethernet IDs to their links; unmatched members were already warned about.
func (r *run) ensureBond(links []netlink.Link, b netconf.Bond, members map[string]netlink.Link) (netlink.Link, error) {
	l, err := existing(links, b.Name, "bond")
	if err != nil {
		return nil, err
	}
	if l == nil {
		primary := 0
		if m := members[b.Params.Primary]; m != nil {
			primary = m.Attrs().Index
		}
		nb, what := bondLink(b, primary)
		if l, err = r.create(nb, what, "bonding"); err != nil {
			return nil, err
		}
	}
	if err := r.setMAC(b.Name, l, b.MAC); err != nil {
		return nil, err
	}
	for _, id := range b.Members {
		m, ok := members[id]
		if !ok {
			continue
		}
		if err := r.enslave(id, m, b.Name, l); err != nil {
			return nil, err
		}
	}
	return l, r.setUp(b.Name, l)
}

func (r *run) enslave(id string, m netlink.Link, bondName string, bond netlink.Link) error {
	if bond != nil && m.Attrs().MasterIndex == bond.Attrs().Index {
		return nil
	}
	name := m.Attrs().Name
	if err := r.setDown(name, m); err != nil {
		return err
	}
	return r.do(Change{"enslave", name, "to " + bondName},
		func() error { return r.ops.LinkSetMasterByIndex(m, bond.Attrs().Index) },
		func() error { return r.ops.LinkSetNoMaster(m) })
}

// ensureVLAN creates v on parent if missing and sets its MAC.
func (r *run) ensureVLAN(links []netlink.Link, v netconf.VLAN, parent netlink.Link) (netlink.Link, error) {
	l, err := existing(links, v.Name, "vlan")
	if err != nil {
		return nil, err
	}
	if l != nil {
		if vl, ok := l.(*netlink.Vlan); ok && vl.VlanId != v.ID {
			return nil, fmt.Errorf("%s: exists with VLAN id %d, config wants %d", v.Name, vl.VlanId, v.ID)
		}
	} else {
		parentIndex := 0
		if parent != nil {
			parentIndex = parent.Attrs().Index
		}
		nv := &netlink.Vlan{
			LinkAttrs: netlink.LinkAttrs{Name: v.Name, ParentIndex: parentIndex, HardwareAddr: v.MAC},
			VlanId:    v.ID,
		}
		if l, err = r.create(nv, fmt.Sprintf("vlan id %d on %s", v.ID, v.Link), "802.1Q VLAN"); err != nil {
			return nil, err
		}
	}
	return l, r.setMAC(v.Name, l, v.MAC)
}
