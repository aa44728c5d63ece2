package agent

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// throughXenstoreRead is what `xenstore-read` prints for a value made of
// printable ASCII, the only bytes encode emits: every backslash doubled
// (checked against the real CLI by TestEndToEndWithRealXenstored).
func throughXenstoreRead(t testing.TB, raw []byte) []byte {
	t.Helper()
	for _, c := range raw {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("reply %q holds byte %#x, which xenstore-read would escape", raw, c)
		}
	}
	return bytes.ReplaceAll(raw, []byte(`\`), []byte(`\\`))
}

// checkReplyRoundTrip: the raw reply decodes to r exactly, and what Nova
// gets through xenstore-read is a JSON object whose message decodes back
// to r's message once more.
func checkReplyRoundTrip(t testing.TB, r result) {
	t.Helper()
	raw := r.encode()
	var direct result
	if err := json.Unmarshal(raw, &direct); err != nil {
		t.Fatalf("raw reply %q is not JSON: %v", raw, err)
	}
	var nova map[string]string
	if err := json.Unmarshal(throughXenstoreRead(t, raw), &nova); err != nil {
		t.Fatalf("reply %q through xenstore-read is not a JSON object: %v", raw, err)
	}
	relayed, err := decodeRelayedMessage(nova["message"])
	code, errCode := decodeRelayedMessage(nova["returncode"])
	if err != nil || errCode != nil || relayed != direct.Message || code != direct.Code {
		t.Fatalf("Nova's view %q decodes to %q (%v); raw reader gets %q", nova, relayed, err, direct.Message)
	}
	if utf8.ValidString(r.Message) && !strings.HasSuffix(direct.Message, "...") && direct.Message != r.Message {
		t.Fatalf("message %q came back as %q", r.Message, direct.Message)
	}
}

func TestReplyRoundTripsThroughXenstoreRead(t *testing.T) {
	for _, m := range []string{
		"", "plain", `quote " and backslash \ and \\`, "injectfile: path \"/etc/ünï/x\" is not absolute",
		"tab\tnewline\ncr\r\n", "\x00\x01\x1f\x7f", "emoji 😀 and CJK 漢字", `\u00fc literally`,
		"invalid utf-8 \xff\xfe", strings.Repeat("ü", 2000), strings.Repeat(`"`, 500),
	} {
		checkReplyRoundTrip(t, failure(m))
	}
	// Long messages are cut to fit a XenStore value.
	if raw := failure(strings.Repeat("😀", 1000)).encode(); len(raw) > maxMessage+64 {
		t.Fatalf("reply of %d bytes", len(raw))
	}
	// A CRLF still reaches Nova as the literal \r\n it strips.
	var nova map[string]string
	json.Unmarshal(throughXenstoreRead(t, ok("done\r\n").encode()), &nova)
	if got := strings.ReplaceAll(nova["message"], `\r\n`, ""); got != "done" {
		t.Fatalf("Nova's strip leaves %q", got)
	}
}

func FuzzReplyEncoding(f *testing.F) {
	f.Add("500", "path \"ü\\x\"")
	f.Add("0", "\xff\x00")
	f.Fuzz(func(t *testing.T, code, msg string) {
		checkReplyRoundTrip(t, result{code, msg})
		if raw := (result{code, msg}).encode(); len(raw) > 2*maxMessage+64 {
			t.Fatalf("reply of %d bytes", len(raw))
		}
	})
}
