package settings

import (
	"strings"
	"testing"
)

// FuzzParse: any bytes give warnings at worst, never a panic, and every value
// that ends up set is one its spec accepts.
func FuzzParse(f *testing.F) {
	f.Add([]byte("[main]\nmode = apply\n[steps]\nkeys = no # x\n"))
	f.Add([]byte("[steps\nkeys=false\n"))
	f.Add([]byte("stray=1\n[agent]\nmetrics_interval = -5s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := Defaults()
		s.Parse("fuzz", data)
		s.ApplyKernelCmdline(string(data))
		for _, v := range s.All() {
			sp, _ := lookup(v.Key)
			if norm, err := sp.check(v.Value); err != nil || norm != v.Value {
				t.Fatalf("%s holds %q, which its spec rejects or respells (%v)", v.Key, v.Value, err)
			}
		}
		var b strings.Builder
		if err := s.Print(&b); err != nil {
			t.Fatal(err)
		}
	})
}
