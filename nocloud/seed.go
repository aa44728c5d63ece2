// Package nocloud writes a cloud-init NoCloud seed directory from an
// Instance: meta-data, user-data, vendor-data and network-config (v2), and
// optionally the cloud.cfg.d snippet that makes cloud-init use it.
package nocloud

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"guestbridge/datasource"
	"guestbridge/system"
)

// DefaultDir is the first directory cloud-init's NoCloud datasource reads.
const DefaultDir = "/var/lib/cloud/seed/nocloud"

// PinFile makes cloud-init use NoCloud without probing (cloud-init-behaviour §5).
const PinFile = "/etc/cloud/cloud.cfg.d/90-guestbridge.cfg"

// Options say where the seed goes.
type Options struct {
	Dir           string // seed directory as seen on the target system; default DefaultDir
	PinDatasource bool   // also write PinFile
}

// Seed is the rendered content of a seed directory, file name → content.
// A nil entry means the file must not exist.
type Seed map[string][]byte

// seedFiles lists every file a seed may hold, with the mode a new file gets.
// user-data and vendor-data can carry passwords and tokens: owner only.
var seedFiles = []struct {
	name string
	mode os.FileMode
}{
	{"meta-data", 0o644},
	{"user-data", 0o600},
	{"vendor-data", 0o600},
	{"network-config", 0o644},
}

// metaData is the NoCloud meta-data document, in the order cloud-init's
// own examples use.
type metaData struct {
	InstanceID       string   `yaml:"instance-id"`
	LocalHostname    string   `yaml:"local-hostname,omitempty"`
	AvailabilityZone string   `yaml:"availability-zone,omitempty"`
	PublicKeys       []string `yaml:"public-keys,omitempty"`
	DSMode           string   `yaml:"dsmode,omitempty"`
}

// FileNames are the files a seed directory may hold.
var FileNames = func() []string {
	var out []string
	for _, f := range seedFiles {
		out = append(out, f.name)
	}
	return out
}()

// Render turns inst into seed file contents without touching the disk, so
// bad input is refused before anything is written.
func Render(inst *datasource.Instance) (Seed, error) {
	if inst == nil {
		return nil, errors.New("nocloud: no instance")
	}
	if strings.TrimSpace(inst.InstanceID) == "" {
		return nil, fmt.Errorf("nocloud: %s gave no instance id; cloud-init needs one", inst.Source)
	}
	md := metaData{
		InstanceID:       inst.InstanceID,
		LocalHostname:    inst.Hostname,
		AvailabilityZone: inst.AvailabilityZone,
		PublicKeys:       inst.PublicKeys,
		// cloud-init's ConfigDrive honours meta.dsmode; NoCloud reads it from meta-data.
		DSMode: inst.Meta["dsmode"],
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(md); err != nil {
		return nil, fmt.Errorf("nocloud: meta-data: %w", err)
	}
	seed := Seed{
		"meta-data": buf.Bytes(),
		// NoCloud ignores a directory without user-data, so it is always written.
		"user-data":      nonNil(inst.UserData),
		"vendor-data":    inst.VendorData,
		"network-config": nil,
	}
	if inst.Network != nil {
		v2, err := inst.Network.MarshalNetworkConfig()
		if err != nil {
			return nil, fmt.Errorf("nocloud: network-config: %w", err)
		}
		seed["network-config"] = v2
	}
	return seed, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Write renders inst and writes the seed under root: each file atomically,
// files the instance no longer has (vendor-data, network-config) removed.
// It reports the paths it changed.
func Write(root system.Root, inst *datasource.Instance, o Options) ([]string, error) {
	seed, err := Render(inst)
	if err != nil {
		return nil, err
	}
	dir := o.Dir
	if dir == "" {
		dir = DefaultDir
	}
	if !path.IsAbs(dir) {
		return nil, fmt.Errorf("nocloud: seed directory %q is not absolute", dir)
	}
	var changed []string
	for _, f := range seedFiles {
		p := path.Join(dir, f.name)
		content := seed[f.name]
		if content == nil {
			removed, err := root.RemoveFile(p)
			if err != nil {
				return changed, fmt.Errorf("nocloud: %w", err)
			}
			if removed {
				changed = append(changed, p)
			}
			continue
		}
		did, err := root.WriteFile(p, content, system.WriteOptions{Mode: f.mode, DirMode: 0o755})
		if err != nil {
			return changed, fmt.Errorf("nocloud: %w", err)
		}
		if did {
			changed = append(changed, p)
		}
	}
	if o.PinDatasource {
		did, err := root.WriteFile(PinFile, pinConfig(dir), system.WriteOptions{Mode: 0o644, DirMode: 0o755})
		if err != nil {
			return changed, fmt.Errorf("nocloud: %w", err)
		}
		if did {
			changed = append(changed, PinFile)
		}
	}
	return changed, nil
}

// pinConfig names NoCloud alone (plus None), which cloud-init uses without
// probing; a non-default seed dir is passed as seedfrom.
func pinConfig(dir string) []byte {
	var b strings.Builder
	b.WriteString("# Written by guestbridge: cloud-init reads the NoCloud seed guestbridge writes.\n")
	b.WriteString("datasource_list: [ NoCloud, None ]\n")
	if dir != DefaultDir && dir != "/var/lib/cloud/seed/nocloud-net" {
		fmt.Fprintf(&b, "datasource:\n  NoCloud:\n    seedfrom: file://%s/\n", strings.TrimSuffix(dir, "/"))
	}
	return []byte(b.String())
}
