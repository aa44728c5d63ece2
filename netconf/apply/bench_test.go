package apply

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	benchapply "guestbridge/bench/apply"
)

// BenchmarkApplyLarge applies benchapply.LargeConfig (4 NICs, 64 addresses,
// 512 routes) to a flushed namespace each iteration. bench/apply/bench.sh
// compares the same change made by ip commands.
func BenchmarkApplyLarge(b *testing.B) {
	var macs []string
	for i := range benchapply.NICs {
		macs = append(macs, benchapply.MAC(i).String())
	}
	l := newLab(b, macs...)
	cfg := benchapply.LargeConfig()
	flush := func() {
		for i := range benchapply.NICs {
			nic := "nic" + strconv.Itoa(i)
			l.guest.IP(b, "link", "set", nic, "down")
			l.guest.IP(b, "addr", "flush", "dev", nic)
			l.guest.IP(b, "link", "set", nic, "mtu", "1500")
		}
		os.Remove(filepath.Join(l.stateDir, stateFile))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		flush()
		b.StartTimer()
		rep, err := Apply(context.Background(), cfg, l.opts())
		if err != nil {
			b.Fatal(err)
		}
		// Per NIC: up, MTU, every address, every route.
		if want := benchapply.NICs * (2 + benchapply.AddressesPerNIC + benchapply.RoutesPerNIC); len(rep.Changes) != want {
			b.Fatalf("%d changes, want %d:\n%s", len(rep.Changes), want, rep)
		}
	}
}
