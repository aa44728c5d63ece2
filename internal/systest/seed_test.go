package systest_test

// The seed-mode full-system test of issue 9: Debian 12 + systemd +
// cloud-init 22.4.2 with guestbridge installed as a user installs it, a
// config drive built with nova's genisoimage flags, NICs that appear during
// udev coldplug. Everything is asserted on the FIRST boot; a second boot of
// the same disk with a changed drive (new instance) must re-render.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"guestbridge/internal/systest"
	"guestbridge/internal/vmtest"
)

const (
	seedMAC0 = "52:54:00:5e:10:01"
	seedMAC1 = "52:54:00:5e:10:02"
	seedKey  = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKr7iXUXh1D/Y02bruTvnEoxONgnhNFZCvO/KEutTz2z systest@example.invalid"
)

// seedChecks is what the collector gathers after each boot. Python costs
// 2–3 s per process under TCG, so cloud-init is asked once; the rest are
// files and cheap commands.
var seedChecks = []systest.Check{
	{Name: "status.json", Cmd: "cat /run/cloud-init/status.json"},
	{Name: "result.json", Cmd: "cat /run/cloud-init/result.json"},
	{Name: "ci-status", Cmd: "cloud-init status --long"},
	{Name: "ds-identify", Cmd: "cat /run/cloud-init/cloud.cfg"},
	{Name: "instance-id", Cmd: "cat /var/lib/cloud/data/instance-id"},
	{Name: "addr", Cmd: "ip -j addr"},
	{Name: "route4", Cmd: "ip -j -4 route show table main"},
	{Name: "route6", Cmd: "ip -j -6 route show table main"},
	{Name: "resolv.conf", Cmd: "cat /etc/resolv.conf"},
	{Name: "hostname", Cmd: "hostname"},
	{Name: "root-keys", Cmd: "cat /root/.ssh/authorized_keys"},
	{Name: "injected", Cmd: "cat /etc/systest/injected.conf"},
	// --man=no: minbase has no man-db, and whether `man` can show the
	// units' Documentation= is about the image, not about ordering.
	{Name: "verify", Cmd: "SYSTEMD_COLORS=0 systemd-analyze verify --man=no default.target $(cd /lib/systemd/system && ls guestbridge*.service) 2>&1"},
	{Name: "journal-cycles", Cmd: "journalctl -b --no-pager -o cat | grep -i -E 'ordering cycle|break ordering|deleted to break'"},
	{Name: "gb-show", Cmd: "systemctl show -p ActiveState,Result,ExecMainStatus guestbridge-boot.service"},
	{Name: "gb-journal", Cmd: "journalctl -b --no-pager -o short-monotonic -u guestbridge-boot.service -u guestbridge-agent.service"},
	{Name: "failed", Cmd: "systemctl --failed --plain --no-legend"},
	{Name: "ci-units", Cmd: "for u in cloud-init-local cloud-init cloud-config cloud-final; do echo $u $(systemctl show -p Result --value $u.service); done"},
	// Diagnostics only: what was handed over and rendered.
	{Name: "seed", Cmd: "cd /var/lib/cloud/seed/nocloud && for f in *; do echo \"--- $f\"; cat $f; done"},
	{Name: "pin", Cmd: "cat /etc/cloud/cloud.cfg.d/90-guestbridge.cfg"},
	{Name: "rendered", Cmd: "cat /etc/network/interfaces /etc/network/interfaces.d/* 2>&1"},
	{Name: "ci-log", Cmd: "grep -E 'WARNING|ERROR|Traceback|Exception' /var/log/cloud-init.log | tail -40"},
	{Name: "blame", Cmd: "systemd-analyze blame --no-pager | head -15; systemd-analyze critical-chain --no-pager guestbridge-boot.service cloud-init-local.service 2>&1 | tail -12"},
}

