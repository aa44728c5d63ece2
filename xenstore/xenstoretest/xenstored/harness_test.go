package xenstored

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"guestbridge/internal/testenv"
)

var impls = []Impl{C, OCaml}

// xs runs one of the xenstore-* CLI tools (libxenstore) against socket.
func xs(t *testing.T, socket, tool string, args ...string) string {
	t.Helper()
	bin := testenv.RequireCommand(t, tool)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "XENSTORED_PATH="+socket)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

func TestCLIClients(t *testing.T) {
	for _, impl := range impls {
		t.Run(string(impl), func(t *testing.T) {
			t.Parallel()
			sock := Start(t, impl)
			xs(t, sock, "xenstore-write", "/local/domain/0/vm-data/hostname", "guest-1",
				"/local/domain/0/vm-data/networking/BC764E206C5B", `{"mac":"BC:76:4E:20:6C:5B"}`)
			if got := xs(t, sock, "xenstore-read", "vm-data/hostname"); got != "guest-1" {
				t.Errorf("relative read = %q, want guest-1", got)
			}
			if got := xs(t, sock, "xenstore-read", "/local/domain/0/vm-data/networking/BC764E206C5B"); got != `{"mac":"BC:76:4E:20:6C:5B"}` {
				t.Errorf("read JSON = %q", got)
			}
			got := strings.Fields(xs(t, sock, "xenstore-list", "/local/domain/0/vm-data"))
			slices.Sort(got)
			if want := []string{"hostname", "networking"}; !slices.Equal(got, want) {
				t.Errorf("list = %q, want %q", got, want)
			}
			if ls := xs(t, sock, "xenstore-ls", "/local/domain/0/vm-data"); !strings.Contains(ls, `hostname = "guest-1"`) {
				t.Errorf("xenstore-ls output lacks hostname:\n%s", ls)
			}
			xs(t, sock, "xenstore-rm", "/local/domain/0/vm-data/hostname")
			bin := testenv.RequireCommand(t, "xenstore-exists")
			cmd := exec.Command(bin, "/local/domain/0/vm-data/hostname")
			cmd.Env = append(os.Environ(), "XENSTORED_PATH="+sock)
			if err := cmd.Run(); err == nil {
				t.Errorf("hostname still exists after xenstore-rm")
			}
		})
	}
}

// pyxsScript writes, reads and lists through pyxs, the Python client
// nova-agent 2.x used, and exercises a transaction and a watch.
const pyxsScript = `
import os, sys
from pyxs import Client
with Client(unix_socket_path=os.environ["XENSTORED_PATH"]) as c:
    c.write(b"/t/a", b"1")
    with c.monitor() as m:
        m.watch(b"/t", b"tok")
        first = next(m.wait())
        c.write(b"/t/b", b"2")
        ev = next(m.wait())
    c.transaction()
    c.write(b"/t/c", b"3")
    ok = c.commit()
    print(c.read(b"/t/a").decode(), ",".join(sorted(x.decode() for x in c.list(b"/t"))),
          ok, first.path.decode(), ev.path.decode(), ev.token.decode())
`

// runPyxs runs a pyxs script against socket and returns its trimmed
// output; a daemon that stops answering fails the test instead of hanging.
func runPyxs(t *testing.T, py, socket, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", script)
	cmd.Env = append(os.Environ(), "XENSTORED_PATH="+socket)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "No module named 'pyxs'") {
			testenv.Missing(t, "python3-pyxs")
		}
		t.Fatalf("pyxs: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestPyxs(t *testing.T) {
	py := testenv.RequireFile(t, testenv.SystemPython)
	for _, impl := range impls {
		t.Run(string(impl), func(t *testing.T) {
			t.Parallel()
			sock := Start(t, impl)
			if got, want := runPyxs(t, py, sock, pyxsScript), "1 a,b,c True /t /t/b tok"; got != want {
				t.Errorf("pyxs output %q, want %q", got, want)
			}
		})
	}
}

func TestRestartKeepsSocket(t *testing.T) {
	for _, impl := range impls {
		t.Run(string(impl), func(t *testing.T) {
			t.Parallel()
			sock := Start(t, impl)
			xs(t, sock, "xenstore-write", "/before", "x")
			Restart(t, sock)
			xs(t, sock, "xenstore-write", "/after", "y")
			if got := xs(t, sock, "xenstore-read", "/after"); got != "y" {
				t.Errorf("read after restart = %q, want y", got)
			}
			// A restarted daemon starts with an empty store, as on a host.
			bin := testenv.RequireCommand(t, "xenstore-exists")
			cmd := exec.Command(bin, "/before")
			cmd.Env = append(os.Environ(), "XENSTORED_PATH="+sock)
			if err := cmd.Run(); err == nil {
				t.Errorf("/before survived the restart")
			}
		})
	}
}

// A long test name makes t.TempDir too long for sun_path; the harness must
// still find a usable socket path.
func TestSocketPathShortWithLongTestName(t *testing.T) {
	for _, impl := range impls {
		t.Run(string(impl)+strings.Repeat("_long_name", 12), func(t *testing.T) {
			sock := Start(t, impl)
			if len(sock) >= 108 {
				t.Fatalf("socket path %d bytes, too long for sun_path", len(sock))
			}
			if fi, err := os.Stat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
				t.Fatalf("%s is not a socket: %v", sock, err)
			}
		})
	}
}

// XS_INTRODUCE of a domU works through the shim's fake ring mapping (the
// grant table for xenstored, a foreign mapping for oxenstored).
func TestIntroduceDomain(t *testing.T) {
	py := testenv.RequireFile(t, testenv.SystemPython)
	const script = `
import os
from pyxs import Client
with Client(unix_socket_path=os.environ["XENSTORED_PATH"]) as c:
    with c.monitor() as m:
        m.watch(b"@introduceDomain", b"tok")
        next(m.wait())  # the initial event every watch gets
        c.introduce_domain(5, 1234, 7)
        ev = next(m.wait())
    print(ev.path.decode(), c.is_domain_introduced(5), c.get_domain_path(5).decode())
`
	for _, impl := range impls {
		t.Run(string(impl), func(t *testing.T) {
			t.Parallel()
			sock := Start(t, impl)
			AddDomainRing(t, sock, 5)
			if got, want := runPyxs(t, py, sock, script), "@introduceDomain True /local/domain/5"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// The daemon is gone once the test that started it has ended.
func TestStoppedAfterTest(t *testing.T) {
	for _, impl := range impls {
		var sock string
		t.Run(string(impl), func(t *testing.T) {
			sock = Start(t, impl)
			if err := probe(sock); err != nil {
				t.Fatalf("daemon not answering: %v", err)
			}
		})
		if sock != "" && probe(sock) == nil {
			t.Errorf("%s still answers on %s after its test ended", impl, sock)
		}
	}
}
