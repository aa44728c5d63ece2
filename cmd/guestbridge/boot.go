package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"guestbridge/netconf/apply"
	"guestbridge/provision"
	"guestbridge/settings"
	"guestbridge/system"
)

// Modes of boot and of the agent's resetnetwork.
const modeAuto = "auto" // seed when cloud-init is installed and enabled, else apply

// resolveMode turns main.mode (--mode) into seed or apply, with the reason.
func resolveMode(set *settings.Settings, root system.Root) (string, string, error) {
	mode := set.String("main.mode")
	switch mode {
	case provision.ModeSeed, provision.ModeApply:
		if o := set.Get("main.mode").Origin; o != "flag --mode" {
			return mode, "main.mode = " + mode + " (" + o + ")", nil
		}
		return mode, "--mode " + mode, nil
	case modeAuto:
		m, why := provision.DetectMode(root)
		return m, why, nil
	}
	return "", "", usagef("--mode %q: want auto, seed or apply", mode)
}

// udevDir is the udev database boot waits on, when udevd runs.
func udevDir(root system.Root) string {
	if root.Live && apply.UdevRunning() {
		return apply.UdevDataDir
	}
	return ""
}

func runBoot(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("boot")
	src := sourceFlag(fs)
	rootDir := rootFlag(fs)
	fs.String("mode", modeAuto, "auto (seed when cloud-init is installed and enabled, else apply), seed or apply")
	stateDir := stateDirFlag(fs)
	wait := fs.Duration("wait", 30*time.Second, "how long to wait, in all, for the NICs the config names (and for udev to be done with them)")
	dhcpTimeout := fs.Duration("dhcp-timeout", apply.DefaultDHCPTimeout, "one budget for all DHCP requests (they run in parallel)")
	conf := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	root, err := systemRoot(ctx, *rootDir)
	if err != nil {
		return err
	}
	set, err := loadSettings(ctx, fs, *rootDir, *conf, []flagSetting{{"mode", "main.mode"}})
	if err != nil {
		return err
	}
	if disabled(set, stdout) {
		record(ctx, *stateDir, provision.Record{Command: "boot", Time: time.Now().UTC(), Status: "disabled",
			Warnings: set.Warnings})
		return nil
	}
	m, why, err := resolveMode(set, root)
	if err != nil {
		return err
	}
	// Temp files of a write a crash interrupted (system.SweepTemp).
	if removed, err := root.SweepTemp(); err != nil {
		logger(ctx).Warn("sweeping stale temporary files", "err", err)
	} else if len(removed) > 0 {
		logger(ctx).Info("removed stale temporary files", "paths", removed)
	}
	fmt.Fprintf(stdout, "mode %s: %s\n", m, why)
	inst, err := readInstance(ctx, *src, nil)
	if errors.Is(err, errNoSource) {
		// Not every boot has a source (an image booted outside its cloud):
		// that is no failure of the boot service. cloud-init, pinned to
		// NoCloud by the package, finds no seed and falls back to None.
		fmt.Fprintln(stdout, "no source found (no config drive, no XenStore): nothing to do")
		record(ctx, *stateDir, provision.Record{Command: "boot", Time: time.Now().UTC(), Status: "no-source",
			Mode: m, ModeReason: why, Warnings: set.Warnings})
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "source %s, mode %s\n", inst.Source, m)
	mach := provision.New(provision.Options{Root: root, StateDir: *stateDir, Log: logger(ctx),
		DHCPTimeout: *dhcpTimeout, UdevDir: udevDir(root)})
	// In seed mode: compensate what cloud-init's renderer on this image drops.
	res := mach.Provision(ctx, provision.Request{Inst: inst, Mode: m, KeepGoing: true, WaitLinks: *wait,
		Compensate: provision.RendererCompensation, Parts: stepParts(set, nil, provision.Parts)})
	rec := provision.NewRecord("boot", res, skippedParts(set, nil))
	rec.Source, rec.Mode, rec.ModeReason = inst.Source, m, why
	rec.Warnings = append(set.Warnings, inst.Warnings...)
	record(ctx, *stateDir, rec)
	return report(stdout, res)
}
