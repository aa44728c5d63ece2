package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"guestbridge/internal/testenv"
	"guestbridge/system"
	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest/xenstored"
)

// realAgent runs the agent against Debian's real xenstored (impl) with
// SystemActions on a temp root holding an /etc/shadow, and returns what
// the host script needs.
type realAgent struct {
	socket string
	root   system.Root
	resets atomic.Int32
	client *xenstore.Client
}

func startRealAgent(t *testing.T, impl xenstored.Impl, opts Options) *realAgent {
	t.Helper()
	ra := &realAgent{socket: xenstored.Start(t, impl)}
	ra.root = system.Root{Dir: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(ra.root.Dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	shadow := "root:*:20000:0:99999:7:::\ndaemon:*:20000:0:99999:7:::\n"
	if err := os.WriteFile(filepath.Join(ra.root.Dir, "etc/shadow"), []byte(shadow), 0o640); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := xenstore.Dial(ctx, ra.socket)
	if err != nil {
		t.Fatalf("dial %s: %v", ra.socket, err)
	}
	t.Cleanup(func() { c.Close() })
	ra.client = c
	actions := SystemActions{Root: ra.root, Reset: func(context.Context) error {
		ra.resets.Add(1)
		return nil
	}}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	runAgent(t, New(c, actions, opts))
	return ra
}

// host runs testdata/nova_host.py (Nova's host side) against the daemon.
func (ra *realAgent) host(t *testing.T, args ...string) string {
	t.Helper()
	py := testenv.RequireFile(t, testenv.SystemPython)
	testenv.RequireCommand(t, "xenstore-write")
	testenv.RequireCommand(t, "openssl")
	cmd := exec.Command(py, append([]string{"testdata/nova_host.py"}, args...)...)
	cmd.Env = append(os.Environ(), "XENSTORED_PATH="+ra.socket)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nova_host.py %s: %v\n%s", args[0], err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

func (ra *realAgent) rootHash(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ra.root.Dir, "etc/shadow"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Split(line, ":"); len(f) > 1 && f[0] == "root" {
			return f[1]
		}
	}
	t.Fatal("no root line in shadow")
	return ""
}

func TestEndToEndWithRealXenstored(t *testing.T) {
	for _, impl := range []xenstored.Impl{xenstored.C, xenstored.OCaml} {
		t.Run(string(impl), func(t *testing.T) {
			ra := startRealAgent(t, impl, Options{Version: "1.2.3"})

			if got := ra.host(t, "version"); got != `"1.2.3"` {
				t.Errorf("version = %s", got)
			}

			var feats []string
			if err := json.Unmarshal([]byte(ra.host(t, "features")), &feats); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"version", "keyinit", "password", "resetnetwork", "injectfile", "file_inject"} {
				if !slices.Contains(feats, want) {
					t.Errorf("features %q lack %q", feats, want)
				}
			}

			for i, md := range []string{"md5", "default"} {
				pw := []string{"N0va-md5 pässword", "OpenSSL3 default!"}[i]
				ra.host(t, "set_password", pw, md)
				if h := ra.rootHash(t); !system.VerifyPassword(h, pw) {
					t.Errorf("-md %s: shadow hash %q does not verify the password", md, h)
				}
			}

			out := ra.host(t, "inject_file", "/root/.ssh/authorized_keys", "\n# The following ssh key was injected by Nova\nssh-rsa asdf\n")
			if !strings.Contains(out, `"form": "file_inject"`) {
				t.Errorf("inject_file used %s, want the file_inject form", out)
			}
			got, err := os.ReadFile(filepath.Join(ra.root.Dir, "root/.ssh/authorized_keys"))
			if err != nil || string(got) != "\n# The following ssh key was injected by Nova\nssh-rsa asdf\n" {
				t.Errorf("authorized_keys = %q, %v", got, err)
			}
			// The old-style request, as sent to agents without file_inject.
			ra.host(t, "raw", "injectfile", `"L3RtcC90ZXN0cy90ZXN0X2ZpbGVfd3JpdGUsVGVzdGluZyB0aGUgaW5qZWN0"`)
			if got, _ := os.ReadFile(filepath.Join(ra.root.Dir, "tmp/tests/test_file_write")); string(got) != "Testing the inject" {
				t.Errorf("injectfile wrote %q", got)
			}

			ra.host(t, "resetnetwork")
			if n := ra.resets.Load(); n != 1 {
				t.Errorf("ResetNetwork ran %d times, want 1", n)
			}

			var bad result
			json.Unmarshal([]byte(ra.host(t, "raw", "nosuch", `""`)), &bad)
			wantReply(t, bad, "404", "No such agent command 'nosuch'")

			// Error replies quoting paths with quotes, backslashes and
			// non-ASCII reach Nova as JSON objects through the real
			// xenstore-read (which doubles backslashes and escapes
			// non-ASCII bytes), and the message decodes back exactly.
			if err := os.WriteFile(filepath.Join(ra.root.Dir, "etc/ünï"), []byte("a file, not a directory"), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ path, want string }{
				{`ünï/"q"\x`, fmt.Sprintf("injectfile: path %q is not absolute", `ünï/"q"\x`)},
				{"/etc/ünï/\"q\"\\x 😀", "injectfile: couldn't write /etc/ünï/\"q\"\\x 😀: "},
			} {
				value, _ := json.Marshal(b64(c.path + ",x"))
				out := ra.host(t, "raw", "injectfile", string(value))
				var rep map[string]string
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Errorf("injectfile %q: Nova got %s, not a JSON object: %v", c.path, out, err)
					continue
				}
				msg, err := decodeRelayedMessage(rep["message"])
				if rep["returncode"] != "500" || err != nil || !strings.HasPrefix(msg, c.want) {
					t.Errorf("injectfile %q: Nova got returncode %q message %q (decoded %q, %v); want 500 and %q",
						c.path, rep["returncode"], rep["message"], msg, err, c.want)
				}
			}

			// Every request was removed; every reply is still there.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			waitFor(t, "data/host to drain", func() bool {
				left, err := ra.client.List(ctx, hostDir)
				return err == nil && len(left) == 0
			})
			replies, err := ra.client.List(ctx, guestDir)
			if err != nil || len(replies) != 13 {
				t.Errorf("data/guest holds %d replies (%v), want 13", len(replies), err)
			}
		})
	}
}

