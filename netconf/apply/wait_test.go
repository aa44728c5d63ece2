package apply

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"guestbridge/netconf"
)

// Issue 10: a NIC must only count once udev is done with it (renamed if
// it had to be). With UdevDir set, WaitLinks waits for n<ifindex> there.
func TestWaitLinksWaitsForUdev(t *testing.T) {
	t.Parallel()
	l := newLab(t, mac0)
	udev := t.TempDir()
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mustMAC(mac0)}}}
	link, err := l.guest.Handle.LinkByName("nic0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(time.Second)
		os.WriteFile(filepath.Join(udev, fmt.Sprintf("n%d", link.Attrs().Index)), []byte("I:1\n"), 0o644)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	missing := WaitLinks(ctx, cfg, WaitOptions{Handle: l.guest.Handle, UdevDir: udev})
	if took := time.Since(start); len(missing) != 0 || took < 900*time.Millisecond {
		t.Fatalf("missing %v after %s; want none, after udev's record appeared (~1 s)", missing, took)
	}
	// Without udev (no daemon), a present NIC is enough at once.
	start = time.Now()
	if missing := WaitLinks(ctx, cfg, WaitOptions{Handle: l.guest.Handle}); len(missing) != 0 || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("without udev: missing %v after %s", missing, time.Since(start))
	}
	// A MAC that never appears is reported when the budget ends.
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	cfg.Ethernets = append(cfg.Ethernets, netconf.Ethernet{ID: "nic9", MAC: mustMAC(mac2)})
	if missing := WaitLinks(short, cfg, WaitOptions{Handle: l.guest.Handle}); len(missing) != 1 || missing[0] != "nic9 ("+mac2+")" {
		t.Fatalf("missing = %q, want nic9", missing)
	}
}
