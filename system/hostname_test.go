package system

import (
	"bytes"
	"encoding/json"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"guestbridge/internal/testenv"
)

// etcHostsCase is one case of testdata/etc_hosts_tests.json (nova-agent 1.x).
type etcHostsCase struct {
	Test    string  `json:"test"`
	Args    [][]any `json:"run_test_args"`
	NovaOut string  `json:"expected"`
}

// guestbridgeHostsExpect adapts nova-agent's /etc/hosts vectors to
// guestbridge's rule. nova-agent maps the name to each interface address
// (192.0.2.1 in its tests); guestbridge maps it to 127.0.1.1, so the
// upstream inputs are replayed with 192.0.2.1 replaced by 127.0.1.1. As
// upstream, an old line for that address is commented out and kept; unlike
// upstream, guestbridge's line does not carry over the old names or comment.
var guestbridgeHostsExpect = map[string]string{
	"test_empty": "127.0.1.1 example # guestbridge\n",
	"test_add":   "192.0.2.2\tother\n127.0.1.1 example # guestbridge\n",
	"test_update_one_hostname": "# 127.0.1.1\toldname # replaced by guestbridge\n" +
		"127.0.1.1 example # guestbridge\n",
	"test_update_two_hostnames": "# 127.0.1.1\toldname oldname.example.com # replaced by guestbridge\n" +
		"127.0.1.1 example # guestbridge\n",
	"test_update_two_entries": "# 127.0.1.1\toldname # replaced by guestbridge\n" +
		"127.0.1.1 example # guestbridge\n192.0.2.2\tother\n",
	"test_update_comment": "# 127.0.1.1\toldname # comment # replaced by guestbridge\n" +
		"127.0.1.1 example # guestbridge\n",
}

func TestUpdateHostsNovaAgentVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/etc_hosts_tests.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []etcHostsCase }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) != len(guestbridgeHostsExpect) {
		t.Fatalf("%d upstream cases, %d adapted expectations", len(doc.Cases), len(guestbridgeHostsExpect))
	}
	for _, c := range doc.Cases {
		var in strings.Builder
		for _, entry := range c.Args {
			var names []string
			for _, n := range entry[1:] {
				names = append(names, n.(string))
			}
			ip := strings.Replace(entry[0].(string), "192.0.2.1", hostsAddr, 1)
			in.WriteString(ip + "\t" + strings.Join(names, " ") + "\n")
		}
		want, ok := guestbridgeHostsExpect[c.Test]
		if !ok {
			t.Errorf("%s: no adapted expectation", c.Test)
			continue
		}
		got := string(updateHosts([]byte(in.String()), "example", "example"))
		if got != want {
			t.Errorf("%s: updateHosts(%q)\n got %q\nwant %q", c.Test, in.String(), got, want)
		}
		if again := string(updateHosts([]byte(got), "example", "example")); again != got {
			t.Errorf("%s: second run changed the file: %q", c.Test, again)
		}
	}
}

const debianHosts = "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n\n" +
	"# The following lines are desirable for IPv6 capable hosts\n" +
	"::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n"

func TestUpdateHostsPlacement(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"debian default", debianHosts,
			"127.0.0.1\tlocalhost\n# 127.0.1.1\tdebian # replaced by guestbridge\n" +
				"127.0.1.1 web1.example.com web1 # guestbridge\n\n" +
				"# The following lines are desirable for IPv6 capable hosts\n" +
				"::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n"},
		{"after loopback", "127.0.0.1 localhost\n::1 localhost\n",
			"127.0.0.1 localhost\n127.0.1.1 web1.example.com web1 # guestbridge\n::1 localhost\n"},
		{"previous managed line replaced in place", "1.2.3.4 x\n127.0.1.1 old.example.com old # guestbridge\n::1 l\n",
			"1.2.3.4 x\n127.0.1.1 web1.example.com web1 # guestbridge\n::1 l\n"},
		{"duplicated managed lines collapse", "127.0.1.1 a # guestbridge\nx y\n127.0.1.1 b # guestbridge\n",
			"127.0.1.1 web1.example.com web1 # guestbridge\nx y\n"},
		{"no final newline", "198.51.100.7 db",
			"198.51.100.7 db\n127.0.1.1 web1.example.com web1 # guestbridge\n"},
		{"crlf kept", "127.0.0.1 localhost\r\n127.0.1.1 old\r\n",
			"127.0.0.1 localhost\r\n# 127.0.1.1 old # replaced by guestbridge\r\n127.0.1.1 web1.example.com web1 # guestbridge\n"},
	}
	for _, c := range cases {
		got := string(updateHosts([]byte(c.in), "web1.example.com", "web1"))
		if got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
		if again := string(updateHosts([]byte(got), "web1.example.com", "web1")); again != got {
			t.Errorf("%s: not idempotent: %q", c.name, again)
		}
	}
}

