package provision

import (
	"bufio"
	"bytes"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"guestbridge/system"
)

// predict runs do against a throw-away copy of the files in paths (and
// their parent directories, with modes and owners), so a dry run reports a
// change exactly when the real run would make one, without touching root.
func predict(root system.Root, paths []string, do func(system.Root) (bool, error)) (bool, error) {
	tmp, err := os.MkdirTemp("", "guestbridge-dryrun-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	for _, p := range paths {
		copyPath(root.Dir, tmp, p)
	}
	scratch := system.Root{Dir: tmp, Now: root.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return do(scratch)
}

// copyPath copies p (absolute, as seen inside src) from src to dst: its
// parents as directories, then p itself (file, symlink or directory, not
// its contents). What does not exist is left out: the real run creates it
// too. Copy errors leave the prediction pessimistic, never wrong files.
func copyPath(src, dst, p string) {
	p = path.Clean("/" + p)
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := "/"
	for i, part := range parts {
		cur = path.Join(cur, part)
		from := filepath.Join(src, cur)
		to := filepath.Join(dst, cur)
		fi, err := os.Lstat(from)
		if err != nil {
			return
		}
		last := i == len(parts)-1
		switch {
		case fi.IsDir():
			if err := os.Mkdir(to, fi.Mode().Perm()); err != nil && !os.IsExist(err) {
				return
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(from)
			if err != nil {
				return
			}
			os.Symlink(target, to)
			owner(to, fi)
			return // never follow: the real run does not either (or resolves inside root)
		case fi.Mode().IsRegular() && last:
			b, err := os.ReadFile(from)
			if err != nil {
				return
			}
			if err := os.WriteFile(to, b, fi.Mode().Perm()); err != nil {
				return
			}
		default:
			return
		}
		os.Chmod(to, fi.Mode().Perm())
		owner(to, fi)
	}
}

func owner(p string, fi fs.FileInfo) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		os.Lchown(p, int(st.Uid), int(st.Gid))
	}
}

// readRootFile reads p (absolute, inside root).
func readRootFile(root system.Root, p string) ([]byte, error) {
	return os.ReadFile(filepath.Join(root.Dir, p))
}

// homeOf is user's home directory from root's /etc/passwd ("/root" when it
// cannot be read).
func homeOf(root system.Root, user string) string {
	b, err := readRootFile(root, "/etc/passwd")
	if err != nil {
		return "/root"
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) >= 6 && f[0] == user && strings.HasPrefix(f[5], "/") {
			return f[5]
		}
	}
	return "/root"
}
