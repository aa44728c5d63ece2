package xenstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Client is a XenStore connection that is safe for concurrent use. When the
// transport breaks (daemon restart, guest resume or migration) calls in
// flight fail with ErrDisconnected, the client redials the same path in the
// background, re-registers its watches, and later calls work again; a call
// made while it is reconnecting waits for the new connection or its context.
type Client struct {
	path  string // as given to Dial; "" means search the default places again
	reqID atomic.Uint32

	mu       sync.Mutex
	logf     func(format string, args ...any)
	cur      *conn         // nil while reconnecting
	ready    chan struct{} // closed while cur != nil
	gen      uint64
	closed   bool
	closing  chan struct{}
	watches  map[string]*watch // by token
	tokenSeq uint64

	// Connection state reporting (SetStateFunc). The state changes and
	// events are queued under mu, in the order they happen, and delivered
	// by deliverStates under notifyMu, never under mu.
	state    ConnState
	stateFn  func(ConnState)
	events   []ConnState
	notifyMu sync.Mutex
}

// ConnState is the state of a Client's connection, as SetStateFunc reports it.
type ConnState struct {
	// Connected is false from the moment the transport is lost until the
	// client has redialled: calls then wait (or fail with ErrDisconnected).
	Connected bool
	// Since is when the client took this state.
	Since time.Time
	// Cause is why the connection was last lost (nil before the first loss);
	// it is kept once connected again.
	Cause error
	// Reconnects counts the times the connection was lost since Dial, each
	// one starting a reconnect (the current one too while not Connected).
	Reconnects int
	// Path is the socket or device connected to, or last connected to.
	Path string
}

// Dial connects to xenstored at path. With path "" it tries $XENSTORED_PATH,
// /var/run/xenstored/socket, /dev/xen/xenbus and /proc/xen/xenbus in turn. A
// unix socket is dialled; a device or /proc file is opened read-write.
func Dial(ctx context.Context, path string) (*Client, error) {
	rw, name, err := openAny(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("xenstore: %w", err)
	}
	c := &Client{
		path:    path,
		closing: make(chan struct{}),
		watches: map[string]*watch{},
		logf:    func(string, ...any) {},
	}
	c.install(rw, name)
	return c, nil
}

// SetStateFunc makes the client report its connection state to fn: at once
// the current state, then every change (lost, reconnected) in the order
// they happen, one call at a time. fn runs on one of the client's
// goroutines without any of its locks held, so it may call the client (but
// it delays the next report while it runs, and must not call SetStateFunc).
// Nothing is reported for Close. fn nil stops the reports.
func (c *Client) SetStateFunc(fn func(ConnState)) {
	c.mu.Lock()
	c.stateFn = fn
	c.events = nil
	if fn != nil {
		c.events = append(c.events, c.state)
	}
	c.mu.Unlock()
	go c.deliverStates()
}

// setStateLocked records a change of the connection state (under mu) and queues
// it for the state function; deliverStates hands it over later, outside mu.
func (c *Client) setStateLocked(connected bool, cause error, path string) {
	c.state.Connected, c.state.Since, c.state.Path = connected, time.Now(), path
	if !connected {
		c.state.Cause = cause
		c.state.Reconnects++
	}
	if c.stateFn != nil {
		c.events = append(c.events, c.state)
	}
}

// deliverStates calls the state function with the queued states, in order.
// notifyMu makes the deliveries of concurrent callers one ordered stream; mu
// is never held while the function runs.
func (c *Client) deliverStates() {
	c.notifyMu.Lock()
	defer c.notifyMu.Unlock()
	for {
		c.mu.Lock()
		evs, fn := c.events, c.stateFn
		c.events = nil
		c.mu.Unlock()
		if len(evs) == 0 || fn == nil {
			return
		}
		for _, e := range evs {
			fn(e)
		}
	}
}

// SetLogf sets where the client reports reconnects; the default discards them.
func (c *Client) SetLogf(logf func(format string, args ...any)) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	c.mu.Lock()
	c.logf = logf
	c.mu.Unlock()
}

func (c *Client) log(format string, args ...any) {
	c.mu.Lock()
	logf := c.logf
	c.mu.Unlock()
	logf(format, args...)
}

// install makes rw the current connection and starts its reader.
func (c *Client) install(rw io.ReadWriteCloser, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		rw.Close()
		return false
	}
	c.gen++
	cn := newConn(rw, name, c.gen)
	c.cur = cn
	c.setStateLocked(true, nil, name)
	if c.ready == nil {
		c.ready = make(chan struct{})
	}
	close(c.ready)
	go c.readLoop(cn)
	return true
}

func (c *Client) readLoop(cn *conn) {
	for {
		p, err := readReply(cn.rw)
		if err != nil {
			c.connLost(cn, err)
			return
		}
		if p.Type == TypeWatchEvent {
			c.dispatchEvent(p.Payload)
			continue
		}
		cn.deliver(p)
	}
}