func TestSetHostnameFiles(t *testing.T) {
	r := testRoot(t)
	put(t, r, "etc/hosts", debianHosts, 0o644)
	put(t, r, "etc/hostname", "debian\n", 0o644)
	if _, err := r.SetHostname("web1.example.com."); err != nil {
		t.Fatal(err)
	}
	if got := read(t, r, "etc/hostname"); got != "web1\n" {
		t.Errorf("/etc/hostname %q, want the short name", got)
	}
	hosts := read(t, r, "etc/hosts")
	if !strings.Contains(hosts, "\n127.0.1.1 web1.example.com web1 # guestbridge\n") {
		t.Errorf("/etc/hosts lacks the managed line:\n%s", hosts)
	}
	if got := read(t, r, "etc/hosts"+BackupSuffix); got != debianHosts {
		t.Error("hosts backup is not the original")
	}
	if changed, err := r.SetHostname("web1.example.com"); err != nil || changed {
		t.Errorf("same name again: changed=%v, %v; want false", changed, err)
	}
	// Renaming replaces the managed line; the commented original stays once.
	if _, err := r.SetHostname("db2"); err != nil {
		t.Fatal(err)
	}
	hosts = read(t, r, "etc/hosts")
	if strings.Contains(hosts, "web1") || strings.Count(hosts, "# guestbridge\n") != 1 ||
		strings.Count(hosts, "replaced by guestbridge") != 1 || !strings.Contains(hosts, "\n127.0.1.1 db2 # guestbridge\n") {
		t.Errorf("after rename:\n%s", hosts)
	}
	if got := read(t, r, "etc/hostname"); got != "db2\n" {
		t.Errorf("/etc/hostname %q", got)
	}
}

