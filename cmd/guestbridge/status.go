package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode"

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
	asJSON := fs.Bool("json", false, "print the records (last run, agent) as JSON")
	long := fs.Bool("long", false, "also list every step with its changes, warnings and errors, and all the agent's last requests with their ids")
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
	var agWarnings []string
	if agOK {
		agWarnings = agentWarnings(ag, time.Now())
		if len(agWarnings) > 0 && code == statusHealthy {
			code = statusDegraded
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		type agentStatus struct {
			agentState
			Warnings []string `json:"warnings,omitempty"`
		}
		var agp *agentStatus
		if agOK {
			agp = &agentStatus{ag, agWarnings}
		}
		if err := enc.Encode(struct {
			provision.Record
			Agent  *agentStatus `json:"agent,omitempty"`
			Health string       `json:"health"` // healthy, degraded, failed: the exit status
		}{rec, agp, healthName(code)}); err != nil {
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
			printAgentState(stdout, ag, agWarnings, *long, time.Now())
		}
	}
	if code != statusHealthy {
		return exitStatus{code: code}
	}
	return nil
}

func healthName(code int) string {
	switch code {
	case statusFailed:
		return "failed"
	case statusDegraded:
		return "degraded"
	}
	return "healthy"
}

// shortRequests is how many of the agent's last requests status shows
// without --long.
const shortRequests = 5

// printAgentState prints the agent's part of `guestbridge status`.
func printAgentState(w io.Writer, ag agentState, warnings []string, long bool, now time.Time) {
	fmt.Fprintf(w, "agent: pid %d, mode %s, started %s, XenStore %s since %s", ag.PID, ag.Mode,
		ag.Started.Format(time.RFC3339), ag.XenStore, ag.Since.Format(time.RFC3339))
	switch {
	case ag.XenStore == "reconnecting":
		fmt.Fprintf(w, " (%s), %s", causeText(ag.LostCause), plural(ag.Reconnects, "reconnect"))
	case ag.Reconnects > 0:
		fmt.Fprintf(w, ", %s (last lost %s: %s)", plural(ag.Reconnects, "reconnect"),
			ag.LostAt.Format(time.RFC3339), causeText(ag.LostCause))
	}
	fmt.Fprintln(w)
	if len(ag.Refused) > 0 {
		fmt.Fprintf(w, "agent: refuses %v (settings)\n", ag.Refused)
	}
	for _, l := range ag.Leases {
		fmt.Fprintf(w, "agent: lease %s %s", l.Interface, l.Family)
		for _, a := range l.Addresses {
			fmt.Fprintf(w, " %s", a)
		}
		when := "in " + humanDuration(l.Expires.Sub(now))
		if !now.Before(l.Expires) {
			when = "EXPIRED " + humanDuration(now.Sub(l.Expires)) + " ago"
		}
		fmt.Fprintf(w, " expires %s (%s), renewed %s\n", l.Expires.UTC().Format(time.RFC3339), when, l.Renewed.UTC().Format(time.RFC3339))
	}
	if n := len(ag.LastRequests); n > 0 {
		shown := ag.LastRequests
		if !long && n > shortRequests {
			shown = shown[:shortRequests]
		}
		if len(shown) < n {
			fmt.Fprintf(w, "agent: last requests (newest first, %d of %d; --long for all):\n", len(shown), n)
		} else {
			fmt.Fprintf(w, "agent: last requests (newest first):\n")
		}
		for _, r := range shown {
			d := humanDuration(time.Duration(r.DurationMS * float64(time.Millisecond)))
			fmt.Fprintf(w, "  %s  %s  %s  %s", r.Received.UTC().Format(time.RFC3339), printable(r.Command), printable(r.Code), d)
			if r.Message != "" {
				fmt.Fprintf(w, "  %q", r.Message)
			}
			if r.WriteError != "" {
				fmt.Fprintf(w, "  (reply not written: %s)", r.WriteError)
			}
			if long {
				fmt.Fprintf(w, "  id %s", r.ID)
			}
			fmt.Fprintln(w)
		}
	}
	for _, wn := range warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
}

// plural is "1 reconnect", "3 reconnects".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// printable returns s, quoted when it holds anything but printable
// characters without spaces (the host chooses command names).
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == ' ' {
			return strconv.Quote(s)
		}
	}
	return s
}
