// Package apply makes the kernel's network state match a netconf.Config
// through netlink, for images without cloud-init: links matched by MAC,
// bonds, VLANs, addresses, routes, accept_ra and DHCP. Changes are journaled
// and rolled back when a step fails; a second run changes nothing.
package apply

import (
	"context"
	"fmt"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"guestbridge/netconf"
)

// DefaultStateDir is where Apply records the addresses it added.
const DefaultStateDir = "/run/guestbridge"

// DHCPFunc obtains a lease on ifname (IPv6 when v6) and returns what it means
// for the interface: addresses, routes, MTU, DNS.
type DHCPFunc func(ctx context.Context, ifname string, v6 bool) (netconf.L3, error)

// Options control Apply.
type Options struct {
	DryRun   bool
	StateDir string          // default DefaultStateDir; tests use temp dirs
	Handle   *netlink.Handle // nil = current netns (tests pass netlink.NewHandleAt(ns))
	// NetNS is the namespace Handle points into; sysctl writes (accept_ra) and
	// the default DHCP client run there. Zero or negative: the current netns.
	NetNS netns.NsHandle
	DHCP  DHCPFunc // nil: package dhcp in NetNS
	Logf  func(string, ...any)

	ops       netOps // test hook: a recording fake instead of Handle
	failAfter int    // test hook: fail the change after N successful ones
}

// Change is one modification Apply made (or, with DryRun, would make).
type Change struct {
	Op   string // add, del, set, create, rename, enslave, up, dhcp
	Link string
	What string
}

func (c Change) String() string {
	if c.What == "" {
		return c.Link + ": " + c.Op
	}
	return c.Link + ": " + c.Op + " " + c.What
}

// Report lists the changes and the warnings of one Apply.
type Report struct {
	Changes  []Change
	Warnings []string
}

// String is a human-readable plan or summary, one change per line.
func (r Report) String() string {
	var b strings.Builder
	if len(r.Changes) == 0 {
		b.WriteString("no changes\n")
	}
	for _, c := range r.Changes {
		b.WriteString(c.String() + "\n")
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}
