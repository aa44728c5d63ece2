package vmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// cacheEnv overrides where the extracted kernel and base initramfs live.
const cacheEnv = "GUESTBRIDGE_VMTEST_CACHE"

// cacheDir returns (and creates) the directory for cached boot artefacts:
// $GUESTBRIDGE_VMTEST_CACHE, else the user cache directory, else (a user
// without a home, as some CI runners) a per-user directory in /tmp.
func cacheDir() (string, error) {
	if dir := os.Getenv(cacheEnv); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("%s: %w", cacheEnv, err)
		}
		return dir, nil
	}
	if base, err := os.UserCacheDir(); err == nil {
		dir := filepath.Join(base, "guestbridge-vmtest")
		if os.MkdirAll(dir, 0o755) == nil {
			return dir, nil
		}
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("guestbridge-vmtest-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cache directory: %w (set %s)", err, cacheEnv)
	}
	return dir, nil
}

// cached returns dir/name, calling build to produce it when it is missing.
// build writes into a temporary file that is renamed into place, so test
// processes running at the same time never see a half-written file.
func cached(dir, name string, build func(w io.Writer) error) (string, error) {
	final := filepath.Join(dir, name)
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	tmp, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := build(tmp); err != nil {
		tmp.Close()
		return "", fmt.Errorf("building %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", err
	}
	return final, nil
}

// fileHash is the hex SHA-256 of a file's content.
func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// shortHash names cache entries: 16 hex digits of SHA-256 over parts.
func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
