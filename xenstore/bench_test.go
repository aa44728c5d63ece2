package xenstore_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest"
	"guestbridge/xenstore/xenstoretest/xenstored"
)

// Benchmarks against the in-memory server and the real C daemon. Each
// reports the median and 99th percentile latency of single operations.

type benchBackend struct {
	name  string
	start func(b *testing.B) string
}

var benchBackends = []benchBackend{
	{"memory", func(b *testing.B) string { return xenstoretest.NewServer(b).SocketPath() }},
	{"xenstored", func(b *testing.B) string { return xenstored.Start(b, xenstored.C) }},
}

func benchDial(b *testing.B, sock string) *xenstore.Client {
	c, err := xenstore.Dial(context.Background(), sock)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// reportLatencies adds p50/p99 (µs) of the measured operations.
func reportLatencies(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

func BenchmarkRead(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			c := benchDial(b, be.start(b))
			ctx := context.Background()
			if err := c.Write(ctx, "/bench/r", []byte("some value of modest size")); err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				if _, err := c.Read(ctx, "/bench/r"); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			reportLatencies(b, lat)
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			c := benchDial(b, be.start(b))
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				v := []byte(strconv.Itoa(i))
				t0 := time.Now()
				if err := c.Write(ctx, "/bench/w", v); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			reportLatencies(b, lat)
		})
	}
}

// BenchmarkWatchLatency measures from the start of a write by one client
// to the event arriving at another client's watch.
func BenchmarkWatchLatency(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			sock := be.start(b)
			writer, watcher := benchDial(b, sock), benchDial(b, sock)
			ctx := context.Background()
			ch, err := watcher.Watch(ctx, "/bench/watch")
			if err != nil {
				b.Fatal(err)
			}
			<-ch // initial event
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				if err := writer.Write(ctx, "/bench/watch", []byte(strconv.Itoa(i))); err != nil {
					b.Fatal(err)
				}
				select {
				case <-ch:
				case <-time.After(5 * time.Second):
					b.Fatal("no watch event within 5 s")
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			reportLatencies(b, lat)
		})
	}
}

// BenchmarkParallelRead measures throughput with many concurrent callers
// sharing one connection.
func BenchmarkParallelRead(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			c := benchDial(b, be.start(b))
			ctx := context.Background()
			if err := c.Write(ctx, "/bench/p", []byte("v")); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Read(ctx, "/bench/p"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
