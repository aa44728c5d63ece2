// Package oracle runs the real netplan and cloud-init as test oracles:
// netplan is the reference parser of network-config v2, cloud-init 22.4.2
// the reference translator of network_data.json. Every helper takes a
// testing.TB and skips (or, under CI, fails) when the tool is missing.
package oracle

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"guestbridge/internal/testenv"
)

// NetplanGenerate runs `netplan generate` on yaml in a scratch root and
// returns the files it wrote (path relative to the root's run/ → content)
// and its stderr (warnings such as "Conflicting default route
// declarations" appear there even when it succeeds). A non-zero exit fails
// the test.
func NetplanGenerate(t testing.TB, yaml []byte) (files map[string]string, stderr string) {
	t.Helper()
	files, stderr, err := NetplanGenerateErr(t, yaml)
	if err != nil {
		t.Fatalf("netplan generate: %v\n%s\ninput:\n%s", err, stderr, yaml)
	}
	return files, stderr
}

// NetplanGenerateErr is NetplanGenerate for inputs netplan may reject: the
// exit error is returned instead of failing the test.
func NetplanGenerateErr(t testing.TB, yaml []byte) (files map[string]string, stderr string, err error) {
	t.Helper()
	netplan := testenv.RequireCommand(t, "netplan")
	root := netplanRoot(t, yaml)
	stderr, err = run(netplan, "generate", "--root-dir", root)
	if err != nil {
		return nil, stderr, err
	}
	files, err = readTree(filepath.Join(root, "run"))
	if err != nil {
		t.Fatalf("reading netplan output: %v", err)
	}
	return files, stderr, nil
}

// NetplanGetAll returns `netplan get all` for yaml: netplan's own re-dump
// of what it understood (defaults filled in, keys in its order).
func NetplanGetAll(t testing.TB, yaml []byte) string {
	t.Helper()
	out, stderr, err := NetplanGetAllErr(t, yaml)
	if err != nil {
		t.Fatalf("netplan get all: %v\n%s\ninput:\n%s", err, stderr, yaml)
	}
	return out
}

// NetplanGetAllErr is NetplanGetAll returning netplan's failure.
func NetplanGetAllErr(t testing.TB, yaml []byte) (out, stderr string, err error) {
	t.Helper()
	netplan := testenv.RequireCommand(t, "netplan")
	root := netplanRoot(t, yaml)
	cmd := exec.Command(netplan, "get", "--root-dir", root, "all")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// netplanRoot makes ROOT/etc/netplan/50-test.yaml with the 0600 mode
// netplan wants (it warns about world-readable files otherwise).
func netplanRoot(t testing.TB, yaml []byte) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "etc", "netplan")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "50-test.yaml"), yaml, 0o600); err != nil {
		t.Fatal(err)
	}
	return root
}

// run executes a command and returns its stderr; stdout is appended to
// the error text when it fails.
func run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		return e.String(), fmt.Errorf("%s: %w (stdout: %s)", name, err, o.String())
	}
	return e.String(), nil
}

// readTree reads every regular file under dir; a missing dir is empty.
func readTree(dir string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && path == dir {
				return filepath.SkipDir
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[rel] = string(data)
		return nil
	})
	return files, err
}

// NetplanUnexpected returns netplan's stderr without the deprecation notice
// for gateway4/gateway6, which guestbridge writes on purpose: it is the only
// IPv6 default-route form that survives cloud-init 22.4.2's v2 parser into
// its eni, networkd, sysconfig and network-manager renderers (see
// docs/cloud-init-differences.md). Anything left is a real complaint.
func NetplanUnexpected(stderr string) string {
	var keep []string
	lines := strings.Split(stderr, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.Contains(l, "`gateway4` has been deprecated") || strings.Contains(l, "`gateway6` has been deprecated") {
			if i+1 < len(lines) && strings.Contains(lines[i+1], "'Default routes' section") {
				i++
			}
			continue
		}
		if strings.TrimSpace(l) != "" {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
