package vmtest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCacheDirFallsBackWithoutHome(t *testing.T) {
	t.Setenv(cacheEnv, "")
	t.Setenv("XDG_CACHE_HOME", "")
	// A home that is a regular file: nothing can be created below it, not
	// even by root.
	home := filepath.Join(t.TempDir(), "home-is-a-file")
	if err := os.WriteFile(home, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("TMPDIR", t.TempDir())
	dir, err := cacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, os.Getenv("TMPDIR")) {
		t.Errorf("cacheDir = %s, want one under TMPDIR", dir)
	}
}

func TestCachedBuildsOnceAndKeepsFailuresOut(t *testing.T) {
	dir := t.TempDir()
	builds := 0
	build := func(w io.Writer) error { builds++; _, err := w.Write([]byte("v1")); return err }
	for range 2 {
		p, err := cached(dir, "thing", build)
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(p); !bytes.Equal(data, []byte("v1")) {
			t.Errorf("content %q", data)
		}
	}
	if builds != 1 {
		t.Errorf("built %d times, want 1", builds)
	}
	_, err := cached(dir, "broken", func(w io.Writer) error { w.Write([]byte("half")); return errors.New("boom") })
	if err == nil || !strings.Contains(err.Error(), "building broken: boom") {
		t.Errorf("err = %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "broken*")); len(left) != 0 {
		t.Errorf("failed build left %v behind", left)
	}
}
