package systest_test

// The apply-mode full-system tests of issue 10: Debian 12 without cloud-init
// on each init system (systemd, sysvinit-core, OpenRC), guestbridge installed
// from the .deb `make package` builds, by dpkg inside the image (its
// maintainer scripts enable the services), a config drive built with nova's
// genisoimage flags carrying admin_pass, two NICs that appear during udev
// coldplug. The first boot must configure everything; a second boot of the
// same disk must change nothing and keep the password the user set.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"guestbridge/internal/systest"
	"guestbridge/internal/testenv"
	"guestbridge/internal/vmtest"
)

const (
	applyMAC0      = "52:54:00:5e:20:01"
	applyMAC1      = "52:54:00:5e:20:02"
	applyKey       = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKr7iXUXh1D/Y02bruTvnEoxONgnhNFZCvO/KEutTz2z systest-apply@example.invalid"
	applyAdminPass = "Apply-Pass-5d3e0a51"
	// userPass is what "the user" sets after the first boot; the second
	// boot must not put admin_pass back.
	userPass = "User-Changed-7f21"
)

// applyFiles are the files whose content must not change on a second boot.
var applyFiles = []string{"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/root/.ssh/authorized_keys"}

// applyChecks gathers the state a user would look at; initChecks add what
// is specific to one init system.
func applyChecks(init string, extra ...systest.Check) []systest.Check {
	c := []systest.Check{
		{Name: "addr", Cmd: "ip -j addr"},
		{Name: "route4", Cmd: "ip -j -4 route show table main"},
		{Name: "route6", Cmd: "ip -j -6 route show table main"},
		{Name: "hostname", Cmd: "hostname"},
		{Name: "etc-hostname", Cmd: "cat /etc/hostname"},
		{Name: "hosts", Cmd: "cat /etc/hosts"},
		{Name: "resolv.conf", Cmd: "cat /etc/resolv.conf"},
		{Name: "root-keys", Cmd: "cat /root/.ssh/authorized_keys"},
		{Name: "shadow", Cmd: "grep '^root:' /etc/shadow"},
		{Name: "files", Cmd: "sha256sum " + strings.Join(applyFiles, " ")},
		{Name: "pin", Cmd: "ls /etc/cloud 2>&1"},
		{Name: "dpkg", Cmd: "dpkg-query -W -f '${Status} ${Version}\\n' guestbridge"},
	}
	c = append(c, initChecks[init]...)
	return append(c, extra...)
}

var initChecks = map[string][]systest.Check{
	"systemd": {
		{Name: "enabled", Cmd: "systemctl is-enabled guestbridge-boot.service guestbridge-agent.service"},
		{Name: "boot-unit", Cmd: "systemctl show -p ActiveState,Result,ExecMainStatus guestbridge-boot.service"},
		{Name: "agent-unit", Cmd: "systemctl show -p ActiveState,SubState,Result guestbridge-agent.service"},
		{Name: "failed", Cmd: "systemctl --failed --plain --no-legend"},
		{Name: "gb-log", Cmd: "journalctl -b --no-pager -o short-monotonic -u guestbridge-boot.service -u guestbridge-agent.service"},
		{Name: "cycles", Cmd: "journalctl -b --no-pager -o cat | grep -i -E 'ordering cycle|deleted to break'"},
		{Name: "boot-time", Cmd: "systemctl show -p ExecMainStartTimestampMonotonic,ExecMainExitTimestampMonotonic guestbridge-boot.service; systemd-analyze"},
	},
	"sysvinit": {
		{Name: "enabled", Cmd: "ls -1 /etc/rcS.d /etc/rc2.d"},
		{Name: "agent-status", Cmd: "/etc/init.d/guestbridge-agent status"},
		{Name: "gb-log", Cmd: "cat /var/log/guestbridge-agent.log"},
	},
	"openrc": {
		{Name: "enabled", Cmd: "rc-update show -v -a | grep -E 'guestbridge|networking'"},
		{Name: "agent-status", Cmd: "rc-service guestbridge-agent status"},
		{Name: "rc-status", Cmd: "rc-status -a"},
		{Name: "gb-log", Cmd: "cat /var/log/guestbridge-agent.log"},
	},
}

