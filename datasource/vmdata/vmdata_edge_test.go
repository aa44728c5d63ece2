package vmdata

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"guestbridge/netconf"
)

const goodNIC = `{"mac": "02:00:00:00:00:01", "ips": [{"ip": "192.0.2.10", "netmask": "255.255.255.0", "enabled": "1"}], "gateway": "192.0.2.1"}`

func hasWarning(warnings []string, parts ...string) bool {
	return slices.ContainsFunc(warnings, func(w string) bool {
		for _, p := range parts {
			if !strings.Contains(w, p) {
				return false
			}
		}
		return true
	})
}

// Each bad entry is reported by key and skipped; the good NIC next to it is
// still translated.
func TestParseVMDataBadEntriesWarnAndSkip(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		localMACs   map[string]string
		warn        []string
	}{
		{"not JSON", `{"mac": `, nil, []string{"not a JSON object"}},
		{"JSON list", `[1, 2]`, nil, []string{"not a JSON object"}},
		{"JSON null", `null`, nil, []string{"not a JSON object"}},
		{"trailing data", `{"mac": "02:00:00:00:00:02"} {}`, nil, []string{"trailing data"}},
		{"no MAC anywhere", `{"ips": []}`, nil, []string{"no usable MAC"}},
		{"MAC of wrong type", `{"mac": 12}`, nil, []string{"mac: a number, want a string"}},
		{"oversized", `{"label": "` + strings.Repeat("x", MaxValueSize) + `"}`, nil, []string{"larger than XenStore allows"}},
		{"duplicate MAC", `{"mac": "02-00-00-00-00-01"}`, nil, []string{"also given by vm-data/networking/A"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := mustParse(t, VMData{
				Networking: map[string][]byte{"A": []byte(goodNIC), "BADKEY": []byte(tc.value)},
				LocalMACs:  tc.localMACs,
			})
			if !hasWarning(inst.Warnings, append([]string{"vm-data/networking/BADKEY: "}, tc.warn...)...) {
				t.Errorf("warnings %q lack %q", inst.Warnings, tc.warn)
			}
			if inst.Network == nil || len(inst.Network.Ethernets) != 1 || inst.Network.Ethernets[0].Addresses[0] != pfx("192.0.2.10/24") {
				t.Fatalf("good NIC not translated: %+v", inst.Network)
			}
		})
	}
}

// A MAC the guest does not have (yet) is kept, with a warning: v2 matches by
// MAC, so it is harmless until the NIC is hot-plugged, and apply skips it.
func TestUnknownLocalMACKeptWithWarning(t *testing.T) {
	inst := mustParse(t, VMData{
		Networking: map[string][]byte{"A": []byte(goodNIC), "B": []byte(`{"mac": "02:00:00:00:00:99", "ips": [{"ip": "198.51.100.7", "netmask": "255.255.255.0"}]}`)},
		LocalMACs:  map[string]string{"02:00:00:00:00:01": "eth0"},
	})
	if !hasWarning(inst.Warnings, "vm-data/networking/B: ", "02:00:00:00:00:99 matches no local network interface") {
		t.Errorf("warnings %q lack the unknown MAC", inst.Warnings)
	}
	if inst.Network == nil || len(inst.Network.Ethernets) != 2 {
		t.Fatalf("want both NICs translated: %+v", inst.Network)
	}
	if ids := inst.Network.Ethernets[0].ID + "," + inst.Network.Ethernets[1].ID; ids != "eth0,nic1" {
		t.Errorf("IDs %s, want eth0 (local name) and nic1 (label)", ids)
	}
}

