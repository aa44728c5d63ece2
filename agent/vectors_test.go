package agent

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

// Upstream and generated vectors copied from the shared fixtures; see
// testdata/README.md for their provenance.

func loadVector(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "nova-agent", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func mustInt(t *testing.T, s string, base int) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, base)
	if !ok {
		t.Fatalf("bad integer %q", s)
	}
	return n
}

func TestVectorDHParams(t *testing.T) {
	var v struct {
		Prime     string `json:"prime_decimal"`
		Generator int64  `json:"generator"`
	}
	loadVector(t, "crypto/dh_params.json", &v)
	if dhPrime.String() != v.Prime || dhGenerator.Int64() != v.Generator {
		t.Fatalf("group = (%s, %s), want (%s, %d)", dhPrime, dhGenerator, v.Prime, v.Generator)
	}
}

func TestVectorSharedSecret2x(t *testing.T) {
	var v struct {
		Priv   string `json:"private_key_decimal"`
		Remote string `json:"remote_public_key_decimal"`
		Shared string `json:"expected_shared_decimal"`
	}
	loadVector(t, "crypto/dh_shared_key_2x.json", &v)
	if got := dhShared(mustInt(t, v.Remote, 10), mustInt(t, v.Priv, 10)); got != v.Shared {
		t.Fatalf("shared = %s, want %s", got, v.Shared)
	}
}

func TestVectorKDFNone(t *testing.T) {
	var v struct {
		S   string `json:"shared_string"`
		Key string `json:"expected_aes_key_hex"`
		IV  string `json:"expected_aes_iv_hex"`
	}
	loadVector(t, "crypto/aes_kdf_md5_none_2x.json", &v)
	key, iv := keyIVMD5(v.S)
	if hex.EncodeToString(key) != v.Key || hex.EncodeToString(iv) != v.IV {
		t.Fatalf("MD5(%q) key/iv = %x/%x, want %s/%s", v.S, key, iv, v.Key, v.IV)
	}
}

func TestVectorInvalidPadding(t *testing.T) {
	var v struct {
		Key      string   `json:"aes_key_hex"`
		IV       string   `json:"aes_iv_hex"`
		Value    string   `json:"password_value_b64"`
		Expected []string `json:"expected_response"`
	}
	loadVector(t, "crypto/password_invalid_padding_2x.json", &v)
	key, _ := hex.DecodeString(v.Key)
	iv, _ := hex.DecodeString(v.IV)
	ct, err := base64.StdEncoding.DecodeString(v.Value)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := decryptCBC(ct, key, iv); err == nil {
		t.Fatalf("decrypted %d bytes, want rejection", len(pt))
	}
	// Through the command: whatever the secret, the reply is the upstream one.
	a, act := newTestAgent(t, Options{})
	a.keys.secret = "27234591073885988013566387861589"
	wantReply(t, call(t, a, req("password", v.Value)), v.Expected[0], v.Expected[1])
	if len(act.passwords) != 0 {
		t.Fatal("password set from invalid data")
	}
}

func TestVectorWindowsSpec(t *testing.T) {
	var v struct {
		Secret string `json:"shared_secret_string"`
		CT     string `json:"ciphertext_b64"`
		Plain  string `json:"expected_plaintext_after_agent_processing"`
		RawHex string `json:"raw_plaintext_hex_verified_locally"`
	}
	loadVector(t, "crypto/windows_encryption_spec.json", &v)
	ct, _ := base64.StdEncoding.DecodeString(v.CT)
	key, iv := keyIVMD5(v.Secret)
	pt, err := decryptCBC(ct, key, iv)
	raw, _ := hex.DecodeString(v.RawHex)
	if err != nil || string(pt) != string(raw[:len(raw)-int(raw[len(raw)-1])]) {
		t.Fatalf("MD5 decrypt = %q, %v", pt, err)
	}
	key, iv = keyIVSHA256(v.Secret)
	if _, err := decryptCBC(ct, key, iv); err == nil {
		t.Fatal("SHA-256 derivation also decrypted the MD5-only vector")
	}
	a, act := newTestAgent(t, Options{})
	a.keys.secret = v.Secret
	wantReply(t, call(t, a, req("password", v.CT)), "0", "")
	if len(act.passwords) != 1 || act.passwords[0] != v.Plain {
		t.Fatalf("SetPassword = %q, want %q", act.passwords, v.Plain)
	}
}

