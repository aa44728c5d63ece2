package provision

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"guestbridge/datasource"
	"guestbridge/netconf/apply"
	"guestbridge/system"
)

// offlineRoot is a minimal image: root with a home, shadow, hostname, hosts.
func offlineRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range map[string]string{
		"etc/passwd":   "root:x:0:0:root:/root:/bin/sh\n",
		"etc/shadow":   "root:*:19000:0:99999:7:::\n",
		"etc/hostname": "localhost\n",
		"etc/hosts":    "127.0.0.1 localhost\n",
	} {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(root, "etc/shadow"), 0o640)
	os.MkdirAll(filepath.Join(root, "root"), 0o700)
	return root
}

// sshKey builds an authorized_keys line whose blob really is an ed25519
// public key blob (type string, 32-byte key), as ssh-keygen writes it.
func sshKey(seed byte, comment string) string {
	var blob []byte
	blob = binary.BigEndian.AppendUint32(blob, 11)
	blob = append(blob, "ssh-ed25519"...)
	blob = binary.BigEndian.AppendUint32(blob, 32)
	for i := range 32 {
		blob = append(blob, seed+byte(i))
	}
	return "ssh-ed25519 " + base64.StdEncoding.EncodeToString(blob) + " " + comment
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func offlineMachine(t *testing.T, root string) *Machine {
	return New(Options{Root: system.Root{Dir: root}, StateDir: t.TempDir(), Log: quietLog()})
}

func readFile(t *testing.T, root, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Issue 8: hostname db_01.example.com made apply exit before root's key and
// password were set (a lock-out). Now: a warning naming the hostname, keys
// and password set, exit status OK.
func TestBadHostnameStillSetsKeysAndPassword(t *testing.T) {
	root := offlineRoot(t)
	key := sshKey(1, "alice@example")
	inst := &datasource.Instance{InstanceID: "i-1", Hostname: "db_01.example.com",
		PublicKeys: []string{key}, AdminPass: "s3cret-pw"}
	res := offlineMachine(t, root).Provision(context.Background(), Request{Inst: inst})
	if st := res.Status(); st != OK {
		t.Fatalf("status %d, err %v", st, res.Err())
	}
	var warned bool
	for _, s := range res.Steps {
		for _, w := range s.Warnings {
			warned = warned || (s.Part == "hostname" && strings.Contains(w, "db_01.example.com"))
		}
	}
	if !warned {
		t.Errorf("no warning naming the hostname: %+v", res.Steps)
	}
	if got := readFile(t, root, "etc/hostname"); got != "localhost\n" {
		t.Errorf("/etc/hostname = %q, want it untouched", got)
	}
	if ak := readFile(t, root, "root/.ssh/authorized_keys"); !strings.Contains(ak, key) {
		t.Errorf("key not installed:\n%s", ak)
	}
	shadow := readFile(t, root, "etc/shadow")
	hash := strings.Split(strings.SplitN(shadow, "\n", 2)[0], ":")[1]
	if !system.VerifyPassword(hash, "s3cret-pw") {
		t.Errorf("password not set: %q", shadow)
	}
}

// Issue 8: one key apply could not use made it exit 1 and skip everything
// after; two keys in one public_keys value were refused. Now the good keys
// are installed (both of a two-line value, as cloud-init does) and the bad
// one is a warning naming public_keys[i].
func TestBadKeySkippedOthersInstalled(t *testing.T) {
	root := offlineRoot(t)
	a, b, c := sshKey(1, "a"), sshKey(2, "b"), sshKey(3, "c")
	inst := &datasource.Instance{InstanceID: "i-1", PublicKeys: []string{
		a,
		"ssh-rsa not!base64 bad",
		b + "\n" + c + "\n",
		"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n",
	}}
	res := offlineMachine(t, root).Provision(context.Background(), Request{Inst: inst})
	if st := res.Status(); st != OK {
		t.Fatalf("status %d: %v", st, res.Err())
	}
	ak := readFile(t, root, "root/.ssh/authorized_keys")
	for _, k := range []string{a, b, c} {
		if !strings.Contains(ak, k) {
			t.Errorf("key %q missing:\n%s", k, ak)
		}
	}
	if strings.Contains(ak, "not!base64") {
		t.Errorf("bad key installed:\n%s", ak)
	}
	var warned bool
	for _, s := range res.Steps {
		for _, w := range s.Warnings {
			warned = warned || strings.Contains(w, "public_keys[1]")
		}
	}
	if !warned {
		t.Errorf("no warning naming public_keys[1]: %+v", res.Steps)
	}
	if n := len(res.Steps[0].Warnings); n != 2 {
		t.Errorf("%d warnings, want 2 (the bad key, the x509 block once): %q", n, res.Steps[0].Warnings)
	}
}

// Issue 8: --dry-run said "would …" for every selected step. It must list
// exactly what the real run then changes, and nothing once it is done.
func TestDryRunPredictsExactly(t *testing.T) {
	root := offlineRoot(t)
	inst := &datasource.Instance{InstanceID: "i-1", Hostname: "web1.example.com",
		PublicKeys: []string{sshKey(1, "a")}, AdminPass: "pw",
		Files: []datasource.File{{Path: "/etc/motd", Content: []byte("hi\n")}}}
	m := offlineMachine(t, root)
	before := readFile(t, root, "etc/hosts")
	dry := m.Provision(context.Background(), Request{Inst: inst, DryRun: true})
	if got := readFile(t, root, "etc/hosts"); got != before {
		t.Fatal("dry run changed /etc/hosts")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/motd")); err == nil {
		t.Fatal("dry run wrote /etc/motd")
	}
	real := m.Provision(context.Background(), Request{Inst: inst})
	dl, rl := dry.Lines(), real.Lines()
	if len(dl) != len(rl) || len(rl) != 5 {
		t.Fatalf("dry run:\n%s\nreal run:\n%s\nwant the same 5 changes", strings.Join(dl, "\n"), strings.Join(rl, "\n"))
	}
	for i := range dl {
		if want := strings.Replace(rl[i], ": ", ": would ", 1); dl[i] != want {
			t.Errorf("dry line %q, real line %q", dl[i], rl[i])
		}
	}
	// Done: hostname, keys idempotent; password and files once per instance.
	if again := m.Provision(context.Background(), Request{Inst: inst, DryRun: true}); len(again.Lines()) != 0 {
		t.Errorf("dry run after the real run predicts changes: %q", again.Lines())
	}
	// Only the hostname differs: only it and its hosts line are predicted.
	inst.Hostname = "web2.example.com"
	if again := m.Provision(context.Background(), Request{Inst: inst, DryRun: true}); !slices.Equal(again.Lines(),
		[]string{"hostname: would set web2.example.com", "hosts: would map web2.example.com to 127.0.1.1"}) {
		t.Errorf("dry run with a new hostname: %q", again.Lines())
	}
	// Same short name, another domain: /etc/hostname stays, /etc/hosts changes.
	inst.Hostname = "web1.example.net"
	if again := m.Provision(context.Background(), Request{Inst: inst, DryRun: true}); !slices.Equal(again.Lines(),
		[]string{"hosts: would map web1.example.net to 127.0.1.1"}) {
		t.Errorf("dry run with a new domain: %q", again.Lines())
	}
}

// Issue 12: steps.hosts had no effect, because one step wrote /etc/hostname
// and /etc/hosts together. Now hostname and hosts are two parts: each runs
// without the other, reports its own result, and fails on its own.
func TestHostnameAndHostsAreIndependentParts(t *testing.T) {
	inst := &datasource.Instance{InstanceID: "i-1", Hostname: "web1.example.com"}
	const hostsLine = "127.0.1.1 web1.example.com web1 # guestbridge"
	parts := func(res Result) []string {
		var p []string
		for _, s := range res.Steps {
			p = append(p, s.Part)
		}
		return p
	}

	t.Run("hostname only", func(t *testing.T) {
		root := offlineRoot(t)
		res := offlineMachine(t, root).Provision(context.Background(), Request{Inst: inst,
			Parts: map[string]bool{"hostname": true, "keys": true}})
		if res.Status() != OK || !slices.Equal(parts(res), []string{"hostname"}) {
			t.Fatalf("status %d steps %q: %v", res.Status(), parts(res), res.Err())
		}
		if got := readFile(t, root, "etc/hostname"); got != "web1\n" {
			t.Errorf("/etc/hostname %q", got)
		}
		if got := readFile(t, root, "etc/hosts"); got != "127.0.0.1 localhost\n" {
			t.Errorf("hosts part off, yet /etc/hosts = %q", got)
		}
		if _, err := os.Stat(filepath.Join(root, "etc/hosts.guestbridge.bak")); err == nil {
			t.Error("hosts part off, yet a backup of /etc/hosts was made")
		}
	})

	t.Run("hosts only", func(t *testing.T) {
		root := offlineRoot(t)
		res := offlineMachine(t, root).Provision(context.Background(), Request{Inst: inst,
			Parts: map[string]bool{"hosts": true}})
		if res.Status() != OK || !slices.Equal(parts(res), []string{"hosts"}) ||
			!slices.Equal(res.Lines(), []string{"hosts: map web1.example.com to 127.0.1.1"}) {
			t.Fatalf("status %d steps %q lines %q: %v", res.Status(), parts(res), res.Lines(), res.Err())
		}
		if got := readFile(t, root, "etc/hostname"); got != "localhost\n" {
			t.Errorf("hostname part off, yet /etc/hostname = %q", got)
		}
		if got := readFile(t, root, "etc/hosts"); !strings.Contains(got, hostsLine+"\n") {
			t.Errorf("/etc/hosts lacks the managed line:\n%s", got)
		}
	})

	t.Run("broken hosts fails only hosts", func(t *testing.T) {
		root := offlineRoot(t)
		os.Remove(filepath.Join(root, "etc/hosts"))
		os.MkdirAll(filepath.Join(root, "etc/hosts"), 0o755)
		res := offlineMachine(t, root).Provision(context.Background(), Request{Inst: inst})
		if res.Status() != Partial {
			t.Fatalf("status %d, want Partial (3): %v", res.Status(), res.Err())
		}
		for _, s := range res.Steps {
			if failed := s.Err != nil; failed != (s.Part == "hosts") {
				t.Errorf("step %s: err %v; want only hosts to fail", s.Part, s.Err)
			}
		}
		if err := res.Err(); err == nil || !strings.HasPrefix(err.Error(), "hosts: ") || !strings.Contains(err.Error(), "/etc/hosts") {
			t.Errorf("error %v: want it to be the hosts part's, naming /etc/hosts", err)
		}
		if got := readFile(t, root, "etc/hostname"); got != "web1\n" {
			t.Errorf("/etc/hostname %q: the hostname part must still apply", got)
		}
		rec := NewRecord("apply", res, nil)
		for _, sr := range rec.Steps {
			want := map[string]string{"hostname": "changed", "hosts": "failed"}[sr.Part]
			if sr.Result != want {
				t.Errorf("record step %s: %s, want %s", sr.Part, sr.Result, want)
			}
		}
		if rec.Status != "partial" || len(rec.Steps) != 2 {
			t.Errorf("record %+v", rec)
		}
	})

	t.Run("bad name warns in both", func(t *testing.T) {
		root := offlineRoot(t)
		bad := &datasource.Instance{InstanceID: "i-1", Hostname: "db_01"}
		res := offlineMachine(t, root).Provision(context.Background(), Request{Inst: bad})
		if res.Status() != OK || len(res.Steps) != 2 {
			t.Fatalf("status %d steps %+v", res.Status(), res.Steps)
		}
		for _, s := range res.Steps {
			if len(s.Warnings) != 1 || !strings.HasPrefix(s.Warnings[0], s.Part+": ") || !strings.Contains(s.Warnings[0], "db_01") {
				t.Errorf("step %s warnings %q", s.Part, s.Warnings)
			}
		}
		if readFile(t, root, "etc/hosts") != "127.0.0.1 localhost\n" || readFile(t, root, "etc/hostname") != "localhost\n" {
			t.Error("a bad name changed a file")
		}
	})
}

// A record lists the parts turned off, hosts among them, in Parts order.
func TestRecordSkipsHostsByName(t *testing.T) {
	rec := NewRecord("boot", Result{Mode: ModeApply}, map[string]string{"hosts": "steps.hosts = false (f:3)", "keys": "not in --only"})
	var got []string
	for _, s := range rec.Steps {
		got = append(got, s.Part+"="+s.Result+":"+s.Reason)
	}
	if want := []string{"hosts=skipped:steps.hosts = false (f:3)", "keys=skipped:not in --only"}; !slices.Equal(got, want) {
		t.Errorf("record steps %q, want %q", got, want)
	}
}

// Exit status: a step that fails while others apply is partial (3); all
// failing is failure (1).
func TestStatusPartialAndFailed(t *testing.T) {
	root := offlineRoot(t)
	// A directory where the injected file should go: that step fails.
	os.MkdirAll(filepath.Join(root, "etc/motd"), 0o755)
	inst := &datasource.Instance{InstanceID: "i-1", Hostname: "web1",
		Files: []datasource.File{{Path: "/etc/motd", Content: []byte("hi\n")}}}
	res := offlineMachine(t, root).Provision(context.Background(), Request{Inst: inst})
	if st := res.Status(); st != Partial {
		t.Fatalf("status %d, want Partial (3): %v", st, res.Err())
	}
	// Issue 8: the message printed the directory's mode as d---------.
	if err := res.Err(); err == nil || strings.Contains(err.Error(), "d---------") || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("error %v: want the kind in words", err)
	}
	only := Request{Inst: inst, Parts: map[string]bool{"files": true}}
	if st := offlineMachine(t, root).Provision(context.Background(), only).Status(); st != Failed {
		t.Errorf("only the failing step: status %d, want Failed (1)", st)
	}
}

// Issue 9: admin_pass and injected files are set once per instance, in
// seed mode too (cloud-init's NoCloud ignores them), and the seed holds no
// local interface names.
func TestSeedModeSetsPasswordAndFilesOncePerInstance(t *testing.T) {
	root := offlineRoot(t)
	inst := &datasource.Instance{InstanceID: "i-1", AdminPass: "pw1",
		Files: []datasource.File{{Path: "/etc/motd", Content: []byte("hi\n")}}}
	m := offlineMachine(t, root)
	res := m.Provision(context.Background(), Request{Inst: inst, Mode: ModeSeed})
	if res.Status() != OK {
		t.Fatal(res.Err())
	}
	if got := readFile(t, root, "etc/motd"); got != "hi\n" {
		t.Errorf("motd %q", got)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/cloud/seed/nocloud/meta-data")); err != nil {
		t.Error(err)
	}
	// The user changes the file; the next boot of the same instance keeps it.
	os.WriteFile(filepath.Join(root, "etc/motd"), []byte("mine\n"), 0o644)
	m.Provision(context.Background(), Request{Inst: inst, Mode: ModeSeed})
	if got := readFile(t, root, "etc/motd"); got != "mine\n" {
		t.Errorf("motd put back on the second boot: %q", got)
	}
}

// Issue 8: dry-run printed "would network: ens3: up".
func TestDryRunNetworkLineReadable(t *testing.T) {
	for _, c := range []struct {
		ch   apply.Change
		dry  bool
		want string
	}{
		{apply.Change{Op: "up", Link: "ens3"}, true, "network ens3: would bring up"},
		{apply.Change{Op: "up", Link: "ens3"}, false, "network ens3: bring up"},
		{apply.Change{Op: "add", Link: "ens3", What: "address 198.18.0.1/24"}, true, "network ens3: would add address 198.18.0.1/24"},
		{apply.Change{Op: "dhcp", Link: "ens3", What: "request DHCPv4 lease"}, true, "network ens3: would request DHCPv4 lease"},
	} {
		if got := changeLine(c.ch, c.dry); got != c.want {
			t.Errorf("changeLine(%v, %v) = %q, want %q", c.ch, c.dry, got, c.want)
		}
	}
}

// Issue 8: apply-state.json was read and written without a lock. Two
// Machines on one state dir (two processes: boot and the agent) take
// turns through the flock on StateDir/lock.
func TestLockSerialisesMachinesOnOneStateDir(t *testing.T) {
	dir := t.TempDir()
	a := New(Options{Root: system.Root{Dir: t.TempDir()}, StateDir: dir, Log: quietLog()})
	b := New(Options{Root: system.Root{Dir: t.TempDir()}, StateDir: dir, Log: quietLog()})
	held := make(chan struct{})
	go a.locked(func() error {
		close(held)
		time.Sleep(500 * time.Millisecond)
		return nil
	})
	<-held
	start := time.Now()
	b.locked(func() error { return nil })
	if waited := time.Since(start); waited < 400*time.Millisecond {
		t.Fatalf("second machine got the lock after %s while the first held it", waited)
	}
}