// connLost retires cn and starts reconnecting, once per connection.
func (c *Client) connLost(cn *conn, err error) {
	if !cn.fail(err) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != cn {
		return
	}
	c.cur = nil
	c.ready = make(chan struct{})
	if !c.closed {
		c.setStateLocked(false, err, cn.name)
		go c.reconnect(cn.name, err)
	}
}

func (c *Client) reconnect(lastName string, cause error) {
	c.deliverStates() // lost: here, not in connLost, whose caller may be a request
	c.log("xenstore: connection to %s lost: %v; reconnecting", lastName, cause)
	b := newBackoff()
	for attempt := 1; ; attempt++ {
		select {
		case <-c.closing:
			return
		case <-time.After(b.next()):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		rw, name, err := openAny(ctx, c.path)
		cancel()
		if err != nil {
			if b.shouldLog() {
				c.log("xenstore: reconnect attempt %d failed: %v; retrying", attempt, err)
			}
			continue
		}
		if !c.install(rw, name) {
			return
		}
		c.deliverStates()
		c.log("xenstore: reconnected to %s", name)
		c.rewatch()
		return
	}
}

// connFor returns the current connection, waiting while reconnecting.
func (c *Client) connFor(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		cn, ready := c.cur, c.ready
		c.mu.Unlock()
		if cn != nil {
			return cn, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("xenstore: waiting for the connection to come back: %w", ctx.Err())
		case <-c.closing:
			return nil, ErrClosed
		}
	}
}

// request is one call: which operation, in which transaction, with what payload.
type request struct {
	typ     MsgType
	op      string // for errors, e.g. "read"
	path    string // for errors
	txID    uint32
	txGen   uint64 // connection the transaction lives on; 0 outside transactions
	payload []byte
}

// do sends req and waits for its reply. It returns the reply payload and the
// generation of the connection that answered.
func (c *Client) do(ctx context.Context, req request) ([]byte, uint64, error) {
	if len(req.payload) > MaxClientPayload {
		return nil, 0, tooBig(req.op, req.path, len(req.payload))
	}
	cn, err := c.connFor(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("xenstore: %s %s: %w", req.op, req.path, err)
	}
	if req.txGen != 0 && cn.gen != req.txGen {
		return nil, 0, fmt.Errorf("xenstore: %s %s: transaction lost when the connection was re-established: %w",
			req.op, req.path, ErrAgain)
	}
	id := c.reqID.Add(1)
	b, err := Encode(Packet{Type: req.typ, ReqID: id, TxID: req.txID, Payload: req.payload})
	if err != nil {
		return nil, 0, err
	}
	ch, err := cn.register(id)
	if err != nil {
		return nil, 0, c.lostErr(req, cn)
	}
	if n, err := cn.send(ctx, b); err != nil {
		if n == 0 && (ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)) {
			// Gave up before anything went out; the stream is intact.
			cn.forget(id)
			cause := ctx.Err()
			if cause == nil { // the write deadline fired a moment before ctx's timer
				cause = context.DeadlineExceeded
			}
			return nil, 0, fmt.Errorf("xenstore: %s %s: %w", req.op, req.path, cause)
		}
		c.connLost(cn, err) // a torn write leaves the stream unframed
		return nil, 0, c.lostErr(req, cn)
	}
	select {
	case p := <-ch:
		return c.reply(req, cn, p)
	case <-cn.done:
		select {
		case p := <-ch: // the reply raced with the breakage
			return c.reply(req, cn, p)
		default:
			return nil, 0, c.lostErr(req, cn)
		}
	case <-ctx.Done():
		cn.abandon(id)
		return nil, 0, fmt.Errorf("xenstore: %s %s: %w", req.op, req.path, ctx.Err())
	}
}

func (c *Client) reply(req request, cn *conn, p Packet) ([]byte, uint64, error) {
	switch p.Type {
	case TypeError:
		return nil, cn.gen, errorFromPayload(req.op, req.path, p.Payload)
	case req.typ:
		return p.Payload, cn.gen, nil
	}
	return nil, cn.gen, fmt.Errorf("xenstore: %s %s: got a %v reply to a %v request", req.op, req.path, p.Type, req.typ)
}

func (c *Client) lostErr(req request, cn *conn) error {
	select {
	case <-c.closing:
		return fmt.Errorf("xenstore: %s %s: %w", req.op, req.path, ErrClosed)
	default:
	}
	return fmt.Errorf("xenstore: %s %s: connection to %s lost (%v), reconnecting: %w",
		req.op, req.path, cn.name, cn.deathCause(), ErrDisconnected)
}

// Close closes the connection, stops reconnecting and closes every watch channel.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.closing)
	cn := c.cur
	ws := c.watches
	c.watches = nil
	c.mu.Unlock()
	if cn != nil {
		cn.fail(ErrClosed)
	}
	for _, w := range ws {
		w.stop()
	}
	return nil
}

// splitNUL splits "a\0b\0" into [a b]; a missing final NUL is tolerated.
func splitNUL(b []byte) []string {
	b = bytes.TrimSuffix(b, []byte{0})
	if len(b) == 0 {
		return []string{}
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

var errNUL = errors.New("path contains a NUL byte")