// A bad field or list entry drops only itself.
func TestParseVMDataBadFieldsWarn(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		warn        string
		addrs       []string
		routes      []netconf.Route
	}{
		{"ips not a list", `{"mac":"02:00:00:00:00:02","ips":"192.0.2.1"}`, `ips: a string, want a list`, nil, nil},
		{"ips entry not an object", `{"mac":"02:00:00:00:00:02","ips":[5,{"ip":"192.0.2.5","netmask":"24"}]}`, `ips[0]: a number, want an object`, []string{"192.0.2.5/24"}, nil},
		{"bad netmask", `{"mac":"02:00:00:00:00:02","ips":[{"ip":"192.0.2.5","netmask":"255.0.255.0"},{"ip":"192.0.2.6","netmask":"255.255.255.128"}]}`, `ips[0].netmask: "255.0.255.0" is not a contiguous netmask`, []string{"192.0.2.6/25"}, nil},
		{"v6 address in ips", `{"mac":"02:00:00:00:00:02","ips":[{"ip":"2001:db8::1","netmask":"64"}]}`, `ips[0].ip: "2001:db8::1" is not an IPv4 address`, nil, nil},
		{"v6 prefix too long", `{"mac":"02:00:00:00:00:02","ip6s":[{"ip":"2001:db8::1","netmask":129}]}`, `ip6s[0].netmask: prefix length 129 outside 0..128`, nil, nil},
		{"gateway of wrong family", `{"mac":"02:00:00:00:00:02","gateway":"2001:db8::1"}`, `gateway: "2001:db8::1" is not an IPv4 address`, nil, nil},
		{"gateway of wrong type", `{"mac":"02:00:00:00:00:02","gateway":[1]}`, `gateway: a list, want a string`, nil, nil},
		{"bad route", `{"mac":"02:00:00:00:00:02","routes":[{"route":"x","netmask":"255.0.0.0"},{"route":"198.51.100.0","netmask":"255.255.255.0"}]}`, `routes[0].route: "x" is not an IP address`, nil,
			[]netconf.Route{{To: pfx("198.51.100.0/24")}}},
		{"route with host bits", `{"mac":"02:00:00:00:00:02","ips":[{"ip":"192.0.2.5","netmask":"255.255.255.0"}],"routes":[{"route":"198.51.100.7","netmask":"255.255.255.0","gateway":"192.0.2.1"}]}`, `198.51.100.7/24 has host bits set, using 198.51.100.0/24`, []string{"192.0.2.5/24"},
			[]netconf.Route{{To: pfx("198.51.100.0/24"), Via: ip("192.0.2.1")}}},
		{"bad dns", `{"mac":"02:00:00:00:00:02","dns":["x", 3]}`, `dns[1]: a number is not an IP address`, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := mustParse(t, VMData{Networking: map[string][]byte{"K": []byte(tc.value)}})
			if !hasWarning(inst.Warnings, "vm-data/networking/K: ", tc.warn) {
				t.Errorf("warnings %q lack %q", inst.Warnings, tc.warn)
			}
			if inst.Network == nil || len(inst.Network.Ethernets) != 1 {
				t.Fatalf("NIC dropped: %+v", inst.Network)
			}
			e := inst.Network.Ethernets[0]
			var got []string
			for _, a := range e.Addresses {
				got = append(got, a.String())
			}
			if !slices.Equal(got, tc.addrs) {
				t.Errorf("addresses %q, want %q", got, tc.addrs)
			}
			if diff := cmp.Diff(tc.routes, e.Routes, cmpNet); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseVMDataEnabled(t *testing.T) {
	inst := mustParse(t, VMData{Networking: map[string][]byte{"020000000002": []byte(`{"ips": [
		{"ip": "192.0.2.1", "netmask": "255.255.255.0", "enabled": "0", "gateway": "192.0.2.254"},
		{"ip": "192.0.2.2", "netmask": "255.255.255.0", "enabled": 0},
		{"ip": "192.0.2.3", "netmask": "255.255.255.0"},
		{"ip": "192.0.2.4", "netmask": "255.255.255.0", "enabled": 1},
		{"ip": "192.0.2.5", "netmask": "24", "enabled": "1", "gateway": "192.0.2.253"}]}`)}})
	checkNoWarnings(t, inst)
	e := inst.Network.Ethernets[0]
	want := []netip.Prefix{pfx("192.0.2.3/24"), pfx("192.0.2.4/24"), pfx("192.0.2.5/24")}
	if diff := cmp.Diff(want, e.Addresses, cmpNet); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	// The disabled entry's gateway is not used either.
	if diff := cmp.Diff([]netconf.Route{{To: def4, Via: ip("192.0.2.253")}}, e.Routes, cmpNet); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
}

// The IPv6 gateway comes from gateway_v6, then gateway6, then ip6s[].gateway;
// the IPv6 netmask may be a number or a numeric string; 1.x's "address"
// alias is accepted.
func TestParseVMDataIPv6Gateways(t *testing.T) {
	for _, tc := range []struct{ name, value, gw string }{
		{"gateway_v6 first", `{"gateway_v6":"2001:db8::1","gateway6":"2001:db8::2","ip6s":[{"ip":"2001:db8::10","netmask":"64","gateway":"2001:db8::3"}]}`, "2001:db8::1"},
		{"then gateway6", `{"gateway_v6":null,"gateway6":"2001:db8::2","ip6s":[{"ip":"2001:db8::10","netmask":64,"gateway":"2001:db8::3"}]}`, "2001:db8::2"},
		{"then ip6s gateway", `{"ip6s":[{"address":"2001:db8::10","netmask":64,"gateway":"2001:db8::3"}]}`, "2001:db8::3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := mustParse(t, VMData{Networking: map[string][]byte{"02:00:00:00:00:03": []byte(tc.value)}})
			checkNoWarnings(t, inst)
			e := inst.Network.Ethernets[0]
			want := []netconf.Route{{To: def6, Via: ip(tc.gw)}}
			if diff := cmp.Diff(want, e.Routes, cmpNet); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
			if len(e.Addresses) != 1 || e.Addresses[0] != pfx("2001:db8::10/64") {
				t.Errorf("addresses %v", e.Addresses)
			}
		})
	}
}

// A gateway outside every subnet of the NIC needs on-link; a listed default
// route equal to the gateway route is not added twice.
func TestParseVMDataOnLinkAndDuplicateDefault(t *testing.T) {
	inst := mustParse(t, VMData{Networking: map[string][]byte{"020000000004": []byte(`{
		"ips": [{"ip": "203.0.113.10", "netmask": "255.255.255.255"}], "gateway": "203.0.113.1",
		"ip6s": [{"ip": "2001:db8:1::10", "netmask": 128}], "gateway_v6": "2001:db8:2::1",
		"routes": [{"route": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "203.0.113.1"}]}`)}})
	checkNoWarnings(t, inst)
	want := []netconf.Route{
		{To: def4, Via: ip("203.0.113.1"), OnLink: true},
		{To: def6, Via: ip("2001:db8:2::1"), OnLink: true},
	}
	if diff := cmp.Diff(want, inst.Network.Ethernets[0].Routes, cmpNet); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
}

// Several NICs with default routes get metrics 100, 200, … in MAC order,
// whatever the key order; the MAC is matched in any case and spelling.
func TestParseVMDataDefaultRouteMetrics(t *testing.T) {
	v := VMData{
		Networking: map[string][]byte{
			"a": []byte(`{"mac":"02:00:00:00:00:0B","ips":[{"ip":"198.51.100.5","netmask":"255.255.255.0"}],"gateway":"198.51.100.1"}`),
			"b": []byte(`{"mac":"02-00-00-00-00-0a","ips":[{"ip":"192.0.2.5","netmask":"255.255.255.0"}],"gateway":"192.0.2.1","dns":["192.0.2.53"]}`),
			"c": []byte(`{"mac":"0200.0000.000c","ips":[{"ip":"203.0.113.5","netmask":"255.255.255.0"}],"dns":["192.0.2.53","2001:db8::53"]}`),
		},
		LocalMACs: map[string]string{"020000000009": "ens9", "02:00:00:00:00:0a": "ens3", "02:00:00:00:00:0B": "ens4", "02:00:00:00:00:0c": "ens5"},
	}
	inst := mustParse(t, v)
	checkNoWarnings(t, inst)
	var got []string
	for _, e := range inst.Network.Ethernets {
		for _, r := range e.Routes {
			got = append(got, e.ID+" "+r.Via.String()+" "+string(rune('0'+r.Metric/100)))
		}
	}
	if want := []string{"ens3 192.0.2.1 1", "ens4 198.51.100.1 2"}; !slices.Equal(got, want) {
		t.Errorf("default routes %q, want %q", got, want)
	}
	if servers, _ := inst.Network.MachineDNS(); !cmp.Equal(ips("192.0.2.53", "2001:db8::53"), servers, cmpNet) {
		t.Errorf("machine-wide nameservers %v", servers)
	}
	if inst.Network.Ethernets[0].Named {
		t.Errorf("Named must be false for vm-data NICs")
	}
}

func TestParseVMDataHostname(t *testing.T) {
	for _, tc := range []struct {
		in   *string
		want string
		warn string
	}{
		{nil, "", ""},
		{ptr("test-server\n"), "test-server", ""},
		{ptr("web01.example.com"), "web01.example.com", ""},
		{ptr("two words"), "", "blanks or control characters"},
		{ptr(strings.Repeat("a", 300)), "", "too long for a host name"},
		{ptr(strings.Repeat("a", MaxValueSize+1)), "", "larger than XenStore allows"},
	} {
		inst := mustParse(t, VMData{Hostname: tc.in})
		if inst.Hostname != tc.want {
			t.Errorf("hostname %q → %q, want %q", deref(tc.in), inst.Hostname, tc.want)
		}
		if tc.warn == "" && len(inst.Warnings) != 0 || tc.warn != "" && !hasWarning(inst.Warnings, "vm-data/hostname: ", tc.warn) {
			t.Errorf("hostname %.20q: warnings %q, want %q", deref(tc.in), inst.Warnings, tc.warn)
		}
		if inst.Network != nil {
			t.Errorf("no networking keys must give a nil Network")
		}
	}
}

func TestParseVMDataUserMetadata(t *testing.T) {
	inst := mustParse(t, VMData{UserMetadata: map[string][]byte{
		"foo":    []byte(`"bar"`),
		"num":    []byte(`42`),
		"obj":    []byte(`{"a": [1, 2]}`),
		"raw":    []byte(`secret-ish value`),
		"huge":   []byte(`"` + strings.Repeat("x", MaxValueSize) + `"`),
		"quoted": []byte(`"with \"quotes\""`),
	}})
	want := map[string]string{"foo": "bar", "num": "42", "obj": `{"a":[1,2]}`, "raw": "secret-ish value", "quoted": `with "quotes"`}
	if diff := cmp.Diff(want, inst.Meta); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
	if !hasWarning(inst.Warnings, "vm-data/user-metadata/raw: ", "not JSON-encoded") ||
		!hasWarning(inst.Warnings, "vm-data/user-metadata/huge: ", "larger than XenStore allows") {
		t.Errorf("warnings %q", inst.Warnings)
	}
	if hasWarning(inst.Warnings, "secret-ish") {
		t.Errorf("a warning repeats the metadata value: %q", inst.Warnings)
	}
}

func TestParseVMDataBadLocalMACs(t *testing.T) {
	if _, err := ParseVMData(VMData{LocalMACs: map[string]string{"zz": "eth0"}}); err == nil || !strings.Contains(err.Error(), "LocalMACs") {
		t.Errorf("err = %v, want a LocalMACs error", err)
	}
}

func ptr(s string) *string { return &s }
func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