func TestSeedModeFirstBoot(t *testing.T) {
	v := systest.Variant{Init: "systemd", CloudInit: true}
	disk := systest.Image(t, v, systest.Guestbridge(t, v))
	m := systest.NewMachine(t, disk)
	nics := []systest.NIC{{MAC: seedMAC0}, {MAC: seedMAC1}}

	meta := readSeed(t, "meta_data.json")
	network := readSeed(t, "network_data.json")
	res := m.Boot(t, systest.BootOptions{
		NICs:    nics,
		Drive:   vmtest.ConfigDriveISO(t, novaDrive(meta, network, readSeed(t, "injected.conf"))),
		Collect: systest.Script(seedChecks...),
	})
	logOnFailure(t, "first boot", res)
	s := res.Sections

	t.Run("cloud-init", func(t *testing.T) {
		checkCloudInit(t, s, "5d3e0a51-0000-4000-8000-00000000a001")
	})
	t.Run("network", func(t *testing.T) {
		checkNetwork(t, s, map[string]wantNIC{
			seedMAC0: {mtu: 1450, addrs: []string{"192.0.2.10/24", "2001:db8:10::10/64"}},
			seedMAC1: {mtu: 9000, addrs: []string{"203.0.113.10/24", "2001:db8:20::10/64"}},
		}, []wantRoute{
			{"route4", "default", "192.0.2.1", seedMAC0},
			{"route4", "198.51.100.0/24", "192.0.2.254", seedMAC0},
			{"route4", "198.18.0.0/15", "203.0.113.1", seedMAC1},
			{"route6", "default", "2001:db8:10::1", seedMAC0},
			{"route6", "2001:db8:ffff::/48", "2001:db8:10::fe", seedMAC0},
			{"route6", "2001:db8:abcd::/48", "2001:db8:20::1", seedMAC1},
		})
	})
	t.Run("dns", func(t *testing.T) {
		resolv := s["resolv.conf"].Text
		for _, ns := range []string{"192.0.2.53", "2001:db8:10::53"} {
			if !hasFields(resolv, "nameserver", ns) {
				t.Errorf("/etc/resolv.conf lacks nameserver %s:\n%s", ns, resolv)
			}
		}
	})
	t.Run("hostname", func(t *testing.T) {
		// cloud-init's own ConfigDrive path sets the short name of meta_data's
		// FQDN (prefer_fqdn_over_hostname is false on Debian).
		if got := strings.TrimSpace(s["hostname"].Text); got != "seed-one" {
			t.Errorf("hostname = %q, want seed-one", got)
		}
	})
	t.Run("ssh-key", func(t *testing.T) {
		if !keyPresent(s["root-keys"].Text, seedKey) {
			t.Errorf("root's authorized_keys lacks the instance's key (rc %d):\n%s", s["root-keys"].RC, s["root-keys"].Text)
		}
	})
	t.Run("injected-file", func(t *testing.T) {
		want := string(readSeed(t, "injected.conf"))
		if got := s["injected"]; got.RC != 0 || got.Text != want {
			t.Errorf("/etc/systest/injected.conf (rc %d) = %q, want %q", got.RC, got.Text, want)
		}
	})
	t.Run("units", func(t *testing.T) {
		checkUnits(t, res)
	})

	// Second boot, same disk: a new instance with a changed address and
	// hostname must be rendered (updates: network: when: boot-new-instance).
	meta2 := strings.NewReplacer(
		"5d3e0a51-0000-4000-8000-00000000a001", "5d3e0a51-0000-4000-8000-00000000a002",
		"seed-one.example.org", "seed-two.example.org").Replace(string(meta))
	network2 := strings.Replace(string(network), `"192.0.2.10"`, `"192.0.2.20"`, 1)
	if meta2 == string(meta) || network2 == string(network) {
		t.Fatal("second drive: fixture replacements did not apply")
	}
	res2 := m.Boot(t, systest.BootOptions{
		NICs:    nics,
		Drive:   vmtest.ConfigDriveISO(t, novaDrive([]byte(meta2), []byte(network2), readSeed(t, "injected.conf"))),
		Collect: systest.Script(seedChecks...),
	})
	logOnFailure(t, "second boot", res2)
	s2 := res2.Sections
	t.Run("second-boot", func(t *testing.T) {
		checkCloudInit(t, s2, "5d3e0a51-0000-4000-8000-00000000a002")
		checkNetwork(t, s2, map[string]wantNIC{
			seedMAC0: {mtu: 1450, addrs: []string{"192.0.2.20/24", "2001:db8:10::10/64"}, not: []string{"192.0.2.10/24"}},
			seedMAC1: {mtu: 9000, addrs: []string{"203.0.113.10/24", "2001:db8:20::10/64"}},
		}, []wantRoute{
			{"route4", "default", "192.0.2.1", seedMAC0},
			{"route6", "2001:db8:ffff::/48", "2001:db8:10::fe", seedMAC0},
		})
		if got := strings.TrimSpace(s2["hostname"].Text); got != "seed-two" {
			t.Errorf("hostname = %q, want seed-two", got)
		}
		checkUnits(t, res2)
	})
}

