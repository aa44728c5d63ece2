package vmdata

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// str returns v[field] as a string. A missing field or JSON null is "not
// present"; any other type is an error naming what was found.
func str(v vif, field string) (s string, present bool, err error) {
	switch x := v[field].(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	default:
		return "", false, fmt.Errorf("%s, want a string", jsonType(x))
	}
}

// objects returns the list of objects v[field]; entries that are not
// objects are skipped. w may be nil when the caller already warned.
func objects(key, field string, v vif, w *warnings) []vif {
	raw, ok := v[field]
	if !ok || raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		if w != nil {
			w.add(key, "%s: %s, want a list, ignored", field, jsonType(raw))
		}
		return nil
	}
	out := make([]vif, 0, len(list))
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			if w != nil {
				w.add(key, "%s[%d]: %s, want an object, ignored", field, i, jsonType(x))
			}
			m = nil // keep indexes aligned with the source for later messages
		}
		out = append(out, vif(m))
	}
	return out
}

// ipValue parses v[field] as an address of the requested family.
func ipValue(v vif, field string, v4 bool) (netip.Addr, error) {
	s, present, err := str(v, field)
	if err != nil {
		return netip.Addr{}, err
	}
	if !present {
		return netip.Addr{}, fmt.Errorf("missing")
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	a = a.Unmap()
	if a.Is4() != v4 {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv%s address", s, family(v4))
	}
	return a, nil
}

// prefixLen reads a netmask: dotted (IPv4, what nova writes) or a prefix
// length as a number or numeric string (IPv6, and tolerated for IPv4).
func prefixLen(raw any, v4 bool) (int, error) {
	max := 128
	if v4 {
		max = 32
	}
	var s string
	switch x := raw.(type) {
	case nil:
		return 0, fmt.Errorf("missing")
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, fmt.Errorf("%s, want a netmask", jsonType(x))
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > max {
			return 0, fmt.Errorf("prefix length %d outside 0..%d", n, max)
		}
		return n, nil
	}
	if v4 {
		if m, err := netip.ParseAddr(s); err == nil && m.Is4() {
			b := m.As4()
			ones, bits := net.IPMask(b[:]).Size()
			if bits == 0 {
				return 0, fmt.Errorf("%q is not a contiguous netmask", s)
			}
			return ones, nil
		}
	}
	return 0, fmt.Errorf("%q is not a netmask", s)
}

func family(v4 bool) string {
	if v4 {
		return "4"
	}
	return "6"
}

// jsonType names the JSON type of a decoded value for messages.
func jsonType(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", x)
}

// describe quotes a string value or names the type of anything else.
func describe(x any) string {
	if s, ok := x.(string); ok {
		return strconv.Quote(s)
	}
	return jsonType(x)
}
