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
//     dump but generates nothing for it).
//
// List order (addresses, routes, nameservers) is kept: it is meaningful.
// When netplan rejects either document they are not equivalent and diff
// carries netplan's message. The test fails only if netplan is missing.
func Equivalent(t testing.TB, a, b []byte) (bool, string) {
	t.Helper()
	sideA, errA := netplanView(t, a)
	sideB, errB := netplanView(t, b)
	if errA != "" || errB != "" {
		return false, fmt.Sprintf("netplan rejected a document:\nA: %s\nB: %s", errA, errB)
	}
	if d := cmp.Diff(sideA, sideB); d != "" {
		return false, "(-A +B)\n" + d
	}
	return true, ""
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
