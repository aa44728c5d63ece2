// Package dhcp obtains DHCPv4 and DHCPv6 leases for guestbridge's own
// network applier (images without cloud-init), using insomniacslk/dhcp, and
// translates them into netconf.L3.
package dhcp

import (
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Options control a lease request.
type Options struct {
	// NetNS is the namespace the interface lives in; client sockets are
	// created from a thread inside it. Zero or negative: the current netns.
	NetNS netns.NsHandle
	// Handle is a netlink handle into NetNS (nil: current netns), used to
	// wait for the IPv6 link-local address.
	Handle  *netlink.Handle
	Timeout time.Duration // per attempt; default 3s
	Retries int           // attempts; default 3
	Logf    func(string, ...any)
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 3 * time.Second
}

func (o Options) retries() int {
	if o.Retries > 0 {
		return o.Retries
	}
	return 3
}

func (o Options) logf(format string, a ...any) {
	if o.Logf != nil {
		o.Logf(format, a...)
	}
}
