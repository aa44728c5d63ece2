package system

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	ns1 = netip.MustParseAddr("198.51.100.53")
	ns2 = netip.MustParseAddr("2001:db8::53")
	ns3 = netip.MustParseAddr("192.0.2.53")
	ns4 = netip.MustParseAddr("203.0.113.53")
)

func TestSetDNSPlainFile(t *testing.T) {
	r := testRoot(t)
	put(t, r, "etc/resolv.conf", "nameserver 10.0.0.1\n", 0o644)
	if _, err := r.SetDNS([]netip.Addr{ns1, ns2}, []string{"example.com", "corp.example"}); err != nil {
		t.Fatal(err)
	}
	want := "# Written by guestbridge from the instance's metadata; rewritten on each run.\n" +
		"nameserver 198.51.100.53\nnameserver 2001:db8::53\nsearch example.com corp.example\n"
	if got := read(t, r, "etc/resolv.conf"); got != want {
		t.Errorf("resolv.conf:\n%s\nwant:\n%s", got, want)
	}
	if changed, err := r.SetDNS([]netip.Addr{ns1, ns2}, []string{"example.com", "corp.example"}); err != nil || changed {
		t.Errorf("same DNS again: changed=%v, %v; want false", changed, err)
	}
	if got := read(t, r, "etc/resolv.conf"+BackupSuffix); got != "nameserver 10.0.0.1\n" {
		t.Errorf("backup %q", got)
	}
	if resolved, err := r.UsesSystemdResolved(); err != nil || resolved {
		t.Errorf("UsesSystemdResolved = %v, %v; want false", resolved, err)
	}
	if _, err := os.Lstat(filepath.Join(r.Dir, ResolvedDropIn)); !errors.Is(err, os.ErrNotExist) {
		t.Error("drop-in written for a plain resolv.conf")
	}
}

func TestSetDNSMissingFileCreated(t *testing.T) {
	r := testRoot(t)
	if _, err := r.SetDNS([]netip.Addr{ns1}, nil); err != nil {
		t.Fatal(err)
	}
	if got := read(t, r, "etc/resolv.conf"); !strings.HasSuffix(got, "\nnameserver 198.51.100.53\n") || strings.Contains(got, "search") {
		t.Errorf("resolv.conf %q", got)
	}
	if m := lstat(t, r, "etc/resolv.conf").Mode().Perm(); m != 0o644 {
		t.Errorf("mode %o", m)
	}
}

func TestSetDNSResolvedStubWritesDropIn(t *testing.T) {
	for _, target := range []string{
		"../run/systemd/resolve/stub-resolv.conf",
		"/run/systemd/resolve/stub-resolv.conf",
		"../run/systemd/resolve/resolv.conf",
	} {
		r := testRoot(t)
		put(t, r, "run/systemd/resolve/stub-resolv.conf", "nameserver 127.0.0.53\n", 0o644)
		symlink(t, r, target, "etc/resolv.conf")
		if resolved, err := r.UsesSystemdResolved(); err != nil || !resolved {
			t.Fatalf("%s: UsesSystemdResolved = %v, %v; want true", target, resolved, err)
		}
		if _, err := r.SetDNS([]netip.Addr{ns1, ns2, ns3, ns4}, []string{"example.com"}); err != nil {
			t.Fatal(err)
		}
		want := "# Written by guestbridge from the instance's metadata; rewritten on each run.\n[Resolve]\n" +
			"DNS=198.51.100.53 2001:db8::53 192.0.2.53 203.0.113.53\nDomains=example.com\n"
		if got := read(t, r, ResolvedDropIn); got != want {
			t.Errorf("%s: drop-in:\n%s\nwant:\n%s", target, got, want)
		}
		if changed, err := r.SetDNS([]netip.Addr{ns1, ns2, ns3, ns4}, []string{"example.com"}); err != nil || changed {
			t.Errorf("%s: same DNS again: changed=%v, %v; want false (no reload needed)", target, changed, err)
		}
		if got, err := os.Readlink(filepath.Join(r.Dir, "etc/resolv.conf")); err != nil || got != target {
			t.Errorf("%s: link changed to %q, %v", target, got, err)
		}
		if got := read(t, r, "run/systemd/resolve/stub-resolv.conf"); got != "nameserver 127.0.0.53\n" {
			t.Errorf("%s: resolved's stub file was written", target)
		}
	}
}

func TestSetDNSReplacesOtherSymlink(t *testing.T) {
	r := testRoot(t)
	put(t, r, "run/resolvconf/resolv.conf", "nameserver 10.9.9.9\n", 0o644)
	symlink(t, r, "../run/resolvconf/resolv.conf", "etc/resolv.conf")
	if _, err := r.SetDNS([]netip.Addr{ns1}, nil); err != nil {
		t.Fatal(err)
	}
	if fi := lstat(t, r, "etc/resolv.conf"); !fi.Mode().IsRegular() {
		t.Errorf("resolv.conf is %v, want a regular file", fi.Mode().Type())
	}
	if got := read(t, r, "run/resolvconf/resolv.conf"); got != "nameserver 10.9.9.9\n" {
		t.Error("link target was written")
	}
}

func TestSetDNSWarnsBeyondThree(t *testing.T) {
	r := testRoot(t)
	var logBuf bytes.Buffer
	r.Log = slog.New(slog.NewTextHandler(&logBuf, nil))
	if _, err := r.SetDNS([]netip.Addr{ns1, ns2, ns3, ns4}, nil); err != nil {
		t.Fatal(err)
	}
	got := read(t, r, "etc/resolv.conf")
	if strings.Count(got, "nameserver ") != 3 || strings.Contains(got, ns4.String()) {
		t.Errorf("resolv.conf should hold the first 3 nameservers:\n%s", got)
	}
	if !strings.Contains(logBuf.String(), "level=WARN") || !strings.Contains(logBuf.String(), ns4.String()) {
		t.Errorf("no warning naming the dropped server: %q", logBuf.String())
	}
}

func TestSetDNSRejectsBadInput(t *testing.T) {
	r := testRoot(t)
	put(t, r, "etc/resolv.conf", "keep\n", 0o644)
	bad := []struct {
		ns     []netip.Addr
		search []string
	}{
		{[]netip.Addr{{}}, nil},
		{nil, []string{""}},
		{nil, []string{"a b"}},
		{nil, []string{"x\nnameserver 6.6.6.6"}},
		{nil, []string{"ok.example", "#x"}},
	}
	for _, c := range bad {
		if _, err := r.SetDNS(c.ns, c.search); err == nil {
			t.Errorf("SetDNS(%v, %q) succeeded", c.ns, c.search)
		}
	}
	if _, err := r.SetDNS(nil, nil); err != nil {
		t.Errorf("SetDNS(nil, nil): %v", err)
	}
	if got := read(t, r, "etc/resolv.conf"); got != "keep\n" {
		t.Errorf("resolv.conf changed to %q", got)
	}
}
