package system

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

const (
	keysBegin          = "# BEGIN guestbridge managed keys"
	keysEnd            = "# END guestbridge managed keys"
	sshDirName         = ".ssh"
	authorizedKeysName = "authorized_keys"
)

// SetAuthorizedKeys puts keys into the managed block of
// ~user/.ssh/authorized_keys (home from <Root>/etc/passwd), between
// "# BEGIN guestbridge managed keys" and "# END guestbridge managed keys".
// The block is replaced on each call (removed when keys is empty), where it
// was or else at the end; the user's own lines outside it stay
// byte-identical. .ssh is made 0700 and the file 0600, both owned by the
// user. Keys are checked first: an invalid one is an error naming its index
// (never its text) and nothing is written.
//
// The home directory must exist. .ssh and authorized_keys are in a directory
// the user controls, so a symlink there is refused rather than followed:
// root must not be tricked into writing or chowning another file.
func (r Root) SetAuthorizedKeys(user string, keys []string) (changed bool, err error) {
	clean := make([]string, len(keys))
	for i, k := range keys {
		if err := checkAuthorizedKey(k); err != nil {
			return false, fmt.Errorf("authorized key %d for %s: %w", i, user, err)
		}
		clean[i] = strings.TrimSpace(k)
	}
	acct, err := r.lookupUser(user)
	if err != nil {
		return false, fmt.Errorf("authorized keys of %s: %w", user, err)
	}
	keysPath := path.Join(acct.Home, sshDirName, authorizedKeysName)
	changed, err = r.setAuthorizedKeys(acct, clean)
	if err != nil {
		return false, fmt.Errorf("authorized keys of %s: %s: %w", user, keysPath, err)
	}
	return changed, nil
}

func (r Root) setAuthorizedKeys(acct account, keys []string) (bool, error) {
	fsys, err := r.open()
	if err != nil {
		return false, err
	}
	defer fsys.Close()
	homeRel, err := resolve(fsys, acct.Home, true)
	if err != nil {
		return false, err
	}
	if fi, err := fsys.Lstat(homeRel); err != nil || !fi.IsDir() {
		return false, fmt.Errorf("home directory %s missing or not a directory", acct.Home)
	}
	home, err := openDir(fsys, homeRel, 0o755, -1, -1)
	if err != nil {
		return false, err
	}
	defer home.Close()

	fi, err := home.Lstat(sshDirName)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if len(keys) == 0 {
			return false, nil
		}
	case err != nil:
		return false, err
	case !fi.IsDir(): // symlinks included
		return false, fmt.Errorf("%s is not a directory (symlinks are refused)", sshDirName)
	}
	ssh, err := openDir(home, sshDirName, 0o700, acct.UID, acct.GID)
	if err != nil {
		return false, err
	}
	defer ssh.Close()
	dirFixed, err := enforceDir(ssh, 0o700, acct.UID, acct.GID)
	if err != nil {
		return false, err
	}

	var old []byte
	fi, err = ssh.Lstat(authorizedKeysName)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if len(keys) == 0 {
			return dirFixed, nil
		}
	case err != nil:
		return false, err
	case !fi.Mode().IsRegular():
		return false, errors.New("not a regular file (symlinks are refused)")
	default:
		if old, err = readRegular(ssh, authorizedKeysName, fi); err != nil {
			return false, err
		}
	}
	updated, err := updateAuthorizedKeys(old, keys)
	if err != nil {
		return false, err
	}
	changed, err := writeIn(ssh, authorizedKeysName, updated,
		WriteOptions{Mode: 0o600, UID: acct.UID, GID: acct.GID}, writeSpec{forceOwner: true})
	return changed || dirFixed, err
}

// enforceDir gives the opened directory exactly mode and owner, through its
// descriptor; it reports whether anything had to change.
func enforceDir(dir *os.Root, mode os.FileMode, uid, gid int) (bool, error) {
	d, err := dir.Open(".")
	if err != nil {
		return false, err
	}
	defer d.Close()
	fi, err := d.Stat()
	if err != nil {
		return false, err
	}
	ownerOK := false
	if u, g := fileOwner(fi); u == uid && g == gid {
		ownerOK = true
	} else if err := d.Chown(uid, gid); err != nil {
		return false, err
	}
	if ownerOK && fi.Mode().Perm() == mode {
		return false, nil
	}
	return true, d.Chmod(mode) // also after chown, which may clear bits
}

// updateAuthorizedKeys replaces the managed block of content with keys: at
// the first block's place (further blocks are dropped), else at the end.
// No keys: no block. A BEGIN without END is an error, since guessing where
// the block ends could delete the user's keys.
func updateAuthorizedKeys(content []byte, keys []string) ([]byte, error) {
	var out [][]byte
	insertAt, inBlock := -1, false
	for _, line := range bytes.SplitAfter(content, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		body, _ := cutEOL(line)
		marker := string(bytes.TrimSpace(body))
		switch {
		case inBlock:
			inBlock = marker != keysEnd
		case marker == keysBegin:
			inBlock = true
			if insertAt < 0 {
				insertAt = len(out)
			}
		default:
			out = append(out, line)
		}
	}
	if inBlock {
		return nil, fmt.Errorf("%q without %q", keysBegin, keysEnd)
	}
	if len(keys) == 0 {
		return bytes.Join(out, nil), nil
	}
	if insertAt < 0 {
		insertAt = len(out)
	}
	block := keysBegin + "\n" + strings.Join(keys, "\n") + "\n" + keysEnd + "\n"
	return joinWithInsert(out, insertAt, []byte(block)), nil
}
