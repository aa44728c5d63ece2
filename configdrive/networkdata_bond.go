package configdrive

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"guestbridge/netconf"
)

// bondModeNames maps the kernel's numeric bonding modes to netplan's names.
var bondModeNames = map[string]string{
	"0": "balance-rr", "1": "active-backup", "2": "balance-xor", "3": "broadcast",
	"4": "802.3ad", "5": "balance-tlb", "6": "balance-alb",
}

// bondMode maps bond_mode to a netplan mode name. cloud-init passes the
// value through verbatim, so netplan rejects "4"; we translate it.
func (b *networkBuilder) bondMode(o jsonObject) (string, error) {
	mode, err := o.scalar("bond_mode")
	if err != nil || mode == "" {
		return "", err
	}
	mode = strings.ToLower(strings.TrimSpace(mode))
	if name, ok := bondModeNames[mode]; ok {
		return name, nil
	}
	if mode == "802.1ad" {
		// The nova spec's sample has this typo for LACP.
		b.warnf("%s \"802.1ad\": read as 802.3ad (LACP)", o.at("bond_mode"))
		return "802.3ad", nil
	}
	if slices.Contains(netconf.BondModes, mode) {
		return mode, nil
	}
	return "", errAt(o.at("bond_mode"), "unknown bond mode %q (want 0..6 or one of %s)", mode, strings.Join(netconf.BondModes, ", "))
}

// bondParams reads bond_mode and the other bond_* keys (ironic passes
// portgroup properties through as bond_<property>; some producers use
// dashes). Keys the model cannot express are skipped with a warning.
func (b *networkBuilder) bondParams(o jsonObject) (netconf.BondParams, error) {
	var p netconf.BondParams
	var err error
	if p.Mode, err = b.bondMode(o); err != nil {
		return p, err
	}
	keys := make([]string, 0, len(o.fields))
	for k := range o.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic warnings
	for _, key := range keys {
		norm := strings.ReplaceAll(key, "-", "_")
		if !strings.HasPrefix(norm, "bond_") || norm == "bond_links" || norm == "bond_mode" || !o.has(key) {
			continue
		}
		value, err := o.scalar(key)
		if err != nil {
			return p, err
		}
		if err := setBondParam(&p, norm, value); err != nil {
			if err == errUnsupportedBondParam {
				b.warnf("%s: not supported, ignored", o.at(key))
				continue
			}
			return p, errAt(o.at(key), "%v", err)
		}
	}
	return p, nil
}

type bondParamError string

func (e bondParamError) Error() string { return string(e) }

const errUnsupportedBondParam = bondParamError("unsupported")

func setBondParam(p *netconf.BondParams, key, value string) error {
	intValue := func(dst *int) error {
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 {
			return bondParamError("want a whole number >= 0, got " + strconv.Quote(value))
		}
		*dst = n
		return nil
	}
	switch key {
	case "bond_miimon":
		return intValue(&p.MIIMonitorInterval)
	case "bond_updelay":
		return intValue(&p.UpDelay)
	case "bond_downdelay":
		return intValue(&p.DownDelay)
	case "bond_min_links":
		return intValue(&p.MinLinks)
	case "bond_xmit_hash_policy":
		p.TransmitHashPolicy = value
	case "bond_lacp_rate":
		p.LACPRate = value
	case "bond_primary":
		p.Primary = value // a link id, resolved to a name with the members
	case "bond_ad_select":
		p.ADSelect = value
	default:
		return errUnsupportedBondParam
	}
	return nil
}
