package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"guestbridge/agent"
	"guestbridge/provision"
	"guestbridge/xenstore/xenstoretest"
)

// statusJSON is what `guestbridge status --json` prints, as far as these
// tests look.
type statusJSON struct {
	Status string `json:"status"`
	Health string `json:"health"`
	Agent  *struct {
		agentState
		Warnings []string `json:"warnings"`
	} `json:"agent"`
}

func runStatusJSON(t *testing.T, stateDir string) (int, statusJSON, string) {
	t.Helper()
	rc, out, stderr := runCLI(t, "status", "--state-dir", stateDir, "--json")
	var st statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: rc %d, %v:\n%s%s", rc, err, out, stderr)
	}
	return rc, st, out
}

// Issue 12: `guestbridge status` shows the agent's last requests with their
// results. The real agent serves requests sent as the host sends them;
// agent.json (0644) then lists them newest first with their return codes
// and the messages of failures, and never the password, a file's contents
// or the DH keys; status prints 5 of them, --long all, and is healthy.
func TestStatusShowsAgentRequests(t *testing.T) {
	xs := xenstoretest.NewServer(t)
	root := offlineImage(t)
	stateDir := t.TempDir()

	a := startAgent(t, xs.SocketPath(), "--root", root, "--mode", "seed", "--metrics-interval", "0", "--state-dir", stateDir)
	send, stop := a.send, a.stop
	const content = "RECOGNISABLE-FILE-CONTENT-7731"
	const hostPub = "123456789012345678901234567890"
	pwValue := base64.StdEncoding.EncodeToString([]byte("RECOGNISABLE-PASSWORD-4242-padded"))
	fileValue := base64.StdEncoding.EncodeToString([]byte("/etc/gb-injected," + content))
	send("version", "agent")
	key := send("keyinit", hostPub)
	if key["returncode"] != "D0" || key["message"] == "" {
		t.Fatalf("keyinit reply %v", key)
	}
	send("password", pwValue) // the key does not match: 500 "Invalid password data received"
	if r := send("injectfile", fileValue); r["returncode"] != "0" {
		t.Fatalf("injectfile reply %v", r)
	}
	send("frobnicate")
	send("features")

	var ag agentState
	waitUntil := time.Now().Add(5 * time.Second)
	for {
		var ok bool
		ag, ok = readAgentState(stateDir)
		if ok && len(ag.LastRequests) == 6 {
			break
		}
		if time.Now().After(waitUntil) {
			t.Fatalf("agent.json lists %d requests after 5 s, want 6: %+v", len(ag.LastRequests), ag)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ag.XenStore != "connected" || ag.PID != os.Getpid() {
		t.Errorf("agent.json: XenStore %q pid %d", ag.XenStore, ag.PID)
	}
	type want struct{ cmd, code, msg string }
	wants := []want{{"features", "0", ""}, {"frobnicate", "404", "No such agent command 'frobnicate'"},
		{"injectfile", "0", ""}, {"password", "500", "Invalid password data received"}, {"keyinit", "D0", ""}, {"version", "0", ""}}
	for i, w := range wants {
		r := ag.LastRequests[i]
		if r.Command != w.cmd || r.Code != w.code || r.Message != w.msg || r.ID == "" || r.Received.IsZero() || r.DurationMS < 0 {
			t.Errorf("last_requests[%d] = %+v, want %+v", i, r, w)
		}
	}
	p := filepath.Join(stateDir, agentStateFile)
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("%s: %v, want mode 0644", p, err)
	}
	secrets := []string{content, fileValue, pwValue, "RECOGNISABLE-PASSWORD", hostPub, key["message"]}
	noSecrets := func(what, s string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("%s holds %q:\n%s", what, sec, s)
			}
		}
	}
	noSecrets("agent.json", string(mustRead(t, p)))

	rc, st, js := runStatusJSON(t, stateDir)
	noSecrets("status --json", js)
	if rc != 0 || st.Health != "healthy" || st.Agent == nil || len(st.Agent.LastRequests) != 6 ||
		st.Agent.LastRequests[1].Code != "404" || len(st.Agent.Warnings) != 0 {
		t.Errorf("status --json: rc %d:\n%s", rc, js)
	}
	rc, out, _ := runCLI(t, "status", "--state-dir", stateDir)
	noSecrets("status", out)
	if rc != 0 || !strings.Contains(out, "XenStore connected") || !strings.Contains(out, "agent: last requests (newest first, 5 of 6; --long for all):\n") ||
		!strings.Contains(out, "  frobnicate  404  ") || !strings.Contains(out, `  "No such agent command 'frobnicate'"`) ||
		!strings.Contains(out, "  password  500  ") || strings.Contains(out, "  version  0  ") {
		t.Errorf("status: rc %d:\n%s", rc, out)
	}
	_, out, _ = runCLI(t, "status", "--state-dir", stateDir, "--long")
	if !strings.Contains(out, "  version  0  ") || !strings.Contains(out, "  keyinit  D0  ") || !strings.Contains(out, "  id "+ag.LastRequests[0].ID) {
		t.Errorf("status --long lacks the older requests or the ids:\n%s", out)
	}

	// At stop, the record says so and keeps the requests.
	stop()
	ag, _ = readAgentState(stateDir)
	if ag.XenStore != "stopped" || len(ag.LastRequests) != 6 {
		t.Errorf("after stop: XenStore %q, %d requests", ag.XenStore, len(ag.LastRequests))
	}
	if rc, out, _ := runCLI(t, "status", "--state-dir", stateDir); rc != 0 || !strings.Contains(out, "XenStore stopped") {
		t.Errorf("status of a stopped agent: rc %d:\n%s", rc, out)
	}

	// A restarted agent (here without XenStore) still lists them.
	a2 := startAgent(t, filepath.Join(t.TempDir(), "none"), "--root", root, "--mode", "seed", "--metrics-interval", "0", "--state-dir", stateDir)
	waitUntil = time.Now().Add(5 * time.Second)
	for ag, _ = readAgentState(stateDir); ag.XenStore != "waiting" && time.Now().Before(waitUntil); ag, _ = readAgentState(stateDir) {
		time.Sleep(20 * time.Millisecond)
	}
	a2.stop()
	if ag.XenStore != "waiting" || len(ag.LastRequests) != 6 || ag.LastRequests[0].Command != "features" {
		t.Errorf("restarted agent: XenStore %q, requests %+v", ag.XenStore, ag.LastRequests)
	}
}

