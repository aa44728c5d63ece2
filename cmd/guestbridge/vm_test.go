package main_test

// End-to-end: the real guestbridge binary applies a config drive inside a
// qemu guest running Debian's kernel (see internal/vmtest), where bonds and
// VLANs exist and nothing can touch the host's network.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"guestbridge/internal/testenv"
	"guestbridge/internal/vmtest"
)

func TestVMApply(t *testing.T) {
	bin := buildGuestbridge(t)
	meta := readTestdata(t, "meta_data.json")

	t.Run("iso-bond-vlan", func(t *testing.T) {
		t.Parallel()
		iso := vmtest.ConfigDriveISO(t, configDriveTree(meta, readTestdata(t, "bond-vlan-v4-v6-routes.network_data.json")))
		out := runChecks(t, bin, vmtest.Options{
			NICs:    []vmtest.NIC{{MAC: "52:54:00:12:34:00"}, {MAC: "52:54:00:12:34:01"}},
			Drive:   iso,
			DriveIf: "cdrom", // IDE /dev/sr0, as libvirt attaches nova's ISO
		}, []check{
			{"dryrun", "guestbridge apply --source configdrive --dry-run"},
			{"after-dryrun", "ls /sys/class/net"},
			{"apply1", "guestbridge apply --source configdrive"},
			{"mode", "cat /sys/class/net/bond0/bonding/mode"},
			{"slaves", "cat /sys/class/net/bond0/bonding/slaves"},
			{"bonding", "cat /proc/net/bonding/bond0"},
			{"mtu", "cat /sys/class/net/bond0/mtu"},
			{"vlan", "cat /proc/net/vlan/config"},
			{"addr", "ip addr"},
			{"route", "ip route"},
			{"route6", "ip -6 route"},
			{"apply2", "guestbridge apply --source configdrive"},
		})
		if r := out["dryrun"]; r.rc != "0" || !strings.Contains(r.text, "bond0") {
			t.Errorf("dry run: exit %s, want 0 and a plan naming bond0:\n%s", r.rc, r.text)
		}
		if got := strings.Fields(out["after-dryrun"].text); !slices.Equal(got, []string{"eth0", "eth1", "lo"}) {
			t.Errorf("links after the dry run = %v, want the untouched eth0 eth1 lo", got)
		}
		assertApplied(t, out, "apply1")
		if got := out["mode"].text; got != "802.3ad 4\n" {
			t.Errorf("bond mode = %q, want 802.3ad", got)
		}
		bonding := out["bonding"].text
		for _, want := range []string{"Transmit Hash Policy: layer3+4 (1)", "MII Polling Interval (ms): 100"} {
			if !strings.Contains(bonding, want) {
				t.Errorf("/proc/net/bonding/bond0 lacks %q:\n%s", want, bonding)
			}
		}
		// Members are matched by permanent MAC: once enslaved they all carry
		// the bond's MAC, and the kernel names are whatever apply made them.
		members := bondMembers(bonding)
		slaves := strings.Fields(out["slaves"].text)
		slices.Sort(slaves)
		if names := sortedKeys(members); !slices.Equal(slaves, names) || len(slaves) != 2 {
			t.Errorf("bonding/slaves %v, /proc/net/bonding members %v: want the same two", slaves, names)
		}
		if macs := sortedValues(members); !slices.Equal(macs, []string{"52:54:00:12:34:00", "52:54:00:12:34:01"}) {
			t.Errorf("bond members' permanent MACs = %v, want both configured NICs", macs)
		}
		if got := strings.TrimSpace(out["mtu"].text); got != "9000" {
			t.Errorf("bond0 mtu = %s, want 9000", got)
		}
		if !hasLine(out["vlan"].text, "bond0.123", "|", "123", "|", "bond0") {
			t.Errorf("/proc/net/vlan/config lacks bond0.123 with id 123 on bond0:\n%s", out["vlan"].text)
		}
		for _, want := range [][]string{{"inet", "192.0.2.10/24"}, {"inet6", "2001:db8:123::10/64"}} {
			if !hasLine(out["addr"].text, want...) {
				t.Errorf("ip addr lacks %v:\n%s", want, out["addr"].text)
			}
		}
		for _, want := range [][]string{
			{"default", "via", "192.0.2.1", "dev", "bond0.123"},
			{"198.51.100.0/24", "via", "192.0.2.254", "dev", "bond0.123"},
		} {
			if !hasLine(out["route"].text, want...) {
				t.Errorf("ip route lacks %v:\n%s", want, out["route"].text)
			}
		}
		for _, want := range [][]string{
			{"2001:db8:ffff::/48", "via", "2001:db8:123::1", "dev", "bond0.123"},
			{"default", "via", "fe80::1", "dev", "bond0.123"},
		} {
			if !hasLine(out["route6"].text, want...) {
				t.Errorf("ip -6 route lacks %v:\n%s", want, out["route6"].text)
			}
		}
		assertNoChanges(t, out, "apply2")
	})

	t.Run("vfat-static", func(t *testing.T) {
		t.Parallel()
		img := vmtest.ConfigDriveVFAT(t, configDriveTree(meta, readTestdata(t, "static-one-nic.network_data.json")))
		out := runChecks(t, bin, vmtest.Options{
			NICs:  []vmtest.NIC{{MAC: "52:54:00:12:34:10"}},
			Drive: img,
		}, []check{
			{"apply1", "guestbridge apply --source configdrive"},
			{"addr", "ip -4 addr"},
			{"route", "ip route"},
			{"apply2", "guestbridge apply --source configdrive"},
		})
		assertApplied(t, out, "apply1")
		if !hasLine(out["addr"].text, "inet", "198.51.100.10/24") {
			t.Errorf("ip addr lacks 198.51.100.10/24:\n%s", out["addr"].text)
		}
		for _, want := range [][]string{
			{"default", "via", "198.51.100.1"},
			{"203.0.113.0/24", "via", "198.51.100.254"},
		} {
			if !hasLine(out["route"].text, want...) {
				t.Errorf("ip route lacks %v:\n%s", want, out["route"].text)
			}
		}
		assertNoChanges(t, out, "apply2")
	})
}

