package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"guestbridge/agent"
	"guestbridge/datasource/vmdata"
	"guestbridge/provision"
	"guestbridge/settings"
	"guestbridge/xenstore"
)

func runAgent(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("agent")
	sock := fs.String("xenstore", "", "XenStore socket or device (default: $XENSTORED_PATH, the socket, then /dev/xen/xenbus)")
	rootDir := rootFlag(fs)
	fs.String("mode", modeAuto, "how resetnetwork applies vm-data: auto, seed (cloud-init) or apply")
	stateDir := stateDirFlag(fs)
	allowUpdate := fs.Bool("allow-update", false, "let the host replace this binary (agentupdate; https only): sets commands.agentupdate = true")
	allowInsecure := fs.Bool("allow-insecure-update", false, "with --allow-update, also accept http URLs: sets agent.update = insecure")
	fs.String("source", "auto", "ignored (kept for compatibility): leases are renewed for the config in force that boot, apply and resetnetwork record")
	fs.Duration("metrics-interval", agent.DefaultMetricsInterval, "how often guest metrics are written to XenStore (0 turns them off): sets agent.metrics_interval")
	conf := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *allowInsecure && !*allowUpdate {
		return usagef("--allow-insecure-update needs --allow-update")
	}
	// A guest agent lives for months beside the user's workload: trade a
	// little CPU for a small, flat heap (GOGC in the environment still wins).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	log := logger(ctx)
	logf := logfFor(log)
	root, err := systemRoot(ctx, *rootDir)
	if err != nil {
		return err
	}
	set, err := loadSettings(ctx, fs, *rootDir, *conf, []flagSetting{
		{"mode", "main.mode"}, {"metrics-interval", "agent.metrics_interval"},
		{"allow-update", "commands.agentupdate"}})
	if err != nil {
		return err
	}
	if *allowInsecure {
		if err := set.Set("agent.update", "insecure", "flag --allow-insecure-update"); err != nil {
			return err
		}
	}
	if disabled(set, stdout) {
		return nil
	}
	m, why, err := resolveMode(set, root)
	if err != nil {
		return err
	}
	// Ready as soon as we run: XenStore may never appear (KVM), and the
	// boot must not wait for it.
	notifyReady(log)
	log.Info("agent started", "mode", m, "why", why)
	now := time.Now().UTC()
	ast := agentState{PID: os.Getpid(), Started: now, Mode: m, XenStore: "waiting", Since: now,
		Heartbeat: set.Get("agent.heartbeat_interval").Value}
	for _, c := range settings.AgentCommands {
		if !set.CommandAllowed(c) {
			ast.Refused = append(ast.Refused, c)
		}
	}
	// The requests a previous agent answered stay listed (an agentupdate
	// re-exec, a restart); /run/guestbridge is emptied at every boot.
	if prev, ok := readAgentState(*stateDir); ok {
		ast.LastRequests = prev.LastRequests[:min(len(prev.LastRequests), maxLastRequests)]
	}
	// agent.json: one owner, written at most once a second, and at stop.
	state := newAgentStateWriter(*stateDir, log, ast)
	mach := provision.New(provision.Options{Root: root, StateDir: *stateDir, Log: log, LeaseChanged: state.leasesChanged})
	state.leases = mach.Leases
	stopState := state.start()
	defer func() {
		state.setXenStore("stopped")
		stopState()
	}()

	var wg sync.WaitGroup
	defer wg.Wait()
	if root.Live {
		// Lease renewal works on any hypervisor: it needs no XenStore.
		wg.Add(1)
		go func() {
			defer wg.Done()
			mach.KeepLeases(ctx)
		}()
		// Seed mode: add what cloud-init's renderer dropped (boot recorded it).
		wg.Add(1)
		go func() {
			defer wg.Done()
			mach.KeepCompensation(ctx)
		}()
	}
	// XenStore may come up after us, or never: wait for it, never exit for it.
	c, err := xenstore.WaitDial(ctx, *sock, logf)
	if err != nil {
		if ctx.Err() != nil {
			log.Info("agent stopped")
			return nil // stopped before XenStore appeared: a clean exit
		}
		return err
	}
	defer c.Close()
	state.setXenStore("connected")
	// From now on the client reports lost and reconnected (live in
	// agent.json and status); the writer only records.
	c.SetStateFunc(state.xenStoreState)
	resetNetwork := func(ctx context.Context) error {
		inst, err := vmdata.ReadInstance(ctx, c, nil)
		if err != nil {
			return err
		}
		for _, w := range inst.Warnings {
			log.Warn(w, "source", "xenstore")
		}
		// In seed mode the seed is rewritten (cloud-init re-renders it at
		// the next boot) AND the network is applied now.
		// The steps turned off in the settings stay off here too.
		res := mach.Provision(ctx, provision.Request{Inst: inst, Mode: m, KeepGoing: true, LiveNetwork: true,
			Parts: stepParts(set, nil, provision.Parts)})
		for _, l := range res.Lines() {
			log.Info(l, "command", "resetnetwork")
		}
		if res.Status() != provision.OK {
			return res.Err()
		}
		return nil
	}
	a := agent.New(c, agent.SystemActions{Root: root, Reset: resetNetwork}, agent.Options{
		Version:             version,
		MetricsInterval:     set.Duration("agent.metrics_interval"),
		HeartbeatInterval:   set.Duration("agent.heartbeat_interval"),
		AllowUpdate:         set.Bool("commands.agentupdate"),
		AllowInsecureUpdate: set.String("agent.update") == "insecure",
		Logf:                logf,
		Refuse:              refusal(set),
		Done:                state.requestDone,
	})
	log.Info("agent serving XenStore requests", "mode", m)
	err = a.Run(ctx)
	if ctx.Err() != nil {
		log.Info("agent stopped")
		return nil
	}
	return err
}

// refusal answers, for a command the settings turn off, the message its
// refusal carries; "" lets it run.
func refusal(set *settings.Settings) func(name string) string {
	return func(name string) string {
		if set.CommandAllowed(name) {
			return ""
		}
		return fmt.Sprintf("Command '%s' is refused by this guest's configuration (commands.%s = false, from %s)",
			name, name, set.Get("commands."+name).Origin)
	}
}

// notifyReady tells systemd (Type=notify) that the agent is up.
func notifyReady(log interface{ Warn(string, ...any) }) {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:] // abstract socket
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		log.Warn(fmt.Sprintf("sd_notify: %v", err))
		return
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("READY=1")); err != nil {
		log.Warn(fmt.Sprintf("sd_notify: %v", err))
	}
}
