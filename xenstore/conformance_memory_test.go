package xenstore_test

import (
	"errors"
	"fmt"
	"testing"

	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest"
)

func TestConformanceMemory(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	runConformance(t, backend{
		socket:     srv.SocketPath(),
		breakConns: func(*testing.T) { srv.DropConnections() },
	})
}

// A daemon without XS_DIRECTORY_PART (before Xen 4.9): a large listing
// fails with an error saying so, and a small one still works.
func TestListLargeWithoutDirectoryPart(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	srv.DisableDirectoryPart()
	c, err := xenstore.Dial(ctxT(t), srv.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 200 {
		mustWrite(t, c, fmt.Sprintf("/big/%036d", i), "x")
	}
	_, err = c.List(ctxT(t), "/big")
	if !errors.Is(err, xenstore.ErrDirectoryPartUnsupported) || !errors.Is(err, xenstore.ErrPayloadTooBig) {
		t.Fatalf("List(200 children) without XS_DIRECTORY_PART = %v; want ErrDirectoryPartUnsupported", err)
	}
	mustWrite(t, c, "/small/a", "x")
	if got, err := c.List(ctxT(t), "/small"); err != nil || len(got) != 1 {
		t.Fatalf("List(small) = %q, %v", got, err)
	}
}