func readApply(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "apply", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func applyDrive(t testing.TB) string {
	t.Helper()
	meta, network := readApply(t, "meta_data.json"), readApply(t, "network_data.json")
	tree := map[string][]byte{}
	for _, v := range []string{"2012-08-10", "latest"} {
		tree["openstack/"+v+"/meta_data.json"] = meta
		tree["openstack/"+v+"/network_data.json"] = network
	}
	return vmtest.ConfigDriveISO(t, tree)
}

func TestApplySystemd(t *testing.T)  { testApply(t, "systemd") }
func TestApplySysvinit(t *testing.T) { testApply(t, "sysvinit") }
func TestApplyOpenRC(t *testing.T)   { testApply(t, "openrc") }

func testApply(t *testing.T, init string) {
	t.Parallel() // boots queue on the machine-wide VM slots; image builds overlap
	v := systest.Variant{Init: init}
	in, ok := systest.PackageInstall(t)
	if !ok {
		t.Fatal("the Makefile has no package target: issue 10 installs the .deb")
	}
	start := time.Now()
	disk := systest.Image(t, v, in)
	t.Logf("%s: image ready in %s", init, time.Since(start).Round(time.Second))
	m := systest.NewMachine(t, disk)
	nics := []systest.NIC{{MAC: applyMAC0}, {MAC: applyMAC1}}
	drive := applyDrive(t)

	// After collecting, the user changes root's password: the second boot
	// must keep it.
	res := m.Boot(t, systest.BootOptions{
		NICs:    nics,
		Drive:   drive,
		Collect: systest.Script(applyChecks(init, systest.Check{Name: "user-passwd", Cmd: "echo 'root:" + userPass + "' | chpasswd -c SHA512 && grep '^root:' /etc/shadow"})...),
	})
	t.Logf("%s first boot: finished at uptime %.1f s, wall %s, state %q", init, res.Uptime, res.Wall.Round(time.Second), res.State)
	logApplyOnFailure(t, "first boot", res)
	checkApplyBoot(t, init, res)
	t.Run("password", func(t *testing.T) {
		checkPassword(t, res.Sections["shadow"].Text, applyAdminPass)
		checkPassword(t, res.Sections["user-passwd"].Text, userPass)
	})
	if t.Failed() {
		return // the second boot compares against a first boot that went wrong
	}

	res2 := m.Boot(t, systest.BootOptions{NICs: nics, Drive: drive, Collect: systest.Script(applyChecks(init)...)})
	t.Logf("%s second boot: finished at uptime %.1f s, wall %s, state %q", init, res2.Uptime, res2.Wall.Round(time.Second), res2.State)
	logApplyOnFailure(t, "second boot", res2)
	t.Run("second-boot", func(t *testing.T) {
		checkApplyBoot(t, init, res2)
		if a, b := res.Sections["files"].Text, res2.Sections["files"].Text; a != b {
			t.Errorf("files changed on the second boot:\nfirst  %s\nsecond %s", a, b)
		}
		if a, b := res.Sections["user-passwd"].Text, res2.Sections["shadow"].Text; a != b {
			t.Errorf("root's shadow line changed on the second boot (password reset?):\nafter the user's change %s\nsecond boot            %s", a, b)
		}
		checkPassword(t, res2.Sections["shadow"].Text, userPass)
		if n1, n2 := netSummary(t, res.Sections), netSummary(t, res2.Sections); n1 != n2 {
			t.Errorf("live network differs on the second boot:\nfirst:\n%s\nsecond:\n%s", n1, n2)
		}
	})
}

func logApplyOnFailure(t *testing.T, what string, res systest.Result) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s: collected output:\n%s", what, res.Output)
			t.Logf("%s: console (last 6000 bytes):\n%s", what, tail(res.Console, 6000))
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// checkApplyBoot is what every boot (first or second) must show.
func checkApplyBoot(t *testing.T, init string, res systest.Result) {
	t.Helper()
	s := res.Sections
	if res.Uptime <= 0 {
		t.Fatalf("the boot did not finish (no collector output); console:\n%s", tail(res.Console, 4000))
	}
	t.Run("package", func(t *testing.T) {
		if got := s["dpkg"].Text; !strings.HasPrefix(got, "install ok installed ") {
			t.Errorf("guestbridge package state %q", got)
		}
		if s["pin"].RC == 0 {
			t.Errorf("/etc/cloud exists on an image without cloud-init: %s", s["pin"].Text)
		}
	})
	t.Run("network", func(t *testing.T) { checkApplyNetwork(t, s) })
	t.Run("hostname", func(t *testing.T) {
		if got := strings.TrimSpace(s["hostname"].Text); got != "gb-apply" {
			t.Errorf("hostname %q, want gb-apply", got)
		}
		if got := s["etc-hostname"].Text; got != "gb-apply\n" {
			t.Errorf("/etc/hostname %q", got)
		}
		if !regexp.MustCompile(`(?m)^127\.0\.1\.1\s+gb-apply\.example\.org\s+gb-apply\b`).MatchString(s["hosts"].Text) {
			t.Errorf("/etc/hosts has no 127.0.1.1 line for gb-apply.example.org:\n%s", s["hosts"].Text)
		}
	})
	t.Run("dns", func(t *testing.T) {
		var ns []string
		for _, line := range strings.Split(s["resolv.conf"].Text, "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "nameserver" {
				ns = append(ns, f[1])
			}
		}
		if !slices.Equal(ns, []string{"192.0.2.53", "2001:db8::53"}) {
			t.Errorf("resolv.conf nameservers %q:\n%s", ns, s["resolv.conf"].Text)
		}
	})
	t.Run("ssh-key", func(t *testing.T) {
		if !slices.Contains(strings.Split(s["root-keys"].Text, "\n"), applyKey) {
			t.Errorf("root's authorized_keys lacks the drive's key:\n%s", s["root-keys"].Text)
		}
	})
	t.Run("services", func(t *testing.T) { checkServices(t, init, s, res) })
}

