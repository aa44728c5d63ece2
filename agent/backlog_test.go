package agent

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest"
	"guestbridge/xenstore/xenstoretest/xenstored"
)

// countingActions records every injectfile, so a test can tell a request
// run twice from one run once, and in which order they ran.
type countingActions struct {
	mu    sync.Mutex
	order []string // injected paths in the order the agent ran them
}

func (c *countingActions) SetPassword(string) error { return nil }
func (c *countingActions) InjectFile(path string, _ []byte) error {
	c.mu.Lock()
	c.order = append(c.order, path)
	c.mu.Unlock()
	return nil
}
func (c *countingActions) ResetNetwork(context.Context) error { return nil }
func (c *countingActions) ran() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.order...)
}

// quietLogf logs everything but the line per answered request.
func quietLogf(t *testing.T) func(string, ...any) {
	return func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.HasSuffix(msg, "→ 0") {
			t.Log(msg)
		}
	}
}

// novaID is a fresh random request id shaped like Nova's uuid4.
func novaID() string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rand.Uint32(), rand.Uint32N(1<<16),
		rand.Uint32N(1<<12), rand.Uint32N(1<<12), rand.Uint64N(1<<48))
}

func injectRequest(id string) []byte {
	return []byte(fmt.Sprintf(`{"name": "injectfile", "value": %q}`, b64("/q/"+id+",x")))
}

