package xenstore_test

import (
	"testing"

	"guestbridge/xenstore/xenstoretest"
)

func TestConformanceMemory(t *testing.T) {
	srv := xenstoretest.NewServer(t)
	runConformance(t, backend{
		socket:     srv.SocketPath(),
		breakConns: func(*testing.T) { srv.DropConnections() },
	})
}
