package provision

import (
	"context"
	"fmt"
	"os"
	"time"

	"guestbridge/netconf"
	"guestbridge/netconf/apply"
	"guestbridge/netconf/dhcp"
)

// defaultDHCP requests leases with package dhcp in o's namespace.
func defaultDHCP(o Options) apply.DHCPFunc {
	return apply.DefaultDHCP(apply.Options{NetNS: o.NetNS, Handle: o.Handle, Logf: debugf(o)})
}

func debugf(o Options) func(string, ...any) {
	return func(format string, a ...any) { o.Log.Debug(fmt.Sprintf(format, a...)) }
}

// recheck is how often the lease keeper looks at the recorded config for
// changes made by another process (the boot unit, a user's apply).
const recheck = 10 * time.Second

// KeepLeases renews the DHCPv4 and DHCPv6 leases of the config in force
// until ctx ends. It follows the config: interfaces that gain DHCP (a
// resetnetwork, a later boot apply) get a keeper, interfaces that lose it
// lose theirs. Every new or renewed lease re-applies the config in force
// as recorded at that moment (never a copy taken earlier), under the
// machine lock, with the leases held. Without any DHCP interface it only
// looks at the record now and then (cheap).
func (m *Machine) KeepLeases(ctx context.Context) {
	running := map[leaseKey]context.CancelFunc{}
	defer func() {
		for _, cancel := range running {
			cancel()
		}
	}()
	var lastMod time.Time
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	for first := true; ; first = false {
		if fi, err := os.Stat(m.currentPath()); first || err == nil && !fi.ModTime().Equal(lastMod) {
			if err == nil {
				lastMod = fi.ModTime()
			}
			m.syncKeepers(ctx, running)
		}
		select {
		case <-ctx.Done():
			return
		case <-m.changed:
			m.syncKeepers(ctx, running)
		case <-tick.C:
		}
	}
}

// syncKeepers starts a keeper for each DHCP interface of the config in
// force that has none and stops those no longer wanted.
func (m *Machine) syncKeepers(ctx context.Context, running map[leaseKey]context.CancelFunc) {
	cfg, err := m.Current()
	if err != nil {
		m.o.Log.Warn("reading the config in force failed", "err", err)
		return
	}
	want := map[leaseKey]bool{}
	if cfg != nil {
		v4, v6 := apply.DHCPInterfaces(cfg, m.o.Handle)
		for _, n := range v4 {
			want[leaseKey{n, false}] = true
		}
		for _, n := range v6 {
			want[leaseKey{n, true}] = true
		}
	}
	for k, cancel := range running {
		if !want[k] {
			cancel()
			delete(running, k)
			m.drop(k.ifname, k.v6)
			m.o.Log.Info("stopped renewing a lease the config no longer has", "interface", k.ifname, "family", family(k.v6))
		}
	}
	for k := range want {
		if running[k] != nil {
			continue
		}
		kctx, cancel := context.WithCancel(ctx)
		running[k] = cancel
		m.o.Log.Info("renewing DHCP lease", "interface", k.ifname, "family", family(k.v6))
		go m.keep(kctx, k)
	}
}

func family(v6 bool) string {
	if v6 {
		return "DHCPv6"
	}
	return "DHCPv4"
}

// keep maintains one lease; each lease (new or renewed) is applied.
func (m *Machine) keep(ctx context.Context, k leaseKey) {
	o := dhcp.Options{NetNS: m.o.NetNS, Handle: m.o.Handle, Logf: debugf(m.o)}
	if k.v6 {
		dhcp.Maintain6(ctx, k.ifname, func(l *dhcp.Lease6) error {
			return m.Renewed(ctx, k.ifname, true, l.Config(), l.Acquired.Add(l.ValidLifetime))
		}, o)
		return
	}
	for ctx.Err() == nil {
		err := dhcp.Maintain(ctx, k.ifname, func(l *dhcp.Lease4) error {
			return m.Renewed(ctx, k.ifname, false, l.Config(), l.Acquired.Add(l.LeaseTime))
		}, o)
		if err != nil && ctx.Err() == nil {
			// The client could not be opened (the interface went away):
			// try again later, the config may still want it.
			m.o.Log.Warn("DHCPv4 client failed; retrying", "interface", k.ifname, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(recheck):
			}
		}
	}
}

// Renewed records a new or renewed lease on ifname (valid until until) and
// re-applies the config in force with it, under the machine lock. An
// interface the config no longer configures for this family is left alone.
func (m *Machine) Renewed(ctx context.Context, ifname string, v6 bool, lease netconf.L3, until time.Time) error {
	m.hold(ifname, v6, lease, until)
	return m.locked(func() error {
		cfg, err := m.Current()
		if err != nil {
			return err
		}
		if cfg == nil {
			return nil
		}
		v4s, v6s := apply.DHCPInterfaces(cfg, m.o.Handle)
		names := v4s
		if v6 {
			names = v6s
		}
		wanted := false
		for _, n := range names {
			wanted = wanted || n == ifname
		}
		if !wanted {
			return nil
		}
		rep, err := apply.Apply(ctx, cfg, m.applyOptions(false, true))
		m.o.Log.Debug("lease applied", "interface", ifname, "family", family(v6), "changes", len(rep.Changes), "err", err)
		for _, c := range rep.Changes {
			m.o.Log.Info(changeLine(c, false), "lease", family(v6))
		}
		for _, w := range rep.Warnings {
			m.o.Log.Warn(w)
		}
		return err
	})
}
