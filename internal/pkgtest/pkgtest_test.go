package pkgtest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"guestbridge/internal/testenv"
)

var tmpParent string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "guestbridge-pkgtest-")
	if err != nil {
		panic(err)
	}
	tmpParent = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// packages builds the three packages once (make package), or skips/fails
// when nfpm or make is missing.
func packages(t *testing.T) Packages {
	t.Helper()
	testenv.RequireCommand(t, "make")
	testenv.RequireCommand(t, "go")
	if NFPM() == "" {
		testenv.Missing(t, "nfpm (make deps installs it)")
	}
	p, err := Build(tmpParent)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func root(t *testing.T) string {
	t.Helper()
	r, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// unitKeys reads a systemd unit: section.key -> values (repeated keys and
// space-separated lists appended).
func unitKeys(t *testing.T, path string) map[string][]string {
	t.Helper()
	keys := map[string][]string{}
	section := ""
	for _, line := range strings.Split(readFile(t, path), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: not key=value: %q", path, line)
			}
			keys[section+"."+k] = append(keys[section+"."+k], strings.Fields(v)...)
		}
	}
	return keys
}

// TestUnitsFollowContract checks the unit files against COORD contract 3
// (and issue 10: no ordering on cloud-init's units for the agent).
func TestUnitsFollowContract(t *testing.T) {
	r := root(t)
	boot := unitKeys(t, filepath.Join(r, "dist/guestbridge-boot.service"))
	agent := unitKeys(t, filepath.Join(r, "dist/guestbridge-agent.service"))
	want := func(u map[string][]string, name, key string, vals ...string) {
		t.Helper()
		for _, v := range vals {
			if !slices.Contains(u[key], v) {
				t.Errorf("%s: %s lacks %q (has %q)", name, key, v, u[key])
			}
		}
	}
	want(boot, "boot", "Unit.DefaultDependencies", "no")
	want(boot, "boot", "Unit.Before", "cloud-init-local.service", "network-pre.target")
	want(boot, "boot", "Unit.Wants", "network-pre.target")
	want(boot, "boot", "Unit.After", "systemd-udevd.service", "local-fs.target")
	want(boot, "boot", "Service.Type", "oneshot")
	want(boot, "boot", "Service.ExecStart", "/usr/sbin/guestbridge", "boot")
	want(agent, "agent", "Service.Type", "notify")
	want(agent, "agent", "Service.TimeoutStartSec", "30")
	want(agent, "agent", "Service.Restart", "on-failure")
	want(agent, "agent", "Service.ExecStart", "/usr/sbin/guestbridge", "agent")
	if v := boot["Service.TimeoutStartSec"]; len(v) != 1 || v[0] == "infinity" || v[0] == "0" {
		t.Errorf("boot: TimeoutStartSec %q, want one bounded value", v)
	}
	for _, key := range []string{"Unit.Before", "Unit.After", "Unit.Wants", "Unit.Requires"} {
		for _, v := range agent[key] {
			if strings.HasPrefix(v, "cloud-") {
				t.Errorf("agent: %s=%s: ordering on cloud-init's units (issue 10 cycle)", key, v)
			}
		}
	}
}

