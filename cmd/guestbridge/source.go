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

// localNames maps each local NIC's lower-case MAC to its kernel name. Only
// `show` uses it, to label interfaces the way this machine names them now;
// everything that writes (seed, apply) leaves names out so that its output
// does not depend on what the kernel called a NIC at the time.
func localNames() map[string]string {
	names, err := vmdata.LocalMACs(vmdata.SysClassNet)
	if err != nil {
		return nil
	}
	return names
}

// probes is the --source auto list, in order of preference: a config drive
// (it is what the cloud built for this boot), then XenStore. Adding a
// source is one entry here.
func probes(names map[string]string) []datasource.Probe {
	return []datasource.Probe{
		{Kind: "configdrive", Find: func(ctx context.Context) ([]datasource.Source, error) {
			drives, err := configdrive.Find(configdrive.FindOptions{})
			if errors.Is(err, configdrive.ErrNotFound) {
				return nil, nil
			}
			if err != nil {
				return nil, fmt.Errorf("looking for a config drive: %w", err)
			}
			var out []datasource.Source
			for _, d := range drives {
				out = append(out, &configdrive.Source{Path: d, KnownNames: names})
			}
			return out, nil
		}},
		{Kind: "xenstore", Find: func(ctx context.Context) ([]datasource.Source, error) {
			if !xenstoreAnswers(ctx) {
				return nil, nil
			}
			return []datasource.Source{&vmdata.Source{Path: xenstorePathIfSet(), LocalMACs: names}}, nil
		}},
	}
}

// xenstoreAnswers tells whether XenStore answers a read within a short time.
func xenstoreAnswers(ctx context.Context) bool {
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := xenstore.Dial(dctx, "")
	if err != nil {
		return false
	}
	defer c.Close()
	// Any successful read proves the store answers, not just that a device node exists.
	_, err = c.Read(dctx, "vm-data/hostname")
	return err == nil || errors.Is(err, fs.ErrNotExist)
}

// openSource turns an explicit --source value into a Source ("auto" is
// handled by readInstance).
func openSource(spec string, names map[string]string) (datasource.Source, error) {
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
		return nil, nil
	default:
		return nil, usagef("--source %q: want auto, configdrive[:PATH] or xenstore[:SOCKET]", spec)
	}
}

// readInstance reads the source --source names (auto: the first present
// one that reads, falling back to the next), logging its warnings.
func readInstance(ctx context.Context, spec string, names map[string]string) (*datasource.Instance, error) {
	s, err := openSource(spec, names)
	if err != nil {
		return nil, err
	}
	var inst *datasource.Instance
	if s == nil {
		inst, err = datasource.ReadFirst(ctx, probes(names), logger(ctx))
		if errors.Is(err, datasource.ErrNoSource) {
			return nil, errNoSource
		}
	} else {
		inst, err = s.Read(ctx)
		if err == nil && inst.Source == "" {
			inst.Source = s.Name()
		}
	}
	if err != nil {
		return nil, err
	}
	for _, w := range inst.Warnings {
		logger(ctx).Warn(w, "source", inst.Source)
	}
	return inst, nil
}

var errNoSource = fmt.Errorf("%w: no config drive (label config-2) and no XenStore", datasource.ErrNoSource)

// xenstorePathIfSet is $XENSTORED_PATH (what Dial("") tries first), else "".
func xenstorePathIfSet() string { return os.Getenv("XENSTORED_PATH") }

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
