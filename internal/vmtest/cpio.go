package vmtest

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// cpioWriter writes a "newc" (SVR4, no CRC) cpio archive, the only format the
// kernel's initramfs unpacker reads. It creates missing parent directories
// itself because the kernel does not.
type cpioWriter struct {
	w    io.Writer
	n    int64 // bytes written so far, for padding
	ino  int
	dirs map[string]bool
	err  error
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: w, dirs: map[string]bool{"": true, "/": true}}
}

const (
	modeDir     = 0o040000
	modeFile    = 0o100000
	modeSymlink = 0o120000
	modeCharDev = 0o020000
)

// Dir adds a directory (and its parents) once.
func (c *cpioWriter) Dir(name string) {
	name = cleanGuestPath(name)
	if c.dirs[name] {
		return
	}
	c.Dir(path.Dir(name))
	c.dirs[name] = true
	c.entry(name, modeDir|0o755, 0, nil)
}

// File adds a regular file with permission bits perm.
func (c *cpioWriter) File(name string, perm uint32, data []byte) {
	name = cleanGuestPath(name)
	c.Dir(path.Dir(name))
	c.entry(name, modeFile|perm&0o7777, 0, data)
}

// Symlink adds name pointing to target.
func (c *cpioWriter) Symlink(name, target string) {
	name = cleanGuestPath(name)
	c.Dir(path.Dir(name))
	c.entry(name, modeSymlink|0o777, 0, []byte(target))
}

// CharDev adds a character device node (so /dev/console exists before
// devtmpfs is mounted).
func (c *cpioWriter) CharDev(name string, major, minor uint32) {
	name = cleanGuestPath(name)
	c.Dir(path.Dir(name))
	c.entry(name, modeCharDev|0o600, major<<8|minor, nil)
}

// Close writes the trailer and pads the archive to 512 bytes so another
// archive can be appended (the kernel needs 4-byte alignment between them).
func (c *cpioWriter) Close() error {
	c.header("TRAILER!!!", 0, 0, 0, 0)
	if pad := (512 - c.n%512) % 512; pad > 0 {
		c.write(make([]byte, pad))
	}
	return c.err
}

func (c *cpioWriter) entry(name string, mode, rdev uint32, data []byte) {
	c.ino++
	c.header(strings.TrimPrefix(name, "/"), c.ino, mode, rdev, len(data))
	c.write(data)
	c.pad4()
}

func (c *cpioWriter) header(name string, ino int, mode, rdev uint32, size int) {
	nlink := 1
	if mode&0o170000 == modeDir {
		nlink = 2
	}
	// Fields: magic ino mode uid gid nlink mtime filesize devmajor devminor
	// rdevmajor rdevminor namesize check. mtime 0 keeps archives reproducible.
	h := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev>>8, rdev&0xff, len(name)+1, 0)
	c.write([]byte(h))
	c.write(append([]byte(name), 0))
	c.pad4()
}

func (c *cpioWriter) pad4() {
	if pad := (4 - c.n%4) % 4; pad > 0 {
		c.write(make([]byte, pad))
	}
}

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

// cleanGuestPath makes p absolute and clean ("/" for the root).
func cleanGuestPath(p string) string { return path.Clean("/" + p) }

// sortedKeys returns m's keys in order, so archives are reproducible.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
