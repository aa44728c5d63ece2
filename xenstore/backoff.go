package xenstore

import "time"

// backoff yields capped exponential delays (100 ms doubling to 5 s) and
// decides when a retry is worth a log line, so a long outage logs sparingly.
type backoff struct {
	delay   time.Duration
	lastLog time.Time
}

const (
	backoffMin      = 100 * time.Millisecond
	backoffMax      = 5 * time.Second
	backoffLogEvery = time.Minute
)

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) next() time.Duration {
	if b.delay == 0 {
		b.delay = backoffMin
	} else {
		b.delay = min(2*b.delay, backoffMax)
	}
	return b.delay
}

// shouldLog is true on the first failure and then at most once a minute.
func (b *backoff) shouldLog() bool {
	now := time.Now()
	if b.lastLog.IsZero() || now.Sub(b.lastLog) >= backoffLogEvery {
		b.lastLog = now
		return true
	}
	return false
}
