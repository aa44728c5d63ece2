package xenstore

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// watch delivers the events of one registered watch. Events are coalesced,
// not buffered without end: a path that fires again before the reader took
// it is delivered once, so a slow reader loses no changed path but may see
// fewer events than there were writes, and memory stays bounded by the
// number of distinct paths.
type watch struct {
	path, token string
	out         chan string

	mu       sync.Mutex
	queue    []string
	queued   map[string]bool
	wake     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
}

func newWatch(path, token string) *watch {
	w := &watch{
		path: path, token: token,
		out:     make(chan string),
		queued:  map[string]bool{},
		wake:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
	go w.run()
	return w
}

// push queues path for delivery; it never blocks the connection's reader.
func (w *watch) push(path string) {
	w.mu.Lock()
	if !w.queued[path] {
		w.queued[path] = true
		w.queue = append(w.queue, path)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watch) pop() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		return "", false
	}
	p := w.queue[0]
	w.queue = w.queue[1:]
	delete(w.queued, p)
	return p, true
}

func (w *watch) run() {
	defer close(w.out)
	for {
		p, ok := w.pop()
		if !ok {
			select {
			case <-w.wake:
				continue
			case <-w.stopped:
				return
			}
		}
		select {
		case w.out <- p:
		case <-w.stopped:
			return
		}
	}
}

func (w *watch) stop() { w.stopOnce.Do(func() { close(w.stopped) }) }

// Watch registers a watch on path and returns a channel of changed paths:
// first the initial event the daemon sends on registration, then one per
// change at or below path (paths are relative when path is). Events are
// coalesced per path for slow readers (see watch). After a reconnect the
// watch is registered again and the channel gets the watched path once, so
// the reader re-scans. The watch is removed and the channel closed when ctx
// ends or the client is closed.
func (c *Client) Watch(ctx context.Context, path string) (<-chan string, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("xenstore: watch %s: %w", path, ErrClosed)
	}
	c.tokenSeq++
	w := newWatch(path, fmt.Sprintf("guestbridge-%d", c.tokenSeq))
	// Registered before WATCH is sent: through /dev/xen/xenbus the initial
	// event may arrive before the OK reply.
	c.watches[w.token] = w
	c.mu.Unlock()

	if err := c.register(ctx, w); err != nil {
		c.dropWatch(w)
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
			if c.dropWatch(w) {
				uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				c.do(uctx, request{typ: TypeUnwatch, op: "unwatch", path: w.path, payload: watchArg(w)})
				cancel()
			}
		case <-w.stopped: // client closed
		}
	}()
	return w.out, nil
}

func watchArg(w *watch) []byte { return []byte(w.path + "\x00" + w.token + "\x00") }

func (c *Client) register(ctx context.Context, w *watch) error {
	if strings.IndexByte(w.path, 0) >= 0 {
		return fmt.Errorf("xenstore: watch %q: %w", w.path, errNUL)
	}
	_, _, err := c.do(ctx, request{typ: TypeWatch, op: "watch", path: w.path, payload: watchArg(w)})
	return err
}

// dropWatch forgets w and closes its channel; it reports whether w was live.
func (c *Client) dropWatch(w *watch) bool {
	c.mu.Lock()
	live := c.watches[w.token] == w
	if live {
		delete(c.watches, w.token)
	}
	c.mu.Unlock()
	w.stop()
	return live
}

// rewatch registers every live watch on a fresh connection and tells each
// reader to re-scan, since changes made while disconnected were not seen.
func (c *Client) rewatch() {
	c.mu.Lock()
	ws := make([]*watch, 0, len(c.watches))
	for _, w := range c.watches {
		ws = append(ws, w)
	}
	c.mu.Unlock()
	for _, w := range ws {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.register(ctx, w)
		cancel()
		if err != nil {
			c.log("xenstore: re-registering watch on %s: %v", w.path, err)
		}
		w.push(w.path)
	}
}

// dispatchEvent routes a WATCH_EVENT ("path\0token\0") by its token. The
// header ids are ignored: the guest kernel leaves them uninitialised.
func (c *Client) dispatchEvent(payload []byte) {
	parts := bytes.SplitN(payload, []byte{0}, 3)
	if len(parts) < 2 {
		return
	}
	c.mu.Lock()
	w := c.watches[string(parts[1])]
	c.mu.Unlock()
	if w != nil {
		w.push(string(parts[0]))
	}
}
