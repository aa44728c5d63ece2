package agent

import (
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder collects what Options.Done is told.
type recorder struct {
	mu   sync.Mutex
	recs []RequestRecord
}

func (r *recorder) done(rec RequestRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
}

func (r *recorder) all() []RequestRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RequestRecord(nil), r.recs...)
}

// TestDoneRecordsRequestsWithoutSecrets: Options.Done sees each request's
// id, command and returncode, a failure's message, and never a request
// value, the DH keys, the password or a file's contents.
func TestDoneRecordsRequestsWithoutSecrets(t *testing.T) {
	s, act := newFakeStore(), &fakeActions{}
	var rec recorder
	s.fail("write data/guest/w", 1) // the first write of w fails, the retry works
	start := time.Now()
	a := New(s, act, Options{Logf: t.Logf, Done: rec.done, PollInterval: 5 * time.Millisecond})
	runAgent(t, a)

	hostPriv := big.NewInt(0x1f2e3d4c5b6a79)
	hostPub := dhPublic(hostPriv).String()
	s.put("data/host/k", req("keyinit", hostPub))
	kres := waitReply(t, s, "k")
	guestPub, _ := new(big.Int).SetString(kres.Message, 10)
	shared := dhShared(guestPub, hostPriv)
	enc := hostEncrypt(t, "TopSecretPw\n", shared, keyIVMD5)
	s.put("data/host/p", req("password", enc))
	wantReply(t, waitReply(t, s, "p"), "0", "")
	fileValue := b64("/root/.ssh/authorized_keys,ssh-rsa PRIVATEISH")
	s.put("data/host/f", req("injectfile", fileValue))
	wantReply(t, waitReply(t, s, "f"), "0", "")
	s.put("data/host/bad", req("injectfile", b64("relative/path,SECRETCONTENT")))
	waitReply(t, s, "bad")
	s.put("data/host/u", req("frobnicate", "x"))
	waitReply(t, s, "u")
	s.put("data/host/m", `not json`)
	waitReply(t, s, "m")
	s.put("data/host/w", req("version", "agent"))
	waitReply(t, s, "w")
	if len(act.passwords) != 1 || act.passwords[0] != "TopSecretPw" {
		t.Fatalf("password not set: %q", act.passwords)
	}

	type want struct{ id, cmd, code, msg, writeErr string }
	wants := []want{
		{"k", "keyinit", "D0", "", ""},
		{"p", "password", "0", "", ""},
		{"f", "injectfile", "0", "", ""},
		{"bad", "injectfile", "500", `injectfile: path "relative/path" is not absolute`, ""},
		{"u", "frobnicate", "404", "No such agent command 'frobnicate'", ""},
		{"m", "?", "500", "Request is malformed", ""},
		{"w", "version", "0", "", "fake xenstore failure"},
		{"w", "version", "0", "", ""},
	}
	var got []RequestRecord
	waitFor(t, "all records", func() bool { got = rec.all(); return len(got) >= len(wants) })
	if len(got) != len(wants) {
		t.Fatalf("got %d records, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		g := got[i]
		if g.ID != w.id || g.Command != w.cmd || g.Code != w.code || g.Message != w.msg || !strings.Contains(g.WriteError, w.writeErr) ||
			(w.writeErr == "") != (g.WriteError == "") {
			t.Errorf("record %d = %+v, want %+v", i, g, w)
		}
		if g.Received.Before(start) || g.Received.After(time.Now()) || g.Duration < 0 || g.Duration > 10*time.Second {
			t.Errorf("record %d: received %v, duration %v", i, g.Received, g.Duration)
		}
	}
	if !got[7].Received.Equal(got[6].Received) || got[7].Duration < got[6].Duration {
		t.Errorf("the retried reply is not the same request: %+v then %+v", got[6], got[7])
	}
	all := fmt.Sprintf("%+v %#v", got, got)
	for _, secret := range []string{"TopSecretPw", shared, enc, hostPub, kres.Message, "PRIVATEISH", fileValue, "SECRETCONTENT", "agent\""} {
		if strings.Contains(all, secret) {
			t.Errorf("records contain %q:\n%s", secret, all)
		}
	}
}

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"plain message": "plain message",
		`Get "https://h.example/agent?X-Amz-Signature=abc&k=v": dial tcp: refused`: `Get "https://h.example/agent?<redacted>": dial tcp: refused`,
		"https://user:pw@h.example/a#frag x":                                       "https://<redacted>@h.example/a#<redacted> x",
		"http://h/a and https://h/b?s=1":                                           "http://h/a and https://h/b?<redacted>",
		"ends with ://":                                                            "ends with ://",
	} {
		if got := redactURLs(in); got != want {
			t.Errorf("redactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

// An agentupdate from a signed URL that fails: the reply to the host names
// the URL, the record keeps its host and path but not the signature.
func TestDoneRecordHidesURLSecrets(t *testing.T) {
	s, act := newFakeStore(), &fakeActions{}
	var rec recorder
	a := New(s, act, Options{Logf: t.Logf, Done: rec.done, AllowUpdate: true,
		HTTPClient: &http.Client{Transport: failingTransport{}}})
	runAgent(t, a)
	s.put("data/host/up", req("agentupdate", map[string]string{
		"url": "https://updates.example/agent?X-Amz-Signature=SIGSECRET", "md5sum": strings.Repeat("0", 32)}))
	if r := waitReply(t, s, "up"); r.Code != "500" || !strings.Contains(r.Message, "SIGSECRET") {
		t.Fatalf("reply %+v: want a 500 naming the URL", r)
	}
	var got []RequestRecord
	waitFor(t, "the record", func() bool { got = rec.all(); return len(got) == 1 })
	if m := got[0].Message; got[0].Command != "agentupdate" || strings.Contains(m, "SIGSECRET") ||
		!strings.Contains(m, "https://updates.example/agent?<redacted>") {
		t.Errorf("record %+v", got[0])
	}
}
