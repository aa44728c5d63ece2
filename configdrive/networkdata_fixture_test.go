package configdrive

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"guestbridge/internal/oracle"
	"guestbridge/netconf"
)

// ndFixture is one network_data.json fixture from testdata/networkdata.
type ndFixture struct {
	name     string
	input    []byte
	macs     map[string]string // interface name → MAC, as cloud-init was told
	known    map[string]string // MAC → interface name (NetworkOptions.KnownNames)
	expected []byte            // cloud-init 22.4.2's netplan YAML; nil when it failed
	doc      map[string]any    // input, decoded, for the normalisers
}

const ndFixtureDir = "testdata/networkdata"

func loadNDFixtures(t testing.TB) []*ndFixture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(ndFixtureDir, "*.network_data.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in %s: %v", ndFixtureDir, err)
	}
	sort.Strings(paths)
	var out []*ndFixture
	for _, p := range paths {
		out = append(out, loadNDFixture(t, strings.TrimSuffix(filepath.Base(p), ".network_data.json")))
	}
	return out
}

func loadNDFixture(t testing.TB, name string) *ndFixture {
	t.Helper()
	base := filepath.Join(ndFixtureDir, name)
	fx := &ndFixture{name: name, macs: map[string]string{}, known: map[string]string{}}
	var err error
	if fx.input, err = os.ReadFile(base + ".network_data.json"); err != nil {
		t.Fatal(err)
	}
	if macs, err := os.ReadFile(base + ".macs"); err == nil {
		for _, line := range strings.Split(string(macs), "\n") {
			if ifname, mac, ok := strings.Cut(strings.TrimSpace(line), ","); ok {
				fx.macs[ifname] = mac
				fx.known[mac] = ifname
			}
		}
	}
	if exp, err := os.ReadFile(base + ".expected-netplan.yaml"); err == nil {
		fx.expected = exp
	}
	if err := json.Unmarshal(fx.input, &fx.doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return fx
}

// parse runs the code under test on the fixture.
func (fx *ndFixture) parse(t testing.TB) (*netconf.Config, []string) {
	t.Helper()
	cfg, warnings, err := ParseNetworkData(fx.input, NetworkOptions{KnownNames: fx.known})
	if err != nil {
		t.Fatalf("ParseNetworkData(%s): %v", fx.name, err)
	}
	return cfg, warnings
}

func (fx *ndFixture) links() []map[string]any    { return objects(fx.doc["links"]) }
func (fx *ndFixture) networks() []map[string]any { return objects(fx.doc["networks"]) }

func objects(v any) []map[string]any {
	list, _ := v.([]any)
	var out []map[string]any
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// ourNames maps link id → the interface name our parser gave it; the
// parser keeps file order within each kind, so the n-th bond link is
// cfg.Bonds[n], and so on.
func (fx *ndFixture) ourNames(cfg *netconf.Config) map[string]string {
	names := map[string]string{}
	var e, b, v int
	for _, l := range fx.links() {
		id, _ := l["id"].(string)
		switch l["type"] {
		case "bond":
			names[id] = cfg.Bonds[b].Name
			b++
		case "vlan":
			names[id] = cfg.VLANs[v].Name
			v++
		default:
			names[id] = cfg.Ethernets[e].ID
			e++
		}
	}
	return names
}

// cloudInitNames maps link id → the name cloud-init 22.4.2 gives it:
// physical links by "name" or the known MACs, bonds always bond0, bond1…,
// VLANs always <parent name>.<vlan_id>.
func (fx *ndFixture) cloudInitNames() map[string]string {
	names := map[string]string{}
	bonds := 0
	for _, l := range fx.links() {
		id, _ := l["id"].(string)
		switch l["type"] {
		case "bond":
			names[id] = "bond" + strconv.Itoa(bonds)
			bonds++
		case "vlan":
		default:
			if n, _ := l["name"].(string); n != "" {
				names[id] = n
			} else {
				mac, _ := l["ethernet_mac_address"].(string)
				names[id] = fx.known[strings.ToLower(mac)]
			}
		}
	}
	for _, l := range fx.links() {
		if l["type"] == "vlan" {
			id, _ := l["id"].(string)
			parent, _ := l["vlan_link"].(string)
			vid, _ := l["vlan_id"].(float64)
			names[id] = names[parent] + "." + strconv.Itoa(int(vid))
		}
	}
	return names
}

// ndExpectedErrors are the fixtures cloud-init 22.4.2 rejects too, with a
// fragment our error must contain (the JSON path of the culprit).
var ndExpectedErrors = map[string]string{
	"ci-ERR-invalid-ipv4-route-mask":     `networks[0].routes[0].netmask: netmask "255.234.255.0" is not contiguous`,
	"ci-ERR-invalid-ipv6-route-mask":     `networks[0].routes[0].netmask: netmask "ff:ff:ff:ff::" is not contiguous`,
	"ciHEAD-PLACEHOLDER-bond-mac":        `links[0].ethernet_mac_address: "xx:xx:xx:xx:xx:00" is not a MAC address`,
	"ciHEAD-PLACEHOLDER-bond-name":       `links[0].ethernet_mac_address: "xx:xx:xx:xx:xx:00" is not a MAC address`,
	"ciHEAD-PLACEHOLDER-bond-vlan-v4-v6": `links[0].ethernet_mac_address: "xx:xx:xx:xx:xx:00" is not a MAC address`,
	"ciHEAD-PLACEHOLDER-dns-in-routes":   `links[0].ethernet_mac_address: "xx:xx:xx:xx:xx:00" is not a MAC address`,
}

// TestNetworkDataFixturesAgainstCloudInit is the main proof: for every
// fixture our v2 passes `netplan generate` cleanly, and, after removing the
// documented differences, is equivalent (same `netplan get all`, same
// generated files) to what cloud-init 22.4.2 wrote for the same input.
func TestNetworkDataFixturesAgainstCloudInit(t *testing.T) {
	for _, fx := range loadNDFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			if want, isErr := ndExpectedErrors[fx.name]; isErr {
				_, _, err := ParseNetworkData(fx.input, NetworkOptions{KnownNames: fx.known})
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("want error containing %q, got %v", want, err)
				}
				if fx.expected != nil {
					t.Errorf("cloud-init accepted %s but we reject it", fx.name)
				}
				return
			}
			cfg, _ := fx.parse(t)
			ours, err := cfg.MarshalV2()
			if err != nil {
				t.Fatal(err)
			}
			_, stderr := oracle.NetplanGenerate(t, ours)
			stderr = oracle.NetplanUnexpected(stderr)
			for _, bad := range []string{"Conflicting default route", "Error", "deprecated"} {
				if strings.Contains(stderr, bad) {
					t.Errorf("netplan generate complains (%q):\n%s\nour v2:\n%s", bad, stderr, ours)
				}
			}
			if fx.expected == nil {
				t.Fatalf("no cloud-init reference for %s", fx.name)
			}
			oursTree, theirsTree := decodeV2(t, ours), decodeV2(t, fx.expected)
			for _, n := range ci22Normalisers {
				n.apply(fx, cfg, oursTree, theirsTree)
			}
			a, b := oursTree.encode(t), theirsTree.encode(t)
			if ok, diff := oracle.Equivalent(t, a, b); !ok {
				t.Errorf("not equivalent to cloud-init 22.4.2 after normalisation:\n%s\nours (normalised):\n%s\ncloud-init (normalised):\n%s", diff, a, b)
			}
		})
	}
}

// TestCloudInitOracleMatchesCheckedIn runs the installed cloud-init on every
// fixture and checks it still writes the checked-in expected YAML, so the
// references above are what cloud-init really does (and fails where it
// failed).
func TestCloudInitOracleMatchesCheckedIn(t *testing.T) {
	for _, fx := range loadNDFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			live, stderr, err := oracle.CloudInitNetConvertErr(t, fx.input, fx.macs)
			if fx.expected == nil {
				if err == nil {
					t.Fatalf("cloud-init now accepts %s:\n%s", fx.name, live)
				}
				return
			}
			if err != nil {
				t.Fatalf("cloud-init failed: %v\n%s", err, stderr)
			}
			if got, want := stripComments(live), stripComments(fx.expected); got != want {
				t.Errorf("live cloud-init output differs from %s.expected-netplan.yaml:\n--- live\n%s\n--- checked in\n%s", fx.name, got, want)
			}
		})
	}
}

func stripComments(doc []byte) string {
	var keep []string
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "#") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
