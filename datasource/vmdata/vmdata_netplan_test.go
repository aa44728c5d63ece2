package vmdata

import (
	"encoding/json"
	"strings"
	"testing"

	"guestbridge/internal/oracle"
)

// netplan (the reference v2 parser) must accept what vm-data translates to,
// without "Conflicting default route" warnings, and render the gateways the
// way the source meant: fe80:: via on the link, on-link where needed, and
// distinct metrics for several default routes.
func TestParseVMDataNetplanAccepts(t *testing.T) {
	var oneX struct {
		XenStore map[string]string `json:"xenstore"`
	}
	if err := json.Unmarshal(readVMDataFile(t, "novaagent-1x-input_xenstore.json"), &oneX); err != nil {
		t.Fatal(err)
	}
	twoNICs := map[string][]byte{}
	for k, v := range oneX.XenStore {
		if name, ok := strings.CutPrefix(k, "vm-data/networking/"); ok {
			twoNICs[name] = []byte(v)
		}
	}
	for _, tc := range []struct {
		name       string
		networking map[string][]byte
		want       []string // lines every one of which must be in the generated files
	}{
		{"nova-xenapi", map[string][]byte{"DEADBEEF0001": readVMDataFile(t, "nova-xenapi-DEADBEEF0001.json")},
			[]string{"Address=192.168.1.100/24", "Gateway=192.168.1.1", "Gateway=2001:db8:0:1::1", "DNS=192.168.1.4"}},
		{"rackspace-private", map[string][]byte{"BC764E206C5B": readVMDataFile(t, "rax-BC764E206C5B.raw.json")},
			[]string{"Destination=10.176.0.0/12", "Gateway=10.208.224.1"}},
		{"two-nics-link-local-v6-gateway", twoNICs,
			[]string{"Gateway=fe80::def", "Gateway=104.130.4.1"}},
		{"two-default-routes", map[string][]byte{
			"a": []byte(`{"mac":"02:00:00:00:00:0a","ips":[{"ip":"192.0.2.5","netmask":"255.255.255.0"}],"gateway":"192.0.2.1"}`),
			"b": []byte(`{"mac":"02:00:00:00:00:0b","ips":[{"ip":"198.51.100.5","netmask":"255.255.255.0"}],"gateway":"198.51.100.1","ip6s":[{"ip":"2001:db8::5","netmask":"64"}],"gateway_v6":"fe80::1"}`),
		}, []string{"Metric=100", "Metric=200"}},
		{"on-link-gateway", map[string][]byte{
			"c": []byte(`{"mac":"02:00:00:00:00:0c","ips":[{"ip":"203.0.113.10","netmask":"255.255.255.255"}],"gateway":"203.0.113.1"}`),
		}, []string{"GatewayOnLink=true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := mustParse(t, VMData{Networking: tc.networking})
			checkNoWarnings(t, inst)
			yaml, err := inst.Network.MarshalV2()
			if err != nil {
				t.Fatalf("MarshalV2: %v", err)
			}
			files, stderr := oracle.NetplanGenerate(t, yaml)
			if strings.Contains(stderr, "onflicting") {
				t.Errorf("netplan warns:\n%s\ninput:\n%s", stderr, yaml)
			}
			var all strings.Builder
			for _, content := range files {
				all.WriteString(content)
			}
			for _, line := range tc.want {
				if !strings.Contains(all.String(), line+"\n") {
					t.Errorf("generated files lack %q\ninput:\n%s\noutput:\n%s", line, yaml, all.String())
				}
			}
		})
	}
}
