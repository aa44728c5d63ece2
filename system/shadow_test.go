package system

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guestbridge/internal/testenv"
)

// day of fixedNow since the epoch.
const fixedDay = "20780"

func TestSetPasswordChangesOnlyRootLine(t *testing.T) {
	r := testRoot(t)
	orig, err := os.ReadFile("testdata/shadow")
	if err != nil {
		t.Fatal(err)
	}
	put(t, r, "etc/shadow", string(orig), 0o640)
	if err := r.SetPassword("root", "n3w pass:word"); err != nil {
		t.Fatal(err)
	}
	got := read(t, r, "etc/shadow")
	oldLines := strings.Split(string(orig), "\n")
	newLines := strings.Split(got, "\n")
	if len(oldLines) != len(newLines) {
		t.Fatalf("line count %d, want %d", len(newLines), len(oldLines))
	}
	for i := range oldLines {
		if i == 0 {
			continue
		}
		if oldLines[i] != newLines[i] {
			t.Errorf("line %d changed: %q -> %q", i+1, oldLines[i], newLines[i])
		}
	}
	f := strings.Split(newLines[0], ":")
	if len(f) != 9 || f[0] != "root" || f[2] != fixedDay || strings.Join(f[3:], ":") != "0:99999:7:::" {
		t.Errorf("root line %q: want root:<hash>:%s:0:99999:7:::", newLines[0], fixedDay)
	}
	if !strings.HasPrefix(f[1], "$6$") || !VerifyPassword(f[1], "n3w pass:word") {
		t.Errorf("hash %q does not verify", f[1])
	}
	if m := lstat(t, r, "etc/shadow").Mode().Perm(); m != 0o640 {
		t.Errorf("mode %o, want 640 kept", m)
	}
	if b := read(t, r, "etc/shadow-"); b != string(orig) {
		t.Error("etc/shadow- is not the previous version")
	}
	if m := lstat(t, r, "etc/shadow-").Mode().Perm(); m != 0o640 {
		t.Errorf("backup mode %o, want the shadow's 640", m)
	}
	noTempFiles(t, r, "etc")
}

func TestSetPasswordHashVerifiesWithGlibc(t *testing.T) {
	python := testenv.RequireFile(t, testenv.SystemPython)
	r := testRoot(t)
	put(t, r, "etc/shadow", "root:*:1:0:99999:7:::\n", 0o600)
	const pw = "glibc-Check ü"
	if err := r.SetPassword("root", pw); err != nil {
		t.Fatal(err)
	}
	hash := strings.Split(read(t, r, "etc/shadow"), ":")[1]
	cmd := exec.Command(python, "-W", "ignore", "-c",
		"import crypt,sys; h=sys.argv[1]; sys.exit(0 if crypt.crypt(sys.stdin.read(), h) == h else 1)", hash)
	cmd.Stdin = strings.NewReader(pw)
	if err := cmd.Run(); err != nil {
		t.Errorf("glibc crypt does not verify the hash SetPassword wrote: %v", err)
	}
}

func TestSetPasswordKeepsShadowGroup(t *testing.T) {
	testenv.RequireRoot(t)
	r := testRoot(t)
	put(t, r, "etc/shadow", "root:*:1:0:99999:7:::\n", 0o640)
	if err := os.Chown(filepath.Join(r.Dir, "etc/shadow"), 0, 42); err != nil { // 42 = Debian's group shadow
		t.Fatal(err)
	}
	if err := r.SetPassword("root", "pw"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"etc/shadow", "etc/shadow-"} {
		fi := lstat(t, r, name)
		if uid, gid := fileOwner(fi); uid != 0 || gid != 42 || fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: %d:%d %o, want 0:42 640", name, uid, gid, fi.Mode().Perm())
		}
	}
}

func TestSetPasswordUnknownUserLeavesFile(t *testing.T) {
	r := testRoot(t)
	orig, _ := os.ReadFile("testdata/shadow")
	put(t, r, "etc/shadow", string(orig), 0o640)
	before := lstat(t, r, "etc/shadow")
	err := r.SetPassword("nosuchuser", "topsecret")
	if err == nil || !strings.Contains(err.Error(), "nosuchuser") || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("error %v: want one naming the user and not the password", err)
	}
	if got := read(t, r, "etc/shadow"); got != string(orig) || !os.SameFile(before, lstat(t, r, "etc/shadow")) {
		t.Error("shadow changed")
	}
	if _, err := os.Lstat(filepath.Join(r.Dir, "etc/shadow-")); !errors.Is(err, os.ErrNotExist) {
		t.Error("backup written although nothing changed")
	}
}

