package provision

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guestbridge/datasource"
	"guestbridge/internal/nl/nltest"
	"guestbridge/netconf"
	"guestbridge/netconf/apply"
	"guestbridge/system"
)

// Issue 9: which renderer cloud-init 22.4.2 uses decides what it drops.
func TestDetectRenderer(t *testing.T) {
	image := func(t *testing.T, files ...string) string {
		root := t.TempDir()
		for _, f := range files {
			p := filepath.Join(root, f)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, nil, 0o755)
		}
		return root
	}
	ifupdown := []string{"sbin/ifup", "sbin/ifdown", "sbin/ifquery", "etc/network/interfaces"}
	debian := image(t, append(ifupdown, "usr/bin/ip", "lib/systemd/systemd-networkd")...)
	if r := DetectRenderer(system.Root{Dir: debian}); r != "eni" {
		t.Errorf("Debian 12 with ifupdown: %q, want eni (first in cloud-init's default priority)", r)
	}
	ubuntu := image(t, append(ifupdown, "usr/sbin/netplan")...)
	os.MkdirAll(filepath.Join(ubuntu, "etc/cloud"), 0o755)
	os.WriteFile(filepath.Join(ubuntu, "etc/cloud/cloud.cfg"),
		[]byte("system_info:\n  network:\n    renderers: ['netplan', 'eni', 'sysconfig']\n"), 0o644)
	if r := DetectRenderer(system.Root{Dir: ubuntu}); r != "netplan" {
		t.Errorf("cloud.cfg naming netplan first: %q, want netplan", r)
	}
	if r := DetectRenderer(system.Root{Dir: image(t, "usr/bin/ip", "lib/systemd/systemd-networkd")}); r != "networkd" {
		t.Errorf("networkd only: %q", r)
	}
}

// Issue 9: cloud-init's ENI renderer loses IPv6 routes. Boot records them
// and the agent adds them once ifup has brought the interface up with its
// address (simulated here by the test, 1 s later).
func TestCompensationAddsDroppedRoutesOnceInterfaceIsUp(t *testing.T) {
	guest, peer := nltest.NewNS(t, "cg"), nltest.NewNS(t, "cp")
	guest.Veth(t, "nic0", nsMAC0, peer, "peer0")
	root := t.TempDir()
	for _, f := range []string{"sbin/ifup", "sbin/ifdown", "sbin/ifquery", "etc/network/interfaces"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(root, f), nil, 0o755)
	}
	m := New(Options{Root: system.Root{Dir: root, Live: true}, StateDir: t.TempDir(), Log: quietLog(),
		Handle: guest.Handle, NetNS: guest.NsFd})
	route := netconf.Route{To: netip.MustParsePrefix("2001:db8:99::/64"), Via: netip.MustParseAddr("2001:db8:1::1")}
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mac(nsMAC0), L3: netconf.L3{
		Addresses: []netip.Prefix{netip.MustParsePrefix("2001:db8:1::10/64")}, Routes: []netconf.Route{route}}}}}
	var gotRenderer string
	compensate := func(c *netconf.Config, renderer string) (Compensation, error) {
		gotRenderer = renderer
		return Compensation{Routes: []apply.ExtraRoute{{Interface: "nic0", MAC: c.Ethernets[0].MAC, Route: route}}}, nil
	}
	res := m.Provision(context.Background(), Request{Inst: &datasource.Instance{InstanceID: "i-1", Network: cfg},
		Mode: ModeSeed, KeepGoing: true, Compensate: compensate})
	if res.Status() != OK || gotRenderer != "eni" {
		t.Fatalf("boot: status %d renderer %q: %v", res.Status(), gotRenderer, res.Err())
	}
	if !strings.Contains(strings.Join(res.Lines(), "\n"), "1 route(s)") {
		t.Errorf("boot does not say what it leaves to the agent: %q", res.Lines())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.KeepCompensation(ctx)
	time.Sleep(time.Second)
	if strings.Contains(guest.IP(t, "-6", "route"), "2001:db8:99::") {
		t.Fatal("route added before the interface had its address")
	}
	// What ifup does for cloud-init's ENI stanza.
	guest.IP(t, "addr", "add", "2001:db8:1::10/64", "dev", "nic0", "nodad")
	guest.IP(t, "link", "set", "nic0", "up")
	if !nltest.Eventually(10*time.Second, func() bool {
		return strings.Contains(guest.IP(t, "-6", "route"), "2001:db8:99::/64 via 2001:db8:1::1 dev nic0 proto 198")
	}) {
		t.Fatalf("route not added:\n%s", guest.IP(t, "-6", "route"))
	}
}

// The real compensation for Debian's ENI renderer: a non-default IPv6
// route is returned (cloud-init writes it as `post-up route add … || true`,
// lost without net-tools and run before the IPv6 address is up), and DNS.
func TestRendererCompensationENI(t *testing.T) {
	route := netconf.Route{To: netip.MustParsePrefix("2001:db8:99::/64"), Via: netip.MustParseAddr("2001:db8:1::1")}
	cfg := &netconf.Config{Ethernets: []netconf.Ethernet{{ID: "nic0", MAC: mac(nsMAC0), L3: netconf.L3{
		Addresses:   []netip.Prefix{netip.MustParsePrefix("2001:db8:1::10/64")},
		Routes:      []netconf.Route{route},
		Nameservers: []netip.Addr{netip.MustParseAddr("2001:db8:1::53")}}}}}
	c, err := RendererCompensation(cfg, "eni")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Routes) != 1 || c.Routes[0].Route.To != route.To || c.Routes[0].MAC.String() != nsMAC0 || !c.DNS {
		t.Fatalf("compensation %+v: want the IPv6 route on nic0's MAC and DNS", c)
	}
	if n, err := RendererCompensation(cfg, "netplan"); err != nil || len(n.Routes) != 0 || n.DNS {
		t.Errorf("netplan passes v2 through: %+v %v, want nothing", n, err)
	}
}
