package agent

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Return codes the host understands (§3.2 of the protocol notes): always
// JSON strings, because dom0 compares them with string lists.
const (
	codeOK       = "0"
	codeKeyInit  = "D0"
	codeError    = "500"
	codeNotFound = "404"
)

// maxMessage caps a reply message so the reply stays well inside a XenStore
// value (oxenstored refuses values over 2048 bytes by default).
const maxMessage = 1024

// result is one reply, written to data/guest/<id>.
type result struct {
	Code    string `json:"returncode"`
	Message string `json:"message"`
}

func ok(msg string) result      { return result{codeOK, msg} }
func failure(msg string) result { return result{codeError, msg} }
func failuref(err error) result { return result{codeError, err.Error()} }
func notFound(name string) result {
	return result{codeNotFound, "No such agent command '" + clip(name, 64) + "'"}
}
func (r result) String() string   { return r.Code } // the message may echo request data: never log it
func (r result) GoString() string { return r.String() }

// encode renders the reply as one JSON object, the way Nova reads it.
func (r result) encode() []byte {
	r.Message = clip(r.Message, maxMessage)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep '<' and '>' readable in xenstore-ls
	if err := enc.Encode(r); err != nil {
		// Two strings always encode; this is unreachable.
		return []byte(`{"returncode":"500","message":"internal error"}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "..."
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
