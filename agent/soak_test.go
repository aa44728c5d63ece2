package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest"
	"guestbridge/xenstore/xenstoretest/xenstored"
)

// BenchmarkSoak is the soak run of issue 11 (not part of the default test
// run): the real binary as `guestbridge agent` behind a cuttable proxy in
// front of Debian's real C xenstored gets GUESTBRIDGE_SOAK_REQUESTS
// (default 100 000) `version` requests in batches of 500, with a 1.5 s
// transport drop in the middle of every 4th batch and a daemon restart
// (store emptied, as a host-side restart does) between every 20th. Every
// request must be answered and run exactly once (counted from the agent's
// log); the agent's RSS is printed every 20 000 requests.
//
//	go test -run '^$' -bench Soak -benchtime 1x -timeout 2h ./agent
func BenchmarkSoak(b *testing.B) {
	total := 100000
	if v, err := strconv.Atoi(os.Getenv("GUESTBRIDGE_SOAK_REQUESTS")); err == nil && v > 0 {
		total = v
	}
	const batch = 500
	dir := b.TempDir()
	bin := filepath.Join(dir, "guestbridge")
	if out, err := exec.Command("go", "build", "-o", bin, "guestbridge/cmd/guestbridge").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	sock := xenstored.Start(b, xenstored.C)
	proxy := xenstoretest.NewProxy(b, sock)
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/shadow"), []byte("root:*:20000:0:99999:7:::\n"), 0o640)
	agent := exec.Command(bin, "agent", "--xenstore", proxy.SocketPath(), "--root", root,
		"--state-dir", filepath.Join(dir, "state"), "--mode", "apply", "--metrics-interval", "0")
	stderr, _ := agent.StderrPipe()
	if err := agent.Start(); err != nil {
		b.Fatal(err)
	}
	var (
		mu      sync.Mutex
		ran     = map[string]int{}
		logTail []string
	)
	reqLine := regexp.MustCompile(`request (soak-[0-9]+): \\?"version\\?" → 0`)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			if m := reqLine.FindStringSubmatch(line); m != nil {
				ran[m[1]]++
			} else {
				logTail = append(logTail, line)
				if len(logTail) > 50 {
					logTail = logTail[1:]
				}
			}
			mu.Unlock()
		}
		io.Copy(io.Discard, stderr)
	}()
	defer func() {
		agent.Process.Signal(os.Interrupt)
		agent.Wait()
		<-logDone
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	host, err := xenstore.Dial(ctx, sock)
	if err != nil {
		b.Fatal(err)
	}
	defer host.Close()
	rss := func() string {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", agent.Process.Pid))
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
			}
		}
		return "?"
	}
	req := []byte(`{"name": "version", "value": "agent"}`)
	start := time.Now()
	drops, restarts := 0, 0
	b.ResetTimer()
	for n, bi := 0, 0; n < total; bi++ {
		if bi > 0 && bi%20 == 0 {
			xenstored.Restart(b, sock)
			restarts++
		}
		var ids []string
		for i := 0; i < batch && n < total; i, n = i+1, n+1 {
			id := fmt.Sprintf("soak-%d", n)
			ids = append(ids, id)
			if err := host.Write(ctx, "/local/domain/0/data/host/"+id, req); err != nil {
				b.Fatalf("host write %s: %v", id, err)
			}
			if bi%4 == 2 && i == batch/2 {
				proxy.Cut(1500 * time.Millisecond)
				drops++
			}
		}
		deadline := time.Now().Add(2 * time.Minute)
		for _, id := range ids {
			for {
				v, err := host.Read(ctx, "/local/domain/0/data/guest/"+id)
				if err == nil && strings.Contains(string(v), `"returncode":"0"`) {
					break
				}
				if time.Now().After(deadline) {
					mu.Lock()
					b.Fatalf("request %s not answered within 2 min (batch %d); agent log tail:\n%s", id, bi, strings.Join(logTail, "\n"))
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		if err := host.Remove(ctx, "/local/domain/0/data/guest"); err != nil {
			b.Fatalf("clearing replies: %v", err)
		}
		if n%20000 == 0 || n == total { // benchmark logs are capped at a few lines
			b.Logf("%6d requests  %6.1f s  agent RSS %s  (%d drops, %d restarts)", n, time.Since(start).Seconds(), rss(), drops, restarts)
		}
	}
	time.Sleep(time.Second) // a request run twice would be logged by now
	mu.Lock()
	defer mu.Unlock()
	twice, missing := 0, 0
	for n := range total {
		switch ran[fmt.Sprintf("soak-%d", n)] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	if twice > 0 || missing > 0 || len(ran) != total {
		b.Fatalf("%d requests: %d never ran, %d ran more than once, %d distinct ids logged", total, missing, twice, len(ran))
	}
	b.Logf("%d requests, %d transport drops, %d daemon restarts: every one answered and run exactly once in %.1f s",
		total, drops, restarts, time.Since(start).Seconds())
}
