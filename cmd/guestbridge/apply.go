package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"guestbridge/provision"
)

func runApply(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("apply")
	src := sourceFlag(fs)
	rootDir := rootFlag(fs)
	dryRun := fs.Bool("dry-run", false, "print exactly what a real run would change, and change nothing")
	only := fs.StringSlice("only", nil, "apply only these parts: "+strings.Join(provision.Parts, ","))
	stateDir := stateDirFlag(fs)
	conf := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	parts, err := selectParts(*only, fs.Changed("only"))
	if err != nil {
		return err
	}
	root, err := systemRoot(ctx, *rootDir)
	if err != nil {
		return err
	}
	// apply is asked for explicitly: main.enabled does not stop it, but
	// the steps turned off in the settings stay off.
	set, err := loadSettings(ctx, fs, *rootDir, *conf, nil)
	if err != nil {
		return err
	}
	parts = stepParts(set, parts, provision.Parts)
	inst, err := readInstance(ctx, *src, nil)
	if err != nil {
		return err
	}
	m := provision.New(provision.Options{Root: root, StateDir: *stateDir, Log: logger(ctx)})
	res := m.Provision(ctx, provision.Request{Inst: inst, Mode: provision.ModeApply, Parts: parts, DryRun: *dryRun})
	if !*dryRun {
		only := parts
		if !fs.Changed("only") {
			only = nil
		}
		rec := provision.NewRecord("apply", res, skippedParts(set, only))
		rec.Source, rec.Warnings = inst.Source, append(set.Warnings, inst.Warnings...)
		record(ctx, *stateDir, rec)
	}
	return report(stdout, res)
}

// report prints one line per change (or "no changes") and turns the
// result into the exit status: 0 success, 3 partial, 1 failure.
func report(stdout io.Writer, res provision.Result) error {
	lines := res.Lines()
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	st := res.Status()
	if st == provision.OK {
		if len(lines) == 0 {
			fmt.Fprintln(stdout, "no changes")
		}
		return nil
	}
	if st == provision.Partial {
		return exitStatus{code: 3, err: fmt.Errorf("partly applied: %w", res.Err())}
	}
	return exitStatus{code: 1, err: res.Err()}
}

// selectParts turns --only into the parts to run; nil means all. Given but
// empty (--only "") is a usage error, not "everything".
func selectParts(only []string, given bool) (map[string]bool, error) {
	if !given {
		return nil, nil
	}
	parts := map[string]bool{}
	for _, p := range only {
		if !slices.Contains(provision.Parts, p) {
			return nil, usagef("--only %q: want some of %s", p, strings.Join(provision.Parts, ","))
		}
		parts[p] = true
	}
	if len(parts) == 0 {
		return nil, usagef("--only: empty; want some of %s", strings.Join(provision.Parts, ","))
	}
	return parts, nil
}
