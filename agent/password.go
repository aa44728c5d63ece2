package agent

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"strings"
)

// keyState is the result of the last keyinit, consumed by password.
type keyState struct {
	secret string    // decimal shared secret; "" = no key exchange yet
	rand   io.Reader // nil: crypto/rand (tests set a fixed source)
}

// wipe forgets the shared secret. Go strings cannot be zeroed in place;
// dropping the only reference is the best we can do.
func (k *keyState) wipe() { k.secret = "" }

// maxKeyDigits bounds the keyinit value: p has 33 decimal digits, so any
// longer number is out of range anyway, and big.Int need not parse 4 KB.
const maxKeyDigits = 64

// keyInit answers `keyinit`: value is the host's public key as a decimal
// string (or, from old hosts, a JSON number). A new keyinit replaces the
// previous key.
func (a *Agent) keyInit(value json.RawMessage) result {
	a.keys.wipe()
	hostPub, msg := parseHostKey(value)
	if hostPub == nil {
		return failure(msg)
	}
	rnd := a.keys.rand
	if rnd == nil {
		rnd = rand.Reader
	}
	priv, err := newPrivateKey(rnd)
	if err != nil {
		return failure("keyinit: no random numbers available")
	}
	a.keys.secret = dhShared(hostPub, priv)
	pub := dhPublic(priv)
	priv.SetInt64(0)
	return result{codeKeyInit, pub.String()}
}

// parseHostKey accepts a decimal integer as a JSON string (what Nova sends)
// or a JSON number, and checks 1 < k < p−1. On failure it returns nil and
// the reply message.
func parseHostKey(value json.RawMessage) (*big.Int, string) {
	text := string(bytes.TrimSpace(value))
	switch {
	case strings.HasPrefix(text, `"`):
		var s string
		if err := json.Unmarshal(value, &s); err != nil {
			return nil, "keyinit: 'value' is not a valid JSON string"
		}
		text = strings.TrimSpace(s) // Python's int() allows surrounding blanks
	case text == "" || text == "null" || !strings.ContainsAny(text[:1], "-0123456789"):
		return nil, "keyinit: 'value' must be the host public key as a decimal string, got " + jsonKind(value)
	}
	if len(text) > maxKeyDigits {
		return nil, "keyinit: host public key is out of range (must be 1 < key < 2^107-2)"
	}
	k, isInt := new(big.Int).SetString(text, 10)
	if !isInt {
		return nil, "keyinit: host public key is not a decimal integer"
	}
	if !validPeerPublic(k) {
		return nil, "keyinit: host public key is out of range (must be 1 < key < 2^107-2)"
	}
	return k, ""
}

// password answers `password`: value is base64 of the AES-128-CBC
// encrypted new root password plus "\n". The key from keyinit is used once
// and wiped whatever the outcome, so a failed attempt needs a new keyinit
// (Nova always sends keyinit right before password).
func (a *Agent) password(value json.RawMessage) result {
	secret := a.keys.secret
	a.keys.wipe()
	text, err := stringValue("password", value)
	if err != nil {
		return failuref(err)
	}
	// StdEncoding skips '\r' and '\n', so wrapped base64 decodes too.
	ct, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return failure("Couldn't decode base64 data")
	}
	if secret == "" {
		return failure("Password without key exchange")
	}
	pt, err := decryptPassword(ct, secret)
	if err != nil {
		return failure("Invalid password data received")
	}
	defer clear(pt)
	pw := trimOneNewline(pt)
	if len(pw) == 0 {
		return failure("Invalid password data received: the password is empty")
	}
	if bytes.ContainsAny(pw, "\x00\r\n") {
		return failure("Invalid password data received: the password contains a line break or NUL")
	}
	if err := a.act.SetPassword(string(pw)); err != nil {
		return failure("Couldn't set password: " + err.Error())
	}
	return ok("")
}

// trimOneNewline removes the single "\n" or "\r\n" Nova appends.
func trimOneNewline(b []byte) []byte {
	if bytes.HasSuffix(b, []byte("\r\n")) {
		return b[:len(b)-2]
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}
