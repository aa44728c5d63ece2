package vmdata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"guestbridge/datasource"
	"guestbridge/netconf"
)

// VMData is the raw vm-data subtree of a domain's XenStore directory, as
// nova's XenAPI driver and Rackspace write it (see ReadVMData).
type VMData struct {
	Networking   map[string][]byte // key under vm-data/networking → raw value
	Hostname     *string           // vm-data/hostname, nil if absent
	UserMetadata map[string][]byte // vm-data/user-metadata/<key> → raw (JSON-encoded) value
	ProviderData map[string]string // vm-data/provider_data/** flattened with "/" (e.g. "ip_whitelist/0")
	LocalMACs    map[string]string // optional: MAC (any common spelling) → current interface name
}

// MaxValueSize is the largest value XenStore can hold (XENSTORE_PAYLOAD_MAX);
// anything bigger did not come from a real XenStore and is skipped.
const MaxValueSize = 4096

// ParseVMData translates vm-data into an Instance. It never fails on bad
// input: whatever cannot be used is skipped with a warning naming the
// XenStore key, and everything else is still translated. The error is
// reserved for a result that fails netconf validation (a bug, not input).
//
// InstanceID and Source are left empty: vm-data carries no instance id, the
// Source fills both in.
func ParseVMData(v VMData) (*datasource.Instance, error) {
	inst := &datasource.Instance{}
	w := &warnings{}
	inst.Hostname = parseHostname(v.Hostname, w)
	inst.Meta = parseUserMetadata(v.UserMetadata, w)
	inst.ProviderData = parseProviderData(v.ProviderData, w)
	cfg, err := parseNetworking(v.Networking, v.LocalMACs, w)
	if err != nil {
		return nil, err
	}
	inst.Network = cfg
	inst.Warnings = w.list
	return inst, nil
}

// warnings collects the Instance.Warnings, each prefixed with its key.
type warnings struct{ list []string }

func (w *warnings) add(key, format string, args ...any) {
	if w == nil { // callers pass nil when the problem was already reported
		return
	}
	w.list = append(w.list, key+": "+fmt.Sprintf(format, args...))
}

const (
	keyHostname     = "vm-data/hostname"
	keyNetworking   = "vm-data/networking/"
	keyUserMetadata = "vm-data/user-metadata/"
	keyProviderData = "vm-data/provider_data/"
)

// parseHostname trims the value (xenstore-read and some writers add a
// newline) and rejects what cannot be a host name; "" keeps the local name.
func parseHostname(h *string, w *warnings) string {
	if h == nil {
		return ""
	}
	name := strings.TrimSpace(*h)
	switch {
	case len(name) > MaxValueSize:
		w.add(keyHostname, "value of %d bytes is larger than XenStore allows, ignored", len(name))
		return ""
	case len(name) > 253:
		w.add(keyHostname, "%d bytes is too long for a host name, ignored", len(name))
		return ""
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
		w.add(keyHostname, "%q contains blanks or control characters, ignored", name)
		return ""
	}
	return name
}

// parseUserMetadata JSON-decodes each value (nova stores json.dumps(value)).
// A decoded string is kept as is; other JSON (numbers, lists, objects) is
// kept as its compact JSON text; a value that is not JSON is kept raw.
func parseUserMetadata(in map[string][]byte, w *warnings) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for _, k := range slices.Sorted(maps.Keys(in)) {
		raw := in[k]
		if len(raw) > MaxValueSize {
			w.add(keyUserMetadata+k, "value of %d bytes is larger than XenStore allows, ignored", len(raw))
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			out[k] = s
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err == nil {
			out[k] = buf.String()
			continue
		}
		// The value itself is not repeated: user metadata may be private.
		w.add(keyUserMetadata+k, "value is not JSON-encoded, kept as the raw string")
		out[k] = string(raw)
	}
	return out
}

func parseProviderData(in map[string]string, w *warnings) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for _, k := range slices.Sorted(maps.Keys(in)) {
		if len(in[k]) > MaxValueSize {
			w.add(keyProviderData+k, "value of %d bytes is larger than XenStore allows, ignored", len(in[k]))
			continue
		}
		out[k] = in[k]
	}
	return out
}

// parseNetworking turns every vm-data/networking entry into an Ethernet,
// ordered by MAC so IDs and route metrics are stable whatever order the keys
// were listed in. It returns nil when no interface could be translated.
func parseNetworking(in map[string][]byte, localMACs map[string]string, w *warnings) (*netconf.Config, error) {
	local, err := normaliseLocalMACs(localMACs)
	if err != nil {
		return nil, err
	}
	var nics []netconf.Ethernet
	seen := map[string]string{} // MAC → key that claimed it
	for _, k := range slices.Sorted(maps.Keys(in)) {
		key := keyNetworking + k
		eth, ok := parseNIC(key, k, in[k], w)
		if !ok {
			continue
		}
		mac := eth.MAC.String()
		if other, dup := seen[mac]; dup {
			w.add(key, "mac %s is also given by %s, ignored", mac, other)
			continue
		}
		if local != nil && local[mac] == "" {
			// Kept, as for a config drive: v2 matches by MAC, so the entry is
			// harmless until the NIC appears (hot-plug), and apply skips it.
			w.add(key, "mac %s matches no local network interface (yet)", mac)
		}
		seen[mac] = key
		nics = append(nics, eth)
	}
	if len(nics) == 0 {
		return nil, nil
	}
	slices.SortFunc(nics, func(a, b netconf.Ethernet) int { return bytes.Compare(a.MAC, b.MAC) })

	cfg := &netconf.Config{}
	for i, eth := range nics {
		eth.ID = local[eth.MAC.String()]
		if eth.ID == "" {
			eth.ID = fmt.Sprintf("nic%d", i)
		}
		// Each NIC keeps its own "dns" list; there is no machine-wide one
		// in vm-data (netconf.Config.MachineDNS gathers them).
		cfg.Ethernets = append(cfg.Ethernets, eth)
	}
	// The one normalisation every source goes through (netconf).
	for _, msg := range cfg.Normalise() {
		w.add("vm-data/networking", "%s", msg)
	}
	// Several NICs with a default route each: metrics 100, 200, … in MAC
	// order, so they do not fight over the kernel's single default route.
	cfg.SpreadDefaultRouteMetrics()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vm-data/networking: translated configuration is invalid: %w", err)
	}
	return cfg, nil
}

// normaliseLocalMACs re-keys the caller's MAC → name map by the canonical
// MAC spelling. nil stays nil (no local knowledge: every MAC is accepted).
func normaliseLocalMACs(in map[string]string) (map[string]string, error) {
	if in == nil {
		return nil, nil
	}
	out := make(map[string]string, len(in))
	for m, name := range in {
		mac, err := parseMAC(m)
		if err != nil {
			return nil, fmt.Errorf("LocalMACs: %w", err)
		}
		out[mac.String()] = name
	}
	return out, nil
}
