package configdrive

import "testing"

// BenchmarkParseAndMarshalV2 measures the whole translation on the biggest
// fixture (two NICs, v4+v6, routes, per-network DNS).
func BenchmarkParseAndMarshalV2(b *testing.B) {
	fx := loadNDFixture(b, "nova-2nic-v4-v6-static-mtu-routes")
	opts := NetworkOptions{KnownNames: fx.known}
	b.SetBytes(int64(len(fx.input)))
	b.ReportAllocs()
	for b.Loop() {
		cfg, _, err := ParseNetworkData(fx.input, opts)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cfg.MarshalV2(); err != nil {
			b.Fatal(err)
		}
	}
}
