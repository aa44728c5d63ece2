package configdrive

import (
	"context"
	"errors"
	"fmt"

	"guestbridge/datasource"
)

// Source reads an OpenStack config drive. With Path empty it finds one by
// label (and in the seed directories) and uses the first candidate that
// reads cleanly.
type Source struct {
	Path       string            // directory, image file or block device; "" to search
	KnownNames map[string]string // lower-case MAC → current interface name
	// Find is used when Path is empty; zero means the real system.
	Find FindOptions
}

var _ datasource.Source = (*Source)(nil)

// Name is "configdrive:<path>", or "configdrive" when the drive is found by
// label.
func (s *Source) Name() string {
	if s.Path == "" {
		return "configdrive"
	}
	return "configdrive:" + s.Path
}

func (s *Source) Read(ctx context.Context) (*datasource.Instance, error) {
	candidates := []string{s.Path}
	if s.Path == "" {
		found, err := Find(s.Find)
		if err != nil {
			return nil, err
		}
		candidates = found
	}
	var errs []error
	for _, path := range candidates {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		inst, err := s.readOne(path)
		if err == nil {
			inst.Source = s.Name()
			return inst, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func (s *Source) readOne(path string) (*datasource.Instance, error) {
	fsys, closer, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	inst, err := Read(fsys, ReadOptions{KnownNames: s.KnownNames})
	if err != nil {
		return nil, fmt.Errorf("config drive %s: %w", path, err)
	}
	return inst, nil
}
