package agent

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	// maxUpdateSize caps an agentupdate download (our binary is ~10 MB).
	maxUpdateSize = 128 << 20
	// updateTimeout bounds the whole download.
	updateTimeout = 5 * time.Minute
)

// updateRequest is an agentupdate value: "url,md5" (what Nova sends) or
// {"url", "md5sum", "sha256"} (accepted by the 1.x agent).
type updateRequest struct {
	URL    string `json:"url"`
	MD5    string `json:"md5sum"`
	SHA256 string `json:"sha256"`
}

func parseUpdateRequest(value json.RawMessage) (updateRequest, error) {
	var u updateRequest
	if s, err := stringValue("agentupdate", value); err == nil {
		// The MD5 never holds a comma; the URL may.
		i := strings.LastIndexByte(s, ',')
		if i < 0 {
			return u, errors.New("agentupdate: 'value' must be \"<url>,<md5>\"")
		}
		u.URL, u.MD5 = strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
	} else if err := json.Unmarshal(value, &u); err != nil {
		return u, errors.New("agentupdate: 'value' must be \"<url>,<md5>\" or an object {url, md5sum}")
	}
	u.MD5, u.SHA256 = strings.ToLower(u.MD5), strings.ToLower(u.SHA256)
	if !isHex(u.MD5, md5.Size) {
		return u, errors.New("agentupdate: md5sum must be 32 hex digits")
	}
	if u.SHA256 != "" && !isHex(u.SHA256, sha256.Size) {
		return u, errors.New("agentupdate: sha256 must be 64 hex digits")
	}
	return u, nil
}

func isHex(s string, size int) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == size
}

// agentUpdate answers `agentupdate`: download, verify, replace the running
// binary, then (after the reply is written) re-execute it.
func (a *Agent) agentUpdate(ctx context.Context, value json.RawMessage) (result, func()) {
	if !a.opts.AllowUpdate {
		return failure("agent update is disabled on this guest (start the agent with updates allowed)"), nil
	}
	u, err := parseUpdateRequest(value)
	if err != nil {
		return failuref(err), nil
	}
	if err := a.checkUpdateURL(u.URL); err != nil {
		return failuref(err), nil
	}
	body, err := a.download(ctx, u.URL)
	if err != nil {
		return failuref(err), nil
	}
	if got := md5.Sum(body); hex.EncodeToString(got[:]) != u.MD5 {
		return failure(fmt.Sprintf("MD5 sums do not match (%s != %s)", u.MD5, hex.EncodeToString(got[:]))), nil
	}
	if u.SHA256 != "" {
		if got := sha256.Sum256(body); hex.EncodeToString(got[:]) != u.SHA256 {
			return failure(fmt.Sprintf("SHA-256 sums do not match (%s != %s)", u.SHA256, hex.EncodeToString(got[:]))), nil
		}
	}
	if !bytes.HasPrefix(body, []byte("\x7fELF")) {
		return failure("agentupdate: the download is not an ELF executable"), nil
	}
	exe, err := a.executable()
	if err != nil {
		return failure("agentupdate: cannot find the running binary: " + err.Error()), nil
	}
	if err := replaceFile(exe, body); err != nil {
		return failure("agentupdate: " + err.Error()), nil
	}
	a.logf("agent: updated %s; re-executing", exe)
	return ok(""), func() {
		reexec := a.opts.Reexec
		if reexec == nil {
			reexec = syscall.Exec
		}
		if err := reexec(exe, os.Args, os.Environ()); err != nil {
			a.logf("agent: re-executing %s: %v (the update applies at the next start)", exe, err)
		}
	}
}

func (a *Agent) checkUpdateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		//lint:ignore ST1005 nova-agent 1.x's exact reply text
		return errors.New("Invalid URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && a.opts.AllowInsecureUpdate:
	default:
		return fmt.Errorf("agentupdate: URL scheme %q not allowed (https only)", u.Scheme)
	}
	return nil
}

func (a *Agent) download(ctx context.Context, rawURL string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	client := a.opts.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		//lint:ignore ST1005 nova-agent 1.x's exact reply text
		return nil, errors.New("Invalid URL")
	}
	resp, err := client.Do(req)
	if err != nil {
		// url.Error text holds the URL, which is not secret.
		return nil, fmt.Errorf("agentupdate: download failed: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("agentupdate: download failed: HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUpdateSize+1))
	if err != nil {
		return nil, fmt.Errorf("agentupdate: download failed: %v", err)
	}
	if len(body) > maxUpdateSize {
		return nil, fmt.Errorf("agentupdate: download larger than %d bytes", maxUpdateSize)
	}
	return body, nil
}

func (a *Agent) executable() (string, error) {
	if a.opts.Executable != nil {
		return a.opts.Executable()
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(exe)
}

// replaceFile atomically replaces path with content, keeping its mode: a
// temp file in the same directory, fsync, rename, fsync the directory.
func replaceFile(path string, content []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".update-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	_, err = tmp.Write(content)
	if err == nil {
		err = tmp.Chmod(info.Mode().Perm())
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: the rename is done either way
		d.Close()
	}
	return nil
}
