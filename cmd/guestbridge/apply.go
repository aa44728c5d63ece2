package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"guestbridge/datasource"
	"guestbridge/netconf/apply"
	"guestbridge/system"
)

// applyParts are the pieces `apply --only` can select, in the order applied.
// Network goes first: it is the step most likely to fail, and it rolls
// itself back, so a failure there leaves every file untouched.
var applyParts = []string{"network", "hostname", "dns", "keys", "password", "files"}

func runApply(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("apply")
	src := sourceFlag(fs)
	rootDir := rootFlag(fs)
	dryRun := fs.Bool("dry-run", false, "print what would change and change nothing")
	only := fs.StringSlice("only", nil, "apply only these parts: "+strings.Join(applyParts, ","))
	stateDir := stateDirFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	parts, err := selectParts(*only)
	if err != nil {
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
	m := machine{root: root, parts: parts, dryRun: *dryRun, stateDir: *stateDir}
	lines, err := m.apply(ctx, inst)
	return report(stdout, lines, err)
}

// report prints one line per change, or "no changes" after a clean run.
func report(stdout io.Writer, lines []string, err error) error {
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	if err == nil && len(lines) == 0 {
		fmt.Fprintln(stdout, "no changes")
	}
	return err
}

func selectParts(only []string) (map[string]bool, error) {
	parts := map[string]bool{}
	if len(only) == 0 {
		for _, p := range applyParts {
			parts[p] = true
		}
		return parts, nil
	}
	for _, p := range only {
		if !slices.Contains(applyParts, p) {
			return nil, usagef("--only %q: want some of %s", p, strings.Join(applyParts, ","))
		}
		parts[p] = true
	}
	return parts, nil
}

// machine applies an Instance to this machine (or to an offline root).
type machine struct {
	root     system.Root
	parts    map[string]bool
	dryRun   bool
	stateDir string
}

// apply runs the selected parts and returns one line per change made (or,
// with dryRun, planned).
func (m machine) apply(ctx context.Context, inst *datasource.Instance) ([]string, error) {
	var lines []string
	note := func(format string, args ...any) {
		prefix := ""
		if m.dryRun {
			prefix = "would "
		}
		lines = append(lines, prefix+fmt.Sprintf(format, args...))
	}
	if m.parts["network"] && inst.Network != nil {
		if !m.root.Live {
			logf("warning: --root is not /: network not applied (offline mode changes files only)")
		} else {
			rep, err := apply.Apply(ctx, inst.Network, apply.Options{DryRun: m.dryRun, StateDir: m.stateDir, Logf: logf})
			for _, w := range rep.Warnings {
				logf("warning: %s", w)
			}
			for _, c := range rep.Changes {
				note("network: %s", c)
			}
			if err != nil {
				return lines, fmt.Errorf("network: %w (changes of this run rolled back)", err)
			}
		}
	}
	if m.parts["hostname"] && inst.Hostname != "" {
		changed, err := m.step(func() (bool, error) { return m.root.SetHostname(inst.Hostname) })
		if err != nil {
			return lines, fmt.Errorf("hostname: %w", err)
		}
		if changed {
			note("set hostname %s", inst.Hostname)
		}
	}
	if m.parts["dns"] {
		if servers, search := inst.Network.MachineDNS(); len(servers) > 0 {
			changed, err := m.step(func() (bool, error) { return m.root.SetDNS(servers, search) })
			if err != nil {
				return lines, fmt.Errorf("dns: %w", err)
			}
			if changed {
				note("set nameservers %v", servers)
				m.reloadResolved()
			}
		}
	}
	if m.parts["keys"] && len(inst.PublicKeys) > 0 {
		changed, err := m.step(func() (bool, error) { return m.root.SetAuthorizedKeys("root", inst.PublicKeys) })
		if err != nil {
			return lines, fmt.Errorf("ssh keys: %w", err)
		}
		if changed {
			note("set %d ssh key(s) for root", len(inst.PublicKeys))
		}
	}
	// The admin password and injected files are the cloud's first-boot
	// gifts: applied once per instance, so a password or file the user
	// changed later is never put back on the next boot.
	if m.parts["password"] && inst.AdminPass != "" && !m.doneForInstance("password", inst) {
		changed, err := m.step(func() (bool, error) { return m.root.EnsurePassword("root", inst.AdminPass.Reveal()) })
		if err != nil {
			return lines, fmt.Errorf("password: %w", err)
		}
		if changed {
			note("set root's password")
		}
		if err := m.markDone("password", inst); err != nil {
			return lines, err
		}
	}
	if m.parts["files"] && len(inst.Files) > 0 && !m.doneForInstance("files", inst) {
		for _, f := range inst.Files {
			changed, err := m.step(func() (bool, error) { return m.root.InjectFile(f.Path, f.Content) })
			if err != nil {
				return lines, fmt.Errorf("file %s: %w", f.Path, err)
			}
			if changed {
				note("write %s", f.Path)
			}
		}
		if err := m.markDone("files", inst); err != nil {
			return lines, err
		}
	}
	return lines, nil
}

// perInstanceDir records which once-per-instance parts are done, as the
// instance id they were done for (a new instance from the same image
// gets them again).
const perInstanceDir = "/var/lib/guestbridge/per-instance"

func (m machine) doneForInstance(part string, inst *datasource.Instance) bool {
	b, err := os.ReadFile(filepath.Join(m.root.Dir, perInstanceDir, part))
	return err == nil && strings.TrimSpace(string(b)) == inst.InstanceID && inst.InstanceID != ""
}

func (m machine) markDone(part string, inst *datasource.Instance) error {
	if m.dryRun || inst.InstanceID == "" {
		return nil
	}
	_, err := m.root.WriteFile(path.Join(perInstanceDir, part), []byte(inst.InstanceID+"\n"), system.WriteOptions{Mode: 0o644, DirMode: 0o755})
	if err != nil {
		return fmt.Errorf("%s: recording it as done: %w", part, err)
	}
	return nil
}

// reloadResolved makes systemd-resolved pick up our drop-in (live only).
func (m machine) reloadResolved() {
	if !m.root.Live || m.dryRun {
		return
	}
	if uses, err := m.root.UsesSystemdResolved(); err != nil || !uses {
		return
	}
	if out, err := exec.Command("systemctl", "try-reload-or-restart", "systemd-resolved").CombinedOutput(); err != nil {
		logf("warning: reloading systemd-resolved: %v: %s", err, strings.TrimSpace(string(out)))
	}
}

// step runs a file change, or in dry-run mode reports that it would run.
// (The system package has no dry-run; a dry run lists every selected step.)
func (m machine) step(do func() (bool, error)) (bool, error) {
	if m.dryRun {
		return true, nil
	}
	return do()
}
