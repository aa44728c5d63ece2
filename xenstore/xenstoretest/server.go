// Package xenstoretest is an in-memory xenstored for tests: it speaks the
// XenStore wire protocol on a unix socket, with the node tree, watches,
// isolated transactions and error replies of the real daemons, so the
// client and anything built on it can be tested without Xen.
package xenstoretest

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Server is an in-memory XenStore daemon listening on a unix socket.
type Server struct {
	t    testing.TB
	path string
	ln   net.Listener

	mu      sync.Mutex // guards everything below and every conn's transactions
	gen     uint64
	st      store
	conns   map[*conn]bool
	watches []*watchReg
	closed  bool
	wg      sync.WaitGroup

	noDirPart bool // answer XS_DIRECTORY_PART with ENOSYS, like a daemon before Xen 4.9
}

// DisableDirectoryPart makes the server answer XS_DIRECTORY_PART with
// ENOSYS, as daemons older than Xen 4.9 do, to test the fallback.
func (s *Server) DisableDirectoryPart() {
	s.mu.Lock()
	s.noDirPart = true
	s.mu.Unlock()
}

// NewServer starts a server on a fresh socket; it stops in t.Cleanup.
func NewServer(t testing.TB) *Server {
	t.Helper()
	// Kept short: unix socket paths are limited to 107 bytes and
	// t.TempDir embeds the (possibly long) test name.
	dir, err := os.MkdirTemp("", "xst")
	if err != nil {
		t.Fatalf("xenstoretest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return NewServerAt(t, filepath.Join(dir, "socket"))
}

// NewServerAt starts a server listening on socketPath.
func NewServerAt(t testing.TB, socketPath string) *Server {
	t.Helper()
	ln, err := net.Listen("unix", socketPath)
	if err != nil {
		t.Fatalf("xenstoretest: listen on %s: %v", socketPath, err)
	}
	s := &Server{t: t, path: socketPath, ln: ln, conns: map[*conn]bool{}}
	s.st = store{root: newNode(0), gen: &s.gen}
	// The nodes a fresh xenstored has.
	s.st.mkdir("/tool/xenstored")
	s.st.mkdir(domainPath)
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// SocketPath is where clients connect (XENSTORED_PATH).
func (s *Server) SocketPath() string { return s.path }

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.t.Logf("xenstoretest: accept: %v", err)
			}
			return
		}
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serve()
		}()
	}
}

// Close stops listening and drops every connection. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.ln.Close()
	s.DropConnections()
	s.wg.Wait()
	os.Remove(s.path)
}

// DropConnections closes every client connection, as a daemon restart or a
// guest migration would, and returns once they are gone (their watches and
// transactions with them). The tree survives; new connections are accepted.
func (s *Server) DropConnections() {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
	for _, c := range cs {
		<-c.gone
	}
}

// NumConns is the number of open client connections.
func (s *Server) NumConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Set writes value at path (absolute, or relative to /local/domain/0) as a
// client would, firing watches.
func (s *Server) Set(path string, value []byte) {
	s.t.Helper()
	abs := s.mustCanonical(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.write(abs, value)
	s.fire(abs, false)
}

// Get returns the value at path and whether the node exists.
func (s *Server) Get(path string) ([]byte, bool) {
	s.t.Helper()
	abs := s.mustCanonical(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.st.lookup(abs)
	if n == nil {
		return nil, false
	}
	return append([]byte(nil), n.value...), true
}

// Children returns the sorted child names of path, or nil if it is missing.
func (s *Server) Children(path string) []string {
	s.t.Helper()
	abs := s.mustCanonical(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.st.lookup(abs); n != nil {
		return n.sortedChildNames()
	}
	return nil
}

// Delete removes path and its subtree, firing watches.
func (s *Server) Delete(path string) {
	s.t.Helper()
	abs := s.mustCanonical(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	if removed, _ := s.st.rm(abs); removed {
		s.fire(abs, true)
	}
}

func (s *Server) mustCanonical(path string) string {
	s.t.Helper()
	abs, _, ok := canonical(path)
	if !ok {
		s.t.Errorf("xenstoretest: invalid path %q", path)
		return "/invalid-path"
	}
	return abs
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	s.removeWatches(c)
}
