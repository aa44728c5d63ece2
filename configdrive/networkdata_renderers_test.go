package configdrive

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"guestbridge/internal/oracle"
	"guestbridge/netconf"
)

// TestFixturesThroughCloudInitRenderers is issue 9's proof: for every
// fixture our network-config (what the NoCloud seed holds) goes through
// cloud-init 22.4.2's own v2 parser and every renderer it ships, and what
// the renderer wrote means our model — addresses, routes, MTU, DHCP flags,
// DNS, bond membership, VLAN id and parent — except exactly what
// Config.RendererLosses says guestbridge must apply itself. The rendered
// files are parsed (internal/oracle: ENI, networkd, ifcfg/route, NM
// keyfile, netplan) and compared with netconf.Config, never with
// cloud-init's own translation of the drive.
func TestFixturesThroughCloudInitRenderers(t *testing.T) {
	for _, fx := range loadNDFixtures(t) {
		if _, isErr := ndExpectedErrors[fx.name]; isErr {
			continue
		}
		t.Run(fx.name, func(t *testing.T) {
			cfg, _ := fx.parse(t)
			v2, err := cfg.MarshalNetworkConfig()
			if err != nil {
				t.Fatal(err)
			}
			for _, renderer := range oracle.Renderers {
				t.Run(renderer, func(t *testing.T) {
					got, files, err := oracle.CloudInitRenderV2(t, v2, renderer)
					if err != nil {
						t.Fatalf("cloud-init rejects our v2: %v\nv2:\n%s", err, v2)
					}
					loss, err := cfg.RendererLosses(renderer)
					if err != nil {
						t.Fatal(err)
					}
					if problems := compareRendered(cfg, renderer, got, loss); len(problems) > 0 {
						t.Errorf("%s output differs from the model beyond RendererLosses:\n  %s\nv2:\n%s\nfiles:\n%s",
							renderer, strings.Join(problems, "\n  "), v2, dumpFiles(files))
					}
				})
			}
		})
	}
}

func dumpFiles(files map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(&b, "== %s\n%s\n", k, files[k])
	}
	return b.String()
}

// compareRendered lists every difference between the model and what the
// renderer wrote that RendererLosses does not account for.
func compareRendered(cfg *netconf.Config, renderer string, got oracle.Rendered, loss netconf.RendererLoss) []string {
	n, _ := cfg.Normalised()
	var problems []string
	if renderer == "networkd" && len(n.Bonds)+len(n.VLANs) != len(loss.Lost) {
		problems = append(problems, fmt.Sprintf("networkd: %d bonds/VLANs, %d in loss.Lost", len(n.Bonds)+len(n.VLANs), len(loss.Lost)))
	}
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	lost := map[string][]oracle.RRoute{}
	for _, r := range loss.Routes {
		lost[r.Interface] = append(lost[r.Interface], oracle.RRoute{To: r.Route.To, Via: r.Route.Via})
	}
	type want struct {
		name   string
		l3     *netconf.L3
		bondOf string
		vlan   *netconf.VLAN
		bond   bool
	}
	var wants []want
	bondOf := map[string]string{}
	for _, b := range n.Bonds {
		for _, m := range b.Members {
			bondOf[m] = b.Name
		}
	}
	for i := range n.Ethernets {
		wants = append(wants, want{name: n.Ethernets[i].ID, l3: &n.Ethernets[i].L3, bondOf: bondOf[n.Ethernets[i].ID]})
	}
	for i := range n.Bonds {
		wants = append(wants, want{name: n.Bonds[i].Name, l3: &n.Bonds[i].L3, bond: true})
	}
	for i := range n.VLANs {
		wants = append(wants, want{name: n.VLANs[i].Name, l3: &n.VLANs[i].L3, vlan: &n.VLANs[i]})
	}
	for _, w := range wants {
		g := got[w.name]
		if g == nil {
			if renderer == "eni" && w.bond {
				// ENI writes the bond options on the members and a bond stanza.
				bad("%s: no stanza", w.name)
			} else {
				bad("%s: not rendered", w.name)
			}
			continue
		}
		if !sameSet(g.Addresses, w.l3.Addresses) {
			bad("%s: addresses %v, want %v", w.name, g.Addresses, w.l3.Addresses)
		}
		if mtu, ok := loss.MTUs[w.name]; ok && mtu == w.l3.MTU {
			// guestbridge sets it
		} else if g.MTU != w.l3.MTU {
			bad("%s: mtu %d, want %d", w.name, g.MTU, w.l3.MTU)
		}
		if g.DHCP4 != w.l3.DHCP4 || g.DHCP6 != w.l3.DHCP6 {
			bad("%s: dhcp4/dhcp6 %v/%v, want %v/%v", w.name, g.DHCP4, g.DHCP6, w.l3.DHCP4, w.l3.DHCP6)
		}
		if !loss.DNS && !sameSet(g.DNS, w.l3.Nameservers) {
			bad("%s: dns %v, want %v", w.name, g.DNS, w.l3.Nameservers)
		}
		// networkd: bonds and VLANs are in loss.Lost (no .netdev, no Bond=).
		if w.bondOf != "" && g.BondOf != w.bondOf && renderer != "networkd" {
			bad("%s: member of %q, want %q", w.name, g.BondOf, w.bondOf)
		}
		if w.vlan != nil && (g.VLANID != w.vlan.ID || g.VLANLink != w.vlan.Link) && renderer != "networkd" {
			bad("%s: vlan %d on %q, want %d on %q", w.name, g.VLANID, g.VLANLink, w.vlan.ID, w.vlan.Link)
		}
		// Routes: every route of the model is rendered, or in the losses.
		var wantRoutes []oracle.RRoute
		for _, r := range w.l3.Routes {
			rr := oracle.RRoute{To: r.To, Via: r.Via}
			if !slices.Contains(lost[w.name], rr) {
				wantRoutes = append(wantRoutes, rr)
			}
		}
		for _, r := range wantRoutes {
			if !slices.Contains(g.Routes, r) {
				bad("%s: route %s missing and not in RendererLosses", w.name, r)
			}
		}
		for _, r := range g.Routes {
			if slices.Contains(wantRoutes, r) || slices.Contains(lost[w.name], r) {
				continue
			}
			// cloud-init 22.4.2 turns ::/0 into ::/64 (documented); the
			// real ::/0 is in the losses.
			if r.To == netip.MustParsePrefix("::/64") && slices.Contains(lost[w.name], oracle.RRoute{To: netip.MustParsePrefix("::/0"), Via: r.Via}) {
				continue
			}
			bad("%s: route %s rendered but not in the model", w.name, r)
		}
	}
	return problems
}

func sameSet[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
