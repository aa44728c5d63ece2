package configdrive

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// unwrapVendorData applies cloud-init's convert_vendordata to a parsed
// vendor_data.json value (or the "static" entry of vendor_data2.json):
//   - a string is the vendor data itself;
//   - a list is several parts; cloud-init feeds them to its user-data
//     processor, so they become one multipart/mixed message here;
//   - an object contributes its "cloud-init" key (a string or list), else
//     nothing: other keys belong to other consumers.
//
// Anything cloud-init would reject (a number, a nested object) yields a
// warning and no vendor data, as cloud-init only warns too.
func unwrapVendorData(field string, raw json.RawMessage) ([]byte, []string) {
	return unwrapVendorValue(field, raw, true)
}

func unwrapVendorValue(field string, raw json.RawMessage, recurse bool) ([]byte, []string) {
	switch jsonKind(raw) {
	case "null", "nothing":
		return nil, nil
	case "string":
		s, err := decodeString(field, raw)
		if err != nil || s == "" {
			return nil, nil
		}
		return []byte(s), nil
	case "array":
		return vendorListToMultipart(field, raw)
	case "object":
		if !recurse {
			return nil, []string{field + ": an object here is not vendor data, ignored"}
		}
		m, err := decodeObject(field, raw)
		if err != nil {
			return nil, []string{err.Error()}
		}
		inner, ok := m["cloud-init"]
		if !ok {
			return nil, nil
		}
		return unwrapVendorValue(subField(field, "cloud-init"), inner, false)
	default:
		return nil, []string{(&fieldError{Field: field, Msg: "a " + jsonKind(raw) + " is not vendor data, ignored"}).Error()}
	}
}

// vendorListToMultipart turns a list of strings into a MIME multipart
// message whose text/plain parts cloud-init classifies by their first line
// (#cloud-config, #!, ...), exactly as it does with list vendor data.
func vendorListToMultipart(field string, raw json.RawMessage) ([]byte, []string) {
	list, err := decodeArray(field, raw)
	if err != nil {
		return nil, []string{err.Error()}
	}
	var warnings []string
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	parts := 0
	for i, item := range list {
		s, err := decodeString(fmt.Sprintf("%s[%d]", field, i), item)
		if err != nil {
			warnings = append(warnings, err.Error()+", part ignored")
			continue
		}
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Type", `text/plain; charset="utf-8"`)
		hdr.Set("Content-Transfer-Encoding", "base64")
		hdr.Set("MIME-Version", "1.0")
		pw, _ := w.CreatePart(hdr) // writes to a bytes.Buffer: cannot fail
		pw.Write([]byte(wrapBase64(s)))
		parts++
	}
	w.Close()
	if parts == 0 {
		return nil, warnings
	}
	msg := "Content-Type: multipart/mixed; boundary=\"" + w.Boundary() + "\"\r\nMIME-Version: 1.0\r\n\r\n" + body.String()
	return []byte(msg), warnings
}

// wrapBase64 encodes s in 76-column lines as MIME requires.
func wrapBase64(s string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.String()
}
