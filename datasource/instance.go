// Package datasource holds Instance, the one description of a machine that
// every source (config drive, XenStore) produces and every sink consumes,
// and the Source interface those readers implement.
package datasource

import (
	"context"

	"guestbridge/netconf"
)

// Source reads an Instance from one place.
type Source interface {
	Name() string // e.g. "configdrive:/dev/sr0", "xenstore:/var/run/xenstored/socket"
	Read(ctx context.Context) (*Instance, error)
}

// Instance is everything a source tells the guest about itself.
type Instance struct {
	Source           string            `json:"source"`
	InstanceID       string            `json:"instance_id"`
	Hostname         string            `json:"hostname,omitempty"` // fully qualified when the source says so
	Name             string            `json:"name,omitempty"`     // display name
	AvailabilityZone string            `json:"availability_zone,omitempty"`
	ProjectID        string            `json:"project_id,omitempty"`
	LaunchIndex      int               `json:"launch_index,omitempty"`
	PublicKeys       []string          `json:"public_keys,omitempty"` // OpenSSH lines, trailing newline trimmed, source order
	AdminPass        Secret            `json:"admin_pass,omitempty"`
	Meta             map[string]string `json:"meta,omitempty"` // user properties (config drive meta, XenStore user-metadata)
	Files            []File            `json:"files,omitempty"`
	UserData         []byte            `json:"user_data,omitempty"`   // raw, may be nil
	VendorData       []byte            `json:"vendor_data,omitempty"` // cloud-init vendor data, already unwrapped
	RandomSeed       []byte            `json:"random_seed,omitempty"`
	// ProviderData is free-form provider information (XenStore provider_data/*).
	ProviderData map[string]string `json:"provider_data,omitempty"`
	Network      *netconf.Config   `json:"network,omitempty"` // nil when the source has no network information
	// Warnings name what was skipped or guessed while reading, e.g.
	// `network_data.json: links[2].type "foo": unknown, treated as physical`.
	Warnings []string `json:"warnings,omitempty"`
}

// File is a file the source asks to be written into the guest.
type File struct {
	Path    string `json:"path"`
	Content []byte `json:"content"`
}

// Secret is a string that must never reach a log or a listing: it prints and
// marshals as a placeholder. Use Reveal for the real value.
type Secret string

const redacted = "<redacted>"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from leaking the value.
func (s Secret) GoString() string { return `datasource.Secret("` + s.String() + `")` }

// MarshalText redacts the value in JSON and YAML output.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret value itself.
func (s Secret) Reveal() string { return string(s) }
