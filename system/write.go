package system

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// WriteOptions says how WriteFile creates a file that does not exist yet.
type WriteOptions struct {
	Mode os.FileMode // for a NEW file (existing files keep mode, uid, gid); 0 = 0644
	// UID, GID own a new file; default 0/0 (when not running as root, the
	// default leaves the file to the calling user instead of failing).
	UID, GID int
	// Backup keeps the previous content as <name>.guestbridge.bak next to
	// the file, with the old mode and owner. One generation only: each
	// change overwrites the backup, so it always holds the version just
	// before guestbridge's last change.
	Backup  bool
	DirMode os.FileMode // for parents created; 0 = 0755
}

// BackupSuffix is appended to a file's name for the backup WriteOptions.Backup keeps.
const BackupSuffix = ".guestbridge.bak"

// writeSpec is what the package's own callers may ask beyond WriteOptions.
type writeSpec struct {
	followFinal  bool   // write through a symlink in the last component, instead of replacing the link
	backupSuffix string // "" = no backup
	forceOwner   bool   // apply Mode/UID/GID to an existing file too
}

// WriteFile writes data to path inside r (path is taken from r.Dir whether
// or not it starts with "/") atomically: a temporary file in the
// same directory (mode 0600 while written), write, fsync, chown/chmod to the
// existing file's owner and mode (or o's for a new file), rename, fsync of
// the directory. Readers see the old or the new content, never a mix.
// Unchanged content is not written at all and changed is false. A symlink
// in path is followed inside r; a path leaving r is refused. Missing parent
// directories are created with o.DirMode, owned by root.
func (r Root) WriteFile(path string, data []byte, o WriteOptions) (changed bool, err error) {
	spec := writeSpec{followFinal: true}
	if o.Backup {
		spec.backupSuffix = BackupSuffix
	}
	return r.write(path, data, o, spec)
}

func (r Root) write(name string, data []byte, o WriteOptions, spec writeSpec) (bool, error) {
	fsys, err := r.open()
	if err != nil {
		return false, err
	}
	defer fsys.Close()
	rel, err := resolve(fsys, name, spec.followFinal)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	if rel == "." {
		return false, fmt.Errorf("write %s: is the root directory", name)
	}
	dir, err := openDir(fsys, path.Dir(rel), dirMode(o.DirMode), -1, -1)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	defer dir.Close()
	r.sweepOnce(dir, path.Dir(rel))
	changed, err := writeIn(dir, path.Base(rel), data, o, spec)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	return changed, nil
}

func dirMode(m os.FileMode) os.FileMode {
	if m == 0 {
		return 0o755
	}
	return m
}

// openDir opens directory rel of fsys as a Root of its own, creating missing
// components with mode (and, when uid >= 0, that owner). The directory must
// be a real directory: the inode opened is checked against the one looked
// at, so a symlink swapped in between is refused.
func openDir(fsys *os.Root, rel string, mode os.FileMode, uid, gid int) (*os.Root, error) {
	if rel != "." {
		cur := ""
		for _, comp := range splitPath(rel) {
			cur = path.Join(cur, comp)
			fi, err := fsys.Lstat(cur)
			if errors.Is(err, fs.ErrNotExist) {
				if err := mkdirOwned(fsys, cur, mode, uid, gid); err != nil {
					return nil, err
				}
				continue
			}
			if err != nil {
				return nil, err
			}
			if !fi.IsDir() {
				return nil, fmt.Errorf("%s: not a directory", cur)
			}
		}
	}
	before, err := fsys.Lstat(rel)
	if err != nil {
		return nil, err
	}
	if !before.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", rel)
	}
	dir, err := fsys.OpenRoot(rel)
	if err != nil {
		return nil, err
	}
	after, err := dir.Stat(".")
	if err != nil || !os.SameFile(before, after) {
		dir.Close()
		return nil, fmt.Errorf("%s: changed while being opened", rel)
	}
	return dir, nil
}

