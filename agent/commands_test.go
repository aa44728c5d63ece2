package agent

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

func newTestAgent(t testing.TB, opts Options) (*Agent, *fakeActions) {
	t.Helper()
	act := &fakeActions{}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	return New(newFakeStore(), act, opts), act
}

// call runs one request through the dispatcher and checks that the reply
// is what Nova can parse: one JSON object, returncode and message strings.
func call(t testing.TB, a *Agent, req string) result {
	t.Helper()
	_, res, _ := a.handle(context.Background(), "test-id", []byte(req))
	return decodeReply(t, res.encode())
}

func decodeReply(t testing.TB, raw []byte) result {
	t.Helper()
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("reply %q is not a JSON object: %v", raw, err)
	}
	code, isStr := fields["returncode"].(string)
	msg, msgStr := fields["message"].(string)
	if !isStr || !msgStr || len(fields) != 2 {
		t.Fatalf("reply %q: want exactly string returncode and message", raw)
	}
	return result{code, msg}
}

func req(name string, value any) string {
	b, err := json.Marshal(map[string]any{"name": name, "value": value})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func wantReply(t *testing.T, got result, code, msg string) {
	t.Helper()
	if got.Code != code || got.Message != msg {
		t.Errorf("got %q %q, want %q %q", got.Code, got.Message, code, msg)
	}
}

func wantError(t *testing.T, got result, code, msgPart string) {
	t.Helper()
	if got.Code != code || !strings.Contains(got.Message, msgPart) {
		t.Errorf("got %q %q, want %q containing %q", got.Code, got.Message, code, msgPart)
	}
}

func TestVersion(t *testing.T) {
	a, _ := newTestAgent(t, Options{Version: "1.2.3"})
	wantReply(t, call(t, a, `{"name": "version", "value": "agent"}`), "0", "1.2.3")
	d, _ := newTestAgent(t, Options{})
	wantReply(t, call(t, d, `{"name": "version", "value": "agent"}`), "0", DefaultVersion)
}

func TestFeaturesListsWhatCanSucceed(t *testing.T) {
	a, _ := newTestAgent(t, Options{})
	res := call(t, a, `{"name": "features", "value": ""}`)
	wantReply(t, res, "0", "version,features,keyinit,password,resetnetwork,injectfile,file_inject")
	// Parse the way dom0 does: split(",") with no trimming; every name must
	// be a command that does not answer 404.
	for _, name := range strings.Split(res.Message, ",") {
		if got := call(t, a, req(name, "")); got.Code == codeNotFound {
			t.Errorf("advertised %q answers 404", name)
		}
	}
	u, _ := newTestAgent(t, Options{AllowUpdate: true})
	if got := call(t, u, req("features", "")).Message; !strings.HasSuffix(got, ",agentupdate") {
		t.Errorf("with updates allowed, features = %q, want agentupdate listed", got)
	}
}

func TestMalformedRequests(t *testing.T) {
	a, act := newTestAgent(t, Options{})
	big := strings.Repeat("A", 4000)
	cases := []struct{ req, code, msg string }{
		{`abc`, "500", "Request is malformed"},
		{``, "500", "Request is malformed"},
		{`[1,2]`, "500", "Request is malformed"},
		{`"version"`, "500", "Request is malformed"},
		{`null`, "500", "Request is malformed"},
		{`{"name": "version"`, "500", "Request is malformed"},
		{`{"value":""}`, "500", "Request is missing 'name' key"},
		{`{"name": 5, "value": ""}`, "500", "Request is missing 'name' key"},
		{`{"name": null}`, "500", "Request is missing 'name' key"},
		{`{"name": ["version"]}`, "500", "Request is missing 'name' key"},
		{`{"name": "<unknown_command>", "value": ""}`, "404", "No such agent command '<unknown_command>'"},
		{`{"name": ""}`, "404", "No such agent command ''"},
		{`{"name": "kmsactivate", "value": {"activation_key": "k"}}`, "500", "kmsactivate is not supported by this agent"},
		{`{"name": "password", "value": 5}`, "500", "password: 'value' must be a string, got a number"},
		{`{"name": "injectfile", "value": {"a": 1}}`, "500", "injectfile: 'value' must be a string, got an object"},
		{`{"name": "file_inject", "value": "x"}`, "500", "file_inject: 'value' must be an object"},
		{`{"name": "file_inject", "value": {"b64_path": "L3g="}}`, "500", "needs both b64_path and b64_file"},
		{`{"name": "file_inject", "value": {"b64_path": 1, "b64_file": "eA=="}}`, "500", "file_inject: 'value' must be an object"},
		{`{"name": "keyinit", "value": "not a number"}`, "500", "not a decimal integer"},
		{`{"name": "keyinit", "value": true}`, "500", "got a boolean"},
		{`{"name": "keyinit"}`, "500", "got null"},
		{`{"name": "keyinit", "value": "1"}`, "500", "out of range"},
		{`{"name": "keyinit", "value": "0"}`, "500", "out of range"},
		{`{"name": "keyinit", "value": -7}`, "500", "out of range"},
		{`{"name": "keyinit", "value": "162259276829213363391578010288126"}`, "500", "out of range"}, // p-1
		{`{"name": "keyinit", "value": "` + strings.Repeat("9", 5000) + `"}`, "500", "out of range"},
		{`{"name": "keyinit", "value": 1.5}`, "500", "not a decimal integer"},
		{`{"name": "password", "value": "` + big + `"}`, "500", "Password without key exchange"},
		{`{"name": "injectfile", "value": "` + big + `"}`, "500", "no ','"},
		{`{"name": "agentupdate", "value": "https://x/y,d41d8cd98f00b204e9800998ecf8427e"}`, "500", "agent update is disabled"},
		{`{"name": "` + big + `"}`, "404", "No such agent command '"},
	}
	for _, c := range cases {
		got := call(t, a, c.req)
		if got.Code != c.code || !strings.Contains(got.Message, c.msg) {
			t.Errorf("%.80s: got %q %q, want %q containing %q", c.req, got.Code, clip(got.Message, 100), c.code, c.msg)
		}
		if len(got.Message) > maxMessage {
			t.Errorf("%.80s: message of %d bytes exceeds %d", c.req, len(got.Message), maxMessage)
		}
		// The agent keeps serving.
		wantReply(t, call(t, a, `{"name": "version", "value": "agent"}`), "0", DefaultVersion)
	}
	if len(act.passwords)+len(act.files)+act.resets != 0 {
		t.Errorf("malformed requests caused actions: %+v", act)
	}
}

func TestResetNetwork(t *testing.T) {
	a, act := newTestAgent(t, Options{})
	wantReply(t, call(t, a, `{"name": "resetnetwork", "value": ""}`), "0", "")
	if act.resetCount() != 1 {
		t.Fatalf("ResetNetwork called %d times, want 1", act.resetCount())
	}
	act.err = errors.New("eth0: no such device")
	wantReply(t, call(t, a, `{"name": "resetnetwork", "value": ""}`), "500", "Couldn't reset network: eth0: no such device")
}

func TestPanicInCommandBecomes500(t *testing.T) {
	a, act := newTestAgent(t, Options{})
	a.keys.secret = "152578739110533633474282934333723"
	act.panicMsg = "boom"
	wantReply(t, call(t, a, req("password", "CZOr5kLGmU+VLL4jKKrekA==")), "500", "Internal error while running 'password'")
	act.panicMsg = ""
	wantReply(t, call(t, a, req("version", "agent")), "0", DefaultVersion)
}

// hostEncrypt does what Nova's SimpleDH does with `openssl enc -aes-128-cbc
// -nosalt -pass pass:<secret>`: PKCS#7 pad, CBC encrypt, base64.
func hostEncrypt(t testing.TB, plaintext, secret string, derive keyIV) string {
	t.Helper()
	key, iv := derive(secret)
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	pt := append([]byte(plaintext), bytes.Repeat([]byte{byte(n)}, n)...)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, pt)
	return base64.StdEncoding.EncodeToString(ct)
}

