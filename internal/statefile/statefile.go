// Package statefile writes guestbridge's own state files (under
// /run/guestbridge): atomically, so a crash leaves the old or the new
// record, never half of one.
package statefile

import (
	"os"
	"path/filepath"
)

// Write replaces dir/name with data (temp file in dir, then rename),
// creating dir (0755) if needed. The file is 0600: state may describe the
// machine in ways other users need not see.
func Write(dir, name string, data []byte) error {
	return WriteMode(dir, name, data, 0o600)
}

// WriteMode is Write with the given permission bits, set before the file
// takes its name, for records readers without root may read.
func WriteMode(dir, name string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}
