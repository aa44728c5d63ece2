package xenstoretest

import (
	"net"
	"strings"
	"testing"
	"time"

	"guestbridge/xenstore"
)

// rawConn speaks the wire protocol directly, to check replies byte for byte.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	id uint32
}

func dialRaw(t *testing.T, s *Server) *rawConn {
	nc, err := net.Dial("unix", s.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc}
}

func (r *rawConn) send(typ xenstore.MsgType, tx uint32, payload string) uint32 {
	r.t.Helper()
	r.id++
	b, err := xenstore.Encode(xenstore.Packet{Type: typ, ReqID: r.id, TxID: tx, Payload: []byte(payload)})
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatal(err)
	}
	return r.id
}

func (r *rawConn) recv() xenstore.Packet {
	r.t.Helper()
	r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := xenstore.ReadPacket(r.nc)
	if err != nil {
		r.t.Fatalf("reading reply: %v", err)
	}
	return p
}

// call sends one request and returns "TYPE payload" of its reply.
func (r *rawConn) call(typ xenstore.MsgType, tx uint32, payload string) string {
	r.t.Helper()
	id := r.send(typ, tx, payload)
	p := r.recv()
	if p.ReqID != id || p.TxID != tx {
		r.t.Fatalf("reply ids %d/%d, want %d/%d", p.ReqID, p.TxID, id, tx)
	}
	return p.Type.String() + " " + string(p.Payload)
}

func TestServerReplies(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	cases := []struct {
		typ     xenstore.MsgType
		payload string
		want    string
	}{
		{xenstore.TypeWrite, "/a/b\x00val", "WRITE OK\x00"},
		{xenstore.TypeRead, "/a/b\x00", "READ val"},
		{xenstore.TypeRead, "/a\x00", "READ "},
		{xenstore.TypeRead, "/a/b", "ERROR EINVAL\x00"},         // missing NUL
		{xenstore.TypeRead, "/a\x00/b\x00", "ERROR EINVAL\x00"}, // two strings
		{xenstore.TypeRead, "/nope\x00", "ERROR ENOENT\x00"},
		{xenstore.TypeDirectory, "/a\x00", "DIRECTORY b\x00"},
		{xenstore.TypeGetPerms, "/a/b\x00", "GET_PERMS n0\x00"},
		{xenstore.TypeSetPerms, "/a/b\x00n0\x00r5\x00", "SET_PERMS OK\x00"},
		{xenstore.TypeGetPerms, "/a/b\x00", "GET_PERMS n0\x00r5\x00"},
		{xenstore.TypeSetPerms, "/a/b\x00x0\x00", "ERROR EINVAL\x00"},
		{xenstore.TypeGetDomainPath, "7\x00", "GET_DOMAIN_PATH /local/domain/7\x00"},
		{xenstore.TypeRm, "/\x00", "ERROR EINVAL\x00"},
		{xenstore.TypeRm, "/a/missing\x00", "RM OK\x00"},
		{xenstore.TypeUnwatch, "/a\x00tok\x00", "ERROR ENOENT\x00"},
		{xenstore.TypeTransactionEnd, "T\x00", "ERROR ENOENT\x00"}, // tx_id 0 is no transaction
		{99, "", "ERROR ENOSYS\x00"},
	}
	for _, c := range cases {
		if got := r.call(c.typ, 0, c.payload); got != c.want {
			t.Errorf("%v %q: got %q, want %q", c.typ, c.payload, got, c.want)
		}
	}
	if got := r.call(xenstore.TypeRead, 42, "/a/b\x00"); got != "ERROR ENOENT\x00" {
		t.Errorf("request in an unknown transaction: %q", got)
	}
}

func TestServerOversizedRequest(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	// A header announcing 5000 bytes, then the bytes: E2BIG, and the
	// connection stays framed for the next request.
	hdr, _ := xenstore.Encode(xenstore.Packet{Type: xenstore.TypeWrite, ReqID: 77})
	hdr[12], hdr[13] = 0x88, 0x13 // len = 5000
	r.nc.Write(append(hdr, make([]byte, 5000)...))
	if p := r.recv(); p.Type != xenstore.TypeError || string(p.Payload) != "E2BIG\x00" || p.ReqID != 77 {
		t.Fatalf("oversized request got %v %q", p.Type, p.Payload)
	}
	if got := r.call(xenstore.TypeWrite, 0, "/x\x00y"); got != "WRITE OK\x00" {
		t.Fatalf("after E2BIG: %q", got)
	}
}