// TestKeyInitThenPassword plays the host: its own DH key pair, the agent's
// reply, the shared secret, then an encrypted password with each KDF.
func TestKeyInitThenPassword(t *testing.T) {
	for _, kdf := range []struct {
		name   string
		derive keyIV
	}{{"md5", keyIVMD5}, {"sha256", keyIVSHA256}} {
		t.Run(kdf.name, func(t *testing.T) {
			a, act := newTestAgent(t, Options{})
			hostPriv, _ := new(big.Int).SetString("1f2e3d4c5b6a79880796", 16)
			hostPub := dhPublic(hostPriv)
			// Nova sends a string; a JSON number is accepted too.
			for _, value := range []string{`"` + hostPub.String() + `"`, hostPub.String()} {
				res := call(t, a, `{"name": "keyinit", "value": `+value+`}`)
				if res.Code != "D0" {
					t.Fatalf("keyinit: %q %q", res.Code, res.Message)
				}
				guestPub, isInt := new(big.Int).SetString(res.Message, 10)
				if !isInt || !validPeerPublic(guestPub) {
					t.Fatalf("keyinit message %q is not a public key", res.Message)
				}
				shared := dhShared(guestPub, hostPriv)
				enc := hostEncrypt(t, "s3cr3t Pässword\n", shared, kdf.derive)
				wantReply(t, call(t, a, req("password", enc)), "0", "")
			}
			if len(act.passwords) != 2 || act.passwords[0] != "s3cr3t Pässword" || act.passwords[1] != act.passwords[0] {
				t.Fatalf("SetPassword calls = %q", act.passwords)
			}
			// The key was used up: a replay fails.
			enc := hostEncrypt(t, "x\n", "whatever", kdf.derive)
			wantReply(t, call(t, a, req("password", enc)), "500", "Password without key exchange")
		})
	}
}

