package xenstoretest

import (
	"bytes"
	"strconv"
	"strings"

	"guestbridge/xenstore"
)

// request is one decoded client request and what the handler needs to answer it.
type request struct {
	c *conn
	p xenstore.Packet
	v view
	// after runs once the reply is queued (WATCH sends its initial event then).
	after func()
}

type handler func(s *Server, r *request) (reply []byte, errno string)

var handlers = map[xenstore.MsgType]handler{
	xenstore.TypeRead:             (*Server).doRead,
	xenstore.TypeDirectory:        (*Server).doDirectory,
	xenstore.TypeDirectoryPart:    (*Server).doDirectoryPart,
	xenstore.TypeWrite:            (*Server).doWrite,
	xenstore.TypeMkdir:            (*Server).doMkdir,
	xenstore.TypeRm:               (*Server).doRm,
	xenstore.TypeGetPerms:         (*Server).doGetPerms,
	xenstore.TypeSetPerms:         (*Server).doSetPerms,
	xenstore.TypeWatch:            (*Server).doWatch,
	xenstore.TypeUnwatch:          (*Server).doUnwatch,
	xenstore.TypeResetWatches:     (*Server).doResetWatches,
	xenstore.TypeTransactionStart: (*Server).doTransactionStart,
	xenstore.TypeTransactionEnd:   (*Server).doTransactionEnd,
	xenstore.TypeGetDomainPath:    (*Server).doGetDomainPath,
}

var ok = []byte("OK\x00")

// handle answers one request; s.mu is held.
func (s *Server) handle(c *conn, p xenstore.Packet) {
	h := handlers[p.Type]
	if h == nil {
		c.send(errorReply(p.ReqID, p.TxID, "ENOSYS"))
		return
	}
	r := &request{c: c, p: p, v: view{st: s.st}}
	if p.TxID != 0 && p.Type != xenstore.TypeTransactionStart {
		tx := c.txns[p.TxID]
		if tx == nil {
			c.send(errorReply(p.ReqID, p.TxID, "ENOENT")) // as C xenstored does
			return
		}
		r.v = view{st: tx.st, tx: tx}
	}
	reply, errno := h(s, r)
	if errno != "" {
		c.send(errorReply(p.ReqID, p.TxID, errno))
		return
	}
	c.send(xenstore.Packet{Type: p.Type, ReqID: p.ReqID, TxID: p.TxID, Payload: reply})
	if r.after != nil {
		r.after()
	}
}

// oneArg parses a "string\0" payload; anything else is EINVAL.
func oneArg(b []byte) (string, bool) {
	if len(b) == 0 || b[len(b)-1] != 0 || bytes.IndexByte(b, 0) != len(b)-1 {
		return "", false
	}
	return string(b[:len(b)-1]), true
}

// args parses "a\0b\0…" into its strings; the final NUL is required.
func args(b []byte) ([]string, bool) {
	if len(b) == 0 || b[len(b)-1] != 0 {
		return nil, false
	}
	return strings.Split(string(b[:len(b)-1]), "\x00"), true
}

// pathArg parses a one-path payload into an absolute path.
func pathArg(b []byte) (string, bool) {
	p, good := oneArg(b)
	if !good {
		return "", false
	}
	abs, _, good := canonical(p)
	return abs, good
}

// existingNode is the node the request's path names, or the errno to reply.
func (r *request) existingNode() (*node, string) {
	abs, good := pathArg(r.p.Payload)
	if !good {
		return nil, "EINVAL"
	}
	if n := r.v.lookup(abs); n != nil {
		return n, ""
	}
	return nil, "ENOENT"
}

func (s *Server) doRead(r *request) ([]byte, string) {
	n, errno := r.existingNode()
	if n == nil {
		return nil, errno
	}
	return n.value, ""
}

func (s *Server) doDirectory(r *request) ([]byte, string) {
	n, errno := r.existingNode()
	if n == nil {
		return nil, errno
	}
	var b []byte
	for _, name := range n.childNames() {
		b = append(append(b, name...), 0)
	}
	return b, ""
}

