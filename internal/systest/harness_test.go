package systest

import (
	"strings"
	"testing"
)

// TestHarnessSystemd boots a plain systemd image (no guestbridge) twice on
// one overlay: the collector runs after the boot finished, the NICs were
// coldplugged and renamed by udev, and the second boot sees the first
// boot's writes.
func TestHarnessSystemd(t *testing.T) {
	t.Parallel()
	v := Variant{Init: "systemd"}
	disk := Image(t, v, Install{})
	m := NewMachine(t, disk)
	nics := []NIC{{MAC: "52:54:00:5e:00:01"}, {MAC: "52:54:00:5e:00:02"}}
	res := m.Boot(t, BootOptions{
		NICs: nics,
		Collect: Script(
			Check{"links", "for n in /sys/class/net/*; do echo ${n##*/} $(cat $n/address); done"},
			Check{"failed", "systemctl --failed --no-legend --plain"},
			Check{"mark", "echo first-boot >/var/lib/systest-mark"},
		),
	})
	if res.State != "running" {
		t.Errorf("first boot: is-system-running = %q, want running; failed units:\n%s", res.State, res.Sections["failed"].Text)
	}
	if res.Uptime <= 0 {
		t.Errorf("first boot: no uptime reported: %q", res.Sections["systest-boot"].Text)
	}
	links := res.Sections["links"].Text
	for _, n := range nics {
		found := false
		for _, line := range strings.Split(links, "\n") {
			f := strings.Fields(line)
			if len(f) == 2 && f[1] == n.MAC {
				found = true
				if !strings.HasPrefix(f[0], "ens") {
					t.Errorf("NIC %s is %s, want a name udev gave (ens*)", n.MAC, f[0])
				}
			}
		}
		if !found {
			t.Errorf("NIC %s missing:\n%s", n.MAC, links)
		}
	}
	res2 := m.Boot(t, BootOptions{Collect: Script(Check{"mark", "cat /var/lib/systest-mark"})})
	if got := res2.Sections["mark"].Text; got != "first-boot\n" {
		t.Errorf("second boot: mark = %q, want the first boot's write", got)
	}
}