// writeAgentJSON writes an agent.json as the agent would.
func writeAgentJSON(t *testing.T, dir string, st agentState) {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, agentStateFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 12: leases are shown with their expiry; a lease past it means the
// agent failed to renew it: a warning, and status is degraded (exit 2). An
// agent whose record says it runs but whose pid is gone is degraded too.
// XenStore "waiting" is not (a KVM guest never has XenStore).
func TestStatusLeasesAndAgentHealth(t *testing.T) {
	now := time.Now().UTC()
	fresh := provision.LeaseInfo{Interface: "eth0", Family: "DHCPv4", Addresses: []netip.Prefix{netip.MustParsePrefix("198.18.0.10/24")},
		Obtained: now.Add(-time.Hour), Renewed: now.Add(-5 * time.Minute), Expires: now.Add(55 * time.Minute)}
	stale := provision.LeaseInfo{Interface: "eth1", Family: "DHCPv6", Addresses: []netip.Prefix{netip.MustParsePrefix("2001:db8::10/128")},
		Obtained: now.Add(-3 * time.Hour), Renewed: now.Add(-2 * time.Hour), Expires: now.Add(-10 * time.Minute)}
	base := agentState{PID: os.Getpid(), Started: now.Add(-3 * time.Hour), Mode: "apply", XenStore: "waiting", Since: now.Add(-3 * time.Hour), Written: now}

	t.Run("healthy while waiting for XenStore", func(t *testing.T) {
		dir := t.TempDir()
		st := base
		st.Leases = []provision.LeaseInfo{fresh}
		writeAgentJSON(t, dir, st)
		rc, out, _ := runCLI(t, "status", "--state-dir", dir)
		if rc != 0 || !strings.Contains(out, "XenStore waiting") ||
			!strings.Contains(out, "agent: lease eth0 DHCPv4 198.18.0.10/24 expires "+fresh.Expires.Format(time.RFC3339)+" (in 5") ||
			strings.Contains(out, "warning") {
			t.Errorf("rc %d, want 0 and the lease with its expiry:\n%s", rc, out)
		}
	})
	t.Run("expired lease is degraded", func(t *testing.T) {
		dir := t.TempDir()
		st := base
		st.XenStore = "connected"
		st.Leases = []provision.LeaseInfo{fresh, stale}
		writeAgentJSON(t, dir, st)
		rc, out, _ := runCLI(t, "status", "--state-dir", dir)
		if rc != statusDegraded || !strings.Contains(out, "agent: lease eth1 DHCPv6 2001:db8::10/128 expires "+stale.Expires.Format(time.RFC3339)+" (EXPIRED 10m") ||
			!strings.Contains(out, "warning: agent: the DHCPv6 lease of eth1 expired at ") {
			t.Errorf("rc %d, want 2 and a warning for eth1:\n%s", rc, out)
		}
		rc, js, raw := runStatusJSON(t, dir)
		if rc != statusDegraded || js.Health != "degraded" || js.Agent == nil || len(js.Agent.Leases) != 2 ||
			len(js.Agent.Warnings) != 1 || !strings.Contains(js.Agent.Warnings[0], "eth1") {
			t.Errorf("--json rc %d:\n%s", rc, raw)
		}
	})
	t.Run("dead agent is degraded", func(t *testing.T) {
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Skip("no true(1):", err)
		}
		dir := t.TempDir()
		st := base
		st.PID = cmd.Process.Pid // exited and reaped
		writeAgentJSON(t, dir, st)
		rc, out, _ := runCLI(t, "status", "--state-dir", dir)
		if rc != statusDegraded || !strings.Contains(out, "is not running") {
			t.Errorf("rc %d, want 2 and a warning:\n%s", rc, out)
		}
		st.XenStore = "stopped" // a clean stop is no warning
		writeAgentJSON(t, dir, st)
		if rc, out, _ := runCLI(t, "status", "--state-dir", dir); rc != 0 {
			t.Errorf("stopped agent: rc %d:\n%s", rc, out)
		}
	})
}