func TestSetPasswordErrors(t *testing.T) {
	r := testRoot(t)
	if err := os.Mkdir(filepath.Join(r.Dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := r.SetPassword("root", "pw"); err == nil || !strings.Contains(err.Error(), "/etc/shadow") {
		t.Errorf("missing shadow: error %v, want it named", err)
	}
	put(t, r, "etc/shadow", "root:x\n", 0o600)
	if err := r.SetPassword("root", "pw"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("short line: error %v, want the line named", err)
	}
	for _, u := range []string{"", "a:b", "a\nb"} {
		if err := r.SetPassword(u, "pw"); err == nil {
			t.Errorf("SetPassword(%q) succeeded", u)
		}
	}
}

func TestUpdateShadowVectors(t *testing.T) {
	const h = "$6$salt$hash"
	cases := []struct{ in, user, want string }{
		{"root:*:1:0:99999:7:::\n", "root", "root:$6$salt$hash:7:0:99999:7:::\n"},
		{"root:*:1", "root", "root:$6$salt$hash:7"}, // no final newline: none added
		{"a:b:c\r\nroot:!:1::::::\r\n", "root", "a:b:c\r\nroot:$6$salt$hash:7::::::\r\n"},
		{"root2:x:1\nroot:x:1\nroot:y:1\n", "root", "root2:x:1\nroot:$6$salt$hash:7\nroot:y:1\n"}, // first match, like getspnam
		{"# comment\n\nroot:x:1:\n", "root", "# comment\n\nroot:$6$salt$hash:7:\n"},
	}
	for _, c := range cases {
		got, err := updateShadow([]byte(c.in), c.user, h, 7)
		if err != nil || string(got) != c.want {
			t.Errorf("updateShadow(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// FuzzShadowUpdate: any content either fails cleanly or changes exactly one
// line, the user's, leaving every other byte in place.
func FuzzShadowUpdate(f *testing.F) {
	orig, _ := os.ReadFile("testdata/shadow")
	f.Add(orig, "root")
	f.Add([]byte("root:*:1:0:99999:7:::"), "root")
	f.Add([]byte("x:y\r\nroot::\n\n"), "root")
	f.Add([]byte("::::\n:"), "")
	f.Fuzz(func(t *testing.T, shadow []byte, user string) {
		const hash = "$6$abcdefgh$XYZ"
		got, err := updateShadow(shadow, user, hash, 12345)
		if err != nil {
			return
		}
		oldLines := bytes.SplitAfter(shadow, []byte("\n"))
		newLines := bytes.SplitAfter(got, []byte("\n"))
		if len(oldLines) != len(newLines) {
			t.Fatalf("line count changed: %d -> %d", len(oldLines), len(newLines))
		}
		diff := 0
		for i := range oldLines {
			if bytes.Equal(oldLines[i], newLines[i]) {
				continue
			}
			diff++
			if !bytes.HasPrefix(newLines[i], []byte(user+":"+hash+":12345")) {
				t.Fatalf("changed line %q is not the user's", newLines[i])
			}
		}
		if diff > 1 {
			t.Fatalf("%d lines changed", diff)
		}
	})
}

// TestSetPasswordWaitsForPwdLock: while another process holds glibc's
// lckpwdf lock (as passwd does), SetPassword must not rewrite the file.
func TestSetPasswordWaitsForPwdLock(t *testing.T) {
	python := testenv.RequireFile(t, testenv.SystemPython)
	r := testRoot(t)
	put(t, r, "etc/shadow", "root:*:1:0:99999:7:::\n", 0o600)
	holder := exec.Command(python, "-c", `import fcntl,os,sys
fd = os.open(sys.argv[1], os.O_WRONLY|os.O_CREAT, 0o600)
fcntl.lockf(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()`, filepath.Join(r.Dir, "etc/.pwd.lock"))
	release, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { release.Close(); holder.Wait() })
	if _, err := out.Read(make([]byte, 6)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.SetPassword("root", "pw") }()
	select {
	case err := <-done:
		t.Fatalf("SetPassword finished while the lock was held: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if got := read(t, r, "etc/shadow"); got != "root:*:1:0:99999:7:::\n" {
		t.Fatal("shadow rewritten while the lock was held")
	}
	release.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !VerifyPassword(strings.Split(read(t, r, "etc/shadow"), ":")[1], "pw") {
		t.Error("password not set after the lock was released")
	}
}

func TestEnsurePasswordIsIdempotent(t *testing.T) {
	r := testRoot(t)
	put(t, r, "etc/shadow", "root:*:1:0:99999:7:::\nbob:!:1::::::\n", 0o640)
	if changed, err := r.EnsurePassword("root", "first"); err != nil || !changed {
		t.Fatalf("EnsurePassword = %v, %v; want true", changed, err)
	}
	before := read(t, r, "etc/shadow")
	fi := lstat(t, r, "etc/shadow")
	if changed, err := r.EnsurePassword("root", "first"); err != nil || changed {
		t.Errorf("same password again: %v, %v; want false", changed, err)
	}
	if read(t, r, "etc/shadow") != before || !os.SameFile(fi, lstat(t, r, "etc/shadow")) {
		t.Error("shadow rewritten for the same password")
	}
	if changed, err := r.EnsurePassword("root", "second"); err != nil || !changed {
		t.Errorf("new password: %v, %v; want true", changed, err)
	}
	if !VerifyPassword(strings.Split(read(t, r, "etc/shadow"), ":")[1], "second") {
		t.Error("new password not set")
	}
	if _, err := r.EnsurePassword("nobody", "x"); err == nil {
		t.Error("unknown user accepted")
	}
}