// novaDrive lays the files out as nova's config drive does (latest and a
// dated copy, content/ for injected files).
func novaDrive(meta, network, injected []byte) map[string][]byte {
	tree := map[string][]byte{"openstack/content/0000": injected}
	for _, v := range []string{"latest", "2018-08-27"} {
		tree["openstack/"+v+"/meta_data.json"] = meta
		tree["openstack/"+v+"/network_data.json"] = network
		tree["openstack/"+v+"/vendor_data.json"] = []byte("{}")
		tree["openstack/"+v+"/vendor_data2.json"] = []byte("{}")
	}
	return tree
}

func readSeed(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seed", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkCloudInit: cloud-init used our NoCloud seed (not ConfigDrive) for
// this instance and reported no error in any stage.
func checkCloudInit(t *testing.T, s map[string]systest.Section, instanceID string) {
	t.Helper()
	var status struct {
		V1 map[string]json.RawMessage `json:"v1"`
	}
	if err := json.Unmarshal([]byte(s["status.json"].Text), &status); err != nil {
		t.Errorf("/run/cloud-init/status.json: %v:\n%s", err, s["status.json"].Text)
	}
	var ds string
	_ = json.Unmarshal(status.V1["datasource"], &ds)
	if !strings.HasPrefix(ds, "DataSourceNoCloud") {
		t.Errorf("status.json datasource = %q, want DataSourceNoCloud (ds-identify wrote:\n%s)", ds, s["ds-identify"].Text)
	}
	for _, stage := range []string{"init-local", "init", "modules-config", "modules-final"} {
		var st struct {
			Errors   []any    `json:"errors"`
			Finished *float64 `json:"finished"`
		}
		if err := json.Unmarshal(status.V1[stage], &st); err != nil {
			t.Errorf("status.json stage %s: %v", stage, err)
			continue
		}
		if len(st.Errors) > 0 {
			t.Errorf("cloud-init stage %s errors: %v", stage, st.Errors)
		}
		if st.Finished == nil {
			t.Errorf("cloud-init stage %s did not finish", stage)
		}
	}
	var result struct {
		V1 struct {
			Datasource string `json:"datasource"`
			Errors     []any  `json:"errors"`
		} `json:"v1"`
	}
	if err := json.Unmarshal([]byte(s["result.json"].Text), &result); err != nil {
		t.Errorf("/run/cloud-init/result.json: %v:\n%s", err, s["result.json"].Text)
	} else if len(result.V1.Errors) > 0 || !strings.HasPrefix(result.V1.Datasource, "DataSourceNoCloud") {
		t.Errorf("result.json: datasource %q errors %v, want NoCloud and none", result.V1.Datasource, result.V1.Errors)
	}
	if st := s["ci-status"]; st.RC != 0 || !hasFields(st.Text, "status:", "done") {
		t.Errorf("cloud-init status --long: rc %d, want 0 and status: done:\n%s", st.RC, st.Text)
	}
	if got := strings.TrimSpace(s["instance-id"].Text); got != instanceID {
		t.Errorf("cloud-init instance-id = %q, want %s", got, instanceID)
	}
}

type wantNIC struct {
	mtu   int
	addrs []string // CIDRs that must be on it
	not   []string // CIDRs that must not
}

type wantRoute struct{ section, dst, via, mac string }

type ipLink struct {
	Ifname    string `json:"ifname"`
	Address   string `json:"address"`
	MTU       int    `json:"mtu"`
	Operstate string `json:"operstate"`
	AddrInfo  []struct {
		Local     string `json:"local"`
		Prefixlen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

// checkNetwork matches NICs by MAC (names are the guest's business) and
// checks link state, MTU, addresses and routes of the live system.
func checkNetwork(t *testing.T, s map[string]systest.Section, nics map[string]wantNIC, routes []wantRoute) {
	t.Helper()
	var links []ipLink
	if err := json.Unmarshal([]byte(s["addr"].Text), &links); err != nil {
		t.Fatalf("ip -j addr: %v:\n%s", err, s["addr"].Text)
	}
	names := map[string]string{}
	for mac, want := range nics {
		i := slices.IndexFunc(links, func(l ipLink) bool { return l.Address == mac })
		if i < 0 {
			t.Errorf("no interface with MAC %s:\n%s", mac, s["addr"].Text)
			continue
		}
		l := links[i]
		names[mac] = l.Ifname
		if l.Operstate != "UP" {
			t.Errorf("%s (%s) is %s, want UP", l.Ifname, mac, l.Operstate)
		}
		if l.MTU != want.mtu {
			t.Errorf("%s (%s) mtu %d, want %d", l.Ifname, mac, l.MTU, want.mtu)
		}
		var have []string
		for _, a := range l.AddrInfo {
			have = append(have, fmt.Sprintf("%s/%d", a.Local, a.Prefixlen))
		}
		for _, a := range want.addrs {
			if !slices.Contains(have, a) {
				t.Errorf("%s (%s) lacks %s; has %v", l.Ifname, mac, a, have)
			}
		}
		for _, a := range want.not {
			if slices.Contains(have, a) {
				t.Errorf("%s (%s) still has %s; has %v", l.Ifname, mac, a, have)
			}
		}
	}
	for _, want := range routes {
		var rs []struct {
			Dst     string `json:"dst"`
			Gateway string `json:"gateway"`
			Dev     string `json:"dev"`
		}
		if err := json.Unmarshal([]byte(s[want.section].Text), &rs); err != nil {
			t.Errorf("%s: %v:\n%s", want.section, err, s[want.section].Text)
			continue
		}
		if !slices.ContainsFunc(rs, func(r struct {
			Dst     string `json:"dst"`
			Gateway string `json:"gateway"`
			Dev     string `json:"dev"`
		}) bool {
			return r.Dst == want.dst && r.Gateway == want.via && r.Dev == names[want.mac]
		}) {
			t.Errorf("no route %s via %s dev %s (%s) in %s:\n%s", want.dst, want.via, names[want.mac], want.mac, want.section, s[want.section].Text)
		}
	}
}

// checkUnits: the boot finished cleanly, guestbridge-boot succeeded in seed
// mode, no cloud-init unit failed, and systemd found no ordering cycle
// either in the boot transaction (journal) or in systemd-analyze verify.
func checkUnits(t *testing.T, res systest.Result) {
	t.Helper()
	s := res.Sections
	if res.State != "running" {
		t.Errorf("systemctl is-system-running = %q, want running; failed units:\n%s", res.State, s["failed"].Text)
	}
	if show := s["gb-show"].Text; !hasFields(show, "Result=success") || !hasFields(show, "ExecMainStatus=0") {
		t.Errorf("guestbridge-boot.service did not succeed:\n%s\njournal:\n%s", show, s["gb-journal"].Text)
	}
	if j := s["gb-journal"].Text; !strings.Contains(strings.ToLower(j), "seed") {
		t.Errorf("guestbridge-boot's journal does not say it chose seed mode:\n%s", j)
	}
	for _, line := range strings.Split(strings.TrimSpace(s["ci-units"].Text), "\n") {
		if f := strings.Fields(line); len(f) != 2 || f[1] != "success" {
			t.Errorf("cloud-init unit result: %q, want success", line)
		}
	}
	if c := s["journal-cycles"]; c.RC != 1 {
		t.Errorf("the boot's journal reports an ordering cycle (grep rc %d):\n%s", c.RC, c.Text)
	}
	verify := s["verify"].Text
	for _, line := range strings.Split(verify, "\n") {
		l := strings.ToLower(line)
		if strings.Contains(l, "cycle") || strings.Contains(l, "guestbridge") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}

// keyPresent: some authorized_keys line ends with the key (cloud-init's
// disable_root puts an options prefix before it on root's copy).
func keyPresent(authorized, key string) bool {
	for _, line := range strings.Split(authorized, "\n") {
		if strings.HasSuffix(strings.TrimSpace(line), key) {
			return true
		}
	}
	return false
}

// hasFields: some line's fields start with want.
func hasFields(text string, want ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) >= len(want) && slices.Equal(f[:len(want)], want) {
			return true
		}
	}
	return false
}

func logOnFailure(t *testing.T, what string, res systest.Result) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s: collector output:\n%s\nconsole tail:\n%s", what, res.Output, vmtest.Tail(res.Console, 60))
		}
	})
}