// A flood of requests costs one write of agent.json per debounce interval,
// not one per request, and the last state is written at stop; the ring
// keeps the newest 20, a re-reported id replaces its entry.
func TestAgentStateWriterDebounces(t *testing.T) {
	dir := t.TempDir()
	w := newAgentStateWriter(dir, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), agentState{PID: 1, XenStore: "waiting"})
	w.interval = 300 * time.Millisecond
	stop := w.start()
	start := time.Now()
	for i := range 1000 {
		w.requestDone(agent.RequestRecord{ID: "r" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + time.Duration(i).String(),
			Command: "version", Received: time.Now(), Code: "0"})
	}
	w.requestDone(agent.RequestRecord{ID: "last", Command: "password", Received: time.Now(), Code: "500", Message: "m", WriteError: "e"})
	w.requestDone(agent.RequestRecord{ID: "last", Command: "password", Received: time.Now(), Code: "500", Message: "m"})
	elapsed := time.Since(start)
	stop()
	w.mu.Lock()
	writes := w.writes
	w.mu.Unlock()
	if limit := 2 + int(elapsed/w.interval); writes > limit {
		t.Errorf("%d writes for 1002 requests in %v, want at most %d", writes, elapsed, limit)
	}
	st, ok := readAgentState(dir)
	if !ok || len(st.LastRequests) != maxLastRequests || st.LastRequests[0].ID != "last" || st.LastRequests[0].WriteError != "" ||
		st.LastRequests[1].ID == "last" {
		t.Fatalf("final record: %d requests, first %+v", len(st.LastRequests), st.LastRequests)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		55 * time.Minute:                 "55m",
		time.Hour + 5*time.Minute + 20e9: "1h5m",
		2 * time.Hour:                    "2h",
		12*time.Second + 30e6:            "12s",
		3456 * time.Microsecond:          "3.46ms",
		12*time.Millisecond + 300e3:      "12ms",
		10*time.Minute + 3*time.Second:   "10m3s",
		90 * time.Second:                 "1m30s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// A successful agentupdate is written at once: the agent re-executes the
// new binary right after it, before the debounced write would come.
func TestAgentStateWriterFlushesBeforeUpdate(t *testing.T) {
	dir := t.TempDir()
	w := newAgentStateWriter(dir, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), agentState{PID: 1, XenStore: "connected"})
	w.interval = time.Hour
	stop := w.start()
	defer stop()
	w.requestDone(agent.RequestRecord{ID: "v", Command: "version", Received: time.Now(), Code: "0"})
	w.requestDone(agent.RequestRecord{ID: "u", Command: "agentupdate", Received: time.Now(), Code: "0"})
	st, ok := readAgentState(dir)
	if !ok || len(st.LastRequests) != 2 || st.LastRequests[0].ID != "u" {
		t.Fatalf("agent.json right after agentupdate: %+v", st.LastRequests)
	}
}

// LeaseChanged only marks the leases dirty; the writer reads them (from
// the Machine) when it writes, so agent.json follows renewals and drops.
func TestAgentStateWriterFollowsLeases(t *testing.T) {
	dir := t.TempDir()
	w := newAgentStateWriter(dir, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), agentState{PID: 1, XenStore: "waiting"})
	w.interval = 10 * time.Millisecond
	var mu sync.Mutex
	held := []provision.LeaseInfo{{Interface: "eth0", Family: "DHCPv4", Addresses: []netip.Prefix{netip.MustParsePrefix("198.18.0.10/24")},
		Expires: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}}
	w.leases = func() []provision.LeaseInfo { mu.Lock(); defer mu.Unlock(); return held }
	stop := w.start()
	defer stop()
	wait := func(what string, cond func(agentState) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if st, ok := readAgentState(dir); ok && cond(st) {
				return
			}
			if time.Now().After(deadline) {
				st, _ := readAgentState(dir)
				t.Fatalf("agent.json never showed %s: %+v", what, st)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	w.leasesChanged()
	wait("the lease", func(st agentState) bool {
		return len(st.Leases) == 1 && st.Leases[0].Interface == "eth0" && st.Leases[0].Expires.Equal(held[0].Expires)
	})
	mu.Lock()
	renewed := held[0]
	renewed.Expires = renewed.Expires.Add(time.Hour)
	held = []provision.LeaseInfo{renewed}
	mu.Unlock()
	w.leasesChanged()
	wait("the renewal", func(st agentState) bool { return len(st.Leases) == 1 && st.Leases[0].Expires.Equal(renewed.Expires) })
	mu.Lock()
	held = nil
	mu.Unlock()
	w.leasesChanged()
	wait("no lease", func(st agentState) bool { return len(st.Leases) == 0 })
}
