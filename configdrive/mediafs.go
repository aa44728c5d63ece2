package configdrive

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
)

// mediaFS wraps a filesystem read off a medium so that
//   - a panic in the third-party reader becomes an error,
//   - names resolve case-insensitively (FAT, Joliet-less ISO, CONFIG-2 media
//     written on other systems) and fall back to ISO level-1 8.3 names,
//   - a missing name always reports fs.ErrNotExist (go-diskfs does not).
type mediaFS struct{ inner fs.FS }

func newMediaFS(inner fs.FS) fs.FS { return mediaFS{inner: inner} }

func (m mediaFS) Open(name string) (f fs.File, err error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	defer recoverAsError(&err, "opening "+name)
	if f, err := m.inner.Open(name); err == nil {
		return newSafeFile(f), nil
	}
	actual, err := m.resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	f, err = m.inner.Open(actual)
	if err != nil {
		return nil, err
	}
	return newSafeFile(f), nil
}

func (m mediaFS) ReadDir(name string) (entries []fs.DirEntry, err error) {
	defer recoverAsError(&err, "listing "+name)
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	actual, err := m.resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return fs.ReadDir(m.inner, actual)
}

// resolve finds the on-medium spelling of name one element at a time.
func (m mediaFS) resolve(name string) (string, error) {
	if name == "." {
		return name, nil
	}
	cur := "."
	for _, elem := range strings.Split(name, "/") {
		entries, err := fs.ReadDir(m.inner, cur)
		if err != nil {
			return "", err
		}
		match, ok := matchEntry(entries, elem)
		if !ok {
			return "", fs.ErrNotExist
		}
		cur = path.Join(cur, match)
	}
	return cur, nil
}

// matchEntry prefers an exact name, then a case-insensitive one, then the
// ISO 9660 level-1 form ("meta_data.json" is "META_DAT.JSO;1" there).
func matchEntry(entries []fs.DirEntry, want string) (string, bool) {
	for _, e := range entries {
		if e.Name() == want {
			return e.Name(), true
		}
	}
	for _, e := range entries {
		if strings.EqualFold(e.Name(), want) {
			return e.Name(), true
		}
	}
	short := isoLevel1Name(want)
	for _, e := range entries {
		if strings.EqualFold(stripISOVersion(e.Name()), short) {
			return e.Name(), true
		}
	}
	return "", false
}

// isoLevel1Name is how genisoimage without -r/-J spells name: upper case,
// characters outside [A-Z0-9_] replaced by "_", 8 characters before the
// last dot and 3 after it.
func isoLevel1Name(name string) string {
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ext = name[:i], name[i+1:]
	}
	base, ext = dChars(base, 8), dChars(ext, 3)
	if ext == "" {
		return base
	}
	return base + "." + ext
}

func dChars(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if b.Len() == max {
			break
		}
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// stripISOVersion drops the ";1" version suffix and a bare trailing dot.
func stripISOVersion(name string) string {
	if i := strings.LastIndexByte(name, ';'); i >= 0 {
		name = name[:i]
	}
	return strings.TrimSuffix(name, ".")
}

// safeFile recovers panics of the underlying reader in every method, and
// never asks it for bytes past the end of a regular file: go-diskfs v1.9.4's
// FAT File.Read overruns the file end (and can panic) when a read starts
// inside a cluster and asks for more than is left.
type safeFile struct {
	f    fs.File
	size int64 // -1 when not a regular file of known size
	off  int64
}

func newSafeFile(f fs.File) *safeFile {
	s := &safeFile{f: f, size: -1}
	if st, err := s.Stat(); err == nil && st.Mode().IsRegular() {
		s.size = st.Size()
	}
	return s
}

func (s *safeFile) Stat() (fi fs.FileInfo, err error) {
	defer recoverAsError(&err, "stat")
	return s.f.Stat()
}

func (s *safeFile) Read(p []byte) (n int, err error) {
	defer recoverAsError(&err, "read")
	if s.size >= 0 {
		left := s.size - s.off
		if left <= 0 {
			return 0, io.EOF
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err = s.f.Read(p)
	s.off += int64(n)
	return n, err
}

func (s *safeFile) Close() (err error) {
	defer recoverAsError(&err, "close")
	return s.f.Close()
}

func (s *safeFile) ReadDir(n int) (entries []fs.DirEntry, err error) {
	defer recoverAsError(&err, "readdir")
	d, ok := s.f.(fs.ReadDirFile)
	if !ok {
		return nil, errors.New("not a directory")
	}
	return d.ReadDir(n)
}
