package agent

import (
	"context"
	"errors"

	"guestbridge/system"
)

// SystemActions performs the host's requests on a real (or mounted) root:
// root's password goes to /etc/shadow, injected files are written with the
// system package's injectfile rules, and Reset is supplied by the caller.
type SystemActions struct {
	Root  system.Root
	Reset func(ctx context.Context) error // re-read vm-data and re-apply; nil = not configured
}

func (s SystemActions) SetPassword(password string) error {
	return s.Root.SetPassword("root", password)
}

// InjectFile never follows a symlink at the final path (a guest user could
// otherwise aim one at /etc/shadow); mode and owner of an existing file are
// kept, a new one is 0644 root:root, the old content is backed up.
func (s SystemActions) InjectFile(path string, content []byte) error {
	_, err := s.Root.InjectFile(path, content)
	return err
}

func (s SystemActions) ResetNetwork(ctx context.Context) error {
	if s.Reset == nil {
		return errors.New("network reset is not configured")
	}
	return s.Reset(ctx)
}

// SweepTemp removes temporary files an interrupted write left in the
// directories the agent writes to (see system.Root.SweepTemp); Run calls
// it once at start.
func (s SystemActions) SweepTemp(logf func(string, ...any)) {
	removed, err := s.Root.SweepTemp()
	for _, p := range removed {
		logf("agent: removed %s, left by an interrupted write", p)
	}
	if err != nil {
		logf("agent: sweeping temporary files: %v", err)
	}
}
