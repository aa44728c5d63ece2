package configdrive

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// dirFS is a config drive that is a directory tree (a copied
// /var/lib/cloud/seed/config_drive, a mounted medium). Only regular files
// and directories open: a FIFO would block the read until some writer
// appears (forever, in practice), and a device or socket where a document
// is expected is never what the cloud wrote, so both are refused with an
// error naming the file. The open itself is non-blocking, so a FIFO or
// device swapped in after the check is caught by the second check on the
// opened file without ever waiting on it.
type dirFS struct{ root *os.Root }

func (d dirFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	st, err := d.root.Stat(name)
	if err != nil {
		return nil, err
	}
	if err := refuseSpecial(name, st); err != nil {
		return nil, err
	}
	f, err := d.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	st, err = f.Stat()
	if err == nil {
		err = refuseSpecial(name, st)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ErrNotRegular is wrapped by the error for a FIFO, device or socket found
// where the config drive should hold a file or directory.
var ErrNotRegular = fmt.Errorf("not a regular file or directory")

func refuseSpecial(name string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() || m.IsDir() {
		return nil
	}
	kind := "special file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		kind = "named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		kind = "character device"
	case m&fs.ModeDevice != 0:
		kind = "block device"
	case m&fs.ModeSocket != 0:
		kind = "socket"
	}
	return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: a %s; refusing to read it", ErrNotRegular, kind)}
}
