package xenstore

import (
	"context"
	"io"
	"slices"
	"sync"
	"time"
)

// conn is one transport connection. It matches replies to requests; the
// Client replaces it with a fresh one after the transport breaks.
type conn struct {
	rw   io.ReadWriteCloser
	name string // path it was opened from, for error messages
	gen  uint64 // which connection of the Client this is; transactions belong to one

	wsem chan struct{} // held while writing, so each request goes out in one piece

	mu      sync.Mutex
	pending map[uint32]chan Packet
	// abandoned holds requests whose callers gave up (context ended) but
	// whose replies are still due, oldest first. Their replies are dropped
	// so they can never be taken for another request's reply.
	abandoned []uint32
	err       error         // why the connection died
	done      chan struct{} // closed when it died
}

func newConn(rw io.ReadWriteCloser, name string, gen uint64) *conn {
	return &conn{rw: rw, name: name, gen: gen, wsem: make(chan struct{}, 1),
		pending: map[uint32]chan Packet{}, done: make(chan struct{})}
}

// register makes room for the reply to reqID. It fails once the connection died.
func (cn *conn) register(reqID uint32) (chan Packet, error) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.err != nil {
		return nil, cn.err
	}
	ch := make(chan Packet, 1)
	cn.pending[reqID] = ch
	return ch, nil
}

// forget drops a request that was never sent.
func (cn *conn) forget(reqID uint32) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	delete(cn.pending, reqID)
}

// abandon forgets a request whose caller stopped waiting.
func (cn *conn) abandon(reqID uint32) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if _, ok := cn.pending[reqID]; ok {
		delete(cn.pending, reqID)
		cn.abandoned = append(cn.abandoned, reqID)
	}
}

// deliver routes a reply. Some old guest kernels do not echo req_id
// (nova-agent-protocol §2.1), so a reply matching nothing is taken to answer
// the oldest abandoned request if there is one, else the only pending
// request if exactly one is pending, else dropped.
func (cn *conn) deliver(p Packet) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if ch, ok := cn.pending[p.ReqID]; ok {
		delete(cn.pending, p.ReqID)
		ch <- p
		return
	}
	if i := slices.Index(cn.abandoned, p.ReqID); i >= 0 {
		cn.abandoned = slices.Delete(cn.abandoned, i, i+1)
		return
	}
	if len(cn.abandoned) > 0 {
		cn.abandoned = cn.abandoned[1:]
		return
	}
	if len(cn.pending) == 1 {
		for id, ch := range cn.pending {
			delete(cn.pending, id)
			ch <- p
		}
	}
}

// fail marks the connection dead and closes the transport; pending callers
// see done. It reports whether this call was the one that killed it.
func (cn *conn) fail(err error) bool {
	cn.mu.Lock()
	if cn.err != nil {
		cn.mu.Unlock()
		return false
	}
	cn.err = err
	cn.pending = nil
	cn.abandoned = nil
	close(cn.done)
	cn.mu.Unlock()
	cn.rw.Close()
	return true
}

func (cn *conn) deathCause() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err
}

// send writes one encoded request with a single Write call: the xenbus
// device needs the whole message in one write() to frame it. Waiting for
// the writer slot respects ctx; so does the write itself where the
// transport has deadlines. It returns how many bytes went out: a partial
// write has desynchronised the stream.
func (cn *conn) send(ctx context.Context, b []byte) (int, error) {
	select {
	case cn.wsem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-cn.done:
		return 0, cn.deathCause()
	}
	defer func() { <-cn.wsem }()
	if d, ok := ctx.Deadline(); ok {
		if wd, ok := cn.rw.(interface{ SetWriteDeadline(time.Time) error }); ok && wd.SetWriteDeadline(d) == nil {
			defer wd.SetWriteDeadline(time.Time{})
		}
	}
	return cn.rw.Write(b)
}
