package system

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"
)

// Root is where file changes land: "/" on a live system, a mounted image's
// root for offline repair (--root DIR).
type Root struct {
	Dir  string
	Live bool             // also make syscalls (sethostname)
	Now  func() time.Time // for backup names and shadow's last-change day; nil = time.Now
	// Log receives warnings (e.g. nameservers resolv.conf cannot hold);
	// nil = slog.Default().
	Log *slog.Logger
}

func (r Root) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r Root) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// open returns Root.Dir as an os.Root: every later operation is confined to it.
func (r Root) open() (*os.Root, error) {
	if r.Dir == "" {
		return nil, errors.New("system: Root.Dir is empty")
	}
	fsys, err := os.OpenRoot(r.Dir)
	if err != nil {
		return nil, fmt.Errorf("system: open root %s: %w", r.Dir, err)
	}
	return fsys, nil
}

// maxSymlinks matches Linux's limit on links followed in one lookup.
const maxSymlinks = 40

// errEscapes is wrapped by errors for paths that would leave Root.
var errEscapes = errors.New("path escapes the root")

// resolve turns name (absolute, or relative to the root) into a clean path
// relative to fsys that contains no symlinks in the components that exist.
// Links are followed as inside a chroot: an absolute target starts again at
// the root. ".." above the root is an error, not clamped, because a path
// that tries it is a mistake or an attack. With followFinal false a link in
// the last component is left alone (the caller replaces it).
func resolve(fsys *os.Root, name string, followFinal bool) (string, error) {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("invalid path %q", name)
	}
	todo := strings.Split(name, "/")
	var done []string
	links := 0
	for len(todo) > 0 {
		comp := todo[0]
		todo = todo[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				return "", fmt.Errorf("%s: %w", name, errEscapes)
			}
			done = done[:len(done)-1]
			continue
		}
		cur := path.Join(append(done, comp)...)
		last := !hasMore(todo)
		fi, err := fsys.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			done = append(done, comp) // created later, or reported by the caller
			continue
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 || (last && !followFinal) {
			done = append(done, comp)
			continue
		}
		if links++; links > maxSymlinks {
			return "", fmt.Errorf("%s: too many levels of symbolic links", name)
		}
		target, err := fsys.Readlink(cur)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		if strings.HasPrefix(target, "/") {
			done = done[:0]
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

// hasMore reports whether components still name something below the
// current one (only "", "." left means the current one is the last).
func hasMore(todo []string) bool {
	for _, c := range todo {
		if c != "" && c != "." {
			return true
		}
	}
	return false
}

// readFile reads name (absolute, or relative to the root) inside r,
// following symlinks as resolve does.
func (r Root) readFile(name string) ([]byte, error) {
	fsys, err := r.open()
	if err != nil {
		return nil, err
	}
	defer fsys.Close()
	rel, err := resolve(fsys, name, true)
	if err != nil {
		return nil, err
	}
	return fsys.ReadFile(rel)
}
