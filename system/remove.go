package system

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
)

// RemoveFile removes the file (or symlink: the link itself, never its
// target) at path inside r, then syncs the directory. A missing file is not
// an error: removed is false. A directory is refused.
func (r Root) RemoveFile(p string) (removed bool, err error) {
	fsys, err := r.open()
	if err != nil {
		return false, err
	}
	defer fsys.Close()
	rel, err := resolve(fsys, p, false)
	if err != nil {
		return false, fmt.Errorf("remove %s: %w", p, err)
	}
	if rel == "." {
		return false, fmt.Errorf("remove %s: is the root directory", p)
	}
	fi, err := fsys.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove %s: %w", p, err)
	}
	if fi.IsDir() {
		return false, fmt.Errorf("remove %s: is a directory", p)
	}
	dir, err := openDir(fsys, path.Dir(rel), 0o755, -1, -1)
	if err != nil {
		return false, fmt.Errorf("remove %s: %w", p, err)
	}
	defer dir.Close()
	if err := dir.Remove(path.Base(rel)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("remove %s: %w", p, err)
	}
	return true, syncDir(dir)
}
