package agent

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
)

// injectFile answers `injectfile`: value = base64("<path>,<contents>"),
// split on the first comma (contents may hold commas; paths with a comma
// cannot be injected this way, as with every agent).
func (a *Agent) injectFile(value json.RawMessage) result {
	text, err := stringValue("injectfile", value)
	if err != nil {
		return failuref(err)
	}
	data, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return failure("Error doing base64 decoding of data")
	}
	path, content, found := bytes.Cut(data, []byte(","))
	if !found {
		return failure("injectfile: decoded data has no ',' between the path and the contents")
	}
	return a.inject("injectfile", string(path), content)
}

// fileInject answers `file_inject`: value = {"b64_path": …, "b64_file": …}.
func (a *Agent) fileInject(value json.RawMessage) result {
	var v struct {
		Path *string `json:"b64_path"`
		File *string `json:"b64_file"`
	}
	if err := json.Unmarshal(value, &v); err != nil || isNull(value) {
		return failure("file_inject: 'value' must be an object with string members b64_path and b64_file, got " + jsonKind(value))
	}
	if v.Path == nil || v.File == nil {
		return failure("file_inject: 'value' needs both b64_path and b64_file")
	}
	path, errP := base64.StdEncoding.DecodeString(*v.Path)
	content, errF := base64.StdEncoding.DecodeString(*v.File)
	if errP != nil || errF != nil {
		return failure("Error doing base64 decoding of data")
	}
	return a.inject("file_inject", string(path), content)
}

// inject checks the path and hands the file to Actions. The contents
// (often keys) are never logged or echoed.
func (a *Agent) inject(cmd, path string, content []byte) result {
	if msg := checkInjectPath(path); msg != "" {
		return failure(fmt.Sprintf("%s: path %q %s", cmd, clip(path, 256), msg))
	}
	if err := a.act.InjectFile(path, content); err != nil {
		return failure(fmt.Sprintf("%s: couldn't write %s: %v", cmd, clip(path, 256), err))
	}
	return ok("")
}

// checkInjectPath returns why path cannot be injected, or "".
func checkInjectPath(path string) string {
	switch {
	case path == "":
		return "is empty"
	case strings.ContainsRune(path, 0):
		return "contains a NUL byte"
	case !filepath.IsAbs(path):
		return "is not absolute"
	case filepath.Clean(path) == "/" || strings.HasSuffix(path, "/"):
		return "names a directory"
	}
	return ""
}
