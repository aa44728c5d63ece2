package provision

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"guestbridge/datasource"
	"guestbridge/netconf/apply"
	"guestbridge/nocloud"
	"guestbridge/system"
)

// Modes: who configures the machine.
const (
	ModeSeed  = "seed"  // cloud-init, from the NoCloud seed we write
	ModeApply = "apply" // guestbridge itself
)

// Request is one provisioning run.
type Request struct {
	Inst   *datasource.Instance
	Mode   string          // ModeApply (default) or ModeSeed
	Parts  map[string]bool // apply mode: the parts to run; nil = all
	DryRun bool
	// KeepGoing (boot, the agent): a failure on one interface or route does
	// not undo the others. Without it (a user's `apply`) a network failure
	// rolls back the network changes of this run.
	KeepGoing bool
	// WaitLinks > 0 (boot): wait up to this long for every NIC the config
	// names by MAC before applying the network; a NIC still missing then is
	// an error of the network step (everything else still applies).
	WaitLinks time.Duration
	// SeedDir is the NoCloud seed directory (seed mode); "" = nocloud.DefaultDir.
	SeedDir string
	// LiveNetwork (seed mode, resetnetwork): also apply the network now,
	// since cloud-init only renders it at the next boot.
	LiveNetwork bool
	// Compensate (seed mode, boot) says what cloud-init's renderer on this
	// image drops from the config; guestbridge writes the DNS itself now and
	// leaves the routes and MTUs to the agent (KeepCompensation), which adds
	// them once the interfaces are up. nil: nothing.
	Compensate CompensateFunc
}

func (q Request) part(name string) bool { return q.Parts == nil || q.Parts[name] }

// Provision applies req.Inst to the machine (or hands it to cloud-init),
// under the machine lock. See the package comment for the failure policy.
func (m *Machine) Provision(ctx context.Context, req Request) Result {
	res := Result{Mode: req.Mode}
	if res.Mode == "" {
		res.Mode = ModeApply
	}
	err := m.locked(func() error {
		if req.Mode == ModeSeed {
			m.provisionSeed(ctx, req, &res)
		} else {
			m.provisionApply(ctx, req, &res)
		}
		return nil
	})
	if err != nil {
		res.Steps = append(res.Steps, Step{Part: "lock", Err: err})
	}
	for _, s := range res.Steps {
		for _, w := range s.Warnings {
			m.o.Log.Warn(w, "step", s.Part)
		}
		if s.Err != nil {
			m.o.Log.Error(s.Err.Error(), "step", s.Part)
		}
	}
	return res
}

func (m *Machine) provisionApply(ctx context.Context, req Request, res *Result) {
	inst := req.Inst
	if req.part("network") && inst.Network != nil {
		if s, ok := m.network(ctx, req); ok {
			res.Steps = append(res.Steps, s)
		}
	}
	if req.part("hostname") && inst.Hostname != "" {
		res.Steps = append(res.Steps, m.hostname(req))
	}
	if req.part("hosts") && inst.Hostname != "" {
		res.Steps = append(res.Steps, m.hosts(req))
	}
	if req.part("dns") {
		if servers, search := inst.Network.MachineDNS(); len(servers) > 0 || len(search) > 0 {
			res.Steps = append(res.Steps, m.dns(req, servers, search))
		}
	}
	if req.part("keys") && len(inst.PublicKeys) > 0 {
		res.Steps = append(res.Steps, m.keys(req))
	}
	m.perInstance(req, res)
}

func (m *Machine) provisionSeed(ctx context.Context, req Request, res *Result) {
	inst := req.Inst
	res.Steps = append(res.Steps, m.seed(req))
	if inst.Network != nil && m.o.Root.Live {
		switch {
		case req.LiveNetwork:
			if s, ok := m.network(ctx, req); ok {
				res.Steps = append(res.Steps, s)
			}
		case req.Compensate != nil && !req.DryRun:
			res.Steps = append(res.Steps, m.compensate(req)...)
		}
	}
	// cloud-init's NoCloud neither writes nova's injected files nor sets
	// admin_pass: guestbridge does both, once per instance, in seed mode too.
	m.perInstance(req, res)
}

