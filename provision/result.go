package provision

import (
	"errors"
	"fmt"
)

// Parts are the steps of an apply, in the order they run (the same names as
// the settings' steps.*). Network goes first: everything after it may need
// it, and none of it depends on the others. hostname is /etc/hostname and
// the kernel's name; hosts is guestbridge's line in /etc/hosts.
var Parts = []string{"network", "hostname", "hosts", "dns", "keys", "password", "files"}

// Status is the outcome of a Provision, as an exit status.
type Status int

const (
	OK      Status = 0 // every step did what it was asked (warnings allowed)
	Failed  Status = 1 // every step that had work failed
	Partial Status = 3 // some steps failed, others applied
)

// Step is the result of one part.
type Step struct {
	Part     string
	Changes  []string // one line per change made (or, in a dry run, that would be made)
	Warnings []string // values skipped, each naming its field
	Err      error    // the step (or part of it) failed
	// Did is true when the step had something to do and did at least part
	// of it (for Status: a step that only failed does not count).
	Did bool
}

// Result is what a Provision did, step by step.
type Result struct {
	Mode  string // apply or seed
	Steps []Step
}

// Lines is every change line, in step order.
func (r Result) Lines() []string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, s.Changes...)
	}
	return out
}

// Err joins the errors of the failed steps, each prefixed by its part.
func (r Result) Err() error {
	var errs []error
	for _, s := range r.Steps {
		if s.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Part, s.Err))
		}
	}
	return errors.Join(errs...)
}

// Status is OK when no step failed, Failed when no step that failed was
// offset by one that succeeded, else Partial.
func (r Result) Status() Status {
	failed, ok := 0, 0
	for _, s := range r.Steps {
		switch {
		case s.Err != nil && s.Did:
			failed++
			ok++
		case s.Err != nil:
			failed++
		default:
			ok++
		}
	}
	switch {
	case failed == 0:
		return OK
	case ok == 0:
		return Failed
	}
	return Partial
}
