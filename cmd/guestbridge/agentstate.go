package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"guestbridge/agent"
	"guestbridge/internal/statefile"
	"guestbridge/provision"
	"guestbridge/xenstore"
)

// agentStateFile is the agent's own small record beside status.json. It is
// 0644 and secret-free: request ids, command names, return codes, failure
// messages, lease addresses and times, never a request's value.
const agentStateFile = "agent.json"

// agentState is what `guestbridge status` shows about the agent.
type agentState struct {
	PID      int       `json:"pid"`
	Started  time.Time `json:"started"`
	Mode     string    `json:"mode"`
	XenStore string    `json:"xenstore"` // waiting, connected, reconnecting, stopped
	Since    time.Time `json:"since"`    // when XenStore took that state
	// Reconnects counts the times the agent lost its XenStore connection
	// (xenstored restarted, the guest was migrated or restored) and began
	// reconnecting; LostAt and LostCause are about the last of them, and
	// stay once it is connected again.
	Reconnects int       `json:"reconnects,omitempty"`
	LostAt     time.Time `json:"lost_at,omitzero"`
	LostCause  string    `json:"lost_cause,omitempty"`
	Refused    []string  `json:"refused_commands,omitempty"`
	Heartbeat  string    `json:"heartbeat_interval,omitempty"`
	// LastRequests are the last maxLastRequests answered requests, newest
	// first.
	LastRequests []requestState `json:"last_requests,omitempty"`
	// Leases are the DHCP leases the agent keeps, with their expiry.
	Leases []provision.LeaseInfo `json:"leases,omitempty"`
	// Written is when the agent last wrote this record.
	Written time.Time `json:"written"`
}

// requestState is one answered request in agent.json.
type requestState struct {
	ID         string    `json:"id"`
	Command    string    `json:"command"`
	Received   time.Time `json:"received"`
	DurationMS float64   `json:"duration_ms"`
	Code       string    `json:"returncode"`
	Message    string    `json:"message,omitempty"`     // failures only
	WriteError string    `json:"write_error,omitempty"` // the reply could not be written (retried)
}

// maxLastRequests is the length of agentState.LastRequests.
const maxLastRequests = 20

// agentStateDebounce is the least time between two writes of agent.json:
// a flood of requests costs one write a second, not one per request.
const agentStateDebounce = time.Second

// agentStateWriter owns the agent's agentState: every change goes through
// update (under mu), and one goroutine (run) writes the record at most once
// per interval while it is dirty, plus a last time when stopped.
type agentStateWriter struct {
	dir      string
	log      *slog.Logger
	interval time.Duration
	leases   func() []provision.LeaseInfo // nil: none kept

	writeMu sync.Mutex // one write at a time (run, or flush before a re-exec)

	mu          sync.Mutex
	st          agentState
	dirty       bool
	leasesDirty bool

	writes int // records written (tests)

	kick chan struct{} // capacity 1: "something changed"
	stop chan struct{}
	done chan struct{}
}

