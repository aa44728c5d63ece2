package system

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

const passwdPath = "/etc/passwd"

// account is what guestbridge needs of an /etc/passwd entry.
type account struct {
	UID, GID int
	Home     string
}

// lookupUser finds user in <Root>/etc/passwd (the guest's own file, not this
// process's NSS, so it also works on a mounted image).
func (r Root) lookupUser(user string) (account, error) {
	if err := validUserName(user); err != nil {
		return account{}, err
	}
	data, err := r.readFile(passwdPath)
	if err != nil {
		return account{}, fmt.Errorf("read %s: %w", passwdPath, err)
	}
	return findAccount(data, user)
}

// findAccount parses passwd content for user's entry.
func findAccount(data []byte, user string) (account, error) {
	for i, line := range bytes.Split(data, []byte("\n")) {
		body, _ := cutEOL(line)
		f := strings.Split(string(body), ":")
		if f[0] != user {
			continue
		}
		if len(f) < 7 {
			return account{}, fmt.Errorf("%s line %d (user %s): %d fields, want 7", passwdPath, i+1, user, len(f))
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || uid < 0 || gid < 0 {
			return account{}, fmt.Errorf("%s line %d (user %s): bad uid %q or gid %q", passwdPath, i+1, user, f[2], f[3])
		}
		if !strings.HasPrefix(f[5], "/") {
			return account{}, fmt.Errorf("%s line %d (user %s): home %q is not absolute", passwdPath, i+1, user, f[5])
		}
		return account{UID: uid, GID: gid, Home: f[5]}, nil
	}
	return account{}, fmt.Errorf("%s: no user %q", passwdPath, user)
}
