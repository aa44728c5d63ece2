package xenstore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// WaitDial calls Dial until it succeeds or ctx ends, waiting 100 ms doubling
// to 5 s between tries. It logs one line on the first failure and then at
// most once a minute, so an agent started before xenstored waits quietly
// instead of exiting. The client it returns logs its reconnects to logf.
func WaitDial(ctx context.Context, path string, logf func(format string, args ...any)) (*Client, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	where := path
	if where == "" {
		where = fmt.Sprint(candidatePaths())
	}
	b := newBackoff()
	for attempt := 1; ; attempt++ {
		c, err := Dial(ctx, path)
		if err == nil {
			if attempt > 1 {
				logf("xenstore: connected to %s after %d attempts", where, attempt)
			}
			c.SetLogf(logf)
			return c, nil
		}
		if b.shouldLog() {
			logf("xenstore: not available yet at %s: %v; retrying", where, errors.Unwrap(err))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("xenstore: gave up waiting for %s: %w (last error: %v)", where, ctx.Err(), errors.Unwrap(err))
		case <-time.After(b.next()):
		}
	}
}