// compensate records what the agent must add after cloud-init's renderer
// ran, and writes resolv.conf when the renderer would not.
func (m *Machine) compensate(req Request) []Step {
	renderer := DetectRenderer(m.o.Root)
	s := Step{Part: "network"}
	if renderer == "" {
		os.Remove(m.compensationPath())
		return nil
	}
	c, err := req.Compensate(req.Inst.Network, renderer)
	if err != nil {
		s.Err = err
		return []Step{s}
	}
	c.Renderer = renderer
	for _, l := range c.Lost {
		s.Warnings = append(s.Warnings, "cloud-init's "+renderer+" renderer: "+l)
	}
	if len(c.Routes) > 0 || len(c.MTUs) > 0 {
		if err := m.recordCompensation(c); err != nil {
			s.Err = err
		} else {
			s.Did = true
			s.Changes = append(s.Changes, fmt.Sprintf("network: %d route(s) and %d MTU(s) cloud-init's %s renderer drops: the agent sets them once the interfaces are up",
				len(c.Routes), len(c.MTUs), renderer))
		}
	} else {
		os.Remove(m.compensationPath())
	}
	steps := []Step{}
	if s.Err != nil || len(s.Changes) > 0 || len(s.Warnings) > 0 {
		steps = append(steps, s)
	}
	// ENI's dns-nameservers work when resolvconf is installed: then it owns
	// /etc/resolv.conf and must not lose it to us.
	if c.DNS && !(renderer == "eni" && hasResolvconf(m.o.Root)) {
		if servers, search := req.Inst.Network.MachineDNS(); len(servers) > 0 {
			steps = append(steps, m.dns(req, servers, search))
		}
	}
	return steps
}

func hasResolvconf(root system.Root) bool {
	for _, p := range []string{"sbin/resolvconf", "usr/sbin/resolvconf"} {
		if _, err := os.Stat(filepath.Join(root.Dir, p)); err == nil {
			return true
		}
	}
	return false
}

func (m *Machine) perInstance(req Request, res *Result) {
	inst := req.Inst
	if req.part("password") && inst.AdminPass != "" && !m.doneForInstance("password", inst) {
		res.Steps = append(res.Steps, m.password(req))
	}
	if req.part("files") && len(inst.Files) > 0 && !m.doneForInstance("files", inst) {
		res.Steps = append(res.Steps, m.files(req))
	}
}

// network applies the network config; ok is false when there is nothing
// to do here (an offline --root: files only).
func (m *Machine) network(ctx context.Context, req Request) (Step, bool) {
	s := Step{Part: "network"}
	cfg := req.Inst.Network
	if !m.o.Root.Live {
		m.o.Log.Warn("--root is not /: network not applied (offline mode changes files only)")
		return s, false
	}
	var missing []string
	if req.WaitLinks > 0 && !req.DryRun {
		wctx, cancel := context.WithTimeout(ctx, req.WaitLinks)
		start := time.Now()
		missing = apply.WaitLinks(wctx, cfg, apply.WaitOptions{Handle: m.o.Handle, UdevDir: m.o.UdevDir})
		cancel()
		if len(missing) == 0 {
			m.o.Log.Info("every configured NIC is present", "waited", time.Since(start).Round(time.Millisecond))
		}
	}
	rep, err := apply.Apply(ctx, cfg, m.applyOptions(req.DryRun, req.KeepGoing))
	for _, c := range rep.Changes {
		s.Changes = append(s.Changes, changeLine(c, req.DryRun))
	}
	s.Warnings = append(s.Warnings, rep.Warnings...)
	s.Did = len(rep.Changes) > 0 || err == nil
	if err != nil {
		if !req.KeepGoing {
			err = fmt.Errorf("%w (changes of this run rolled back)", err)
			s.Did = false
		}
		s.Err = err
	}
	if len(missing) > 0 {
		merr := fmt.Errorf("NIC(s) still missing after waiting %s: %s", req.WaitLinks, strings.Join(missing, ", "))
		if s.Err != nil {
			s.Err = fmt.Errorf("%w; %w", merr, s.Err)
		} else {
			s.Err = merr
		}
	}
	if !req.DryRun && (err == nil || req.KeepGoing) {
		cur := current{InstanceID: req.Inst.InstanceID, Source: req.Inst.Source, Network: cfg}
		if serr := m.saveCurrent(cur); serr != nil {
			m.o.Log.Warn("recording the config in force failed: lease renewals may use an older one", "err", serr)
		}
	}
	return s, true
}

