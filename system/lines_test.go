package system

import (
	"bytes"
	"testing"
)

// The editors must never write into spare capacity of the caller's buffer
// (found by FuzzHostsUpdate: the fuzzer's shared input memory got corrupted
// and the worker hung).
func TestEditorsDoNotWriteIntoInput(t *testing.T) {
	const sentinel = "SENTINEL"
	inputs := []string{"127.0.0.1 localhost", "ssh-ed25519 AAAA me", "root:*:1"}
	for _, in := range inputs {
		buf := make([]byte, 0, len(in)+len(sentinel))
		buf = append(buf, in...)
		buf = append(buf, sentinel...)
		input := buf[:len(in)]
		updateHosts(input, "h.example", "h")
		if _, err := updateAuthorizedKeys(input, []string{"k"}); err != nil {
			t.Fatal(err)
		}
		updateShadow(input, "root", "$6$x$y", 1)
		if !bytes.Equal(buf[:cap(buf)], []byte(in+sentinel)) {
			t.Errorf("input %q: buffer became %q", in, buf[:cap(buf)])
		}
	}
}
