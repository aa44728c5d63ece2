package xenstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Default places to find xenstored, in the order libxenstore uses them:
// the daemon's socket in dom0, then the guest kernel's xenbus device.
const (
	DefaultSocketPath = "/var/run/xenstored/socket"
	XenbusDevicePath  = "/dev/xen/xenbus"
	XenbusProcPath    = "/proc/xen/xenbus"
)

// candidatePaths lists where Dial("") looks, honouring XENSTORED_PATH like
// libxenstore and pyxs so tests and dom0 tools can redirect it.
func candidatePaths() []string {
	var c []string
	if p := os.Getenv("XENSTORED_PATH"); p != "" {
		c = append(c, p)
	}
	return append(c, DefaultSocketPath, XenbusDevicePath, XenbusProcPath)
}

// openTransport connects to path: a unix socket through net.Dial, anything
// else (the xenbus char device or the /proc file) by opening it read-write.
// Either way the result is a byte stream carrying the same framing.
func openTransport(ctx context.Context, path string) (io.ReadWriteCloser, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSocket != 0 {
		return dialUnix(ctx, path)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a xenstored socket or xenbus device", path)
	}
	// The char device supports poll, so Go's poller drives it and Close
	// interrupts a pending read. The legacy /proc file looks regular and is
	// read by a blocking thread; a Close there waits for the next message.
	return os.OpenFile(path, os.O_RDWR, 0)
}

// dialUnix connects to a unix socket. Go connects without blocking, so a
// full listen backlog (xenstored accepts one connection per poll round)
// gives EAGAIN where libxenstore's blocking connect would wait; wait too.
func dialUnix(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	delay := time.Millisecond
	for {
		nc, err := d.DialContext(ctx, "unix", path)
		if !errors.Is(err, syscall.EAGAIN) {
			return nc, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(delay):
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// openAny tries path, or every candidate when path is "", and returns the
// first that opens together with its name. Errors name the path(s) tried.
func openAny(ctx context.Context, path string) (io.ReadWriteCloser, string, error) {
	if path != "" {
		rw, err := openTransport(ctx, path)
		if err != nil {
			return nil, path, err
		}
		return rw, path, nil
	}
	cands := candidatePaths()
	var firstErr error
	for _, p := range cands {
		rw, err := openTransport(ctx, p)
		if err == nil {
			return rw, p, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, "", fmt.Errorf("none of %v usable: %w", cands, firstErr)
}
