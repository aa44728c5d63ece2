// Package apply makes the kernel's network state match a netconf.Config
// through netlink, for images without cloud-init: links matched by MAC,
// bonds, VLANs, addresses, routes, accept_ra and DHCP. Changes are journaled
// and rolled back when a step fails; a second run changes nothing.
//
// Ownership: Apply only ever removes what it added. Addresses it added are
// recorded per interface MAC in StateDir/apply-state.json; routes it added
// carry rtm_protocol RouteProtocol (198). Everything else on the machine,
// including other addresses and routes on managed links, loopback, tun/tap
// and virtual devices the config does not name, is left alone.
//
// Order: validate (nothing is touched if the config is bad), then layer 2
// (match by permanent MAC, rename, bonds with their options, members
// enslaved, VLANs), then per interface: up, DHCP leases, MTU, addresses,
// accept_ra; finally routes (stale ones of ours first, then missing ones).
//
// Known limits: a DHCP lease is applied once, without lifetimes (the agent
// keeps it with dhcp.Maintain); if a DHCP request fails, the addresses and
// routes of the previous lease are removed as stale. Rolling back the
// deletion of a primary IPv4 address re-adds it as a secondary when another
// address of its subnet remains, and routes the kernel dropped together with
// a deleted address are not restored. Existing bonds keep their options.
package apply

import (
	"context"
	"fmt"
	"strings"
	"time"

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
	// DHCPTimeout is the one budget for all DHCP requests of a run, which
	// run in parallel; default DefaultDHCPTimeout.
	DHCPTimeout time.Duration
	// KeepGoing (boot): a failure on one interface or route is recorded in
	// Report.Failed and the others still apply; nothing is rolled back.
	// Without it a failed step rolls back the whole run.
	KeepGoing bool
	Logf      func(string, ...any)

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

// DefaultDHCPTimeout bounds all DHCP requests of one Apply together.
const DefaultDHCPTimeout = 30 * time.Second

func (o Options) dhcpTimeout() time.Duration {
	if o.DHCPTimeout > 0 {
		return o.DHCPTimeout
	}
	return DefaultDHCPTimeout
}

// Report lists the changes, the warnings and (with KeepGoing) the failed
// changes of one Apply.
type Report struct {
	Changes  []Change
	Warnings []string
	Failed   []error
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