// TestVMFixtureDerivation keeps the derived network_data.json honest: it
// is the upstream-derived fixture plus exactly the changes its README lists.
func TestVMFixtureDerivation(t *testing.T) {
	var orig, derived map[string]any
	if err := json.Unmarshal(readTestdata(t, "dv-bond-vlan-v4-v6.network_data.json"), &orig); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readTestdata(t, "bond-vlan-v4-v6-routes.network_data.json"), &derived); err != nil {
		t.Fatal(err)
	}
	nets := orig["networks"].([]any)
	v4, v6 := nets[0].(map[string]any), nets[1].(map[string]any)
	v4["routes"] = append(v4["routes"].([]any),
		map[string]any{"network": "198.51.100.0", "netmask": "255.255.255.0", "gateway": "192.0.2.254"})
	v6["ip_address"] = "2001:db8:123::10/64"
	v6["routes"] = []any{map[string]any{"network": "2001:db8:ffff::", "netmask": "ffff:ffff:ffff::", "gateway": "2001:db8:123::1"}}
	if diff := cmp.Diff(orig, derived); diff != "" {
		t.Errorf("derived fixture differs from the documented derivation (-want +got):\n%s", diff)
	}
}

// buildGuestbridge builds the binary under test, static as the guest needs.
func buildGuestbridge(t testing.TB) string {
	t.Helper()
	goTool := testenv.RequireCommand(t, "go")
	bin := filepath.Join(t.TempDir(), "guestbridge")
	var out []byte
	var err error
	// Twice: a build cache cleaned by a concurrent go command once made a
	// build fail with "could not import bytes (open : no such file…)".
	for range 2 {
		cmd := exec.Command(goTool, "build", "-o", bin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err = cmd.CombinedOutput(); err == nil {
			return bin
		}
	}
	t.Fatalf("guestbridge does not build: %v\n%s", err, out)
	return ""
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "vm", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// configDriveTree lays the files out as nova does: latest and a dated copy.
func configDriveTree(meta, network []byte) map[string][]byte {
	tree := map[string][]byte{}
	for _, v := range []string{"latest", "2015-10-15"} {
		tree["openstack/"+v+"/meta_data.json"] = meta
		tree["openstack/"+v+"/network_data.json"] = network
	}
	return tree
}

// check is one guest command whose output is reported under its name.
type check struct{ name, cmd string }

type checkResult struct {
	text string // stdout and stderr
	rc   string // exit status as printed by the shell
}

// runChecks boots one guest with the binary at /usr/sbin/guestbridge, runs
// the checks in order (all of them, whatever fails) and splits the output.
func runChecks(t *testing.T, bin string, o vmtest.Options, checks []check) map[string]checkResult {
	t.Helper()
	var script strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&script, "echo '### %s'\n%s 2>&1\necho \"### rc $?\"\n", c.name, c.cmd)
	}
	o.Binaries = map[string]string{"/usr/sbin/guestbridge": bin}
	o.Command = script.String()
	o.Timeout = 120 * time.Second
	res := vmtest.Run(t, o)
	out := parseChecks(res.Output)
	for _, c := range checks {
		if _, ok := out[c.name]; !ok {
			t.Fatalf("guest output lacks check %q (RC %d):\n%s\nconsole tail:\n%s", c.name, res.RC, res.Output, lastLines(res.Console, 20))
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("guest output:\n%s", res.Output)
		}
	})
	return out
}

