package configdrive

import "testing"

// BenchmarkReadISO measures a whole boot-time read: open the nova-made ISO
// without mounting, then parse every document on it.
func BenchmarkReadISO(b *testing.B) {
	benchmarkRead(b, buildISO(b, fixtureTree, "config-2"))
}

// BenchmarkReadVFAT is the same for nova's 64 MiB FAT16 drive.
func BenchmarkReadVFAT(b *testing.B) {
	benchmarkRead(b, buildVFAT(b, fixtureTree, "config-2", 64, 0))
}

func benchmarkRead(b *testing.B, img string) {
	opts := fixtureOptions(b)
	b.ReportAllocs()
	for b.Loop() {
		fsys, closer, err := Open(img)
		if err != nil {
			b.Fatal(err)
		}
		inst, err := Read(fsys, opts)
		closer.Close()
		if err != nil {
			b.Fatal(err)
		}
		if inst.Network == nil || len(inst.Files) != 2 {
			b.Fatalf("incomplete read: %+v", inst)
		}
	}
}
