package nocloud_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"guestbridge/configdrive"
	"guestbridge/internal/oracle"
	"guestbridge/internal/testenv"
	"guestbridge/nocloud"
	"guestbridge/system"
)

// loaded is what cloud-init's own datasource code got (testdata/cloudinit_load.py).
type loaded struct {
	InstanceID       string   `json:"instance_id"`
	Hostname         string   `json:"hostname"`
	PublicKeys       []string `json:"public_keys"`
	AvailabilityZone string   `json:"availability_zone"`
	UserData         *string  `json:"userdata"`
	VendorData       *string  `json:"vendordata"`
	Netplan          *string  `json:"netplan"`
}

func cloudInitLoad(t *testing.T, kind, cloudDir string, macs map[string]string) loaded {
	t.Helper()
	testenv.RequireFile(t, "/usr/lib/python3/dist-packages/cloudinit/sources/DataSourceNoCloud.py")
	m, _ := json.Marshal(macs)
	cmd := exec.Command(testenv.SystemPython, "testdata/cloudinit_load.py", kind, cloudDir, string(m))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cloud-init %s datasource: %v\n%s%s", kind, err, out, stderr.String())
	}
	var l loaded
	if err := json.Unmarshal(out, &l); err != nil {
		t.Fatalf("cloud-init %s output: %v\n%s", kind, err, out)
	}
	return l
}

// drives are config-drive trees. cloud-init's ConfigDrive datasource reads
// their metadata correctly, so its results are the reference for our seed.
// Its network translation is the reference only where it triggers none of
// our deliberate differences (docs/cloud-init-differences.md, each proven
// by configdrive's fixture tests): networkAgrees marks those drives.
var drives = []struct {
	name          string
	dir           string
	macs          map[string]string
	networkAgrees bool
}{
	// Per-network DNS, several default routes, an unnamed DHCP NIC: differences 4, 8, 9.
	{"sample", "../samples/config-drive", map[string]string{"fa:16:3e:12:34:01": "eth0", "fa:16:3e:12:34:02": "eth1"}, false},
	// cloud-init's own CFG_DRIVE_FILES_V2: user/vendor data, files, ec2 tree; 3 DHCP NICs (difference 9).
	{"ci-CFG_DRIVE_FILES_V2", "../configdrive/testdata/ci-CFG_DRIVE_FILES_V2",
		map[string]string{"fa:16:3e:69:b0:58": "enp0s1", "fa:16:3e:d4:57:ad": "enp0s2"}, false},
	// One named NIC, static v4/v6, global DNS only: cloud-init gets it right.
	{"agree", "testdata/agree-drive", nil, true},
}

// TestSeedLoadsLikeConfigDrive: the seed we write loads in cloud-init's real
// NoCloud datasource with what its ConfigDrive datasource gets from the same drive.
func TestSeedLoadsLikeConfigDrive(t *testing.T) {
	for _, d := range drives {
		t.Run(d.name, func(t *testing.T) {
			drive, err := filepath.Abs(d.dir)
			if err != nil {
				t.Fatal(err)
			}
			// ConfigDrive reads <cloud_dir>/seed/config_drive.
			cdCloud := t.TempDir()
			if err := os.MkdirAll(filepath.Join(cdCloud, "seed"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(drive, filepath.Join(cdCloud, "seed", "config_drive")); err != nil {
				t.Fatal(err)
			}
			want := cloudInitLoad(t, "configdrive", cdCloud, d.macs)

			inst, err := (&configdrive.Source{Path: drive, KnownNames: d.macs}).Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			root := system.Root{Dir: t.TempDir()}
			if _, err := nocloud.Write(root, inst, nocloud.Options{Dir: "/cloud/seed/nocloud"}); err != nil {
				t.Fatal(err)
			}
			got := cloudInitLoad(t, "nocloud", filepath.Join(root.Dir, "cloud"), d.macs)

			if got.InstanceID != want.InstanceID {
				t.Errorf("instance-id: NoCloud %q, ConfigDrive %q", got.InstanceID, want.InstanceID)
			}
			if got.Hostname != want.Hostname {
				t.Errorf("hostname: NoCloud %q, ConfigDrive %q", got.Hostname, want.Hostname)
			}
			if got.AvailabilityZone != want.AvailabilityZone {
				t.Errorf("availability zone: NoCloud %q, ConfigDrive %q", got.AvailabilityZone, want.AvailabilityZone)
			}
			// ConfigDrive keeps the key's trailing newline; the key is the same.
			if g, w := trimAll(got.PublicKeys), trimAll(want.PublicKeys); strings.Join(g, "|") != strings.Join(w, "|") {
				t.Errorf("public keys: NoCloud %q, ConfigDrive %q", g, w)
			}
			if deref(got.UserData) != deref(want.UserData) {
				t.Errorf("user-data: NoCloud %q, ConfigDrive %q", deref(got.UserData), deref(want.UserData))
			}
			// NoCloud says "" where ConfigDrive says None: both mean none.
			if vendorData(got.VendorData) != vendorData(want.VendorData) {
				t.Errorf("vendor-data: NoCloud %q, ConfigDrive %q", deref(got.VendorData), deref(want.VendorData))
			}
			if (got.Netplan == nil) != (want.Netplan == nil) {
				t.Fatalf("network config: NoCloud %v, ConfigDrive %v", got.Netplan != nil, want.Netplan != nil)
			}
			if got.Netplan == nil {
				return
			}
			// NoCloud hands our v2 to netplan unchanged.
			ours, err := inst.Network.MarshalV2()
			if err != nil {
				t.Fatal(err)
			}
			if ok, diff := oracle.Equivalent(t, []byte(*got.Netplan), ours); !ok {
				t.Errorf("cloud-init's NoCloud changed our network config:\n%s", diff)
			}
			if d.networkAgrees {
				// Same meaning, not the same spelling: our normalisation
				// (docs/cloud-init-differences.md) may order or spell
				// routes differently from cloud-init's ConfigDrive.
				if diff := sameMeaning(t, *got.Netplan, *want.Netplan); diff != "" {
					t.Errorf("network config means something else (NoCloud vs ConfigDrive):\n%s", diff)
				}
			}
		})
	}
}

func trimAll(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimSpace(k)
	}
	return out
}

func vendorData(s *string) string {
	if s == nil || *s == "" {
		return "<none>"
	}
	return *s
}

func deref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return *s
}

// sameMeaning compares two netplan documents by what they configure per
// interface (addresses, routes in any order, MTU, DNS, DHCP), as parsed by
// the renderer oracle; "" when they agree.
func sameMeaning(t *testing.T, a, b string) string {
	t.Helper()
	parse := func(doc string) oracle.Rendered {
		r, err := oracle.ParseRendered("netplan", map[string]string{"50-cloud-init.yaml": doc})
		if err != nil {
			t.Fatalf("parsing netplan document: %v\n%s", err, doc)
		}
		if len(r) == 0 {
			t.Fatalf("no interface in the netplan document:\n%s", doc)
		}
		for _, ifc := range r {
			slices.SortFunc(ifc.Routes, func(x, y oracle.RRoute) int { return strings.Compare(x.String(), y.String()) })
		}
		return r
	}
	// JSON spells netip values as text, so cmp sees plain data.
	view := func(r oracle.Rendered) any {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	return cmp.Diff(view(parse(a)), view(parse(b)))
}
