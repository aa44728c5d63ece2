package configdrive

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// ec2MetaPath is the only EC2 file cloud-init reads from a config drive.
const ec2MetaPath = "ec2/latest/meta-data.json"

// ec2Fallback holds the EC2-format fields that may fill gaps in
// meta_data.json. instance-id is deliberately absent: it is nova's
// "i-0000abcd" EC2 id, not the instance UUID, and using it would change the
// identity cloud-init and everything else key on.
type ec2Fallback struct {
	Hostname         string
	AvailabilityZone string
	PublicKeys       []string
}

func parseEC2Meta(data []byte) (*ec2Fallback, error) {
	top, err := decodeDocument(data)
	if err != nil {
		return nil, err
	}
	e := &ec2Fallback{}
	// local-hostname is what cloud-init uses as the hostname.
	for _, key := range []string{"local-hostname", "hostname"} {
		if raw, ok := top[key]; ok && e.Hostname == "" {
			if e.Hostname, err = decodeOptionalString(key, raw); err != nil {
				return nil, err
			}
		}
	}
	if raw, ok := top["placement"]; ok && !isNull(raw) {
		placement, err := decodeObject("placement", raw)
		if err != nil {
			return nil, err
		}
		if e.AvailabilityZone, err = decodeOptionalString("placement.availability-zone", placement["availability-zone"]); err != nil {
			return nil, err
		}
	}
	if raw, ok := top["public-keys"]; ok && !isNull(raw) {
		if e.PublicKeys, err = parseEC2PublicKeys(raw); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// parseEC2PublicKeys reads {"0": {"openssh-key": "..."}, ...} in index order.
func parseEC2PublicKeys(raw json.RawMessage) ([]string, error) {
	m, err := decodeObject("public-keys", raw)
	if err != nil {
		return nil, err
	}
	names := sortedKeys(m)
	// Numeric indexes in numeric order ("2" before "10"), then other names.
	slices.SortFunc(names, func(a, b string) int {
		ia, errA := strconv.Atoi(a)
		ib, errB := strconv.Atoi(b)
		switch {
		case errA == nil && errB == nil:
			return cmp.Compare(ia, ib)
		case errA == nil:
			return -1
		case errB == nil:
			return 1
		}
		return strings.Compare(a, b)
	})
	var keys []string
	for _, name := range names {
		field := "public-keys." + name
		entry, err := decodeObject(field, m[name])
		if err != nil {
			return nil, err
		}
		k, err := decodeOptionalString(field+".openssh-key", entry["openssh-key"])
		if err != nil {
			return nil, err
		}
		if k = trimKey(k); strings.TrimSpace(k) != "" {
			keys = append(keys, k)
		}
	}
	return keys, nil
}
