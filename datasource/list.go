package datasource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// ErrNoSource means no source of the list was present.
var ErrNoSource = errors.New("no source found")

// Probe finds where one kind of source is present on this machine (a
// config drive by label, a XenStore that answers) and returns a Source for
// each place, best first; none present is an empty list, not an error.
type Probe struct {
	Kind string // "configdrive", "xenstore"
	Find func(ctx context.Context) ([]Source, error)
}

// Present runs every probe in order and lists what they found. A probe
// that fails is logged and skipped: the others still run.
func Present(ctx context.Context, probes []Probe, log *slog.Logger) []Source {
	var out []Source
	for _, p := range probes {
		found, err := p.Find(ctx)
		if err != nil {
			log.Warn("probing for a source failed", "kind", p.Kind, "err", err)
			continue
		}
		out = append(out, found...)
	}
	return out
}

// ReadFirst is --source auto: it tries every source the probes find, in
// order, and returns the first Instance read cleanly. A source that is
// present but fails to read (a damaged config drive) is logged and the next
// one is tried (e.g. XenStore). Nothing present is ErrNoSource; everything
// present failing is the joined errors.
func ReadFirst(ctx context.Context, probes []Probe, log *slog.Logger) (*Instance, error) {
	srcs := Present(ctx, probes, log)
	if len(srcs) == 0 {
		return nil, ErrNoSource
	}
	var errs []error
	for _, s := range srcs {
		inst, err := s.Read(ctx)
		if err == nil {
			if inst.Source == "" {
				inst.Source = s.Name()
			}
			return inst, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		log.Warn("source failed to read; trying the next one", "source", s.Name(), "err", err)
		errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
	}
	return nil, errors.Join(errs...)
}