// doDirectoryPart answers XS_DIRECTORY_PART ("path\0offset\0") the way the
// C xenstored does: the node's generation, then as many whole names from the
// byte offset into the NUL-separated child list as fit in a payload, and an
// extra NUL (an empty name) when the list ends in this part.
func (s *Server) doDirectoryPart(r *request) ([]byte, string) {
	if s.noDirPart {
		return nil, "ENOSYS"
	}
	a, good := args(r.p.Payload)
	if !good || len(a) != 2 {
		return nil, "EINVAL"
	}
	off, err := strconv.Atoi(a[1])
	if err != nil || off < 0 {
		return nil, "EINVAL"
	}
	r.p.Payload = append([]byte(a[0]), 0)
	n, errno := r.existingNode()
	if n == nil {
		return nil, errno
	}
	var list []byte
	for _, name := range n.childNames() {
		list = append(append(list, name...), 0)
	}
	gen := strconv.FormatUint(n.gen, 10)
	b := append([]byte(gen), 0)
	if off >= len(list) {
		return append(b, 0), ""
	}
	max := xenstore.MaxPayload - len(b) - 1
	end := off
	for end < len(list) {
		next := end + bytes.IndexByte(list[end:], 0) + 1
		if next-off > max {
			break
		}
		end = next
	}
	b = append(b, list[off:end]...)
	if end == len(list) {
		b = append(b, 0)
	}
	return b, ""
}

func (s *Server) doWrite(r *request) ([]byte, string) {
	i := bytes.IndexByte(r.p.Payload, 0)
	if i < 0 {
		return nil, "EINVAL"
	}
	abs, _, good := canonical(string(r.p.Payload[:i]))
	if !good {
		return nil, "EINVAL"
	}
	s.apply(r.v, op{kind: opWrite, abs: abs, value: r.p.Payload[i+1:]})
	return ok, ""
}

func (s *Server) doMkdir(r *request) ([]byte, string) {
	abs, good := pathArg(r.p.Payload)
	if !good {
		return nil, "EINVAL"
	}
	if r.v.lookup(abs) == nil { // an existing node is left alone, without events
		s.apply(r.v, op{kind: opMkdir, abs: abs})
	}
	return ok, ""
}

func (s *Server) doRm(r *request) ([]byte, string) {
	abs, good := pathArg(r.p.Payload)
	if !good || abs == "/" {
		return nil, "EINVAL"
	}
	r.v.see(abs, parentOf(abs))
	if r.v.lookup(abs) == nil {
		if r.v.lookup(parentOf(abs)) == nil {
			return nil, "ENOENT"
		}
		return ok, "" // xenstored: removing a missing child of an existing node is fine
	}
	s.apply(r.v, op{kind: opRm, abs: abs})
	return ok, ""
}

func (s *Server) doGetPerms(r *request) ([]byte, string) {
	n, errno := r.existingNode()
	if n == nil {
		return nil, errno
	}
	return []byte(strings.Join(n.perms, "\x00") + "\x00"), ""
}

func (s *Server) doSetPerms(r *request) ([]byte, string) {
	a, good := args(r.p.Payload)
	if !good || len(a) < 2 {
		return nil, "EINVAL"
	}
	abs, _, good := canonical(a[0])
	if !good {
		return nil, "EINVAL"
	}
	for _, p := range a[1:] {
		if len(p) < 2 || !strings.ContainsRune("nrwb", rune(p[0])) {
			return nil, "EINVAL"
		}
		if _, err := strconv.ParseUint(p[1:], 10, 16); err != nil {
			return nil, "EINVAL"
		}
	}
	if r.v.lookup(abs) == nil {
		return nil, "ENOENT"
	}
	s.apply(r.v, op{kind: opSetPerms, abs: abs, perms: a[1:]})
	return ok, ""
}

func (s *Server) doGetDomainPath(r *request) ([]byte, string) {
	a, good := oneArg(r.p.Payload)
	if !good {
		return nil, "EINVAL"
	}
	if _, err := strconv.ParseUint(a, 10, 16); err != nil {
		return nil, "EINVAL"
	}
	return []byte("/local/domain/" + a + "\x00"), ""
}