func checkServices(t *testing.T, init string, s map[string]systest.Section, res systest.Result) {
	switch init {
	case "systemd":
		if got := strings.Fields(s["enabled"].Text); !slices.Equal(got, []string{"enabled", "enabled"}) {
			t.Errorf("is-enabled boot, agent: %q", got)
		}
		if res.State != "running" {
			t.Errorf("is-system-running = %q, want running; failed units:\n%s", res.State, s["failed"].Text)
		}
		for _, want := range []string{"ActiveState=active", "Result=success", "ExecMainStatus=0"} {
			if !strings.Contains(s["boot-unit"].Text, want) {
				t.Errorf("guestbridge-boot.service: want %s:\n%s", want, s["boot-unit"].Text)
			}
		}
		for _, want := range []string{"ActiveState=active", "SubState=running"} {
			if !strings.Contains(s["agent-unit"].Text, want) {
				t.Errorf("guestbridge-agent.service: want %s:\n%s", want, s["agent-unit"].Text)
			}
		}
		if strings.TrimSpace(s["cycles"].Text) != "" {
			t.Errorf("ordering cycle in the journal:\n%s", s["cycles"].Text)
		}
	case "sysvinit":
		// insserv numbers the links by dependency: the boot step must sort
		// before networking in rcS.d, the agent must be in runlevel 2.
		boot, net := rcNumber(s["enabled"].Text, "guestbridge-boot"), rcNumber(s["enabled"].Text, "networking")
		if boot < 0 || rcNumber(s["enabled"].Text, "guestbridge-agent") < 0 {
			t.Errorf("services not enabled (rcS.d, rc2.d):\n%s", s["enabled"].Text)
		} else if net >= 0 && boot >= net {
			t.Errorf("rcS.d: guestbridge-boot S%02d is not before networking S%02d", boot, net)
		}
		if s["agent-status"].RC != 0 {
			t.Errorf("guestbridge-agent not running: %s", s["agent-status"].Text)
		}
	case "openrc":
		if !regexp.MustCompile(`guestbridge-boot \|.*sysinit`).MatchString(s["enabled"].Text) ||
			!regexp.MustCompile(`guestbridge-agent \|.*default`).MatchString(s["enabled"].Text) {
			t.Errorf("rc-update: services not in sysinit/default:\n%s", s["enabled"].Text)
		}
		if s["agent-status"].RC != 0 {
			t.Errorf("guestbridge-agent not running: %s", s["agent-status"].Text)
		}
	}
}

// rcNumber finds "SNNname" in an ls of rc?.d directories; -1 if absent.
func rcNumber(ls, name string) int {
	m := regexp.MustCompile(`(?m)^S(\d\d)` + regexp.QuoteMeta(name) + `$`).FindStringSubmatch(ls)
	if m == nil {
		return -1
	}
	var n int
	fmt.Sscanf(m[1], "%d", &n)
	return n
}

