package systest_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"guestbridge/internal/systest"
	"guestbridge/internal/vmtest"
)

// BenchmarkBootCloudInitVsGuestbridge (bench/boot/bench.sh) boots the same
// Debian 12 + systemd + cloud-init image with the same config drive twice
// in one run: once as cloud-init alone handles it (ds-identify picks
// ConfigDrive) and once with guestbridge installed (seed mode, NoCloud),
// and prints boot-finished and network-ready uptimes, cloud-init-local's
// and guestbridge-boot's unit times, and the ratios. A benchmark, not a
// timed test: TCG timings depend on the host's load.
func BenchmarkBootCloudInitVsGuestbridge(b *testing.B) {
	v := systest.Variant{Init: "systemd", CloudInit: true}
	meta, err := os.ReadFile("testdata/seed/meta_data.json")
	if err != nil {
		b.Fatal(err)
	}
	network, err := os.ReadFile("testdata/seed/network_data.json")
	if err != nil {
		b.Fatal(err)
	}
	injected, _ := os.ReadFile("testdata/seed/injected.conf")
	drive := vmtest.ConfigDriveISO(b, novaDrive(meta, network, injected))
	nics := []systest.NIC{{MAC: seedMAC0}, {MAC: seedMAC1}}
	units := []string{"cloud-init-local", "guestbridge-boot", "networking", "cloud-init", "cloud-config", "cloud-final"}
	var script strings.Builder
	script.WriteString("for u in " + strings.Join(units, " ") + "; do echo $u $(systemctl show -p InactiveExitTimestampMonotonic,ActiveEnterTimestampMonotonic --value $u.service); done\n")
	script.WriteString("cat /run/cloud-init/status.json | grep '\"datasource\"'\n")
	type row struct {
		name    string
		finish  float64
		netUp   float64
		unitSec map[string]float64
		ds      string
	}
	var rows []row
	for _, c := range []struct {
		name string
		inst systest.Install
	}{
		{"cloud-init ConfigDrive", systest.Install{}},
		{"guestbridge seed", systest.Guestbridge(b, v)},
	} {
		disk := systest.Image(b, v, c.inst)
		b.ResetTimer()
		res := systest.Boot(b, disk, systest.BootOptions{NICs: nics, Drive: drive,
			Collect: systest.Script(systest.Check{Name: "times", Cmd: script.String()})})
		b.StopTimer()
		r := row{name: c.name, finish: res.Uptime, unitSec: map[string]float64{}}
		for _, line := range strings.Split(res.Sections["times"].Text, "\n") {
			f := strings.Fields(line)
			if len(f) == 3 {
				start, _ := strconv.ParseFloat(f[1], 64)
				end, _ := strconv.ParseFloat(f[2], 64)
				if end > 0 {
					r.unitSec[f[0]] = (end - start) / 1e6
					if f[0] == "networking" {
						r.netUp = end / 1e6
					}
				}
			}
			if strings.Contains(line, "datasource") {
				r.ds = strings.Trim(strings.TrimSpace(strings.SplitN(line, ":", 2)[1]), `",`)
			}
		}
		rows = append(rows, r)
	}
	fmt.Printf("\n%-24s %12s %12s %18s %18s  %s\n", "case", "finished s", "network s", "cloud-init-local s", "guestbridge-boot s", "datasource")
	for _, r := range rows {
		fmt.Printf("%-24s %12.1f %12.1f %18.1f %18.1f  %s\n", r.name, r.finish, r.netUp, r.unitSec["cloud-init-local"], r.unitSec["guestbridge-boot"], r.ds)
	}
	if len(rows) == 2 && rows[0].finish > 0 && rows[0].netUp > 0 {
		fmt.Printf("ratios guestbridge/cloud-init: boot finished %.2f, network ready %.2f; guestbridge-boot share of boot %.1f%%\n",
			rows[1].finish/rows[0].finish, rows[1].netUp/rows[0].netUp, 100*rows[1].unitSec["guestbridge-boot"]/rows[1].finish)
	}
}
