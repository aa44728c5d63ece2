package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"guestbridge/netconf"
	"guestbridge/netconf/apply"
	"guestbridge/netconf/dhcp"
)

// leaseKeeper renews the DHCPv4 leases of a config's DHCP interfaces for as
// long as the agent runs (boot's apply took one lease and cannot renew it).
// Every new or renewed lease re-applies the whole config with the leases held,
// so addresses and routes follow the lease and nothing else is disturbed.
type leaseKeeper struct {
	cfg      *netconf.Config
	stateDir string
	mu       sync.Mutex // one Apply at a time
	leases   map[string]netconf.L3
}

// dhcp4Interfaces names the kernel interfaces that take a DHCPv4 lease:
// a named ethernet by its name, an unnamed one by its local name for its MAC.
func dhcp4Interfaces(cfg *netconf.Config, local map[string]string) []string {
	var names []string
	for _, e := range cfg.Ethernets {
		if !e.DHCP4 {
			continue
		}
		switch {
		case e.Named:
			names = append(names, e.ID)
		case local[strings.ToLower(e.MAC.String())] != "":
			names = append(names, local[strings.ToLower(e.MAC.String())])
		}
	}
	for _, b := range cfg.Bonds {
		if b.DHCP4 {
			names = append(names, b.Name)
		}
	}
	for _, v := range cfg.VLANs {
		if v.DHCP4 {
			names = append(names, v.Name)
		}
	}
	return names
}

// run keeps one lease per interface until ctx ends.
func (k *leaseKeeper) run(ctx context.Context, ifnames []string) {
	k.leases = map[string]netconf.L3{}
	var wg sync.WaitGroup
	for _, ifname := range ifnames {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := dhcp.Maintain(ctx, ifname, func(l *dhcp.Lease4) error {
				return k.applyLease(ctx, ifname, l.Config())
			}, dhcp.Options{Logf: logf})
			if err != nil && ctx.Err() == nil {
				logf("warning: %s: DHCP lease maintenance stopped: %v", ifname, err)
			}
		}()
	}
	wg.Wait()
}

func (k *leaseKeeper) applyLease(ctx context.Context, ifname string, lease netconf.L3) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.leases[ifname] = lease
	held := func(ctx context.Context, name string, v6 bool) (netconf.L3, error) {
		if l, ok := k.leases[name]; ok && !v6 {
			return l, nil
		}
		if v6 {
			l, err := dhcp.Request6(ctx, name, dhcp.Options{Logf: logf})
			if err != nil {
				return netconf.L3{}, err
			}
			return l.Config(), nil
		}
		return netconf.L3{}, fmt.Errorf("%s: no DHCPv4 lease yet", name)
	}
	rep, err := apply.Apply(ctx, k.cfg, apply.Options{StateDir: k.stateDir, DHCP: held, Logf: logf})
	for _, c := range rep.Changes {
		logf("dhcp %s: %s", ifname, c)
	}
	return err
}
