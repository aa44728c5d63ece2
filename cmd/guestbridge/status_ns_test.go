package main_test

// guestbridge status after a REAL degraded apply: the real binary runs
// `boot --mode apply` in a throw-away network namespace (ip netns exec) on
// a config drive built with nova's genisoimage flags that names two NICs
// by MAC, only one of which exists there.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"guestbridge/internal/nl/nltest"
	"guestbridge/internal/vmtest"
	"guestbridge/provision"
)

const (
	nsPresentMAC = "02:00:5e:30:00:01" // the NIC the namespace has
	nsMissingMAC = "02:00:5e:30:00:02" // named by the drive, never there
)

// twoNICNetworkData: a static IPv4 address and route on each NIC, an IPv6
// address on the present one; no DNS (nothing for the host's resolv.conf).
const twoNICNetworkData = `{
  "links": [
    {"id": "tap-present", "type": "phy", "ethernet_mac_address": "` + nsPresentMAC + `", "mtu": 1500},
    {"id": "tap-missing", "type": "phy", "ethernet_mac_address": "` + nsMissingMAC + `", "mtu": 1500}
  ],
  "networks": [
    {"id": "net0-v4", "type": "ipv4", "link": "tap-present", "ip_address": "198.18.30.10", "netmask": "255.255.255.0",
     "routes": [{"network": "203.0.113.0", "netmask": "255.255.255.0", "gateway": "198.18.30.254"}],
     "network_id": "00000000-0000-0000-0000-000000000030"},
    {"id": "net0-v6", "type": "ipv6", "link": "tap-present", "ip_address": "2001:db8:30::10/64",
     "network_id": "00000000-0000-0000-0000-000000000031"},
    {"id": "net1-v4", "type": "ipv4", "link": "tap-missing", "ip_address": "198.18.31.10", "netmask": "255.255.255.0",
     "routes": [{"network": "198.51.100.0", "netmask": "255.255.255.0", "gateway": "198.18.31.254"}],
     "network_id": "00000000-0000-0000-0000-000000000032"}
  ]
}`

// onlyNetwork turns every part but the network off: the binary runs with
// --root / (netlink needs the live system), and must not touch the host's
// files. The drive carries nothing for them either (no hostname, keys,
// password, files or DNS).
const onlyNetwork = "[main]\nmode = apply\n[steps]\nhostname = false\nhosts = false\ndns = false\nkeys = false\npassword = false\nfiles = false\n"

// inNS runs the binary in ns through `ip netns exec` (its own mount
// namespace, /sys of ns). When udevd runs on the host, an empty tmpfs hides
// /run/udev in that mount namespace only: udev never sees a namespace's
// veths, so boot must not wait for it.
func inNS(t *testing.T, ns *nltest.NS, bin string, args ...string) (int, string, string) {
	t.Helper()
	script := `[ -e /run/udev/control ] && { mount -t tmpfs tmpfs /run/udev || exit 99; }; exec "$0" "$@"`
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.Name, "sh", "-c", script, bin}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	rc := 0
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ip netns exec: %v", err)
	}
	if rc == 99 {
		t.Fatalf("hiding /run/udev in the namespace failed:\n%s", errb.String())
	}
	return rc, out.String(), errb.String()
}