func TestVectorE2EGenerated(t *testing.T) {
	var v struct {
		HostPriv   string            `json:"host_private_hex"`
		HostPub    string            `json:"host_public"`
		GuestPriv  string            `json:"guest_private_hex"`
		GuestPub   string            `json:"guest_public"`
		Shared     string            `json:"shared_secret"`
		KeyMD5     string            `json:"aes128_key_md5_hex"`
		IVMD5      string            `json:"aes128_iv_md5_hex"`
		KeySHA     string            `json:"aes128_key_sha256_hex"`
		IVSHA      string            `json:"aes128_iv_sha256_hex"`
		Password   string            `json:"new_password"`
		CTMD5      string            `json:"ciphertext_b64_md5"`
		CTSHA      string            `json:"ciphertext_b64_sha256"`
		XenStore   map[string]string `json:"xenstore"`
		Prime      string            `json:"prime"`
		Generator  int64             `json:"generator"`
		PlainAsSet string            `json:"plaintext_encrypted_by_host"`
	}
	loadVector(t, "crypto/e2e_generated.json", &v)
	hostPriv, guestPriv := mustInt(t, v.HostPriv, 16), mustInt(t, v.GuestPriv, 16)
	if got := dhPublic(hostPriv).String(); got != v.HostPub {
		t.Errorf("host public = %s, want %s", got, v.HostPub)
	}
	if got := dhPublic(guestPriv).String(); got != v.GuestPub {
		t.Errorf("guest public = %s, want %s", got, v.GuestPub)
	}
	if a, b := dhShared(mustInt(t, v.GuestPub, 10), hostPriv), dhShared(mustInt(t, v.HostPub, 10), guestPriv); a != v.Shared || b != v.Shared {
		t.Errorf("shared = %s / %s, want %s", a, b, v.Shared)
	}
	k, iv := keyIVMD5(v.Shared)
	if hex.EncodeToString(k) != v.KeyMD5 || hex.EncodeToString(iv) != v.IVMD5 {
		t.Errorf("MD5 key/iv = %x/%x", k, iv)
	}
	k, iv = keyIVSHA256(v.Shared)
	if hex.EncodeToString(k) != v.KeySHA || hex.EncodeToString(iv) != v.IVSHA {
		t.Errorf("SHA-256 key/iv = %x/%x", k, iv)
	}
	for _, ct := range []string{v.CTMD5, v.CTSHA} {
		raw, _ := base64.StdEncoding.DecodeString(ct)
		pt, err := decryptPassword(raw, v.Shared)
		if err != nil || string(pt) != v.PlainAsSet {
			t.Errorf("decrypt %s = %q, %v; want %q", ct, pt, err, v.PlainAsSet)
		}
	}
	// The exact xenstore strings: the password request through the agent.
	a, act := newTestAgent(t, Options{})
	a.keys.secret = v.Shared
	got := call(t, a, v.XenStore["data/host/<id2>"])
	want := decodeReply(t, []byte(v.XenStore["data/guest/<id2>"]))
	if got != want || len(act.passwords) != 1 || act.passwords[0] != v.Password {
		t.Fatalf("password: reply %+v (want %+v), SetPassword %q", got, want, act.passwords)
	}
}

func TestVectorInjectFile(t *testing.T) {
	var v struct {
		Cases []struct {
			Value  string `json:"value"`
			Expect struct {
				Path       string `json:"path"`
				Contents   string `json:"contents"`
				ReturnCode string `json:"returncode"`
				Message    string `json:"message"`
			} `json:"expect"`
		} `json:"cases"`
	}
	loadVector(t, "injectfile/injectfile_vectors.json", &v)
	for _, c := range v.Cases {
		a, act := newTestAgent(t, Options{})
		got := call(t, a, req("injectfile", c.Value))
		if c.Expect.Path == "" {
			wantReply(t, got, c.Expect.ReturnCode, c.Expect.Message)
			continue
		}
		wantReply(t, got, "0", "")
		if string(act.files[c.Expect.Path]) != c.Expect.Contents || len(act.files) != 1 {
			t.Errorf("%s: injected %q, want %q at %s", c.Value, act.files, c.Expect.Contents, c.Expect.Path)
		}
	}
}
