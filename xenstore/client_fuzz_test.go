package xenstore

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// FuzzClientStream feeds arbitrary bytes to a client as if they came from
// the daemon: whatever arrives, calls and watches must finish without a
// panic or a hang.
func FuzzClientStream(f *testing.F) {
	reply, _ := Encode(Packet{Type: TypeRead, ReqID: 2, Payload: []byte("v")})
	event, _ := Encode(Packet{Type: TypeWatchEvent, ReqID: 9, Payload: []byte("/w\x00guestbridge-1\x00")})
	errReply, _ := Encode(Packet{Type: TypeError, ReqID: 2, Payload: []byte("ENOENT\x00")})
	f.Add(append(append([]byte(nil), event...), reply...))
	f.Add(errReply)
	f.Add([]byte{15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 'x', 0, 'y'})
	f.Fuzz(func(t *testing.T, stream []byte) {
		client, daemon := net.Pipe()
		// The path only matters for reconnecting, which must find nothing.
		c := &Client{path: "/nonexistent/xenstore-fuzz", closing: make(chan struct{}),
			watches: map[string]*watch{}, logf: func(string, ...any) {}}
		c.install(client, "fuzz")
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); c.Watch(ctx, "/w") }()
		go func() { defer wg.Done(); c.Read(ctx, "/r") }()
		// Once both requests are pending, answer with the fuzz bytes and hang
		// up: every pending call must then finish at once.
		ReadPacket(daemon)
		ReadPacket(daemon)
		go io.Copy(io.Discard, daemon)
		daemon.Write(stream)
		daemon.Close()
		wg.Wait()
		if ctx.Err() != nil {
			t.Fatal("calls hung until the deadline after the connection closed")
		}
	})
}
