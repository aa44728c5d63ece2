package main

import (
	"net"
	"slices"
	"testing"

	"guestbridge/netconf"
)

func TestDHCP4Interfaces(t *testing.T) {
	mac := func(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }
	cfg := &netconf.Config{
		Ethernets: []netconf.Ethernet{
			{ID: "nic0", MAC: mac("fa:16:3e:00:00:01"), L3: netconf.L3{DHCP4: true}},
			{ID: "wan0", Named: true, MAC: mac("fa:16:3e:00:00:02"), L3: netconf.L3{DHCP4: true}},
			{ID: "nic1", MAC: mac("fa:16:3e:00:00:03")},                                           // static
			{ID: "nic2", MAC: mac("fa:16:3e:00:00:04"), L3: netconf.L3{DHCP4: true, DHCP6: true}}, // not on this machine
		},
		Bonds: []netconf.Bond{{Name: "bond0", Members: []string{"nic1"}, L3: netconf.L3{DHCP4: true}}},
		VLANs: []netconf.VLAN{{Name: "bond0.5", ID: 5, Link: "bond0"}},
	}
	local := map[string]string{"fa:16:3e:00:00:01": "ens3", "fa:16:3e:00:00:03": "ens5"}
	got := dhcp4Interfaces(cfg, local)
	if want := []string{"ens3", "wan0", "bond0"}; !slices.Equal(got, want) {
		t.Errorf("dhcp4Interfaces = %v, want %v", got, want)
	}
}
