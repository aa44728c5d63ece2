package xenstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest"
	"guestbridge/xenstore/xenstoretest/xenstored"
)

// stateRecorder collects what SetStateFunc reports.
type stateRecorder struct {
	ch chan xenstore.ConnState
}

func recordStates(c *xenstore.Client) *stateRecorder {
	r := &stateRecorder{ch: make(chan xenstore.ConnState, 1000)}
	c.SetStateFunc(func(s xenstore.ConnState) { r.ch <- s })
	return r
}

// next returns the next reported state, failing the test after 15 s.
func (r *stateRecorder) next(t *testing.T, what string) xenstore.ConnState {
	t.Helper()
	select {
	case s := <-r.ch:
		return s
	case <-time.After(15 * time.Second):
		t.Fatalf("no state reported within 15 s, waiting for %s", what)
		return xenstore.ConnState{}
	}
}

// The state function sees the current state at once, then each daemon
// restart as lost (with the cause, counted) followed by connected again, in
// that order; after Close nothing more is reported.
func TestConnStateAcrossXenstoredRestarts(t *testing.T) {
	for _, impl := range []xenstored.Impl{xenstored.C, xenstored.OCaml} {
		t.Run(string(impl), func(t *testing.T) {
			sock := xenstored.Start(t, impl)
			var logs logRecorder
			c, err := xenstore.WaitDial(ctxT(t), sock, logs.logf)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			r := recordStates(c)
			first := r.next(t, "the current state")
			if !first.Connected || first.Reconnects != 0 || first.Cause != nil || first.Path != sock || first.Since.IsZero() {
				t.Fatalf("first state %+v, want connected to %s, no reconnects", first, sock)
			}
			prev := first.Since
			for i := 1; i <= 2; i++ {
				xenstored.Restart(t, sock)
				lost := r.next(t, "lost")
				if lost.Connected || lost.Cause == nil || lost.Reconnects != i || lost.Path != sock || lost.Since.Before(prev) {
					t.Fatalf("restart %d: state %+v, want lost with a cause, %d reconnects", i, lost, i)
				}
				back := r.next(t, "reconnected")
				if !back.Connected || back.Reconnects != i || back.Cause == nil || back.Cause.Error() != lost.Cause.Error() ||
					back.Since.Before(lost.Since) {
					t.Fatalf("restart %d: state %+v after %+v, want connected again with the last cause kept", i, back, lost)
				}
				prev = back.Since
				// Reported once reconnected: calls work again.
				mustWrite(t, c, "/after", "x")
				if got := mustRead(t, c, "/after"); got != "x" {
					t.Fatalf("read after restart %d = %q", i, got)
				}
			}
			c.Close()
			select {
			case s := <-r.ch:
				t.Errorf("state %+v reported for Close", s)
			case <-time.After(300 * time.Millisecond):
			}
			// The log says the same, in the same order.
			var lostLines, backLines int
			for _, l := range logs.all() {
				switch {
				case strings.Contains(l, "lost") && strings.Contains(l, "reconnecting"):
					lostLines++
				case strings.Contains(l, "reconnected to "+sock):
					backLines++
					if backLines > lostLines {
						t.Errorf("log says reconnected before lost: %q", logs.all())
					}
				}
			}
			if lostLines != 2 || backLines != 2 {
				t.Errorf("log: %d lost, %d reconnected lines, want 2 each: %q", lostLines, backLines, logs.all())
			}
		})
	}
}

// Under -race: connections dropped again and again while calls run and
// the state function itself calls the client. Reports alternate strictly
// lost, connected, lost, ... with the count rising by one each loss, and a
// state function that calls the client deadlocks nothing.
func TestConnStateOrderUnderDrops(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	c, err := xenstore.Dial(ctxT(t), srv.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mu sync.Mutex
	var got []xenstore.ConnState
	reported := make(chan struct{}, 1000)
	c.SetStateFunc(func(s xenstore.ConnState) {
		// Calling the client from here must not deadlock (no lock is held).
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		c.Read(ctx, "/x")
		cancel()
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
		reported <- struct{}{}
	})
	<-reported
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				err := c.Write(ctx, "/x", []byte("1"))
				cancel()
				if err != nil && !errors.Is(err, xenstore.ErrDisconnected) && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Write: %v", err)
					return
				}
			}
		}()
	}
	const drops = 20
	for i := 1; i <= drops; i++ {
		srv.DropConnections()
		// Wait for this drop's lost and connected before the next.
		deadline := time.After(15 * time.Second)
		for {
			mu.Lock()
			n := len(got)
			mu.Unlock()
			if n >= 1+2*i {
				break
			}
			select {
			case <-reported:
			case <-deadline:
				t.Fatalf("drop %d: %d states reported after 15 s, want %d", i, n, 1+2*i)
			}
		}
	}
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1+2*drops {
		t.Fatalf("%d states reported for %d drops: %+v", len(got), drops, got)
	}
	for i, s := range got {
		wantConnected := i%2 == 0
		wantCount := (i + 1) / 2
		if s.Connected != wantConnected || s.Reconnects != wantCount || (i > 0 && s.Cause == nil) {
			t.Fatalf("state %d = %+v, want connected %v, %d reconnects", i, s, wantConnected, wantCount)
		}
		if i > 0 && s.Since.Before(got[i-1].Since) {
			t.Fatalf("state %d goes back in time: %v before %v", i, s.Since, got[i-1].Since)
		}
	}
}