// hostClient is dom0's side: its own connection to the daemon.
func hostClient(t *testing.T, socket string) *xenstore.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := xenstore.Dial(ctx, socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// checkExactlyOnce asserts every id ran exactly once and got a "0" reply,
// and that data/host is empty again.
func checkExactlyOnce(t *testing.T, host *xenstore.Client, acts *countingActions, ids []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ran := acts.ran()
	count := map[string]int{}
	for _, p := range ran {
		count[strings.TrimPrefix(p, "/q/")]++
	}
	for _, id := range ids {
		if count[id] != 1 {
			t.Errorf("request %s ran %d times, want exactly once", id, count[id])
		}
		v, err := host.Read(ctx, "/local/domain/0/data/guest/"+id)
		if err != nil || !strings.Contains(string(v), `"returncode":"0"`) {
			t.Errorf("reply %s = %q, %v", id, v, err)
		}
	}
	if len(ran) != len(ids) {
		t.Errorf("%d actions ran for %d requests", len(ran), len(ids))
	}
	left, err := host.List(ctx, "/local/domain/0/data/host")
	if err != nil || len(left) != 0 {
		t.Errorf("data/host still holds %d requests (%v)", len(left), err)
	}
}

// waitAllRan waits until n actions ran (or the deadline passes).
func waitAllRan(t *testing.T, acts *countingActions, n int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for len(acts.ran()) < n {
		if time.Since(start) > within {
			t.Fatalf("only %d of %d requests answered after %v", len(acts.ran()), n, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a request running twice would show up now
	return time.Since(start)
}

// testBacklog: 1000 requests wait in data/host before the agent starts
// (far more than one XS_DIRECTORY reply holds), and 100 more arrive while
// it works through them. Every one is answered exactly once; where the
// daemon lists in creation order they run in arrival order.
func testBacklog(t *testing.T, socket string, creationOrder bool) {
	host := hostClient(t, socket)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const backlog, more = 1000, 100
	var ids []string
	for range backlog {
		id := novaID()
		ids = append(ids, id)
		if err := host.Write(ctx, "/local/domain/0/data/host/"+id, injectRequest(id)); err != nil {
			t.Fatal(err)
		}
	}
	acts := &countingActions{}
	guest := hostClient(t, socket)
	runAgent(t, New(guest, acts, Options{Logf: quietLogf(t), PollInterval: time.Second}))
	for range more {
		id := novaID()
		ids = append(ids, id)
		if err := host.Write(ctx, "/local/domain/0/data/host/"+id, injectRequest(id)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := waitAllRan(t, acts, len(ids), 90*time.Second)
	t.Logf("%d requests (%d waiting at start) answered in %v", len(ids), backlog, took)
	checkExactlyOnce(t, host, acts, ids)
	ran := acts.ran()
	for i := range ran {
		ran[i] = strings.TrimPrefix(ran[i], "/q/")
	}
	if creationOrder {
		if !slices.Equal(ran, ids) {
			t.Errorf("requests did not run in arrival order")
		}
	} else {
		// oxenstored lists children sorted by name: the backlog runs in that
		// order, the later ones in arrival order among themselves as far
		// as they were listed one at a time.
		waiting := map[string]bool{}
		for _, id := range ids[:backlog] {
			waiting[id] = true
		}
		var got []string
		for _, id := range ran {
			if waiting[id] {
				got = append(got, id)
			}
		}
		want := slices.Clone(ids[:backlog])
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("backlog did not run in oxenstored's listing order")
		}
	}
}

func TestBacklogXenstored(t *testing.T) { testBacklog(t, xenstored.Start(t, xenstored.C), true) }

func TestBacklogOxenstored(t *testing.T) {
	testBacklog(t, xenstored.Start(t, xenstored.OCaml), false)
}

func TestBacklogMemory(t *testing.T) {
	testBacklog(t, xenstoretest.NewServer(t).SocketPath(), true)
}

// testTransportLoss streams 300 requests, one every 15 ms, while the
// agent's transport drops three times for 1.5 s (through a proxy, so the
// daemon's store survives while the agent's connection, watch and any
// request in flight are lost). None is lost, none runs twice.
func testTransportLoss(t *testing.T, socket string) {
	proxy := xenstoretest.NewProxy(t, socket)
	host := hostClient(t, socket)
	acts := &countingActions{}
	guest := hostClient(t, proxy.SocketPath())
	runAgent(t, New(guest, acts, Options{Logf: quietLogf(t), PollInterval: time.Second}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var ids []string
	for i := range 300 {
		if i%100 == 50 {
			proxy.Cut(1500 * time.Millisecond)
		}
		id := novaID()
		ids = append(ids, id)
		if err := host.Write(ctx, "/local/domain/0/data/host/"+id, injectRequest(id)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(15 * time.Millisecond)
	}
	took := waitAllRan(t, acts, len(ids), 60*time.Second)
	t.Logf("300 requests with 3 transport drops answered %v after the last was written", took)
	checkExactlyOnce(t, host, acts, ids)
}

func TestTransportLossXenstored(t *testing.T) { testTransportLoss(t, xenstored.Start(t, xenstored.C)) }

func TestTransportLossOxenstored(t *testing.T) {
	testTransportLoss(t, xenstored.Start(t, xenstored.OCaml))
}

func TestTransportLossMemory(t *testing.T) {
	testTransportLoss(t, xenstoretest.NewServer(t).SocketPath())
}

// Without XS_DIRECTORY_PART a backed-up data/host cannot be listed; the
// agent says so and still answers the new requests watch events name.
func TestBacklogWithoutDirectoryPart(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	srv.DisableDirectoryPart()
	host := hostClient(t, srv.SocketPath())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 200 { // too many for one listing; never answered
		if err := host.Write(ctx, "/local/domain/0/data/host/"+novaID(), injectRequest("old")); err != nil {
			t.Fatal(err)
		}
	}
	var logs strings.Builder
	var logMu sync.Mutex
	acts := &countingActions{}
	ready := make(chan struct{})
	runAgent(t, New(hostClient(t, srv.SocketPath()), acts, Options{PollInterval: time.Second, Logf: func(f string, a ...any) {
		logMu.Lock()
		fmt.Fprintf(&logs, f+"\n", a...)
		logMu.Unlock()
	}, Ready: func() { close(ready) }}))
	// Only requests written after the watch is in place can be found.
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("agent never became ready")
	}
	var ids []string
	for range 20 {
		id := novaID()
		ids = append(ids, id)
		if err := host.Write(ctx, "/local/domain/0/data/host/"+id, injectRequest(id)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitAllRan(t, acts, len(ids), 30*time.Second)
	count := map[string]int{}
	for _, p := range acts.ran() {
		count[strings.TrimPrefix(p, "/q/")]++
	}
	for _, id := range ids {
		if count[id] != 1 {
			t.Errorf("new request %s ran %d times", id, count[id])
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(logs.String(), "XS_DIRECTORY_PART") {
		t.Errorf("log does not say why the backlog cannot be listed:\n%s", logs.String())
	}
}