func TestHostScriptTimeoutRemovesRequest(t *testing.T) {
	// With no agent serving, the host script's timeout path removes the
	// request; run a short version of it through python to keep it fast.
	sock := xenstored.Start(t, xenstored.C)
	py := testenv.RequireFile(t, testenv.SystemPython)
	testenv.RequireCommand(t, "xenstore-write")
	script := `import sys; sys.path.insert(0, "testdata"); import nova_host as h
try:
    h.call_agent("version", "agent", timeout=1, req_id="lost")
except h.AgentError as e:
    print(e)`
	cmd := exec.Command(py, "-c", script)
	cmd.Env = append(os.Environ(), "XENSTORED_PATH="+sock)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "TIMEOUT") {
		t.Fatalf("host script: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := xenstore.Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Read(ctx, "data/host/lost"); err == nil {
		t.Fatal("timed-out request still present")
	}
}

// TestEndToEndSurvivesDaemonRestart: the daemon restarts with an empty
// store (as after a host-side restart); the agent keeps answering and
// publishes its metrics again without waiting for the next interval.
func TestEndToEndSurvivesDaemonRestart(t *testing.T) {
	ra := startRealAgent(t, xenstored.C, Options{Version: "7.7", MetricsInterval: time.Hour, Root: fakeGuestRoot(t), PollInterval: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hasMeminfo := func() bool {
		v, err := ra.client.Read(ctx, "data/meminfo_total")
		return err == nil && string(v) == "2030592"
	}
	waitFor(t, "metrics", hasMeminfo)
	if got := ra.host(t, "version"); got != `"7.7"` {
		t.Fatalf("version before restart = %s", got)
	}
	xenstored.Restart(t, ra.socket)
	waitFor(t, "metrics after restart", hasMeminfo)
	if got := ra.host(t, "version"); got != `"7.7"` {
		t.Fatalf("version after restart = %s", got)
	}
}

// decodeRelayedMessage undoes what reaches Nova through xenstore-read: the
// message shows our JSON escapes literally, so it is decoded once more as
// the body of a JSON string.
func decodeRelayedMessage(m string) (string, error) {
	var s string
	err := json.Unmarshal([]byte(`"`+m+`"`), &s)
	return s, err
}
