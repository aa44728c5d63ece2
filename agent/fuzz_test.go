package agent

import (
	"context"
	"encoding/json"
	"testing"
)

// FuzzHandleRequest: any request bytes give one valid JSON reply with
// string returncode and message, never a panic, and the agent still
// answers the next request.
func FuzzHandleRequest(f *testing.F) {
	for _, seed := range []string{
		`{"name": "version", "value": "agent"}`,
		`{"name": "features", "value": ""}`,
		`{"name": "keyinit", "value": "24516676389850395746130990682073"}`,
		`{"name": "password", "value": "CZOr5kLGmU+VLL4jKKrekA=="}`,
		`{"name": "injectfile", "value": "L3RtcC90ZXN0cy90ZXN0X2ZpbGVfd3JpdGUsVGVzdGluZyB0aGUgaW5qZWN0"}`,
		`{"name": "file_inject", "value": {"b64_path": "L3BhdGg=", "b64_file": "Y29udGVudHM="}}`,
		`{"name": "agentupdate", "value": "https://192.0.2.1/a,d41d8cd98f00b204e9800998ecf8427e"}`,
		`{"name": "kmsactivate", "value": {"activation_key": "k", "profile": "p", "domains": ["d"]}}`,
		`{"name": "resetnetwork", "value": ""}`,
		`{"value":""}`, `abc`, `[]`, `{"name": 5}`, "{\"name\": \"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a := New(newFakeStore(), &fakeActions{}, Options{Version: "1.0"})
		// A key is present so password requests reach decryption too.
		a.keys.secret = "152578739110533633474282934333723"
		_, res, _ := a.handle(context.Background(), "fuzz", data)
		raw := res.encode()
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatalf("reply %q is not JSON: %v", raw, err)
		}
		if _, ok := fields["returncode"].(string); !ok {
			t.Fatalf("reply %q: returncode not a string", raw)
		}
		if _, ok := fields["message"].(string); !ok {
			t.Fatalf("reply %q: message not a string", raw)
		}
		checkReplyRoundTrip(t, res)
		if len(raw) > maxMessage+64 {
			t.Fatalf("reply of %d bytes is too large for XenStore", len(raw))
		}
		_, next, _ := a.handle(context.Background(), "fuzz2", []byte(`{"name":"version"}`))
		if next.Code != codeOK || next.Message != "1.0" {
			t.Fatalf("agent broken after %q: %+v", data, next)
		}
	})
}