// TestSystemdVerify runs systemd-analyze verify on the units next to the
// host's cloud-init units: no error, no ordering cycle, and the man page
// named in Documentation= resolves. The agent unit as it was before issue
// 10 (Before=cloud-init.service) must be reported as a cycle: that proves
// the check sees cycles at all.
func TestSystemdVerify(t *testing.T) {
	testenv.RequireCommand(t, "systemd-analyze")
	for _, u := range []string{"cloud-init.service", "cloud-init-local.service"} {
		testenv.RequireFile(t, "/lib/systemd/system/"+u)
	}
	p := packages(t)
	r := root(t)
	dir := t.TempDir()
	man := filepath.Join(dir, "man", "man8")
	if err := os.MkdirAll(man, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(man, "guestbridge.8"), []byte(readFile(t, filepath.Join(r, "dist/man/guestbridge.8"))), 0o644); err != nil {
		t.Fatal(err)
	}
	units := filepath.Join(dir, "units")
	if err := os.MkdirAll(units, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"guestbridge-boot.service", "guestbridge-agent.service"} {
		// ExecStart must name an existing executable: the one just built.
		text := strings.ReplaceAll(readFile(t, filepath.Join(r, "dist", u)), "/usr/sbin/guestbridge", p.Bin)
		if err := os.WriteFile(filepath.Join(units, u), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(args ...string) (string, error) {
		cmd := exec.Command("systemd-analyze", append([]string{"verify"}, args...)...)
		// A trailing ':' appends the default unit path (the host's cloud-init).
		cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+units+":", "MANPATH="+filepath.Join(dir, "man")+":")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	args := []string{filepath.Join(units, "guestbridge-boot.service"), filepath.Join(units, "guestbridge-agent.service"),
		"cloud-init-local.service", "cloud-init.service", "multi-user.target"}
	out, err := verify(args...)
	if err != nil || strings.Contains(out, "cycle") || strings.Contains(out, "guestbridge") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	dropin := filepath.Join(units, "guestbridge-agent.service.d")
	if err := os.MkdirAll(dropin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dropin, "old.conf"), []byte("[Unit]\nBefore=cloud-init.service\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = verify(args...)
	if err == nil || !strings.Contains(out, "ordering cycle") {
		t.Errorf("the pre-issue-10 agent unit was not reported as a cycle (err %v):\n%s", err, out)
	}
}

// TestInitScripts checks shell syntax (dash, Debian's /bin/sh) and the LSB
// and OpenRC ordering every script declares.
func TestInitScripts(t *testing.T) {
	dash := testenv.RequireCommand(t, "dash")
	r := root(t)
	scripts, _ := filepath.Glob(filepath.Join(r, "dist/sysvinit/*"))
	more, _ := filepath.Glob(filepath.Join(r, "dist/openrc/*"))
	mscripts, _ := filepath.Glob(filepath.Join(r, "dist/pkg/*/*"))
	all := slices.Concat(scripts, more, mscripts)
	if len(scripts) != 2 || len(more) != 2 || len(mscripts) < 9 {
		t.Fatalf("scripts: %d sysvinit, %d openrc, %d maintainer", len(scripts), len(more), len(mscripts))
	}
	for _, s := range all {
		if out, err := exec.Command(dash, "-n", s).CombinedOutput(); err != nil {
			t.Errorf("%s: %v %s", s, err, out)
		}
		if st, err := os.Stat(s); err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("%s: not executable", s)
		}
	}
	lsb := func(name string) map[string][]string {
		text := readFile(t, filepath.Join(r, "dist/sysvinit", name))
		begin, end := strings.Index(text, "### BEGIN INIT INFO"), strings.Index(text, "### END INIT INFO")
		if begin < 0 || end < begin {
			t.Fatalf("%s: no LSB header", name)
		}
		h := map[string][]string{}
		for _, line := range strings.Split(text[begin:end], "\n")[1:] {
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "# "), ":")
			if ok && !strings.HasPrefix(k, " ") {
				h[strings.TrimSpace(k)] = strings.Fields(v)
			}
		}
		return h
	}
	boot, agent := lsb("guestbridge-boot"), lsb("guestbridge-agent")
	if !slices.Equal(boot["Default-Start"], []string{"S"}) {
		t.Errorf("boot Default-Start %q, want S", boot["Default-Start"])
	}
	for _, s := range []string{"networking", "cloud-init-local"} {
		if !slices.Contains(boot["X-Start-Before"], s) {
			t.Errorf("boot X-Start-Before lacks %s", s)
		}
	}
	if !slices.Equal(agent["Default-Start"], []string{"2", "3", "4", "5"}) {
		t.Errorf("agent Default-Start %q", agent["Default-Start"])
	}
	orc := readFile(t, filepath.Join(r, "dist/openrc/guestbridge-boot"))
	for _, s := range []string{"#!/sbin/openrc-run\n", "need localmount", "before net ", "cloud-init-local"} {
		if !strings.Contains(orc, s) {
			t.Errorf("openrc boot script lacks %q", s)
		}
	}
	if orc := readFile(t, filepath.Join(r, "dist/openrc/guestbridge-agent")); !strings.Contains(orc, "after guestbridge-boot") {
		t.Error("openrc agent script is not after guestbridge-boot")
	}
}