// runBin runs the binary outside any namespace (status reads files only).
func runBin(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// Issue 12: status's "degraded" from a real apply in which a configured NIC
// never appears (the other one configured), not from a broken image.
func TestStatusDegradedAfterNamespaceBootWithMissingNIC(t *testing.T) {
	guest, peer := nltest.NewNS(t, "sdg"), nltest.NewNS(t, "sdp")
	guest.Veth(t, "nic0", nsPresentMAC, peer, "peer0")
	bin := buildGuestbridge(t)
	meta := []byte(`{"uuid": "6c8a3a5e-0000-4000-8000-000000000030", "name": "nstest"}`)
	iso := vmtest.ConfigDriveISO(t, configDriveTree(meta, []byte(twoNICNetworkData)))
	conf := filepath.Join(t.TempDir(), "guestbridge.conf")
	if err := os.WriteFile(conf, []byte(onlyNetwork), 0o644); err != nil {
		t.Fatal(err)
	}
	st := t.TempDir()

	rc, out, stderr := inNS(t, guest, bin, "boot", "--source", "configdrive:"+iso, "--root", "/", "--config", conf,
		"--state-dir", st, "--wait", "1500ms", "--dhcp-timeout", "2s")
	t.Logf("boot exit %d\nstdout:\n%sstderr:\n%s", rc, out, stderr)
	if rc != 3 {
		t.Fatalf("boot exit %d, want 3 (partial)", rc)
	}
	if !strings.Contains(stderr, nsMissingMAC) {
		t.Errorf("boot's error does not name the missing NIC %s", nsMissingMAC)
	}
	// The NIC that exists got everything the drive gave it.
	if a := guest.IP(t, "-br", "addr", "show", "dev", "nic0"); !strings.Contains(a, "198.18.30.10/24") ||
		!strings.Contains(a, "2001:db8:30::10/64") || !strings.Contains(a, " UP ") {
		t.Errorf("present NIC not configured: %s", a)
	}
	if r := guest.IP(t, "route", "show", "203.0.113.0/24"); !strings.Contains(r, "via 198.18.30.254 dev nic0") {
		t.Errorf("present NIC's route missing: %q", r)
	}
	// Nothing of the missing NIC's config landed anywhere.
	if a := guest.IP(t, "addr"); strings.Contains(a, "198.18.31.10") {
		t.Errorf("the missing NIC's address was put elsewhere:\n%s", a)
	}
	if r := guest.IP(t, "route", "show", "198.51.100.0/24"); strings.TrimSpace(r) != "" {
		t.Errorf("the missing NIC's route was added: %q", r)
	}

	rc, text := runBin(t, bin, "status", "--state-dir", st)
	if rc != 2 || !strings.Contains(text, "status: partial\n") || !strings.Contains(text, "network: failed: ") ||
		!strings.Contains(text, nsMissingMAC) || !strings.Contains(text, "last run: boot at ") {
		t.Errorf("status exit %d, want 2 (degraded), partial, and the network failure naming %s:\n%s", rc, nsMissingMAC, text)
	}
	if strings.Contains(text, nsPresentMAC) {
		t.Errorf("status names the NIC that is there as a problem:\n%s", text)
	}
	rc, js := runBin(t, bin, "status", "--state-dir", st, "--json")
	var rec provision.Record
	if err := json.Unmarshal([]byte(js), &rec); err != nil || rc != 2 || rec.Status != "partial" || rec.Command != "boot" || rec.Mode != "apply" {
		t.Fatalf("status --json: exit %d, %v, record %+v; want 2 and a partial boot in apply mode", rc, err, rec)
	}
	results := map[string]provision.StepRecord{}
	for _, s := range rec.Steps {
		results[s.Part] = s
	}
	if n := results["network"]; n.Result != "failed" || !strings.Contains(n.Error, nsMissingMAC) || len(n.Changes) == 0 {
		t.Errorf("network step %+v: want failed, naming %s, with the present NIC's changes", n, nsMissingMAC)
	}
	for _, p := range []string{"hostname", "hosts", "dns", "keys", "password", "files"} {
		if results[p].Result != "skipped" {
			t.Errorf("step %s: %+v, want skipped by the settings", p, results[p])
		}
	}

	// A user's apply (no wait) on the same machine: the present NIC is
	// already right, the missing one is a warning, not a failure: exit 0,
	// and status is still degraded (2), now for the warning naming the MAC.
	rc, out, stderr = inNS(t, guest, bin, "apply", "--source", "configdrive:"+iso, "--root", "/", "--config", conf, "--state-dir", st)
	if rc != 0 || strings.TrimSpace(out) != "no changes" || !strings.Contains(stderr, nsMissingMAC) {
		t.Errorf("apply exit %d, want 0, no changes and a warning naming %s:\n%s\n%s", rc, nsMissingMAC, out, stderr)
	}
	rc, text = runBin(t, bin, "status", "--state-dir", st)
	if rc != 2 || !strings.Contains(text, "status: ok\n") || !strings.Contains(text, "warning: ") || !strings.Contains(text, nsMissingMAC) {
		t.Errorf("status after apply: exit %d, want 2 (degraded by the warning naming %s):\n%s", rc, nsMissingMAC, text)
	}
}
