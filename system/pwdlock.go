package system

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

const (
	// pwdLockPath is glibc's lckpwdf(3) lock: passwd, chpasswd, useradd and
	// friends take it before rewriting /etc/shadow, so holding it keeps our
	// rewrite from racing theirs.
	pwdLockPath    = "etc/.pwd.lock"
	pwdLockTimeout = 15 * time.Second // glibc's own timeout
	pwdLockPoll    = 50 * time.Millisecond
)

// lockPasswd takes the lckpwdf lock inside r and returns its release.
func (r Root) lockPasswd() (unlock func(), err error) {
	fsys, err := r.open()
	if err != nil {
		return nil, err
	}
	defer fsys.Close()
	f, err := fsys.OpenFile(pwdLockPath, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock /%s: %w", pwdLockPath, err)
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0}
	deadline := time.Now().Add(pwdLockTimeout)
	for {
		err = syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
		if err == nil {
			return func() { f.Close() }, nil // closing drops the fcntl lock
		}
		if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EACCES) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock /%s: %w", pwdLockPath, err)
		}
		time.Sleep(pwdLockPoll)
	}
}
