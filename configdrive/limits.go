package configdrive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// errTooLarge is wrapped by the error for a file over its size limit.
var errTooLarge = errors.New("limit")

// readLimited reads a whole file, refusing one over limit bytes before
// reading it when its size is known and while reading it when not.
func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, want a file", name)
	}
	if !st.Mode().IsRegular() {
		// Media readers only give regular files and directories; dirFS
		// refuses the rest at Open. Belt and braces for other fs.FS.
		return nil, fmt.Errorf("%s: %w (mode %s)", name, ErrNotRegular, st.Mode())
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, over the %d-byte %w", name, st.Size(), limit, errTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: over the %d-byte %w", name, limit, errTooLarge)
	}
	return data, nil
}

// readOptional is readLimited where a missing file gives nil, nil.
func readOptional(fsys fs.FS, name string, limit int64) ([]byte, error) {
	data, err := readLimited(fsys, name, limit)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if data == nil && err == nil {
		data = []byte{} // present but empty is not the same as missing
	}
	return data, err
}

// readOptionalJSON is readOptional for a JSON document, checked for syntax.
func readOptionalJSON(fsys fs.FS, name string) ([]byte, error) {
	data, err := readOptional(fsys, name, MaxJSONSize)
	if err != nil || data == nil {
		return nil, err
	}
	if !json.Valid(data) {
		var v any
		return nil, fmt.Errorf("%s: invalid JSON: %v", name, json.Unmarshal(data, &v))
	}
	return data, nil
}