func mkdirOwned(fsys *os.Root, rel string, mode os.FileMode, uid, gid int) error {
	if err := fsys.Mkdir(rel, 0o700); err != nil {
		return err
	}
	d, err := fsys.Open(rel)
	if err != nil {
		return err
	}
	defer d.Close()
	if uid >= 0 {
		if err := d.Chown(uid, gid); err != nil {
			return err
		}
	}
	return d.Chmod(mode) // explicit: the umask must not change it
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// fileOwner returns fi's owner, or -1, -1 when the platform does not say.
func fileOwner(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}

// permBits keeps what chmod(2) sets: permissions plus setuid/setgid/sticky.
func permBits(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// readRegular reads name in dir, which Lstat found to be the regular file
// fi; it refuses a file swapped in since.
func readRegular(dir *os.Root, name string, fi fs.FileInfo) ([]byte, error) {
	f, err := dir.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	now, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(fi, now) {
		return nil, fmt.Errorf("%s: changed while being read", name)
	}
	return io.ReadAll(f)
}

// writeIn is WriteFile once the directory is open.
func writeIn(dir *os.Root, name string, data []byte, o WriteOptions, spec writeSpec) (bool, error) {
	mode := permBits(o.Mode)
	if mode == 0 {
		mode = 0o644
	}
	uid, gid := o.UID, o.GID

	fi, err := dir.Lstat(name)
	var old []byte
	exists := false
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, err
	case fi.Mode().IsRegular():
		if old, err = readRegular(dir, name, fi); err != nil {
			return false, err
		}
		exists = true
		if !spec.forceOwner {
			mode = permBits(fi.Mode())
			uid, gid = fileOwner(fi)
		}
	case fi.Mode()&fs.ModeSymlink != 0 && !spec.followFinal:
		// The link itself is replaced by a new regular file.
	default:
		return false, fmt.Errorf("not a regular file (%s)", fileKind(fi.Mode()))
	}

	if exists && bytes.Equal(old, data) {
		fuid, fgid := fileOwner(fi)
		if permBits(fi.Mode()) == mode && fuid == uid && fgid == gid {
			return false, nil
		}
	}
	if exists && spec.backupSuffix != "" && !bytes.Equal(old, data) {
		ouid, ogid := fileOwner(fi)
		if err := replaceFile(dir, name+spec.backupSuffix, old, permBits(fi.Mode()), ouid, ogid); err != nil {
			return false, fmt.Errorf("backup: %w", err)
		}
	}
	if err := replaceFile(dir, name, data, mode, uid, gid); err != nil {
		return false, err
	}
	return true, syncDir(dir)
}

// replaceFile atomically puts data at name with exactly mode and owner (uid
// -1 keeps the writer's).
func replaceFile(dir *os.Root, name string, data []byte, mode os.FileMode, uid, gid int) (err error) {
	tmp, err := tempName(name)
	if err != nil {
		return err
	}
	// 0600 and O_EXCL: nobody else can read the content (it may be secret)
	// or have the name prepared for us.
	f, err := dir.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			dir.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if uid >= 0 {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if fuid, fgid := fileOwner(fi); fuid != uid || fgid != gid {
			if err := f.Chown(uid, gid); err != nil && !unprivilegedRootOwner(err, uid, gid) {
				return err
			}
		}
	}
	// After chown, which clears setuid/setgid.
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return dir.Rename(tmp, name)
}

// unprivilegedRootOwner reports a chown to root:root that failed because
// this process is not root. That is tolerated: an unprivileged user
// preparing an image (--root DIR it owns) gets files owned by itself, as
// cp or tar would give it. Any other owner that cannot be set is an error.
func unprivilegedRootOwner(err error, uid, gid int) bool {
	return uid == 0 && gid == 0 && os.Geteuid() != 0 && errors.Is(err, syscall.EPERM)
}

// tempName is a hidden, unpredictable name next to name.
func tempName(name string) (string, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	if len(name) > 100 {
		name = name[:100]
	}
	return "." + name + "." + hex.EncodeToString(rnd[:]) + ".guestbridge-tmp", nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir *os.Root) error {
	d, err := dir.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// fileKind names a file type in words: FileMode's own String prints a
// directory as "d---------".
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "an irregular file"
}
