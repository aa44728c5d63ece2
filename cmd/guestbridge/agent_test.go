package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"guestbridge/xenstore/xenstoretest"
)

// syncBuffer lets the agent goroutine and the test share stderr output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAgentAndSend runs `guestbridge agent` against an in-memory XenStore and
// talks to it with `guestbridge send`, as an operator would from the host.
func TestAgentAndSend(t *testing.T) {
	xs := xenstoretest.NewServer(t)
	xs.Set("vm-data/networking/BC764E206C5B", mustRead(t, "../../datasource/vmdata/testdata/vmdata/rax-BC764E206C5B.json"))
	xs.Set("vm-data/hostname", []byte("rax-test"))
	xs.Set("vm", []byte("/vm/6d2b1c3a-6a7e-4f5e-9d0c-1b2a3c4d5e6f"))
	root := offlineImage(t)

	a := startAgent(t, xs.SocketPath(), "--root", root, "--mode", "seed", "--metrics-interval", "0", "--state-dir", t.TempDir())
	send, agentErr := a.send, a.log

	if r := send("version", "agent"); r["returncode"] != "0" || r["message"] != version {
		t.Errorf("version reply %v, want returncode 0 and %q", r, version)
	}
	features := strings.Split(send("features")["message"], ",")
	for _, want := range []string{"version", "keyinit", "password", "resetnetwork", "injectfile", "file_inject"} {
		if !contains(features, want) {
			t.Errorf("features %v lack %q", features, want)
		}
	}
	if r := send("resetnetwork"); r["returncode"] != "0" {
		t.Fatalf("resetnetwork reply %v\nagent: %s", r, agentErr.String())
	}
	nc, err := os.ReadFile(filepath.Join(root, "var/lib/cloud/seed/nocloud/network-config"))
	if err != nil || !strings.Contains(string(nc), "10.208.227.239/19") || !strings.Contains(string(nc), "bc:76:4e:20:6c:5b") {
		t.Errorf("resetnetwork did not seed the vm-data network: %v\n%s", err, nc)
	}
	if r := send("frobnicate"); r["returncode"] != "404" {
		t.Errorf("unknown command reply %v, want 404", r)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestAgentWaitsForXenStore: started before XenStore exists (seed 003: the
// old agent died with "Couldn't open connection to the xenstore"), the agent
// waits, connects once the daemon appears, and serves.
func TestAgentWaitsForXenStore(t *testing.T) {
	dir, err := os.MkdirTemp("", "gbxs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "socket")
	root := offlineImage(t)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stderr syncBuffer
	go func() {
		var out bytes.Buffer
		done <- run(ctx, []string{"agent", "--xenstore", sock, "--root", root, "--mode", "seed", "--metrics-interval", "0"}, &out, &stderr)
	}()
	defer func() {
		cancel()
		select {
		case rc := <-done:
			if rc != 0 {
				t.Errorf("agent exited %d: %s", rc, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("agent did not stop within 10 s of cancel")
		}
	}()

	time.Sleep(700 * time.Millisecond) // the agent is retrying now
	select {
	case rc := <-done:
		t.Fatalf("agent exited (%d) while XenStore was missing: %s", rc, stderr.String())
	default:
	}
	xs := xenstoretest.NewServerAt(t, sock)
	rc, out, errOut := runCLI(t, "send", "--xenstore", xs.SocketPath(), "--timeout", "15s", "version")
	if rc != 0 || !strings.Contains(out, `"returncode":"0"`) && !strings.Contains(out, `"returncode": "0"`) {
		t.Fatalf("send version after XenStore appeared: rc %d out %q err %q", rc, out, errOut)
	}
}

// Contract 1 / issue 10: the agent sends READY=1 right after start-up, not
// after XenStore (a KVM guest never has one), and exits 0 promptly when
// stopped.
func TestAgentReadyWithoutXenStoreAndStopsPromptly(t *testing.T) {
	dir, err := os.MkdirTemp("", "gbnotify")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	notify := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", notify)
	root := offlineImage(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		var out bytes.Buffer
		done <- run(ctx, []string{"agent", "--xenstore", filepath.Join(dir, "no-xenstore"), "--root", root,
			"--mode", "apply", "--metrics-interval", "0", "--state-dir", t.TempDir()}, &out, &stderr)
	}()
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	if err != nil || string(buf[:n]) != "READY=1" {
		t.Fatalf("no READY=1 within 3 s without XenStore: %q %v\n%s", buf[:n], err, stderr.String())
	}
	cancel()
	select {
	case rc := <-done:
		if rc != 0 {
			t.Errorf("agent exited %d on stop: %s", rc, stderr.String())
		}
	case <-time.After(2 * time.Second):
		t.Error("agent did not stop within 2 s")
	}
}
