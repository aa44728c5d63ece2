package agent

import (
	"unicode/utf16"
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

// encode renders the reply as one JSON object that survives the way Nova
// reads it. Nova's dom0 plugin reads the reply with `xenstore-read`, which
// passes printable ASCII other than the backslash unchanged, doubles every
// backslash and writes other bytes as \xNN or octal escapes; then it
// json.loads the result. So the value written is printable ASCII only, and
// each backslash in it starts an escape that stays valid JSON when the
// backslash is doubled: '"' and every rune outside 0x20-0x7e become \uXXXX
// (UTF-16 pairs beyond the BMP), a backslash is \\, and newline, carriage
// return and tab are \n \r \t (so Nova, which removes a literal \\r\\n, still
// strips a trailing CRLF as with the other agents).
//
// A reader of the raw value (pyxs, libxenstore, this project) gets the
// message exactly with one JSON decode. Through xenstore-read, Nova gets
// valid JSON with our returncode, and the message with those escapes shown
// literally; decoding that message once more as the body of a JSON string
// gives the original text exactly (the tests check this with the real
// xenstore-read).
func (r result) encode() []byte {
	b := make([]byte, 0, 48+len(r.Message))
	b = append(b, `{"returncode":`...)
	b = appendASCIIString(b, r.Code, maxMessage)
	b = append(b, `,"message":`...)
	b = appendASCIIString(b, r.Message, maxMessage)
	return append(b, '}')
}

// appendASCIIString appends s as a JSON string in the form encode
// describes, with at most limit bytes between the quotes: a longer one is
// cut at a rune boundary and ends in "...". Invalid UTF-8 becomes U+FFFD.
func appendASCIIString(b []byte, s string, limit int) []byte {
	const ellipsis = "..."
	b = append(b, '"')
	var esc [12]byte
	if encodedLen(s) <= limit {
		for _, r := range s {
			b = append(b, escapeRune(esc[:0], r)...)
		}
		return append(b, '"')
	}
	n := 0
	for _, r := range s {
		e := escapeRune(esc[:0], r)
		if n+len(e) > limit-len(ellipsis) {
			break
		}
		b = append(b, e...)
		n += len(e)
	}
	b = append(b, ellipsis...)
	return append(b, '"')
}

func encodedLen(s string) int {
	var esc [12]byte
	n := 0
	for _, r := range s {
		n += len(escapeRune(esc[:0], r))
	}
	return n
}

const hexDigits = "0123456789abcdef"

func escapeRune(b []byte, r rune) []byte {
	switch {
	case r == '"':
		return append(b, `\u0022`...)
	case r == '\\':
		return append(b, `\\`...)
	case r == '\n':
		return append(b, `\n`...)
	case r == '\r':
		return append(b, `\r`...)
	case r == '\t':
		return append(b, `\t`...)
	case r >= 0x20 && r <= 0x7e:
		return append(b, byte(r))
	case r > 0xffff:
		r1, r2 := utf16.EncodeRune(r)
		return appendU(appendU(b, r1), r2)
	}
	return appendU(b, r) // includes utf8.RuneError for invalid bytes
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
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
