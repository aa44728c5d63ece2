package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// maxParallelVMs bounds how many guests run at once across all test
// processes (go test runs packages in parallel): TCG needs a core per VM.
const maxParallelVMs = 2

// acquireSlot blocks until one of the machine-wide VM slots (flock'ed files
// in the cache directory) is free, and returns its release function.
func acquireSlot(dir string) (func(), error) {
	for {
		for i := 0; i < maxParallelVMs; i++ {
			name := filepath.Join(dir, fmt.Sprintf("slot-%d.lock", i))
			f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
			if err != nil {
				return nil, err
			}
			if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
				return func() { f.Close() }, nil // closing drops the lock
			}
			f.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
}
