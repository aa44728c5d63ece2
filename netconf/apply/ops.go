package apply

import (
	"net"

	"github.com/vishvananda/netlink"

	"guestbridge/internal/nl"
)

// netOps is every kernel operation the applier performs. The production
// implementation is handleOps (a netlink.Handle); tests substitute a recording
// fake to check bond and VLAN sequences this machine's kernel cannot run.
type netOps interface {
	LinkList() ([]netlink.Link, error)
	LinkByName(name string) (netlink.Link, error)
	LinkAdd(link netlink.Link) error
	LinkDel(link netlink.Link) error
	LinkSetUp(link netlink.Link) error
	LinkSetDown(link netlink.Link) error
	LinkSetName(link netlink.Link, name string) error
	LinkSetMTU(link netlink.Link, mtu int) error
	LinkSetHardwareAddr(link netlink.Link, mac net.HardwareAddr) error
	LinkSetMasterByIndex(link netlink.Link, master int) error
	LinkSetNoMaster(link netlink.Link) error
	AddrList(link netlink.Link) ([]netlink.Addr, error)
	AddrAdd(link netlink.Link, addr *netlink.Addr) error
	AddrDel(link netlink.Link, addr *netlink.Addr) error
	RouteList() ([]netlink.Route, error) // main table, both families
	RouteAdd(route *netlink.Route) error
	RouteDel(route *netlink.Route) error
	// Sysctl reads and SetSysctl writes /proc/sys/<key> of the namespace,
	// e.g. key "net/ipv6/conf/eth0/accept_ra".
	Sysctl(key string) (string, error)
	SetSysctl(key, value string) error
}

// handleOps runs netOps on a real netlink handle; h nil means the current
// netns. Dumps go through internal/nl so ErrDumpInterrupted is retried.
type handleOps struct {
	h      *netlink.Handle
	sysctl sysctl
}

func newHandleOps(h *netlink.Handle, s sysctl) handleOps {
	if h == nil {
		// A zero Handle uses the package's socket: the current netns.
		h = &netlink.Handle{}
	}
	return handleOps{h: h, sysctl: s}
}

func (o handleOps) pkg() *netlink.Handle { return o.h }

func (o handleOps) LinkList() ([]netlink.Link, error) { return nl.LinkList(o.h) }
func (o handleOps) LinkByName(name string) (netlink.Link, error) {
	return nl.LinkByName(o.h, name)
}
func (o handleOps) LinkAdd(l netlink.Link) error     { return o.pkg().LinkAdd(l) }
func (o handleOps) LinkDel(l netlink.Link) error     { return o.pkg().LinkDel(l) }
func (o handleOps) LinkSetUp(l netlink.Link) error   { return o.pkg().LinkSetUp(l) }
func (o handleOps) LinkSetDown(l netlink.Link) error { return o.pkg().LinkSetDown(l) }
func (o handleOps) LinkSetName(l netlink.Link, name string) error {
	return o.pkg().LinkSetName(l, name)
}
func (o handleOps) LinkSetMTU(l netlink.Link, mtu int) error { return o.pkg().LinkSetMTU(l, mtu) }
func (o handleOps) LinkSetHardwareAddr(l netlink.Link, mac net.HardwareAddr) error {
	return o.pkg().LinkSetHardwareAddr(l, mac)
}
func (o handleOps) LinkSetMasterByIndex(l netlink.Link, master int) error {
	return o.pkg().LinkSetMasterByIndex(l, master)
}
func (o handleOps) LinkSetNoMaster(l netlink.Link) error { return o.pkg().LinkSetNoMaster(l) }
func (o handleOps) AddrList(l netlink.Link) ([]netlink.Addr, error) {
	return nl.AddrList(o.h, l, netlink.FAMILY_ALL)
}
func (o handleOps) AddrAdd(l netlink.Link, a *netlink.Addr) error { return o.pkg().AddrAdd(l, a) }
func (o handleOps) AddrDel(l netlink.Link, a *netlink.Addr) error { return o.pkg().AddrDel(l, a) }
func (o handleOps) RouteList() ([]netlink.Route, error) {
	return nl.RouteListFiltered(o.h, netlink.FAMILY_ALL, &netlink.Route{Table: mainTable}, netlink.RT_FILTER_TABLE)
}
func (o handleOps) RouteAdd(r *netlink.Route) error   { return o.pkg().RouteAdd(r) }
func (o handleOps) RouteDel(r *netlink.Route) error   { return o.pkg().RouteDel(r) }
func (o handleOps) Sysctl(key string) (string, error) { return o.sysctl.read(key) }
func (o handleOps) SetSysctl(key, value string) error { return o.sysctl.write(key, value) }
