package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"guestbridge/datasource"
	"guestbridge/netconf/apply"
	"guestbridge/nocloud"
	"guestbridge/system"
)

// rootFlag is --root: where file changes land (a mounted image for offline repair).
func rootFlag(fs *pflag.FlagSet) *string {
	return fs.String("root", "/", "apply file changes under this directory (offline image); not / means no netlink and no syscalls")
}

// stateDirFlag is --state-dir: where apply remembers what it added.
func stateDirFlag(fs *pflag.FlagSet) *string {
	return fs.String("state-dir", apply.DefaultStateDir, "where the network state of earlier runs is kept")
}

// namesFor labels interfaces with their kernel names on a live system; an
// offline image (--root) is not this machine, so it gets none.
func namesFor(root system.Root) map[string]string {
	if !root.Live {
		return nil
	}
	return localNames()
}

// systemRoot is the system.Root for a --root value: live only for "/".
func systemRoot(dir string) (system.Root, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return system.Root{}, usagef("--root %s: %v", dir, err)
	}
	if !st.IsDir() {
		return system.Root{}, usagef("--root %s: not a directory", dir)
	}
	return system.Root{Dir: dir, Live: dir == "/"}, nil
}

func runSeed(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("seed")
	src := sourceFlag(fs)
	dir := fs.String("dir", nocloud.DefaultDir, "seed directory (as seen on the target system)")
	pin := fs.Bool("pin-datasource", false, "also write "+nocloud.PinFile+" so cloud-init uses this seed without probing")
	rootDir := rootFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	root, err := systemRoot(*rootDir)
	if err != nil {
		return err
	}
	inst, err := readInstance(ctx, *src, namesFor(root))
	if err != nil {
		return err
	}
	return writeSeed(root, inst, nocloud.Options{Dir: *dir, PinDatasource: *pin}, stdout)
}

func writeSeed(root system.Root, inst *datasource.Instance, o nocloud.Options, stdout io.Writer) error {
	changed, err := nocloud.Write(root, inst, o)
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
