package system

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func setOld(t *testing.T, r Root, rel string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(r.Dir, rel), old, old); err != nil {
		t.Fatal(err)
	}
}

func exists(r Root, rel string) bool {
	_, err := os.Lstat(filepath.Join(r.Dir, rel))
	return err == nil
}

func TestSweepTempRemovesOnlyOurStaleFiles(t *testing.T) {
	r := testRoot(t)
	ours := []string{
		"etc/.shadow-.0123456789abcdef.guestbridge-tmp",
		"etc/.shadow.fedcba9876543210.guestbridge-tmp",
		"root/.ssh/.authorized_keys.00000000000000ff.guestbridge-tmp",
	}
	notOurs := []string{
		"etc/.shadow.0123.guestbridge-tmp",                   // not 16 hex digits
		"etc/shadow.0123456789abcdef.guestbridge-tmp",        // no leading dot
		"etc/.shadow.0123456789ABCDEF.guestbridge-tmp",       // upper case: never ours
		"etc/.shadow.0123456789abcdef.guestbridge-tmp.keep",  // more after the suffix
		"etc/.shadow.0123456789abcdef.guestbridge-tmp-notes", // likewise
		"var/.x.0123456789abcdef.guestbridge-tmp",            // a directory we do not sweep
	}
	for _, p := range append(slices.Clone(ours), notOurs...) {
		put(t, r, p, "secret hashes", 0o600)
		setOld(t, r, p)
	}
	// Fresh (another process may be writing it), a symlink and a directory
	// with our pattern stay.
	put(t, r, "etc/.hosts.1111111111111111.guestbridge-tmp", "in flight", 0o600)
	if err := os.Symlink("/etc/shadow", filepath.Join(r.Dir, "etc/.link.2222222222222222.guestbridge-tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(r.Dir, "etc/.dir.3333333333333333.guestbridge-tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	setOld(t, r, "etc/.dir.3333333333333333.guestbridge-tmp")

	removed, err := r.SweepTemp()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range ours {
		want = append(want, "/"+p)
	}
	slices.Sort(removed)
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Fatalf("removed %q, want %q", removed, want)
	}
	for _, p := range ours {
		if exists(r, p) {
			t.Errorf("%s still there", p)
		}
	}
	for _, p := range append(notOurs, "etc/.hosts.1111111111111111.guestbridge-tmp",
		"etc/.link.2222222222222222.guestbridge-tmp", "etc/.dir.3333333333333333.guestbridge-tmp") {
		if !exists(r, p) {
			t.Errorf("%s was removed; it is not a stale temp file of ours", p)
		}
	}
}

// A write sweeps the directory it writes to, so an interrupted injectfile
// anywhere is cleaned up by the next write there.
func TestWriteSweepsItsDirectory(t *testing.T) {
	r := testRoot(t)
	stale := "opt/app/.conf.0123456789abcdef.guestbridge-tmp"
	put(t, r, stale, "half", 0o600)
	setOld(t, r, stale)
	if _, err := r.InjectFile("/opt/app/other", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if exists(r, stale) {
		t.Fatal("stale temp file survived a write into its directory")
	}
}

// TestKill9DuringPasswordChange kills a process changing the password
// (on a large /etc/shadow, so the write takes a while) with SIGKILL at
// random points: /etc/shadow is always whole (old or new), and whatever
// temp file is left is swept.
func TestKill9DuringPasswordChange(t *testing.T) {
	if os.Getenv("GUESTBRIDGE_SWEEP_HELPER") != "" {
		r := Root{Dir: os.Getenv("GUESTBRIDGE_SWEEP_HELPER")}
		for i := 0; ; i++ {
			r.SetPassword("root", fmt.Sprint("pw", i))
		}
	}
	r := testRoot(t)
	var b strings.Builder
	b.WriteString("root:*:20000:0:99999:7:::\n")
	for i := range 40000 {
		fmt.Fprintf(&b, "user%d:$6$saltsalt$%s:20000:0:99999:7:::\n", i, strings.Repeat("x", 86))
	}
	put(t, r, "etc/shadow", b.String(), 0o640)
	leftover := false
	for attempt := 0; attempt < 15 && !leftover; attempt++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKill9DuringPasswordChange$")
		cmd.Env = append(os.Environ(), "GUESTBRIDGE_SWEEP_HELPER="+r.Dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(300+attempt*37) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		data := read(t, r, "etc/shadow")
		if !strings.HasPrefix(data, "root:") || !strings.HasSuffix(data, ":20000:0:99999:7:::\n") ||
			strings.Count(data, "\n") != 40001 {
			t.Fatalf("attempt %d: /etc/shadow torn (%d lines)", attempt, strings.Count(data, "\n"))
		}
		entries, _ := os.ReadDir(filepath.Join(r.Dir, "etc"))
		for _, e := range entries {
			if isOurTemp(e.Name()) {
				leftover = true
			}
		}
	}
	if !leftover {
		t.Log("no kill landed inside a write; only the torn-file check ran")
		return
	}
	defer func(old time.Time) { processStart = old }(processStart)
	processStart = time.Now().Add(time.Minute) // as if this process started after the crash
	removed, err := r.SweepTemp()
	if err != nil || len(removed) == 0 {
		t.Fatalf("SweepTemp = %q, %v; want the leftover removed", removed, err)
	}
	entries, _ := os.ReadDir(filepath.Join(r.Dir, "etc"))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".guestbridge-tmp") {
			t.Errorf("%s left after the sweep", e.Name())
		}
	}
}

// tempNamePattern is the documented shape of our temp files, kept here as
// an independent oracle for isOurTemp.
var tempNamePattern = regexp.MustCompile(`(?s)^\..{1,100}\.[0-9a-f]{16}\.guestbridge-tmp$`)

func TestIsOurTempMatchesTempName(t *testing.T) {
	for _, target := range []string{"shadow", "a", strings.Repeat("é", 100), "resolv.conf", ".hidden"} {
		name, err := tempName(target)
		if err != nil {
			t.Fatal(err)
		}
		if !isOurTemp(name) {
			t.Errorf("isOurTemp(%q) = false for a name tempName made", name)
		}
	}
	for _, name := range []string{
		"", ".guestbridge-tmp", "..0123456789abcdef.guestbridge-tmp", // empty target
		".shadow.0123456789ABCDEF.guestbridge-tmp", // upper-case hex
		".shadow.0123456789abcde.guestbridge-tmp",  // 15 hex digits
		"shadow.0123456789abcdef.guestbridge-tmp",  // not hidden
		".shadow-0123456789abcdef.guestbridge-tmp", // no dot before the hex
		"." + strings.Repeat("x", 101) + ".0123456789abcdef.guestbridge-tmp",
		".shadow.0123456789abcdef.guestbridge-tmp.bak",
	} {
		if isOurTemp(name) {
			t.Errorf("isOurTemp(%q) = true", name)
		}
	}
}

func FuzzIsOurTemp(f *testing.F) {
	f.Add(".shadow.0123456789abcdef.guestbridge-tmp")
	f.Add("..0123456789abcdef.guestbridge-tmp")
	f.Add(".\xff.0123456789abcdef.guestbridge-tmp")
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := isOurTemp(name), tempNamePattern.MatchString(name); got != want {
			t.Errorf("isOurTemp(%q) = %v, the documented pattern says %v", name, got, want)
		}
	})
}
