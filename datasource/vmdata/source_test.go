package vmdata_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"guestbridge/datasource/vmdata"
	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest"
	"guestbridge/xenstore/xenstoretest/xenstored"
)

// dom0 is where relative paths resolve over the socket.
const dom0 = "/local/domain/0/"

// rackspaceGuest is a Rackspace-like domain directory (values from the
// nova-agent fixtures in testdata/vmdata), keyed by path relative to it.
var rackspaceGuest = map[string]string{
	"vm":                                   "/vm/3f1e2d4c-0000-4000-8000-00000000abcd",
	"name":                                 "instance-0000abcd",
	"vm-data/hostname":                     "test-server\n",
	"vm-data/networking/BC764E206C5B":      `{"label": "private", "ips": [{"ip": "10.208.227.239", "netmask": "255.255.224.0", "enabled": "1", "gateway": null}], "mac": "BC:76:4E:20:6C:5B", "routes": [{"route": "10.208.0.0", "netmask": "255.240.0.0", "gateway": "10.208.224.1"}], "gateway": null}`,
	"vm-data/networking/BC764E207572":      `{"ip6s": [{"ip": "2001:4802:7802:104:be76:4eff:fe20:7572", "netmask": 64, "enabled": "1", "gateway": "fe80::def"}], "label": "public", "ips": [{"ip": "104.130.4.72", "netmask": "255.255.255.0", "enabled": "1", "gateway": "104.130.4.1"}], "mac": "BC:76:4E:20:75:72", "gateway_v6": "fe80::def", "dns": ["69.20.0.164", "69.20.0.196"], "gateway": "104.130.4.1"}`,
	"vm-data/user-metadata/foo":            `"bar"`,
	"vm-data/user-metadata/count":          `3`,
	"vm-data/provider_data/provider":       "Rackspace",
	"vm-data/provider_data/region":         "DFW",
	"vm-data/provider_data/roles":          `["rack_connect", "admin"]`,
	"vm-data/provider_data/ip_whitelist/0": "10.10.4.12/23",
	"vm-data/provider_data/ip_whitelist/1": "173.203.5.160/27",
	"vm-data/auto-disk-config":             "True",
	"data/host":                            "",
}

func sourceCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func checkRackspaceInstance(t *testing.T, src *vmdata.Source) {
	t.Helper()
	inst, err := src.Read(sourceCtx(t))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(inst.Warnings) != 0 {
		t.Errorf("warnings: %q", inst.Warnings)
	}
	if inst.Source != "xenstore:"+src.Path || inst.InstanceID != "3f1e2d4c-0000-4000-8000-00000000abcd" || inst.Hostname != "test-server" {
		t.Errorf("source %q id %q hostname %q", inst.Source, inst.InstanceID, inst.Hostname)
	}
	if diff := cmp.Diff(map[string]string{"foo": "bar", "count": "3"}, inst.Meta); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
	wantPD := map[string]string{"provider": "Rackspace", "region": "DFW", "roles": `["rack_connect", "admin"]`,
		"ip_whitelist/0": "10.10.4.12/23", "ip_whitelist/1": "173.203.5.160/27"}
	if diff := cmp.Diff(wantPD, inst.ProviderData); diff != "" {
		t.Errorf("provider data (-want +got):\n%s", diff)
	}
	if inst.Network == nil || len(inst.Network.Ethernets) != 2 {
		t.Fatalf("network: %+v", inst.Network)
	}
	var ids []string
	for _, e := range inst.Network.Ethernets {
		ids = append(ids, e.ID)
	}
	if want := []string{"eth1", "eth0"}; !slices.Equal(ids, want) {
		t.Errorf("ethernet IDs %q, want %q (MAC order, names from LocalMACs)", ids, want)
	}
	pub := inst.Network.Ethernets[1]
	if len(pub.Addresses) != 2 || pub.Addresses[1] != netip.MustParsePrefix("2001:4802:7802:104:be76:4eff:fe20:7572/64") {
		t.Errorf("public addresses %v", pub.Addresses)
	}
	if len(pub.Routes) != 2 || pub.Routes[1].Via != netip.MustParseAddr("fe80::def") {
		t.Errorf("public routes %+v", pub.Routes)
	}
}

