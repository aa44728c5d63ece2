package xenstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest"
)

// shortSocketPath is a fresh path for a socket that does not exist yet
// (t.TempDir may exceed the 107-byte unix socket limit).
func shortSocketPath(t *testing.T) string {
	dir, err := os.MkdirTemp("", "xsdial")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "socket")
}

// logRecorder collects log lines from the client.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logRecorder) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// An agent started before xenstored waits for it instead of exiting.
func TestWaitDialWaitsForDaemon(t *testing.T) {
	sock := shortSocketPath(t)
	var logs logRecorder
	type result struct {
		c   *xenstore.Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := xenstore.WaitDial(ctxT(t), sock, logs.logf)
		done <- result{c, err}
	}()
	time.Sleep(700 * time.Millisecond) // several retries happen meanwhile
	select {
	case r := <-done:
		t.Fatalf("WaitDial returned before the daemon existed: %v", r.err)
	default:
	}
	srv := xenstoretest.NewServerAt(t, sock)
	r := <-done
	if r.err != nil {
		t.Fatalf("WaitDial: %v", r.err)
	}
	defer r.c.Close()
	mustWrite(t, r.c, "/up", "yes")
	if v, _ := srv.Get("/up"); string(v) != "yes" {
		t.Fatalf("write through the waited-for client: %q", v)
	}
	lines := logs.all()
	waiting := 0
	for _, l := range lines {
		if l == "xenstore: not available yet at "+sock+": stat "+sock+": no such file or directory; retrying" {
			waiting++
		}
	}
	if waiting != 1 {
		t.Errorf("want exactly one 'not available yet' line for several failures, got %q", lines)
	}
	if !strings.Contains(lines[len(lines)-1], "connected to "+sock) {
		t.Errorf("last log line %q should report the connection", lines[len(lines)-1])
	}
}

func TestWaitDialGivesUpWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := xenstore.WaitDial(ctx, shortSocketPath(t), nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("WaitDial after the deadline = %v; want DeadlineExceeded with the last cause", err)
	}
}

func TestDialErrors(t *testing.T) {
	missing := shortSocketPath(t)
	if _, err := xenstore.Dial(ctxT(t), missing); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Dial(missing) = %v, want ErrNotExist naming the path", err)
	}
	dir := t.TempDir()
	if _, err := xenstore.Dial(ctxT(t), dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("Dial(directory) = %v", err)
	}
}

// Dial("") honours XENSTORED_PATH, as libxenstore and pyxs do.
func TestDialDefaultUsesXenstoredPath(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	srv.Set("/where", []byte("env"))
	t.Setenv("XENSTORED_PATH", srv.SocketPath())
	c, err := xenstore.Dial(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := mustRead(t, c, "/where"); got != "env" {
		t.Fatalf("read %q", got)
	}
}

// A stream file opened read-write takes the xenbus device path. A FIFO
// echoes every request back, which makes each request its own reply: a READ
// of p "returns" its own payload p\0, proving framing over the file transport.
func TestFileTransportFraming(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "xenbus")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := xenstore.Dial(ctxT(t), fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range []string{"/a", "data/host/1234", strings.Repeat("x", 3000)} {
		v, err := c.Read(ctxT(t), p)
		if err != nil || string(v) != p+"\x00" {
			t.Fatalf("echoed READ %.20s: %q, %v", p, v, err)
		}
	}
}

// The daemon goes away entirely and comes back later on the same path
// (a restart that takes a while): the client redials with backoff.
func TestReconnectAfterDaemonReturns(t *testing.T) {
	sock := shortSocketPath(t)
	srv := xenstoretest.NewServerAt(t, sock)
	c, err := xenstore.Dial(ctxT(t), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustWrite(t, c, "/a", "1")
	srv.Close()
	// While it is gone, a call waits for the reconnect until its context
	// ends, or fails at once if it was already in flight.
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.Read(short, "/a"); !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, xenstore.ErrDisconnected) {
		t.Fatalf("Read while the daemon is gone = %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	srv2 := xenstoretest.NewServerAt(t, sock)
	srv2.Set("/b", []byte("2"))
	if got := mustRead(t, c, "/b"); got != "2" {
		t.Fatalf("read after the daemon came back: %q", got)
	}
}

func TestCallsAfterClose(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	c, err := xenstore.Dial(ctxT(t), srv.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := c.Read(ctxT(t), "/x"); !errors.Is(err, xenstore.ErrClosed) {
		t.Fatalf("Read after Close = %v", err)
	}
	if _, err := c.Watch(ctxT(t), "/x"); !errors.Is(err, xenstore.ErrClosed) {
		t.Fatalf("Watch after Close = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// A request in flight when the connection breaks fails at once with a clear
// error instead of hanging.
func TestPendingCallFailsOnBreak(t *testing.T) {
	sock := shortSocketPath(t)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		xenstore.ReadPacket(nc) // take the request, never answer it
		nc.Close()
	}()
	c, err := xenstore.Dial(ctxT(t), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Read(ctxT(t), "/pending")
	if !errors.Is(err, xenstore.ErrDisconnected) {
		t.Fatalf("Read = %v, want ErrDisconnected", err)
	}
	if want := "xenstore: read /pending: connection to " + sock + " lost"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start with %q", err, want)
	}
}

// A daemon that stops reading must not hang callers: once the socket
// buffer is full, writes give up with the caller's context.
func TestBlockedWriteRespectsContext(t *testing.T) {
	sock := shortSocketPath(t)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			accepted <- nc // held open, never read
		}
	}()
	c, err := xenstore.Dial(ctxT(t), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer func() { (<-accepted).Close() }()
	value := make([]byte, 4000)
	var wg sync.WaitGroup
	for i := range 200 { // 800 KB: more than a unix socket buffers
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			err := c.Write(ctx, fmt.Sprintf("/k%d", i), value[:4000-8])
			if err == nil {
				t.Errorf("Write %d succeeded without a daemon reading", i)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second): // a hang detector, not a speed goal
		t.Fatal("callers still blocked 20 s after their 300 ms contexts ended")
	}
}
