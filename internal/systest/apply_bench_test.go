package systest_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"guestbridge/internal/systest"
)

// BenchmarkBootApplyVsCloudInit boots issue 10's image 1 (Debian 12 +
// systemd, guestbridge's .deb, no cloud-init) and the same image with
// cloud-init instead of guestbridge (its own ConfigDrive datasource), with
// the same config drive and NICs, one after the other, and reports the
// guest uptime at which each boot had finished (systemctl is-system-running
// --wait) and the time of the unit that did the job. Not a timed test: run
// it with bench/boot-apply.sh. Under TCG on a loaded host the numbers move
// by tens of seconds; compare the two of one run.
func BenchmarkBootApplyVsCloudInit(b *testing.B) {
	in, ok := systest.PackageInstall(b)
	if !ok {
		b.Fatal("no package target")
	}
	nics := []systest.NIC{{MAC: applyMAC0}, {MAC: applyMAC1}}
	type variant struct {
		name string
		v    systest.Variant
		in   systest.Install
		unit string
	}
	variants := []variant{
		{"guestbridge", systest.Variant{Init: "systemd"}, in, "guestbridge-boot.service"},
		{"cloud-init", systest.Variant{Init: "systemd", CloudInit: true}, systest.Install{}, "cloud-init-local.service cloud-init.service"},
	}
	for i := 0; i < b.N; i++ {
		up := map[string]float64{}
		for _, x := range variants {
			disk := systest.Image(b, x.v, x.in)
			m := systest.NewMachine(b, disk)
			res := m.Boot(b, systest.BootOptions{
				NICs:  nics,
				Drive: applyDrive(b),
				Collect: systest.Script(
					systest.Check{Name: "unit-times", Cmd: "for u in " + x.unit + "; do systemctl show -p Id,ExecMainStartTimestampMonotonic,ExecMainExitTimestampMonotonic $u; done"},
					systest.Check{Name: "hostname", Cmd: "hostname"},
					systest.Check{Name: "addr", Cmd: "ip -br addr"},
				),
			})
			if res.Uptime <= 0 {
				b.Fatalf("%s: the boot did not finish:\n%s", x.name, res.Console)
			}
			unit := unitSeconds(res.Sections["unit-times"].Text)
			b.Logf("%-11s boot finished at %6.1f s uptime (state %s, wall %s); job unit(s) %.1f s; hostname %s\n%s",
				x.name, res.Uptime, res.State, res.Wall.Round(time.Second), unit,
				strings.TrimSpace(res.Sections["hostname"].Text), res.Sections["addr"].Text)
			up[x.name] = res.Uptime
			b.ReportMetric(res.Uptime, x.name+"-finished-s")
			b.ReportMetric(unit, x.name+"-unit-s")
		}
		if up["guestbridge"] > 0 {
			b.ReportMetric(up["cloud-init"]/up["guestbridge"], "cloud-init/guestbridge")
		}
	}
}

// unitSeconds sums ExecMainExit - ExecMainStart (µs) of the units shown.
func unitSeconds(show string) float64 {
	var total float64
	var start float64
	for _, line := range strings.Split(show, "\n") {
		k, v, _ := strings.Cut(line, "=")
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch k {
		case "ExecMainStartTimestampMonotonic":
			start = n
		case "ExecMainExitTimestampMonotonic":
			if n > start && start > 0 {
				total += (n - start) / 1e6
			}
			start = 0
		}
	}
	return total
}
