package configdrive

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"guestbridge/netconf"
)

// The normalisers below make our v2 and cloud-init 22.4.2's comparable by
// removing exactly the documented differences (docs/cloud-init-differences.md),
// each only where the fixture's input triggers it. Each difference also has
// a focused test in networkdata_test.go asserting our behaviour.

// v2Tree is a decoded v2 document: the map under the top-level "network".
type v2Tree map[string]any

func decodeV2(t testing.TB, doc []byte) v2Tree {
	t.Helper()
	var top map[string]any
	if err := yaml.Unmarshal(doc, &top); err != nil {
		t.Fatalf("decoding v2: %v\n%s", err, doc)
	}
	network, ok := top["network"].(map[string]any)
	if !ok {
		t.Fatalf("no network: key in\n%s", doc)
	}
	return network
}

func (v v2Tree) encode(t testing.TB) []byte {
	t.Helper()
	out, err := yaml.Marshal(map[string]any{"network": map[string]any(v)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (v v2Tree) section(name string) map[string]any {
	s, _ := v[name].(map[string]any)
	return s
}

// iface finds an interface by name in any section (nil when absent).
func (v v2Tree) iface(name string) map[string]any {
	for _, s := range []string{"ethernets", "bonds", "vlans"} {
		if i, ok := v.section(s)[name].(map[string]any); ok {
			return i
		}
	}
	return nil
}

// normaliser edits ours and/or cloud-init's tree for one difference.
type normaliser struct {
	name  string
	apply func(fx *ndFixture, cfg *netconf.Config, ours, theirs v2Tree)
}

var ci22Normalisers = []normaliser{
	{"our gateway4/gateway6 back into default routes", normaliseOurGateways},
	{"bond mode mapped to netplan names", normaliseBondMode},
	{"bond and VLAN names honoured", normaliseNames},
	{"SLAAC and stateless DHCPv6 accept RA", normaliseAcceptRA},
	{"routes of DHCP/SLAAC networks kept", normaliseDynamicRoutes},
	{"per-network and in-route DNS kept", normaliseNetworkDNS},
	{"default-route metrics spread", normaliseMetrics},
	{"network gateway as an on-link default route", normaliseGateway},
	{"global DNS never dropped", normaliseLeftoverDNS},
	{"gateways outside the subnet on-link", normaliseOnLink},
}

// cloud-init copies bond_mode verbatim ("4", "802.1ad"), which netplan
// rejects; we map it. Repair theirs.
func normaliseBondMode(fx *ndFixture, _ *netconf.Config, _, theirs v2Tree) {
	for _, b := range theirs.section("bonds") {
		params, _ := b.(map[string]any)["parameters"].(map[string]any)
		if mode, ok := params["mode"].(string); ok {
			if name, ok := bondModeNames[mode]; ok {
				params["mode"] = name
			} else if mode == "802.1ad" {
				params["mode"] = "802.3ad"
			}
		}
	}
}

// cloud-init 22.4.2 names bonds bond0… and VLANs <parent>.<id> whatever
// their "name"; we honour "name". Rename theirs to ours.
func normaliseNames(fx *ndFixture, cfg *netconf.Config, _, theirs v2Tree) {
	ours, ci := fx.ourNames(cfg), fx.cloudInitNames()
	rename := map[string]string{}
	for id, ciName := range ci {
		if ciName != ours[id] {
			rename[ciName] = ours[id]
		}
	}
	if len(rename) == 0 {
		return
	}
	for _, s := range []string{"ethernets", "bonds", "vlans"} {
		sec := theirs.section(s)
		renamed := map[string]any{}
		for name, body := range sec {
			if to, ok := rename[name]; ok {
				name = to
			}
			if m, ok := body.(map[string]any); ok {
				if link, ok := m["link"].(string); ok && rename[link] != "" {
					m["link"] = rename[link]
				}
			}
			renamed[name] = body
		}
		if sec != nil {
			theirs[s] = renamed
		}
	}
}

// cloud-init turns ipv6_slaac into dhcp6 (and stateless DHCPv6 into dhcp6
// without RA); we ask for RA, plus DHCPv6 only where the network type says.
func normaliseAcceptRA(fx *ndFixture, cfg *netconf.Config, _, theirs v2Tree) {
	ci := fx.cloudInitNames()
	wantsDHCP6 := map[string]bool{}
	for _, n := range fx.networks() {
		if k, ok := networkKinds[str(n["type"])]; ok && k.dhcp6 {
			wantsDHCP6[str(n["link"])] = true
		}
	}
	for _, n := range fx.networks() {
		typ, link := str(n["type"]), str(n["link"])
		i := theirs.iface(ci[link])
		if i == nil || (typ != "ipv6_slaac" && typ != "ipv6_dhcpv6-stateless") {
			continue
		}
		i["accept-ra"] = true
		if typ == "ipv6_slaac" && !wantsDHCP6[link] {
			delete(i, "dhcp6")
		}
	}
}

// cloud-init drops the routes of DHCP/SLAAC networks; we keep them.
// Remove them from ours.
func normaliseDynamicRoutes(fx *ndFixture, cfg *netconf.Config, ours, _ v2Tree) {
	names := fx.ourNames(cfg)
	for _, n := range fx.networks() {
		if k, ok := networkKinds[str(n["type"])]; !ok || k.static {
			continue
		}
		i := ours.iface(names[str(n["link"])])
		for _, r := range objects(n["routes"]) {
			removeRoute(i, str(r["gateway"]))
		}
		if gw := str(n["gateway"]); gw != "" {
			removeRoute(i, gw)
		}
	}
}

func removeRoute(iface map[string]any, via string) {
	routes, _ := iface["routes"].([]any)
	for j, r := range routes {
		if m, _ := r.(map[string]any); str(m["via"]) == via {
			routes = append(routes[:j], routes[j+1:]...)
			break
		}
	}
	if len(routes) == 0 {
		delete(iface, "routes")
	} else {
		iface["routes"] = routes
	}
}

// cloud-init 22.4.2 ignores "services" in networks and routes (giving the
// interface the global list instead); we use them. The nameservers of such
// interfaces are compared by the focused test, not here.
func normaliseNetworkDNS(fx *ndFixture, cfg *netconf.Config, ours, theirs v2Tree) {
	names, ci := fx.ourNames(cfg), fx.cloudInitNames()
	for _, n := range fx.networks() {
		has := len(objects(n["services"])) > 0
		for _, r := range objects(n["routes"]) {
			has = has || len(objects(r["services"])) > 0
		}
		if !has {
			continue
		}
		link := str(n["link"])
		if i := ours.iface(names[link]); i != nil {
			delete(i, "nameservers")
		}
		if i := theirs.iface(ci[link]); i != nil {
			delete(i, "nameservers")
		}
	}
}

// We spread metrics over competing default routes and DHCP leases;
// cloud-init leaves them all at the default. Remove the metrics we added.
func normaliseMetrics(fx *ndFixture, cfg *netconf.Config, ours, _ v2Tree) {
	inputMetric := map[string]bool{} // gateway of a default route with its own metric
	for _, n := range fx.networks() {
		for _, r := range objects(n["routes"]) {
			if _, ok := r["metric"]; ok {
				inputMetric[str(r["gateway"])] = true
			}
		}
	}
	for _, s := range []string{"ethernets", "bonds", "vlans"} {
		for _, body := range ours.section(s) {
			i, _ := body.(map[string]any)
			delete(i, "dhcp4-overrides")
			delete(i, "dhcp6-overrides")
			routes, _ := i["routes"].([]any)
			for _, r := range routes {
				if m, _ := r.(map[string]any); (m["to"] == "0.0.0.0/0" || m["to"] == "::/0") && !inputMetric[str(m["via"])] {
					delete(m, "metric")
				}
			}
		}
	}
}

// cloud-init renders a network's "gateway" as the deprecated
// gateway4/gateway6; we write a default route marked on-link (as newer
// cloud-init does). Rewrite theirs the same way.
func normaliseGateway(_ *ndFixture, _ *netconf.Config, _, theirs v2Tree) {
	for _, s := range []string{"ethernets", "bonds", "vlans"} {
		for _, body := range theirs.section(s) {
			i, _ := body.(map[string]any)
			for _, key := range []string{"gateway4", "gateway6"} {
				if gw, ok := i[key].(string); ok {
					routes, _ := i["routes"].([]any)
					i["routes"] = append(routes, map[string]any{"to": "default", "via": gw, "on-link": true})
					delete(i, key)
				}
			}
		}
	}
}

// We write a plain default route as gateway4/gateway6, the form that
// survives cloud-init's other renderers (difference 12); put it back into
// the route list, at its place in the model, so netplan's output compares.
func normaliseOurGateways(_ *ndFixture, cfg *netconf.Config, ours, _ v2Tree) {
	each := func(name string, l3 *netconf.L3) {
		i := ours.iface(name)
		gw4, gw6 := netconf.V2Gateways(l3)
		if i == nil || (gw4 < 0 && gw6 < 0) {
			return
		}
		rendered, _ := i["routes"].([]any)
		var out []any
		for j, r := range l3.Routes {
			switch {
			case j == gw4 || j == gw6:
				out = append(out, map[string]any{"to": r.To.String(), "via": r.Via.String()})
			case r.Via.IsValid() && len(rendered) > 0:
				out = append(out, rendered[0])
				rendered = rendered[1:]
			}
		}
		i["routes"] = out
		delete(i, "gateway4")
		delete(i, "gateway6")
	}
	for k := range cfg.Ethernets {
		each(cfg.Ethernets[k].ID, &cfg.Ethernets[k].L3)
	}
	for k := range cfg.Bonds {
		each(cfg.Bonds[k].Name, &cfg.Bonds[k].L3)
	}
	for k := range cfg.VLANs {
		each(cfg.VLANs[k].Name, &cfg.VLANs[k].L3)
	}
}

// cloud-init 22.4.2 drops the global DNS servers when no static interface
// without DNS of its own takes them (e.g. DHCP only); we put those on the
// first static interface, else the first one (difference 13). Remove, from
// ours, the global servers cloud-init wrote nowhere.
func normaliseLeftoverDNS(fx *ndFixture, _ *netconf.Config, ours, theirs v2Tree) {
	onTheirs := map[string]bool{}
	for _, s := range []string{"ethernets", "bonds", "vlans"} {
		for _, body := range theirs.section(s) {
			ns, _ := body.(map[string]any)["nameservers"].(map[string]any)
			list, _ := ns["addresses"].([]any)
			for _, a := range list {
				onTheirs[str(a)] = true
			}
		}
	}
	leftover := map[string]bool{}
	for _, svc := range objects(fx.doc["services"]) {
		if a := str(svc["address"]); svc["type"] == "dns" && !onTheirs[a] {
			leftover[a] = true
		}
	}
	if len(leftover) == 0 {
		return
	}
	for _, s := range []string{"ethernets", "bonds", "vlans"} {
		for _, body := range ours.section(s) {
			i, _ := body.(map[string]any)
			ns, _ := i["nameservers"].(map[string]any)
			list, _ := ns["addresses"].([]any)
			var keep []any
			for _, a := range list {
				if !leftover[str(a)] {
					keep = append(keep, a)
				}
			}
			switch {
			case ns == nil:
			case len(keep) == 0 && ns["search"] == nil:
				delete(i, "nameservers")
			case len(keep) == 0:
				delete(ns, "addresses")
			default:
				ns["addresses"] = keep
			}
		}
	}
}

// We mark a gateway outside every static subnet of its interface on-link
// (difference 14); cloud-init 22.4.2 writes the route as it is, which the
// kernel refuses. Drop the on-link flags cloud-init does not have.
func normaliseOnLink(fx *ndFixture, cfg *netconf.Config, ours, theirs v2Tree) {
	names, ci := fx.ourNames(cfg), fx.cloudInitNames()
	for id, name := range names {
		o, t := ours.iface(name), theirs.iface(ci[id])
		if o == nil || t == nil {
			continue
		}
		theirOnLink := map[string]bool{}
		tr, _ := t["routes"].([]any)
		for _, r := range tr {
			if m, _ := r.(map[string]any); m["on-link"] == true {
				theirOnLink[str(m["via"])] = true
			}
		}
		or, _ := o["routes"].([]any)
		for _, r := range or {
			if m, _ := r.(map[string]any); m["on-link"] == true && !theirOnLink[str(m["via"])] {
				delete(m, "on-link")
			}
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}
