// Package testenv decides whether a test that needs root, a command or a
// device can run. Outside CI a missing prerequisite skips the test and says
// why; under CI (CI set) it fails the test, because CI installs everything.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI, where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") != "" }

// Missing skips the test (or fails it under CI) because of what.
func Missing(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("prerequisite missing under CI: %s", what)
	}
	t.Skipf("skipped: %s (install it, or run as CI does: see .ci/run)", what)
}

// RequireRoot needs uid 0 (network namespaces, netlink changes).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root")
	}
}

// RequireCommand returns the path of name, or skips/fails.
func RequireCommand(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "command "+name+" not found")
	}
	return p
}

// RequireFile returns path if it exists, or skips/fails.
func RequireFile(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, "file "+path+" not found")
	}
	return path
}

// SystemPython is Debian's interpreter, the one that can import cloud-init
// and pyxs (a python3 earlier on PATH may not see dist-packages).
const SystemPython = "/usr/bin/python3"