func TestPasswordErrors(t *testing.T) {
	const secret = "152578739110533633474282934333723"
	a, act := newTestAgent(t, Options{})
	withKey := func(value any) result {
		a.keys.secret = secret
		return call(t, a, req("password", value))
	}
	wantReply(t, call(t, a, req("password", "CZOr5kLGmU+VLL4jKKrekA==")), "500", "Password without key exchange")
	wantReply(t, withKey("not base64!"), "500", "Couldn't decode base64 data")
	// The key is wiped after a failure too.
	wantReply(t, call(t, a, req("password", "CZOr5kLGmU+VLL4jKKrekA==")), "500", "Password without key exchange")
	wantReply(t, withKey(base64.StdEncoding.EncodeToString([]byte("this is a test"))), "500", "Invalid password data received")
	wantReply(t, withKey(hostEncrypt(t, "pw\n", "another secret", keyIVMD5)), "500", "Invalid password data received")
	wantReply(t, withKey(""), "500", "Invalid password data received")
	wantError(t, withKey(hostEncrypt(t, "\n", secret, keyIVMD5)), "500", "empty")
	wantError(t, withKey(hostEncrypt(t, "a\nb\n", secret, keyIVMD5)), "500", "line break")
	wantError(t, withKey(hostEncrypt(t, "a\x00b", secret, keyIVMD5)), "500", "NUL")
	wantReply(t, withKey(hostEncrypt(t, "\xff\xfe\n", secret, keyIVMD5)), "500", "Invalid password data received")
	// Line-wrapped base64 (openssl without -A) and "\r\n" are accepted.
	enc := hostEncrypt(t, "winpass\r\n", secret, keyIVMD5)
	wantReply(t, withKey(enc[:10]+"\n"+enc[10:]+"\n"), "0", "")
	if got := act.passwords; len(got) != 1 || got[0] != "winpass" {
		t.Fatalf("SetPassword calls = %q, want [winpass]", got)
	}
	act.err = errors.New("chpasswd failed")
	wantReply(t, withKey(hostEncrypt(t, "pw\n", secret, keyIVMD5)), "500", "Couldn't set password: chpasswd failed")
}

func TestInjectFileErrors(t *testing.T) {
	a, act := newTestAgent(t, Options{})
	wantReply(t, call(t, a, req("injectfile", "Unencoded data")), "500", "Error doing base64 decoding of data")
	wantError(t, call(t, a, req("injectfile", b64("no comma here"))), "500", "no ','")
	wantError(t, call(t, a, req("injectfile", b64("relative/path,data"))), "500", `path "relative/path" is not absolute`)
	wantError(t, call(t, a, req("injectfile", b64(",data"))), "500", "is empty")
	wantError(t, call(t, a, req("injectfile", b64("/etc/,data"))), "500", "names a directory")
	wantError(t, call(t, a, req("injectfile", b64("/a\x00b,data"))), "500", "NUL")
	wantReply(t, call(t, a, req("file_inject", map[string]string{"b64_path": "!!", "b64_file": "eA=="})), "500", "Error doing base64 decoding of data")
	wantError(t, call(t, a, req("file_inject", map[string]string{"b64_path": b64("x"), "b64_file": "eA=="})), "500", "not absolute")
	if len(act.files) != 0 {
		t.Fatalf("bad requests injected files: %v", act.files)
	}
	act.err = errors.New("read-only file system")
	wantReply(t, call(t, a, req("injectfile", b64("/etc/motd,hi"))), "500", "injectfile: couldn't write /etc/motd: read-only file system")
}

func TestFileInject(t *testing.T) {
	a, act := newTestAgent(t, Options{})
	// The exact value dom0 sends (host_requests.json).
	wantReply(t, call(t, a, `{"name": "file_inject", "value": {"b64_path": "L3BhdGg=", "b64_file": "Y29udGVudHM="}}`), "0", "")
	if got := string(act.files["/path"]); got != "contents" {
		t.Fatalf("/path = %q, want contents", got)
	}
}
