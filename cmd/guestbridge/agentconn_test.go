package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guestbridge/xenstore/xenstoretest"
)

// waitAgentState polls agent.json until ok accepts it (5 s at most).
func waitAgentState(t *testing.T, dir, what string, ok func(agentState) bool) agentState {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, read := readAgentState(dir)
		if read && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent.json after 5 s: %+v, want %s", st, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The agent's XenStore state in agent.json is live: when xenstored goes
// away it says reconnecting (since when, why, how many times), status shows
// it and is still healthy for a short while; when the daemon is back it
// says connected again and keeps the count and the last cause.
func TestAgentXenStoreReconnectingLive(t *testing.T) {
	dir, err := os.MkdirTemp("", "gbconn") // a short socket path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "socket")
	srv := xenstoretest.NewServerAt(t, sock)
	root := offlineImage(t)
	stateDir := t.TempDir()

	agentErr := startAgent(t, sock, "--root", root, "--mode", "seed", "--metrics-interval", "0", "--state-dir", stateDir).log
	connected := waitAgentState(t, stateDir, "connected", func(st agentState) bool { return st.XenStore == "connected" })
	if connected.Reconnects != 0 || connected.LostCause != "" {
		t.Errorf("before any loss: %+v", connected)
	}

	srv.Close() // xenstored gone: its connections drop, the socket is refused
	lost := waitAgentState(t, stateDir, "reconnecting", func(st agentState) bool { return st.XenStore == "reconnecting" })
	if lost.Reconnects != 1 || lost.LostCause == "" || !lost.LostAt.Equal(lost.Since) || lost.Since.Before(connected.Since) {
		t.Errorf("reconnecting record: %+v", lost)
	}
	rc, out, _ := runCLI(t, "status", "--state-dir", stateDir)
	want := "XenStore reconnecting since " + lost.Since.Format(time.RFC3339) + " (" + lost.LostCause + "), 1 reconnect\n"
	if rc != 0 || !strings.Contains(out, want) || strings.Contains(out, "warning") {
		t.Errorf("status while briefly reconnecting: rc %d, want 0 and %q:\n%s", rc, want, out)
	}
	if !strings.Contains(agentErr.String(), "lost") {
		t.Errorf("agent log does not say the connection was lost:\n%s", agentErr.String())
	}

	xenstoretest.NewServerAt(t, sock) // back, empty, as after a restart
	back := waitAgentState(t, stateDir, "connected again", func(st agentState) bool { return st.XenStore == "connected" })
	if back.Reconnects != 1 || back.LostCause != lost.LostCause || !back.LostAt.Equal(lost.LostAt) || back.Since.Before(lost.Since) {
		t.Errorf("connected again: %+v after %+v", back, lost)
	}
	rc, out, _ = runCLI(t, "status", "--state-dir", stateDir)
	want = "XenStore connected since " + back.Since.Format(time.RFC3339) + ", 1 reconnect (last lost " + lost.LostAt.Format(time.RFC3339) + ": " + lost.LostCause + ")\n"
	if rc != 0 || !strings.Contains(out, want) {
		t.Errorf("status after the reconnect: rc %d, want 0 and %q:\n%s", rc, want, out)
	}
}

// Reconnecting for longer than xenStoreReconnectGrace is degraded (the
// host cannot reach the agent); a blip shorter than it (a live migration's
// resume, a xenstored restart) is not.
func TestStatusXenStoreReconnecting(t *testing.T) {
	now := time.Now().UTC()
	for _, tc := range []struct {
		name string
		lost time.Duration
		rc   int
	}{
		{"short blip", 5 * time.Second, statusHealthy},
		{"long outage", 2 * time.Minute, statusDegraded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			since := now.Add(-tc.lost)
			writeAgentJSON(t, dir, agentState{PID: os.Getpid(), Started: now.Add(-time.Hour), Mode: "apply",
				XenStore: "reconnecting", Since: since, Reconnects: 3, LostAt: since, LostCause: "EOF", Written: now})
			rc, out, _ := runCLI(t, "status", "--state-dir", dir)
			line := "XenStore reconnecting since " + since.Format(time.RFC3339) + " (EOF), 3 reconnects\n"
			warned := strings.Contains(out, "warning: agent: XenStore connection lost at "+since.Format(time.RFC3339)+" (2m ago, EOF) and not back")
			if rc != tc.rc || !strings.Contains(out, line) || warned != (tc.rc == statusDegraded) {
				t.Errorf("rc %d, want %d, the line %q and a warning only when degraded:\n%s", rc, tc.rc, line, out)
			}
			rc, js, raw := runStatusJSON(t, dir)
			if rc != tc.rc || js.Agent == nil || js.Agent.XenStore != "reconnecting" || js.Agent.Reconnects != 3 ||
				js.Agent.LostCause != "EOF" || (len(js.Agent.Warnings) == 1) != (tc.rc == statusDegraded) {
				t.Errorf("--json rc %d:\n%s", rc, raw)
			}
		})
	}
}
