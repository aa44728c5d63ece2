package main

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// testAgent is the real `guestbridge agent` running in this process
// against a XenStore socket until the test ends or stop is called.
type testAgent struct {
	t    *testing.T
	sock string
	log  *syncBuffer // the agent's stderr
	stop func()      // cancels the agent and checks it exits 0 within 10 s; idempotent
}

// startAgent runs `guestbridge agent --xenstore sock args...`.
func startAgent(t *testing.T, sock string, args ...string) *testAgent {
	t.Helper()
	a := &testAgent{t: t, sock: sock, log: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		var out bytes.Buffer
		done <- run(ctx, append([]string{"agent", "--xenstore", sock}, args...), &out, a.log)
	}()
	var once sync.Once
	a.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case rc := <-done:
				if rc != 0 {
					t.Errorf("agent exited %d on cancel: %s", rc, a.log.String())
				}
			case <-time.After(10 * time.Second):
				t.Error("agent did not stop within 10 s of cancel")
			}
		})
	}
	t.Cleanup(a.stop)
	return a
}

// send sends one request as the host does (`guestbridge send`) and returns
// the agent's reply; no reply, or one that is not a JSON object of strings,
// fails the test.
func (a *testAgent) send(args ...string) map[string]string {
	a.t.Helper()
	rc, out, stderr := runCLI(a.t, append([]string{"send", "--xenstore", a.sock, "--timeout", "10s"}, args...)...)
	var reply map[string]string
	if err := json.Unmarshal([]byte(out), &reply); rc != 0 || err != nil {
		a.t.Fatalf("send %v: rc %d, reply %q (%v): %s\nagent: %s", args, rc, out, err, stderr, a.log.String())
	}
	return reply
}
