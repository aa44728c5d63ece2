package configdrive

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"

	"guestbridge/netconf"
)

// NetworkOptions tune the translation of network_data.json.
type NetworkOptions struct {
	// KnownNames maps a lower-case MAC ("fa:16:3e:00:00:01") to the guest's
	// current interface name. Links without a "name" take their Ethernet.ID
	// from here; otherwise they get "nicN".
	KnownNames map[string]string
}

// ParseNetworkData translates an OpenStack network_data.json document into
// the network model. Warnings name what was skipped or guessed; an error
// names the field that is wrong, and then no Config is returned.
//
// It follows cloud-init 22.4.2's convert_net_json where that is right and
// deliberately differs where it is not; docs/cloud-init-differences.md lists
// every difference.
func ParseNetworkData(data []byte, opts NetworkOptions) (*netconf.Config, []string, error) {
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, fmt.Errorf("network_data.json: invalid JSON: %w", err)
	}
	top, err := objectAt("", raw)
	if err != nil {
		return nil, nil, err
	}
	b := &networkBuilder{opts: opts, cfg: &netconf.Config{}, links: map[string]*linkRef{}}
	if err := b.addLinks(top); err != nil {
		return nil, nil, err
	}
	if err := b.addNetworks(top); err != nil {
		return nil, nil, err
	}
	if err := b.addGlobalServices(top); err != nil {
		return nil, nil, err
	}
	for _, w := range b.cfg.Normalise() {
		b.warnf("%s", w)
	}
	b.cfg.SpreadDefaultRouteMetrics()
	if err := b.cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("network_data.json: %w", err)
	}
	return b.cfg, b.warnings, nil
}

// networkBuilder carries the state of one translation.
type networkBuilder struct {
	opts     NetworkOptions
	cfg      *netconf.Config
	warnings []string
	links    map[string]*linkRef // by link id
	order    []*linkRef          // file order
}

func (b *networkBuilder) warnf(format string, args ...any) {
	b.warnings = append(b.warnings, "network_data.json: "+fmt.Sprintf(format, args...))
}

// addGlobalServices records top-level DNS servers for the machine;
// netconf.Config.Normalise puts them on the interfaces (never dropping one).
func (b *networkBuilder) addGlobalServices(top jsonObject) error {
	services, err := top.objList("services")
	if err != nil {
		return err
	}
	for _, s := range services {
		addr, ok, err := b.dnsService(s)
		if err != nil {
			return err
		}
		if ok && !slices.Contains(b.cfg.Nameservers, addr) {
			b.cfg.Nameservers = append(b.cfg.Nameservers, addr)
		}
	}
	return nil
}

// dnsService reads one {"type": "dns", "address": ...} entry; ok is false
// for other service types, which are skipped with a warning.
func (b *networkBuilder) dnsService(s jsonObject) (netip.Addr, bool, error) {
	typ, err := s.str("type")
	if err != nil {
		return netip.Addr{}, false, err
	}
	if typ != "dns" {
		b.warnf("%s: service type %q ignored", s.at("type"), typ)
		return netip.Addr{}, false, nil
	}
	text, err := s.str("address")
	if err != nil {
		return netip.Addr{}, false, err
	}
	addr, err := netip.ParseAddr(text)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}, false, errAt(s.at("address"), "%q is not an IP address", text)
	}
	return addr.Unmap(), true, nil
}