// parseChecks splits "### name" … "### rc N" blocks.
func parseChecks(output string) map[string]checkResult {
	out := map[string]checkResult{}
	var name string
	var text strings.Builder
	for _, line := range strings.SplitAfter(output, "\n") {
		switch {
		case strings.HasPrefix(line, "### rc ") && name != "":
			out[name] = checkResult{text: text.String(), rc: strings.TrimSpace(strings.TrimPrefix(line, "### rc "))}
			name = ""
		case strings.HasPrefix(line, "### "):
			name = strings.TrimSpace(strings.TrimPrefix(line, "### "))
			text.Reset()
		default:
			text.WriteString(line)
		}
	}
	return out
}

func assertApplied(t *testing.T, out map[string]checkResult, name string) {
	t.Helper()
	if r := out[name]; r.rc != "0" || strings.Contains(r.text, "no changes") {
		t.Errorf("%s: exit %s, want 0 and changes reported:\n%s", name, r.rc, r.text)
	}
}

func assertNoChanges(t *testing.T, out map[string]checkResult, name string) {
	t.Helper()
	if r := out[name]; r.rc != "0" || !strings.Contains(r.text, "no changes") {
		t.Errorf("%s (second identical run): exit %s, want 0 and \"no changes\":\n%s", name, r.rc, r.text)
	}
}

// bondMembers maps each "Slave Interface" of /proc/net/bonding/X to its
// "Permanent HW addr".
func bondMembers(procBonding string) map[string]string {
	members := map[string]string{}
	var slave string
	for _, line := range strings.Split(procBonding, "\n") {
		if v, ok := strings.CutPrefix(line, "Slave Interface: "); ok {
			slave = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "Permanent HW addr: "); ok && slave != "" {
			members[slave] = strings.TrimSpace(v)
		}
	}
	return members
}

// hasLine reports whether some line's whitespace-separated fields start
// with fields (so extra attributes like "metric 1024" do not matter).
func hasLine(text string, fields ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) >= len(fields) && slices.Equal(f[:len(fields)], fields) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedValues(m map[string]string) []string {
	vals := make([]string, 0, len(m))
	for _, v := range m {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return vals
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
