package agent

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
)

// fakeStore is an in-memory XenStore with relative paths only: enough for
// the agent's operations, watches included, plus injected failures.
type fakeStore struct {
	mu       sync.Mutex
	nodes    map[string][]byte
	watchers map[string][]chan string
	ops      []string // "write data/guest/x", "rm data/host/x", ...
	// failNext makes the next n operations whose "op path" starts with the
	// key fail with errFake.
	failNext map[string]int
	// reverseList reverses listings (XenStore order is arbitrary).
	reverseList bool
	// discardReplies drops writes under data/guest/ (memory benchmarks
	// measure the agent, not the fake's copies of replies).
	discardReplies bool
}

var errFake = errors.New("fake xenstore failure")

func newFakeStore() *fakeStore {
	return &fakeStore{nodes: map[string][]byte{}, watchers: map[string][]chan string{}, failNext: map[string]int{}}
}

func (s *fakeStore) fail(prefix string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[prefix] = n
}

// check records op and reports an injected failure; mu must be held.
func (s *fakeStore) check(op string) error {
	if !s.discardReplies {
		s.ops = append(s.ops, op)
	}
	for prefix, n := range s.failNext {
		if n > 0 && strings.HasPrefix(op, prefix) {
			s.failNext[prefix] = n - 1
			return errFake
		}
	}
	return nil
}

func (s *fakeStore) Read(_ context.Context, path string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("read " + path); err != nil {
		return nil, err
	}
	v, ok := s.nodes[path]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", path, fs.ErrNotExist)
	}
	return append([]byte(nil), v...), nil
}

func (s *fakeStore) Write(_ context.Context, path string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("write " + path); err != nil {
		return err
	}
	if s.discardReplies && strings.HasPrefix(path, "data/guest/") {
		return nil
	}
	s.nodes[path] = append([]byte(nil), value...)
	s.notify(path)
	return nil
}

func (s *fakeStore) Remove(_ context.Context, path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("rm " + path); err != nil {
		return err
	}
	if _, ok := s.nodes[path]; !ok {
		return fmt.Errorf("rm %s: %w", path, fs.ErrNotExist)
	}
	delete(s.nodes, path)
	s.notify(path)
	return nil
}

func (s *fakeStore) Mkdir(_ context.Context, path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.check("mkdir " + path)
}

func (s *fakeStore) List(_ context.Context, path string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("list " + path); err != nil {
		return nil, err
	}
	var out []string
	for k := range s.nodes {
		if rest, ok := strings.CutPrefix(k, path+"/"); ok && !strings.Contains(rest, "/") {
			out = append(out, rest)
		}
	}
	sort.Strings(out)
	if s.reverseList {
		sort.Sort(sort.Reverse(sort.StringSlice(out)))
	}
	return out, nil
}

func (s *fakeStore) Watch(ctx context.Context, path string) (<-chan string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("watch " + path); err != nil {
		return nil, err
	}
	ch := make(chan string, 1024)
	ch <- path // the initial event, as xenstored sends
	s.watchers[path] = append(s.watchers[path], ch)
	go func() {
		<-ctx.Done()
		s.dropWatches(path)
	}()
	return ch, nil
}

// dropWatches closes every watch on path, as a lost connection does.
func (s *fakeStore) dropWatches(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.watchers[path] {
		close(ch)
	}
	delete(s.watchers, path)
}

// notify sends path to watches at or above it; mu must be held.
func (s *fakeStore) notify(path string) {
	for w, chans := range s.watchers {
		if path == w || strings.HasPrefix(path, w+"/") {
			for _, ch := range chans {
				select {
				case ch <- path:
				default: // a slow watcher only needs one pending event
				}
			}
		}
	}
}

func (s *fakeStore) get(path string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.nodes[path]
	return string(v), ok
}

func (s *fakeStore) put(path, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes[path] = []byte(value)
	s.notify(path)
}

func (s *fakeStore) opsMatching(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, op := range s.ops {
		if strings.HasPrefix(op, prefix) {
			out = append(out, op)
		}
	}
	return out
}

// fakeActions records what the agent asked for and fails on demand.
type fakeActions struct {
	mu        sync.Mutex
	passwords []string
	files     map[string][]byte
	resets    int
	err       error // returned by every action when set
	panicMsg  string
}

func (f *fakeActions) SetPassword(pw string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicMsg != "" {
		panic(f.panicMsg)
	}
	if f.err != nil {
		return f.err
	}
	f.passwords = append(f.passwords, pw)
	return nil
}

func (f *fakeActions) InjectFile(path string, content []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.files == nil {
		f.files = map[string][]byte{}
	}
	f.files[path] = append([]byte(nil), content...)
	return nil
}

func (f *fakeActions) ResetNetwork(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.resets++
	return nil
}

func (f *fakeActions) resetCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.resets
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
