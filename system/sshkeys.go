package system

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
)

// sshKeyTypes are the public key algorithms OpenSSH accepts in
// authorized_keys (each also with the -cert-v01@openssh.com suffix).
var sshKeyTypes = map[string]bool{
	"ssh-rsa":                            true,
	"ssh-dss":                            true,
	"ssh-ed25519":                        true,
	"ecdsa-sha2-nistp256":                true,
	"ecdsa-sha2-nistp384":                true,
	"ecdsa-sha2-nistp521":                true,
	"sk-ecdsa-sha2-nistp256@openssh.com": true,
	"sk-ssh-ed25519@openssh.com":         true,
}

const certSuffix = "-cert-v01@openssh.com"

func isSSHKeyType(s string) bool {
	return sshKeyTypes[strings.TrimSuffix(s, certSuffix)]
}

// checkAuthorizedKey validates one authorized_keys line: optional options,
// a key type, and a base64 blob whose embedded type matches. Errors describe
// the problem without quoting the line.
func checkAuthorizedKey(line string) error {
	if strings.ContainsAny(line, "\n\r\x00") {
		return errors.New("contains a line break or NUL")
	}
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return errors.New("empty or a comment")
	}
	typ, rest := nextField(line)
	if !isSSHKeyType(typ) {
		// The first field was options; they end at the first blank outside quotes.
		rest = skipOptions(line)
		if rest == "" {
			return errors.New("no key type")
		}
		typ, rest = nextField(rest)
		if !isSSHKeyType(typ) {
			return errors.New("unknown key type")
		}
	}
	b64, _ := nextField(rest)
	blob, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return errors.New("key data is not base64")
	}
	if len(blob) < 4 {
		return errors.New("key data too short")
	}
	n := binary.BigEndian.Uint32(blob)
	if uint64(n) > uint64(len(blob)-4) || string(blob[4:4+n]) != typ {
		return errors.New("key data does not match its key type")
	}
	return nil
}

// nextField splits s at its first run of blanks.
func nextField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// skipOptions returns what follows the options field, which may hold
// quoted blanks (command="a b") and backslash-escaped quotes.
func skipOptions(s string) string {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted && i+1 < len(s):
			i++
		case c == '"':
			quoted = !quoted
		case (c == ' ' || c == '\t') && !quoted:
			return strings.TrimLeft(s[i:], " \t")
		}
	}
	return ""
}
