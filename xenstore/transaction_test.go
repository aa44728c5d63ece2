package xenstore_test

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest"
)

// A transaction whose connection breaks mid-way is rerun on the new connection.
func TestTransactionRetriedAfterReconnect(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	e := &env{backend: backend{socket: srv.SocketPath()}}
	c := e.dial(t)
	attempts := 0
	err := c.Transaction(ctxT(t), func(tx *xenstore.Tx) error {
		attempts++
		if err := tx.Write(ctxT(t), "/tx/a", []byte("1")); err != nil {
			return err
		}
		if attempts == 1 {
			srv.DropConnections()
			for {
				// Fails with ErrDisconnected while the break is noticed, or
				// ErrAgain once the client is on a new connection.
				err := tx.Write(ctxT(t), "/tx/b", []byte("2"))
				if errors.Is(err, xenstore.ErrAgain) || errors.Is(err, xenstore.ErrDisconnected) {
					return err
				}
				if err != nil {
					t.Errorf("write in a broken transaction: %v", err)
					return err
				}
			}
		}
		return tx.Write(ctxT(t), "/tx/b", []byte("2"))
	})
	if err != nil || attempts != 2 {
		t.Fatalf("Transaction = %v after %d attempts; want success on the 2nd", err, attempts)
	}
	for _, p := range []string{"/tx/a", "/tx/b"} {
		if _, ok := srv.Get(p); !ok {
			t.Errorf("%s not committed", p)
		}
	}
}

// A caller whose context ends inside fn leaves no transaction open: its
// writes are aborted, not committed later.
func TestTransactionCancelledAborts(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	e := &env{backend: backend{socket: srv.SocketPath()}}
	c := e.dial(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	err := c.Transaction(ctx, func(tx *xenstore.Tx) error {
		if err := tx.Write(ctx, "/cancelled", []byte("x")); err != nil {
			return err
		}
		cancel()
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Transaction = %v, want context.Canceled", err)
	}
	if _, err := c.Read(ctxT(t), "/cancelled"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("write of a cancelled transaction visible: %v", err)
	}
}

// The largest payload the xenbus device carries (4080 bytes) is accepted.
func TestPayloadExactlyAtLimit(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	e := &env{backend: backend{socket: srv.SocketPath()}}
	c := e.dial(t)
	p := "/limit"
	v := make([]byte, xenstore.MaxClientPayload-len(p)-1)
	if err := c.Write(ctxT(t), p, v); err != nil {
		t.Fatalf("Write of exactly %d payload bytes: %v", xenstore.MaxClientPayload, err)
	}
	if got, _ := srv.Get(p); len(got) != len(v) {
		t.Fatalf("stored %d bytes, want %d", len(got), len(v))
	}
}
