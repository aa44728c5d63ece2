package apply

import (
	"context"
	"errors"

	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"go.yaml.in/yaml/v3"

	"guestbridge/configdrive"
	"guestbridge/internal/nl/nltest"
	"guestbridge/netconf"
)

// fixtureDir holds the network_data.json fixtures (provenance in its
// README.md).
const fixtureDir = "../../configdrive/testdata/networkdata"

// TestFixturesSameInV2AndNamespaceApply is issue 8's "one meaning of the
// network in every mode": for every network_data.json fixture, the
// addresses and routes `apply` puts into a network namespace (veths with
// the fixture's MACs) are exactly the ones the v2 rendering (plus the
// direct routes RendererLosses says v2 cannot carry) gives each interface,
// and the resolv.conf list (MachineDNS) is exactly v2's nameservers in v2's
// order. DHCP is answered by nobody (the static part must not depend on it).
func TestFixturesSameInV2AndNamespaceApply(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*.network_data.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in %s: %v", fixtureDir, err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".network_data.json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			input, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _, err := configdrive.ParseNetworkData(input, configdrive.NetworkOptions{})
			if err != nil {
				// The fixtures cloud-init rejects too (invalid masks,
				// placeholder MACs): nothing to apply.
				if strings.Contains(name, "ERR-invalid") || strings.Contains(name, "PLACEHOLDER") {
					return
				}
				t.Fatal(err)
			}
			checkV2MatchesApply(t, cfg)
		})
	}
}

func checkV2MatchesApply(t *testing.T, cfg *netconf.Config) {
	n, _ := cfg.Normalised()
	var macs []string
	kernelName := map[string]string{} // model name → name in the namespace
	for i, e := range n.Ethernets {
		if len(e.MAC) == 0 {
			// A named link without MAC is matched by name, which apply
			// does not do: give the veth that name.
			kernelName[e.ID] = e.ID
			continue
		}
		macs = append(macs, e.MAC.String())
		kernelName[e.ID] = "fxv" + strconv.Itoa(len(macs)-1)
		if e.Named {
			kernelName[e.ID] = e.ID
		}
		_ = i
	}
	for _, b := range n.Bonds {
		kernelName[b.Name] = b.Name
	}
	for _, v := range n.VLANs {
		kernelName[v.Name] = v.Name
	}
	if slices.ContainsFunc(n.Ethernets, func(e netconf.Ethernet) bool { return len(e.MAC) == 0 }) {
		t.Logf("ethernets without MAC: apply matches by MAC only; comparing v2 with the model only")
		compareV2Only(t, cfg, n)
		return
	}
	// Veths named fxvN, so a link the fixture names nic0 can take its name.
	l := &lab{guest: nltest.NewNS(t, "g"), peer: nltest.NewNS(t, "p"), stateDir: t.TempDir()}
	for i, m := range macs {
		l.guest.Veth(t, "fxv"+strconv.Itoa(i), m, l.peer, "fxp"+strconv.Itoa(i))
	}
	if (len(n.Bonds) > 0 || len(n.VLANs) > 0) && !kernelHasBondsAndVLANs(t, l) {
		// This kernel (e.g. a microVM's) has neither bonding nor 802.1Q;
		// the real-kernel bond/VLAN tests run under qemu (internal/vmtest).
		// Here the ethernets are compared, bonds and VLANs through v2 only.
		t.Logf("kernel without bonding/802.1Q: applying the ethernets only")
		cfg = cfg.Clone()
		cfg.Bonds, cfg.VLANs = nil, nil
	}
	o := l.opts()
	o.DHCP = func(context.Context, string, bool) (netconf.L3, error) {
		return netconf.L3{}, errors.New("no DHCP server in this test")
	}
	o.DHCPTimeout = time.Second
	rep := l.apply(t, cfg, o)
	t.Logf("apply:\n%s", rep)

	v2 := v2Meaning(t, cfg)
	for iface, want := range v2 {
		dev := kernelName[iface]
		if !slices.ContainsFunc(cfg.Ethernets, func(e netconf.Ethernet) bool { return e.ID == iface }) &&
			!slices.ContainsFunc(cfg.Bonds, func(b netconf.Bond) bool { return b.Name == iface }) &&
			!slices.ContainsFunc(cfg.VLANs, func(v netconf.VLAN) bool { return v.Name == iface }) {
			continue
		}
		gotAddrs := map[string]bool{}
		for a := range l.addrs(t, dev) {
			if !strings.HasPrefix(a, "fe80:") {
				gotAddrs[a] = true
			}
		}
		if !sameKeys(gotAddrs, want.addrs) {
			t.Errorf("%s (%s): addresses in the namespace %v, in v2 %v", iface, dev, keys(gotAddrs), keys(want.addrs))
		}
		all, ours := devRoutes(t, l, dev)
		for r := range want.routes {
			if !all[r] {
				t.Errorf("%s (%s): v2 route %q not in the namespace %v", iface, dev, r, keys(all))
			}
		}
		for r := range ours {
			if !want.routes[r] {
				t.Errorf("%s (%s): apply added route %q that v2 does not have %v", iface, dev, r, keys(want.routes))
			}
		}
	}
	compareDNS(t, cfg)
}

