package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"guestbridge/netconf/apply"
	"guestbridge/nocloud"
	"guestbridge/system"
)

// rootFlag is --root: where file changes land (a mounted image for offline repair).
func rootFlag(fs *pflag.FlagSet) *string {
	return fs.String("root", "/", "apply file changes under this directory (offline image); not / means no netlink and no syscalls")
}

// stateDirFlag is --state-dir: where the provisioning state is kept.
func stateDirFlag(fs *pflag.FlagSet) *string {
	return fs.String("state-dir", apply.DefaultStateDir, "where the lock, the config in force and the network state of earlier runs are kept")
}

// systemRoot is the system.Root for a --root value: live only for "/".
func systemRoot(ctx context.Context, dir string) (system.Root, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return system.Root{}, usagef("--root %s: %v", dir, err)
	}
	if !st.IsDir() {
		return system.Root{}, usagef("--root %s: not a directory", dir)
	}
	return system.Root{Dir: dir, Live: dir == "/", Log: logger(ctx)}, nil
}

func runSeed(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("seed")
	src := sourceFlag(fs)
	dir := fs.String("dir", nocloud.DefaultDir, "seed directory (as seen on the target system)")
	pin := fs.Bool("pin-datasource", false, "also write "+nocloud.PinFile+" (offline image preparation; the package installs it)")
	rootDir := rootFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir: empty (the default is %s)", nocloud.DefaultDir)
	}
	root, err := systemRoot(ctx, *rootDir)
	if err != nil {
		return err
	}
	inst, err := readInstance(ctx, *src, nil)
	if err != nil {
		return err
	}
	changed, err := nocloud.Write(root, inst, nocloud.Options{Dir: *dir, PinDatasource: *pin})
	for _, p := range changed {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(root.Dir, p))
	}
	if err != nil {
		return err
	}
	if len(changed) == 0 {
		fmt.Fprintln(stdout, "seed unchanged")
	}
	return nil
}