func TestServerWatchRegistration(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	if got := r.call(xenstore.TypeWatch, 0, "rel\x00t1\x00"); got != "WATCH OK\x00" {
		t.Fatal(got)
	}
	if ev := r.recv(); ev.Type != xenstore.TypeWatchEvent || string(ev.Payload) != "rel\x00t1\x00" {
		t.Fatalf("initial event %v %q", ev.Type, ev.Payload)
	}
	if got := r.call(xenstore.TypeWatch, 0, "rel\x00t1\x00"); got != "ERROR EEXIST\x00" {
		t.Fatalf("duplicate watch: %q", got)
	}
	s.Set("/local/domain/0/rel/x", nil)
	if ev := r.recv(); string(ev.Payload) != "rel/x\x00t1\x00" {
		t.Fatalf("event for a relative watch %q, want the relative path", ev.Payload)
	}
	if got := r.call(xenstore.TypeResetWatches, 0, ""); got != "RESET_WATCHES OK\x00" {
		t.Fatal(got)
	}
	s.Set("/local/domain/0/rel/y", nil)
	if got := r.call(xenstore.TypeRead, 0, "rel/y\x00"); got != "READ " {
		t.Fatalf("expected no event after RESET_WATCHES, got %q", got)
	}
}

func TestServerTransactionRules(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	start := r.call(xenstore.TypeTransactionStart, 0, "\x00")
	if start != "TRANSACTION_START 1\x00" {
		t.Fatalf("start: %q", start)
	}
	if got := r.call(xenstore.TypeWrite, 1, "/t\x00v"); got != "WRITE OK\x00" {
		t.Fatal(got)
	}
	if _, ok := s.Get("/t"); ok {
		t.Fatal("uncommitted write visible")
	}
	if got := r.call(xenstore.TypeTransactionEnd, 1, "X\x00"); got != "ERROR EINVAL\x00" {
		t.Fatalf("bad end body: %q", got)
	}
	if got := r.call(xenstore.TypeTransactionEnd, 1, "T\x00"); got != "TRANSACTION_END OK\x00" {
		t.Fatalf("commit: %q", got)
	}
	if v, ok := s.Get("/t"); !ok || string(v) != "v" {
		t.Fatalf("committed value %q, %v", v, ok)
	}
	// A transaction that listed a directory conflicts with a new child.
	r.call(xenstore.TypeTransactionStart, 0, "\x00")
	r.call(xenstore.TypeDirectory, 2, "/\x00")
	s.Set("/newchild", nil)
	r.call(xenstore.TypeWrite, 2, "/t\x00w")
	if got := r.call(xenstore.TypeTransactionEnd, 2, "T\x00"); got != "ERROR EAGAIN\x00" {
		t.Fatalf("conflicting commit: %q", got)
	}
	// Removing a subtree inside a transaction and reading below it is no conflict.
	s.Set("/sub/a/b", []byte("1"))
	r.call(xenstore.TypeTransactionStart, 0, "\x00")
	r.call(xenstore.TypeRm, 3, "/sub/a\x00")
	if got := r.call(xenstore.TypeRead, 3, "/sub/a/b\x00"); got != "ERROR ENOENT\x00" {
		t.Fatalf("read below removed node in tx: %q", got)
	}
	if got := r.call(xenstore.TypeTransactionEnd, 3, "T\x00"); got != "TRANSACTION_END OK\x00" {
		t.Fatalf("commit of rm: %q", got)
	}
	if s.Children("/sub") == nil || len(s.Children("/sub")) != 0 {
		t.Fatalf("/sub children after commit: %q", s.Children("/sub"))
	}
}

func TestServerDropConnections(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	r.call(xenstore.TypeWrite, 0, "/keep\x00v")
	if n := s.NumConns(); n != 1 {
		t.Fatalf("NumConns = %d with one client", n)
	}
	s.DropConnections()
	r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := xenstore.ReadPacket(r.nc); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("connection not dropped: %v", err)
	}
	r2 := dialRaw(t, s)
	if got := r2.call(xenstore.TypeRead, 0, "/keep\x00"); got != "READ v" {
		t.Fatalf("tree lost over DropConnections: %q", got)
	}
	if n := s.NumConns(); n != 1 {
		t.Fatalf("NumConns = %d after the drop and one new client", n)
	}
}
