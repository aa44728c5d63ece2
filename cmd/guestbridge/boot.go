package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"guestbridge/datasource"
	"guestbridge/nocloud"
	"guestbridge/system"
)

// Modes of boot and of the agent's resetnetwork.
const (
	modeAuto  = "auto"  // seed when cloud-init is installed, else apply
	modeSeed  = "seed"  // hand everything to cloud-init
	modeApply = "apply" // configure the machine ourselves
)

// cloudInitInstalled tells whether the image (live or under --root) has cloud-init.
func cloudInitInstalled(root system.Root) bool {
	for _, p := range []string{"usr/bin/cloud-init", "usr/local/bin/cloud-init"} {
		if _, err := os.Stat(filepath.Join(root.Dir, p)); err == nil {
			return true
		}
	}
	return false
}

func resolveMode(mode string, root system.Root) (string, error) {
	switch mode {
	case modeSeed, modeApply:
		return mode, nil
	case modeAuto:
		if cloudInitInstalled(root) {
			return modeSeed, nil
		}
		return modeApply, nil
	}
	return "", usagef("--mode %q: want auto, seed or apply", mode)
}

func runBoot(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("boot")
	src := sourceFlag(fs)
	rootDir := rootFlag(fs)
	mode := fs.String("mode", modeAuto, "auto (seed when cloud-init is installed, else apply), seed or apply")
	stateDir := stateDirFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	root, err := systemRoot(*rootDir)
	if err != nil {
		return err
	}
	m, err := resolveMode(*mode, root)
	if err != nil {
		return err
	}
	inst, err := readInstance(ctx, *src, namesFor(root))
	if errors.Is(err, errNoSource) {
		// Not every boot has a source (an image booted outside its cloud):
		// that is no failure of the boot service.
		fmt.Fprintln(stdout, "no source found (no config drive, no XenStore): nothing to do")
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "source %s, mode %s\n", inst.Source, m)
	return provision(ctx, m, root, *stateDir, inst, stdout)
}

// provision hands inst to cloud-init or applies it, per mode. It is what boot
// does once and what the agent's resetnetwork does again.
func provision(ctx context.Context, mode string, root system.Root, stateDir string, inst *datasource.Instance, stdout io.Writer) error {
	if mode == modeSeed {
		return writeSeed(root, inst, nocloud.Options{PinDatasource: true}, stdout)
	}
	parts, _ := selectParts(nil)
	lines, err := machine{root: root, parts: parts, stateDir: stateDir}.apply(ctx, inst)
	return report(stdout, lines, err)
}
