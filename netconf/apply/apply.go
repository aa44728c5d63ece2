package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"

	"guestbridge/netconf"
)

// target is one configured interface resolved to its kernel link (nil in a
// dry run when the link would be created).
type target struct {
	key  string // state key: MAC or name:<ifname>
	name string // configured kernel name (after any rename)
	// sysName is the name the kernel has now, for /proc/sys paths: it
	// differs from name only in a dry run that plans a rename.
	sysName string
	link    netlink.Link
	l3      netconf.L3
}

// Apply makes the kernel match cfg. See the package comment; a failed step
// rolls back everything this call changed and returns an error naming it.
func Apply(ctx context.Context, cfg *netconf.Config, o Options) (Report, error) {
	if cfg == nil {
		return Report{}, errors.New("apply: no network config")
	}
	// The one normalisation every sink shares (netconf.Config.Normalise):
	// on-link gateways, host bits, bad links skipped. The source already
	// reported its warnings.
	cfg, _ = cfg.Normalised()
	if err := validate(cfg); err != nil {
		return Report{}, fmt.Errorf("invalid network config: %w", err)
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir
	}
	if o.DHCP == nil {
		o.DHCP = DefaultDHCP(o)
	}
	ops := o.ops
	if ops == nil {
		ops = newHandleOps(o.Handle, sysctl{ns: o.NetNS})
	}
	st, err := loadState(o.StateDir)
	if err != nil {
		return Report{}, err
	}
	r := &run{ops: ops, o: o}
	err = r.apply(ctx, cfg, st)
	if o.KeepGoing && err == nil && len(r.report.Failed) > 0 {
		err = errors.Join(r.report.Failed...)
	}
	if err != nil {
		if o.DryRun {
			return r.report, err
		}
		if !o.KeepGoing {
			return r.report, r.rollback(err)
		}
		// KeepGoing: what succeeded stays, and is recorded as ours.
		if serr := st.save(o.StateDir); serr != nil {
			err = errors.Join(err, fmt.Errorf("save %s: %w", o.StateDir, serr))
		}
		return r.report, err
	}
	if o.DryRun {
		return r.report, nil
	}
	if err := st.save(o.StateDir); err != nil {
		return r.report, r.rollback(fmt.Errorf("save %s: %w", o.StateDir, err))
	}
	return r.report, nil
}

// failed handles the failure of one interface's (or one route's) change:
// with KeepGoing it is recorded and the run goes on with the others, else
// it ends the run (and the run is rolled back).
func (r *run) failed(err error) error {
	if err == nil || !r.o.KeepGoing || errors.Is(err, context.Canceled) {
		return err
	}
	r.report.Failed = append(r.report.Failed, err)
	r.logf("error: %v", err)
	return nil
}

func (r *run) apply(ctx context.Context, cfg *netconf.Config, st *state) error {
	links, err := r.ops.LinkList()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	targets, err := r.ensureLinks(links, cfg)
	if err != nil {
		return err
	}
	if err := r.forgetDropped(links, targets, st); err != nil {
		return err
	}
	// Every interface is brought up first, then all DHCP leases are
	// requested at once under one budget (a missing server costs one
	// timeout, not one per interface and family).
	var up []*target
	for _, t := range targets {
		err := r.setUp(t.name, t.link)
		if err == nil {
			up = append(up, t)
		}
		if err := r.failed(err); err != nil {
			return err
		}
	}
	if err := r.allLeases(ctx, up); err != nil {
		return err
	}
	var routes []wantedRoute
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.failed(r.ensureL3(t, st)); err != nil {
			return err
		}
		idx := 0
		if t.link != nil {
			idx = t.link.Attrs().Index
		}
		for _, rt := range t.l3.Routes {
			dynamic := t.l3.DHCP4
			if rt.To.Addr().Is6() {
				dynamic = t.l3.DHCP6 || (t.l3.AcceptRA != nil && *t.l3.AcceptRA)
			}
			routes = append(routes, wantedRoute{t.name, idx, rt, dynamic})
		}
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	for _, t := range targets {
		if t.link != nil {
			names[t.link.Attrs().Index] = t.name
		}
	}
	return r.ensureRoutes(routes, names)
}

// forgetDropped removes the addresses we added to interfaces the config no
// longer has at all, found by the MAC (or name) they were recorded under.
// Records of interfaces that are not present are kept: the NIC may return.
func (r *run) forgetDropped(links []netlink.Link, targets []*target, st *state) error {
	configured := map[string]bool{}
	for _, t := range targets {
		configured[t.key] = true
	}
	for _, key := range slices.Sorted(maps.Keys(st.Addresses)) {
		if configured[key] {
			continue
		}
		var link netlink.Link
		if name, ok := strings.CutPrefix(key, "name:"); ok {
			link, _ = existing(links, name, "")
		} else if mac, err := net.ParseMAC(key); err == nil {
			if found, _ := linksWithMAC(links, mac); len(found) == 1 {
				link = found[0]
			}
		}
		if link == nil {
			continue
		}
		t := &target{key: key, name: link.Attrs().Name, sysName: link.Attrs().Name, link: link}
		record, err := r.ensureAddresses(t, nil, st.Addresses[key])
		if err != nil {
			return err
		}
		st.Addresses[key] = record
	}
	return nil
}

