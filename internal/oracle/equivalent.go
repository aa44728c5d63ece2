package oracle

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// Equivalent reports whether two netplan v2 documents mean the same to
// netplan: identical `netplan get all` and identical `netplan generate`
// output, after these normalisations (and only these):
//
//   - IP addresses and prefixes are written canonically (lower-case,
//     zero-compressed), so "2001:DB8::10/64" equals "2001:db8::10/64";
//   - in get-all, a route `to: default` becomes 0.0.0.0/0 or ::/0 by the
//     family of its `via` (networkd output already writes it that way);
//   - in get-all, an empty `search: []` is dropped (netplan keeps it in the
//     dump but generates nothing for it);
//   - before netplan sees them, `gateway4: X` / `gateway6: X` become the
//     routes `{to: 0.0.0.0/0 or ::/0, via: X}` they mean, and each
//     interface's routes are sorted: routes are a set (each networkd
//     [Route] stands alone), and guestbridge writes the plain default route
//     as gateway4/6 (docs/cloud-init-differences.md, difference 12).
//
// The order of addresses and nameservers is kept: it is meaningful.
// When netplan rejects either document they are not equivalent and diff
// carries netplan's message. The test fails only if netplan is missing.
func Equivalent(t testing.TB, a, b []byte) (bool, string) {
	t.Helper()
	sideA, errA := netplanView(t, gatewaysAsRoutes(a))
	sideB, errB := netplanView(t, gatewaysAsRoutes(b))
	if errA != "" || errB != "" {
		return false, fmt.Sprintf("netplan rejected a document:\nA: %s\nB: %s", errA, errB)
	}
	if d := cmp.Diff(sideA, sideB); d != "" {
		return false, "(-A +B)\n" + d
	}
	return true, ""
}

// gatewaysAsRoutes rewrites gateway4/gateway6 as routes and sorts each
// interface's routes (see Equivalent). A document it cannot decode is
// returned unchanged, for netplan to reject.
func gatewaysAsRoutes(doc []byte) []byte {
	var top map[string]any
	if err := yaml.Unmarshal(doc, &top); err != nil {
		return doc
	}
	network, ok := top["network"].(map[string]any)
	if !ok {
		return doc
	}
	for _, sec := range []string{"ethernets", "bonds", "vlans"} {
		ifaces, _ := network[sec].(map[string]any)
		for _, body := range ifaces {
			i, ok := body.(map[string]any)
			if !ok {
				continue
			}
			routes, _ := i["routes"].([]any)
			for key, to := range map[string]string{"gateway4": "0.0.0.0/0", "gateway6": "::/0"} {
				if gw, ok := i[key].(string); ok {
					routes = append(routes, map[string]any{"to": to, "via": gw})
					delete(i, key)
				}
			}
			if len(routes) == 0 {
				continue
			}
			sort.SliceStable(routes, func(x, y int) bool { return routeSortKey(routes[x]) < routeSortKey(routes[y]) })
			i["routes"] = routes
		}
	}
	out, err := yaml.Marshal(top)
	if err != nil {
		return doc
	}
	return out
}

func routeSortKey(r any) string {
	m, _ := r.(map[string]any)
	to := fmt.Sprint(m["to"])
	if to == "default" {
		if a, err := netip.ParseAddr(fmt.Sprint(m["via"])); err == nil {
			to = defaultPrefix(a)
		}
	}
	return canonicalIP(to) + " " + canonicalIP(fmt.Sprint(m["via"])) + " " + fmt.Sprint(m["metric"])
}

// netplanView is what Equivalent compares: the normalised get-all dump
// (under the key "get-all") and the normalised generated files.
func netplanView(t testing.TB, doc []byte) (map[string][]string, string) {
	t.Helper()
	files, stderr, err := NetplanGenerateErr(t, doc)
	if err != nil {
		return nil, fmt.Sprintf("generate: %v: %s", err, stderr)
	}
	all, stderr, err := NetplanGetAllErr(t, doc)
	if err != nil {
		return nil, fmt.Sprintf("get all: %v: %s", err, stderr)
	}
	view := map[string][]string{}
	norm, err := NormaliseGetAll(all)
	if err != nil {
		return nil, "get all output: " + err.Error()
	}
	view["get-all"] = strings.Split(norm, "\n")
	for path, content := range files {
		view[path] = strings.Split(NormaliseGenerated(content), "\n")
	}
	return view, ""
}

// NormaliseGetAll applies Equivalent's get-all normalisations to a
// `netplan get all` dump and re-encodes it with sorted keys.
func NormaliseGetAll(dump string) (string, error) {
	var tree any
	if err := yaml.Unmarshal([]byte(dump), &tree); err != nil {
		return "", err
	}
	tree = normaliseNode(tree)
	out, err := yaml.Marshal(tree)
	return string(out), err
}

func normaliseNode(n any) any {
	switch v := n.(type) {
	case map[string]any:
		if to, ok := v["to"].(string); ok && to == "default" {
			if via, ok := v["via"].(string); ok {
				if a, err := netip.ParseAddr(via); err == nil {
					v["to"] = defaultPrefix(a)
				}
			}
		}
		if s, ok := v["search"].([]any); ok && len(s) == 0 {
			delete(v, "search")
		}
		for k, x := range v {
			v[k] = normaliseNode(x)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = normaliseNode(x)
		}
		return v
	case string:
		return canonicalIP(v)
	default:
		return v
	}
}

// NormaliseGenerated canonicalises IP addresses in the values of a
// generated networkd/udev/NetworkManager file ("Key=value value").
func NormaliseGenerated(content string) string {
	lines := strings.Split(content, "\n")
	for i, line := range lines {
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(key, " \t\"") {
			continue
		}
		words := strings.Fields(value)
		for j, w := range words {
			words[j] = canonicalIP(w)
		}
		lines[i] = key + "=" + strings.Join(words, " ")
	}
	return strings.Join(lines, "\n")
}

func canonicalIP(s string) string {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.String()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return s
}

func defaultPrefix(a netip.Addr) string {
	if a.Is4() {
		return "0.0.0.0/0"
	}
	return "::/0"
}

// SortedKeys is a small helper for tests that report per-file results.
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
