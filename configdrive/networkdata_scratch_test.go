package configdrive
import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)
func TestScratchDump(t *testing.T) {
	files, _ := filepath.Glob("/work/shared/fixtures/configdrive*/*.network_data.json")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		known := map[string]string{}
		macs, _ := os.ReadFile(strings.TrimSuffix(f, ".network_data.json") + ".macs")
		for _, l := range strings.Split(string(macs), "\n") {
			if n, m, ok := strings.Cut(l, ","); ok { known[m] = n }
		}
		cfg, w, err := ParseNetworkData(data, NetworkOptions{KnownNames: known})
		t.Logf("=== %s warnings=%v err=%v", filepath.Base(f), w, err)
		if err == nil {
			y, err := cfg.MarshalV2()
			t.Logf("%s %v", y, err)
		}
	}
}
