package nl

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// InNetns runs f with its OS thread inside ns (ns <= 0: just runs f). Sockets
// and /proc/sys/net files opened by f belong to ns and stay there. f runs on
// a dedicated goroutine so the caller's thread never moves; if switching
// back fails, that thread stays locked and Go discards it when it exits.
func InNetns(ns netns.NsHandle, f func() error) error {
	if ns <= 0 {
		return f()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("get current netns: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter netns: %w", err)
			return
		}
		ferr := f()
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("leave netns: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
