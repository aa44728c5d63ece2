package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"guestbridge/configdrive"
	"guestbridge/datasource"
	"guestbridge/datasource/vmdata"
	"guestbridge/xenstore"
)

// sourceFlag is the --source flag shared by the commands that read a source.
func sourceFlag(fs *pflag.FlagSet) *string {
	return fs.String("source", "auto", "where to read from: auto, configdrive[:PATH], xenstore[:SOCKET]")
}

// localNames maps each local NIC's lower-case MAC to its kernel name, so
// rendered configs label interfaces the way this machine names them. Only
// device-backed NICs count: a bond or VLAN shares a member's MAC.
// Offline (--root) there is no "this machine": callers pass nil.
func localNames() map[string]string {
	names, err := vmdata.LocalMACs(vmdata.SysClassNet)
	if err != nil {
		return nil
	}
	return names
}

// openSource turns a --source value into a Source. "auto" prefers a config
// drive (it is what the cloud built for this boot) and falls back to XenStore.
func openSource(ctx context.Context, spec string, names map[string]string) (datasource.Source, error) {
	kind, arg, hasArg := strings.Cut(spec, ":")
	switch kind {
	case "configdrive":
		if hasArg && arg == "" {
			return nil, usagef("--source configdrive: empty path")
		}
		return &configdrive.Source{Path: arg, KnownNames: names}, nil
	case "xenstore":
		return &vmdata.Source{Path: arg, LocalMACs: names}, nil
	case "auto":
		if hasArg {
			return nil, usagef("--source auto takes no argument")
		}
		found, err := detectSources(ctx)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, errNoSource
		}
		return openSource(ctx, found[0].spec(), names)
	default:
		return nil, usagef("--source %q: want auto, configdrive[:PATH] or xenstore[:SOCKET]", spec)
	}
}

// detected is one source present on this machine.
type detected struct {
	Kind   string `json:"kind"` // configdrive or xenstore
	Path   string `json:"path"` // device, directory or socket
	Detail string `json:"detail,omitempty"`
}

func (d detected) spec() string { return d.Kind + ":" + d.Path }

// detectSources lists the config drives found by label, then XenStore if it
// answers within a short time.
func detectSources(ctx context.Context) ([]detected, error) {
	var found []detected
	drives, err := configdrive.Find(configdrive.FindOptions{})
	if err != nil && !errors.Is(err, configdrive.ErrNotFound) {
		return nil, fmt.Errorf("looking for a config drive: %w", err)
	}
	for _, d := range drives {
		found = append(found, detected{Kind: "configdrive", Path: d})
	}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if c, err := xenstore.Dial(dctx, ""); err == nil {
		// Any successful read proves the store answers, not just that a device node exists.
		if _, err := c.Read(dctx, "vm-data/hostname"); err == nil || errors.Is(err, fs.ErrNotExist) {
			found = append(found, detected{Kind: "xenstore", Path: xenstorePath()})
		}
		c.Close()
	}
	return found, nil
}

// xenstorePath names the XenStore endpoint Dial("") uses, for display.
func xenstorePath() string {
	if p := os.Getenv("XENSTORED_PATH"); p != "" {
		return p
	}
	for _, p := range []string{"/var/run/xenstored/socket", "/dev/xen/xenbus", "/proc/xen/xenbus"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "xenstore"
}
