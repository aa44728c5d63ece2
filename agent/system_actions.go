package agent

import (
	"context"
	"errors"

	"guestbridge/system"
)

// SystemActions performs the host's requests on a real (or mounted) root:
// the password of root goes to /etc/shadow, injected files are written
// atomically with a backup, and ResetNetwork is supplied by the caller.
type SystemActions struct {
	Root         system.Root
	ResetNetwork func(ctx context.Context) error
}

// Actions adapts s to the Actions interface (a Go type cannot have both a
// field and a method named ResetNetwork): New(store, sa.Actions(), opts).
func (s SystemActions) Actions() Actions { return systemActions{s.Root, s.ResetNetwork} }

type systemActions struct {
	root  system.Root
	reset func(ctx context.Context) error
}

func (s systemActions) SetPassword(password string) error {
	return s.root.SetPassword("root", password)
}

// InjectFile replaces the file: mode and owner of an existing file are
// kept, a new one is 0644 root:root, the old content is backed up.
func (s systemActions) InjectFile(path string, content []byte) error {
	_, err := s.root.WriteFile(path, content, system.WriteOptions{Mode: 0o644, Backup: true})
	return err
}

func (s systemActions) ResetNetwork(ctx context.Context) error {
	if s.reset == nil {
		return errors.New("network reset is not configured")
	}
	return s.reset(ctx)
}
