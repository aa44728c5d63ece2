package xenstore

import (
	"errors"
	"io/fs"
	"syscall"
	"testing"
)

func TestErrorMapping(t *testing.T) {
	cases := map[string]error{
		"ENOENT": fs.ErrNotExist, "EACCES": fs.ErrPermission, "EEXIST": fs.ErrExist,
		"EINVAL": syscall.EINVAL, "ENOSYS": syscall.ENOSYS,
		"EAGAIN": ErrAgain, "E2BIG": ErrPayloadTooBig,
	}
	for errno, want := range cases {
		err := errorFromPayload("read", "/p", []byte(errno+"\x00"))
		if !errors.Is(err, want) {
			t.Errorf("%s does not unwrap to %v", errno, want)
		}
		if err.Error() != "xenstore: read /p: "+errno {
			t.Errorf("message %q", err.Error())
		}
	}
	// Garbage from a broken peer is not echoed.
	if e := errorFromPayload("read", "/p", []byte("secret value\x00")); e.Errno != "EIO" {
		t.Errorf("garbage error payload gave Errno %q", e.Errno)
	}
}
