package xenstoretest

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Proxy forwards unix-socket connections to a XenStore daemon (real or
// in-memory) and can cut them, as a dropped transport does: the daemon
// sees the client go away (its watches and transactions with it) while its
// store survives, which a daemon restart would not give.
type Proxy struct {
	t      testing.TB
	target string
	path   string
	ln     net.Listener

	mu       sync.Mutex
	conns    map[net.Conn]bool
	downTill time.Time
	closed   bool
}

// NewProxy listens on a fresh socket in front of target; it stops in t.Cleanup.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	dir, err := os.MkdirTemp("", "xsp") // short: sun_path is 108 bytes
	if err != nil {
		t.Fatalf("xenstoretest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "proxy.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("xenstoretest: proxy listen: %v", err)
	}
	p := &Proxy{t: t, target: target, path: path, ln: ln, conns: map[net.Conn]bool{}}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// SocketPath is where clients connect.
func (p *Proxy) SocketPath() string { return p.path }

// Cut closes every forwarded connection and refuses new ones for d: the
// clients see their transport drop and stay unable to reconnect for d.
func (p *Proxy) Cut(d time.Duration) {
	p.mu.Lock()
	p.downTill = time.Now().Add(d)
	cs := p.conns
	p.conns = map[net.Conn]bool{}
	p.mu.Unlock()
	for c := range cs {
		c.Close()
	}
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed || time.Now().Before(p.downTill) {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.mu.Unlock()
		up, err := net.Dial("unix", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			up.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	cs := p.conns
	p.conns = nil
	p.mu.Unlock()
	p.ln.Close()
	for c := range cs {
		c.Close()
	}
}