// changeLine prints one network change: "network ens3: add address …", in
// a dry run "network ens3: would add address …".
func changeLine(c apply.Change, dry bool) string {
	verb := c.Op
	switch c.Op {
	case "up":
		verb = "bring up"
	case "dhcp":
		verb = ""
	}
	what := strings.TrimSpace(verb + " " + c.What)
	if dry {
		what = "would " + what
	}
	return "network " + c.Link + ": " + what
}

// fileStep runs do on the real root, or in a dry run on a scratch copy of
// paths, so that a dry run says exactly whether the real run would change
// something.
func (m *Machine) fileStep(dry bool, paths []string, do func(system.Root) (bool, error)) (bool, error) {
	if !dry {
		return do(m.o.Root)
	}
	return predict(m.o.Root, paths, do)
}

// hostname writes /etc/hostname and, live, the kernel's name. /etc/hosts
// is the hosts step's: each can be turned off and fail on its own.
func (m *Machine) hostname(req Request) Step {
	s := Step{Part: "hostname"}
	name := req.Inst.Hostname
	if err := system.CheckHostname(name); err != nil {
		s.Warnings = append(s.Warnings, fmt.Sprintf("hostname: %v; not set (the other steps still apply)", err))
		return s
	}
	changed, err := m.fileStep(req.DryRun, []string{"/etc/hostname"}, func(r system.Root) (bool, error) {
		if req.DryRun {
			r.Live = false
		}
		return r.WriteHostname(name)
	})
	s.Err, s.Did = err, err == nil
	if changed {
		s.Changes = append(s.Changes, fileLine("hostname", req.DryRun, "set "+name))
	}
	return s
}

// hosts keeps guestbridge's 127.0.1.1 line in /etc/hosts for the hostname
// (so that `hostname -f` works without DNS).
func (m *Machine) hosts(req Request) Step {
	s := Step{Part: "hosts"}
	name := req.Inst.Hostname
	if err := system.CheckHostname(name); err != nil {
		s.Warnings = append(s.Warnings, fmt.Sprintf("hosts: %v; /etc/hosts not changed (the other steps still apply)", err))
		return s
	}
	changed, err := m.fileStep(req.DryRun, []string{"/etc/hosts"}, func(r system.Root) (bool, error) {
		return r.SetHostsEntry(name)
	})
	s.Err, s.Did = err, err == nil
	if changed {
		s.Changes = append(s.Changes, fileLine("hosts", req.DryRun, "map "+strings.TrimSuffix(name, ".")+" to 127.0.1.1"))
	}
	return s
}

func fileLine(part string, dry bool, what string) string {
	if dry {
		return part + ": would " + what
	}
	return part + ": " + what
}

func (m *Machine) dns(req Request, servers []netip.Addr, search []string) Step {
	s := Step{Part: "dns"}
	changed, err := m.fileStep(req.DryRun, []string{"/etc/resolv.conf", system.ResolvedDropIn}, func(r system.Root) (bool, error) {
		return r.SetDNS(servers, search)
	})
	s.Err, s.Did = err, err == nil
	if changed {
		s.Changes = append(s.Changes, fileLine("dns", req.DryRun, fmt.Sprintf("set nameservers %v", servers)))
		if !req.DryRun {
			m.reloadResolved()
		}
	}
	return s
}

// reloadResolved makes systemd-resolved pick up our drop-in (live only).
func (m *Machine) reloadResolved() {
	if !m.o.Root.Live {
		return
	}
	if uses, err := m.o.Root.UsesSystemdResolved(); err != nil || !uses {
		return
	}
	if out, err := exec.Command("systemctl", "try-reload-or-restart", "systemd-resolved").CombinedOutput(); err != nil {
		m.o.Log.Warn("reloading systemd-resolved failed", "err", err, "output", strings.TrimSpace(string(out)))
	}
}

// SplitKeys turns public_keys values into authorized_keys lines: a value
// holding several lines gives each (as cloud-init does); blank lines and
// comments are dropped; a line sshd could not use is skipped with a warning
// naming public_keys[i] (and the line within it), never its text.
func SplitKeys(values []string) (keys, warnings []string) {
	for i, v := range values {
		if strings.Contains(v, "-----BEGIN ") {
			warnings = append(warnings, fmt.Sprintf("public_keys[%d]: a PEM (x509) block, not an SSH key; skipped (the other keys are installed)", i))
			continue
		}
		lines := strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n")
		for j, line := range lines {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			if err := system.CheckAuthorizedKey(line); err != nil {
				where := fmt.Sprintf("public_keys[%d]", i)
				if len(lines) > 1 {
					where += fmt.Sprintf(" line %d", j+1)
				}
				warnings = append(warnings, fmt.Sprintf("%s: %v; skipped (the other keys are installed)", where, err))
				continue
			}
			if !slices.Contains(keys, line) {
				keys = append(keys, line)
			}
		}
	}
	return keys, warnings
}

