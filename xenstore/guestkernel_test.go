package xenstore_test

import (
	"net"
	"testing"

	"guestbridge/xenstore"
)

// fakeGuestKernel answers like the quirkiest /dev/xen/xenbus a guest may
// have: replies carry a wrong req_id (old kernels, nova-agent-protocol
// §2.1), the initial watch event comes before the WATCH reply, and event
// headers hold garbage ids (watch_fired leaves them uninitialised).
func fakeGuestKernel(t *testing.T) string {
	sock := shortSocketPath(t)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		send := func(p xenstore.Packet) {
			b, _ := xenstore.Encode(p)
			nc.Write(b)
		}
		for {
			p, err := xenstore.ReadPacket(nc)
			if err != nil {
				return
			}
			wrongID := p.ReqID ^ 0x5a5a5a5a
			switch p.Type {
			case xenstore.TypeWatch:
				send(xenstore.Packet{Type: xenstore.TypeWatchEvent, ReqID: 0xdeadbeef, TxID: 0xcafe, Payload: p.Payload})
				send(xenstore.Packet{Type: p.Type, ReqID: wrongID, Payload: []byte("OK\x00")})
			case xenstore.TypeRead:
				send(xenstore.Packet{Type: p.Type, ReqID: wrongID, Payload: []byte("value")})
			default:
				send(xenstore.Packet{Type: xenstore.TypeError, ReqID: wrongID, Payload: []byte("ENOSYS\x00")})
			}
		}
	}()
	return sock
}

func TestQuirkyGuestKernel(t *testing.T) {
	c, err := xenstore.Dial(ctxT(t), fakeGuestKernel(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// With one request outstanding, a reply with the wrong req_id is still its reply.
	for range 3 {
		if got := mustRead(t, c, "data/host"); got != "value" {
			t.Fatalf("Read = %q", got)
		}
	}
	ch, err := c.Watch(ctxT(t), "data/host")
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if got := nextEvent(t, ch); got != "data/host" {
		t.Fatalf("initial event (sent before the reply, garbage ids) = %q", got)
	}
}
