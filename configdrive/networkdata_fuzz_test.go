package configdrive

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// addNDSeeds seeds a fuzz target with every fixture plus small edge cases
// (the checked-in corpus under testdata/fuzz has the same and the crashers
// found so far).
func addNDSeeds(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(ndFixtureDir, "*.network_data.json"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{`{}`, `null`, `[]`, `{"links": null}`, `{"links": [{"id": "a", "name": "x"}], "networks": [{"link": "a", "type": "ipv6_slaac"}]}`,
		`{"links": [{"id": "a", "ethernet_mac_address": "fa:16:3e:00:00:01"}, {"id": "b", "type": "bond", "bond_links": ["a"], "bond_mode": 4}]}`,
		// names YAML readers could mistake for syntax or other types
		`{"links": [{"id": "a", "name": "<<", "ethernet_mac_address": "52:54:00:00:00:01"}, {"id": "b", "type": "bond", "name": "null", "bond_links": ["a"]}, {"id": "c", "type": "vlan", "vlan_id": 1, "vlan_link": "b", "name": "*a"}]}`} {
		f.Add([]byte(s))
	}
}

var fuzzKnown = NetworkOptions{KnownNames: map[string]string{"fa:16:3e:00:00:01": "ens3"}}

// FuzzParseNetworkData: never panics; either a valid Config or an error
// that names network_data.json — never both, never neither.
func FuzzParseNetworkData(f *testing.F) {
	addNDSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, err := ParseNetworkData(data, fuzzKnown)
		if err != nil {
			if cfg != nil {
				t.Fatal("config returned with an error")
			}
			if !strings.HasPrefix(err.Error(), "network_data.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("nil config without error")
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parser returned an invalid config: %v", err)
		}
	})
}

// FuzzMarshalV2RoundTrip: whatever ParseNetworkData accepts renders to v2
// that decodes as YAML with version 2 and every interface present.
func FuzzMarshalV2RoundTrip(f *testing.F) {
	addNDSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, err := ParseNetworkData(data, fuzzKnown)
		if err != nil {
			return
		}
		out, err := cfg.MarshalV2()
		if err != nil {
			t.Fatalf("MarshalV2 failed on a parsed config: %v", err)
		}
		var doc struct {
			Network struct {
				Version   int
				Ethernets map[string]any
				Bonds     map[string]any
				VLANs     map[string]any `yaml:"vlans"`
			}
		}
		if err := yaml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("v2 output does not decode: %v\n%s", err, out)
		}
		n := doc.Network
		if n.Version != 2 || len(n.Ethernets) != len(cfg.Ethernets) || len(n.Bonds) != len(cfg.Bonds) || len(n.VLANs) != len(cfg.VLANs) {
			t.Fatalf("decoded v2 lost interfaces: %+v\n%s", n, out)
		}
	})
}
