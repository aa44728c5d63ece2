package apply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := loadState(dir)
	if err != nil || len(s.Addresses) != 0 {
		t.Fatalf("missing file: %v, %v", s, err)
	}
	s.Addresses["02:00:5e:10:00:01"] = pfx("198.18.0.11/24", "198.18.0.10/24")
	s.Addresses["name:bond0"] = nil // empty records are dropped
	if err := s.save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := pfx("198.18.0.10/24", "198.18.0.11/24")
	if len(got.Addresses) != 1 || len(got.Addresses["02:00:5e:10:00:01"]) != 2 ||
		got.Addresses["02:00:5e:10:00:01"][0] != want[0] || got.Addresses["02:00:5e:10:00:01"][1] != want[1] {
		t.Fatalf("round trip = %v", got.Addresses)
	}
}

func TestStateRejectsBadFiles(t *testing.T) {
	cases := map[string]string{
		`{`:                                          "unexpected end",
		`{"version":2,"addresses":{}}`:               "version: 2, want 1",
		`{"version":1,"addresses":{"eth0":[]}}`:      `key "eth0": not a MAC`,
		`{"version":1,"addresses":{"name:":[]}}`:     "empty interface name",
		`{"version":1,"addresses":{"name:x":["1"]}}`: "name:x",
	}
	for in, want := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, stateFile), []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := loadState(dir)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), stateFile) {
			t.Errorf("%s: err = %v, want file name and %q", in, err, want)
		}
	}
}

// FuzzParseState: any bytes give a state or an error, never a panic, and
// an accepted state survives save and reload unchanged.
func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"version":1,"addresses":{"02:00:5e:10:00:01":["198.18.0.10/24","2001:db8::1/64"]}}`))
	f.Add([]byte(`{"version":1,"addresses":{"name:bond0":["198.18.0.10/24"]}}`))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseState("fuzz", b)
		if err != nil {
			return
		}
		dir := t.TempDir()
		if err := s.save(dir); err != nil {
			t.Fatal(err)
		}
		again, err := loadState(dir)
		if err != nil {
			t.Fatalf("reload of a saved state: %v", err)
		}
		for k, v := range s.Addresses {
			if len(again.Addresses[k]) != len(v) {
				t.Fatalf("key %q: %v became %v", k, v, again.Addresses[k])
			}
		}
	})
}