// ensureLinks handles layer 2: match ethernets by MAC, rename, MTU, then
// bonds and VLANs. It returns every interface that exists (or, in a dry
// run, would exist) in config order: ethernets, bonds, VLANs.
func (r *run) ensureLinks(links []netlink.Link, cfg *netconf.Config) ([]*target, error) {
	eths := matchEthernets(r, links, cfg.Ethernets)
	byName := map[string]netlink.Link{}
	var targets []*target
	for _, e := range cfg.Ethernets {
		l, ok := eths[e.ID]
		if !ok {
			continue
		}
		sysName := l.Attrs().Name
		if e.Named {
			if err := r.rename(l, e.ID); err != nil {
				return nil, err
			}
		}
		if !r.o.DryRun {
			sysName = l.Attrs().Name
		}
		byName[e.ID] = l
		targets = append(targets, &target{stateKey(e.MAC, ""), l.Attrs().Name, sysName, l, e.L3})
	}
	for _, b := range cfg.Bonds {
		l, err := r.ensureBond(links, b, eths)
		if err != nil {
			return nil, err
		}
		byName[b.Name] = l
		targets = append(targets, &target{stateKey(b.MAC, b.Name), b.Name, b.Name, l, b.L3})
	}
	for _, v := range cfg.VLANs {
		parent, ok := byName[v.Link]
		if !ok {
			r.warn("%s: link %s: not present; VLAN skipped", v.Name, v.Link)
			continue
		}
		l, err := r.ensureVLAN(links, v, parent)
		if err != nil {
			return nil, err
		}
		targets = append(targets, &target{stateKey(v.MAC, v.Name), v.Name, v.Name, l, v.L3})
	}
	return targets, nil
}

// ensureL3 sets MTU, addresses and accept_ra of t (already up, its leases
// merged). Lease results join the wanted state so they are journaled and
// recorded like static ones.
func (r *run) ensureL3(t *target, st *state) error {
	if err := r.setMTU(t.name, t.link, t.l3.MTU); err != nil {
		return err
	}
	record, err := r.ensureAddresses(t, t.l3.Addresses, st.Addresses[t.key])
	if err != nil {
		return err
	}
	st.Addresses[t.key] = record
	return r.setAcceptRA(t)
}

func (r *run) setAcceptRA(t *target) error {
	if t.l3.AcceptRA == nil {
		return nil
	}
	want := "0"
	if *t.l3.AcceptRA {
		want = "1"
	}
	return r.setIfSysctl(t, "ipv6", "accept_ra", want)
}

// allLeases asks o.DHCP for the DHCP families of every target at once,
// under one budget (Options.DHCPTimeout), and merges the answers into each
// target's l3. A dry run only reports that it would ask. No lease is a
// warning, not a failure: the static part of the config still applies.
func (r *run) allLeases(ctx context.Context, targets []*target) error {
	type ask struct {
		t     *target
		v6    bool
		lease netconf.L3
		err   error
	}
	var asks []*ask
	for _, t := range targets {
		for _, v6 := range []bool{false, true} {
			if (!v6 && t.l3.DHCP4) || (v6 && t.l3.DHCP6) {
				asks = append(asks, &ask{t: t, v6: v6})
			}
		}
	}
	if len(asks) == 0 {
		return nil
	}
	if r.o.DryRun {
		for _, a := range asks {
			r.report.Changes = append(r.report.Changes, Change{"dhcp", a.t.name, "request " + familyName(a.v6) + " lease"})
		}
		return nil
	}
	bctx, cancel := context.WithTimeout(ctx, r.o.dhcpTimeout())
	defer cancel()
	var wg sync.WaitGroup
	for _, a := range asks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.lease, a.err = r.o.DHCP(bctx, a.t.name, a.v6)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, a := range asks {
		if a.err != nil {
			r.warn("%s: %s: %v", a.t.name, familyName(a.v6), a.err)
			continue
		}
		mergeLease(&a.t.l3, a.lease)
	}
	return nil
}

func familyName(v6 bool) string {
	if v6 {
		return "DHCPv6"
	}
	return "DHCPv4"
}

// mergeLease adds what a lease brings to the configured L3: static values
// win (MTU), lease routes get DHCPRouteMetric.
func mergeLease(l3 *netconf.L3, lease netconf.L3) {
	if l3.MTU == 0 {
		l3.MTU = lease.MTU
	}
	l3.Addresses = appendNew(l3.Addresses, lease.Addresses...)
	l3.Routes = slices.Clip(l3.Routes)
	for _, rt := range lease.Routes {
		if rt.Metric == 0 {
			rt.Metric = l3.DHCPRouteMetric
		}
		l3.Routes = append(l3.Routes, rt)
	}
	// Clip: never append into the caller's config arrays.
	l3.Nameservers = append(slices.Clip(l3.Nameservers), lease.Nameservers...)
	l3.Search = append(slices.Clip(l3.Search), lease.Search...)
}

func appendNew(list []netip.Prefix, add ...netip.Prefix) []netip.Prefix {
	out := append([]netip.Prefix(nil), list...)
	for _, p := range add {
		dup := false
		for _, q := range out {
			dup = dup || q.Addr() == p.Addr()
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}
