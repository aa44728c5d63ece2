package xenstoretest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"guestbridge/internal/testenv"
)

// These tests validate the in-memory server with other people's clients:
// libxenstore's xenstore-* tools and the Python pyxs library.

// cli runs a xenstore-* tool against s and returns its output and error.
func cli(t *testing.T, s *Server, tool string, args ...string) (string, error) {
	t.Helper()
	bin := testenv.RequireCommand(t, tool)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "XENSTORED_PATH="+s.SocketPath())
	out, err := cmd.CombinedOutput()
	return strings.TrimRight(string(out), "\n"), err
}

func mustCLI(t *testing.T, s *Server, tool string, args ...string) string {
	t.Helper()
	out, err := cli(t, s, tool, args...)
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", tool, args, err, out)
	}
	return out
}

func TestCLIWriteReadRemove(t *testing.T) {
	s := NewServer(t)
	// xenstore-write runs its writes in a transaction.
	mustCLI(t, s, "xenstore-write", "/vm/name", "guest", "vm-data/hostname", "host-1")
	if v, ok := s.Get("/vm/name"); !ok || string(v) != "guest" {
		t.Fatalf("after xenstore-write /vm/name = %q, %v", v, ok)
	}
	if v, _ := s.Get("/local/domain/0/vm-data/hostname"); string(v) != "host-1" {
		t.Fatalf("relative xenstore-write landed elsewhere: %q", v)
	}
	s.Set("/vm/json", []byte(`{"k": [1, 2]}`))
	if got := mustCLI(t, s, "xenstore-read", "/vm/json"); got != `{"k": [1, 2]}` {
		t.Fatalf("xenstore-read = %q", got)
	}
	if got := mustCLI(t, s, "xenstore-read", "vm-data/hostname"); got != "host-1" {
		t.Fatalf("relative xenstore-read = %q", got)
	}
	if out, err := cli(t, s, "xenstore-read", "/vm/missing"); err == nil {
		t.Fatalf("xenstore-read of a missing node succeeded: %q", out)
	}
	mustCLI(t, s, "xenstore-rm", "/vm/name")
	if _, ok := s.Get("/vm/name"); ok {
		t.Fatal("node survived xenstore-rm")
	}
}

func TestCLIListAndLs(t *testing.T) {
	s := NewServer(t)
	s.Set("/d/a", []byte("1"))
	s.Set("/d/b/c", []byte("two"))
	got := strings.Fields(mustCLI(t, s, "xenstore-list", "/d"))
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("xenstore-list = %q", got)
	}
	ls := mustCLI(t, s, "xenstore-ls", "/d")
	for _, want := range []string{`a = "1"`, `b = ""`, `c = "two"`} {
		if !strings.Contains(ls, want) {
			t.Errorf("xenstore-ls lacks %q:\n%s", want, ls)
		}
	}
}

func TestCLIWatch(t *testing.T) {
	s := NewServer(t)
	bin := testenv.RequireCommand(t, "xenstore-watch")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Three events: the initial one, a child write, the node's removal.
	cmd := exec.CommandContext(ctx, bin, "-n", "3", "/w")
	cmd.Env = append(os.Environ(), "XENSTORED_PATH="+s.SocketPath())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	next := func() string {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("xenstore-watch ended early: %v", lines.Err())
		}
		return lines.Text()
	}
	if got := next(); got != "/w" {
		t.Fatalf("initial event %q", got)
	}
	s.Set("/w/child", []byte("x"))
	if got := next(); got != "/w/child" {
		t.Fatalf("event %q, want /w/child", got)
	}
	s.Delete("/w")
	if got := next(); got != "/w" {
		t.Fatalf("event %q, want /w", got)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("xenstore-watch -n 3: %v", err)
	}
}

// pyxsScript drives the server through pyxs (the client nova-agent 2.x
// used): writes, a watch fed by the test through stdin/stdout, a committed
// transaction and one that must fail because of a concurrent write.
const pyxsScript = `
import os, sys
from pyxs import Client
path = os.environ["XENSTORED_PATH"]
with Client(unix_socket_path=path) as c, Client(unix_socket_path=path) as other:
    c.write(b"/py/a", b"1")
    print("read", c.read(b"/py/a").decode(), flush=True)
    with c.monitor() as m:
        m.watch(b"/py", b"pytok")
        ev = next(m.wait())
        print("event", ev.path.decode(), ev.token.decode(), flush=True)
        sys.stdin.readline()  # the test writes /py/from-go now
        ev = next(m.wait())
        print("event", ev.path.decode(), ev.token.decode(), flush=True)
    c.transaction()
    c.write(b"/py/tx", b"committed")
    print("commit", c.commit(), flush=True)
    c.transaction()
    c.read(b"/py/a")
    other.write(b"/py/a", b"changed")
    c.write(b"/py/a", b"lost")
    print("conflict", c.commit(), flush=True)
`

func TestPyxs(t *testing.T) {
	py := testenv.RequireFile(t, testenv.SystemPython)
	s := NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", pyxsScript)
	cmd.Env = append(os.Environ(), "XENSTORED_PATH="+s.SocketPath())
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	expect := func(want string) {
		t.Helper()
		if !lines.Scan() {
			cmd.Wait()
			if strings.Contains(stderr.String(), "No module named 'pyxs'") {
				testenv.Missing(t, "python3-pyxs")
			}
			t.Fatalf("pyxs script ended before %q:\n%s", want, stderr.String())
		}
		if got := lines.Text(); got != want {
			t.Fatalf("pyxs printed %q, want %q\n%s", got, want, stderr.String())
		}
	}
	expect("read 1")
	expect("event /py pytok")
	s.Set("/py/from-go", []byte("hi"))
	stdin.Write([]byte("go\n"))
	expect("event /py/from-go pytok")
	expect("commit True")
	expect("conflict False")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pyxs script: %v\n%s", err, stderr.String())
	}
	if v, _ := s.Get("/py/tx"); string(v) != "committed" {
		t.Errorf("/py/tx = %q after commit", v)
	}
	if v, _ := s.Get("/py/a"); string(v) != "changed" {
		t.Errorf("/py/a = %q: the conflicting transaction must not overwrite it", v)
	}
}
