package xenstore_test

import (
	"testing"

	"guestbridge/xenstore/xenstoretest/xenstored"
)

// The same suite against Debian's real daemons, run by the harness.

func TestConformanceXenstored(t *testing.T) { runDaemonConformance(t, xenstored.C) }

func TestConformanceOxenstored(t *testing.T) { runDaemonConformance(t, xenstored.OCaml) }

func runDaemonConformance(t *testing.T, impl xenstored.Impl) {
	sock := xenstored.Start(t, impl)
	runConformance(t, backend{
		socket:     sock,
		breakConns: func(t *testing.T) { xenstored.Restart(t, sock) },
	})
}
