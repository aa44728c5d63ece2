package nocloud

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"guestbridge/datasource"
	"guestbridge/netconf"
	"guestbridge/system"
)

func sampleInstance() *datasource.Instance {
	mac, _ := net.ParseMAC("fa:16:3e:00:00:01")
	return &datasource.Instance{
		Source:           "test",
		InstanceID:       "iid-1",
		Hostname:         "host1.example.org",
		AvailabilityZone: "zone-a",
		PublicKeys:       []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE+LHbqET9AL15iKU3DpUoGSmjvtFXlg9SxV+AdNqv/m a@b"},
		UserData:         []byte("#cloud-config\npassword: hunter2\n"),
		VendorData:       []byte("#cloud-config\n{}\n"),
		Meta:             map[string]string{"dsmode": "local"},
		Network: &netconf.Config{Ethernets: []netconf.Ethernet{{
			ID: "eth0", MAC: mac,
			L3: netconf.L3{Addresses: []netip.Prefix{netip.MustParsePrefix("198.51.100.10/24")}},
		}}},
	}
}

func TestRenderMetaData(t *testing.T) {
	seed, err := Render(sampleInstance())
	if err != nil {
		t.Fatal(err)
	}
	var md map[string]any
	if err := yaml.Unmarshal(seed["meta-data"], &md); err != nil {
		t.Fatalf("meta-data is not YAML: %v\n%s", err, seed["meta-data"])
	}
	want := map[string]any{
		"instance-id": "iid-1", "local-hostname": "host1.example.org",
		"availability-zone": "zone-a", "dsmode": "local",
	}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("meta-data %s = %v, want %v", k, md[k], v)
		}
	}
	keys, _ := md["public-keys"].([]any)
	if len(keys) != 1 || !strings.HasPrefix(keys[0].(string), "ssh-ed25519 ") {
		t.Errorf("public-keys = %v", md["public-keys"])
	}
	if !strings.Contains(string(seed["network-config"]), "198.51.100.10/24") {
		t.Errorf("network-config lacks the address:\n%s", seed["network-config"])
	}
}

func TestRenderNeedsInstanceID(t *testing.T) {
	inst := sampleInstance()
	inst.InstanceID = " "
	if _, err := Render(inst); err == nil || !strings.Contains(err.Error(), "instance id") {
		t.Fatalf("want an instance id error, got %v", err)
	}
}

func TestWriteModesIdempotenceAndStaleFiles(t *testing.T) {
	root := system.Root{Dir: t.TempDir()}
	dir := "/var/lib/cloud/seed/nocloud"
	changed, err := Write(root, sampleInstance(), Options{Dir: dir, PinDatasource: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 5 {
		t.Errorf("first write changed %v, want 4 seed files + pin file", changed)
	}
	for name, mode := range map[string]os.FileMode{"meta-data": 0o644, "user-data": 0o600, "vendor-data": 0o600, "network-config": 0o644} {
		st, err := os.Stat(filepath.Join(root.Dir, dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), mode)
		}
	}
	pin, err := os.ReadFile(filepath.Join(root.Dir, PinFile))
	if err != nil || !strings.Contains(string(pin), "datasource_list: [ NoCloud, None ]") || strings.Contains(string(pin), "seedfrom") {
		t.Errorf("pin file: %v\n%s", err, pin)
	}

	again, err := Write(root, sampleInstance(), Options{Dir: dir, PinDatasource: true})
	if err != nil || len(again) != 0 {
		t.Errorf("second identical write changed %v (err %v), want nothing", again, err)
	}

	// The instance loses its vendor data and network: the old files must go.
	inst := sampleInstance()
	inst.VendorData, inst.Network, inst.UserData = nil, nil, nil
	if _, err := Write(root, inst, Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"vendor-data", "network-config"} {
		if _, err := os.Stat(filepath.Join(root.Dir, dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s still there after the instance dropped it (err %v)", gone, err)
		}
	}
	if ud, err := os.ReadFile(filepath.Join(root.Dir, dir, "user-data")); err != nil || len(ud) != 0 {
		t.Errorf("user-data must exist and be empty: %q, %v", ud, err)
	}
}

func TestWriteBadInputWritesNothing(t *testing.T) {
	root := system.Root{Dir: t.TempDir()}
	inst := sampleInstance()
	inst.InstanceID = ""
	if _, err := Write(root, inst, Options{PinDatasource: true}); err == nil {
		t.Fatal("want an error")
	}
	entries, _ := os.ReadDir(root.Dir)
	if len(entries) != 0 {
		t.Errorf("bad input wrote %v", entries)
	}
}

func TestPinConfigNonDefaultDir(t *testing.T) {
	got := string(pinConfig("/srv/seed"))
	if !strings.Contains(got, "seedfrom: file:///srv/seed/") {
		t.Errorf("pin config for a custom dir lacks seedfrom:\n%s", got)
	}
}