var rackspaceMACs = map[string]string{"bc:76:4e:20:75:72": "eth0", "BC764E206C5B": "eth1"}

func TestSourceInMemoryServer(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	for k, v := range rackspaceGuest {
		srv.Set(dom0+k, []byte(v))
	}
	checkRackspaceInstance(t, &vmdata.Source{Path: srv.SocketPath(), LocalMACs: rackspaceMACs})
}

func TestSourceRealDaemons(t *testing.T) {
	for _, impl := range []xenstored.Impl{xenstored.C, xenstored.OCaml} {
		t.Run(string(impl), func(t *testing.T) {
			t.Parallel()
			sock := xenstored.Start(t, impl)
			c, err := xenstore.Dial(sourceCtx(t), sock)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for k, v := range rackspaceGuest {
				if err := c.Write(sourceCtx(t), k, []byte(v)); err != nil { // relative: /local/domain/0/k
					t.Fatalf("write %s: %v", k, err)
				}
			}
			checkRackspaceInstance(t, &vmdata.Source{Path: sock, LocalMACs: rackspaceMACs})
		})
	}
}

// An empty domain directory is not an error: no network, no hostname, and
// a warning that there is no instance id.
func TestSourceEmptyStore(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	src := &vmdata.Source{Path: srv.SocketPath()}
	inst, err := src.Read(sourceCtx(t))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if inst.Network != nil || inst.Hostname != "" || inst.InstanceID != "" || inst.Meta != nil || inst.ProviderData != nil {
		t.Errorf("empty store gave %+v", inst)
	}
	if len(inst.Warnings) != 1 {
		t.Errorf("warnings %q, want the missing instance id", inst.Warnings)
	}
}

// Without `vm`, the domain name identifies the instance.
func TestSourceInstanceIDFromName(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	srv.Set(dom0+"name", []byte("instance-0000abcd"))
	inst, err := (&vmdata.Source{Path: srv.SocketPath()}).Read(sourceCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if inst.InstanceID != "instance-0000abcd" || len(inst.Warnings) != 0 {
		t.Errorf("id %q warnings %q", inst.InstanceID, inst.Warnings)
	}
}

func TestSourceName(t *testing.T) {
	if got := (&vmdata.Source{}).Name(); got != "xenstore" {
		t.Errorf("Name() = %q", got)
	}
	if got := (&vmdata.Source{Path: "/dev/xen/xenbus"}).Name(); got != "xenstore:/dev/xen/xenbus" {
		t.Errorf("Name() = %q", got)
	}
}

func TestSourceUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := (&vmdata.Source{Path: t.TempDir() + "/nosocket"}).Read(ctx)
	if err == nil {
		t.Fatal("Read of a missing socket succeeded")
	}
}

// provider_data is flattened with "/": a node with a value and children
// contributes both, an empty intermediate node only its children, and the
// walk stops at a sane depth.
func TestReadVMDataProviderDataTree(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	pd := dom0 + "vm-data/provider_data/"
	srv.Set(pd+"a", []byte("x"))
	srv.Set(pd+"a/b", []byte("y"))
	srv.Set(pd+"list/0", []byte("10.0.0.0/8"))
	srv.Set(pd+"empty", nil)
	srv.Set(pd+"1/2/3/4/5/6/7/8/9/10", []byte("too deep"))
	c, err := xenstore.Dial(sourceCtx(t), srv.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := vmdata.ReadVMData(sourceCtx(t), c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "x", "a/b": "y", "list/0": "10.0.0.0/8", "empty": "", "1/2/3/4/5/6/7/8": ""}
	if diff := cmp.Diff(want, v.ProviderData); diff != "" {
		t.Errorf("provider data (-want +got):\n%s", diff)
	}
	if v.Networking != nil || v.Hostname != nil || v.UserMetadata != nil {
		t.Errorf("absent subtrees read as %+v", v)
	}
}