func (m *Machine) keys(req Request) Step {
	s := Step{Part: "keys"}
	keys, warnings := SplitKeys(req.Inst.PublicKeys)
	s.Warnings = warnings
	if len(keys) == 0 {
		return s
	}
	home := homeOf(m.o.Root, "root")
	changed, err := m.fileStep(req.DryRun, []string{"/etc/passwd", home, path.Join(home, ".ssh"), path.Join(home, ".ssh/authorized_keys")},
		func(r system.Root) (bool, error) { return r.SetAuthorizedKeys("root", keys) })
	s.Err, s.Did = err, err == nil
	if changed {
		s.Changes = append(s.Changes, fileLine("keys", req.DryRun, fmt.Sprintf("set %d ssh key(s) for root", len(keys))))
	}
	return s
}

func (m *Machine) password(req Request) Step {
	s := Step{Part: "password"}
	pw := req.Inst.AdminPass.Reveal()
	changed, err := m.fileStep(req.DryRun, []string{"/etc/passwd", "/etc/shadow"},
		func(r system.Root) (bool, error) { return r.EnsurePassword("root", pw) })
	s.Err, s.Did = err, err == nil
	if changed {
		s.Changes = append(s.Changes, fileLine("password", req.DryRun, "set root's password"))
	}
	if err == nil && !req.DryRun {
		if err := m.markDone("password", req.Inst); err != nil {
			s.Warnings = append(s.Warnings, err.Error())
		}
	}
	return s
}

func (m *Machine) files(req Request) Step {
	s := Step{Part: "files"}
	var errs []string
	for _, f := range req.Inst.Files {
		changed, err := m.fileStep(req.DryRun, []string{f.Path}, func(r system.Root) (bool, error) {
			return r.InjectFile(f.Path, f.Content)
		})
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", f.Path, err))
			continue
		}
		s.Did = true
		if changed {
			s.Changes = append(s.Changes, fileLine("files", req.DryRun, "write "+f.Path))
		}
	}
	if len(errs) > 0 {
		s.Err = fmt.Errorf("%s", strings.Join(errs, "; "))
		return s
	}
	if !req.DryRun {
		if err := m.markDone("files", req.Inst); err != nil {
			s.Warnings = append(s.Warnings, err.Error())
		}
	}
	return s
}

func (m *Machine) seed(req Request) Step {
	s := Step{Part: "seed"}
	dir := req.SeedDir
	if dir == "" {
		dir = nocloud.DefaultDir
	}
	var changed []string
	do := func(r system.Root) (bool, error) {
		var err error
		changed, err = nocloud.Write(r, req.Inst, nocloud.Options{Dir: dir})
		return len(changed) > 0, err
	}
	var paths []string
	for _, n := range nocloud.FileNames {
		paths = append(paths, path.Join(dir, n))
	}
	_, err := m.fileStep(req.DryRun, paths, do)
	s.Err, s.Did = err, err == nil
	for _, p := range changed {
		s.Changes = append(s.Changes, fileLine("seed", req.DryRun, "write "+path.Join(m.o.Root.Dir, p)))
	}
	return s
}

func (m *Machine) doneForInstance(part string, inst *datasource.Instance) bool {
	b, err := readRootFile(m.o.Root, path.Join(PerInstanceDir, part))
	return err == nil && strings.TrimSpace(string(b)) == inst.InstanceID && inst.InstanceID != ""
}

func (m *Machine) markDone(part string, inst *datasource.Instance) error {
	if inst.InstanceID == "" {
		return nil
	}
	_, err := m.o.Root.WriteFile(path.Join(PerInstanceDir, part), []byte(inst.InstanceID+"\n"), system.WriteOptions{Mode: 0o644, DirMode: 0o755})
	if err != nil {
		return fmt.Errorf("%s: recording it as done for this instance: %w", part, err)
	}
	return nil
}
