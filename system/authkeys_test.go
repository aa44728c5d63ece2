package system

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"guestbridge/internal/testenv"
)

// fakeKey builds a well-formed public key line of type typ with random key
// material (the validator checks structure, not the math).
func fakeKey(t testing.TB, typ, comment string) string {
	t.Helper()
	material := make([]byte, 32)
	if _, err := rand.Read(material); err != nil {
		t.Fatal(err)
	}
	blob := binary.BigEndian.AppendUint32(nil, uint32(len(typ)))
	blob = append(blob, typ...)
	blob = binary.BigEndian.AppendUint32(blob, uint32(len(material)))
	blob = append(blob, material...)
	return typ + " " + base64.StdEncoding.EncodeToString(blob) + " " + comment
}

// keysRoot is an image root with users root and alice (uid/gid as given).
func keysRoot(t *testing.T, uid, gid int) Root {
	r := testRoot(t)
	put(t, r, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"+
		"alice:x:"+strconv.Itoa(uid)+":"+strconv.Itoa(gid)+":Alice:/home/alice:/bin/bash\n"+
		"nohome:x:1001:1001::/home/nohome:/bin/sh\n", 0o644)
	for _, d := range []string{"root", "home/alice"} {
		if err := os.MkdirAll(filepath.Join(r.Dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(r.Dir, "home/alice"), uid, gid); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSetAuthorizedKeysKeepsUserKeysAndReplacesBlock(t *testing.T) {
	uid, gid := os.Getuid(), os.Getgid()
	if os.Geteuid() == 0 {
		uid, gid = 1000, 1000
	}
	r := keysRoot(t, uid, gid)
	own1 := fakeKey(t, "ssh-ed25519", "alice@laptop")
	own2 := "from=\"192.0.2.0/24\",command=\"echo a b\" " + fakeKey(t, "ssh-rsa", "backup")
	userPart := "# my keys\n" + own1 + "\n\n" + own2 // no final newline: kept as is before the block
	put(t, r, "home/alice/.ssh/authorized_keys", userPart, 0o644)

	k1 := fakeKey(t, "ecdsa-sha2-nistp256", "cloud-1")
	k2 := fakeKey(t, "ssh-ed25519", "cloud-2")
	changed, err := r.SetAuthorizedKeys("alice", []string{k1, k2 + "  "})
	if err != nil || !changed {
		t.Fatalf("SetAuthorizedKeys = %v, %v", changed, err)
	}
	want := userPart + "\n" + keysBegin + "\n" + k1 + "\n" + k2 + "\n" + keysEnd + "\n"
	if got := read(t, r, "home/alice/.ssh/authorized_keys"); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}

	// Same keys again: nothing to do.
	if changed, err := r.SetAuthorizedKeys("alice", []string{k1, k2}); err != nil || changed {
		t.Errorf("second call = %v, %v; want false, nil", changed, err)
	}

	// User adds a key after the block; new metadata replaces the block in place.
	own3 := fakeKey(t, "ssh-ed25519", "later")
	f, _ := os.OpenFile(filepath.Join(r.Dir, "home/alice/.ssh/authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(own3 + "\n")
	f.Close()
	k3 := fakeKey(t, "ssh-rsa", "cloud-3")
	if _, err := r.SetAuthorizedKeys("alice", []string{k3}); err != nil {
		t.Fatal(err)
	}
	want = userPart + "\n" + keysBegin + "\n" + k3 + "\n" + keysEnd + "\n" + own3 + "\n"
	if got := read(t, r, "home/alice/.ssh/authorized_keys"); got != want {
		t.Errorf("after replacement:\n%s\nwant:\n%s", got, want)
	}

	// No keys: block removed, user lines untouched.
	if _, err := r.SetAuthorizedKeys("alice", nil); err != nil {
		t.Fatal(err)
	}
	if got := read(t, r, "home/alice/.ssh/authorized_keys"); got != userPart+"\n"+own3+"\n" {
		t.Errorf("after removal: %q", got)
	}
	for rel, mode := range map[string]os.FileMode{"home/alice/.ssh": 0o700, "home/alice/.ssh/authorized_keys": 0o600} {
		fi := lstat(t, r, rel)
		if u, g := fileOwner(fi); fi.Mode().Perm() != mode || u != uid || g != gid {
			t.Errorf("%s: %o %d:%d, want %o %d:%d", rel, fi.Mode().Perm(), u, g, mode, uid, gid)
		}
	}
	noTempFiles(t, r, "home/alice/.ssh")
}

func TestSetAuthorizedKeysCreatesSSHDirOwnedByUser(t *testing.T) {
	testenv.RequireRoot(t)
	r := keysRoot(t, 1234, 5678)
	k := fakeKey(t, "ssh-ed25519", "c")
	if changed, err := r.SetAuthorizedKeys("alice", []string{k}); err != nil || !changed {
		t.Fatalf("SetAuthorizedKeys = %v, %v", changed, err)
	}
	for rel, mode := range map[string]os.FileMode{"home/alice/.ssh": 0o700, "home/alice/.ssh/authorized_keys": 0o600} {
		fi := lstat(t, r, rel)
		if u, g := fileOwner(fi); fi.Mode().Perm() != mode || u != 1234 || g != 5678 {
			t.Errorf("%s: %o %d:%d, want %o 1234:5678", rel, fi.Mode().Perm(), u, g, mode)
		}
	}
	if got := read(t, r, "home/alice/.ssh/authorized_keys"); got != keysBegin+"\n"+k+"\n"+keysEnd+"\n" {
		t.Errorf("file %q", got)
	}
	// A wrongly owned, open .ssh is fixed and reported as a change.
	p := filepath.Join(r.Dir, "home/alice/.ssh")
	os.Chown(p, 0, 0)
	os.Chmod(p, 0o755)
	if changed, err := r.SetAuthorizedKeys("alice", []string{k}); err != nil || !changed {
		t.Errorf("fixing .ssh: %v, %v", changed, err)
	}
	if fi := lstat(t, r, "home/alice/.ssh"); fi.Mode().Perm() != 0o700 {
		t.Errorf(".ssh mode %o", fi.Mode().Perm())
	}
}

func TestSetAuthorizedKeysInvalidKeyNamesIndex(t *testing.T) {
	r := keysRoot(t, os.Getuid(), os.Getgid())
	put(t, r, "root/.ssh/authorized_keys", "keep\n", 0o600)
	good := fakeKey(t, "ssh-ed25519", "ok")
	mismatched := strings.Replace(fakeKey(t, "ssh-ed25519", "x"), "ssh-ed25519 ", "ssh-rsa ", 1)
	for i, bad := range []string{
		"ssh-ed25519 SECRETSECRET!!! comment",
		"",
		"# ssh-ed25519 AAAA",
		good + "\ncommand=\"x\" " + good,
		mismatched,
		"nokey-type AAAAC3NzaC1lZDI1NTE5",
		"ssh-ed25519",
	} {
		_, err := r.SetAuthorizedKeys("root", []string{good, bad})
		if err == nil || !strings.Contains(err.Error(), "key 1") {
			t.Errorf("case %d: error %v, want one naming key 1", i, err)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") || (bad != "" && strings.Contains(err.Error(), bad)) {
			t.Errorf("case %d: error quotes the key: %v", i, err)
		}
	}
	if got := read(t, r, "root/.ssh/authorized_keys"); got != "keep\n" {
		t.Errorf("file changed to %q", got)
	}
}

func TestSetAuthorizedKeysRefusesSymlinks(t *testing.T) {
	r := keysRoot(t, os.Getuid(), os.Getgid())
	put(t, r, "etc/target", "precious\n", 0o644)
	k := fakeKey(t, "ssh-ed25519", "c")
	symlink(t, r, "/etc", "home/alice/.ssh")
	if _, err := r.SetAuthorizedKeys("alice", []string{k}); err == nil {
		t.Error(".ssh symlink followed")
	}
	os.Remove(filepath.Join(r.Dir, "home/alice/.ssh"))
	symlink(t, r, "/etc/target", "home/alice/.ssh/authorized_keys")
	if _, err := r.SetAuthorizedKeys("alice", []string{k}); err == nil {
		t.Error("authorized_keys symlink followed")
	}
	if got := read(t, r, "etc/target"); got != "precious\n" {
		t.Errorf("symlink target written: %q", got)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "etc/authorized_keys")); err == nil {
		t.Error("file created through the .ssh symlink")
	}
}

func TestSetAuthorizedKeysErrors(t *testing.T) {
	r := keysRoot(t, os.Getuid(), os.Getgid())
	k := fakeKey(t, "ssh-ed25519", "c")
	if _, err := r.SetAuthorizedKeys("bob", []string{k}); err == nil || !strings.Contains(err.Error(), "bob") {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := r.SetAuthorizedKeys("nohome", []string{k}); err == nil || !strings.Contains(err.Error(), "/home/nohome") {
		t.Errorf("missing home: %v", err)
	}
	put(t, r, "home/alice/.ssh/authorized_keys", keysBegin+"\n"+k+"\nmine\n", 0o600)
	if _, err := r.SetAuthorizedKeys("alice", []string{k}); err == nil || !strings.Contains(err.Error(), "END") {
		t.Errorf("BEGIN without END: %v", err)
	}
}

func TestCheckAuthorizedKeyAcceptsOpenSSHForms(t *testing.T) {
	for _, k := range []string{
		fakeKey(t, "ssh-ed25519", ""),
		fakeKey(t, "sk-ssh-ed25519@openssh.com", "yubikey"),
		fakeKey(t, "ssh-rsa-cert-v01@openssh.com", "cert"),
		"no-pty,environment=\"A=b c\" " + fakeKey(t, "ecdsa-sha2-nistp521", "x y z"),
		"command=\"echo \\\"quoted space\\\"\" " + fakeKey(t, "ssh-dss", "old"),
	} {
		if err := checkAuthorizedKey(k); err != nil {
			t.Errorf("checkAuthorizedKey(%q): %v", k, err)
		}
	}
}

// TestAuthorizedKeysWithSSHKeygen checks real keys from ssh-keygen pass the
// validator, and that ssh-keygen reads every key of the written file.
func TestAuthorizedKeysWithSSHKeygen(t *testing.T) {
	keygen := testenv.RequireCommand(t, "ssh-keygen")
	dir := t.TempDir()
	var keys []string
	for _, typ := range []string{"ed25519", "rsa", "ecdsa"} {
		p := filepath.Join(dir, typ)
		if out, err := exec.Command(keygen, "-q", "-t", typ, "-N", "", "-C", "test@"+typ, "-f", p).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen -t %s: %v %s", typ, err, out)
		}
		pub, err := os.ReadFile(p + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, strings.TrimSpace(string(pub)))
	}
	r := keysRoot(t, os.Getuid(), os.Getgid())
	put(t, r, "home/alice/.ssh/authorized_keys", "restrict "+keys[0]+"\n", 0o600)
	if _, err := r.SetAuthorizedKeys("alice", keys); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(keygen, "-l", "-f", filepath.Join(r.Dir, "home/alice/.ssh/authorized_keys")).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -l: %v", err)
	}
	if n := strings.Count(string(out), "\n"); n != 4 {
		t.Errorf("ssh-keygen sees %d keys, want 4 (1 user + 3 managed):\n%s", n, out)
	}
}

// FuzzAuthorizedKeysUpdate: any file either is refused (unterminated block)
// or keeps every line outside managed blocks, holds one block, and a second
// run changes nothing.
func FuzzAuthorizedKeysUpdate(f *testing.F) {
	f.Add([]byte("ssh-ed25519 AAAA me\n"+keysBegin+"\nold\n"+keysEnd+"\ntail"), "k1")
	f.Add([]byte(keysEnd+"\n"+keysBegin+"\n"+keysEnd), "")
	f.Add([]byte("\r\n\r\n"), "a\r")
	f.Fuzz(func(t *testing.T, content []byte, key string) {
		if strings.ContainsAny(key, "\n") || strings.TrimSpace(key) == keysBegin || strings.TrimSpace(key) == keysEnd {
			return // keys are single validated lines
		}
		keys := []string{key}
		got, err := updateAuthorizedKeys(content, keys)
		if err != nil {
			return
		}
		if c := beginMarkers(got); c != 1 {
			t.Fatalf("%d blocks in %q", c, got)
		}
		again, err := updateAuthorizedKeys(got, keys)
		if err != nil || string(again) != string(got) {
			t.Fatalf("second run: %q, %v (first %q)", again, err, got)
		}
		removed, err := updateAuthorizedKeys(got, nil)
		if err != nil || beginMarkers(removed) != 0 {
			t.Fatalf("removing the block: %q, %v", removed, err)
		}
	})
}

// beginMarkers counts the lines that open a managed block (a user's line
// that merely contains the marker text is not one).
func beginMarkers(content []byte) int {
	n := 0
	for _, l := range strings.Split(string(content), "\n") {
		if strings.TrimSpace(l) == keysBegin {
			n++
		}
	}
	return n
}

func FuzzCheckAuthorizedKey(f *testing.F) {
	f.Add(fakeKey(f, "ssh-ed25519", "c"))
	f.Add(`command="a \" b" ssh-rsa AAAAB3NzaC1yc2E=`)
	f.Add("ssh-rsa AAAAB3NzaC1yc2EAAAAB")
	f.Fuzz(func(t *testing.T, line string) {
		if checkAuthorizedKey(line) == nil && strings.ContainsAny(line, "\n\r\x00") {
			t.Fatalf("accepted a multi-line key %q", line)
		}
	})
}

func FuzzPasswdLookup(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\n"), "root")
	f.Add([]byte("a:x:-1:0::/:\nb::1:1::rel:"), "b")
	f.Fuzz(func(t *testing.T, passwd []byte, user string) {
		acct, err := findAccount(passwd, user)
		if err == nil && (acct.UID < 0 || acct.GID < 0 || !strings.HasPrefix(acct.Home, "/")) {
			t.Fatalf("accepted %+v", acct)
		}
	})
}
