// Package pkgtest checks what `make package` and `make install` produce with
// the real tools of each format: systemd-analyze, dpkg and lintian, rpm, and
// a structural reading of the .apk (Debian has no apk-tools). Its tests are
// in pkgtest_test.go; this file holds the helpers the issue-10 system tests
// share (they install the .deb these helpers build).
package pkgtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// RepoRoot is the directory holding go.mod, found from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

var versionLine = regexp.MustCompile(`(?m)^VERSION\s*\?=\s*(\S+)\s*$`)

// Version is the VERSION the Makefile packages by default.
func Version(root string) (string, error) {
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		return "", err
	}
	m := versionLine.FindSubmatch(mk)
	if m == nil {
		return "", errors.New("no VERSION ?= line in the Makefile")
	}
	return string(m[1]), nil
}

// NFPM is the nfpm binary: on PATH, else where `make deps` (go install) puts
// it. Empty when there is none.
func NFPM() string {
	if p, err := exec.LookPath("nfpm"); err == nil {
		return p
	}
	gobin := os.Getenv("GOBIN")
	if gobin == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gobin = filepath.Join(strings.TrimSpace(string(out)), "bin")
		}
	}
	if p := filepath.Join(gobin, "nfpm"); gobin != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Packages are the three files `make package` wrote.
type Packages struct {
	Dir, Deb, RPM, APK, Bin string
	Version                 string
}

var (
	buildOnce sync.Once
	built     Packages
	buildErr  error
)

// Build runs `make package` once per process into a fresh directory under
// parent (the binary too, so that nothing in the work tree is touched) and
// returns what it made.
func Build(parent string) (Packages, error) {
	buildOnce.Do(func() { built, buildErr = build(parent) })
	return built, buildErr
}

// RemoveBuilt deletes what Build made in this process (a TestMain calls it
// after m.Run: the packages outlive every test that uses them).
func RemoveBuilt() {
	if built.Dir != "" {
		os.RemoveAll(built.Dir)
	}
}

func build(parent string) (Packages, error) {
	root, err := RepoRoot()
	if err != nil {
		return Packages{}, err
	}
	nfpm := NFPM()
	if nfpm == "" {
		return Packages{}, errors.New("nfpm not found (make deps installs it)")
	}
	ver, err := Version(root)
	if err != nil {
		return Packages{}, err
	}
	dir, err := os.MkdirTemp(parent, "guestbridge-pkg-")
	if err != nil {
		return Packages{}, err
	}
	p := Packages{Dir: dir, Version: ver, Bin: filepath.Join(dir, "guestbridge")}
	cmd := exec.Command("make", "-s", "-C", root, "package",
		"VERSION="+ver, "BIN="+p.Bin, "PKG_OUT="+dir, "NFPM="+nfpm)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return p, fmt.Errorf("make package: %v\n%s", err, out.Bytes())
	}
	p.Deb = filepath.Join(dir, "guestbridge_"+ver+"_amd64.deb")
	p.RPM = filepath.Join(dir, "guestbridge-"+ver+"-1.x86_64.rpm")
	p.APK = filepath.Join(dir, "guestbridge_"+ver+"_x86_64.apk")
	for _, f := range []string{p.Deb, p.RPM, p.APK} {
		if _, err := os.Stat(f); err != nil {
			return p, fmt.Errorf("make package did not write %s:\n%s", f, out.Bytes())
		}
	}
	return p, nil
}
