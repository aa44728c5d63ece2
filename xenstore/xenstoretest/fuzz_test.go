package xenstoretest

import (
	"bytes"
	"testing"

	"guestbridge/xenstore"
)

// FuzzServerRequest feeds arbitrary request streams to the request handler:
// it must never panic and must answer every request with exactly one reply
// (the request's type or ERROR) carrying its req_id.
func FuzzServerRequest(f *testing.F) {
	enc := func(ps ...xenstore.Packet) []byte {
		var b []byte
		for _, p := range ps {
			e, _ := xenstore.Encode(p)
			b = append(b, e...)
		}
		return b
	}
	f.Add(enc(
		xenstore.Packet{Type: xenstore.TypeWatch, ReqID: 1, Payload: []byte("/a\x00t\x00")},
		xenstore.Packet{Type: xenstore.TypeWrite, ReqID: 2, Payload: []byte("/a/b\x00v")},
		xenstore.Packet{Type: xenstore.TypeRm, ReqID: 3, Payload: []byte("/a\x00")},
	))
	f.Add(enc(
		xenstore.Packet{Type: xenstore.TypeTransactionStart, ReqID: 1, Payload: []byte("\x00")},
		xenstore.Packet{Type: xenstore.TypeWrite, ReqID: 2, TxID: 1, Payload: []byte("x\x00v")},
		xenstore.Packet{Type: xenstore.TypeDirectory, ReqID: 3, TxID: 1, Payload: []byte("/local/domain/0\x00")},
		xenstore.Packet{Type: xenstore.TypeTransactionEnd, ReqID: 4, TxID: 1, Payload: []byte("T\x00")},
	))
	f.Add(enc(xenstore.Packet{Type: xenstore.TypeSetPerms, ReqID: 9, Payload: []byte("/\x00n0\x00r5\x00")}))
	f.Add(enc(xenstore.Packet{Type: 99, ReqID: 5, Payload: []byte("x")}))
	s := NewServer(f)
	f.Fuzz(func(t *testing.T, stream []byte) {
		c := newConn(s, nil)
		for len(stream) > 0 {
			p, n, err := xenstore.Decode(stream)
			if err != nil {
				return
			}
			stream = stream[n:]
			s.mu.Lock()
			before := len(c.queue)
			s.handle(c, p)
			out := c.queue[before:]
			s.mu.Unlock()
			replies := 0
			for _, b := range out {
				r, _, err := xenstore.Decode(b)
				if err != nil {
					t.Fatalf("server sent an undecodable message: %v", err)
				}
				if r.Type == xenstore.TypeWatchEvent {
					if bytes.Count(r.Payload, []byte{0}) < 2 {
						t.Fatalf("malformed event %q", r.Payload)
					}
					continue
				}
				replies++
				if r.ReqID != p.ReqID || (r.Type != p.Type && r.Type != xenstore.TypeError) {
					t.Fatalf("reply %v/%d to request %v/%d", r.Type, r.ReqID, p.Type, p.ReqID)
				}
			}
			if replies != 1 {
				t.Fatalf("%d replies to %v", replies, p.Type)
			}
		}
		s.mu.Lock()
		s.removeWatches(c)
		s.mu.Unlock()
	})
}
