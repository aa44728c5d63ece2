package apply

import (
	"errors"
	"fmt"
)

// errInjected is the failure the failAfter test hook produces.
var errInjected = errors.New("injected failure")

// run executes changes one at a time, recording each one's undo so a
// failure can put the kernel back exactly as this run found it.
type run struct {
	ops     netOps
	o       Options
	report  Report
	undo    []func() error // in the order the changes were made
	applied int
}

// do records change c and, unless this is a dry run, performs act. On
// success undo is journaled; on failure the error names the step.
func (r *run) do(c Change, act, undo func() error) error {
	r.report.Changes = append(r.report.Changes, c)
	if r.o.DryRun {
		return nil
	}
	if r.o.failAfter > 0 && r.applied >= r.o.failAfter {
		r.report.Changes = r.report.Changes[:len(r.report.Changes)-1]
		return fmt.Errorf("%s: %w", c, errInjected)
	}
	if err := act(); err != nil {
		r.report.Changes = r.report.Changes[:len(r.report.Changes)-1] // not made
		return fmt.Errorf("%s: %w", c, err)
	}
	r.applied++
	if undo != nil {
		r.undo = append(r.undo, undo)
	}
	r.logf("%s", c)
	return nil
}

func (r *run) warn(format string, a ...any) {
	w := fmt.Sprintf(format, a...)
	r.report.Warnings = append(r.report.Warnings, w)
	r.logf("warning: %s", w)
}

func (r *run) logf(format string, a ...any) {
	if r.o.Logf != nil {
		r.o.Logf(format, a...)
	}
}

// rollback undoes every change of this run, newest first. Undo failures are
// joined to cause so nothing is hidden.
func (r *run) rollback(cause error) error {
	errs := []error{cause}
	for i := len(r.undo) - 1; i >= 0; i-- {
		if err := r.undo[i](); err != nil {
			errs = append(errs, fmt.Errorf("rollback: %w", err))
		}
	}
	r.undo = nil
	return errors.Join(errs...)
}
