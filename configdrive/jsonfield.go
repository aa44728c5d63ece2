package configdrive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// The helpers below decode one JSON value of a known field and, when it has
// the wrong type, say "<field>: want X, got Y" without echoing the value
// (it may be a password or a key).

// fieldError is a typed-field complaint; the caller prefixes the file name.
type fieldError struct {
	Field string
	Msg   string
}

func (e *fieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// subField names a member of field ("" is the document itself).
func subField(field, member string) string {
	if field == "" {
		return member
	}
	return field + "." + member
}

func wrongType(field, want string, raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return &fieldError{Field: field, Msg: "missing (want " + want + ")"}
	}
	return &fieldError{Field: field, Msg: "want " + want + ", got " + jsonKind(raw)}
}

// jsonKind names the JSON type of raw as a person would.
func jsonKind(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

func isNull(raw json.RawMessage) bool { return jsonKind(raw) == "null" }

// decodeObject parses raw as a JSON object; the keys keep no order.
func decodeObject(field string, raw json.RawMessage) (map[string]json.RawMessage, error) {
	if jsonKind(raw) != "object" {
		return nil, wrongType(field, "object", raw)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &fieldError{Field: field, Msg: "invalid JSON object"}
	}
	return m, nil
}

func decodeArray(field string, raw json.RawMessage) ([]json.RawMessage, error) {
	if jsonKind(raw) != "array" {
		return nil, wrongType(field, "array", raw)
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, &fieldError{Field: field, Msg: "invalid JSON array"}
	}
	return a, nil
}

func decodeString(field string, raw json.RawMessage) (string, error) {
	if jsonKind(raw) != "string" {
		return "", wrongType(field, "string", raw)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &fieldError{Field: field, Msg: "invalid JSON string"}
	}
	return s, nil
}

// decodeOptionalString accepts a string or null (nova writes null for an
// unset availability_zone).
func decodeOptionalString(field string, raw json.RawMessage) (string, error) {
	if raw == nil || isNull(raw) {
		return "", nil
	}
	return decodeString(field, raw)
}

// decodeInt accepts a JSON integer that fits an int, or null (→ 0).
func decodeInt(field string, raw json.RawMessage) (int, error) {
	if isNull(raw) {
		return 0, nil
	}
	if jsonKind(raw) != "number" {
		return 0, wrongType(field, "integer", raw)
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(raw)))
	if err != nil {
		return 0, &fieldError{Field: field, Msg: fmt.Sprintf("want integer, got %s", bytes.TrimSpace(raw))}
	}
	return n, nil
}
