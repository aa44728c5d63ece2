package apply

import (
	"fmt"
	"net"
	"slices"
	"syscall"

	"github.com/vishvananda/netlink"
)

// fake is a recording netOps: a tiny in-memory kernel that logs every
// mutating call in order, so bond and VLAN sequences can be checked on a
// kernel without bonding or 8021q.
type fake struct {
	links     map[int]netlink.Link
	addrs     map[int][]netlink.Addr
	routes    []netlink.Route
	sysctl    map[string]string
	next      int
	calls     []string
	noSupport map[string]bool // link types whose LinkAdd fails with EOPNOTSUPP
}

func newFake() *fake {
	return &fake{links: map[int]netlink.Link{}, addrs: map[int][]netlink.Addr{}, sysctl: map[string]string{}, next: 1, noSupport: map[string]bool{}}
}

// nic adds a physical NIC with a permanent MAC.
func (f *fake) nic(name, mac string) *netlink.Device {
	d := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: name, Index: f.next, MTU: 1500,
		HardwareAddr: mustMAC(mac), PermHWAddr: mustMAC(mac)}}
	f.links[f.next] = d
	f.next++
	return d
}

func (f *fake) record(format string, a ...any) { f.calls = append(f.calls, fmt.Sprintf(format, a...)) }

func (f *fake) get(l netlink.Link) (netlink.Link, error) {
	if k, ok := f.links[l.Attrs().Index]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("fake: no link index %d (%s)", l.Attrs().Index, l.Attrs().Name)
}

func (f *fake) name(idx int) string {
	if l, ok := f.links[idx]; ok {
		return l.Attrs().Name
	}
	return fmt.Sprintf("if%d", idx)
}

func (f *fake) LinkList() ([]netlink.Link, error) {
	var out []netlink.Link
	for i := 1; i < f.next; i++ {
		if l, ok := f.links[i]; ok {
			out = append(out, l)
		}
	}
	return out, nil
}

func (f *fake) LinkByName(name string) (netlink.Link, error) {
	for _, l := range f.links {
		if l.Attrs().Name == name {
			return l, nil
		}
	}
	return nil, netlink.LinkNotFoundError{}
}

func (f *fake) LinkAdd(l netlink.Link) error {
	if f.noSupport[l.Type()] {
		return syscall.EOPNOTSUPP
	}
	a := l.Attrs()
	switch x := l.(type) {
	case *netlink.Bond:
		f.record("LinkAdd bond %s mode=%s miimon=%d xmit=%s lacp=%s updelay=%d downdelay=%d minlinks=%d adselect=%d primary=%s mac=%s",
			a.Name, x.Mode, x.Miimon, x.XmitHashPolicy, x.LacpRate, x.UpDelay, x.DownDelay, x.MinLinks, x.AdSelect, f.name(x.Primary), a.HardwareAddr)
	case *netlink.Vlan:
		f.record("LinkAdd vlan %s parent=%s id=%d mac=%s", a.Name, f.name(a.ParentIndex), x.VlanId, a.HardwareAddr)
	default:
		f.record("LinkAdd %s %s", l.Type(), a.Name)
	}
	a.Index = f.next
	if a.MTU == 0 {
		a.MTU = 1500
	}
	f.links[f.next] = l
	f.next++
	return nil
}

func (f *fake) LinkDel(l netlink.Link) error {
	f.record("LinkDel %s", l.Attrs().Name)
	delete(f.links, l.Attrs().Index)
	return nil
}

func (f *fake) setFlag(l netlink.Link, op string, up bool) error {
	k, err := f.get(l)
	if err != nil {
		return err
	}
	f.record("%s %s", op, k.Attrs().Name)
	if up {
		k.Attrs().Flags |= net.FlagUp
	} else {
		k.Attrs().Flags &^= net.FlagUp
	}
	return nil
}

func (f *fake) LinkSetUp(l netlink.Link) error   { return f.setFlag(l, "LinkSetUp", true) }
func (f *fake) LinkSetDown(l netlink.Link) error { return f.setFlag(l, "LinkSetDown", false) }

func (f *fake) LinkSetName(l netlink.Link, name string) error {
	k, err := f.get(l)
	if err != nil {
		return err
	}
	f.record("LinkSetName %s %s", k.Attrs().Name, name)
	k.Attrs().Name = name
	return nil
}

func (f *fake) LinkSetMTU(l netlink.Link, mtu int) error {
	k, err := f.get(l)
	if err != nil {
		return err
	}
	f.record("LinkSetMTU %s %d", k.Attrs().Name, mtu)
	k.Attrs().MTU = mtu
	return nil
}

func (f *fake) LinkSetHardwareAddr(l netlink.Link, mac net.HardwareAddr) error {
	k, err := f.get(l)
	if err != nil {
		return err
	}
	f.record("LinkSetHardwareAddr %s %s", k.Attrs().Name, mac)
	k.Attrs().HardwareAddr = mac
	return nil
}

func (f *fake) LinkSetMasterByIndex(l netlink.Link, master int) error {
	k, err := f.get(l)
	if err != nil {
		return err
	}
	if k.Attrs().Flags&net.FlagUp != 0 {
		return fmt.Errorf("fake: enslave %s while up", k.Attrs().Name) // as the kernel: EBUSY
	}
	f.record("LinkSetMasterByIndex %s %s", k.Attrs().Name, f.name(master))
	k.Attrs().MasterIndex = master
	return nil
}

func (f *fake) LinkSetNoMaster(l netlink.Link) error {
	k, err := f.get(l)
	if err != nil {
		return err
	}
	f.record("LinkSetNoMaster %s", k.Attrs().Name)
	k.Attrs().MasterIndex = 0
	return nil
}

func (f *fake) AddrList(l netlink.Link) ([]netlink.Addr, error) {
	return slices.Clone(f.addrs[l.Attrs().Index]), nil
}

func (f *fake) AddrAdd(l netlink.Link, a *netlink.Addr) error {
	f.record("AddrAdd %s %s", f.name(l.Attrs().Index), a.IPNet)
	f.addrs[l.Attrs().Index] = append(f.addrs[l.Attrs().Index], *a)
	return nil
}

func (f *fake) AddrDel(l netlink.Link, a *netlink.Addr) error {
	f.record("AddrDel %s %s", f.name(l.Attrs().Index), a.IPNet)
	f.addrs[l.Attrs().Index] = slices.DeleteFunc(f.addrs[l.Attrs().Index], func(x netlink.Addr) bool { return x.IPNet.String() == a.IPNet.String() })
	return nil
}

func (f *fake) RouteList() ([]netlink.Route, error) { return slices.Clone(f.routes), nil }

func (f *fake) RouteAdd(r *netlink.Route) error {
	f.record("RouteAdd %s via %s dev %s metric %d proto %d", r.Dst, r.Gw, f.name(r.LinkIndex), r.Priority, r.Protocol)
	f.routes = append(f.routes, *r)
	return nil
}

func (f *fake) RouteDel(r *netlink.Route) error {
	f.record("RouteDel %s via %s dev %s", r.Dst, r.Gw, f.name(r.LinkIndex))
	f.routes = slices.DeleteFunc(f.routes, func(x netlink.Route) bool {
		return x.Dst.String() == r.Dst.String() && x.LinkIndex == r.LinkIndex && x.Gw.Equal(r.Gw)
	})
	return nil
}

func (f *fake) Sysctl(key string) (string, error) { return f.sysctl[key], nil }

func (f *fake) SetSysctl(key, v string) error {
	f.record("SetSysctl %s %s", key, v)
	f.sysctl[key] = v
	return nil
}
