package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

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
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rec); err != nil {
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
	}
	if code != statusHealthy {
		return exitStatus{code: code}
	}
	return nil
}