// TestChangelogVersion: the packaged changelog is a Debian changelog whose
// newest entry is the version the Makefile packages.
func TestChangelogVersion(t *testing.T) {
	testenv.RequireCommand(t, "dpkg-parsechangelog")
	r := root(t)
	ver, err := Version(r)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(run(t, "dpkg-parsechangelog", "-l", filepath.Join(r, "dist/changelog"), "-S", "Version"))
	if got != ver {
		t.Errorf("dist/changelog is at %s, Makefile VERSION %s", got, ver)
	}
}

var flagRE = regexp.MustCompile(`--([a-z][a-z0-9-]*)`)

// TestManPage: groff finds nothing to warn about, and the synopsis of every
// command lists exactly the flags the built binary accepts.
func TestManPage(t *testing.T) {
	groff := testenv.RequireCommand(t, "groff")
	p := packages(t)
	page := filepath.Join(root(t), "dist/man/guestbridge.8")
	if out, err := exec.Command(groff, "-man", "-ww", "-z", "-Tutf8", page).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff: %v\n%s", err, out)
	}
	usage, _ := exec.Command(p.Bin, "--help").CombinedOutput()
	var cmds []string
	inCmds := false
	for _, line := range strings.Split(string(usage), "\n") {
		switch {
		case strings.HasPrefix(line, "commands:"):
			inCmds = true
		case inCmds && strings.HasPrefix(line, "  "):
			cmds = append(cmds, strings.Fields(line)[0])
		default:
			inCmds = false
		}
	}
	if len(cmds) < 8 {
		t.Fatalf("commands from --help: %q\n%s", cmds, usage)
	}
	// The roff synopsis: ".B guestbridge CMD" up to the next ".br".
	src := readFile(t, page)
	syn := map[string]string{}
	for _, block := range strings.Split(src[strings.Index(src, ".SH SYNOPSIS"):strings.Index(src, ".SH DESCRIPTION")], "\n.br\n") {
		block = strings.TrimPrefix(block, ".SH SYNOPSIS\n")
		fields := strings.Fields(strings.SplitN(block, "\n", 2)[0])
		if len(fields) == 3 && fields[0] == ".B" && fields[1] == "guestbridge" {
			syn[fields[2]] = strings.ReplaceAll(block, `\-`, "-")
		}
	}
	for _, c := range cmds {
		help, _ := exec.Command(p.Bin, c, "--help").CombinedOutput()
		var real []string
		for _, m := range flagRE.FindAllStringSubmatch(string(help), -1) {
			if m[1] != "help" && !slices.Contains(real, m[1]) {
				real = append(real, m[1])
			}
		}
		s, ok := syn[c]
		if !ok {
			t.Errorf("man page: no synopsis for %q", c)
			continue
		}
		var documented []string
		for _, m := range flagRE.FindAllStringSubmatch(s, -1) {
			documented = append(documented, m[1])
		}
		sort.Strings(real)
		sort.Strings(documented)
		if !slices.Equal(real, documented) {
			t.Errorf("%s: binary flags %q, man page synopsis %q", c, real, documented)
		}
		if !strings.Contains(src, ".B "+c+"\n") {
			t.Errorf("man page: no COMMANDS entry for %q", c)
		}
	}
}

// debFiles lists the data paths of a .deb with their modes.
func debFiles(t *testing.T, deb string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, line := range strings.Split(run(t, "dpkg-deb", "-c", deb), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 {
			files[strings.TrimPrefix(f[5], ".")] = f[0]
		}
	}
	return files
}

