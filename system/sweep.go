package system

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// A write interrupted by a crash or kill -9 leaves its temporary file
// (tempName: ".<name>.<16 hex>.guestbridge-tmp", mode 0600, for /etc/shadow
// a full copy of the hashes) next to the target. They are swept:
//   - by SweepTemp, which the boot and agent commands call at start for
//     TempDirs, the directories guestbridge always writes to;
//   - by every write, once per directory and process, in the directory it
//     writes to (which covers injected files anywhere).
//
// Only regular files whose whole name matches our pattern are removed,
// never a symlink or directory, and only ones older than this process (by
// sweepMinAge), so a write in flight in another guestbridge process (boot
// and agent may run at once) is left alone.
//
// The match is written out rather than a regexp compiled at init: every
// guestbridge process would pay for that compile, also the ones that never
// sweep (show, status).
func isOurTemp(name string) bool {
	rest, ok := strings.CutSuffix(name, ".guestbridge-tmp")
	if !ok || len(rest) < 16+3 || !strings.HasPrefix(rest, ".") {
		return false
	}
	for _, c := range []byte(rest[len(rest)-16:]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	target, ok := strings.CutSuffix(rest[1:len(rest)-16], ".")
	n := utf8.RuneCountInString(target)
	return ok && n >= 1 && n <= 100
}

// TempDirs are the directories guestbridge writes to on every system.
var TempDirs = []string{"/etc", path.Dir(ResolvedDropIn), "/root/.ssh"}

const sweepMinAge = 5 * time.Second

var (
	processStart = time.Now()
	sweptMu      sync.Mutex
	swept        = map[string]bool{} // root dir + "\x00" + directory, per process
)

// SweepTemp removes stale temporary files of ours from dirs (default
// TempDirs) inside r and returns the paths removed. Missing directories are
// skipped; the first other error is returned after trying every directory.
func (r Root) SweepTemp(dirs ...string) ([]string, error) {
	if len(dirs) == 0 {
		dirs = TempDirs
	}
	fsys, err := r.open()
	if err != nil {
		return nil, err
	}
	defer fsys.Close()
	var removed []string
	var first error
	for _, d := range dirs {
		rel, err := resolve(fsys, d, true)
		if err == nil {
			var dir *os.Root
			if dir, err = fsys.OpenRoot(rel); err == nil {
				var got []string
				got, err = sweepIn(dir)
				dir.Close()
				for _, n := range got {
					removed = append(removed, path.Join("/", rel, n))
				}
				r.markSwept(rel)
			}
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return removed, first
}

// markSwept records rel as swept; it reports whether it was already.
func (r Root) markSwept(rel string) bool {
	key := r.Dir + "\x00" + rel
	sweptMu.Lock()
	defer sweptMu.Unlock()
	if swept[key] {
		return true
	}
	swept[key] = true
	return false
}

// sweepOnce sweeps dir (rel inside r) the first time this process writes there.
func (r Root) sweepOnce(dir *os.Root, rel string) {
	if r.markSwept(rel) {
		return
	}
	removed, err := sweepIn(dir)
	for _, n := range removed {
		r.log().Info("removed a stale temporary file left by an interrupted write", "path", path.Join("/", rel, n))
	}
	if err != nil {
		r.log().Warn("sweeping stale temporary files", "dir", path.Join("/", rel), "err", err)
	}
}

// sweepIn removes stale temporary files of ours directly inside dir.
func sweepIn(dir *os.Root) ([]string, error) {
	d, err := dir.Open(".")
	if err != nil {
		return nil, err
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	cutoff := processStart.Add(-sweepMinAge)
	var removed []string
	var first error
	for _, e := range entries {
		if !isOurTemp(e.Name()) {
			continue
		}
		fi, err := dir.Lstat(e.Name())
		if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(cutoff) {
			continue
		}
		if err := dir.Remove(e.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			if first == nil {
				first = err
			}
			continue
		}
		removed = append(removed, e.Name())
	}
	return removed, first
}
