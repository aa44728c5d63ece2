package configdrive

import (
	"fmt"

	"guestbridge/netconf"
)

type linkKind int

const (
	linkEthernet linkKind = iota
	linkBond
	linkVLAN
)

// linkRef remembers where a network_data.json link went in the model.
type linkRef struct {
	obj   jsonObject
	kind  linkKind
	index int    // in cfg.Ethernets, cfg.Bonds or cfg.VLANs
	name  string // the model name (Ethernet.ID, Bond.Name, VLAN.Name)
}

// physicalLinkTypes are the link types nova, ironic and other producers use
// for a plain NIC. null/absent is physical too; anything else unknown is
// treated as physical with a warning, as cloud-init does.
var physicalLinkTypes = map[string]bool{
	"phy": true, "ethernet": true, "bridge": true, "ovs": true, "tap": true, "vif": true,
	"hw_veb": true, "hyperv": true, "dvs": true, "vhostuser": true, "bgpovs": true, "cascading": true,
}

// addLinks creates the interfaces in two passes: first every link gets its
// kind and (where it has one of its own) its name; then bond members and
// VLAN parents are resolved, since they may refer to later links.
func (b *networkBuilder) addLinks(top jsonObject) error {
	links, err := top.objList("links")
	if err != nil {
		return err
	}
	macOwner := map[string]string{} // ethernet MAC → path of the link
	for _, o := range links {
		id, err := o.str("id")
		if err != nil {
			return err
		}
		if id == "" {
			return errAt(o.at("id"), "missing")
		}
		if prev, dup := b.links[id]; dup {
			return errAt(o.at("id"), "%q already used by %s", id, prev.obj.path)
		}
		typ, err := o.str("type")
		if err != nil {
			return err
		}
		ref := &linkRef{obj: o}
		switch {
		case typ == "bond":
			err = b.addBond(ref)
		case typ == "vlan":
			err = b.addVLAN(ref)
		default:
			if typ != "" && !physicalLinkTypes[typ] {
				b.warnf("%s %q: unknown, treated as physical", o.at("type"), typ)
			}
			err = b.addEthernet(ref, macOwner)
		}
		if err != nil {
			return err
		}
		b.links[id] = ref
		b.order = append(b.order, ref)
	}
	b.labelUnnamed()
	for _, ref := range b.order {
		switch ref.kind {
		case linkBond:
			err = b.resolveBondMembers(ref)
		case linkVLAN:
			err = b.resolveVLANParent(ref)
		}
		if err != nil {
			return err
		}
	}
	return b.checkUniqueNames()
}

// labelUnnamed gives each ethernet without a name of its own a label:
// "nicN", counting unnamed links, skipping labels another link already uses
// (a link may be *named* "nic0"). It runs once every link is known.
func (b *networkBuilder) labelUnnamed() {
	taken := map[string]bool{}
	for _, ref := range b.order {
		if ref.name != "" {
			taken[ref.name] = true
		}
	}
	n := 0
	for _, ref := range b.order {
		if ref.kind != linkEthernet || ref.name != "" {
			continue
		}
		for taken[fmt.Sprintf("nic%d", n)] {
			n++
		}
		ref.name = fmt.Sprintf("nic%d", n)
		b.cfg.Ethernets[ref.index].ID = ref.name
		taken[ref.name] = true
		n++
	}
}

func (b *networkBuilder) addEthernet(ref *linkRef, macOwner map[string]string) error {
	o := ref.obj
	e := netconf.Ethernet{}
	macText, err := o.str("ethernet_mac_address")
	if err != nil {
		return err
	}
	if macText != "" {
		// Any hardware address net.ParseMAC reads (an InfiniBand link has
		// 20 bytes): netconf.Config.Normalise skips what is not Ethernet,
		// with a warning, instead of rejecting the whole drive.
		if e.MAC, err = parseHWAddr(o.at("ethernet_mac_address"), macText); err != nil {
			return err
		}
		if prev, dup := macOwner[e.MAC.String()]; dup {
			return errAt(o.at("ethernet_mac_address"), "%s already used by %s", e.MAC, prev)
		}
		macOwner[e.MAC.String()] = o.path
	}
	name, err := o.str("name")
	if err != nil {
		return err
	}
	switch {
	case name != "":
		e.ID, e.Named = name, true
	case len(e.MAC) == 0:
		return errAt(o.at("ethernet_mac_address"), "missing: a link without a name needs a MAC to be found")
	default:
		e.ID = b.opts.KnownNames[e.MAC.String()] // "" = labelled by labelUnnamed
	}
	if e.MTU, err = linkMTU(o); err != nil {
		return err
	}
	ref.kind, ref.index, ref.name = linkEthernet, len(b.cfg.Ethernets), e.ID
	b.cfg.Ethernets = append(b.cfg.Ethernets, e)
	return nil
}

