package configdrive

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const testUUID = "83679162-1378-4288-a2d4-70e13ec132aa"

// minimalMeta is the smallest meta_data.json Read accepts.
var minimalMeta = []byte(`{"uuid": "` + testUUID + `"}`)

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

func TestReadPicksVersion(t *testing.T) {
	meta := func(id string) string { return `{"uuid": "` + id + `"}` }
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"latest wins", map[string]string{
			"openstack/2012-08-10/meta_data.json": meta("old"),
			"openstack/2015-10-15/meta_data.json": meta("newer"),
			"openstack/latest/meta_data.json":     meta("latest"),
		}, "latest"},
		{"newest dated without latest", map[string]string{
			"openstack/2012-08-10/meta_data.json": meta("old"),
			"openstack/2015-10-15/meta_data.json": meta("newer"),
			"openstack/content/0000":              "x",
		}, "newer"},
		{"versions without meta_data.json are skipped", map[string]string{
			"openstack/2012-08-10/meta_data.json": meta("old"),
			"openstack/2018-08-27/user_data":      "x",
			"openstack/latest/user_data":          "x",
		}, "old"},
		{"latest in upper case", map[string]string{
			"openstack/LATEST/meta_data.json": meta("upper"),
		}, "upper"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst, err := Read(mapFS(tc.files), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if inst.InstanceID != tc.want {
				t.Errorf("InstanceID = %q, want %q", inst.InstanceID, tc.want)
			}
		})
	}
}

func TestReadOptionalDocumentsMissing(t *testing.T) {
	inst, err := Read(mapFS(map[string]string{"openstack/latest/meta_data.json": string(minimalMeta)}), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inst.InstanceID != testUUID || inst.Network != nil || inst.UserData != nil || inst.VendorData != nil ||
		inst.Files != nil || inst.PublicKeys != nil || len(inst.Warnings) != 0 {
		t.Errorf("got %+v, want only InstanceID", inst)
	}
}

func TestReadEmptyUserDataIsNotMissing(t *testing.T) {
	inst, err := Read(mapFS(map[string]string{
		"openstack/latest/meta_data.json": string(minimalMeta),
		"openstack/latest/user_data":      "",
	}), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inst.UserData == nil || len(inst.UserData) != 0 {
		t.Errorf("UserData = %#v, want empty non-nil", inst.UserData)
	}
}

func TestReadVendorData(t *testing.T) {
	for _, tc := range []struct {
		name        string
		vd, vd2     string // "" means the file is absent
		want        string
		wantWarning string
	}{
		{name: "string", vd: `"#cloud-config\nvd: 1\n"`, want: "#cloud-config\nvd: 1\n"},
		{name: "cloud-init key", vd: `{"cloud-init": "#cloud-config\nck: 1\n", "other": {"a": 1}}`, want: "#cloud-config\nck: 1\n"},
		{name: "no cloud-init key, none in vd2", vd: `{"magic": ""}`, vd2: `{"static": ""}`},
		{name: "vd2 static when vd yields nothing", vd: `{"magic": ""}`, vd2: `{"static": {"cloud-init": "#cloud-config\nv2: 1\n"}, "dyn": {}}`, want: "#cloud-config\nv2: 1\n"},
		{name: "vd2 static string", vd2: `{"static": "#!/bin/sh\n"}`, want: "#!/bin/sh\n"},
		{name: "vd wins over vd2", vd: `{"cloud-init": "one"}`, vd2: `{"static": "two"}`, want: "one"},
		{name: "nested object refused", vd: `{"cloud-init": {"x": 1}}`, wantWarning: "vendor_data.json: cloud-init: an object here is not vendor data"},
		{name: "number refused", vd: `42`, wantWarning: "vendor_data.json: a number is not vendor data"},
		{name: "vd2 not an object", vd2: `[1]`, wantWarning: "vendor_data2.json: want object, got array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"openstack/latest/meta_data.json": string(minimalMeta)}
			if tc.vd != "" {
				files["openstack/latest/vendor_data.json"] = tc.vd
			}
			if tc.vd2 != "" {
				files["openstack/latest/vendor_data2.json"] = tc.vd2
			}
			inst, err := Read(mapFS(files), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if string(inst.VendorData) != tc.want {
				t.Errorf("VendorData = %q, want %q", inst.VendorData, tc.want)
			}
			if tc.wantWarning != "" && !containsSubstring(inst.Warnings, tc.wantWarning) {
				t.Errorf("Warnings = %q, want one containing %q", inst.Warnings, tc.wantWarning)
			}
		})
	}
}

func containsSubstring(list []string, sub string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
}

// A list becomes a multipart message whose parts are the list's strings.
func TestReadVendorDataList(t *testing.T) {
	parts := []string{"#cloud-config\npackages: [htop]\n", "#!/bin/sh\necho " + strings.Repeat("long line ", 20) + "\n"}
	list, _ := json.Marshal([]any{parts[0], 7, parts[1]})
	inst, err := Read(mapFS(map[string]string{
		"openstack/latest/meta_data.json":   string(minimalMeta),
		"openstack/latest/vendor_data.json": `{"cloud-init": ` + string(list) + `}`,
	}), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !containsSubstring(inst.Warnings, "cloud-init[1]: want string, got number") {
		t.Errorf("Warnings = %q, want the number part named", inst.Warnings)
	}
	got := multipartTexts(t, inst.VendorData)
	if !slices.Equal(got, parts) {
		t.Errorf("parts = %q, want %q", got, parts)
	}
}

func multipartTexts(t *testing.T, msg []byte) []string {
	t.Helper()
	header, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no header in %q", msg)
	}
	ctype, _ := strings.CutPrefix(strings.SplitN(string(header), "\r\n", 2)[0], "Content-Type: ")
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil || mediaType != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", ctype, err)
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var texts []string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return texts
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Type") != `text/plain; charset="utf-8"` {
			t.Errorf("part type %q", p.Header.Get("Content-Type"))
		}
		enc, _ := io.ReadAll(p)
		dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(enc), "\r\n", ""))
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(dec))
	}
}

