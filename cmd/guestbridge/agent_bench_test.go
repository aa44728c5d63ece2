package main_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest/xenstored"
)

// BenchmarkAgentRSS runs the real binary as `guestbridge agent` against
// Debian's real C xenstored, answers b.N×1000 `version` requests sent as the
// host sends them, and reports the agent process's resident memory after the
// first 1000 and at the end (target: ≤ 12 MB and not growing), plus the
// reply latency as the host sees it (request written → reply readable).
//
//	go test -run '^$' -bench AgentRSS -benchtime 10x ./cmd/guestbridge   # 10 000 requests
func BenchmarkAgentRSS(b *testing.B) {
	bin := buildGuestbridge(b)
	sock := xenstored.Start(b, xenstored.C)
	root := b.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/shadow"), []byte("root:*:20000:0:99999:7:::\n"), 0o640)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agent := exec.Command(bin, "agent", "--xenstore", sock, "--root", root, "--mode", "seed", "--metrics-interval", "0")
	if err := agent.Start(); err != nil {
		b.Fatal(err)
	}
	defer agent.Wait()
	defer agent.Process.Signal(os.Interrupt)

	c, err := xenstore.Dial(ctx, sock)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	send := func(i int) time.Duration {
		id := fmt.Sprintf("bench-%d", i)
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		events, err := c.Watch(wctx, "data/guest/"+id)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := c.Write(ctx, "data/host/"+id, []byte(`{"name": "version", "value": "agent"}`)); err != nil {
			b.Fatal(err)
		}
		deadline := time.After(30 * time.Second)
		for {
			if v, err := c.Read(ctx, "data/guest/"+id); err == nil && len(v) > 0 {
				took := time.Since(start)
				// The host never deletes replies; we do, so the store stays small.
				c.Remove(ctx, "data/guest/"+id)
				return took
			}
			select {
			case <-events:
			case <-deadline:
				b.Fatalf("no reply to %s within 30 s", id)
			}
		}
	}
	var lat []time.Duration
	var first map[string]int
	b.ResetTimer()
	for i := 0; i < b.N*1000; i++ {
		lat = append(lat, send(i))
		if i == 999 {
			first = procStatus(b, agent.Process.Pid)
		}
	}
	b.StopTimer()
	end := procStatus(b, agent.Process.Pid)
	slices.Sort(lat)
	// RSS counts the binary's own code pages (RssFile) as well as the
	// memory the agent allocates (RssAnon); both are reported.
	b.ReportMetric(float64(first["VmRSS"])/1024, "MB-rss-after-1k")
	b.ReportMetric(float64(end["VmRSS"])/1024, "MB-rss-at-end")
	b.ReportMetric(float64(first["RssAnon"])/1024, "MB-anon-after-1k")
	b.ReportMetric(float64(end["RssAnon"])/1024, "MB-anon-at-end")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
}

// procStatus reads the kB fields of /proc/<pid>/status (VmRSS, RssAnon, …).
func procStatus(b *testing.B, pid int) map[string]int {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	fields := map[string]int{}
	for _, line := range strings.Split(string(status), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if f := strings.Fields(rest); ok && len(f) == 2 && f[1] == "kB" {
			if kb, err := strconv.Atoi(f[0]); err == nil {
				fields[name] = kb
			}
		}
	}
	if fields["VmRSS"] == 0 {
		b.Fatal("no VmRSS in /proc status")
	}
	return fields
}
