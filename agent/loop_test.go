package agent

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runAgent starts a on its own goroutine and stops it at test end, checking
// that Run returns nil promptly once ctx ends.
func runAgent(t testing.TB, a *Agent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func waitReply(t *testing.T, s *fakeStore, id string) result {
	t.Helper()
	var raw string
	waitFor(t, "reply "+id, func() bool {
		v, ok := s.get("data/guest/" + id)
		raw = v
		return ok
	})
	return decodeReply(t, []byte(raw))
}

func TestRunAnswersAndRemoves(t *testing.T) {
	s, act := newFakeStore(), &fakeActions{}
	var ready atomic.Int32
	a := New(s, act, Options{Version: "9.9", Logf: t.Logf, Ready: func() { ready.Add(1) }})
	runAgent(t, a)
	waitFor(t, "Ready", func() bool { return ready.Load() == 1 })
	s.put("data/host/r1", `{"name": "version", "value": "agent"}`)
	wantReply(t, waitReply(t, s, "r1"), "0", "9.9")
	waitFor(t, "request removal", func() bool { _, ok := s.get("data/host/r1"); return !ok })
	// Reply written before the request was removed.
	ops := s.opsMatching("")
	w, r := slices.Index(ops, "write data/guest/r1"), slices.Index(ops, "rm data/host/r1")
	if w < 0 || r < 0 || w > r {
		t.Fatalf("write at %d, rm at %d: want write first (ops %q)", w, r, ops)
	}
	if got := s.opsMatching("mkdir "); len(got) != 1 || got[0] != "mkdir data/host" {
		t.Errorf("mkdir ops = %q", got)
	}
	s.put("data/host/r2", `{"name": "resetnetwork", "value": ""}`)
	wantReply(t, waitReply(t, s, "r2"), "0", "")
	if ready.Load() != 1 {
		t.Errorf("Ready called %d times, want 1", ready.Load())
	}
}

func TestRunNeverRunsTwiceWhenWritesOrRemovalsFail(t *testing.T) {
	s, act := newFakeStore(), &fakeActions{}
	s.fail("write data/guest/n1", 3)
	s.fail("rm data/host/n1", 3)
	a := New(s, act, Options{Logf: t.Logf, PollInterval: 5 * time.Millisecond})
	runAgent(t, a)
	s.put("data/host/n1", `{"name": "resetnetwork", "value": ""}`)
	wantReply(t, waitReply(t, s, "n1"), "0", "")
	waitFor(t, "request removal", func() bool { _, ok := s.get("data/host/n1"); return !ok })
	if n := act.resetCount(); n != 1 {
		t.Fatalf("ResetNetwork ran %d times, want 1", n)
	}
	if n := len(s.opsMatching("read data/host/n1")); n != 1 {
		t.Fatalf("request read %d times, want 1 (reply kept while unsent)", n)
	}
}

func TestRunSkipsVanishedRequestsAndSurvivesListErrors(t *testing.T) {
	s, act := newFakeStore(), &fakeActions{}
	s.fail("read data/host/gone", 1) // one transient failure, then it is gone
	s.fail("list data/host", 2)
	a := New(s, act, Options{Logf: t.Logf, PollInterval: 5 * time.Millisecond})
	s.put("data/host/gone", `{"name": "resetnetwork", "value": ""}`)
	runAgent(t, a)
	waitFor(t, "first read of gone", func() bool { return len(s.opsMatching("read data/host/gone")) >= 1 })
	s.mu.Lock()
	delete(s.nodes, "data/host/gone") // the host timed out and took it back
	s.mu.Unlock()
	s.put("data/host/next", `{"name": "version", "value": "agent"}`)
	wantReply(t, waitReply(t, s, "next"), "0", DefaultVersion)
	if _, ok := s.get("data/guest/gone"); ok || act.resetCount() != 0 {
		t.Fatalf("vanished request was answered (resets %d)", act.resetCount())
	}
}

func TestRunProcessesInArrivalOrder(t *testing.T) {
	s, act := newFakeStore(), &fakeActions{}
	s.reverseList = true
	// Requests already waiting at start: in listing order (the C xenstored
	// lists children in creation order), here c, b, a.
	for _, id := range []string{"b", "c", "a"} {
		s.put("data/host/"+id, fmt.Sprintf(`{"name": "injectfile", "value": %q}`, b64("/order/"+id+",x")))
	}
	a := New(s, act, Options{Logf: t.Logf})
	runAgent(t, a)
	waitReply(t, s, "a")
	var got []string
	for _, op := range s.opsMatching("write data/guest/") {
		got = append(got, op[len("write data/guest/"):])
	}
	if want := []string{"c", "b", "a"}; !slices.Equal(got, want) {
		t.Fatalf("answered %q, want %q", got, want)
	}
}

func TestRequestQueueOrder(t *testing.T) {
	q := newRequestQueue(4)
	if got := q.update([]string{"z", "y"}); !slices.Equal(got, []string{"z", "y"}) {
		t.Fatalf("first listing: %q", got)
	}
	// "x" arrived after y and z even though a listing shows it first; "y" left.
	if got := q.update([]string{"x", "z", "x"}); !slices.Equal(got, []string{"z", "x"}) {
		t.Fatalf("second listing: %q", got)
	}
	for i := range 10 {
		q.markDone(fmt.Sprint(i))
	}
	if len(q.done) != 4 || !q.isDone("9") || q.isDone("5") {
		t.Fatalf("done memory holds %d ids (9: %v, 5: %v), want the last 4", len(q.done), q.isDone("9"), q.isDone("5"))
	}
}

func TestRunRewatchesAfterConnectionLoss(t *testing.T) {
	s, act := newFakeStore(), &fakeActions{}
	s.fail("watch data/host", 1) // the first watch fails: polling carries on
	a := New(s, act, Options{Logf: t.Logf, PollInterval: 20 * time.Millisecond})
	runAgent(t, a)
	waitFor(t, "second watch", func() bool { return len(s.opsMatching("watch ")) >= 2 })
	s.dropWatches("data/host") // connection lost
	waitFor(t, "third watch", func() bool { return len(s.opsMatching("watch ")) >= 3 })
	s.put("data/host/after", `{"name": "version", "value": "agent"}`)
	wantReply(t, waitReply(t, s, "after"), "0", DefaultVersion)
}

func TestRunUsesWatchNotOnlyPolling(t *testing.T) {
	s, act := newFakeStore(), &fakeActions{}
	a := New(s, act, Options{Logf: t.Logf, PollInterval: time.Hour})
	runAgent(t, a)
	waitFor(t, "watch", func() bool { return len(s.opsMatching("watch ")) == 1 })
	s.put("data/host/w", `{"name": "version", "value": "agent"}`)
	wantReply(t, waitReply(t, s, "w"), "0", DefaultVersion)
}

func TestIsOwnRemoval(t *testing.T) {
	a, _ := newTestAgent(t, Options{})
	a.queue.markDone("abc")
	for path, want := range map[string]bool{
		"data/host/abc":                 true,
		"/local/domain/7/data/host/abc": true,
		"data/host/abd":                 false,
		"data/host":                     false,
		"/local/domain/7/data/host":     false,
		"data/host/abc/sub":             false,
		"xdata/host/abc":                false,
	} {
		if got := a.isOwnRemoval(path); got != want {
			t.Errorf("isOwnRemoval(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	s, act := newFakeStore(), &fakeActions{}
	var logs []string
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, fmt.Sprintf(format, args...))
	}
	a := New(s, act, Options{Logf: logf})
	runAgent(t, a)
	hostPriv := big.NewInt(0x1f2e3d4c5b6a79)
	s.put("data/host/k", req("keyinit", dhPublic(hostPriv).String()))
	res := waitReply(t, s, "k")
	guestPub, _ := new(big.Int).SetString(res.Message, 10)
	shared := dhShared(guestPub, hostPriv)
	enc := hostEncrypt(t, "TopSecretPw\n", shared, keyIVMD5)
	s.put("data/host/p", req("password", enc))
	wantReply(t, waitReply(t, s, "p"), "0", "")
	s.put("data/host/f", req("injectfile", b64("/root/.ssh/authorized_keys,ssh-rsa PRIVATEISH")))
	wantReply(t, waitReply(t, s, "f"), "0", "")
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(logs, "\n")
	for _, secret := range []string{"TopSecretPw", shared, enc, res.Message, "PRIVATEISH", b64("/root/.ssh/authorized_keys,ssh-rsa PRIVATEISH")} {
		if strings.Contains(all, secret) {
			t.Errorf("log contains %q:\n%s", secret, all)
		}
	}
	if !strings.Contains(all, "password") {
		t.Errorf("log does not even name the command:\n%s", all)
	}
}

func TestScanErrorsAreThrottled(t *testing.T) {
	e := errorLog{what: "scanning"}
	var n int
	logf := func(string, ...any) { n++ }
	for range 5 {
		e.report(logf, errFake)
	}
	e.recovered(logf)
	e.report(logf, errFake)
	if n != 3 { // first error, recovery, error again
		t.Fatalf("logged %d lines, want 3", n)
	}
}

func TestUnreadableRequestDoesNotBlockOthers(t *testing.T) {
	s, act := newFakeStore(), &fakeActions{}
	s.fail("read data/host/a-stuck", 1000000)
	s.put("data/host/a-stuck", req("version", "agent"))
	s.put("data/host/b-next", req("version", "agent"))
	a := New(s, act, Options{Logf: t.Logf, PollInterval: 10 * time.Millisecond})
	runAgent(t, a)
	wantReply(t, waitReply(t, s, "b-next"), "0", DefaultVersion)
	if _, ok := s.get("data/guest/a-stuck"); ok {
		t.Fatal("unreadable request answered")
	}
}
