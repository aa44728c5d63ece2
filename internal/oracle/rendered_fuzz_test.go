package oracle

import (
	"testing"
)

// Seeds: real outputs of cloud-init 22.4.2's renderers (trimmed), written
// by `cloud-init devel net-convert -k yaml -O R` for a two-address NIC, a
// DHCP NIC, a bond and a VLAN.
var renderedSeeds = map[string][]string{
	"eni": {`auto lo
iface lo inet loopback
    dns-nameservers 192.0.2.53 2001:db8::53

auto nic0
iface nic0 inet static
    address 192.0.2.5/24
    gateway 192.0.2.1
    mtu 1500
    dns {'nameservers': ['192.0.2.53'], 'search': []}
    post-up route add -net 198.51.100.0/24 gw 192.0.2.2 || true
    post-up route add -A inet6 ::/64 gw 2001:db8::1 || true

iface nic0 inet6 static
    address 2001:db8::5/64
    gateway 2001:db8::1

auto nic0.602
iface nic0.602 inet dhcp
    vlan-raw-device nic0
    vlan_id 602
`, "iface\niface a b\nauto\n    address\npost-up route add -A inet6 default gw"},
	"networkd": {`[Address]
Address=192.0.2.5/24

[Link]
MTUBytes=1500

[Match]
MACAddress=fa:16:3e:69:b0:58
Name=nic0

[Network]
DHCP=ipv4
DNS=192.0.2.53 2001:db8::53
Domains=example.com

[Route]
Destination=0.0.0.0/0

Gateway=192.0.2.1
`, "[Match]\nName=x\n[Route]\nGateway=::1\n"},
	"sysconfig": {`BOOTPROTO=none
DEVICE=nic0
GATEWAY=192.0.2.1
HWADDR=fa:16:3e:69:b0:58
IPADDR=192.0.2.5
IPV6ADDR=2001:db8::5/64
IPV6_DEFAULTGW=2001:db8::1
NETMASK=255.255.255.0
DNS1=192.0.2.53
MTU=1500
`},
	"network-manager": {`[connection]
id=cloud-init nic0
uuid=fe469a09-e9ba-5bd9-9554-a65cb1176a9a
type=ethernet

[ethernet]
mtu=1500
mac-address=FA:16:3E:69:B0:58

[ipv4]
method=manual
address1=192.0.2.5/24
gateway=192.0.2.1
route1=198.51.100.0/24,192.0.2.2
dns=192.0.2.53;

[ipv6]
method=auto
address1=2001:db8::5/64
`},
	"netplan": {`network:
    version: 2
    ethernets:
        nic0:
            match: {macaddress: "fa:16:3e:69:b0:58"}
            set-name: nic0
            addresses: [192.0.2.5/24]
            gateway6: "2001:db8::1"
            routes: [{to: 0.0.0.0/0, via: 192.0.2.1}]
`},
}

var renderedPaths = map[string]string{
	"eni":             "etc/network/interfaces.d/50-cloud-init",
	"networkd":        "etc/systemd/network/10-cloud-init-nic0.network",
	"sysconfig":       "etc/sysconfig/network-scripts/ifcfg-nic0",
	"network-manager": "etc/NetworkManager/system-connections/cloud-init-nic0.nmconnection",
	"netplan":         "etc/netplan/50-cloud-init.yaml",
}

func fuzzRenderer(f *testing.F, renderer string) {
	for _, s := range renderedSeeds[renderer] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		r, err := ParseRendered(renderer, map[string]string{renderedPaths[renderer]: content})
		if err != nil {
			return
		}
		for name, i := range r {
			if i == nil {
				t.Fatalf("nil interface %q", name)
			}
			for _, a := range i.Addresses {
				if !a.IsValid() {
					t.Fatalf("%s: invalid address accepted", name)
				}
			}
			for _, rt := range i.Routes {
				if !rt.To.IsValid() {
					t.Fatalf("%s: route without destination accepted", name)
				}
			}
		}
	})
}

func FuzzParseENI(f *testing.F)       { fuzzRenderer(f, "eni") }
func FuzzParseNetworkd(f *testing.F)  { fuzzRenderer(f, "networkd") }
func FuzzParseIfcfg(f *testing.F)     { fuzzRenderer(f, "sysconfig") }
func FuzzParseNMKeyfile(f *testing.F) { fuzzRenderer(f, "network-manager") }
func FuzzParseNetplan(f *testing.F)   { fuzzRenderer(f, "netplan") }

// The seeds parse to what they say.
func TestParseRenderedSeeds(t *testing.T) {
	want := map[string]struct {
		addrs, routes, mtu int
	}{
		"eni":             {2, 2, 1500},
		"networkd":        {1, 1, 1500},
		"sysconfig":       {2, 2, 1500},
		"network-manager": {2, 2, 1500},
		"netplan":         {1, 2, 0},
	}
	for renderer, w := range want {
		r, err := ParseRendered(renderer, map[string]string{renderedPaths[renderer]: renderedSeeds[renderer][0]})
		if err != nil {
			t.Fatalf("%s: %v", renderer, err)
		}
		i := r["nic0"]
		if i == nil {
			t.Fatalf("%s: no nic0 in %v", renderer, r)
		}
		if len(i.Addresses) != w.addrs || len(i.Routes) != w.routes || i.MTU != w.mtu {
			t.Errorf("%s: nic0 = %+v, want %d addresses, %d routes, mtu %d", renderer, i, w.addrs, w.routes, w.mtu)
		}
	}
	r, _ := ParseRendered("eni", map[string]string{renderedPaths["eni"]: renderedSeeds["eni"][0]})
	if v := r["nic0.602"]; v == nil || v.VLANID != 602 || v.VLANLink != "nic0" || !v.DHCP4 {
		t.Errorf("eni vlan = %+v", v)
	}
	if n := len(r["nic0"].BestEffort); n != 2 {
		t.Errorf("eni post-up routes = %d, want 2 (best effort)", n)
	}
}
