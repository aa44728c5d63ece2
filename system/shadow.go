package system

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

const (
	shadowPath = "/etc/shadow"
	// shadowBackupSuffix gives /etc/shadow-, the backup shadow-utils keeps.
	shadowBackupSuffix = "-"
	secondsPerDay      = 24 * 60 * 60
)

// SetPassword sets user's password in <Root>/etc/shadow to a fresh SHA-512
// crypt hash and its last-change field to today (days since the epoch, from
// r.Now). Every other line stays byte-identical, the file keeps its owner and
// mode, and the previous version is kept as /etc/shadow- (same owner and
// mode), as shadow-utils does. An unknown user is an error and leaves the
// file untouched. The password never appears in errors.
//
// The file is rewritten directly rather than through chpasswd so that the
// same code works on a mounted image (--root) with no guest binaries.
func (r Root) SetPassword(user, password string) error {
	if err := validUserName(user); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", user, err)
	}
	unlock, err := r.lockPasswd()
	if err != nil {
		return fmt.Errorf("set password of %s: %w", user, err)
	}
	defer unlock()
	old, err := r.readFile(shadowPath)
	if err != nil {
		return fmt.Errorf("set password of %s: read %s: %w", user, shadowPath, err)
	}
	day := r.now().Unix() / secondsPerDay
	updated, err := updateShadow(old, user, hash, day)
	if err != nil {
		return fmt.Errorf("set password of %s: %s: %w", user, shadowPath, err)
	}
	// Mode and owner of the existing file are kept; 0600 root:root only if
	// it vanished in between.
	_, err = r.write(shadowPath, updated, WriteOptions{Mode: 0o600},
		writeSpec{followFinal: true, backupSuffix: shadowBackupSuffix})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", user, err)
	}
	return nil
}

// EnsurePassword is SetPassword unless user's current hash already matches
// password (a "$6$" hash that VerifyPassword accepts), so that applying the
// same metadata again rewrites nothing and keeps the last-change day.
// changed reports whether the file was rewritten. Note that it restores the
// metadata's password if the user changed it since: callers decide when
// that is wanted.
func (r Root) EnsurePassword(user, password string) (changed bool, err error) {
	if err := validUserName(user); err != nil {
		return false, fmt.Errorf("set password: %w", err)
	}
	shadow, err := r.readFile(shadowPath)
	if err != nil {
		return false, fmt.Errorf("set password of %s: read %s: %w", user, shadowPath, err)
	}
	if hash, ok := shadowHash(shadow, user); ok && VerifyPassword(hash, password) {
		return false, nil
	}
	if err := r.SetPassword(user, password); err != nil {
		return false, err
	}
	return true, nil
}

// shadowHash returns the password field of user's first line.
func shadowHash(shadow []byte, user string) (string, bool) {
	for _, line := range bytes.Split(shadow, []byte("\n")) {
		body, _ := cutEOL(line)
		f := strings.SplitN(string(body), ":", 3)
		if len(f) >= 2 && f[0] == user {
			return f[1], true
		}
	}
	return "", false
}

// validUserName rejects names that cannot be one shadow/passwd field.
func validUserName(user string) error {
	if user == "" {
		return errors.New("empty user name")
	}
	if strings.ContainsAny(user, ":\n\r\x00") {
		return fmt.Errorf("user name %q contains ':', a newline or NUL", user)
	}
	return nil
}

// updateShadow returns shadow with the first line of user getting hash
// (field 2) and lastChange (field 3). All other bytes are kept. Errors name
// the line but never print a hash.
func updateShadow(shadow []byte, user, hash string, lastChange int64) ([]byte, error) {
	if err := validUserName(user); err != nil {
		return nil, err
	}
	if strings.ContainsAny(hash, ":\n") {
		return nil, errors.New("hash contains ':' or a newline")
	}
	lines := bytes.SplitAfter(shadow, []byte("\n"))
	for i, line := range lines {
		body, eol := cutEOL(line)
		fields := strings.Split(string(body), ":")
		if fields[0] != user {
			continue
		}
		if len(fields) < 3 {
			return nil, fmt.Errorf("line %d (user %s): %d fields, want at least 3", i+1, user, len(fields))
		}
		fields[1] = hash
		fields[2] = strconv.FormatInt(lastChange, 10)
		lines[i] = append([]byte(strings.Join(fields, ":")), eol...)
		return bytes.Join(lines, nil), nil
	}
	return nil, fmt.Errorf("no user %q", user)
}
