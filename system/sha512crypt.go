package system

import (
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SHA-512 crypt ("$6$") as specified by Ulrich Drepper
// (https://www.akkadia.org/drepper/SHA-crypt.txt) and implemented by glibc and
// libxcrypt. Written here because no maintained Go module produces and
// verifies the glibc format exactly (see the package README).

const (
	sha512Prefix        = "$6$"
	sha512RoundsPrefix  = "rounds="
	sha512DefaultRounds = 5000
	sha512MinRounds     = 1000
	sha512MaxRounds     = 999999999
	sha512MaxSaltLen    = 16
	// maxPasswordLen is libxcrypt's CRYPT_MAX_PASSPHRASE_SIZE - 1: Debian's
	// crypt(3) refuses longer passphrases, and the algorithm is quadratic in
	// the length, so a huge one would stall us.
	maxPasswordLen = 511
	// cryptAlphabet is crypt(3)'s base-64 alphabet, also used for salts.
	cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// HashPassword returns a "$6$" SHA-512 crypt hash of password with a fresh
// 16-character salt from crypto/rand and the default 5000 rounds, the form
// glibc's crypt(3), chpasswd and openssl passwd -6 produce.
func HashPassword(password string) (string, error) {
	salt, err := randomSalt()
	if err != nil {
		return "", err
	}
	return CryptSHA512(password, sha512Prefix+salt)
}

// VerifyPassword reports whether password matches a "$6$" hash (with or
// without "rounds="). Any other hash format does not match.
func VerifyPassword(hash, password string) bool {
	got, err := CryptSHA512(password, hash)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

// CryptSHA512 is crypt(3) for the "$6$" method: setting is
// "$6$[rounds=N$]salt[$anything]" (a full hash works as a setting). As in
// glibc, the salt is cut at 16 characters and rounds are clamped to
// [1000, 999999999]; "rounds=" appears in the result only when the setting
// had it. Like libxcrypt, it refuses passwords over 511 bytes. The error
// never contains the password.
func CryptSHA512(password, setting string) (string, error) {
	if len(password) > maxPasswordLen {
		return "", fmt.Errorf("password longer than %d bytes", maxPasswordLen)
	}
	rest, ok := strings.CutPrefix(setting, sha512Prefix)
	if !ok {
		return "", errors.New(`crypt setting does not start with "$6$"`)
	}
	rounds, custom := sha512DefaultRounds, false
	if num, ok := strings.CutPrefix(rest, sha512RoundsPrefix); ok {
		// glibc: only "rounds=<digits>$" counts; anything else is salt.
		if end := strings.IndexByte(num, '$'); end > 0 {
			if n, err := strconv.ParseUint(num[:end], 10, 64); err == nil {
				rounds = int(min(max(n, sha512MinRounds), sha512MaxRounds))
				custom = true
				rest = num[end+1:]
			}
		}
	}
	salt := rest
	if i := strings.IndexByte(salt, '$'); i >= 0 {
		salt = salt[:i]
	}
	if len(salt) > sha512MaxSaltLen {
		salt = salt[:sha512MaxSaltLen]
	}
	if strings.HasPrefix(salt, sha512RoundsPrefix) {
		// "$6$rounds=0" (no '$' after the digits) makes glibc take
		// "rounds=0" as the salt, and its hash then reads back as a rounds
		// field with another salt: it could never be verified. '=' is not
		// in crypt's salt alphabet, so no real hash has such a salt.
		return "", fmt.Errorf("crypt setting: salt %q would read back as a rounds field", salt)
	}

	sum := sha512CryptSum([]byte(password), []byte(salt), rounds)

	var b strings.Builder
	b.WriteString(sha512Prefix)
	if custom {
		b.WriteString(sha512RoundsPrefix)
		b.WriteString(strconv.Itoa(rounds))
		b.WriteByte('$')
	}
	b.WriteString(salt)
	b.WriteByte('$')
	b.WriteString(encodeSHA512Crypt(sum))
	return b.String(), nil
}

// sha512CryptSum runs steps 1-21 of Drepper's algorithm.
func sha512CryptSum(pw, salt []byte, rounds int) []byte {
	// Digest B: password, salt, password.
	h := sha512.New()
	h.Write(pw)
	h.Write(salt)
	h.Write(pw)
	digestB := h.Sum(nil)

	// Digest A.
	h.Reset()
	h.Write(pw)
	h.Write(salt)
	for n := len(pw); n > 0; n -= sha512.Size {
		h.Write(digestB[:min(n, sha512.Size)])
	}
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(digestB)
		} else {
			h.Write(pw)
		}
	}
	digestA := h.Sum(nil)

	// P: digest of the password repeated len(pw) times, stretched to len(pw).
	h.Reset()
	for range len(pw) {
		h.Write(pw)
	}
	p := repeatTo(h.Sum(nil), len(pw))

	// S: digest of the salt repeated 16+A[0] times, stretched to len(salt).
	h.Reset()
	for range 16 + int(digestA[0]) {
		h.Write(salt)
	}
	s := repeatTo(h.Sum(nil), len(salt))

	c := digestA
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}
	return c
}

// repeatTo returns digest repeated (and cut) to n bytes.
func repeatTo(digest []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, digest[:min(len(digest), n-len(out))]...)
	}
	return out
}

// sha512CryptOrder is the byte permutation of step 22: each triple becomes
// four characters, byte 63 alone becomes the last two.
var sha512CryptOrder = [21][3]int{
	{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
	{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51},
	{31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
	{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19},
	{62, 20, 41},
}

func encodeSHA512Crypt(sum []byte) string {
	out := make([]byte, 0, 86)
	put := func(w uint32, n int) {
		for range n {
			out = append(out, cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	for _, t := range sha512CryptOrder {
		put(uint32(sum[t[0]])<<16|uint32(sum[t[1]])<<8|uint32(sum[t[2]]), 4)
	}
	put(uint32(sum[63]), 2)
	return string(out)
}

// randomSalt returns 16 characters of cryptAlphabet from crypto/rand. The
// alphabet has 64 letters, so byte&63 is uniform.
func randomSalt() (string, error) {
	buf := make([]byte, sha512MaxSaltLen)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	for i, b := range buf {
		buf[i] = cryptAlphabet[b&0x3f]
	}
	return string(buf), nil
}
