package configdrive

import (
	"errors"

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
// PLACEHOLDER: the real implementation replaces this file.
func ParseNetworkData(data []byte, opts NetworkOptions) (*netconf.Config, []string, error) {
	return nil, nil, errors.New("network_data.json: not implemented")
}
