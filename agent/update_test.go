package agent

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// updateFixture serves a fake new binary over HTTPS and points the agent's
// executable at a file in a temp dir; re-exec is recorded, not performed.
type updateFixture struct {
	agent   *Agent
	store   *fakeStore
	exe     string
	payload []byte
	md5     string
	sha     string
	url     string
	reexecs []string
}

func newUpdateFixture(t *testing.T, opts Options) *updateFixture {
	t.Helper()
	f := &updateFixture{payload: []byte("\x7fELF new agent build")}
	sum := md5.Sum(f.payload)
	f.md5 = hex.EncodeToString(sum[:])
	sha := sha256.Sum256(f.payload)
	f.sha = hex.EncodeToString(sha[:])
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/agent":
			w.Write(f.payload)
		case "/notelf":
			w.Write([]byte("#!/bin/sh\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.exe = filepath.Join(t.TempDir(), "guestbridge")
	if err := os.WriteFile(f.exe, []byte("old"), 0o751); err != nil {
		t.Fatal(err)
	}
	opts.AllowUpdate = true
	opts.Logf = t.Logf
	opts.HTTPClient = srv.Client()
	opts.Executable = func() (string, error) { return f.exe, nil }
	opts.Reexec = func(path string, _, _ []string) error {
		f.reexecs = append(f.reexecs, path)
		return nil
	}
	f.store = newFakeStore()
	f.agent = New(f.store, &fakeActions{}, opts)
	return f
}

func (f *updateFixture) exeContent(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(f.exe)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAgentUpdateReplacesBinaryThenReexecs(t *testing.T) {
	f := newUpdateFixture(t, Options{})
	// Through the loop: the re-exec must come after the reply is written.
	f.store.put("data/host/u1", req("agentupdate", f.url+"/agent,"+f.md5))
	ctx := context.Background()
	if err := f.agent.scan(ctx); err != nil {
		t.Fatal(err)
	}
	wantReply(t, decodeReply(t, []byte(mustGet(t, f.store, "data/guest/u1"))), "0", "")
	if len(f.reexecs) != 1 || f.reexecs[0] != f.exe {
		t.Fatalf("reexecs = %q, want [%s]", f.reexecs, f.exe)
	}
	if got := f.exeContent(t); got != string(f.payload) {
		t.Fatalf("binary = %q, want the download", got)
	}
	info, _ := os.Stat(f.exe)
	if info.Mode().Perm() != 0o751 {
		t.Errorf("mode = %v, want 0751 kept", info.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(f.exe), ".*update*")); len(left) != 0 {
		t.Errorf("temp files left: %q", left)
	}
	// The object form with sha256.
	_, res, after := f.agent.handle(ctx, "u2", []byte(req("agentupdate", map[string]string{"url": f.url + "/agent", "md5sum": f.md5, "sha256": f.sha})))
	wantReply(t, res, "0", "")
	if after == nil {
		t.Fatal("no re-exec hook after a successful update")
	}
}

func TestAgentUpdateRefusals(t *testing.T) {
	f := newUpdateFixture(t, Options{})
	zero := "00000000000000000000000000000000"
	cases := []struct {
		value any
		msg   string
	}{
		{f.url + "/agent," + zero, "MD5 sums do not match (" + zero + " != " + f.md5 + ")"},
		{map[string]string{"url": f.url + "/agent", "md5sum": f.md5, "sha256": "ab"}, "sha256 must be 64 hex digits"},
		{map[string]string{"url": f.url + "/agent", "md5sum": f.md5, "sha256": zero + zero}, "SHA-256 sums do not match"},
		{"http://192.0.2.1/agent," + f.md5, `URL scheme "http" not allowed`},
		{"ftp://192.0.2.1/agent," + f.md5, `URL scheme "ftp" not allowed`},
		{"not a url," + f.md5, "Invalid URL"},
		{f.url + "/agent", "must be \"<url>,<md5>\""},
		{f.url + "/agent,xyz", "md5sum must be 32 hex digits"},
		{f.url + "/missing," + f.md5, "HTTP 404"},
		{f.url + "/notelf,25b5a1c7f5b1e2cbd8de2b6ee8b2d0c2", "MD5 sums do not match"},
		{42, "must be \"<url>,<md5>\" or an object"},
	}
	for _, c := range cases {
		_, res, after := f.agent.handle(context.Background(), "x", []byte(req("agentupdate", c.value)))
		wantError(t, res, "500", c.msg)
		if after != nil {
			t.Errorf("%v: re-exec hook on failure", c.value)
		}
	}
	notELF := md5.Sum([]byte("#!/bin/sh\n"))
	wantReply(t, call(t, f.agent, req("agentupdate", f.url+"/notelf,"+hex.EncodeToString(notELF[:]))), "500", "agentupdate: the download is not an ELF executable")
	if got := f.exeContent(t); got != "old" {
		t.Fatalf("binary changed to %q by a refused update", got)
	}
}

func TestAgentUpdateInsecureAllowed(t *testing.T) {
	f := newUpdateFixture(t, Options{AllowInsecureUpdate: true})
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(f.payload) }))
	t.Cleanup(plain.Close)
	f.agent.opts.HTTPClient = plain.Client()
	wantReply(t, call(t, f.agent, req("agentupdate", plain.URL+"/a,"+f.md5)), "0", "")
	if f.exeContent(t) != string(f.payload) {
		t.Fatal("http update not applied with AllowInsecureUpdate")
	}
}

func mustGet(t *testing.T, s *fakeStore, path string) string {
	t.Helper()
	v, ok := s.get(path)
	if !ok {
		t.Fatalf("%s missing", path)
	}
	return v
}
