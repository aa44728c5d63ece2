package nl_test

import (
	"os"
	"strings"
	"testing"

	"guestbridge/internal/nl"
	"guestbridge/internal/nl/nltest"
)

// InNetns must read /proc/sys/net of the target namespace, not the caller's.
func TestInNetnsSeesTheNamespacesSysctls(t *testing.T) {
	ns := nltest.NewNS(t, "x")
	const path = "/proc/sys/net/ipv4/ip_default_ttl"
	ns.IP(t, "netns", "exec", ns.Name, "sysctl", "-qw", "net.ipv4.ip_default_ttl=99")
	var inside string
	if err := nl.InNetns(ns.NsFd, func() error {
		b, err := os.ReadFile(path)
		inside = strings.TrimSpace(string(b))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	outside, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if inside != "99" || strings.TrimSpace(string(outside)) == "99" {
		t.Fatalf("inside %q (want 99), outside %q (want the host's)", inside, outside)
	}
}
