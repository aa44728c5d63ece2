package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"guestbridge/internal/statefile"

	"guestbridge/provision"
	"guestbridge/settings"
)

// skippedParts names, for each part that will not run, the reason.
func skippedParts(set *settings.Settings, parts map[string]bool) map[string]string {
	out := map[string]string{}
	for _, p := range provision.Parts {
		switch {
		case !set.StepEnabled(p):
			out[p] = fmt.Sprintf("steps.%s = false (%s)", p, set.Get("steps."+p).Origin)
		case parts != nil && !parts[p]:
			out[p] = "not in --only"
		}
	}
	return out
}

// record writes the status record; failing to is a warning, never a
// failure of the run it describes.
func record(ctx context.Context, stateDir string, rec provision.Record) {
	if err := provision.WriteRecord(stateDir, rec); err != nil {
		logger(ctx).Warn(fmt.Sprintf("status record: %v", err))
	}
}

// Exit statuses of `guestbridge status`, as cloud-init status has them.
const (
	statusHealthy  = 0
	statusFailed   = 1
	statusDegraded = 2
)

func runStatus(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("status")
	stateDir := stateDirFlag(fs)
	asJSON := fs.Bool("json", false, "print the record as JSON")
	long := fs.Bool("long", false, "also list every step with its changes, warnings and errors")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	rec, ok, err := provision.ReadRecord(*stateDir)
	if err != nil {
		return exitStatus{code: statusFailed, err: fmt.Errorf("status record: %w", err)}
	}
	code := statusHealthy
	switch {
	case !ok:
		rec.Status = "not-run"
	case rec.Status == "failed":
		code = statusFailed
	case rec.Status == "partial" || len(rec.Warnings) > 0:
		code = statusDegraded
	}
	for _, s := range rec.Steps {
		if code == statusHealthy && len(s.Warnings) > 0 {
			code = statusDegraded
		}
	}
	ag, agOK := readAgentState(*stateDir)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		var agp *agentState
		if agOK {
			agp = &ag
		}
		if err := enc.Encode(struct {
			provision.Record
			Agent *agentState `json:"agent,omitempty"`
		}{rec, agp}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "status: %s\n", rec.Status)
		if ok {
			fmt.Fprintf(stdout, "last run: %s at %s", rec.Command, rec.Time.Format("2006-01-02T15:04:05Z"))
			if rec.Source != "" {
				fmt.Fprintf(stdout, ", source %s", rec.Source)
			}
			if rec.Mode != "" {
				fmt.Fprintf(stdout, ", mode %s", rec.Mode)
			}
			fmt.Fprintln(stdout)
			if rec.ModeReason != "" {
				fmt.Fprintf(stdout, "mode reason: %s\n", rec.ModeReason)
			}
		}
		for _, s := range rec.Steps {
			switch {
			case s.Result == "failed":
				fmt.Fprintf(stdout, "%s: failed: %s\n", s.Part, s.Error)
			case s.Result == "skipped":
				fmt.Fprintf(stdout, "%s: skipped: %s\n", s.Part, s.Reason)
			case *long:
				fmt.Fprintf(stdout, "%s: %s\n", s.Part, s.Result)
			}
			if *long {
				for _, c := range s.Changes {
					fmt.Fprintf(stdout, "  %s\n", c)
				}
			}
			for _, w := range s.Warnings {
				fmt.Fprintf(stdout, "  warning: %s\n", w)
			}
		}
		for _, w := range rec.Warnings {
			fmt.Fprintf(stdout, "warning: %s\n", w)
		}
		if agOK {
			fmt.Fprintf(stdout, "agent: pid %d, mode %s, started %s, XenStore %s since %s\n", ag.PID, ag.Mode,
				ag.Started.Format(time.RFC3339), ag.XenStore, ag.Since.Format(time.RFC3339))
			if len(ag.Refused) > 0 {
				fmt.Fprintf(stdout, "agent: refuses %v (settings)\n", ag.Refused)
			}
		}
	}
	if code != statusHealthy {
		return exitStatus{code: code}
	}
	return nil
}

// agentStateFile is the agent's own small record beside status.json.
const agentStateFile = "agent.json"

// agentState is what `guestbridge status` shows about the agent.
type agentState struct {
	PID       int       `json:"pid"`
	Started   time.Time `json:"started"`
	Mode      string    `json:"mode"`
	XenStore  string    `json:"xenstore"` // waiting, connected, stopped
	Since     time.Time `json:"since"`
	Refused   []string  `json:"refused_commands,omitempty"`
	Heartbeat string    `json:"heartbeat_interval,omitempty"`
}

func writeAgentState(ctx context.Context, dir string, st agentState) {
	st.Since = time.Now().UTC()
	b, err := json.MarshalIndent(st, "", "  ")
	if err == nil {
		err = statefile.WriteMode(dir, agentStateFile, append(b, '\n'), 0o644)
	}
	if err != nil {
		logger(ctx).Warn(fmt.Sprintf("agent state record: %v", err))
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
