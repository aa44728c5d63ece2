package oracle

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"guestbridge/internal/testenv"
)

// CloudInitNetConvert renders network_data.json with the installed
// cloud-init (`cloud-init devel net-convert -k network_data.json -D debian
// -O netplan`) and returns its /etc/netplan/50-cloud-init.yaml. macs maps
// interface name → lower-case MAC; every link without "name" needs one,
// or cloud-init looks the MAC up on this machine and fails. Failure fails
// the test.
func CloudInitNetConvert(t testing.TB, networkDataJSON []byte, macs map[string]string) []byte {
	t.Helper()
	out, stderr, err := CloudInitNetConvertErr(t, networkDataJSON, macs)
	if err != nil {
		t.Fatalf("cloud-init net-convert: %v\n%s", err, stderr)
	}
	return out
}

// CloudInitNetConvertErr is CloudInitNetConvert returning cloud-init's
// failure (e.g. the ValueError for an invalid netmask) with its stderr.
func CloudInitNetConvertErr(t testing.TB, networkDataJSON []byte, macs map[string]string) (out []byte, stderr string, err error) {
	t.Helper()
	cloudInit := testenv.RequireCommand(t, "cloud-init")
	dir := t.TempDir()
	input := filepath.Join(dir, "network_data.json")
	if err := os.WriteFile(input, networkDataJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "out")
	args := []string{"devel", "net-convert", "-p", input, "-k", "network_data.json",
		"-D", "debian", "-O", "netplan", "-d", outDir}
	names := make([]string, 0, len(macs))
	for name := range macs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, "-m", name+","+macs[name])
	}
	if stderr, err = run(cloudInit, args...); err != nil {
		return nil, stderr, err
	}
	out, err = os.ReadFile(filepath.Join(outDir, "etc", "netplan", "50-cloud-init.yaml"))
	return out, stderr, err
}