func (b *networkBuilder) addBond(ref *linkRef) error {
	o := ref.obj
	bond := netconf.Bond{}
	name, err := o.str("name")
	if err != nil {
		return err
	}
	if name == "" {
		name = fmt.Sprintf("bond%d", len(b.cfg.Bonds))
	}
	bond.Name = name
	if macText, err := o.str("ethernet_mac_address"); err != nil {
		return err
	} else if macText != "" {
		if bond.MAC, err = parseMAC(o.at("ethernet_mac_address"), macText); err != nil {
			return err
		}
	}
	if bond.MTU, err = linkMTU(o); err != nil {
		return err
	}
	if bond.Params, err = b.bondParams(o); err != nil {
		return err
	}
	ref.kind, ref.index, ref.name = linkBond, len(b.cfg.Bonds), bond.Name
	b.cfg.Bonds = append(b.cfg.Bonds, bond)
	return nil
}

func (b *networkBuilder) addVLAN(ref *linkRef) error {
	o := ref.obj
	v := netconf.VLAN{}
	id, ok, err := o.integer("vlan_id")
	if err != nil {
		return err
	}
	if !ok {
		return errAt(o.at("vlan_id"), "missing")
	}
	if id < 0 || id > 4094 {
		return errAt(o.at("vlan_id"), "%d outside 0..4094", id)
	}
	v.ID = id
	if v.Name, err = o.str("name"); err != nil {
		return err
	}
	// vlan_mac_address may be null; cloud-init uses only this key.
	if macText, err := o.str("vlan_mac_address"); err != nil {
		return err
	} else if macText != "" {
		if v.MAC, err = parseMAC(o.at("vlan_mac_address"), macText); err != nil {
			return err
		}
	}
	if v.MTU, err = linkMTU(o); err != nil {
		return err
	}
	ref.kind, ref.index = linkVLAN, len(b.cfg.VLANs)
	b.cfg.VLANs = append(b.cfg.VLANs, v)
	return nil
}

func (b *networkBuilder) resolveBondMembers(ref *linkRef) error {
	o := ref.obj
	ids, err := o.strList("bond_links")
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return errAt(o.at("bond_links"), "missing or empty")
	}
	bond := &b.cfg.Bonds[ref.index]
	for j, id := range ids {
		path := fmt.Sprintf("%s[%d]", o.at("bond_links"), j)
		member, ok := b.links[id]
		if !ok {
			return errAt(path, "no link with id %q", id)
		}
		if member.kind != linkEthernet {
			return errAt(path, "link %q is not a physical link", id)
		}
		bond.Members = append(bond.Members, member.name)
	}
	if p := bond.Params.Primary; p != "" {
		// bond_primary names a link id; the model wants the member's name.
		if member, ok := b.links[p]; ok && member.kind == linkEthernet {
			bond.Params.Primary = member.name
		}
	}
	return nil
}

func (b *networkBuilder) resolveVLANParent(ref *linkRef) error {
	o := ref.obj
	parentID, err := o.str("vlan_link")
	if err != nil {
		return err
	}
	if parentID == "" {
		return errAt(o.at("vlan_link"), "missing")
	}
	parent, ok := b.links[parentID]
	if !ok {
		return errAt(o.at("vlan_link"), "no link with id %q", parentID)
	}
	if parent.kind == linkVLAN {
		return errAt(o.at("vlan_link"), "link %q is a VLAN; VLANs stack only on NICs and bonds", parentID)
	}
	v := &b.cfg.VLANs[ref.index]
	v.Link = parent.name
	if v.Name == "" {
		v.Name = fmt.Sprintf("%s.%d", parent.name, v.ID)
	}
	ref.name = v.Name
	return nil
}

// checkUniqueNames rejects two links ending up with one interface name
// (given, looked up or generated), naming both links. A name that cannot
// be an interface name is left to netconf.Config.Normalise, which skips
// that one link with a warning.
func (b *networkBuilder) checkUniqueNames() error {
	seen := map[string]*linkRef{}
	for _, ref := range b.order {
		if prev, dup := seen[ref.name]; dup {
			return errAt(ref.obj.path, "interface name %q already used by %s", ref.name, prev.obj.path)
		}
		seen[ref.name] = ref
	}
	return nil
}

// linkMTU reads mtu; null or absent is "not set".
func linkMTU(o jsonObject) (int, error) {
	mtu, ok, err := o.integer("mtu")
	if err != nil || !ok {
		return 0, err
	}
	if mtu < 1 || mtu > 65535 {
		return 0, errAt(o.at("mtu"), "%d outside 1..65535", mtu)
	}
	return mtu, nil
}

// l3 returns the layer-3 part of the interface a link became.
func (b *networkBuilder) l3(ref *linkRef) *netconf.L3 {
	switch ref.kind {
	case linkBond:
		return &b.cfg.Bonds[ref.index].L3
	case linkVLAN:
		return &b.cfg.VLANs[ref.index].L3
	default:
		return &b.cfg.Ethernets[ref.index].L3
	}
}
