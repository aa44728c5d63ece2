package configdrive

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// The field-level decoders (decodeObject, decodeArray, decodeString,
// jsonKind) are shared with the metadata reader, in jsonfield.go.

// jsonObject is one JSON object of network_data.json together with its
// JSON path (e.g. `links[2]`), so every type error can say where it is.
type jsonObject struct {
	path   string
	fields map[string]json.RawMessage
}

// errAt is the one shape of a network_data.json error.
func errAt(path, format string, args ...any) error {
	if path == "" {
		return fmt.Errorf("network_data.json: %s", fmt.Sprintf(format, args...))
	}
	return fmt.Errorf("network_data.json: %s: %s", path, fmt.Sprintf(format, args...))
}

// ndError puts the file name in front of a jsonfield.go field error.
func ndError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("network_data.json: %w", err)
}

func objectAt(path string, raw json.RawMessage) (jsonObject, error) {
	fields, err := decodeObject(path, raw)
	return jsonObject{path: path, fields: fields}, ndError(err)
}

func (o jsonObject) at(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// raw returns the value of key, or nil when it is absent or null.
func (o jsonObject) raw(key string) json.RawMessage {
	r, ok := o.fields[key]
	if !ok || isNull(r) {
		return nil
	}
	return r
}

func (o jsonObject) has(key string) bool { return o.raw(key) != nil }

// str returns a string field; absent or null gives "".
func (o jsonObject) str(key string) (string, error) {
	r := o.raw(key)
	if r == nil {
		return "", nil
	}
	s, err := decodeString(o.at(key), r)
	return s, ndError(err)
}

// scalar returns a string or number field as text: producers write e.g.
// bond_mode as "4" or 4 and bond_miimon as 100 or "100".
func (o jsonObject) scalar(key string) (string, error) {
	r := o.raw(key)
	if r == nil {
		return "", nil
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(r, &n) == nil {
		return n.String(), nil
	}
	return "", errAt(o.at(key), "want string or number, got %s", jsonKind(r))
}

// integer returns a whole-number field (a JSON number or a numeric
// string); ok is false when it is absent or null.
func (o jsonObject) integer(key string) (v int, ok bool, err error) {
	s, err := o.scalar(key)
	if err != nil || s == "" {
		return 0, false, err
	}
	n, perr := strconv.ParseFloat(s, 64)
	if perr != nil || n != float64(int64(n)) || n > 1<<31 || n < -(1<<31) {
		return 0, false, errAt(o.at(key), "want a whole number, got %q", s)
	}
	return int(n), true, nil
}

func (o jsonObject) strList(key string) ([]string, error) {
	items, err := o.list(key)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(items))
	for i, r := range items {
		if out[i], err = decodeString(fmt.Sprintf("%s[%d]", o.at(key), i), r); err != nil {
			return nil, ndError(err)
		}
	}
	return out, nil
}

func (o jsonObject) objList(key string) ([]jsonObject, error) {
	items, err := o.list(key)
	if err != nil {
		return nil, err
	}
	out := make([]jsonObject, len(items))
	for i, r := range items {
		if out[i], err = objectAt(fmt.Sprintf("%s[%d]", o.at(key), i), r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (o jsonObject) list(key string) ([]json.RawMessage, error) {
	r := o.raw(key)
	if r == nil {
		return nil, nil
	}
	items, err := decodeArray(o.at(key), r)
	return items, ndError(err)
}