// Issue 12: the hostname and hosts steps are independent. WriteHostname
// touches /etc/hostname only; SetHostsEntry touches /etc/hosts only; a
// /etc/hosts that cannot be written fails SetHostsEntry alone.
func TestWriteHostnameAndSetHostsEntryAreSeparate(t *testing.T) {
	r := testRoot(t)
	put(t, r, "etc/hosts", debianHosts, 0o644)
	put(t, r, "etc/hostname", "debian\n", 0o644)
	if changed, err := r.WriteHostname("web1.example.com"); err != nil || !changed {
		t.Fatalf("WriteHostname: changed=%v, %v", changed, err)
	}
	if got := read(t, r, "etc/hostname"); got != "web1\n" {
		t.Errorf("/etc/hostname %q", got)
	}
	if got := read(t, r, "etc/hosts"); got != debianHosts {
		t.Errorf("WriteHostname changed /etc/hosts:\n%s", got)
	}
	put(t, r, "etc/hostname", "debian\n", 0o644)
	if changed, err := r.SetHostsEntry("web1.example.com"); err != nil || !changed {
		t.Fatalf("SetHostsEntry: changed=%v, %v", changed, err)
	}
	if got := read(t, r, "etc/hostname"); got != "debian\n" {
		t.Errorf("SetHostsEntry changed /etc/hostname to %q", got)
	}
	if hosts := read(t, r, "etc/hosts"); !strings.Contains(hosts, "\n127.0.1.1 web1.example.com web1 # guestbridge\n") {
		t.Errorf("/etc/hosts lacks the managed line:\n%s", hosts)
	}
	if changed, err := r.SetHostsEntry("web1.example.com."); err != nil || changed {
		t.Errorf("same entry again: changed=%v, %v; want false", changed, err)
	}

	// /etc/hosts a directory: the hosts entry fails, the hostname does not.
	r2 := testRoot(t)
	if err := os.MkdirAll(r2.Dir+"/etc/hosts", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.SetHostsEntry("web1"); err == nil || !strings.Contains(err.Error(), "/etc/hosts") {
		t.Errorf("SetHostsEntry into a directory: %v, want an error naming /etc/hosts", err)
	}
	if _, err := r2.WriteHostname("web1"); err != nil {
		t.Errorf("WriteHostname with a broken /etc/hosts: %v", err)
	}
	if _, err := r2.SetHostname("web1"); err == nil {
		t.Error("SetHostname with /etc/hosts a directory succeeded")
	}
	for _, bad := range []string{"a_b", ""} {
		if _, err := r.WriteHostname(bad); err == nil {
			t.Errorf("WriteHostname(%q) succeeded", bad)
		}
		if _, err := r.SetHostsEntry(bad); err == nil {
			t.Errorf("SetHostsEntry(%q) succeeded", bad)
		}
	}
}

// The Debian case of nova-agent's hostname file vectors: the file is the
// name and a newline.
func TestSetHostnameNovaAgentDebianVector(t *testing.T) {
	raw, err := os.ReadFile("testdata/hostname_file_tests.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Test     string `json:"test"`
			Args     []any  `json:"run_test_args"`
			Expected string `json:"expected"`
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range doc.Cases {
		if c.Test != "test_debian" {
			continue
		}
		found = true
		r := testRoot(t)
		if _, err := r.SetHostname(c.Args[1].(string)); err != nil {
			t.Fatal(err)
		}
		if got := read(t, r, "etc/hostname"); got != c.Expected {
			t.Errorf("/etc/hostname %q, want %q", got, c.Expected)
		}
		if got := read(t, r, "etc/hosts"); got != "127.0.1.1 example # guestbridge\n" {
			t.Errorf("new /etc/hosts %q", got)
		}
	}
	if !found {
		t.Fatal("test_debian not in the vectors")
	}
}

func TestSetHostnameRejectsInvalid(t *testing.T) {
	r := testRoot(t)
	put(t, r, "etc/hostname", "keep\n", 0o644)
	for _, name := range []string{
		"", ".", "a..b", "-a", "a-", "a_b", "a b", "ä", "a/b", "x\n", "192.0.2.1", "2001:db8::1",
		strings.Repeat("a", 64), strings.Repeat("a.", 127) + "ab",
	} {
		if _, err := r.SetHostname(name); err == nil {
			t.Errorf("SetHostname(%q) succeeded", name)
		}
	}
	if got := read(t, r, "etc/hostname"); got != "keep\n" {
		t.Errorf("rejected names changed /etc/hostname to %q", got)
	}
	for _, name := range []string{"a", "A-1.example", strings.Repeat("a", 63), "1host", strings.Repeat("a.", 126) + "a"} {
		if _, _, err := parseHostname(name); err != nil {
			t.Errorf("parseHostname(%q): %v", name, err)
		}
	}
}

// FuzzHostsUpdate: any /etc/hosts gets exactly one managed line, a second
// run changes nothing, and lines that are not 127.0.1.1 stay in order.
func FuzzHostsUpdate(f *testing.F) {
	f.Add([]byte(debianHosts), "web1.example.com")
	f.Add([]byte("127.0.1.1 a # guestbridge\n127.0.1.1 b"), "x")
	f.Add([]byte("#\n\r\n127.0.1.1\n"), "a.b")
	f.Add([]byte(""), "h")
	f.Fuzz(func(t *testing.T, hosts []byte, name string) {
		fqdn, short, err := parseHostname(name)
		if err != nil {
			return
		}
		got := updateHosts(hosts, fqdn, short)
		line := []byte(hostsLine(fqdn, short) + "\n")
		if n := bytes.Count(append([]byte("\n"), got...), append([]byte("\n"), line...)); n != 1 {
			t.Fatalf("%d managed lines in %q", n, got)
		}
		if again := updateHosts(got, fqdn, short); !bytes.Equal(again, got) {
			t.Fatalf("second run changed %q to %q", got, again)
		}
		var kept [][]byte
		for _, l := range bytes.SplitAfter(hosts, []byte("\n")) {
			body, _ := cutEOL(l)
			if addr, _ := hostsFields(body); addr != hostsAddr && len(l) > 0 {
				kept = append(kept, bytes.TrimSuffix(l, []byte("\n")))
			}
		}
		rest := got
		for _, k := range kept {
			i := bytes.Index(rest, k)
			if i < 0 {
				t.Fatalf("line %q lost or reordered in %q", k, got)
			}
			rest = rest[i+len(k):]
		}
	})
}

// TestSetHostnameLive calls sethostname(2) in a private UTS namespace, on a
// thread that is thrown away afterwards, so the machine's name is untouched.
func TestSetHostnameLive(t *testing.T) {
	testenv.RequireRoot(t)
	r := testRoot(t)
	r.Live = true
	type result struct {
		name string
		err  error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := syscall.Unshare(syscall.CLONE_NEWUTS); err != nil {
			done <- result{err: err}
			return
		}
		if _, err := r.SetHostname("live-test.example.org"); err != nil {
			done <- result{err: err}
			return
		}
		var u syscall.Utsname
		err := syscall.Uname(&u)
		var b []byte
		for _, c := range u.Nodename {
			if c == 0 {
				break
			}
			b = append(b, byte(c))
		}
		done <- result{string(b), err}
	}()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.name != "live-test" {
		t.Errorf("kernel hostname %q, want live-test", res.name)
	}
}

// SetHostname is what the provisioning steps "hostname" and "hosts" do
// together: WriteHostname, then SetHostsEntry. changed reports whether a
// file was rewritten.
func (r Root) SetHostname(name string) (changed bool, err error) {
	nameChanged, err := r.WriteHostname(name)
	if err != nil {
		return nameChanged, err
	}
	hostsChanged, err := r.SetHostsEntry(name)
	return nameChanged || hostsChanged, err
}
