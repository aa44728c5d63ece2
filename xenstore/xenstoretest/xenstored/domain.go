package xenstored

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// AddDomainRing creates the fake ring page of domain domid for the daemon
// on socketPath, so that an XS_INTRODUCE of that domain succeeds (and fires
// @introduceDomain). Nothing drives the ring: the domain stays silent.
func AddDomainRing(t testing.TB, socketPath string, domid uint32) {
	t.Helper()
	runningMu.Lock()
	d := running[socketPath]
	runningMu.Unlock()
	if d == nil {
		t.Fatalf("xenstored.AddDomainRing: no daemon started on %s", socketPath)
	}
	ring := filepath.Join(d.dir, "fake", fmt.Sprintf("ring-%d", domid))
	if err := os.WriteFile(ring, make([]byte, 4096), 0o644); err != nil {
		t.Fatalf("xenstored.AddDomainRing: %v", err)
	}
}
