package xenstoretest

import (
	"io"
	"net"
	"sync"

	"guestbridge/xenstore"
)

// conn is one client connection. Replies and watch events go through an
// unbounded queue drained by a writer goroutine, so firing watches under the
// server lock never blocks on a slow client.
type conn struct {
	s  *Server
	nc net.Conn

	qmu    sync.Mutex
	qcond  *sync.Cond
	queue  [][]byte
	closed bool

	gone chan struct{} // closed once the server has forgotten the connection

	// Guarded by Server.mu.
	txns   map[uint32]*txn
	nextTx uint32
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, txns: map[uint32]*txn{}, gone: make(chan struct{})}
	c.qcond = sync.NewCond(&c.qmu)
	return c
}

func (c *conn) serve() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.writeLoop()
	}()
	c.readLoop()
	c.close()
	<-done
	c.s.forget(c)
	close(c.gone)
}

func (c *conn) readLoop() {
	var hb [xenstore.HeaderSize]byte
	for {
		if _, err := io.ReadFull(c.nc, hb[:]); err != nil {
			return
		}
		h, _ := xenstore.DecodeHeader(hb[:])
		if h.Len > xenstore.MaxPayload {
			// Answer like oxenstored and skip the body, so the stream stays framed.
			c.send(errorReply(h.ReqID, h.TxID, "E2BIG"))
			if _, err := io.CopyN(io.Discard, c.nc, int64(h.Len)); err != nil {
				return
			}
			continue
		}
		p := xenstore.Packet{Type: h.Type, ReqID: h.ReqID, TxID: h.TxID, Payload: make([]byte, h.Len)}
		if _, err := io.ReadFull(c.nc, p.Payload); err != nil {
			return
		}
		c.s.mu.Lock()
		c.s.handle(c, p)
		c.s.mu.Unlock()
	}
}

func (c *conn) writeLoop() {
	for {
		c.qmu.Lock()
		for len(c.queue) == 0 && !c.closed {
			c.qcond.Wait()
		}
		if c.closed {
			c.qmu.Unlock()
			return
		}
		q := c.queue
		c.queue = nil
		c.qmu.Unlock()
		for _, b := range q {
			if _, err := c.nc.Write(b); err != nil {
				c.close()
				return
			}
		}
	}
}

// send queues one message.
func (c *conn) send(p xenstore.Packet) {
	b, err := xenstore.Encode(p)
	if err != nil {
		b, _ = xenstore.Encode(errorReply(p.ReqID, p.TxID, "E2BIG"))
	}
	c.qmu.Lock()
	if !c.closed {
		c.queue = append(c.queue, b)
		c.qcond.Signal()
	}
	c.qmu.Unlock()
}

func (c *conn) close() {
	c.qmu.Lock()
	c.closed = true
	c.qcond.Broadcast()
	c.qmu.Unlock()
	c.nc.Close()
}

func errorReply(reqID, txID uint32, errno string) xenstore.Packet {
	return xenstore.Packet{Type: xenstore.TypeError, ReqID: reqID, TxID: txID, Payload: []byte(errno + "\x00")}
}
