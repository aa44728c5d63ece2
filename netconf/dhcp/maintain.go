package dhcp

import (
	"context"
	"fmt"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
)

// retryFloor keeps renew/rebind retries from spinning when the lease
// times are tiny (RFC 2131 §4.4.5 suggests half the remaining time, down to
// 60 s; we allow shorter leases in tests but not a busy loop).
const retryFloor = 2 * time.Second

// Maintain keeps a DHCPv4 lease on ifname for the agent: it requests one,
// calls apply, renews at T1 (unicast to the server), rebinds from T2
// (broadcast), and starts over when the lease expires. It returns when ctx
// ends (nil) or apply fails (that error).
func Maintain(ctx context.Context, ifname string, apply func(*Lease4) error, o Options) error {
	c, err := client4(ifname, o)
	if err != nil {
		return err
	}
	defer c.Close()
	var lease *Lease4
	for ctx.Err() == nil {
		if lease == nil || time.Now().After(lease.Acquired.Add(lease.LeaseTime)) {
			lease, err = request4(ctx, c, ifname, o)
			if err != nil {
				o.logf("%v; retrying", err)
				sleep(ctx, retryFloor)
				continue
			}
			if err := apply(lease); err != nil {
				return fmt.Errorf("%s: apply DHCPv4 lease: %w", ifname, err)
			}
		}
		next, err := extend(ctx, c, lease, ifname, o)
		if err != nil {
			return err
		}
		if next != nil {
			lease = next
			if err := apply(lease); err != nil {
				return fmt.Errorf("%s: apply DHCPv4 lease: %w", ifname, err)
			}
		}
	}
	return nil
}

// extend waits for T1 and renews, then from T2 rebinds, until the lease
// expires. It returns the extended lease, or nil when the lease ran out.
func extend(ctx context.Context, c *nclient4.Client, l *Lease4, ifname string, o Options) (*Lease4, error) {
	t1, t2, end := l.Acquired.Add(l.T1), l.Acquired.Add(l.T2), l.Acquired.Add(l.LeaseTime)
	if !sleep(ctx, time.Until(t1)) {
		return nil, nil
	}
	for now := time.Now(); now.Before(end); now = time.Now() {
		var raw *nclient4.Lease
		var err error
		if now.Before(t2) {
			raw, err = c.Renew(ctx, l.raw, requested4)
		} else {
			raw, err = c.Request(ctx, requested4) // rebind: any server may answer
		}
		if err == nil {
			return finish4(raw, ifname, o)
		}
		o.logf("%s: DHCPv4 renew/rebind: %v", ifname, err)
		if !sleep(ctx, retryWait(now, t2, end)) {
			return nil, nil
		}
	}
	return nil, nil
}

// retryWait is half the time to the next deadline (T2, then expiry), at
// least retryFloor.
func retryWait(now, t2, end time.Time) time.Duration {
	next := end
	if now.Before(t2) {
		next = t2
	}
	return max(next.Sub(now)/2, retryFloor)
}

// sleep waits d or until ctx ends; it reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