func TestReadEC2Fallback(t *testing.T) {
	ec2, err := os.ReadFile("testdata/metadata/ci-EC2_META.ec2-meta-data.json")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		LocalHostname string `json:"local-hostname"`
		InstanceID    string `json:"instance-id"`
		Placement     struct {
			AZ string `json:"availability-zone"`
		} `json:"placement"`
		PublicKeys map[string]struct {
			Key string `json:"openssh-key"`
		} `json:"public-keys"`
	}
	if err := json.Unmarshal(ec2, &want); err != nil {
		t.Fatal(err)
	}
	inst, err := Read(mapFS(map[string]string{
		"openstack/latest/meta_data.json": string(minimalMeta),
		ec2MetaPath:                       string(ec2),
	}), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inst.InstanceID != testUUID || inst.InstanceID == want.InstanceID {
		t.Errorf("InstanceID = %q, want the uuid %q (never the ec2 %q)", inst.InstanceID, testUUID, want.InstanceID)
	}
	if inst.Hostname != want.LocalHostname || inst.AvailabilityZone != want.Placement.AZ {
		t.Errorf("Hostname, AZ = %q, %q; want %q, %q", inst.Hostname, inst.AvailabilityZone, want.LocalHostname, want.Placement.AZ)
	}
	wantKey := strings.TrimRight(want.PublicKeys["0"].Key, "\n")
	if !slices.Equal(inst.PublicKeys, []string{wantKey}) {
		t.Errorf("PublicKeys = %q, want %q", inst.PublicKeys, wantKey)
	}
	if !containsSubstring(inst.Warnings, "hostname taken from "+ec2MetaPath) {
		t.Errorf("Warnings = %q, want the fallback named", inst.Warnings)
	}

	// openstack values win; a broken ec2 file is only a warning.
	inst, err = Read(mapFS(map[string]string{
		"openstack/latest/meta_data.json": `{"uuid": "u", "hostname": "os-host"}`,
		ec2MetaPath:                       `{"local-hostname": "ec2-host", "public-keys": {"0": {"openssh-key": 5}}}`,
	}), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inst.Hostname != "os-host" || inst.PublicKeys != nil {
		t.Errorf("Hostname, keys = %q, %q; want os-host and none", inst.Hostname, inst.PublicKeys)
	}
	if !containsSubstring(inst.Warnings, ec2MetaPath+": public-keys.0.openssh-key: want string, got number") {
		t.Errorf("Warnings = %q, want the ec2 type error", inst.Warnings)
	}
}

// bigFileFS reports a huge size for one file, to test the limit without
// allocating it.
type bigFileFS struct {
	fstest.MapFS
	name string
}

func (b bigFileFS) Open(name string) (fs.File, error) {
	f, err := b.MapFS.Open(name)
	if err != nil || name != b.name {
		return f, err
	}
	return bigFile{f}, nil
}

type bigFile struct{ fs.File }

func (bigFile) Stat() (fs.FileInfo, error) { return bigInfo{}, nil }

type bigInfo struct{}

func (bigInfo) Name() string       { return "big" }
func (bigInfo) Size() int64        { return MaxUserDataSize + 1 }
func (bigInfo) Mode() fs.FileMode  { return 0o444 }
func (bigInfo) ModTime() time.Time { return time.Time{} }
func (bigInfo) IsDir() bool        { return false }
func (bigInfo) Sys() any           { return nil }

func TestReadBadInput(t *testing.T) {
	const md = "openstack/latest/meta_data.json"
	withMeta := func(meta string, extra ...string) fs.FS {
		files := map[string]string{md: meta, "openstack/content/0000": "content"}
		for i := 0; i+1 < len(extra); i += 2 {
			files[extra[i]] = extra[i+1]
		}
		return mapFS(files)
	}
	oversizedJSON := `{"uuid": "u", "pad": "` + strings.Repeat("x", MaxJSONSize) + `"}`
	cases := []struct {
		name string
		fsys fs.FS
		want string // the error must contain this
	}{
		{"no openstack dir", mapFS(map[string]string{"ec2/latest/meta-data.json": "{}"}), "openstack/: no such directory"},
		{"no version dir", mapFS(map[string]string{"openstack/content/0000": "x"}), "openstack/: no latest or dated"},
		{"malformed JSON", withMeta(`{"uuid": "u",`), md + ": invalid JSON"},
		{"not an object", withMeta(`["uuid"]`), md + ": want object, got array"},
		{"uuid missing", withMeta(`{"hostname": "h"}`), md + ": uuid: missing"},
		{"uuid null", withMeta(`{"uuid": null}`), md + ": uuid: missing"},
		{"uuid empty", withMeta(`{"uuid": ""}`), md + ": uuid: empty"},
		{"uuid number", withMeta(`{"uuid": 5}`), md + ": uuid: want string, got number"},
		{"hostname number", withMeta(`{"uuid": "u", "hostname": 1}`), md + ": hostname: want string, got number"},
		{"name bool", withMeta(`{"uuid": "u", "name": true}`), md + ": name: want string, got bool"},
		{"availability_zone array", withMeta(`{"uuid": "u", "availability_zone": []}`), md + ": availability_zone: want string, got array"},
		{"project_id object", withMeta(`{"uuid": "u", "project_id": {}}`), md + ": project_id: want string, got object"},
		{"launch_index string", withMeta(`{"uuid": "u", "launch_index": "0"}`), md + ": launch_index: want integer, got string"},
		{"launch_index fraction", withMeta(`{"uuid": "u", "launch_index": 1.5}`), md + ": launch_index: want integer, got 1.5"},
		{"public_keys array", withMeta(`{"uuid": "u", "public_keys": ["k"]}`), md + ": public_keys: want object, got array"},
		{"public_keys value number", withMeta(`{"uuid": "u", "public_keys": {"mykey": 3}}`), md + ": public_keys.mykey: want string, got number"},
		{"keys object", withMeta(`{"uuid": "u", "keys": {}}`), md + ": keys: want array, got object"},
		{"keys item string", withMeta(`{"uuid": "u", "keys": ["k"]}`), md + ": keys[0]: want object, got string"},
		{"keys type number", withMeta(`{"uuid": "u", "keys": [{"type": 1, "data": "k"}]}`), md + ": keys[0].type: want string, got number"},
		{"keys data missing", withMeta(`{"uuid": "u", "keys": [{"type": "ssh"}]}`), md + ": keys[0].data: missing"},
		{"keys data number", withMeta(`{"uuid": "u", "keys": [{"type": "ssh", "data": 1}]}`), md + ": keys[0].data: want string, got number"},
		{"admin_pass number", withMeta(`{"uuid": "u", "admin_pass": 1234}`), md + ": admin_pass: want string, got number"},
		{"meta array", withMeta(`{"uuid": "u", "meta": []}`), md + ": meta: want object, got array"},
		{"meta value number", withMeta(`{"uuid": "u", "meta": {"role": "web", "count": 2}}`), md + ": meta.count: want string, got number"},
		{"files object", withMeta(`{"uuid": "u", "files": {}}`), md + ": files: want array, got object"},
		{"files item string", withMeta(`{"uuid": "u", "files": ["/etc/x"]}`), md + ": files[0]: want object, got string"},
		{"files path number", withMeta(`{"uuid": "u", "files": [{"path": 1, "content_path": "/content/0000"}]}`), md + ": files[0].path: want string, got number"},
		{"files path missing", withMeta(`{"uuid": "u", "files": [{"content_path": "/content/0000"}]}`), md + ": files[0].path: missing"},
		{"files path relative", withMeta(`{"uuid": "u", "files": [{"path": "etc/x", "content_path": "/content/0000"}]}`), md + `: files[0].path: "etc/x": want an absolute path`},
		{"files path dotdot", withMeta(`{"uuid": "u", "files": [{"path": "/etc/../../x", "content_path": "/content/0000"}]}`), md + `: files[0].path`},
		{"files content_path number", withMeta(`{"uuid": "u", "files": [{"path": "/x", "content_path": 0}]}`), md + ": files[0].content_path: want string, got number"},
		{"content_path escaping", withMeta(`{"uuid": "u", "files": [{"path": "/x", "content_path": "../../etc/passwd"}]}`), md + `: files[0].content_path: "../../etc/passwd" escapes the openstack/ tree`},
		{"content_path empty", withMeta(`{"uuid": "u", "files": [{"path": "/x", "content_path": "/"}]}`), md + `: files[0].content_path: "/" names no file`},
		{"content file missing", withMeta(`{"uuid": "u", "files": [{"path": "/x", "content_path": "/content/0000"}, {"path": "/y", "content_path": "/content/0009"}]}`), md + ": files[1].content_path: open openstack/content/0009: file does not exist"},
		{"random_seed number", withMeta(`{"uuid": "u", "random_seed": 7}`), md + ": random_seed: want string, got number"},
		{"oversized meta_data.json", withMeta(oversizedJSON), md + ": " + itoa(len(oversizedJSON)) + " bytes, over the 1048576-byte limit"},
		{"oversized user_data", bigFileFS{mapFS(map[string]string{md: string(minimalMeta), "openstack/latest/user_data": "x"}), "openstack/latest/user_data"}, "openstack/latest/user_data: " + itoa(MaxUserDataSize+1) + " bytes, over the " + itoa(MaxUserDataSize) + "-byte limit"},
		{"meta_data.json a directory", mapFS(map[string]string{md + "/x": "x", "openstack/2015-10-15/meta_data.json": "{}"}), md + ": is a directory"},
		{"malformed vendor_data.json", withMeta(string(minimalMeta), "openstack/latest/vendor_data.json", "{"), "openstack/latest/vendor_data.json: invalid JSON"},
		{"malformed network_data.json", withMeta(string(minimalMeta), "openstack/latest/network_data.json", "{"), "openstack/latest/network_data.json: invalid JSON"},
		{"wrong network_data.json", withMeta(string(minimalMeta), "openstack/latest/network_data.json", `{"links": {}}`), "openstack/latest/network_data.json: links"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inst, err := Read(tc.fsys, ReadOptions{})
			if err == nil {
				t.Fatalf("no error; got %+v", inst)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// Errors never carry the admin password, even when they quote the document.
func TestReadErrorsDoNotLeakAdminPass(t *testing.T) {
	const pass = "s3cret-Hunter2"
	for _, meta := range []string{
		`{"uuid": "u", "admin_pass": "` + pass + `", "meta": {"k": 1}}`,
		`{"uuid": "u", "admin_pass": "` + pass + `", "files": 1}`,
		`{"uuid": "u", "admin_pass": "` + pass + `"`,
		`{"admin_pass": "` + pass + `"}`,
	} {
		_, err := Read(mapFS(map[string]string{"openstack/latest/meta_data.json": meta}), ReadOptions{})
		if err == nil || strings.Contains(err.Error(), pass) {
			t.Errorf("error %v: want one without the password", err)
		}
	}
	inst, err := Read(mapFS(map[string]string{"openstack/latest/meta_data.json": `{"uuid": "u", "admin_pass": "` + pass + `"}`}), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inst.AdminPass.Reveal() != pass {
		t.Errorf("AdminPass = %q", inst.AdminPass.Reveal())
	}
}

func TestReadRandomSeed(t *testing.T) {
	seed := bytes.Repeat([]byte{0, 1, 2, 250}, 128)
	enc := base64.StdEncoding.EncodeToString(seed)
	for _, tc := range []struct {
		name, value string
		want        []byte
		warn        bool
	}{
		{"padded", enc, seed, false},
		{"with whitespace", enc[:100] + " \n" + enc[100:], seed, false},
		{"unpadded", strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("ab")), "="), []byte("ab"), false},
		{"truncated doc example", "yu5ZnkqF2CqnDZVAfZgarG...", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := json.Marshal(tc.value)
			inst, err := Read(mapFS(map[string]string{"openstack/latest/meta_data.json": `{"uuid": "u", "random_seed": ` + string(v) + `}`}), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(inst.RandomSeed, tc.want) {
				t.Errorf("RandomSeed = %x, want %x", inst.RandomSeed, tc.want)
			}
			if got := containsSubstring(inst.Warnings, "random_seed: not valid base64"); got != tc.warn {
				t.Errorf("Warnings = %q, want warning %v", inst.Warnings, tc.warn)
			}
		})
	}
}

// Every meta_data.json sample from upstream reads, and gives what a generic
// JSON decode of the same file says.
func TestReadMetaDataSamples(t *testing.T) {
	paths, _ := filepath.Glob("testdata/metadata/*.meta_data.json")
	if len(paths) < 5 {
		t.Fatalf("only %d samples", len(paths))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			inst, err := Read(mapFS(map[string]string{"openstack/latest/meta_data.json": string(data), "openstack/content/0000": "a", "openstack/content/0001": "b"}), ReadOptions{})
			if _, ok := doc["uuid"]; !ok {
				if err == nil || !strings.Contains(err.Error(), "uuid: missing") {
					t.Errorf("no uuid: error %v, want uuid: missing", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			str := func(k string) string { s, _ := doc[k].(string); return s }
			if inst.InstanceID != str("uuid") || inst.Hostname != str("hostname") || inst.Name != str("name") ||
				inst.ProjectID != str("project_id") || inst.AdminPass.Reveal() != str("admin_pass") {
				t.Errorf("got %+v", inst)
			}
			keys, _ := doc["public_keys"].(map[string]any)
			if len(inst.PublicKeys) != len(keys) {
				t.Errorf("PublicKeys = %q, want %d keys", inst.PublicKeys, len(keys))
			}
			for _, k := range inst.PublicKeys {
				if strings.HasSuffix(k, "\n") {
					t.Errorf("key %q keeps its newline", k)
				}
			}
			if (str("random_seed") != "") != (inst.RandomSeed != nil) {
				t.Errorf("random_seed present %v, RandomSeed %d bytes", str("random_seed") != "", len(inst.RandomSeed))
			}
		})
	}
}

// nova's documented example has the same key in public_keys and keys[]:
// it must appear once.
func TestReadKeysDeduplicated(t *testing.T) {
	data, err := os.ReadFile("testdata/metadata/nova-doc.meta_data.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["uuid"] = testUUID
	doc["keys"] = append(doc["keys"].([]any),
		map[string]any{"name": "cert", "type": "x509", "data": "-----BEGIN CERTIFICATE-----"},
		map[string]any{"name": "other", "type": "ssh", "data": "ssh-ed25519 AAAAother other@example\n"})
	withUUID, _ := json.Marshal(doc)
	inst, err := Read(mapFS(map[string]string{"openstack/latest/meta_data.json": string(withUUID)}), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		strings.TrimRight(doc["public_keys"].(map[string]any)["mykey"].(string), "\n"),
		"ssh-ed25519 AAAAother other@example",
	}
	if !slices.Equal(inst.PublicKeys, want) {
		t.Errorf("PublicKeys = %q, want %q", inst.PublicKeys, want)
	}
	if inst.Meta["role"] != "webserver" || inst.LaunchIndex != 0 || inst.ProjectID != doc["project_id"] {
		t.Errorf("got %+v", inst)
	}
	if !containsSubstring(inst.Warnings, "random_seed: not valid base64") {
		t.Errorf("Warnings = %q: the doc's truncated seed should be reported", inst.Warnings)
	}
}

// devices and dedicated_cpus (and keys Read does not know) are accepted and
// ignored, whatever their shape.
func TestReadIgnoresDevicesAndUnknownKeys(t *testing.T) {
	inst, err := Read(mapFS(map[string]string{"openstack/latest/meta_data.json": `{"uuid": "u", "hostname": "h",
		"devices": [{"type": "nic", "bus": "pci", "vlan": 5, "vf_trusted": true}, {"type": "share", "share_id": "s", "tag": "t"}],
		"dedicated_cpus": [0, 2, 4], "instance_type": "m1", "crypt_key": {"x": 1},
		"network_config": {"name": "network_config", "content_path": "/content/0002"}}`}), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inst.InstanceID != "u" || inst.Hostname != "h" {
		t.Errorf("got %+v", inst)
	}
	if !containsSubstring(inst.Warnings, "network_config: legacy ENI template ignored") {
		t.Errorf("Warnings = %q", inst.Warnings)
	}
}

func TestIsDatedVersion(t *testing.T) {
	for name, want := range map[string]bool{
		"2012-08-10": true, "2018-08-27": true, "0000-00-00": true,
		"latest": false, "2012-8-10": false, "2012-08-10x": false, "2012_08_10": false,
		"２０１２-08-10": false, "": false, "2012-08-1a": false,
	} {
		if got := isDatedVersion(name); got != want {
			t.Errorf("isDatedVersion(%q) = %v, want %v", name, got, want)
		}
	}
}