// kernelHasBondsAndVLANs tries to create a bond and a VLAN in the guest
// namespace (and removes them).
func kernelHasBondsAndVLANs(t *testing.T, l *lab) bool {
	b := netlink.NewLinkBond(netlink.LinkAttrs{Name: "fxprobe0"})
	if err := l.guest.Handle.LinkAdd(b); err != nil {
		return false
	}
	defer l.guest.Handle.LinkDel(b)
	parent, err := l.guest.Handle.LinkByName("fxv0")
	if err != nil {
		return false
	}
	v := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: "fxprobe1", ParentIndex: parent.Attrs().Index}, VlanId: 7}
	if err := l.guest.Handle.LinkAdd(v); err != nil {
		return false
	}
	_ = l.guest.Handle.LinkDel(v)
	return true
}

// compareV2Only: without a namespace apply, at least v2 and the model
// agree on DNS.
func compareV2Only(t *testing.T, cfg, _ *netconf.Config) { compareDNS(t, cfg) }

func compareDNS(t *testing.T, cfg *netconf.Config) {
	var inV2 []string
	for _, m := range v2Order(t, cfg) {
		for _, a := range m.dns {
			if !slices.Contains(inV2, a) {
				inV2 = append(inV2, a)
			}
		}
	}
	servers, _ := cfg.MachineDNS()
	var resolv []string
	for _, s := range servers {
		resolv = append(resolv, s.String())
	}
	if !slices.Equal(resolv, inV2) {
		t.Errorf("resolv.conf servers %v, v2 servers %v", resolv, inV2)
	}
}

type v2Iface struct {
	name   string
	addrs  map[string]bool
	routes map[string]bool // "dst via gw" / "dst", dst "default" for /0
	dns    []string
}

func routeString(to netip.Prefix, via netip.Addr) string {
	dst := to.String()
	if to.Bits() == 0 {
		dst = "default"
	} else if (to.Addr().Is4() && to.Bits() == 32) || (to.Addr().Is6() && to.Bits() == 128) {
		dst = to.Addr().String()
	}
	if via.IsValid() {
		return dst + " via " + via.String()
	}
	return dst
}

// v2Order decodes our v2 rendering: per interface, in document order, its
// addresses, routes (gateway4/6 included) and nameservers; plus the direct
// routes v2 leaves to guestbridge (RendererLosses).
func v2Order(t *testing.T, cfg *netconf.Config) []*v2Iface {
	out, err := cfg.MarshalV2()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Network map[string]yaml.Node `yaml:"network"`
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	type iface struct {
		Addresses   []string
		Gateway4    string
		Gateway6    string
		Routes      []struct{ To, Via string }
		Nameservers struct{ Addresses []string }
	}
	var list []*v2Iface
	byName := map[string]*v2Iface{}
	for _, sec := range []string{"ethernets", "bonds", "vlans"} {
		node, ok := doc.Network[sec]
		if !ok {
			continue
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			var x iface
			if err := node.Content[i+1].Decode(&x); err != nil {
				t.Fatal(err)
			}
			m := &v2Iface{name: node.Content[i].Value, addrs: map[string]bool{}, routes: map[string]bool{}, dns: x.Nameservers.Addresses}
			for _, a := range x.Addresses {
				m.addrs[netip.MustParsePrefix(a).String()] = true
			}
			for _, g := range []string{x.Gateway4, x.Gateway6} {
				if g != "" {
					gw := netip.MustParseAddr(g)
					m.routes[routeString(netconf.DefaultPrefix(gw), gw)] = true
				}
			}
			for _, r := range x.Routes {
				var via netip.Addr
				if r.Via != "" {
					via = netip.MustParseAddr(r.Via)
				}
				m.routes[routeString(netip.MustParsePrefix(r.To), via)] = true
			}
			list = append(list, m)
			byName[m.name] = m
		}
	}
	loss, err := cfg.RendererLosses("netplan")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range loss.Routes {
		if m := byName[r.Interface]; m != nil {
			m.routes[routeString(r.Route.To, r.Route.Via)] = true
		}
	}
	return list
}

func v2Meaning(t *testing.T, cfg *netconf.Config) map[string]*v2Iface {
	out := map[string]*v2Iface{}
	for _, m := range v2Order(t, cfg) {
		out[m.name] = m
	}
	return out
}

// devRoutes lists dev's routes in the main table as "dst via gw": all of
// them, and the ones apply added (proto 198).
func devRoutes(t *testing.T, l *lab, dev string) (all, ours map[string]bool) {
	all, ours = map[string]bool{}, map[string]bool{}
	for _, fam := range []string{"-4", "-6"} {
		for _, r := range l.guest.JSON(t, fam, "route", "show", "dev", dev) {
			s := str(r["dst"])
			if gw := str(r["gateway"]); gw != "" {
				s += " via " + gw
			}
			all[s] = true
			if p := str(r["protocol"]); p == strconv.Itoa(int(RouteProtocol)) {
				ours[s] = true
			}
		}
	}
	return all, ours
}

func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}
