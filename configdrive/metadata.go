package configdrive

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"guestbridge/datasource"
)

// metaData is openstack/<version>/meta_data.json after type checking.
// Field meanings: configdrive-format.md §3 (nova _metadata_as_json).
type metaData struct {
	UUID             string
	Hostname         string
	Name             string
	AvailabilityZone string
	ProjectID        string
	LaunchIndex      int
	PublicKeys       []string // public_keys by key name, then keys[] ssh entries not already seen
	AdminPass        datasource.Secret
	Meta             map[string]string
	Files            []fileRef
	RandomSeed       []byte
	Warnings         []string
}

// fileRef is one injected file: where it goes in the guest and where its
// content is on the drive (already resolved below openstack/).
type fileRef struct {
	GuestPath   string
	ContentPath string
}

// parseMetaData type-checks meta_data.json. Errors name the field; the
// caller adds the file name. devices, dedicated_cpus and unknown keys are
// ignored.
func parseMetaData(data []byte) (*metaData, error) {
	top, err := decodeDocument(data)
	if err != nil {
		return nil, err
	}
	md := &metaData{}
	raw, ok := top["uuid"]
	if !ok || isNull(raw) {
		return nil, &fieldError{Field: "uuid", Msg: "missing; the instance UUID is required (as cloud-init requires it; the ec2 instance-id is a different identifier and is not used instead)"}
	}
	if md.UUID, err = decodeString("uuid", raw); err != nil {
		return nil, err
	}
	if md.UUID == "" {
		return nil, &fieldError{Field: "uuid", Msg: "empty; the instance UUID is required"}
	}
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"hostname", &md.Hostname},
		{"name", &md.Name},
		{"availability_zone", &md.AvailabilityZone},
		{"project_id", &md.ProjectID},
	} {
		if raw, ok := top[f.key]; ok {
			if *f.dst, err = decodeOptionalString(f.key, raw); err != nil {
				return nil, err
			}
		}
	}
	if raw, ok := top["launch_index"]; ok {
		if md.LaunchIndex, err = decodeInt("launch_index", raw); err != nil {
			return nil, err
		}
	}
	if raw, ok := top["admin_pass"]; ok && !isNull(raw) {
		pass, err := decodeString("admin_pass", raw)
		if err != nil {
			return nil, err
		}
		md.AdminPass = datasource.Secret(pass)
	}
	if md.PublicKeys, err = parsePublicKeys(top); err != nil {
		return nil, err
	}
	if md.Meta, err = parseMeta(top["meta"]); err != nil {
		return nil, err
	}
	if md.Files, err = parseFiles(top["files"]); err != nil {
		return nil, err
	}
	if raw, ok := top["random_seed"]; ok && !isNull(raw) {
		seed, err := decodeString("random_seed", raw)
		if err != nil {
			return nil, err
		}
		if md.RandomSeed, err = decodeBase64Lenient(seed); err != nil {
			// The seed only adds entropy; a bad one must not stop the boot.
			md.RandomSeed = nil
			md.Warnings = append(md.Warnings, "random_seed: not valid base64, ignored")
		}
	}
	if _, ok := top["network_config"]; ok {
		md.Warnings = append(md.Warnings, "network_config: legacy ENI template ignored (network_data.json is used instead)")
	}
	return md, nil
}

// decodeDocument parses a whole JSON file that must be an object.
func decodeDocument(data []byte) (map[string]json.RawMessage, error) {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return decodeObject("", data)
}

// parsePublicKeys merges public_keys (a dict, ordered by key name so the
// result is stable) and the ssh entries of keys[] (same keys, newer format),
// dropping duplicates.
func parsePublicKeys(top map[string]json.RawMessage) ([]string, error) {
	var keys []string
	add := func(k string) {
		k = trimKey(k)
		if strings.TrimSpace(k) != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if raw, ok := top["public_keys"]; ok && !isNull(raw) {
		m, err := decodeObject("public_keys", raw)
		if err != nil {
			return nil, err
		}
		for _, name := range sortedKeys(m) {
			k, err := decodeString("public_keys."+name, m[name])
			if err != nil {
				return nil, err
			}
			add(k)
		}
	}
	if raw, ok := top["keys"]; ok && !isNull(raw) {
		list, err := decodeArray("keys", raw)
		if err != nil {
			return nil, err
		}
		for i, item := range list {
			field := fmt.Sprintf("keys[%d]", i)
			entry, err := decodeObject(field, item)
			if err != nil {
				return nil, err
			}
			typ, err := decodeOptionalString(field+".type", entry["type"])
			if err != nil {
				return nil, err
			}
			if typ != "ssh" { // x509 keys are not login keys
				continue
			}
			data, ok := entry["data"]
			if !ok {
				return nil, &fieldError{Field: field + ".data", Msg: "missing"}
			}
			k, err := decodeString(field+".data", data)
			if err != nil {
				return nil, err
			}
			add(k)
		}
	}
	return keys, nil
}

func parseMeta(raw json.RawMessage) (map[string]string, error) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	m, err := decodeObject("meta", raw)
	if err != nil {
		return nil, err
	}
	meta := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		if meta[k], err = decodeString("meta."+k, m[k]); err != nil {
			return nil, err
		}
	}
	return meta, nil
}

func parseFiles(raw json.RawMessage) ([]fileRef, error) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	list, err := decodeArray("files", raw)
	if err != nil {
		return nil, err
	}
	refs := make([]fileRef, 0, len(list))
	for i, item := range list {
		field := fmt.Sprintf("files[%d]", i)
		entry, err := decodeObject(field, item)
		if err != nil {
			return nil, err
		}
		guest, err := decodeString(field+".path", entry["path"])
		if err != nil {
			return nil, err
		}
		if !path.IsAbs(guest) || hasDotDot(guest) {
			return nil, &fieldError{Field: field + ".path", Msg: fmt.Sprintf("%q: want an absolute path without \"..\"", guest)}
		}
		content, err := decodeString(field+".content_path", entry["content_path"])
		if err != nil {
			return nil, err
		}
		resolved, err := resolveContentPath(content)
		if err != nil {
			return nil, &fieldError{Field: field + ".content_path", Msg: err.Error()}
		}
		refs = append(refs, fileRef{GuestPath: path.Clean(guest), ContentPath: resolved})
	}
	return refs, nil
}

// resolveContentPath maps nova's "/content/0000" (relative to openstack/)
// to the drive path "openstack/content/0000", refusing anything that would
// leave the openstack/ tree.
func resolveContentPath(p string) (string, error) {
	if hasDotDot(p) {
		return "", fmt.Errorf("%q escapes the openstack/ tree", p)
	}
	rel := strings.Trim(path.Clean("/"+p), "/")
	if rel == "" {
		return "", fmt.Errorf("%q names no file", p)
	}
	return "openstack/" + rel, nil
}

func hasDotDot(p string) bool {
	return slices.Contains(strings.Split(p, "/"), "..")
}

// decodeBase64Lenient accepts padded or unpadded base64 with embedded
// whitespace, as Python's b64decode (used by cloud-init) does.
func decodeBase64Lenient(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// trimKey drops the trailing newline nova stores with each OpenSSH key.
func trimKey(k string) string { return strings.TrimRight(k, "\r\n") }

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
