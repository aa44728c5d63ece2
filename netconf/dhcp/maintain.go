package dhcp

import (
	"context"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
)

// retryFloor keeps renew/rebind retries from spinning when the lease
// times are tiny (RFC 2131 §4.4.5 suggests half the remaining time, down to
// 60 s; we allow shorter leases in tests but not a busy loop).
const retryFloor = 2 * time.Second

// Maintain keeps a DHCPv4 lease on ifname: it requests one, calls apply,
// renews at T1 (unicast to the server), rebinds from T2 (broadcast), and
// starts over when the lease expires. A failed apply never ends it: apply
// is retried with backoff (2 s doubling to 1 min) until it succeeds or the
// next renewal brings a newer lease. It returns when ctx ends (nil) or the
// client cannot be opened.
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
			applyUntil(ctx, lease.Acquired.Add(lease.T1), func() error { return apply(lease) }, ifname, "DHCPv4", o)
		}
		next, err := extend(ctx, c, lease, ifname, o)
		if err != nil {
			return err
		}
		if next != nil {
			lease = next
			applyUntil(ctx, lease.Acquired.Add(lease.T1), func() error { return apply(lease) }, ifname, "DHCPv4", o)
		}
	}
	return nil
}

// Maintain6 keeps a stateful DHCPv6 lease on ifname: it requests one,
// calls apply, and requests again at T1 (the same server gives the same
// address to the same DUID/IAID); a failure is retried with backoff. A
// failed apply never ends it. It returns when ctx ends.
func Maintain6(ctx context.Context, ifname string, apply func(*Lease6) error, o Options) error {
	wait := retryFloor
	for ctx.Err() == nil {
		l, err := Request6(ctx, ifname, o)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			o.logf("%v; retrying in %s", err, wait)
			sleep(ctx, wait)
			wait = min(2*wait, maxBackoff)
			continue
		}
		wait = retryFloor
		t1 := l.T1
		if t1 <= 0 {
			t1 = l.PreferredLifetime / 2
		}
		if t1 <= 0 {
			t1 = time.Hour
		}
		renewAt := l.Acquired.Add(max(t1, retryFloor))
		applyUntil(ctx, renewAt, func() error { return apply(l) }, ifname, "DHCPv6", o)
		sleep(ctx, time.Until(renewAt))
	}
	return nil
}

// maxBackoff caps the wait between retries of a failed apply or request.
const maxBackoff = time.Minute

// applyUntil calls apply until it succeeds, ctx ends or deadline passes,
// waiting 2 s, 4 s, … (at most maxBackoff, never past deadline) between
// attempts. Each failure is logged.
func applyUntil(ctx context.Context, deadline time.Time, apply func() error, ifname, family string, o Options) {
	wait := retryFloor
	for ctx.Err() == nil {
		err := apply()
		if err == nil {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			o.logf("%s: apply %s lease: %v; giving up on this lease, next one at renewal", ifname, family, err)
			return
		}
		d := min(wait, left)
		o.logf("%s: apply %s lease: %v; retrying in %s", ifname, family, err, d.Round(time.Second))
		sleep(ctx, d)
		wait = min(2*wait, maxBackoff)
	}
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
