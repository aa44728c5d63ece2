package xenstore_test

import (
	"fmt"
	"testing"
	"time"

	"guestbridge/xenstore/xenstoretest"
)

// A reader that does not keep up loses no changed path: events for distinct
// paths queue up, repeated events for one path are coalesced.
func TestWatchSlowReaderCoalesces(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	e := &env{backend: backend{socket: srv.SocketPath()}}
	c := e.dial(t)
	ch, err := c.Watch(ctxT(t), "/slow")
	if err != nil {
		t.Fatal(err)
	}
	if got := nextEvent(t, ch); got != "/slow" {
		t.Fatalf("initial event %q", got)
	}
	const distinct = 200
	for i := range distinct {
		srv.Set(fmt.Sprintf("/slow/k%d", i), []byte("x"))
	}
	for range 50 {
		srv.Set("/slow/hot", []byte("again"))
	}
	mustWrite(t, c, "/slow/last", "x") // its event is queued after all the others
	want := map[string]bool{"/slow/hot": true, "/slow/last": true}
	for i := range distinct {
		want[fmt.Sprintf("/slow/k%d", i)] = true
	}
	got := map[string]int{}
	for got["/slow/last"] == 0 {
		got[nextEvent(t, ch)]++
	}
	for p := range want {
		if got[p] == 0 {
			t.Errorf("event for %s lost", p)
		}
	}
	if got["/slow/hot"] > 2 {
		t.Errorf("/slow/hot delivered %d times; pending repeats should be coalesced", got["/slow/hot"])
	}
	select {
	case p := <-ch:
		t.Errorf("extra event %q after the queue drained", p)
	case <-time.After(50 * time.Millisecond):
	}
}
