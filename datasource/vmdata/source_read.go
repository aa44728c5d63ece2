package vmdata

import (
	"context"
	"errors"
	"io/fs"
	"path"

	"guestbridge/xenstore"
)

// Relative XenStore paths of the vm-data subtrees (they resolve under
// /local/domain/<domid>, the guest's own directory).
const (
	dirVMData       = "vm-data"
	dirNetworking   = dirVMData + "/networking"
	pathHostname    = dirVMData + "/hostname"
	dirUserMetadata = dirVMData + "/user-metadata"
	dirProviderData = dirVMData + "/provider_data"
)

// maxProviderDataDepth bounds the provider_data walk; Rackspace nests two
// levels (ip_whitelist/<n>), anything much deeper is not provider data.
const maxProviderDataDepth = 8

// nodeReader is what reading vm-data needs; *Client and *Tx both have it.
type nodeReader interface {
	Read(ctx context.Context, path string) ([]byte, error)
	List(ctx context.Context, path string) ([]string, error)
}

// ReadVMData reads the guest's vm-data subtree (networking, hostname,
// user-metadata and provider_data) in one transaction, so a concurrent
// update by the host is seen either entirely or not at all. Missing
// subtrees are not an error; LocalMACs is left for the caller to fill.
func ReadVMData(ctx context.Context, c *xenstore.Client) (VMData, error) {
	var v VMData
	err := c.Transaction(ctx, func(tx *xenstore.Tx) error {
		var err error
		v, err = readVMData(ctx, tx)
		return err
	})
	return v, err
}

func readVMData(ctx context.Context, r nodeReader) (VMData, error) {
	var v VMData
	var err error
	if v.Networking, err = readChildren(ctx, r, dirNetworking); err != nil {
		return VMData{}, err
	}
	if v.UserMetadata, err = readChildren(ctx, r, dirUserMetadata); err != nil {
		return VMData{}, err
	}
	if h, err := r.Read(ctx, pathHostname); err == nil {
		s := string(h)
		v.Hostname = &s
	} else if !errors.Is(err, fs.ErrNotExist) {
		return VMData{}, err
	}
	v.ProviderData = map[string]string{}
	if err := walkProviderData(ctx, r, dirProviderData, "", 0, v.ProviderData); err != nil {
		return VMData{}, err
	}
	if len(v.ProviderData) == 0 {
		v.ProviderData = nil
	}
	return v, nil
}

// readChildren reads the values of dir's direct children; nil if dir is
// missing.
func readChildren(ctx context.Context, r nodeReader, dir string) (map[string][]byte, error) {
	names, err := r.List(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(names))
	for _, name := range names {
		b, err := r.Read(ctx, path.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed between list and read (outside a transaction)
		}
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}

// walkProviderData flattens dir's subtree into out with "/"-joined keys
// relative to provider_data. A node with children contributes only its
// children unless it also holds a value.
func walkProviderData(ctx context.Context, r nodeReader, dir, prefix string, depth int, out map[string]string) error {
	names, err := r.List(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, name := range names {
		p, key := path.Join(dir, name), path.Join(prefix, name)
		val, err := r.Read(ctx, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		var children []string
		if depth+1 < maxProviderDataDepth {
			if children, err = r.List(ctx, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		if len(children) == 0 || len(val) > 0 {
			out[key] = string(val)
		}
		if len(children) > 0 {
			if err := walkProviderData(ctx, r, p, key, depth+1, out); err != nil {
				return err
			}
		}
	}
	return nil
}
