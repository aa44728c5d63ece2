package oracle

import (
	"strings"
	"testing"
)

const upperCaseDoc = `network:
  version: 2
  ethernets:
    eth0:
      match: {macaddress: "fa:16:3e:00:00:01"}
      addresses: ["2001:DB8::10/64"]
      routes: [{to: "::/0", via: "2001:DB8::1"}]
      nameservers: {addresses: ["2001:DB8::53"], search: []}
`

const lowerCaseDoc = `network:
  version: 2
  ethernets:
    eth0:
      match: {macaddress: "fa:16:3e:00:00:01"}
      addresses: ["2001:db8::10/64"]
      routes: [{to: default, via: "2001:db8::1"}]
      nameservers: {addresses: ["2001:db8::53"]}
`

func TestEquivalentNormalisesOnlyDocumentedDifferences(t *testing.T) {
	if ok, diff := Equivalent(t, []byte(upperCaseDoc), []byte(lowerCaseDoc)); !ok {
		t.Errorf("case, to: default and empty search should not matter:\n%s", diff)
	}
	other := strings.Replace(lowerCaseDoc, "2001:db8::10/64", "2001:db8::11/64", 1)
	ok, diff := Equivalent(t, []byte(upperCaseDoc), []byte(other))
	if ok {
		t.Fatal("a different address must not be equivalent")
	}
	if !strings.Contains(diff, "2001:db8::11/64") {
		t.Errorf("diff does not show the differing address:\n%s", diff)
	}
}

func TestEquivalentReportsRejectedDocument(t *testing.T) {
	bad := strings.Replace(lowerCaseDoc, "eth0:", "eth0:\n      dhcp4: maybe", 1)
	ok, diff := Equivalent(t, []byte(lowerCaseDoc), []byte(bad))
	if ok || !strings.Contains(diff, "rejected") {
		t.Errorf("rejected document: ok=%v diff=%s", ok, diff)
	}
}

func TestNetplanGenerateWritesNetworkdFiles(t *testing.T) {
	files, stderr := NetplanGenerate(t, []byte(lowerCaseDoc))
	network := files["systemd/network/10-netplan-eth0.network"]
	if !strings.Contains(network, "Address=2001:db8::10/64") {
		t.Errorf("no Address line in generated .network (stderr %q); files: %v", stderr, SortedKeys(files))
	}
}

func TestNetplanGetAllDumpsConfig(t *testing.T) {
	out := NetplanGetAll(t, []byte(lowerCaseDoc))
	if !strings.Contains(out, "fa:16:3e:00:00:01") || !strings.Contains(out, "2001:db8::53") {
		t.Errorf("get all dump misses the MAC or the nameserver:\n%s", out)
	}
}

func TestCloudInitNetConvert(t *testing.T) {
	in := `{"links": [{"id": "tap0", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:01"}],
	        "networks": [{"id": "n0", "type": "ipv4_dhcp", "link": "tap0", "network_id": "x"}],
	        "services": []}`
	out := CloudInitNetConvert(t, []byte(in), map[string]string{"ens3": "fa:16:3e:00:00:01"})
	for _, want := range []string{"ens3:", "dhcp4: true", "macaddress: fa:16:3e:00:00:01"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("cloud-init output lacks %q:\n%s", want, out)
		}
	}
	if _, stderr, err := CloudInitNetConvertErr(t, []byte(`{"links": [`), nil); err == nil {
		t.Errorf("truncated JSON accepted by cloud-init? stderr %q", stderr)
	}
}

func TestNormaliseGenerated(t *testing.T) {
	got := NormaliseGenerated("[Network]\nAddress=2001:DB8::10/64\nDNS=2001:DB8::53 192.0.2.1\nName=eth0")
	want := "[Network]\nAddress=2001:db8::10/64\nDNS=2001:db8::53 192.0.2.1\nName=eth0"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
