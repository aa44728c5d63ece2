package main

import (
	"context"
	"io"
	"net"
	"os"
	"runtime/debug"

	"guestbridge/agent"
	"guestbridge/datasource/vmdata"
	"guestbridge/xenstore"
)

func runAgent(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("agent")
	sock := fs.String("xenstore", "", "XenStore socket or device (default: $XENSTORED_PATH, the socket, then /dev/xen/xenbus)")
	rootDir := rootFlag(fs)
	mode := fs.String("mode", modeAuto, "how resetnetwork applies vm-data: auto, seed (cloud-init) or apply")
	stateDir := stateDirFlag(fs)
	allowUpdate := fs.Bool("allow-update", false, "let the host replace this binary (agentupdate; https only)")
	allowInsecure := fs.Bool("allow-insecure-update", false, "with --allow-update, also accept http URLs")
	src := fs.String("source", "auto", "in apply mode, where the config of the DHCP interfaces whose leases the agent renews comes from")
	metrics := fs.Duration("metrics-interval", agent.DefaultMetricsInterval, "how often guest metrics are written to XenStore (0 turns them off)")
	if err := parseFlags(fs, args); err != nil {
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
	root, err := systemRoot(*rootDir)
	if err != nil {
		return err
	}
	m, err := resolveMode(*mode, root)
	if err != nil {
		return err
	}
	if m == modeApply && root.Live {
		go keepLeases(ctx, *src, *stateDir)
	}
	// XenStore may come up after us (seed 003: the old agent died here): wait.
	c, err := xenstore.WaitDial(ctx, *sock, logf)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before XenStore appeared: a clean exit
		}
		return err
	}
	defer c.Close()
	resetNetwork := func(ctx context.Context) error {
		inst, err := vmdata.ReadInstance(ctx, c, namesFor(root))
		if err != nil {
			return err
		}
		for _, w := range inst.Warnings {
			logf("warning: %s", w)
		}
		return provision(ctx, m, root, *stateDir, inst, os.Stderr)
	}
	a := agent.New(c, agent.SystemActions{Root: root, Reset: resetNetwork}, agent.Options{
		Version:             version,
		MetricsInterval:     *metrics,
		AllowUpdate:         *allowUpdate,
		AllowInsecureUpdate: *allowInsecure,
		Logf:                logf,
		Ready:               notifyReady,
	})
	logf("agent serving XenStore requests (mode %s)", m)
	err = a.Run(ctx)
	if ctx.Err() != nil {
		logf("agent stopped")
		return nil
	}
	return err
}

// notifyReady tells systemd (Type=notify) that the agent is serving.
func notifyReady() {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:] // abstract socket
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		logf("warning: sd_notify: %v", err)
		return
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("READY=1")); err != nil {
		logf("warning: sd_notify: %v", err)
	}
}

// keepLeases renews the DHCPv4 leases boot's apply took, whatever XenStore
// does (a config-drive-only VM has no XenStore at all).
func keepLeases(ctx context.Context, spec, stateDir string) {
	names := localNames()
	inst, err := readInstance(ctx, spec, names)
	if err != nil {
		logf("warning: DHCP leases will not be renewed: %v", err)
		return
	}
	if inst.Network == nil {
		return
	}
	ifnames := dhcp4Interfaces(inst.Network, names)
	if len(ifnames) == 0 {
		return
	}
	logf("renewing DHCPv4 leases on %v", ifnames)
	(&leaseKeeper{cfg: inst.Network, stateDir: stateDir}).run(ctx, ifnames)
}
