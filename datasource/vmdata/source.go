package vmdata

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"guestbridge/datasource"

	"guestbridge/xenstore"
)

// Source reads the Instance from XenStore vm-data (nova XenAPI / Rackspace).
type Source struct {
	// Path is the xenstored socket or xenbus device; "" searches
	// $XENSTORED_PATH, the dom0 socket, /dev/xen/xenbus, /proc/xen/xenbus.
	Path string
	// LocalMACs maps the guest's MACs to their interface names (see
	// VMData.LocalMACs), normally LocalMACs(SysClassNet); nil accepts every
	// MAC and labels NICs "nicN".
	LocalMACs map[string]string
}

var _ datasource.Source = (*Source)(nil)

// Name is "xenstore", or "xenstore:<path>" when Path is set.
func (s *Source) Name() string {
	if s.Path == "" {
		return "xenstore"
	}
	return "xenstore:" + s.Path
}

// Read connects, reads vm-data and translates it. Bad vm-data values become
// Instance.Warnings; only a failure to talk to XenStore is an error.
func (s *Source) Read(ctx context.Context) (*datasource.Instance, error) {
	c, err := xenstore.Dial(ctx, s.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name(), err)
	}
	defer c.Close()
	inst, err := ReadInstance(ctx, c, s.LocalMACs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name(), err)
	}
	inst.Source = s.Name()
	return inst, nil
}

// ReadInstance reads vm-data and the VM's identity over an open client (the
// agent's resetnetwork reuses its connection) and translates them.
func ReadInstance(ctx context.Context, c *xenstore.Client, localMACs map[string]string) (*datasource.Instance, error) {
	v, err := ReadVMData(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("reading vm-data: %w", err)
	}
	v.LocalMACs = localMACs
	inst, err := ParseVMData(v)
	if err != nil {
		return nil, err
	}
	inst.Source = "xenstore"
	id, err := instanceID(ctx, c)
	if err != nil {
		return nil, err
	}
	if id == "" {
		inst.Warnings = append(inst.Warnings, "vm, name: both absent, no instance id")
	}
	inst.InstanceID = id
	return inst, nil
}

// instanceID identifies the VM. vm-data has no instance id, so it is the
// toolstack's VM uuid from the domain's `vm` key ("/vm/<uuid>"): stable
// across reboots and migration, new when the VM is rebuilt, which is when
// first-boot work should run again. Without `vm`, the domain `name` (nova's
// instance name, e.g. "instance-0000abcd") is used.
func instanceID(ctx context.Context, c *xenstore.Client) (string, error) {
	for _, key := range []string{"vm", "name"} {
		b, err := c.Read(ctx, key)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		id := strings.TrimSpace(string(b))
		if key == "vm" {
			id = id[strings.LastIndexByte(id, '/')+1:]
		}
		if id != "" {
			return id, nil
		}
	}
	return "", nil
}