func TestDeb(t *testing.T) {
	testenv.RequireCommand(t, "dpkg-deb")
	p := packages(t)
	r := root(t)
	fields := func(names ...string) string {
		return strings.TrimSpace(run(t, "dpkg-deb", append([]string{"-f", p.Deb}, names...)...))
	}
	if got := fields("Package"); got != "guestbridge" {
		t.Errorf("Package %q", got)
	}
	if got := fields("Version"); got != p.Version {
		t.Errorf("Version %q, want %s", got, p.Version)
	}
	if got := fields("Architecture"); got != "amd64" {
		t.Errorf("Architecture %q", got)
	}
	desc := strings.Split(readFile(t, filepath.Join(r, "dist/description")), "\n")
	if got := fields("Description"); !strings.HasPrefix(got, desc[0]+"\n "+desc[1]) {
		t.Errorf("Description %q", got)
	}
	files := debFiles(t, p.Deb)
	want := map[string]string{
		"/usr/sbin/guestbridge":                         "-rwxr-xr-x",
		"/lib/systemd/system/guestbridge-boot.service":  "-rw-r--r--",
		"/lib/systemd/system/guestbridge-agent.service": "-rw-r--r--",
		"/etc/init.d/guestbridge-boot":                  "-rwxr-xr-x",
		"/etc/init.d/guestbridge-agent":                 "-rwxr-xr-x",
		"/usr/share/man/man8/guestbridge.8.gz":          "-rw-r--r--",
		"/usr/share/doc/guestbridge/copyright":          "-rw-r--r--",
		"/usr/share/doc/guestbridge/changelog.gz":       "-rw-r--r--",
		"/usr/share/guestbridge/90-guestbridge.cfg":     "-rw-r--r--",
		"/etc/guestbridge/guestbridge.conf":             "-rw-r--r--",
		"/usr/share/lintian/overrides/guestbridge":      "-rw-r--r--",
	}
	for path, mode := range want {
		if files[path] != mode {
			t.Errorf("%s: mode %q, want %q", path, files[path], mode)
		}
	}
	for path := range files {
		if strings.HasPrefix(path, "/etc/cloud") {
			t.Errorf("%s shipped: it would create /etc/cloud without cloud-init", path)
		}
	}

	ctl := t.TempDir()
	run(t, "dpkg-deb", "-e", p.Deb, ctl)
	conffiles := strings.Fields(readFile(t, filepath.Join(ctl, "conffiles")))
	sort.Strings(conffiles)
	if !slices.Equal(conffiles, []string{"/etc/guestbridge/guestbridge.conf", "/etc/init.d/guestbridge-agent", "/etc/init.d/guestbridge-boot"}) {
		t.Errorf("conffiles %q", conffiles)
	}
	if trig := readFile(t, filepath.Join(ctl, "triggers")); !strings.Contains(trig, "interest-noawait /etc/cloud/cloud.cfg.d") {
		t.Errorf("triggers %q", trig)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if readFile(t, filepath.Join(ctl, s)) != readFile(t, filepath.Join(r, "dist/pkg/deb", s)) {
			t.Errorf("%s differs from dist/pkg/deb/%s", s, s)
		}
	}

	// The binary is static on purpose (the lintian override says why): no
	// ELF interpreter.
	data := t.TempDir()
	run(t, "dpkg-deb", "-x", p.Deb, data)
	f, err := elf.Open(filepath.Join(data, "usr/sbin/guestbridge"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Error("usr/sbin/guestbridge has an ELF interpreter: not static")
		}
	}
	if out := run(t, "zcat", filepath.Join(data, "usr/share/man/man8/guestbridge.8.gz")); out != readFile(t, filepath.Join(r, "dist/man/guestbridge.8")) {
		t.Error("packaged man page differs from dist/man/guestbridge.8")
	}
}

