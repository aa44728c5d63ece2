package agent

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest/xenstored"
)

// BenchmarkReplyLatency measures, on Debian's real C xenstored, the time
// from the host writing a `version` request to the reply becoming visible
// to a watcher on data/guest (a second connection, like dom0). Run with
// -benchtime=1000x for the 1000-request figure; reports p50-ms and p99-ms.
func BenchmarkReplyLatency(b *testing.B) {
	sock := xenstored.Start(b, xenstored.C)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agentConn, err := xenstore.Dial(ctx, sock)
	if err != nil {
		b.Fatal(err)
	}
	defer agentConn.Close()
	runAgent(b, New(agentConn, &fakeActions{}, Options{Version: "1.0"}))
	host, err := xenstore.Dial(ctx, sock)
	if err != nil {
		b.Fatal(err)
	}
	defer host.Close()
	if err := host.Mkdir(ctx, guestDir); err != nil {
		b.Fatal(err)
	}
	events, err := host.Watch(ctx, guestDir)
	if err != nil {
		b.Fatal(err)
	}
	<-events // the initial event
	request := []byte(`{"name": "version", "value": "agent"}`)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("bench-%d", i)
		start := time.Now()
		if err := host.Write(ctx, hostDir+"/"+id, request); err != nil {
			b.Fatal(err)
		}
		for p := range events {
			if strings.HasSuffix(p, "/"+id) {
				break
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkHeapAfter10kRequests reports the live heap after the agent has
// answered 10 000 requests (fake store that keeps no replies), so growth
// in the agent's own state shows up: heap-KiB is the retained increase.
func BenchmarkHeapAfter10kRequests(b *testing.B) {
	ctx := context.Background()
	request := []byte(`{"name": "version", "value": "agent"}`)
	var retained uint64
	for range b.N {
		s := newFakeStore()
		s.discardReplies = true
		a := New(s, &fakeActions{}, Options{})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range 10000 {
			s.put(fmt.Sprintf("data/host/%08d", i), string(request))
			if err := a.scan(ctx); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if n := len(a.queue.done); n != doneMemory {
			b.Fatalf("done memory holds %d ids, want %d", n, doneMemory)
		}
		if after.HeapAlloc > before.HeapAlloc {
			retained = after.HeapAlloc - before.HeapAlloc
		}
		runtime.KeepAlive(a)
	}
	b.ReportMetric(float64(retained)/1024, "heap-KiB")
}
