package xenstore

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
)

var (
	// ErrPayloadTooBig means a path or value exceeds the payload limit
	// (MaxClientPayload). The client checks this before sending; a daemon's
	// E2BIG reply unwraps to it too.
	ErrPayloadTooBig = errors.New("xenstore: payload too big")
	// ErrAgain means a transaction conflicted with another writer (EAGAIN),
	// or was lost by a reconnect. Transaction retries it.
	ErrAgain = errors.New("xenstore: transaction conflict, try again")
	// ErrDisconnected means the connection broke while a request was in
	// flight. The client reconnects by itself; a later call may succeed.
	ErrDisconnected = errors.New("xenstore: connection lost")
	// ErrDirectoryPartUnsupported means a directory was too large for one
	// reply and the daemon does not implement XS_DIRECTORY_PART.
	ErrDirectoryPartUnsupported = errors.New("xenstore: XS_DIRECTORY_PART not supported")
	// ErrClosed means the Client was closed.
	ErrClosed = errors.New("xenstore: client closed")
)

// Error is an error reply from xenstored (or the guest kernel).
type Error struct {
	Op    string // e.g. "read"
	Path  string
	Errno string // as sent by the daemon, e.g. "ENOENT"
}

func (e *Error) Error() string {
	return fmt.Sprintf("xenstore: %s %s: %s", e.Op, e.Path, e.Errno)
}

// Unwrap lets errors.Is match the fs/package sentinels and the syscall.Errno.
func (e *Error) Unwrap() []error {
	var errs []error
	switch e.Errno {
	case "ENOENT":
		errs = append(errs, fs.ErrNotExist)
	case "EACCES", "EPERM":
		errs = append(errs, fs.ErrPermission)
	case "EEXIST":
		errs = append(errs, fs.ErrExist)
	case "EAGAIN":
		errs = append(errs, ErrAgain)
	case "E2BIG":
		errs = append(errs, ErrPayloadTooBig)
	}
	if n, ok := errnoByName[e.Errno]; ok {
		errs = append(errs, n)
	}
	return errs
}

// errnoByName is xsd_errors[] from xs_wire.h.
var errnoByName = map[string]syscall.Errno{
	"EINVAL": syscall.EINVAL, "EACCES": syscall.EACCES, "EEXIST": syscall.EEXIST,
	"EISDIR": syscall.EISDIR, "ENOENT": syscall.ENOENT, "ENOMEM": syscall.ENOMEM,
	"ENOSPC": syscall.ENOSPC, "EIO": syscall.EIO, "ENOTEMPTY": syscall.ENOTEMPTY,
	"ENOSYS": syscall.ENOSYS, "EROFS": syscall.EROFS, "EBUSY": syscall.EBUSY,
	"EAGAIN": syscall.EAGAIN, "EISCONN": syscall.EISCONN, "E2BIG": syscall.E2BIG,
	"EPERM": syscall.EPERM, "EQUOTA": syscall.EDQUOT,
}

// errorFromPayload builds the error for an ERROR reply ("ENOENT\0").
func errorFromPayload(op, path string, payload []byte) *Error {
	name := strings.TrimRight(string(payload), "\x00")
	if !plausibleErrno(name) {
		name = "EIO" // garbage from a broken peer; do not echo it into logs
	}
	return &Error{Op: op, Path: path, Errno: name}
}

func tooBig(op, path string, n int) error {
	return fmt.Errorf("xenstore: %s %s: request of %d bytes exceeds the %d-byte payload limit: %w",
		op, path, n, MaxClientPayload, ErrPayloadTooBig)
}

func plausibleErrno(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != 'E' {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