// TestLintian: no error and no warning; the only override is the static
// binary, and it must still be needed (lintian reports unused overrides).
func TestLintian(t *testing.T) {
	testenv.RequireCommand(t, "lintian")
	p := packages(t)
	out, _ := exec.Command("lintian", "--display-level", ">=warning", "--show-overrides", p.Deb).CombinedOutput()
	var bad []string
	overridden := false
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "E:"), strings.HasPrefix(line, "W:"):
			bad = append(bad, line)
		case strings.HasPrefix(line, "O: guestbridge: statically-linked-binary"):
			overridden = true
		}
	}
	if len(bad) > 0 {
		t.Errorf("lintian:\n%s", strings.Join(bad, "\n"))
	}
	if !overridden {
		t.Errorf("lintian did not apply the statically-linked-binary override:\n%s", out)
	}
	t.Logf("lintian:\n%s", out)
}

// bareRoot makes a directory dpkg or rpm can install into with --root:
// busybox (static) as /bin/sh runs the maintainer scripts chrooted there,
// so they are exercised without deb-systemd-helper, update-rc.d or systemctl.
func bareRoot(t *testing.T, cloud bool) string {
	t.Helper()
	busybox := testenv.RequireFile(t, "/bin/busybox")
	dir := t.TempDir()
	for _, d := range []string{"bin", "dev", "tmp", "var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if cloud {
		if err := os.MkdirAll(filepath.Join(dir, "etc/cloud"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run(t, "cp", busybox, filepath.Join(dir, "bin/sh"))
	for _, f := range []string{"var/lib/dpkg/status", "dev/null"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func exists(path string) bool { _, err := os.Lstat(path); return err == nil }

// fakeDeb builds a package that ships one file, to fire dpkg file triggers.
func fakeDeb(t *testing.T, name, path, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctl := "Package: " + name + "\nVersion: 1\nArchitecture: all\nMaintainer: test <test@example.com>\nDescription: test package\n"
	if err := os.WriteFile(filepath.Join(dir, "DEBIAN/control"), []byte(ctl), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(t.TempDir(), name+".deb")
	run(t, "dpkg-deb", "--root-owner-group", "-b", dir, deb)
	return deb
}

// TestDebInstallRemove installs the .deb with dpkg --root and runs its real
// maintainer scripts: the pin only with /etc/cloud, also when cloud-init
// arrives later (trigger), gone on remove; conffiles stay until purge.
func TestDebInstallRemove(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireCommand(t, "dpkg")
	p := packages(t)
	pinSrc := readFile(t, filepath.Join(root(t), "dist/cloud-init/90-guestbridge.cfg"))
	const pin = "etc/cloud/cloud.cfg.d/90-guestbridge.cfg"
	dpkg := func(dir string, args ...string) {
		t.Helper()
		run(t, "dpkg", append([]string{"--root=" + dir, "--force-not-root", "--log=/dev/null"}, args...)...)
	}

	t.Run("with-cloud-init", func(t *testing.T) {
		dir := bareRoot(t, true)
		dpkg(dir, "-i", p.Deb)
		if got := readFile(t, filepath.Join(dir, pin)); got != pinSrc {
			t.Errorf("pin:\n%s\nwant\n%s", got, pinSrc)
		}
		dpkg(dir, "--remove", "guestbridge")
		if exists(filepath.Join(dir, pin)) {
			t.Error("pin left after remove")
		}
		if exists(filepath.Join(dir, "usr/sbin/guestbridge")) {
			t.Error("binary left after remove")
		}
		if !exists(filepath.Join(dir, "etc/init.d/guestbridge-boot")) {
			t.Error("conffile /etc/init.d/guestbridge-boot gone on remove (only purge removes conffiles)")
		}
		dpkg(dir, "--purge", "guestbridge")
		if exists(filepath.Join(dir, "etc/init.d/guestbridge-boot")) {
			t.Error("conffile left after purge")
		}
	})

	t.Run("cloud-init-later", func(t *testing.T) {
		dir := bareRoot(t, false)
		dpkg(dir, "-i", p.Deb)
		if exists(filepath.Join(dir, "etc/cloud")) {
			t.Fatal("installing without cloud-init created /etc/cloud")
		}
		if !exists(filepath.Join(dir, "usr/sbin/guestbridge")) {
			t.Fatal("binary not installed")
		}
		dpkg(dir, "-i", fakeDeb(t, "fake-cloud-init", "etc/cloud/cloud.cfg.d/05_fake.cfg", "# fake\n"))
		if got, err := os.ReadFile(filepath.Join(dir, pin)); err != nil || string(got) != pinSrc {
			t.Errorf("pin after cloud-init was installed (trigger): %v %q", err, got)
		}
		dpkg(dir, "--purge", "guestbridge")
		if exists(filepath.Join(dir, pin)) {
			t.Error("pin left after purge")
		}
	})
}

func TestRPM(t *testing.T) {
	testenv.RequireCommand(t, "rpm")
	p := packages(t)
	q := func(args ...string) string {
		return run(t, "rpm", append([]string{"-qp"}, append(args, p.RPM)...)...)
	}
	if got := q("--queryformat", "%{NAME} %{VERSION} %{ARCH}"); got != "guestbridge "+p.Version+" x86_64" {
		t.Errorf("rpm name/version/arch %q", got)
	}
	list := strings.Fields(q("-l"))
	for _, f := range []string{"/usr/sbin/guestbridge", "/usr/lib/systemd/system/guestbridge-boot.service",
		"/usr/lib/systemd/system/guestbridge-agent.service", "/usr/share/man/man8/guestbridge.8.gz",
		"/usr/share/doc/guestbridge/copyright", "/usr/share/guestbridge/90-guestbridge.cfg"} {
		if !slices.Contains(list, f) {
			t.Errorf("rpm lacks %s: %q", f, list)
		}
	}
	scripts := q("--scripts")
	for _, s := range []string{"systemctl --no-reload enable guestbridge-boot.service guestbridge-agent.service",
		"rm -f /etc/cloud/cloud.cfg.d/90-guestbridge.cfg", "disable --now"} {
		if !strings.Contains(scripts, s) {
			t.Errorf("rpm scripts lack %q:\n%s", s, scripts)
		}
	}
	if out := run(t, "rpm", "-K", p.RPM); !strings.Contains(out, "digests OK") {
		t.Errorf("rpm -K: %s", out)
	}

	testenv.RequireRoot(t)
	dir := bareRoot(t, true)
	// --nodeps: the empty database provides nothing, not even /bin/sh.
	run(t, "rpm", "--root", dir, "-ivh", "--nodeps", p.RPM)
	const pin = "etc/cloud/cloud.cfg.d/90-guestbridge.cfg"
	if !exists(filepath.Join(dir, pin)) {
		t.Error("rpm post-install scriptlet did not install the pin although /etc/cloud exists")
	}
	if out, err := exec.Command("rpm", "--root", dir, "-V", "guestbridge").CombinedOutput(); err != nil {
		t.Errorf("rpm -V: %v\n%s", err, out)
	}
	run(t, "rpm", "--root", dir, "-e", "guestbridge")
	if exists(filepath.Join(dir, pin)) || exists(filepath.Join(dir, "usr/sbin/guestbridge")) {
		t.Error("rpm -e left the pin or the binary")
	}
}

// gzipMembers splits concatenated gzip streams, returning each stream's raw
// (compressed) bytes and its decompressed content.
func gzipMembers(data []byte) (raw, plain [][]byte, err error) {
	br := bytes.NewReader(data)
	for br.Len() > 0 {
		start := len(data) - br.Len()
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		zr.Multistream(false)
		content, err := io.ReadAll(zr)
		if err != nil {
			return nil, nil, err
		}
		raw = append(raw, data[start:len(data)-br.Len()])
		plain = append(plain, content)
	}
	return raw, plain, nil
}

type tarEntry struct {
	mode int64
	data string
}

// tarEntries reads a tar stream, also one without the end-of-archive
// blocks (apk's control segment).
func tarEntries(b []byte) (map[string]tarEntry, error) {
	out := map[string]tarEntry{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return out, err
		}
		out[h.Name] = tarEntry{mode: h.Mode, data: string(data)}
	}
}

// TestAPK reads the .apk the way apk-tools (absent on Debian) lays it out:
// concatenated gzip streams, the control one with .PKGINFO and the scripts,
// the data one whose sha256 .PKGINFO's datahash names.
func TestAPK(t *testing.T) {
	p := packages(t)
	data, err := os.ReadFile(p.APK)
	if err != nil {
		t.Fatal(err)
	}
	raw, plain, err := gzipMembers(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 2 && len(raw) != 3 {
		t.Fatalf("%d gzip streams, want 2 (control, data) or 3 (signature first)", len(raw))
	}
	ctl, err := tarEntries(plain[len(plain)-2])
	if err != nil {
		t.Fatal(err)
	}
	info, ok := ctl[".PKGINFO"]
	if !ok {
		t.Fatalf("control stream has no .PKGINFO: %v", ctl)
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(info.data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			t.Errorf(".PKGINFO: line %q is not \"key = value\" (a multi-line value?)", line)
			continue
		}
		if _, dup := kv[k]; dup && k == "pkgdesc" {
			t.Errorf(".PKGINFO: pkgdesc twice")
		}
		kv[k] = v
	}
	desc := strings.SplitN(readFile(t, filepath.Join(root(t), "dist/description")), "\n", 2)[0]
	for k, want := range map[string]string{"pkgname": "guestbridge", "arch": "x86_64", "pkgdesc": desc} {
		if kv[k] != want {
			t.Errorf(".PKGINFO %s = %q, want %q", k, kv[k], want)
		}
	}
	if !strings.HasPrefix(kv["pkgver"], p.Version) {
		t.Errorf(".PKGINFO pkgver %q, want %s…", kv["pkgver"], p.Version)
	}
	sum := sha256.Sum256(raw[len(raw)-1])
	if kv["datahash"] != hex.EncodeToString(sum[:]) {
		t.Errorf(".PKGINFO datahash %q, sha256 of the data stream %x", kv["datahash"], sum)
	}
	for _, s := range []string{".post-install", ".post-upgrade", ".pre-deinstall"} {
		if e, ok := ctl[s]; !ok || e.mode&0o111 == 0 {
			t.Errorf("control stream: %s missing or not executable", s)
		}
	}
	if !strings.Contains(ctl[".post-install"].data, "rc-update add guestbridge-boot boot") {
		t.Error(".post-install does not add guestbridge-boot to the boot runlevel")
	}
	files, err := tarEntries(plain[len(plain)-1])
	if err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]int64{"usr/sbin/guestbridge": 0o755, "etc/init.d/guestbridge-boot": 0o755,
		"etc/init.d/guestbridge-agent": 0o755, "usr/share/man/man8/guestbridge.8.gz": 0o644} {
		e, ok := files[name]
		if !ok {
			t.Errorf("apk data lacks %s", name)
			continue
		}
		if e.mode&0o777 != mode {
			t.Errorf("apk %s mode %o, want %o", name, e.mode&0o777, mode)
		}
	}
	if !strings.HasPrefix(files["etc/init.d/guestbridge-boot"].data, "#!/sbin/openrc-run\n") {
		t.Error("apk boot script is not an OpenRC script")
	}
	for name := range files {
		if strings.Contains(name, "systemd") {
			t.Errorf("apk ships %s (Alpine has no systemd)", name)
		}
	}
}

// TestMakeInstall: DESTDIR is honoured and the pin goes in only when
// DESTDIR/etc/cloud exists.
func TestMakeInstall(t *testing.T) {
	testenv.RequireCommand(t, "make")
	p := packages(t)
	r := root(t)
	for _, cloud := range []bool{false, true} {
		dest := t.TempDir()
		if cloud {
			if err := os.MkdirAll(filepath.Join(dest, "etc/cloud"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		run(t, "make", "-s", "-C", r, "install", "DESTDIR="+dest, "BIN="+p.Bin, "VERSION="+p.Version)
		for _, f := range []string{"usr/sbin/guestbridge", "lib/systemd/system/guestbridge-boot.service",
			"lib/systemd/system/guestbridge-agent.service", "usr/share/man/man8/guestbridge.8",
			"etc/guestbridge/guestbridge.conf"} {
			if !exists(filepath.Join(dest, f)) {
				t.Errorf("cloud=%v: %s not installed", cloud, f)
			}
		}
		pin := filepath.Join(dest, "etc/cloud/cloud.cfg.d/90-guestbridge.cfg")
		if exists(pin) != cloud {
			t.Errorf("cloud=%v: pin installed=%v", cloud, exists(pin))
		}
		if !cloud && exists(filepath.Join(dest, "etc/cloud")) {
			t.Error("make install created /etc/cloud")
		}
	}
}

// TestMakeInstallKeepsEditedSettings: make install puts the commented
// settings file at /etc/guestbridge/guestbridge.conf (0644, the same bytes
// as dist/guestbridge.conf) when there is none, and never overwrites one
// that is there: a second install keeps the sysadmin's edit (and a symlink
// the sysadmin made), and says so.
func TestMakeInstallKeepsEditedSettings(t *testing.T) {
	testenv.RequireCommand(t, "make")
	testenv.RequireCommand(t, "go")
	testenv.RequireCommand(t, "install")
	r := root(t)
	dest := t.TempDir()
	bin := filepath.Join(t.TempDir(), "guestbridge")
	install := func() string {
		return run(t, "make", "-s", "-C", r, "install", "DESTDIR="+dest, "BIN="+bin, "CLOUD_INIT_PIN=no")
	}
	conf := filepath.Join(dest, "etc/guestbridge/guestbridge.conf")
	out := install()
	if !strings.Contains(out, "install settings "+conf) {
		t.Errorf("first install does not say it installed %s:\n%s", conf, out)
	}
	if got, want := readFile(t, conf), readFile(t, filepath.Join(r, "dist/guestbridge.conf")); got != want {
		t.Errorf("%s is not dist/guestbridge.conf", conf)
	}
	for f, want := range map[string]os.FileMode{
		"etc/guestbridge/guestbridge.conf":            0o644,
		"usr/sbin/guestbridge":                        0o755,
		"lib/systemd/system/guestbridge-boot.service": 0o644,
		"usr/share/man/man8/guestbridge.8":            0o644,
	} {
		fi, err := os.Stat(filepath.Join(dest, f))
		if err != nil || fi.Mode().Perm() != want || !fi.Mode().IsRegular() {
			t.Errorf("%s: %v, mode %v; want a file of mode %v", f, err, fi, want)
		}
	}
	if fi, err := os.Stat(filepath.Dir(conf)); err != nil || !fi.IsDir() || fi.Mode().Perm()&0o022 != 0 {
		t.Errorf("%s: %v %v; want a directory only root can write", filepath.Dir(conf), err, fi)
	}

	// The sysadmin edits it (and tightens its mode); the next install keeps both.
	edited := readFile(t, conf) + "[steps]\nhosts = false\n"
	if err := os.WriteFile(conf, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(conf, 0o600)
	out = install()
	if !strings.Contains(out, "keep "+conf) || strings.Contains(out, "install settings") {
		t.Errorf("second install does not say it kept %s:\n%s", conf, out)
	}
	if got := readFile(t, conf); got != edited {
		t.Errorf("make install overwrote the edited %s:\n%s", conf, got)
	}
	if fi, err := os.Stat(conf); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("make install changed the edited file's mode: %v %v", err, fi)
	}

	// A symlink (even a dangling one) is the sysadmin's too.
	os.Remove(conf)
	if err := os.Symlink("/srv/site/guestbridge.conf", conf); err != nil {
		t.Fatal(err)
	}
	install()
	if target, err := os.Readlink(conf); err != nil || target != "/srv/site/guestbridge.conf" {
		t.Errorf("make install replaced the symlink: %q, %v", target, err)
	}
}