// checkPassword verifies a shadow line's SHA-512 crypt hash against pass
// with openssl on the host (an implementation independent of ours).
func checkPassword(t *testing.T, shadowLine, pass string) {
	t.Helper()
	openssl := testenv.RequireCommand(t, "openssl")
	f := strings.Split(strings.TrimSpace(shadowLine), ":")
	if len(f) < 2 || !strings.HasPrefix(f[1], "$6$") {
		t.Errorf("root's shadow entry is not SHA-512 crypt: %q", shadowLine)
		return
	}
	hash := f[1]
	salt := strings.Split(hash, "$")[2]
	out, err := exec.Command(openssl, "passwd", "-6", "-salt", salt, pass).Output()
	if err != nil {
		t.Fatalf("openssl passwd: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != hash {
		t.Errorf("root's hash does not verify against %q:\nshadow  %s\nopenssl %s", pass, hash, got)
	}
}

type ipAddr struct {
	Ifname    string `json:"ifname"`
	Address   string `json:"address"`
	MTU       int    `json:"mtu"`
	Operstate string `json:"operstate"`
	Flags     []string
	AddrInfo  []struct {
		Local     string `json:"local"`
		Prefixlen int    `json:"prefixlen"`
		Scope     string `json:"scope"`
	} `json:"addr_info"`
}

type ipRoute struct {
	Dst      string `json:"dst"`
	Gateway  string `json:"gateway"`
	Dev      string `json:"dev"`
	Protocol string `json:"protocol"`
}

func parseAddrs(t *testing.T, s map[string]systest.Section) map[string]ipAddr {
	t.Helper()
	var links []ipAddr
	if err := json.Unmarshal([]byte(s["addr"].Text), &links); err != nil {
		t.Fatalf("ip -j addr: %v\n%s", err, s["addr"].Text)
	}
	byMAC := map[string]ipAddr{}
	for _, l := range links {
		byMAC[l.Address] = l
	}
	return byMAC
}

func parseRoutes(t *testing.T, text string) []ipRoute {
	t.Helper()
	var r []ipRoute
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Fatalf("ip -j route: %v\n%s", err, text)
	}
	return r
}

func checkApplyNetwork(t *testing.T, s map[string]systest.Section) {
	byMAC := parseAddrs(t, s)
	want := map[string]struct {
		mtu   int
		addrs []string
	}{
		applyMAC0: {1450, []string{"192.0.2.20/24", "2001:db8:20::20/64"}},
		applyMAC1: {9000, []string{"198.51.100.20/24", "2001:db8:21::20/64"}},
	}
	dev := map[string]string{}
	for mac, w := range want {
		l, ok := byMAC[mac]
		if !ok {
			t.Errorf("NIC %s absent", mac)
			continue
		}
		dev[mac] = l.Ifname
		if l.MTU != w.mtu {
			t.Errorf("%s (%s): mtu %d, want %d", l.Ifname, mac, l.MTU, w.mtu)
		}
		if !slices.Contains(l.Flags, "UP") {
			t.Errorf("%s (%s) is not up: %v", l.Ifname, mac, l.Flags)
		}
		var have []string
		for _, a := range l.AddrInfo {
			have = append(have, fmt.Sprintf("%s/%d", a.Local, a.Prefixlen))
		}
		for _, a := range w.addrs {
			if !slices.Contains(have, a) {
				t.Errorf("%s (%s) lacks %s; has %q", l.Ifname, mac, a, have)
			}
		}
	}
	if t.Failed() {
		return
	}
	type r struct{ dst, gw, dev string }
	has := func(routes []ipRoute, w r) bool {
		return slices.ContainsFunc(routes, func(x ipRoute) bool { return x.Dst == w.dst && x.Gateway == w.gw && x.Dev == w.dev })
	}
	r4, r6 := parseRoutes(t, s["route4"].Text), parseRoutes(t, s["route6"].Text)
	for _, w := range []r{{"default", "192.0.2.1", dev[applyMAC0]}, {"203.0.113.0/24", "198.51.100.1", dev[applyMAC1]}} {
		if !has(r4, w) {
			t.Errorf("no IPv4 route %s via %s dev %s:\n%s", w.dst, w.gw, w.dev, s["route4"].Text)
		}
	}
	for _, w := range []r{{"default", "2001:db8:20::1", dev[applyMAC0]}, {"2001:db8:ff::/48", "2001:db8:21::1", dev[applyMAC1]}} {
		if !has(r6, w) {
			t.Errorf("no IPv6 route %s via %s dev %s:\n%s", w.dst, w.gw, w.dev, s["route6"].Text)
		}
	}
}

// netSummary is the live network a user would compare: per NIC its name,
// MTU and global addresses; the routes with a gateway.
func netSummary(t *testing.T, s map[string]systest.Section) string {
	var lines []string
	for mac, l := range parseAddrs(t, s) {
		var addrs []string
		for _, a := range l.AddrInfo {
			if a.Scope == "global" {
				addrs = append(addrs, fmt.Sprintf("%s/%d", a.Local, a.Prefixlen))
			}
		}
		slices.Sort(addrs)
		lines = append(lines, fmt.Sprintf("%s %s mtu %d %v", mac, l.Ifname, l.MTU, addrs))
	}
	for _, name := range []string{"route4", "route6"} {
		for _, x := range parseRoutes(t, s[name].Text) {
			if x.Gateway != "" {
				lines = append(lines, fmt.Sprintf("route %s via %s dev %s", x.Dst, x.Gateway, x.Dev))
			}
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
