package agent

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"io"
	"math/big"
	"unicode/utf8"
)

// Diffie-Hellman group fixed by Nova's SimpleDH: p = 2^107−1, g = 5.
var (
	dhPrime     = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 107), big.NewInt(1))
	dhGenerator = big.NewInt(5)
)

// privateKeyBits is the size of the guest's DH exponent: at least the 128
// bits the 1.x agent used.
const privateKeyBits = 128

// newPrivateKey returns a random exponent of exactly privateKeyBits bits.
func newPrivateKey(rnd io.Reader) (*big.Int, error) {
	buf := make([]byte, privateKeyBits/8)
	if _, err := io.ReadFull(rnd, buf); err != nil {
		return nil, err
	}
	buf[0] |= 0x80
	return new(big.Int).SetBytes(buf), nil
}

func dhPublic(priv *big.Int) *big.Int { return new(big.Int).Exp(dhGenerator, priv, dhPrime) }

// dhShared is the shared secret as the decimal string both sides feed to
// the KDF (no leading zeros, like Python's str(int)).
func dhShared(peerPublic, priv *big.Int) string {
	return new(big.Int).Exp(peerPublic, priv, dhPrime).String()
}

// validPeerPublic rejects keys that would make the secret guessable.
func validPeerPublic(k *big.Int) bool {
	return k.Cmp(big.NewInt(1)) > 0 && k.Cmp(new(big.Int).Sub(dhPrime, big.NewInt(1))) < 0
}

// keyIV derives the AES-128 key and IV from the shared secret string.
type keyIV func(secret string) (key, iv []byte)

// keyIVMD5 is OpenSSL's EVP_BytesToKey with MD5, no salt, one round: what
// `openssl enc -md md5 -nosalt -pass pass:S` and every guest agent use.
func keyIVMD5(secret string) (key, iv []byte) {
	d1 := md5.Sum([]byte(secret))
	d2 := md5.Sum(append(d1[:], secret...))
	return d1[:], d2[:]
}

// keyIVSHA256 is the same derivation with SHA-256, the default digest of
// `openssl enc` since OpenSSL 1.1.0 (a Nova host that omits -md).
func keyIVSHA256(secret string) (key, iv []byte) {
	d := sha256.Sum256([]byte(secret))
	return d[:16], d[16:32]
}

var errBadCiphertext = errors.New("invalid password data")

// decryptCBC decrypts AES-128-CBC and checks strict PKCS#7 padding and
// UTF-8, so a wrong key is detected (almost) always, not 1 time in 16.
func decryptCBC(ct, key, iv []byte) ([]byte, error) {
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, errBadCiphertext
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	n := int(pt[len(pt)-1])
	if n == 0 || n > aes.BlockSize || !bytes.Equal(pt[len(pt)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		clear(pt)
		return nil, errBadCiphertext
	}
	pt = pt[:len(pt)-n]
	if !utf8.Valid(pt) {
		clear(pt)
		return nil, errBadCiphertext
	}
	return pt, nil
}

// decryptPassword tries the MD5 derivation, then SHA-256, and returns the
// plaintext of the first that decrypts cleanly.
func decryptPassword(ct []byte, secret string) ([]byte, error) {
	for _, derive := range []keyIV{keyIVMD5, keyIVSHA256} {
		key, iv := derive(secret)
		pt, err := decryptCBC(ct, key, iv)
		clear(key)
		if err == nil {
			return pt, nil
		}
	}
	return nil, errBadCiphertext
}
