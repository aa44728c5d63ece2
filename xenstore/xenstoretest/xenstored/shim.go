package xenstored

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// fakexenSource is the LD_PRELOAD shim that fakes the hypervisor calls. It
// sits in shim/ because the go tool refuses .c files in a non-cgo package.
//
//go:embed shim/fakexen.c
var fakexenSource []byte

var (
	shimOnce sync.Once
	shimPath string
	shimErr  error
)

// buildShim compiles fakexen.c once per test process into a cache directory
// keyed by the source hash, so an edited shim is never confused with an old
// build and concurrent test processes share one build.
func buildShim(gcc string) (string, error) {
	shimOnce.Do(func() { shimPath, shimErr = compileShim(gcc) })
	return shimPath, shimErr
}

func compileShim(gcc string) (string, error) {
	sum := sha256.Sum256(fakexenSource)
	key := hex.EncodeToString(sum[:8])
	var bases []string
	if dir, err := os.UserCacheDir(); err == nil {
		bases = append(bases, dir)
	}
	// The temp dir is the fallback for a HOME that is missing or read-only.
	bases = append(bases, os.TempDir())
	var errs []error
	for _, base := range bases {
		so, err := compileShimIn(gcc, filepath.Join(base, "guestbridge-fakexen", key))
		if err == nil {
			return so, nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

func compileShimIn(gcc, dir string) (string, error) {
	so := filepath.Join(dir, "fakexen.so")
	if _, err := os.Stat(so); err == nil {
		return so, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("fakexen cache dir: %w", err)
	}
	// Build in a private temp dir and rename into place: atomic, so parallel
	// test binaries never load a half-written .so.
	tmp, err := os.MkdirTemp(dir, "build")
	if err != nil {
		return "", fmt.Errorf("fakexen build dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "fakexen.c")
	if err := os.WriteFile(src, fakexenSource, 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(tmp, "fakexen.so")
	cmd := exec.Command(gcc, "-shared", "-fPIC", "-O2", "-o", out, src, "-ldl")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building fakexen.so: %v\n%s", err, msg)
	}
	if err := os.Rename(out, so); err != nil {
		return "", fmt.Errorf("installing fakexen.so: %w", err)
	}
	return so, nil
}