// newAgentStateWriter returns the writer of st; start writes it at once.
func newAgentStateWriter(dir string, log *slog.Logger, st agentState) *agentStateWriter {
	w := &agentStateWriter{dir: dir, log: log, interval: agentStateDebounce, st: st, dirty: true,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	w.kick <- struct{}{}
	return w
}

// update changes the state under the lock and wakes the writer. It never
// blocks for longer than fn takes.
func (w *agentStateWriter) update(fn func(*agentState)) {
	w.mu.Lock()
	fn(&w.st)
	w.dirty = true
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// setXenStore records XenStore's state (waiting, connected, stopped).
func (w *agentStateWriter) setXenStore(state string) {
	w.update(func(st *agentState) {
		if st.XenStore != state || st.Since.IsZero() {
			st.XenStore, st.Since = state, time.Now().UTC()
		}
	})
}

// xenStoreState is the XenStore client's state function
// (xenstore.Client.SetStateFunc): the client reports, the writer records.
// Once the agent has stopped, a late report changes nothing.
func (w *agentStateWriter) xenStoreState(cs xenstore.ConnState) {
	state := "connected"
	if !cs.Connected {
		state = "reconnecting"
	}
	w.update(func(st *agentState) {
		if st.XenStore == "stopped" {
			return
		}
		if st.XenStore != state || st.Reconnects != cs.Reconnects || st.Since.IsZero() {
			st.XenStore, st.Since = state, cs.Since.UTC()
		}
		st.Reconnects = cs.Reconnects
		if !cs.Connected {
			st.LostAt = cs.Since.UTC()
		}
		if cs.Cause != nil {
			st.LostCause = cs.Cause.Error()
		}
	})
}

// requestDone is agent.Options.Done: the newest request goes first; a
// request reported again (its reply's write failed, then worked) replaces
// its earlier entry.
func (w *agentStateWriter) requestDone(rec agent.RequestRecord) {
	r := requestState{ID: rec.ID, Command: rec.Command, Received: rec.Received.UTC(),
		DurationMS: float64(rec.Duration.Microseconds()) / 1000, Code: rec.Code, Message: rec.Message, WriteError: rec.WriteError}
	w.update(func(st *agentState) {
		list := make([]requestState, 0, maxLastRequests)
		list = append(list, r)
		for _, old := range st.LastRequests {
			if old.ID != r.ID && len(list) < maxLastRequests {
				list = append(list, old)
			}
		}
		st.LastRequests = list
	})
	if rec.Command == "agentupdate" && rec.Code == "0" && rec.WriteError == "" {
		// The agent re-executes the new binary right after this: write
		// now, or the request would be lost with the debounce.
		w.write()
	}
}

// leasesChanged is provision.Options.LeaseChanged: the leases are read by
// the writer when it next writes, not here (this runs on a lease keeper).
func (w *agentStateWriter) leasesChanged() {
	w.update(func(*agentState) { w.leasesDirty = true })
}

// run writes the record until stopped, then writes it a last time.
func (w *agentStateWriter) run() {
	defer close(w.done)
	var last time.Time
	for {
		select {
		case <-w.stop:
			w.write()
			return
		case <-w.kick:
		}
		if wait := w.interval - time.Since(last); wait > 0 && !last.IsZero() {
			t := time.NewTimer(wait)
			select {
			case <-w.stop:
				t.Stop()
				w.write()
				return
			case <-t.C:
			}
		}
		w.write()
		last = time.Now()
	}
}

// start runs the writer; the returned function stops it after the final
// write (call it once).
func (w *agentStateWriter) start() (stop func()) {
	go w.run()
	return func() {
		close(w.stop)
		<-w.done
	}
}

// write writes the record if it changed since the last write.
func (w *agentStateWriter) write() {
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	w.mu.Lock()
	if !w.dirty {
		w.mu.Unlock()
		return
	}
	readLeases := w.leasesDirty && w.leases != nil
	w.dirty, w.leasesDirty = false, false
	w.mu.Unlock()
	var leases []provision.LeaseInfo
	if readLeases {
		leases = w.leases() // outside mu: it takes the machine's lease lock
	}
	w.mu.Lock()
	if readLeases {
		w.st.Leases = leases
	}
	w.st.Written = time.Now().UTC()
	w.writes++
	b, err := json.MarshalIndent(w.st, "", "  ")
	w.mu.Unlock()
	if err == nil {
		err = statefile.WriteMode(w.dir, agentStateFile, append(b, '\n'), 0o644)
	}
	if err != nil {
		w.log.Warn(fmt.Sprintf("agent state record: %v", err))
	}
}

func readAgentState(dir string) (agentState, bool) {
	var st agentState
	b, err := os.ReadFile(filepath.Join(dir, agentStateFile))
	if err != nil || json.Unmarshal(b, &st) != nil {
		return st, false
	}
	return st, true
}

// xenStoreReconnectGrace is how long the agent may be reconnecting to
// XenStore before status calls it degraded. The client redials at least
// every 5 s, so a xenstored restart or the resume after a live migration or
// an xl save/restore reconnects within seconds: a blip, not a fault. Longer,
// the host cannot reach the agent (resetnetwork, password, ... time out).
const xenStoreReconnectGrace = 30 * time.Second

// agentWarnings are what makes the agent's state degraded: a lease past
// its expiry (the agent failed to renew it), an agent the record says runs
// that does not, and XenStore lost for longer than
// xenStoreReconnectGrace. XenStore still "waiting" is not one: a KVM guest
// never has XenStore.
func agentWarnings(st agentState, now time.Time) []string {
	var out []string
	if st.XenStore == "reconnecting" && now.Sub(st.Since) >= xenStoreReconnectGrace {
		out = append(out, fmt.Sprintf("agent: XenStore connection lost at %s (%s ago, %s) and not back: the host cannot reach the agent",
			st.Since.UTC().Format(time.RFC3339), humanDuration(now.Sub(st.Since)), causeText(st.LostCause)))
	}
	if st.XenStore != "stopped" && st.PID > 0 && !processAlive(st.PID) {
		written := ""
		if !st.Written.IsZero() {
			written = " (written " + st.Written.UTC().Format(time.RFC3339) + ")"
		}
		out = append(out, fmt.Sprintf("agent: pid %d is not running, but its record%s says it is: it did not stop cleanly",
			st.PID, written))
	}
	for _, l := range st.Leases {
		if !l.Expires.IsZero() && !now.Before(l.Expires) {
			out = append(out, fmt.Sprintf("agent: the %s lease of %s expired at %s (%s ago): it was not renewed",
				l.Family, l.Interface, l.Expires.UTC().Format(time.RFC3339), humanDuration(now.Sub(l.Expires))))
		}
	}
	return out
}

// causeText is a lost connection's cause for people.
func causeText(cause string) string {
	if cause == "" {
		return "cause unknown"
	}
	return cause
}

// processAlive reports whether pid exists (EPERM: it does, as someone else's).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// humanDuration shortens d for people: 55m, 1h5m, 12s, 3.46ms.
func humanDuration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		d = d.Round(time.Minute)
	case d >= time.Minute:
		d = d.Round(time.Second)
	case d >= time.Second:
		d = d.Round(100 * time.Millisecond)
	case d >= 10*time.Millisecond:
		d = d.Round(time.Millisecond)
	default:
		d = d.Round(10 * time.Microsecond)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
