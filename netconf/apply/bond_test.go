package apply

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"guestbridge/netconf"
)

func bondVLANConfig() *netconf.Config {
	return &netconf.Config{
		Ethernets: []netconf.Ethernet{{ID: "eth0", MAC: mustMAC(mac0)}, {ID: "eth1", MAC: mustMAC(mac1)}},
		Bonds: []netconf.Bond{{Name: "bond0", MAC: mustMAC(mac2), Members: []string{"eth0", "eth1"},
			Params: netconf.BondParams{Mode: "802.3ad", MIIMonitorInterval: 100, TransmitHashPolicy: "layer3+4",
				LACPRate: "fast", UpDelay: 200, DownDelay: 300, MinLinks: 1, ADSelect: "bandwidth", Primary: "eth1"},
			L3: netconf.L3{MTU: 9000}}},
		VLANs: []netconf.VLAN{{Name: "bond0.100", ID: 100, Link: "bond0", L3: netconf.L3{
			Addresses: pfx("198.18.0.10/24"), Routes: []netconf.Route{rt("0.0.0.0/0", "198.18.0.1", 100)}}}},
	}
}

func TestApplyBondAndVLANSequence(t *testing.T) {
	f := newFake()
	f.nic("lo", "00:00:00:00:00:00").Flags |= 1 << 3 // net.FlagLoopback
	f.nic("ens3", mac0).Flags |= 1                   // up, must go down before enslaving
	f.nic("ens4", mac1)
	o := Options{StateDir: t.TempDir()}
	o.setOps(f)
	if _, err := Apply(context.Background(), bondVLANConfig(), o); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"LinkAdd bond bond0 mode=802.3ad miimon=100 xmit=layer3+4 lacp=fast updelay=200 downdelay=300 minlinks=1 adselect=1 primary=ens4 mac=" + mac2,
		"LinkSetDown ens3",
		"LinkSetMasterByIndex ens3 bond0",
		"LinkSetMasterByIndex ens4 bond0",
		"LinkSetUp bond0",
		"LinkAdd vlan bond0.100 parent=bond0 id=100 mac=",
		// every interface up first (DHCP of all runs at once), then MTUs
		// in config order: a parent's before its VLAN's
		"LinkSetUp ens3", "LinkSetUp ens4",
		"LinkSetUp bond0.100",
		"LinkSetMTU bond0 9000",
		"AddrAdd bond0.100 198.18.0.10/24",
		"RouteAdd 0.0.0.0/0 via 198.18.0.1 dev bond0.100 metric 100 proto 198",
	}
	if d := cmp.Diff(want, f.calls); d != "" {
		t.Fatalf("call sequence (-want +got):\n%s", d)
	}

	// Second run: the bond is found by name, members by permanent MAC even
	// though their current MAC is now the bond's; nothing changes.
	for _, i := range []int{2, 3} {
		f.links[i].Attrs().HardwareAddr = mustMAC(mac2)
	}
	f.calls = nil
	rep, err := Apply(context.Background(), bondVLANConfig(), o)
	if err != nil || len(f.calls) != 0 {
		t.Fatalf("second run: err %v, calls %v, report:\n%s", err, f.calls, rep)
	}
}

func TestApplyBondUnsupportedRollsBack(t *testing.T) {
	for _, kind := range []string{"bond", "vlan"} {
		t.Run(kind, func(t *testing.T) {
			f := newFake()
			f.nic("ens3", mac0).Flags |= 1
			f.nic("ens4", mac1)
			f.noSupport[kind] = true
			o := Options{StateDir: t.TempDir()}
			o.setOps(f)
			_, err := Apply(context.Background(), bondVLANConfig(), o)
			want := map[string]string{
				"bond": "bond0: create bond (mode 802.3ad, miimon 100, xmit_hash_policy layer3+4, lacp_rate fast, updelay 200, downdelay 300, min_links 1, ad_select bandwidth, primary eth1): operation not supported (kernel has no bonding support?)",
				"vlan": "bond0.100: create vlan id 100 on bond0: operation not supported (kernel has no 802.1Q VLAN support?)",
			}[kind]
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v\nwant %q", err, want)
			}
			// Everything done before the failure is undone in reverse.
			if kind == "vlan" {
				tail := f.calls[len(f.calls)-5:]
				wantTail := []string{"LinkSetDown bond0", "LinkSetNoMaster ens4", "LinkSetNoMaster ens3", "LinkSetUp ens3", "LinkDel bond0"}
				if d := cmp.Diff(wantTail, tail); d != "" {
					t.Fatalf("rollback (-want +got):\n%s", d)
				}
			}
			if l, _ := f.LinkByName("bond0"); l != nil {
				t.Fatal("bond0 still exists after rollback")
			}
			if f.links[1].Attrs().MasterIndex != 0 || f.links[1].Attrs().Flags&1 == 0 {
				t.Fatalf("ens3 not restored: %+v", f.links[1].Attrs())
			}
		})
	}
}
