package xenstoretest

import (
	"strings"

	"guestbridge/xenstore"
)

// watchReg is one registered watch.
type watchReg struct {
	c        *conn
	given    string // as the client sent it; the initial event echoes it
	abs      string // canonical path, or the special "@…" name
	token    string
	relative bool
}

func (w *watchReg) special() bool { return strings.HasPrefix(w.abs, "@") }

func (w *watchReg) event(path string) {
	if w.relative {
		path = relativise(path)
	}
	w.c.send(eventPacket(path, w.token))
}

func eventPacket(path, token string) xenstore.Packet {
	return xenstore.Packet{Type: xenstore.TypeWatchEvent, Payload: []byte(path + "\x00" + token + "\x00")}
}

// fire sends events for a change of abs: to watches at or above it, and on
// removal also to watches below it, with the watched path, as xenstored does.
func (s *Server) fire(abs string, removed bool) {
	for _, w := range s.watches {
		switch {
		case w.special():
		case isUnder(abs, w.abs):
			w.event(abs)
		case removed && isUnder(w.abs, abs):
			w.event(w.abs)
		}
	}
}

func watchArgs(b []byte) (path, token string, good bool) {
	a, good := args(b)
	if !good || len(a) < 2 || a[0] == "" {
		return "", "", false
	}
	return a[0], a[1], true
}

func (s *Server) parseWatch(r *request) (*watchReg, bool) {
	path, token, good := watchArgs(r.p.Payload)
	if !good {
		return nil, false
	}
	w := &watchReg{c: r.c, given: path, token: token}
	if strings.HasPrefix(path, "@") {
		w.abs = path
		return w, validChars(path)
	}
	w.abs, w.relative, good = canonical(path)
	return w, good
}

func (s *Server) findWatch(w *watchReg) int {
	for i, o := range s.watches {
		if o.c == w.c && o.abs == w.abs && o.token == w.token {
			return i
		}
	}
	return -1
}

func (s *Server) doWatch(r *request) ([]byte, string) {
	w, good := s.parseWatch(r)
	if !good {
		return nil, "EINVAL"
	}
	if s.findWatch(w) >= 0 {
		return nil, "EEXIST"
	}
	s.watches = append(s.watches, w)
	// The initial event follows the OK and names the path as given.
	r.after = func() { w.c.send(eventPacket(w.given, w.token)) }
	return ok, ""
}

func (s *Server) doUnwatch(r *request) ([]byte, string) {
	w, good := s.parseWatch(r)
	if !good {
		return nil, "EINVAL"
	}
	i := s.findWatch(w)
	if i < 0 {
		return nil, "ENOENT"
	}
	s.watches = append(s.watches[:i], s.watches[i+1:]...)
	return ok, ""
}

func (s *Server) doResetWatches(r *request) ([]byte, string) {
	s.removeWatches(r.c)
	return ok, ""
}

// removeWatches drops all of c's watches; s.mu is held.
func (s *Server) removeWatches(c *conn) {
	kept := s.watches[:0]
	for _, w := range s.watches {
		if w.c != c {
			kept = append(kept, w)
		}
	}
	clear(s.watches[len(kept):])
	s.watches = kept
}
