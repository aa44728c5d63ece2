package agent

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeGuestRoot builds /proc/meminfo, /etc/os-release and two NICs under a
// temp root: eth0 is vif 0, eth1 is vif 3, lo has no Xen device.
func fakeGuestRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"proc/meminfo":                        "MemTotal:        2030592 kB\nMemFree:          100000 kB\nMemAvailable:    1500000 kB\n",
		"etc/os-release":                      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
		"sys/class/net/eth0/device/nodename":  "device/vif/0\n",
		"sys/class/net/eth1/device/nodename":  "device/vif/3\n",
		"sys/class/net/lo/addr_assign_type":   "0\n",
		"sys/class/net/ens5/device/nodename":  "something/else\n",
		"sys/class/net/weird/device/nodename": "device/vif/x\n",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func newTestMetrics(t *testing.T) (*metricsPublisher, *fakeStore, map[string][]netip.Addr) {
	s := newFakeStore()
	m := newMetricsPublisher(s, fakeGuestRoot(t), t.Logf)
	m.now = func() time.Time { return time.Date(2026, 11, 3, 5, 4, 3, 0, time.UTC) }
	addrs := map[string][]netip.Addr{
		"eth0": {netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10"), netip.MustParseAddr("198.51.100.7")},
		"eth1": {netip.MustParseAddr("203.0.113.5")},
	}
	m.addrs = func(name string) ([]netip.Addr, error) {
		a, ok := addrs[name]
		if !ok {
			return nil, errors.New("no such interface")
		}
		return a, nil
	}
	return m, s, addrs
}

func TestMetricsPublish(t *testing.T) {
	m, s, addrs := newTestMetrics(t)
	ctx := context.Background()
	m.publish(ctx)
	want := map[string]string{
		"data/meminfo_total": "2030592",
		"data/meminfo_free":  "1500000",
		"data/os_name":       "Debian GNU/Linux 12 (bookworm)",
		"data/os_distro":     "debian",
		"data/os_majorver":   "12",
		"data/os_minorver":   "0",
		"data/os_uname":      unameRelease(),
		"attr/vif/0/ipv4/0":  "192.0.2.10",
		"attr/vif/0/ipv4/1":  "198.51.100.7",
		"attr/vif/0/ipv6/0":  "2001:db8::10",
		"attr/vif/3/ipv4/0":  "203.0.113.5",
		"data/updated":       "Tue Nov  3 05:04:03 2026",
	}
	for k, v := range want {
		if got, _ := s.get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if unameRelease() == "" {
		t.Error("uname release is empty")
	}
	writes := len(s.opsMatching("write "))
	if writes != len(want) {
		t.Errorf("%d writes, want %d", writes, len(want))
	}

	// Nothing changed: nothing written, data/updated untouched.
	m.publish(ctx)
	if n := len(s.opsMatching("write ")); n != writes {
		t.Fatalf("unchanged metrics wrote %d keys", n-writes)
	}

	// An address went away, memory changed: one write, one removal, updated.
	addrs["eth0"] = addrs["eth0"][:2]
	os.WriteFile(filepath.Join(m.root, "proc/meminfo"), []byte("MemTotal: 2030592 kB\nMemFree: 4242 kB\n"), 0o644)
	m.publish(ctx)
	if got := s.opsMatching("write ")[writes:]; len(got) != 2 || got[0] != "write data/meminfo_free" || got[1] != "write data/updated" {
		t.Fatalf("writes after change = %q", got)
	}
	if _, ok := s.get("attr/vif/0/ipv4/1"); ok {
		t.Fatal("stale address key not removed")
	}
	if got, _ := s.get("data/meminfo_free"); got != "4242" {
		t.Fatalf("meminfo_free = %q, want MemFree fallback 4242", got)
	}

	// A new unique-domain-id (migration) rewrites everything.
	writes = len(s.opsMatching("write "))
	s.put("unique-domain-id", "new-uuid")
	m.publish(ctx)
	if n := len(s.opsMatching("write ")) - writes; n != len(want)-1 {
		t.Fatalf("after domain change wrote %d keys, want %d", n, len(want)-1)
	}
}

func TestMetricsWriteErrorClearsCache(t *testing.T) {
	m, s, _ := newTestMetrics(t)
	s.fail("write attr/vif/3", 1)
	m.publish(context.Background())
	if m.cache != nil {
		t.Fatal("cache kept after a write error")
	}
	m.publish(context.Background())
	if got, _ := s.get("attr/vif/3/ipv4/0"); got != "203.0.113.5" {
		t.Fatalf("key not written on retry: %q", got)
	}
}

func TestMetricsInRunLoop(t *testing.T) {
	s := newFakeStore()
	a := New(s, &fakeActions{}, Options{Logf: t.Logf, MetricsInterval: 10 * time.Millisecond, Root: fakeGuestRoot(t)})
	runAgent(t, a)
	waitFor(t, "meminfo", func() bool { v, _ := s.get("data/meminfo_total"); return v == "2030592" })
}

func TestOSInfoVariants(t *testing.T) {
	got := osInfo(map[string]string{"NAME": "Alpine Linux", "ID": "alpine", "VERSION_ID": "3.19.1"})
	if got["data/os_name"] != "Alpine Linux" || got["data/os_majorver"] != "3" || got["data/os_minorver"] != "19" {
		t.Fatalf("osInfo = %v", got)
	}
	if len(osInfo(map[string]string{})) != 0 {
		t.Fatal("empty os-release produced keys")
	}
}
