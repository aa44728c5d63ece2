package vmtest

import (
	"encoding/binary"
	"strings"
	"testing"
)

// FuzzParseShowDepends: any modprobe output yields modules or an error,
// never a panic, and every accepted module has an absolute path.
func FuzzParseShowDepends(f *testing.F) {
	f.Add("insmod /lib/modules/6.1.0-56-amd64/kernel/net/tls/tls.ko \ninsmod /lib/modules/6.1.0-56-amd64/kernel/drivers/net/bonding/bonding.ko max_bonds=0 \n")
	f.Add("builtin unix\n")
	f.Add("insmod\n")
	f.Fuzz(func(t *testing.T, out string) {
		mods, builtin, err := parseShowDepends(out)
		if err != nil {
			if mods != nil || builtin != nil {
				t.Errorf("error %v with results", err)
			}
			return
		}
		for _, m := range mods {
			if !strings.HasPrefix(m.Path, "/") || strings.ContainsAny(m.Path, " \n") {
				t.Errorf("bad module path %q", m.Path)
			}
		}
		for _, b := range builtin {
			if b == "" || strings.ContainsAny(b, " \t\n") {
				t.Errorf("bad builtin name %q", b)
			}
		}
	})
}

// FuzzParseRC: the status found is a real marker in the log and in 0..255.
func FuzzParseRC(f *testing.F) {
	f.Add("[    2.27] VMTEST_RC=0\r\n[    2.29] reboot: Power down\r\n")
	f.Add("VMTEST_RC=1\nVMTEST_RC=")
	f.Add("VMTEST_RC=99999")
	f.Fuzz(func(t *testing.T, console string) {
		rc, ok := parseRC(console)
		if !ok {
			if rc != 0 {
				t.Errorf("rc %d without a marker", rc)
			}
			return
		}
		if rc < 0 || rc > 255 || !strings.Contains(console, rcMarker) {
			t.Errorf("rc %d from %q", rc, console)
		}
	})
}

// FuzzParseNotes: notes never reach past the segment, whatever the sizes.
func FuzzParseNotes(f *testing.F) {
	le := binary.LittleEndian
	seed := le.AppendUint32(nil, 4)
	seed = le.AppendUint32(seed, 4)
	seed = le.AppendUint32(seed, xenElfnotePhys32Entry)
	seed = append(seed, "Xen\x00\x00\x00\x00\x01"...)
	f.Add(seed)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		notes, _ := parseNotes(data, le)
		total := 0
		for _, n := range notes {
			total += 12 + len(n.Name) + len(n.Desc)
		}
		if total > len(data) {
			t.Errorf("notes cover %d bytes of a %d-byte segment", total, len(data))
		}
	})
}
