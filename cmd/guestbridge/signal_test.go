package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"guestbridge/xenstore/xenstoretest"
)

// lockedBuffer is a bytes.Buffer safe for the signal goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The first SIGTERM/SIGINT cancels the command; a command still busy after
// the grace period (blocked in the kernel) is exited with 128+signal, and a
// second signal exits at once.
func TestHandleSignals(t *testing.T) {
	for _, c := range []struct {
		name   string
		sigs   []syscall.Signal
		finish bool // the command returns right after the cancel
		code   int  // expected exit code; 0 = no forced exit
		within time.Duration
	}{
		{"SIGTERM, command stuck", []syscall.Signal{syscall.SIGTERM}, false, 143, 2 * time.Second},
		{"SIGINT twice", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, false, 130, 500 * time.Millisecond},
		{"SIGTERM, command ends", []syscall.Signal{syscall.SIGTERM}, true, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			exits := make(chan int, 1)
			var stderr lockedBuffer
			grace := 700 * time.Millisecond
			if c.code == 130 {
				grace = time.Hour // only the second signal can end it
			}
			stop := handleSignals(cancel, grace, &stderr, func(code int) { exits <- code })
			start := time.Now()
			for i, s := range c.sigs {
				if i > 0 {
					<-ctx.Done()
				}
				syscall.Kill(os.Getpid(), s)
			}
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
				t.Fatal("the signal did not cancel the command's context")
			}
			if c.finish {
				stop()
				select {
				case code := <-exits:
					t.Fatalf("exited with %d although the command returned", code)
				case <-time.After(time.Second):
				}
				return
			}
			defer stop()
			select {
			case code := <-exits:
				if code != c.code || time.Since(start) > c.within {
					t.Fatalf("exit(%d) after %v; want %d within %v", code, time.Since(start), c.code, c.within)
				}
				if !strings.Contains(stderr.String(), "exiting") {
					t.Fatalf("stderr %q does not say why it exits", stderr.String())
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no forced exit")
			}
		})
	}
}

// buildCLI builds the guestbridge binary once per test run.
var buildCLI = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gb-signal")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "guestbridge")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &exec.ExitError{Stderr: out}
	}
	return bin, nil
})

// The real binary: a command waiting (send, for a reply that never comes)
// ends promptly on SIGTERM and on SIGINT; a FIFO in a directory config
// drive is refused at once instead of blocking show.
func TestSignalsEndCommandsPromptly(t *testing.T) {
	bin, err := buildCLI()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	srv := xenstoretest.NewServer(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(bin, "send", "--xenstore", srv.SocketPath(), "--timeout", "10m", "version")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond) // it is waiting for the reply now
		start := time.Now()
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("send ended %v after %v; want promptly", took, sig)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("send ignored %v", sig)
		}
	}

	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "openstack/latest"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(dir, "openstack/latest/meta_data.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "show", "--source", "configdrive:"+dir)
	time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "meta_data.json") || !strings.Contains(string(out), "named pipe") {
		t.Fatalf("show of a drive with a FIFO: %v\n%s", err, out)
	}
}
